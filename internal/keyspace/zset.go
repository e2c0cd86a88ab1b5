package keyspace

import (
	"math/rand/v2"
	"unsafe"
)

// zslMaxLevel and zslP are Redis's skiplist parameters.
const (
	zslMaxLevel = 32
	zslP        = 0.25
)

// ZNode is one element of a sorted set, in score order. Its skiplist
// levels follow it in the same allocation (newZNode), as the flexible
// level array of Redis's nodes does: a walk reads a node's score and the
// level it follows, which sit side by side (one cache line for most
// nodes), and a node costs no separate slice.
type ZNode struct {
	backward *ZNode
	Member   string
	Score    float64
	// levels follow (zNodeN)
}

type zLevel struct {
	forward *ZNode
	span    int
}

// lv returns level i of n, which has more than i levels (newZNode).
func (n *ZNode) lv(i int) *zLevel {
	return (*zLevel)(unsafe.Add(unsafe.Pointer(n), unsafe.Sizeof(ZNode{})+uintptr(i)*unsafe.Sizeof(zLevel{})))
}

// Next returns the following element, or nil.
func (n *ZNode) Next() *ZNode { return n.lv(0).forward }

// Prev returns the preceding element, or nil.
func (n *ZNode) Prev() *ZNode { return n.backward }

// ZSet is a sorted set: a skiplist with spans (for ranks) plus a map from
// member to its node (whose score it reads), as Redis's dict points at the
// node's score. The listpack flag only mirrors the encoding
// Redis would use (OBJECT ENCODING): small sets start as "listpack" and are
// converted to "skiplist" once they grow past zset-max-listpack-entries or
// hold a member longer than zset-max-listpack-value.
type ZSet struct {
	dict     map[string]*ZNode
	header   *ZNode
	tail     *ZNode
	length   int
	level    int
	listpack bool
	// memberBytes is the total length of the members (MemoryUsage)
	memberBytes int
}

// NewZSet returns an empty sorted set; listpack selects the reported
// encoding.
func NewZSet(listpack bool) *ZSet {
	return &ZSet{
		dict:     make(map[string]*ZNode),
		header:   newZNode("", 0, zslMaxLevel),
		level:    1,
		listpack: listpack,
	}
}

// TypeName is "zset".
func (z *ZSet) TypeName() string { return "zset" }

// Encoding is "listpack" or "skiplist".
func (z *ZSet) Encoding() string {
	if z.listpack {
		return "listpack"
	}
	return "skiplist"
}

// IsListpack reports whether the set uses the small encoding.
func (z *ZSet) IsListpack() bool { return z.listpack }

// SetListpack sets the reported encoding. Switching to listpack
// normalizes -0 scores to 0, as Redis's text encoding does.
func (z *ZSet) SetListpack(v bool) {
	if v && !z.listpack {
		for n := z.First(); n != nil; n = n.Next() {
			if n.Score == 0 {
				n.Score = 0
			}
		}
	}
	z.listpack = v
}

// Len is the number of elements.
func (z *ZSet) Len() int { return z.length }

// Score returns member's score.
func (z *ZSet) Score(member string) (float64, bool) {
	if n := z.dict[member]; n != nil {
		return n.Score, true
	}
	return 0, false
}

// Node returns member's element, or nil. Its score changes only through
// UpdateScore.
func (z *ZSet) Node(member string) *ZNode { return z.dict[member] }

// First returns the lowest element, or nil.
func (z *ZSet) First() *ZNode { return z.header.lv(0).forward }

// Last returns the highest element, or nil.
func (z *ZSet) Last() *ZNode { return z.tail }

func zless(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// Nodes with their levels in the same allocation, by height (3 in 4
// nodes have one level, 1 in 16 three or more). ZNode.lv relies on the
// levels starting right after the ZNode.
type (
	zNode1 struct {
		ZNode
		lv [1]zLevel
	}
	zNode2 struct {
		ZNode
		lv [2]zLevel
	}
	zNode3 struct {
		ZNode
		lv [3]zLevel
	}
	zNode4 struct {
		ZNode
		lv [4]zLevel
	}
	zNode8 struct {
		ZNode
		lv [8]zLevel
	}
	zNode16 struct {
		ZNode
		lv [16]zLevel
	}
	zNodeMax struct {
		ZNode
		lv [zslMaxLevel]zLevel
	}
)

// newZNode returns a node of at least lvl levels.
func newZNode(member string, score float64, lvl int) *ZNode {
	var x *ZNode
	switch {
	case lvl <= 1:
		x = &(&zNode1{}).ZNode
	case lvl == 2:
		x = &(&zNode2{}).ZNode
	case lvl == 3:
		x = &(&zNode3{}).ZNode
	case lvl == 4:
		x = &(&zNode4{}).ZNode
	case lvl <= 8:
		x = &(&zNode8{}).ZNode
	case lvl <= 16:
		x = &(&zNode16{}).ZNode
	default:
		x = &(&zNodeMax{}).ZNode
	}
	x.Member, x.Score = member, score
	return x
}

func randomLevel() int {
	l := 1
	for l < zslMaxLevel && rand.Float64() < zslP {
		l++
	}
	return l
}

// Set adds member with score, or updates its score. It reports whether the
// member was added.
func (z *ZSet) Set(member string, score float64) bool {
	if n := z.dict[member]; n != nil {
		z.UpdateScore(n, score)
		return false
	}
	z.Insert(member, score)
	return true
}

// Insert adds member, which is not in z, with score.
func (z *ZSet) Insert(member string, score float64) {
	if z.listpack && score == 0 {
		// a listpack stores scores as text, where -0 reads back as 0
		score = 0
	}
	lvl := randomLevel()
	x := newZNode(member, score, lvl)
	z.insert(x, lvl)
	z.dict[member] = x
}

// UpdateScore gives n, an element of z, the score score. Like Redis's
// zslUpdateScore it changes the score in place when n keeps its position
// (no walk); otherwise it unlinks n and links it again at its new place,
// reusing the node and its levels (no allocation; see move).
func (z *ZSet) UpdateScore(n *ZNode, score float64) {
	if z.listpack && score == 0 {
		score = 0
	}
	if n.Score == score {
		return
	}
	prev, next := n.backward, n.lv(0).forward
	if (prev == nil || zless(prev.Score, prev.Member, score, n.Member)) &&
		(next == nil || zless(score, n.Member, next.Score, next.Member)) {
		n.Score = score
		return
	}
	z.move(n, score)
}

// move gives n, an element of z, the score score and links it at its new
// place. It is unlink then insert of the same node (its levels kept),
// except for what a move leaves unchanged, which it does not write: at a
// level above n's own where the old and the new predecessors are the
// same node, the span's decrement and increment cancel, and the length
// and level stay. The top of the skiplist (the header, the tall nodes),
// which every operation walks, is where the two positions share their
// predecessors: those lines stay clean, so a core that reads them next
// finds them in its own cache (concurrency.md, "Single-hot-key writes,
// second pass").
func (z *ZSet) move(n *ZNode, score float64) {
	var prev, update [zslMaxLevel]*ZNode
	var rank [zslMaxLevel]int
	member := n.Member
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && zless(f.Score, f.Member, n.Score, member); f = x.lv(i).forward {
			x = f
		}
		prev[i] = x
	}
	if x.lv(0).forward != n {
		panic("keyspace: sorted-set node not in its skiplist")
	}
	// unlink n at its own levels 0..h-1
	h := 0
	for h < z.level && prev[h].lv(h).forward == n {
		l := prev[h].lv(h)
		l.span += n.lv(h).span - 1
		l.forward = n.lv(h).forward
		h++
	}
	if f := n.lv(0).forward; f != nil {
		f.backward = n.backward
	} else {
		z.tail = n.backward
	}
	n.Score = score
	// The new place. The spans of prev[i], i >= h, still count n; a walk
	// that follows one adds 1 to rank[i] and so to every rank below it,
	// which cancels in the differences rank[0]-rank[i] (i < h) used here.
	x = z.header
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.lv(i).forward; f != nil && zless(f.Score, f.Member, score, member); f = x.lv(i).forward {
			rank[i] += x.lv(i).span
			x = f
		}
		update[i] = x
	}
	for i := 0; i < h; i++ {
		u, l := update[i].lv(i), n.lv(i)
		l.forward = u.forward
		u.forward = n
		l.span = u.span - (rank[0] - rank[i])
		u.span = rank[0] - rank[i] + 1
	}
	for i := h; i < z.level; i++ {
		if prev[i] != update[i] {
			prev[i].lv(i).span--
			update[i].lv(i).span++
		}
	}
	n.backward = nil
	if update[0] != z.header {
		n.backward = update[0]
	}
	if f := n.lv(0).forward; f != nil {
		f.backward = n
	} else {
		z.tail = n
	}
}

// Remove deletes member, reporting whether it was present.
func (z *ZSet) Remove(member string) bool {
	n := z.dict[member]
	if n == nil {
		return false
	}
	z.unlink(n)
	delete(z.dict, member)
	return true
}

// insert links x, with lvl levels (all of them unlinked, every field but
// Member and Score to be overwritten), in order.
func (z *ZSet) insert(x *ZNode, lvl int) {
	score, member := x.Score, x.Member
	var update [zslMaxLevel]*ZNode
	var rank [zslMaxLevel]int
	p := z.header
	for i := z.level - 1; i >= 0; i-- {
		if i == z.level-1 {
			rank[i] = 0
		} else {
			rank[i] = rank[i+1]
		}
		for f := p.lv(i).forward; f != nil && zless(f.Score, f.Member, score, member); f = p.lv(i).forward {
			rank[i] += p.lv(i).span
			p = f
		}
		update[i] = p
	}
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = z.header
			update[i].lv(i).span = z.length
		}
		z.level = lvl
	}
	for i := 0; i < lvl; i++ {
		x.lv(i).forward = update[i].lv(i).forward
		update[i].lv(i).forward = x
		x.lv(i).span = update[i].lv(i).span - (rank[0] - rank[i])
		update[i].lv(i).span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].lv(i).span++
	}
	x.backward = nil
	if update[0] != z.header {
		x.backward = update[0]
	}
	if x.lv(0).forward != nil {
		x.lv(0).forward.backward = x
	} else {
		z.tail = x
	}
	z.length++
	z.memberBytes += len(x.Member)
}

// deleteNode unlinks x, whose predecessors at each level are update, and
// returns how many levels x has.
func (z *ZSet) deleteNode(x *ZNode, update *[zslMaxLevel]*ZNode) int {
	lvl := 0
	for i := 0; i < z.level; i++ {
		if update[i].lv(i).forward == x {
			lvl++
			update[i].lv(i).span += x.lv(i).span - 1
			update[i].lv(i).forward = x.lv(i).forward
		} else {
			update[i].lv(i).span--
		}
	}
	if x.lv(0).forward != nil {
		x.lv(0).forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.lv(z.level-1).forward == nil {
		z.level--
	}
	z.length--
	z.memberBytes -= len(x.Member)
	return lvl
}

// unlink removes n, an element of z, from the skiplist and returns how
// many levels it has.
func (z *ZSet) unlink(n *ZNode) int {
	var update [zslMaxLevel]*ZNode
	score, member := n.Score, n.Member
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && zless(f.Score, f.Member, score, member); f = x.lv(i).forward {
			x = f
		}
		update[i] = x
	}
	if x.lv(0).forward != n {
		panic("keyspace: sorted-set node not in its skiplist")
	}
	return z.deleteNode(n, &update)
}

// Rank returns member's 0-based rank in ascending order.
func (z *ZSet) Rank(member string) (int, bool) {
	n := z.dict[member]
	if n == nil {
		return 0, false
	}
	score := n.Score
	rank := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && (zless(f.Score, f.Member, score, member) || (f.Score == score && f.Member == member)); f = x.lv(i).forward {
			rank += x.lv(i).span
			x = f
		}
		if x != z.header && x.Member == member {
			return rank - 1, true
		}
	}
	return 0, false
}

// ByRank returns the element at 0-based rank r, or nil.
func (z *ZSet) ByRank(r int) *ZNode {
	if r < 0 || r >= z.length {
		return nil
	}
	target := r + 1
	traversed := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for x.lv(i).forward != nil && traversed+x.lv(i).span <= target {
			traversed += x.lv(i).span
			x = x.lv(i).forward
		}
		if traversed == target {
			return x
		}
	}
	return nil
}

// ScoreRange is a score interval; MinEx/MaxEx make a bound exclusive.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// GteMin reports whether v is at or above the range's minimum.
func (r *ScoreRange) GteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

// LteMax reports whether v is at or below the range's maximum.
func (r *ScoreRange) LteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

func (r *ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// FirstInRange returns the lowest element within r, or nil.
func (z *ZSet) FirstInRange(r *ScoreRange) *ZNode {
	if r.empty() || z.tail == nil || !r.GteMin(z.tail.Score) || !r.LteMax(z.First().Score) {
		return nil
	}
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && !r.GteMin(f.Score); f = x.lv(i).forward {
			x = f
		}
	}
	x = x.lv(0).forward
	if x == nil || !r.LteMax(x.Score) {
		return nil
	}
	return x
}

// LastInRange returns the highest element within r, or nil.
func (z *ZSet) LastInRange(r *ScoreRange) *ZNode {
	if r.empty() || z.tail == nil || !r.GteMin(z.tail.Score) || !r.LteMax(z.First().Score) {
		return nil
	}
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && r.LteMax(f.Score); f = x.lv(i).forward {
			x = f
		}
	}
	if x == z.header || !r.GteMin(x.Score) {
		return nil
	}
	return x
}

// LexBound is one end of a lexicographic range: Inf is -1 for "-", +1 for
// "+", 0 for a string bound (Ex: exclusive).
type LexBound struct {
	S   string
	Ex  bool
	Inf int
}

// LexRange is a lexicographic interval.
type LexRange struct{ Min, Max LexBound }

// GteMin reports whether s is at or above the minimum.
func (r *LexRange) GteMin(s string) bool {
	switch r.Min.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	if r.Min.Ex {
		return s > r.Min.S
	}
	return s >= r.Min.S
}

// LteMax reports whether s is at or below the maximum.
func (r *LexRange) LteMax(s string) bool {
	switch r.Max.Inf {
	case 1:
		return true
	case -1:
		return false
	}
	if r.Max.Ex {
		return s < r.Max.S
	}
	return s <= r.Max.S
}

func (r *LexRange) empty() bool {
	if r.Min.Inf == 1 || r.Max.Inf == -1 {
		return true
	}
	if r.Min.Inf == -1 || r.Max.Inf == 1 {
		return false
	}
	if r.Min.S > r.Max.S {
		return true
	}
	return r.Min.S == r.Max.S && (r.Min.Ex || r.Max.Ex)
}

// FirstInLex returns the lowest element within r, or nil. Like Redis, it
// assumes all scores are equal.
func (z *ZSet) FirstInLex(r *LexRange) *ZNode {
	if r.empty() || z.tail == nil || !r.GteMin(z.tail.Member) || !r.LteMax(z.First().Member) {
		return nil
	}
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && !r.GteMin(f.Member); f = x.lv(i).forward {
			x = f
		}
	}
	x = x.lv(0).forward
	if x == nil || !r.LteMax(x.Member) {
		return nil
	}
	return x
}

// LastInLex returns the highest element within r, or nil.
func (z *ZSet) LastInLex(r *LexRange) *ZNode {
	if r.empty() || z.tail == nil || !r.GteMin(z.tail.Member) || !r.LteMax(z.First().Member) {
		return nil
	}
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.lv(i).forward; f != nil && r.LteMax(f.Member); f = x.lv(i).forward {
			x = f
		}
	}
	if x == z.header || !r.GteMin(x.Member) {
		return nil
	}
	return x
}

// Clone returns a deep copy (for COPY).
func (z *ZSet) Clone() *ZSet {
	c := NewZSet(z.listpack)
	for n := z.First(); n != nil; n = n.Next() {
		c.Set(n.Member, n.Score)
	}
	return c
}
