package keyspace

// List is a Redis list: a ring buffer of elements, so that pushes and pops
// at both ends are O(1) amortized and indexing is O(1). Elements are stored
// as given: callers copy arguments before pushing them.
type List struct {
	buf  [][]byte
	head int
	n    int
}

// NewList returns an empty list, with room for four elements in the same
// allocation (a list is made to be pushed to: RPUSH of a new key then
// allocates once for the list, not for the list and its first array).
func NewList() *List {
	x := &listWithRoom{}
	x.List.buf = x.room[:]
	return &x.List
}

// listWithRoom is a List and the first array of its ring buffer.
type listWithRoom struct {
	List
	room [4][]byte
}

// TypeName implements TYPE.
func (l *List) TypeName() string { return "list" }

// Encoding implements OBJECT ENCODING: Redis 7.0 always reports quicklist
// (listpack lists came with 7.2).
func (l *List) Encoding() string { return "quicklist" }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

func (l *List) pos(i int) int {
	p := l.head + i
	if p >= len(l.buf) {
		p -= len(l.buf)
	}
	return p
}

// Index returns element i (0 <= i < Len).
func (l *List) Index(i int) []byte { return l.buf[l.pos(i)] }

// SetIndex replaces element i (0 <= i < Len).
func (l *List) SetIndex(i int, v []byte) { l.buf[l.pos(i)] = v }

func (l *List) resize(c int) {
	nb := make([][]byte, c)
	if l.n > 0 {
		if l.head+l.n <= len(l.buf) {
			copy(nb, l.buf[l.head:l.head+l.n])
		} else {
			k := copy(nb, l.buf[l.head:])
			copy(nb[k:], l.buf[:l.n-k])
		}
	}
	l.buf = nb
	l.head = 0
}

func (l *List) grow() {
	if l.n < len(l.buf) {
		return
	}
	c := 2 * len(l.buf)
	if c < 4 {
		c = 4
	}
	l.resize(c)
}

func (l *List) shrink() {
	if len(l.buf) > 64 && l.n < len(l.buf)/4 {
		l.resize(len(l.buf) / 2)
	}
}

// PushFront adds v at the head.
func (l *List) PushFront(v []byte) {
	l.grow()
	l.head--
	if l.head < 0 {
		l.head += len(l.buf)
	}
	l.buf[l.head] = v
	l.n++
}

// PushBack adds v at the tail.
func (l *List) PushBack(v []byte) {
	l.grow()
	l.buf[l.pos(l.n)] = v
	l.n++
}

// PopFront removes and returns the head (the list must not be empty).
func (l *List) PopFront() []byte {
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head++
	if l.head == len(l.buf) {
		l.head = 0
	}
	l.n--
	l.shrink()
	return v
}

// PopBack removes and returns the tail (the list must not be empty).
func (l *List) PopBack() []byte {
	p := l.pos(l.n - 1)
	v := l.buf[p]
	l.buf[p] = nil
	l.n--
	l.shrink()
	return v
}

// Insert puts v before element i (0 <= i <= Len), shifting the shorter side.
func (l *List) Insert(i int, v []byte) {
	if i == 0 {
		l.PushFront(v)
		return
	}
	if i == l.n {
		l.PushBack(v)
		return
	}
	l.grow()
	if i < l.n/2 {
		// shift the first i elements one step towards the front
		l.head--
		if l.head < 0 {
			l.head += len(l.buf)
		}
		l.n++
		for j := 0; j < i; j++ {
			l.buf[l.pos(j)] = l.buf[l.pos(j+1)]
		}
	} else {
		l.n++
		for j := l.n - 1; j > i; j-- {
			l.buf[l.pos(j)] = l.buf[l.pos(j-1)]
		}
	}
	l.buf[l.pos(i)] = v
}

// Remove deletes element i (0 <= i < Len).
func (l *List) Remove(i int) {
	if i < l.n/2 {
		for j := i; j > 0; j-- {
			l.buf[l.pos(j)] = l.buf[l.pos(j-1)]
		}
		l.PopFront()
		return
	}
	for j := i; j < l.n-1; j++ {
		l.buf[l.pos(j)] = l.buf[l.pos(j+1)]
	}
	l.PopBack()
}

// Filter keeps the elements for which keep returns true, in order, and
// returns how many were removed.
func (l *List) Filter(keep func(i int, v []byte) bool) int {
	w := 0
	for r := 0; r < l.n; r++ {
		v := l.buf[l.pos(r)]
		if keep(r, v) {
			l.buf[l.pos(w)] = v
			w++
		}
	}
	removed := l.n - w
	for j := w; j < l.n; j++ {
		l.buf[l.pos(j)] = nil
	}
	l.n = w
	if l.n == 0 {
		l.head = 0
	}
	l.shrink()
	return removed
}

// Trim keeps elements start..stop inclusive (0 <= start <= stop < Len);
// with start > stop it empties the list.
func (l *List) Trim(start, stop int) {
	if start > stop || start >= l.n {
		for l.n > 0 {
			l.PopBack()
		}
		return
	}
	for j := stop + 1; j < l.n; j++ {
		l.buf[l.pos(j)] = nil
	}
	for j := 0; j < start; j++ {
		l.buf[l.pos(j)] = nil
	}
	l.head = l.pos(start)
	l.n = stop - start + 1
	l.shrink()
}
