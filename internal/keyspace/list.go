package keyspace

// List is a Redis list: a deque of fixed-size blocks of elements (a ring
// of pointers to blocks of listBlock elements, as C++'s std::deque), so
// that pushes and pops at both ends are O(1), indexing is O(1), and a
// push never copies the list: a growing list adds a block, and only the
// ring of block pointers (listBlock times smaller than the list) is ever
// copied when it doubles. (A ring buffer of the elements themselves
// copied the whole list at every doubling: at 524,288 elements an LPUSH
// stopped its shard for a 25 MB allocation and a 12 MB copy.) Elements
// are stored as given: callers copy arguments before pushing them.
type List struct {
	dir   []*listBlk // ring of blocks; len is 0 or a power of two
	first int        // dir index of the block holding element 0
	head  int        // position of element 0 in that block
	n     int
	spare *listBlk // an emptied block (all nil) kept for the next one
}

// listBlock is the number of elements in one block (3 KiB of slice
// headers).
const listBlock = 128

type listBlk [listBlock][]byte

// NewList returns an empty list.
func NewList() *List { return &List{} }

// TypeName implements TYPE.
func (l *List) TypeName() string { return "list" }

// Encoding implements OBJECT ENCODING: Redis 7.0 always reports quicklist
// (listpack lists came with 7.2).
func (l *List) Encoding() string { return "quicklist" }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// at returns the slot of element i (0 <= i <= Len, within a block).
func (l *List) at(i int) *[]byte {
	p := l.head + i
	return &l.dir[(l.first+p/listBlock)&(len(l.dir)-1)][p%listBlock]
}

// blocks is the number of blocks in use.
func (l *List) blocks() int {
	if l.n == 0 {
		return 0
	}
	return (l.head + l.n + listBlock - 1) / listBlock
}

// Index returns element i (0 <= i < Len).
func (l *List) Index(i int) []byte { return *l.at(i) }

// SetIndex replaces element i (0 <= i < Len).
func (l *List) SetIndex(i int, v []byte) { *l.at(i) = v }

// resizeDir moves the blocks in use to the start of a ring of c entries.
func (l *List) resizeDir(c int) {
	nd := make([]*listBlk, c)
	for i, nb := 0, l.blocks(); i < nb; i++ {
		nd[i] = l.dir[(l.first+i)&(len(l.dir)-1)]
	}
	l.dir, l.first = nd, 0
}

// newBlock returns an empty block for a block count of nb+1.
func (l *List) newBlock(nb int) *listBlk {
	if nb+1 > len(l.dir) {
		l.resizeDir(max(4, 2*len(l.dir)))
	}
	if b := l.spare; b != nil {
		l.spare = nil
		return b
	}
	return new(listBlk)
}

// release drops block j of the ring, which holds no element any more.
func (l *List) release(j int) {
	if l.spare == nil {
		l.spare = l.dir[j]
	}
	l.dir[j] = nil
}

// emptied resets a list whose last element was just removed.
func (l *List) emptied() {
	for j, b := range l.dir {
		if b != nil {
			l.release(j)
		}
	}
	if len(l.dir) > 8 {
		l.dir = nil
	}
	l.first, l.head = 0, 0
}

// shrink halves the ring while it is at most a quarter used.
func (l *List) shrink() {
	if len(l.dir) > 16 && l.blocks() < len(l.dir)/4 {
		l.resizeDir(len(l.dir) / 2)
	}
}

// PushFront adds v at the head.
func (l *List) PushFront(v []byte) {
	if l.head == 0 {
		b := l.newBlock(l.blocks())
		l.first = (l.first - 1) & (len(l.dir) - 1)
		l.dir[l.first] = b
		l.head = listBlock
	}
	l.head--
	l.n++
	*l.at(0) = v
}

// PushBack adds v at the tail.
func (l *List) PushBack(v []byte) {
	if nb := l.blocks(); l.head+l.n == nb*listBlock {
		b := l.newBlock(nb)
		l.dir[(l.first+nb)&(len(l.dir)-1)] = b
	}
	*l.at(l.n) = v
	l.n++
}

// PopFront removes and returns the head (the list must not be empty).
func (l *List) PopFront() []byte {
	s := l.at(0)
	v := *s
	*s = nil
	l.n--
	if l.n == 0 {
		l.emptied()
		return v
	}
	l.head++
	if l.head == listBlock {
		l.release(l.first)
		l.first = (l.first + 1) & (len(l.dir) - 1)
		l.head = 0
		l.shrink()
	}
	return v
}

// PopBack removes and returns the tail (the list must not be empty).
func (l *List) PopBack() []byte {
	s := l.at(l.n - 1)
	v := *s
	*s = nil
	l.n--
	if l.n == 0 {
		l.emptied()
		return v
	}
	if p := l.head + l.n; p%listBlock == 0 {
		// the removed element was the only one of the last block
		l.release((l.first + p/listBlock) & (len(l.dir) - 1))
		l.shrink()
	}
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
	if i < l.n/2 {
		// shift the first i elements one step towards the front
		l.PushFront(*l.at(0))
		for j := 1; j < i; j++ {
			*l.at(j) = *l.at(j + 1)
		}
	} else {
		l.PushBack(*l.at(l.n - 1))
		for j := l.n - 2; j > i; j-- {
			*l.at(j) = *l.at(j - 1)
		}
	}
	*l.at(i) = v
}

// Remove deletes element i (0 <= i < Len).
func (l *List) Remove(i int) {
	if i < l.n/2 {
		for j := i; j > 0; j-- {
			*l.at(j) = *l.at(j - 1)
		}
		l.PopFront()
		return
	}
	for j := i; j < l.n-1; j++ {
		*l.at(j) = *l.at(j + 1)
	}
	l.PopBack()
}

// Filter keeps the elements for which keep returns true, in order, and
// returns how many were removed.
func (l *List) Filter(keep func(i int, v []byte) bool) int {
	w, n := 0, l.n
	for r := 0; r < n; r++ {
		v := *l.at(r)
		if keep(r, v) {
			*l.at(w) = v
			w++
		}
	}
	for l.n > w {
		l.PopBack()
	}
	return n - w
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
	for l.n > stop+1 {
		l.PopBack()
	}
	for range start {
		l.PopFront()
	}
}
