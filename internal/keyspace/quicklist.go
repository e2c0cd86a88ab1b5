package keyspace

import (
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/persist/listpack"
)

// Redis 7.0 keeps a list as a quicklist: a chain of listpack nodes whose
// boundaries depend on the list's history (which end was pushed, where
// LINSERT split a full node and which neighbours were merged back, LSET
// growing a node in place), not only on its elements. DUMP, RDB files and
// DEBUG OBJECT show the nodes, so a List keeps a shadow of that layout:
// each node's element count and listpack size in bytes, updated by every
// list operation exactly as quicklist.c (Redis 7.0.15) updates its nodes.
// The elements themselves stay in the List's ring buffer or blocks.
//
// A list that is one packed node under the default fill (most lists: a
// node holds about 8 kB) keeps no node array: q is nil and qsz is the
// node's size. The layout costs a push or pop the listpack size of the
// element (listpack.StringSize) and a comparison.

// Quicklist limits of Redis 7.0 (quicklist.c).
const (
	qlDefaultFill   = -2      // list-max-listpack-size's default
	qlPackedDefault = 1 << 30 // packed_threshold's default: larger elements get a PLAIN node
	qlPackedMax     = 1<<32 - 1<<20
	qlSafetyLimit   = 8192 // SIZE_SAFETY_LIMIT
	qlEstimateOver  = 8    // SIZE_ESTIMATE_OVERHEAD
	qlMergeSlack    = 11   // _quicklistNodeAllowMerge's "- 11"
	qlFillMax       = 1<<15 - 1
	qlCompressMax   = 1<<16 - 1 // COMPRESS_MAX
)

// packedThreshold is quicklist.c's packed_threshold: an element of at
// least this many bytes gets a PLAIN node of its own. As in Redis it is
// one value for the whole process, changed only by DEBUG
// QUICKLIST-PACKED-THRESHOLD (Redis's list tests lower it to 1K).
var packedThreshold atomic.Int64

func init() { packedThreshold.Store(qlPackedDefault) }

// SetPackedThreshold is quicklistisSetPackedThreshold: sz becomes the
// size from which an element gets a PLAIN node, 0 restores the default
// (1 GB), and a size above 4 GB minus 1 MB is refused (false).
func SetPackedThreshold(sz uint64) bool {
	if sz > qlPackedMax {
		return false
	}
	if sz == 0 {
		sz = qlPackedDefault
	}
	packedThreshold.Store(int64(sz))
	return true
}

// large is isLargeElement: an element of sz bytes goes in a PLAIN node.
func large(sz int) bool { return int64(sz) >= packedThreshold.Load() }

// qlOptimization are the node sizes of fills -1 to -5.
var qlOptimization = [...]int64{4096, 8192, 16384, 32768, 65536}

// ClampFill is quicklistSetFill's range for list-max-listpack-size.
func ClampFill(fill int) int {
	switch {
	case fill > qlFillMax:
		return qlFillMax
	case fill < -5:
		return -5
	}
	return fill
}

// qlNode is one quicklist node: its element count and size (lpBytes of
// a packed node's listpack; the element's length for a PLAIN node).
type qlNode struct {
	size  int64
	count int32
	plain bool
}

// quicklist is the node layout of a list with more than one node (or a
// fill or compress depth other than the defaults): a ring of nodes, head
// first.
type quicklist struct {
	ring     []qlNode // len is a power of two (or 0)
	h, n     int
	fill     int
	compress int // list-compress-depth at creation (DEBUG OBJECT's ql_compressed)
}

// QuicklistNode describes one node of a list's quicklist layout.
type QuicklistNode struct {
	Count int   // elements
	Size  int64 // listpack bytes (packed) or the element's length (plain)
	Plain bool  // a PLAIN node: one element of at least the packed threshold (1 GB)
}

// NewListFill returns an empty list whose nodes follow fill and whose
// compress depth is compress (the list-max-listpack-size and
// list-compress-depth in force when Redis creates the list; a list keeps
// them for its life, as a quicklist does).
func NewListFill(fill, compress int) *List {
	l := NewList()
	f, d := ClampFill(fill), min(max(compress, 0), qlCompressMax)
	if f != qlDefaultFill || d != 0 {
		l.q = &quicklist{fill: f, compress: d}
	}
	return l
}

// CompressDepth is the list-compress-depth the list was created with.
func (l *List) CompressDepth() int {
	if l.q == nil {
		return 0
	}
	return l.q.compress
}

// Fill is the list-max-listpack-size the list's quicklist was created with.
func (l *List) Fill() int {
	if l.q == nil {
		return qlDefaultFill
	}
	return l.q.fill
}

// QuicklistNodes returns the list's quicklist nodes, head first.
func (l *List) QuicklistNodes() []QuicklistNode {
	if l.q == nil {
		if l.n == 0 {
			return nil
		}
		return []QuicklistNode{{Count: l.n, Size: l.qsz}}
	}
	q := l.q
	out := make([]QuicklistNode, q.n)
	for k := range out {
		nd := q.node(k)
		out[k] = QuicklistNode{Count: int(nd.count), Size: nd.size, Plain: nd.plain}
	}
	return out
}

func (q *quicklist) node(k int) *qlNode { return &q.ring[(q.h+k)&(len(q.ring)-1)] }

// insertNode puts nd at position k (0 <= k <= n), shifting the shorter side.
func (q *quicklist) insertNode(k int, nd qlNode) {
	if q.n == len(q.ring) {
		r := make([]qlNode, max(1, 2*len(q.ring)))
		for j := 0; j < q.n; j++ {
			r[j] = *q.node(j)
		}
		q.ring, q.h = r, 0
	}
	if k < q.n-k {
		q.h = (q.h - 1) & (len(q.ring) - 1)
		for j := 0; j < k; j++ {
			*q.node(j) = *q.node(j + 1)
		}
	} else {
		for j := q.n; j > k; j-- {
			*q.node(j) = *q.node(j - 1)
		}
	}
	q.n++
	*q.node(k) = nd
}

// deleteNode removes node k, shifting the shorter side.
func (q *quicklist) deleteNode(k int) {
	if k < q.n-1-k {
		for j := k; j > 0; j-- {
			*q.node(j) = *q.node(j - 1)
		}
		q.h = (q.h + 1) & (len(q.ring) - 1)
	} else {
		for j := k; j < q.n-1; j++ {
			*q.node(j) = *q.node(j + 1)
		}
	}
	q.n--
	if len(q.ring) > 16 && q.n < len(q.ring)/4 {
		r := make([]qlNode, len(q.ring)/2)
		for j := 0; j < q.n; j++ {
			r[j] = *q.node(j)
		}
		q.ring, q.h = r, 0
	}
}

// qlAllowInsert is _quicklistNodeAllowInsert for a packed node of size
// bytes and count elements, and an element of sz bytes.
func qlAllowInsert(size int64, count, fill, sz int) bool {
	newSize := size + int64(sz) + qlEstimateOver
	if fill < 0 {
		if off := -fill - 1; off < len(qlOptimization) && newSize <= qlOptimization[off] {
			return true
		}
	}
	if newSize > qlSafetyLimit {
		return false
	}
	return count < fill
}

// allow is _quicklistNodeAllowInsert for node nd.
func (q *quicklist) allow(nd *qlNode, sz int) bool {
	if nd.plain || large(sz) {
		return false
	}
	return qlAllowInsert(nd.size, int(nd.count), q.fill, sz)
}

// allowMerge is _quicklistNodeAllowMerge for nodes a and b.
func (q *quicklist) allowMerge(a, b int) bool {
	na, nb := q.node(a), q.node(b)
	if na.plain || nb.plain {
		return false
	}
	sz := uint32(na.size + nb.size - qlMergeSlack) // unsigned int in Redis
	if q.fill < 0 {
		if off := -q.fill - 1; off < len(qlOptimization) && int64(sz) <= qlOptimization[off] {
			return true
		}
	}
	if sz > qlSafetyLimit {
		return false
	}
	return int(na.count)+int(nb.count) <= q.fill
}

// mergeAt merges node j+1 into node j (_quicklistListpackMerge).
func (q *quicklist) mergeAt(j int) {
	a, b := q.node(j), q.node(j+1)
	a.count += b.count
	a.size += b.size - listpack.Empty
	q.deleteNode(j + 1)
}

// merge is _quicklistMergeNodes around node c.
func (q *quicklist) merge(c int) {
	if c >= 2 && q.allowMerge(c-1, c-2) {
		q.mergeAt(c - 2)
		c--
	}
	if c+2 < q.n && q.allowMerge(c+1, c+2) {
		q.mergeAt(c + 1)
	}
	target := c
	if c >= 1 && q.allowMerge(c, c-1) {
		q.mergeAt(c - 1)
		target = c - 1
	}
	if target+1 < q.n && q.allowMerge(target, target+1) {
		q.mergeAt(target)
	}
}

// locate returns the node holding element i of a list of total
// elements, i's offset in it and the index of the node's first element,
// walking from the nearer end as quicklistGetIteratorAtIdx does.
func (q *quicklist) locate(i, total int) (k, off, start int) {
	if i <= (total-1)/2 {
		acc := 0
		for k = 0; ; k++ {
			c := int(q.node(k).count)
			if acc+c > i {
				return k, i - acc, acc
			}
			acc += c
		}
	}
	acc := total
	for k = q.n - 1; ; k-- {
		acc -= int(q.node(k).count)
		if acc <= i {
			return k, i - acc, acc
		}
	}
}

// promote gives the list a node array (its count elements in one packed
// node, if any) and returns it.
func (l *List) promote(count int) *quicklist {
	if l.q == nil {
		q := &quicklist{fill: qlDefaultFill}
		if count > 0 {
			q.ring = []qlNode{{size: l.qsz, count: int32(count)}}
			q.n = 1
		}
		l.q, l.qsz = q, 0
	}
	return l.q
}

// elemSize is the size of v's listpack entry (listpack.StringSize), at
// once for a short string that cannot be an integer: a 1-byte header, the
// bytes, a 1-byte back length.
func elemSize(v []byte) int64 {
	if n := len(v); n > 0 && n < 64 && v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return int64(n + 2)
	}
	return int64(listpack.StringSize(v))
}

// layoutPush is quicklistPushHead (head) or quicklistPushTail for v on a
// layout of count elements. The common case, v joining the end node, is
// first.
func (l *List) layoutPush(v []byte, count int, head bool) {
	if sz := len(v); !large(sz) {
		if q := l.q; q == nil {
			if count == 0 {
				l.qsz = listpack.Empty + elemSize(v)
				return
			}
			// qlAllowInsert under the default fill (-2: 8 kB nodes)
			if l.qsz+int64(sz)+qlEstimateOver <= qlOptimization[1] {
				l.qsz += elemSize(v)
				return
			}
		} else if q.n > 0 {
			e := q.n - 1
			if head {
				e = 0
			}
			nd := &q.ring[(q.h+e)&(len(q.ring)-1)]
			if !nd.plain && qlAllowInsert(nd.size, int(nd.count), q.fill, sz) {
				nd.count++
				nd.size += elemSize(v)
				return
			}
		}
	}
	l.layoutPushSlow(v, count, head)
}

// layoutPushSlow is layoutPush when v does not join the end node.
func (l *List) layoutPushSlow(v []byte, count int, head bool) {
	q := l.promote(count)
	at := q.n
	if head {
		at = 0
	}
	if large(len(v)) {
		q.insertNode(at, qlNode{size: int64(len(v)), count: 1, plain: true})
		return
	}
	if q.n > 0 {
		e := q.n - 1
		if head {
			e = 0
		}
		if nd := q.node(e); q.allow(nd, len(v)) {
			nd.count++
			nd.size += elemSize(v)
			return
		}
	}
	q.insertNode(at, qlNode{size: listpack.Empty + elemSize(v), count: 1})
}

// layoutDrop removes element v, at offset of node k, from the layout (a
// node left empty goes). With no node array the list's only node loses it.
func (l *List) layoutDrop(k int, v []byte, left int) {
	if l.q == nil {
		if left == 0 {
			l.qsz = 0
		} else {
			l.qsz -= elemSize(v)
		}
		return
	}
	q := l.q
	nd := q.node(k)
	if nd.count == 1 {
		q.deleteNode(k)
		return
	}
	nd.count--
	if !nd.plain {
		nd.size -= elemSize(v)
	}
}

// PushFront adds v at the head (LPUSH).
func (l *List) PushFront(v []byte) {
	l.layoutPush(v, l.n, true)
	l.pushFront(v)
}

// PushBack adds v at the tail (RPUSH).
func (l *List) PushBack(v []byte) {
	l.layoutPush(v, l.n, false)
	l.pushBack(v)
}

// PopFront removes and returns the head (the list must not be empty).
func (l *List) PopFront() []byte {
	v := l.popFront()
	l.layoutDrop(0, v, l.n)
	return v
}

// PopBack removes and returns the tail (the list must not be empty).
func (l *List) PopBack() []byte {
	v := l.popBack()
	k := 0
	if l.q != nil {
		k = l.q.n - 1
	}
	l.layoutDrop(k, v, l.n)
	return v
}

// Remove deletes element i (0 <= i < Len).
func (l *List) Remove(i int) {
	v := *l.at(i)
	k := 0
	if l.q != nil {
		k, _, _ = l.q.locate(i, l.n)
	}
	l.remove(i)
	l.layoutDrop(k, v, l.n)
}

// Insert puts v before element i (0 <= i <= Len; after the last
// element when i == Len).
func (l *List) Insert(i int, v []byte) {
	switch {
	case l.n == 0:
		l.PushBack(v)
	case i == l.n:
		l.InsertAfter(i-1, v)
	default:
		l.InsertBefore(i, v)
	}
}

// InsertBefore puts v before element i (0 <= i < Len; LINSERT BEFORE).
func (l *List) InsertBefore(i int, v []byte) { l.insertAt(i, false, v) }

// InsertAfter puts v after element i (0 <= i < Len; LINSERT AFTER).
func (l *List) InsertAfter(i int, v []byte) { l.insertAt(i, true, v) }

func (l *List) insertAt(i int, after bool, v []byte) {
	q := l.promote(l.n)
	k, off, start := q.locate(i, l.n)
	l.qlInsert(k, off, start, after, v)
	if after {
		i++
	}
	l.insert(i, v)
}

// qlSplit is _quicklistSplitNode of node k (elements from start) at
// offset off: it returns the new node, elements off+1.. of node k with
// after, ..off-1 without, and leaves node k the rest.
func (l *List) qlSplit(k, off, start int, after bool) qlNode {
	nd := l.q.node(k)
	c := int(nd.count)
	keepFrom, keepTo, newFrom, newTo := start, start+off+1, start+off+1, start+c
	if !after {
		keepFrom, keepTo, newFrom, newTo = start+off, start+c, start, start+off
	}
	sum := func(from, to int) int64 {
		s := int64(listpack.Empty)
		for i := from; i < to; i++ {
			s += elemSize(*l.at(i))
		}
		return s
	}
	nd.count, nd.size = int32(keepTo-keepFrom), sum(keepFrom, keepTo)
	return qlNode{size: sum(newFrom, newTo), count: int32(newTo - newFrom)}
}

// qlInsert is _quicklistInsert of v next to the element at offset off of
// node k (whose first element is start), before the List's elements
// change.
func (l *List) qlInsert(k, off, start int, after bool, v []byte) {
	q := l.q
	nd := q.node(k)
	sz := len(v)
	full := !q.allow(nd, sz)
	atTail := after && off == int(nd.count)-1
	atHead := !after && off == 0
	availNext := atTail && k+1 < q.n && q.allow(q.node(k+1), sz)
	availPrev := atHead && k > 0 && q.allow(q.node(k-1), sz)
	pos := k // where a node next to node k goes
	if after {
		pos = k + 1
	}
	if large(sz) {
		plain := qlNode{size: int64(sz), count: 1, plain: true}
		if nd.plain || atTail || atHead {
			q.insertNode(pos, plain)
			return
		}
		nn := l.qlSplit(k, off, start, after)
		q.insertNode(pos, plain)
		if after {
			q.insertNode(k+2, nn)
		} else {
			q.insertNode(k, nn)
		}
		return
	}
	es := elemSize(v)
	switch {
	case !full:
		nd.count++
		nd.size += es
	case atTail && availNext:
		n2 := q.node(k + 1)
		n2.count++
		n2.size += es
	case atHead && availPrev:
		n2 := q.node(k - 1)
		n2.count++
		n2.size += es
	case atTail || atHead:
		q.insertNode(pos, qlNode{size: listpack.Empty + es, count: 1})
	default:
		nn := l.qlSplit(k, off, start, after)
		nn.count++
		nn.size += es
		q.insertNode(pos, nn)
		if !after {
			k++ // node k moved right of the new node
		}
		q.merge(k)
	}
}

// SetIndex replaces element i (0 <= i < Len; LSET), as
// quicklistReplaceEntry: in place, the node growing past its limits if
// need be.
func (l *List) SetIndex(i int, v []byte) {
	old := *l.at(i)
	if l.q == nil && !large(len(v)) {
		l.qsz += elemSize(v) - elemSize(old)
		*l.at(i) = v
		return
	}
	q := l.promote(l.n)
	k, off, start := q.locate(i, l.n)
	nd := q.node(k)
	big := large(len(v))
	switch {
	case !nd.plain && !big:
		nd.size += elemSize(v) - elemSize(old)
	case nd.plain && big:
		nd.size = int64(len(v))
	case nd.plain:
		l.qlInsert(k, off, start, true, v)
		q.deleteNode(k)
	default:
		l.qlInsert(k, off, start, true, v)
		if nd = q.node(k); nd.count == 1 {
			q.deleteNode(k)
		} else {
			// node k now ends with the replaced element
			nd.count--
			nd.size -= elemSize(old)
		}
	}
	*l.at(i) = v
}

// Filter keeps the elements for which keep returns true, in order, and
// returns how many were removed (LREM: each one leaves its node, which
// goes when empty; nothing is merged).
func (l *List) Filter(keep func(i int, v []byte) bool) int {
	q := l.q
	w, n := 0, l.n
	k, left := 0, 0
	if q != nil && q.n > 0 {
		left = int(q.node(0).count)
	}
	for r := 0; r < n; r++ {
		if q != nil {
			for left == 0 {
				k++
				left = int(q.node(k).count)
			}
			left--
		}
		v := *l.at(r)
		if keep(r, v) {
			*l.at(w) = v
			w++
			continue
		}
		if q == nil {
			l.qsz -= elemSize(v)
			continue
		}
		if nd := q.node(k); !nd.plain {
			nd.size -= elemSize(v)
		}
		q.node(k).count--
	}
	if q != nil {
		for j := q.n - 1; j >= 0; j-- {
			if q.node(j).count == 0 {
				q.deleteNode(j)
			}
		}
	} else if w == 0 {
		l.qsz = 0
	}
	for l.n > w {
		l.popBack()
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

// AppendNode adds elems at the tail as one packed node (a node of an RDB
// file or DUMP payload, kept as it was: quicklistAppendListpack).
func (l *List) AppendNode(elems [][]byte) {
	if len(elems) == 0 {
		return
	}
	size := int64(listpack.Empty)
	for _, e := range elems {
		size += elemSize(e)
	}
	if l.q == nil && l.n == 0 {
		l.qsz = size
	} else {
		q := l.promote(l.n)
		q.insertNode(q.n, qlNode{size: size, count: int32(len(elems))})
	}
	for _, e := range elems {
		l.pushBack(e)
	}
}

// AppendPlain adds v at the tail as a PLAIN node (quicklistAppendPlainNode).
func (l *List) AppendPlain(v []byte) {
	q := l.promote(l.n)
	q.insertNode(q.n, qlNode{size: int64(len(v)), count: 1, plain: true})
	l.pushBack(v)
}

// layoutByPushes sets the layout to the one pushing the elements at the
// tail one by one gives under the default fill.
func (l *List) layoutByPushes() {
	l.q, l.qsz = nil, 0
	for i := 0; i < l.n; i++ {
		l.layoutPush(*l.at(i), i, false)
	}
}

// cloneLayout returns a copy of q (quicklistDup keeps the nodes).
func (q *quicklist) clone() *quicklist {
	if q == nil {
		return nil
	}
	c := *q
	c.ring = append([]qlNode(nil), q.ring...)
	return &c
}
