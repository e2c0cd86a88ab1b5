package keyspace

// List is a Redis list with two representations, so that small lists stay
// compact and large ones never copy themselves:
//
//   - small mode (d == nil), up to listBlock elements: a ring buffer of the
//     elements (buf), growing 4, 8, ..., listBlock. A 3-element list costs
//     its 48-byte header and 4 slice headers (144 bytes), where one block
//     would cost 3 KiB: millions of small lists (queues, recent items) are
//     common.
//   - block mode (d != nil), past listBlock elements: a deque of fixed
//     blocks of listBlock elements (a ring of pointers to blocks, as C++'s
//     std::deque), so that a growing list adds a block and only the ring of
//     block pointers (listBlock times smaller than the list) is ever copied
//     when it doubles. (A ring buffer of the elements themselves copied the
//     whole list at every doubling: at 524,288 elements an LPUSH stopped
//     its shard for a 25 MB allocation and a 12 MB copy.)
//
// A small list that would grow past listBlock elements moves into one
// block (one copy of listBlock elements); a block list that shrinks to
// listSmallMin elements moves back into a ring buffer of 2*listSmallMin.
// The gap between the two thresholds keeps a push and a pop at the edge
// from converting every time: a conversion follows at least
// listBlock-listSmallMin single-element operations, so pushes and pops stay
// O(1) amortized. Indexing is O(1) in both modes. Elements are stored as
// given: callers copy arguments before pushing them.
type List struct {
	buf  [][]byte // small mode: the ring buffer; nil in block mode
	head int      // small mode: buf index of element 0; block mode: its slot in the first block
	n    int
	d    *listDeque // block mode; nil in small mode
	// Redis 7.0's quicklist layout of the list (quicklist.go): q is nil
	// while the list is one packed node (or empty) of fill -2, whose
	// listpack size is qsz.
	q   *quicklist
	qsz int64
}

// listDeque is the block-mode part of a List.
type listDeque struct {
	dir   []*listBlk // ring of blocks; len is a power of two
	first int        // dir index of the block holding element 0
	spare *listBlk   // an emptied block (all nil) kept for the next one
}

// listBlock is the number of elements in one block (3 KiB of slice
// headers) and the most a small-mode list holds.
const listBlock = 128

// listSmallMin is the length at which a block-mode list that shrinks
// returns to small mode.
const listSmallMin = 32

type listBlk [listBlock][]byte

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

// listOf returns a small-mode list of the given elements (at most
// listBlock), its buffer exactly their number.
func listOf(elems [][]byte) *List {
	return &List{buf: elems, n: len(elems)}
}

// TypeName implements TYPE.
func (l *List) TypeName() string { return "list" }

// Encoding implements OBJECT ENCODING: Redis 7.0 always reports quicklist
// (listpack lists came with 7.2).
func (l *List) Encoding() string { return "quicklist" }

// Len is the number of elements.
func (l *List) Len() int { return l.n }

// at returns the slot of element i (0 <= i <= Len; i == Len only where a
// slot for it exists: a small buffer with room, a block with room).
func (l *List) at(i int) *[]byte {
	p := l.head + i
	if d := l.d; d != nil {
		u := uint(p)
		return &d.dir[(uint(d.first)+u/listBlock)&uint(len(d.dir)-1)][u%listBlock]
	}
	if p >= len(l.buf) {
		p -= len(l.buf)
	}
	return &l.buf[p]
}

// blocks is the number of blocks in use (block mode).
func (l *List) blocks() int {
	return (l.head + l.n + listBlock - 1) / listBlock
}

// Index returns element i (0 <= i < Len).
func (l *List) Index(i int) []byte { return *l.at(i) }

// resizeSmall moves the elements to the start of a ring buffer of c.
func (l *List) resizeSmall(c int) {
	nb := make([][]byte, c)
	if l.head+l.n <= len(l.buf) {
		copy(nb, l.buf[l.head:l.head+l.n])
	} else {
		k := copy(nb, l.buf[l.head:])
		copy(nb[k:], l.buf[:l.n-k])
	}
	l.buf, l.head = nb, 0
}

// roomSmall makes room for one more element in a full small buffer and
// reports true, or moves a full list of listBlock elements into block
// mode and reports false.
func (l *List) roomSmall() bool {
	if l.n >= listBlock {
		l.toBlocks()
		return false
	}
	l.resizeSmall(min(max(4, 2*len(l.buf)), listBlock))
	return true
}

// shrinkSmall halves a small buffer while it is less than a quarter used.
func (l *List) shrinkSmall() {
	if len(l.buf) > 64 && l.n < len(l.buf)/4 {
		l.resizeSmall(len(l.buf) / 2)
	}
}

// toBlocks moves a small list (at most listBlock elements) into one block.
func (l *List) toBlocks() {
	b := new(listBlk)
	for i := 0; i < l.n; i++ {
		b[i] = *l.at(i)
	}
	dir := make([]*listBlk, 4)
	dir[0] = b
	l.d = &listDeque{dir: dir}
	l.buf, l.head = nil, 0
}

// toSmall moves a block list of at most listSmallMin elements into a
// ring buffer of 2*listSmallMin, dropping the blocks.
func (l *List) toSmall() {
	nb := make([][]byte, 2*listSmallMin)
	for i := 0; i < l.n; i++ {
		nb[i] = *l.at(i)
	}
	l.buf, l.head, l.d = nb, 0, nil
}

// resizeDir moves the blocks in use to the start of a ring of c entries.
func (l *List) resizeDir(c int) {
	d := l.d
	nd := make([]*listBlk, c)
	for i, nb := 0, l.blocks(); i < nb; i++ {
		nd[i] = d.dir[(d.first+i)&(len(d.dir)-1)]
	}
	d.dir, d.first = nd, 0
}

// newBlock returns an empty block for a block count of nb+1.
func (l *List) newBlock(nb int) *listBlk {
	d := l.d
	if nb+1 > len(d.dir) {
		l.resizeDir(2 * len(d.dir))
	}
	if b := d.spare; b != nil {
		d.spare = nil
		return b
	}
	return new(listBlk)
}

// release drops block j of the ring, which holds no element any more.
func (d *listDeque) release(j int) {
	if d.spare == nil {
		d.spare = d.dir[j]
	}
	d.dir[j] = nil
}

// shrinkDir halves the ring while it is at most a quarter used.
func (l *List) shrinkDir() {
	if d := l.d; len(d.dir) > 16 && l.blocks() < len(d.dir)/4 {
		l.resizeDir(len(d.dir) / 2)
	}
}

// pushFront adds v at the head (elements only; the layout is the caller's).
func (l *List) pushFront(v []byte) {
	d := l.d
	if d == nil {
		if l.n < len(l.buf) || l.roomSmall() {
			l.head--
			if l.head < 0 {
				l.head += len(l.buf)
			}
			l.buf[l.head] = v
			l.n++
			return
		}
		d = l.d
	}
	if l.head == 0 {
		b := l.newBlock(l.blocks())
		d.first = (d.first - 1) & (len(d.dir) - 1)
		d.dir[d.first] = b
		l.head = listBlock
	}
	l.head--
	l.n++
	d.dir[d.first][l.head] = v
}

// pushBack adds v at the tail (elements only).
func (l *List) pushBack(v []byte) {
	d := l.d
	if d == nil {
		if l.n < len(l.buf) || l.roomSmall() {
			p := l.head + l.n
			if p >= len(l.buf) {
				p -= len(l.buf)
			}
			l.buf[p] = v
			l.n++
			return
		}
		d = l.d
	}
	p := uint(l.head + l.n) // slot of the new element, from the first block's start
	if p%listBlock == 0 {
		// the last block is full: add block p/listBlock (newBlock may
		// move the ring, so the index is computed after it)
		b := l.newBlock(int(p / listBlock))
		d.dir[(uint(d.first)+p/listBlock)&uint(len(d.dir)-1)] = b
	}
	d.dir[(uint(d.first)+p/listBlock)&uint(len(d.dir)-1)][p%listBlock] = v
	l.n++
}

// popFront removes and returns the head (elements only; the list must
// not be empty).
func (l *List) popFront() []byte {
	d := l.d
	if d == nil {
		v := l.buf[l.head]
		l.buf[l.head] = nil
		l.n--
		l.head++
		if l.head == len(l.buf) {
			l.head = 0
		}
		l.shrinkSmall()
		return v
	}
	b := d.dir[d.first]
	v := b[l.head]
	b[l.head] = nil
	l.n--
	l.head++
	if l.n <= listSmallMin {
		l.toSmall()
		return v
	}
	if l.head == listBlock {
		d.release(d.first)
		d.first = (d.first + 1) & (len(d.dir) - 1)
		l.head = 0
		l.shrinkDir()
	}
	return v
}

// popBack removes and returns the tail (elements only; the list must not
// be empty).
func (l *List) popBack() []byte {
	d := l.d
	if d == nil {
		p := l.head + l.n - 1
		if p >= len(l.buf) {
			p -= len(l.buf)
		}
		v := l.buf[p]
		l.buf[p] = nil
		l.n--
		l.shrinkSmall()
		return v
	}
	p := uint(l.head + l.n - 1)
	j := (uint(d.first) + p/listBlock) & uint(len(d.dir)-1)
	b := d.dir[j]
	v := b[p%listBlock]
	b[p%listBlock] = nil
	l.n--
	if l.n <= listSmallMin {
		l.toSmall()
		return v
	}
	if p%listBlock == 0 {
		// the removed element was the only one of the last block
		d.release(int(j))
		l.shrinkDir()
	}
	return v
}

// insert puts v before element i (0 <= i <= Len), shifting the shorter
// side (elements only).
func (l *List) insert(i int, v []byte) {
	if i == 0 {
		l.pushFront(v)
		return
	}
	if i == l.n {
		l.pushBack(v)
		return
	}
	if i < l.n/2 {
		// shift the first i elements one step towards the front
		l.pushFront(*l.at(0))
		for j := 1; j < i; j++ {
			*l.at(j) = *l.at(j + 1)
		}
	} else {
		l.pushBack(*l.at(l.n - 1))
		for j := l.n - 2; j > i; j-- {
			*l.at(j) = *l.at(j - 1)
		}
	}
	*l.at(i) = v
}

// remove deletes element i (0 <= i < Len; elements only).
func (l *List) remove(i int) {
	if i < l.n/2 {
		for j := i; j > 0; j-- {
			*l.at(j) = *l.at(j - 1)
		}
		l.popFront()
		return
	}
	for j := i; j < l.n-1; j++ {
		*l.at(j) = *l.at(j + 1)
	}
	l.popBack()
}
