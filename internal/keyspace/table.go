package keyspace

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// table maps keys to records by the store's 64-bit hash of the key
// (docs/design/memory.md, "The key table"): a directory of flat
// open-addressing sub-tables, extendible hashing on the hash's top bits.
//
// The directory has 1<<depth entries; entry h>>(64-depth) points to the
// sub-table holding hash h. A sub-table of local depth d holds the hashes
// whose top d bits are the same and fills the 1<<(depth-d) directory
// entries that start with them. A sub-table grows by doubling up to
// 1<<tableSubLog slots; past that a full one splits in two on its next
// hash bit (the directory doubles first when it has no spare bit: pointers
// only), so that one set costs at most one sub-table's rehash, never the
// whole table's (a flat table of a 117M-key store paused 25-33 ms).
//
// Each sub-table is an array of 16-byte {hash, record} slots with linear
// probing in Robin Hood order and backward-shift deletion. A lookup reads
// the directory entry and the sub-table's header (few: cache-resident), one
// slot (usually in the cache line of its home slot) and, when the stored
// hash matches, the record's key.
//
// Robin Hood order: along the probe sequence, entries are sorted by home
// slot, so a lookup stops as soon as it meets an entry closer to its home
// than the key would be, and entries with equal hashes (distinct keys
// whose 64-bit hashes collide) sit next to each other. Deletion shifts the
// following entries of the run back by one slot: there are no tombstones.
//
// The low bits of the hash pick the lock shard and are the same for every
// key of a table; the top bits pick the sub-table, the next ones the home
// slot in it.
type table struct {
	dir    []dirEnt // 1<<depth entries; nil while the table has no slots
	dshift uint8    // 64 - depth: directory index = h >> dshift
	depth  uint8    // the directory's (global) depth
	// log2 of the size past which a full sub-table splits rather than
	// doubles; 0 means tableSubLog (tests lower it to split small tables)
	subLog    uint8
	shrinkDue bool   // a deletion during each left a shrink for its end
	iter      int32  // each calls in progress: no shrinking meanwhile
	gen       uint32 // counts growths and splits (each checks it)
	n         int    // keys
}

// dirEnt is a directory entry: its sub-table, with a copy of the array and
// its shift so that a lookup reads no sub-table header (t.setSub keeps
// them in step).
type dirEnt struct {
	s      []slot
	hshift uint8
	st     *subTable
}

// subTable is one flat Robin Hood array of the directory.
type subTable struct {
	s []slot // len is a power of two >= tableMinCap
	// home slot of hash h: (h >> hshift) & (len(s)-1); hshift is
	// 64 - log2(len(s)) - depth: the bits right after the shared prefix
	hshift uint8
	depth  uint8 // local depth: the top depth bits of its hashes are equal
	n      int   // keys
}

// slot is one entry; p == nil marks an empty slot. The arrays are scanned
// by the GC: records stay reachable through p.
// TableSlotSize is the size of one key-table slot (DEBUG STRUCTSIZE's
// counterpart of Redis's dictEntry).
const TableSlotSize = int(unsafe.Sizeof(slot{}))

type slot struct {
	h uint64
	p unsafe.Pointer
}

const (
	tableMinCap = 8
	// a sub-table doubles up to 1<<tableSubLog slots (64 KiB, a rehash of
	// 3,584 entries: tens of µs), then splits
	tableSubLog = 12
	// no split past this depth: sub-tables double instead (only hashes
	// far from uniform get there)
	tableMaxDepth = 32
	// a sub-table grows past 7/8 full (Robin Hood keeps probe runs short
	// at that load) and shrinks to a quarter below 1/8 full.
	tableMaxLoadNum, tableMaxLoadDen = 7, 8
)

func newSubTable(c int, depth uint8) *subTable {
	return &subTable{
		s:      make([]slot, c),
		hshift: uint8(64-bits.TrailingZeros(uint(c))) - depth,
		depth:  depth,
	}
}

// subCap returns a size for a new sub-table of n keys: at most half full.
func subCap(n int) int {
	c := tableMinCap
	for c < 2*n {
		c *= 2
	}
	return c
}

// dist returns how far slot i is from the home slot of hash h.
func (st *subTable) dist(i int, h uint64) int {
	return (i - int(h>>st.hshift)) & (len(st.s) - 1)
}

// subMax returns the size past which a full sub-table splits.
func (t *table) subMax() int {
	if t.subLog == 0 {
		return 1 << tableSubLog
	}
	return 1 << t.subLog
}

// sub returns the sub-table of hash h, or nil.
func (t *table) sub(h uint64) *subTable {
	if len(t.dir) == 0 {
		return nil
	}
	return t.dir[h>>t.dshift].st
}

// setSub points the directory entries of st (which holds hash h) at it.
func (t *table) setSub(st *subTable, h uint64) {
	span := 1 << (t.depth - st.depth)
	first := int(h>>t.dshift) &^ (span - 1)
	for i := first; i < first+span; i++ {
		t.dir[i] = dirEnt{st.s, st.hshift, st}
	}
}

// get returns key's record, or nil.
func (t *table) get(h uint64, key []byte) unsafe.Pointer {
	if len(t.dir) == 0 {
		return nil
	}
	de := &t.dir[h>>t.dshift]
	s, hs := de.s, de.hshift
	mask := len(s) - 1
	i := int(h >> hs)
	for d := 0; ; d++ {
		e := &s[i&mask]
		if e.p == nil {
			return nil
		}
		if e.h == h {
			if recKeyIs(e.p, key) {
				return e.p
			}
		} else if (i-int(e.h>>hs))&mask < d {
			return nil
		}
		i++
	}
}

// find returns the slot index of record rec stored under hash h, or -1.
func (st *subTable) find(h uint64, rec unsafe.Pointer) int {
	s, hs := st.s, st.hshift
	mask := len(s) - 1
	i := int(h >> hs)
	for d := 0; ; d++ {
		e := &s[i&mask]
		if e.p == rec {
			return i & mask
		}
		if e.p == nil || (e.h != h && (i-int(e.h>>hs))&mask < d) {
			return -1
		}
		i++
	}
}

// set stores rec as key's record, replacing old (nil: a new key).
func (t *table) set(h uint64, key []byte, old, rec unsafe.Pointer) {
	if old != nil {
		if st := t.sub(h); st != nil {
			if i := st.find(h, old); i >= 0 {
				st.s[i].p = rec
				return
			}
		}
	}
	if len(t.dir) == 0 {
		st := newSubTable(tableMinCap, 0)
		t.dir = []dirEnt{{st.s, st.hshift, st}}
		t.depth, t.dshift = 0, 64
	}
	st := t.dir[h>>t.dshift].st
	for (st.n+1)*tableMaxLoadDen > len(st.s)*tableMaxLoadNum {
		t.grow(st, h)
		st = t.dir[h>>t.dshift].st
	}
	st.insert(h, rec)
	st.n++
	t.n++
}

// grow makes room in the full sub-table st, which holds hash h: it doubles
// while small, else it splits.
func (t *table) grow(st *subTable, h uint64) {
	t.gen++
	if len(st.s) < t.subMax() || st.depth >= tableMaxDepth || !t.split(st, h) {
		st.resize(2 * len(st.s))
		t.setSub(st, h)
	}
}

// split replaces st (holding hash h) by two sub-tables, one for each value
// of the hash's next bit, and reports whether it did: it does not when
// that bit would not halve st (hashes far from uniform: st doubles).
func (t *table) split(st *subTable, h uint64) bool {
	bit := uint64(1) << (63 - st.depth)
	ones := 0
	for i := range st.s {
		if e := &st.s[i]; e.p != nil && e.h&bit != 0 {
			ones++
		}
	}
	if min(ones, st.n-ones)*8 < st.n {
		return false
	}
	if st.depth == t.depth {
		nd := make([]dirEnt, 2*len(t.dir))
		for i, x := range t.dir {
			nd[2*i], nd[2*i+1] = x, x
		}
		t.dir = nd
		t.depth++
		t.dshift--
	}
	lo := newSubTable(min(subCap(st.n-ones), len(st.s)), st.depth+1)
	hi := newSubTable(min(subCap(ones), len(st.s)), st.depth+1)
	for _, e := range st.s {
		if e.p == nil {
			continue
		}
		if e.h&bit != 0 {
			hi.insert(e.h, e.p)
		} else {
			lo.insert(e.h, e.p)
		}
	}
	lo.n, hi.n = st.n-ones, ones
	t.setSub(lo, h&^bit)
	t.setSub(hi, h|bit)
	return true
}

// insert places a new entry; the sub-table has a free slot.
func (st *subTable) insert(h uint64, p unsafe.Pointer) {
	s, hs := st.s, st.hshift
	mask := len(s) - 1
	i := int(h>>hs) & mask
	for d := 0; ; d++ {
		e := &s[i]
		if e.p == nil {
			*e = slot{h, p}
			return
		}
		if ed := (i - int(e.h>>hs)) & mask; ed < d {
			// Robin Hood: the entry nearer its home moves on
			h, p, e.h, e.p = e.h, e.p, h, p
			d = ed
		}
		i = (i + 1) & mask
	}
}

// resize rehashes every entry into an array of c slots.
func (st *subTable) resize(c int) {
	old := st.s
	st.s = make([]slot, c)
	st.hshift = uint8(64-bits.TrailingZeros(uint(c))) - st.depth
	for _, e := range old {
		if e.p != nil {
			st.insert(e.h, e.p)
		}
	}
}

// del removes key's record rec.
func (t *table) del(h uint64, rec unsafe.Pointer) {
	st := t.sub(h)
	if st == nil {
		return
	}
	i := st.find(h, rec)
	if i < 0 {
		return
	}
	s := st.s
	mask := len(s) - 1
	// backward shift: pull the rest of the run one slot nearer home
	for {
		j := (i + 1) & mask
		e := s[j]
		if e.p == nil || st.dist(j, e.h) == 0 {
			break
		}
		s[i] = e
		i = j
	}
	s[i] = slot{}
	st.n--
	t.n--
	if st.n*8 >= len(st.s) && t.n != 0 && (st.depth == 0 || st.n*4 > t.subMax()) {
		return // nothing to shrink or merge (maybeShrink's conditions)
	}
	if t.iter != 0 {
		t.shrinkDue = true
		return
	}
	t.maybeShrink(h)
}

// maybeShrink gives back the memory of a sub-table (the one of hash h)
// mostly emptied by deletions (a Go map never shrinks): below 1/8 full it
// goes to a quarter, and it merges with its buddy (the sub-table that
// differs in the last bit of its prefix) while the two hold at most a
// quarter of a full sub-table. Every step rehashes at most that many
// entries. The directory halves when no sub-table uses its last bit. A
// table of tableMinCap slots stays as it is, so that a key set and deleted
// over and over costs no allocation; a table emptied from larger frees
// everything.
func (t *table) maybeShrink(h uint64) {
	if len(t.dir) == 0 {
		return
	}
	if t.n == 0 {
		if len(t.dir) > 1 || len(t.dir[0].s) > tableMinCap {
			t.dir, t.depth, t.dshift = nil, 0, 0
		}
		return
	}
	st := t.dir[h>>t.dshift].st
	if len(st.s) > tableMinCap && st.n*8 < len(st.s) {
		st.resize(max(len(st.s)/4, tableMinCap))
		t.setSub(st, h)
	}
	merged := false
	for st.depth > 0 {
		span := 1 << (t.depth - st.depth)
		first := int(h>>t.dshift) &^ (span - 1)
		bud := t.dir[first^span].st
		if bud.depth != st.depth || (st.n+bud.n)*4 > t.subMax() {
			break
		}
		m := newSubTable(subCap(st.n+bud.n), st.depth-1)
		for _, x := range [2]*subTable{st, bud} {
			for _, e := range x.s {
				if e.p != nil {
					m.insert(e.h, e.p)
				}
			}
		}
		m.n = st.n + bud.n
		t.setSub(m, h)
		st, merged = m, true
	}
	for merged && t.depth > 0 {
		for _, x := range t.dir {
			if x.st.depth == t.depth {
				return
			}
		}
		nd := make([]dirEnt, len(t.dir)/2)
		for i := range nd {
			nd[i] = t.dir[2*i]
		}
		t.dir = nd
		t.depth--
		t.dshift++
	}
}

// bucket calls fn for each record stored under hash h until fn returns
// false, and reports whether it never did. fn must not change the table.
func (t *table) bucket(h uint64, fn func(p unsafe.Pointer) bool) bool {
	st := t.sub(h)
	if st == nil {
		return true
	}
	s, hs := st.s, st.hshift
	mask := len(s) - 1
	i := int(h >> hs)
	for d := 0; ; d++ {
		e := &s[i&mask]
		if e.p == nil {
			return true
		}
		if e.h == h {
			if !fn(e.p) {
				return false
			}
		} else if (i-int(e.h>>hs))&mask < d {
			return true
		}
		i++
	}
}

// each calls fn for every record, with its hash, until fn returns false.
// fn may delete the record it is given (and nothing else); it must not add
// keys. Every record present for the whole walk is visited exactly once.
// The walk starts at a random directory entry and a random slot of each
// sub-table, as a Go map's range does, so that taking the first record
// samples the keys (eviction, RANDOMKEY).
func (t *table) each(fn func(h uint64, p unsafe.Pointer) bool) {
	if t.n == 0 {
		return
	}
	t.iter++
	defer t.endEach()
	dir := t.dir
	r := rand.Uint64()
	dmask := len(dir) - 1
	// the first entry of the random entry's sub-table: sub-tables fill
	// aligned ranges of entries, so steps of their spans visit each once
	first := int(r) & dmask
	first &^= 1<<(t.depth-dir[first].st.depth) - 1
	for i := first; ; {
		st := dir[i].st
		if st.n != 0 && !t.eachSub(st, int(r>>32), fn) {
			return
		}
		i = (i + 1<<(t.depth-st.depth)) & dmask
		if i == first {
			return
		}
	}
}

// eachSub is each over one sub-table, from slot start on.
func (t *table) eachSub(st *subTable, start int, fn func(h uint64, p unsafe.Pointer) bool) bool {
	s := st.s
	mask := len(s) - 1
	gen := t.gen
	// Start right after an empty slot: backward shifts move entries only
	// within a run of full slots, towards its start, so no entry crosses
	// the walk's start and a shifted entry lands on the slot just visited.
	start &= mask
	for s[start].p != nil {
		start = (start + 1) & mask
	}
	for k := 1; k < len(s); k++ {
		i := (start + k) & mask
		for {
			e := s[i]
			if e.p == nil {
				break
			}
			n := t.n
			if !fn(e.h, e.p) {
				return false
			}
			if t.gen != gen || len(st.s) != len(s) {
				panic("keyspace: table changed size during each")
			}
			if t.n == n {
				break
			}
			// fn deleted e: slot i holds the next entry of the run, not
			// visited yet, or is empty
		}
	}
	return true
}

// endEach ends an each; the shrinks deletions during the walk deferred are
// done now, for every sub-table.
func (t *table) endEach() {
	t.iter--
	if t.iter != 0 || !t.shrinkDue {
		return
	}
	t.shrinkDue = false
	if t.n == 0 {
		t.maybeShrink(0)
		return
	}
	// merges change the directory under the loop: a sub-table skipped
	// shrinks at its next deletion
	for i := 0; i < len(t.dir); {
		t.maybeShrink(uint64(i) << t.dshift)
		if i >= len(t.dir) {
			break
		}
		span := 1 << (t.depth - t.dir[i].st.depth)
		i = i&^(span-1) + span
	}
}
