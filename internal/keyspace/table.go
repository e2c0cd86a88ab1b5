package keyspace

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// table maps keys to records by the store's 64-bit hash of the key: a flat
// open-addressing array of 16-byte {hash, record} slots with linear probing
// in Robin Hood order and backward-shift deletion (docs/design/memory.md,
// "The key table"). A lookup reads one slot (usually in the cache line of
// its home slot) and, when the stored hash matches, the record's key: one
// cache miss for the slot, one for the record.
//
// Robin Hood order: along the probe sequence, entries are sorted by home
// slot, so a lookup stops as soon as it meets an entry closer to its home
// than the key would be, and entries with equal hashes (distinct keys
// whose 64-bit hashes collide) sit next to each other. Deletion shifts the
// following entries of the run back by one slot: there are no tombstones.
//
// The low bits of the hash pick the lock shard and are the same for every
// key of a table, so the home slot is taken from the high bits.
type table struct {
	s     []slot // len is 0 or a power of two >= tableMinCap
	shift uint8  // 64 - log2(len(s))
	iter  int32  // each calls in progress: no shrinking meanwhile
	n     int    // keys
}

// slot is one entry; p == nil marks an empty slot. The slice is scanned by
// the GC: records stay reachable through p.
type slot struct {
	h uint64
	p unsafe.Pointer
}

const (
	tableMinCap = 8
	// the table grows past 7/8 full (Robin Hood keeps probe runs short at
	// that load) and shrinks to a quarter below 1/8 full.
	tableMaxLoadNum, tableMaxLoadDen = 7, 8
)

// dist returns how far slot i is from the home slot of hash h.
func (t *table) dist(i int, h uint64) int {
	return (i - int(h>>t.shift)) & (len(t.s) - 1)
}

// get returns key's record, or nil.
func (t *table) get(h uint64, key []byte) unsafe.Pointer {
	s := t.s
	if len(s) == 0 {
		return nil
	}
	mask := len(s) - 1
	i := int(h >> t.shift)
	for d := 0; ; d++ {
		e := &s[i&mask]
		if e.p == nil {
			return nil
		}
		if e.h == h {
			if recKeyIs(e.p, key) {
				return e.p
			}
		} else if (i-int(e.h>>t.shift))&mask < d {
			return nil
		}
		i++
	}
}

// find returns the slot index of record rec stored under hash h, or -1.
func (t *table) find(h uint64, rec unsafe.Pointer) int {
	s := t.s
	if len(s) == 0 {
		return -1
	}
	mask := len(s) - 1
	i := int(h >> t.shift)
	for d := 0; ; d++ {
		e := &s[i&mask]
		if e.p == rec {
			return i & mask
		}
		if e.p == nil || (e.h != h && (i-int(e.h>>t.shift))&mask < d) {
			return -1
		}
		i++
	}
}

// set stores rec as key's record, replacing old (nil: a new key).
func (t *table) set(h uint64, key []byte, old, rec unsafe.Pointer) {
	if old != nil {
		if i := t.find(h, old); i >= 0 {
			t.s[i].p = rec
			return
		}
	}
	if (t.n+1)*tableMaxLoadDen > len(t.s)*tableMaxLoadNum {
		c := len(t.s) * 2
		if c < tableMinCap {
			c = tableMinCap
		}
		t.resize(c)
	}
	t.insert(h, rec)
	t.n++
}

// insert places a new entry; the table has a free slot.
func (t *table) insert(h uint64, p unsafe.Pointer) {
	s := t.s
	mask := len(s) - 1
	i := int(h>>t.shift) & mask
	for d := 0; ; d++ {
		e := &s[i]
		if e.p == nil {
			*e = slot{h, p}
			return
		}
		if ed := (i - int(e.h>>t.shift)) & mask; ed < d {
			// Robin Hood: the entry nearer its home moves on
			h, p, e.h, e.p = e.h, e.p, h, p
			d = ed
		}
		i = (i + 1) & mask
	}
}

// resize rehashes every entry into a table of c slots (0: none).
func (t *table) resize(c int) {
	old := t.s
	if c == 0 {
		t.s, t.shift = nil, 0
		return
	}
	t.s = make([]slot, c)
	t.shift = uint8(64 - bits.TrailingZeros(uint(c)))
	for _, e := range old {
		if e.p != nil {
			t.insert(e.h, e.p)
		}
	}
}

// del removes key's record rec.
func (t *table) del(h uint64, rec unsafe.Pointer) {
	i := t.find(h, rec)
	if i < 0 {
		return
	}
	s := t.s
	mask := len(s) - 1
	// backward shift: pull the rest of the run one slot nearer home
	for {
		j := (i + 1) & mask
		e := s[j]
		if e.p == nil || t.dist(j, e.h) == 0 {
			break
		}
		s[i] = e
		i = j
	}
	s[i] = slot{}
	t.n--
	t.maybeShrink()
}

// maybeShrink gives back the memory of a table mostly emptied by
// deletions (a Go map never shrinks); a table of tableMinCap slots stays
// as it is, so that a key set and deleted over and over costs no
// allocation.
func (t *table) maybeShrink() {
	if t.iter != 0 || len(t.s) <= tableMinCap || t.n*8 >= len(t.s) {
		return
	}
	c := 0 // an emptied table keeps no slots
	if t.n > 0 {
		c = max(len(t.s)/4, tableMinCap)
	}
	t.resize(c)
}

// bucket calls fn for each record stored under hash h until fn returns
// false, and reports whether it never did. fn must not change the table.
func (t *table) bucket(h uint64, fn func(p unsafe.Pointer) bool) bool {
	s := t.s
	if len(s) == 0 {
		return true
	}
	mask := len(s) - 1
	i := int(h >> t.shift)
	for d := 0; ; d++ {
		e := &s[i&mask]
		if e.p == nil {
			return true
		}
		if e.h == h {
			if !fn(e.p) {
				return false
			}
		} else if (i-int(e.h>>t.shift))&mask < d {
			return true
		}
		i++
	}
}

// each calls fn for every record, with its hash, until fn returns false.
// fn may delete the record it is given (and nothing else); it must not add
// keys. Every record present for the whole walk is visited exactly once.
// The walk starts at a random slot, as a Go map's range does, so that
// taking the first record samples the keys (eviction, RANDOMKEY).
func (t *table) each(fn func(h uint64, p unsafe.Pointer) bool) {
	s := t.s
	if t.n == 0 {
		return
	}
	mask := len(s) - 1
	// Start right after an empty slot: backward shifts move entries only
	// within a run of full slots, towards its start, so no entry crosses
	// the walk's start and a shifted entry lands on the slot just visited.
	start := int(rand.Uint64()) & mask
	for s[start].p != nil {
		start = (start + 1) & mask
	}
	t.iter++
	defer t.endEach()
	for k := 1; k < len(s); k++ {
		i := (start + k) & mask
		for {
			e := s[i]
			if e.p == nil {
				break
			}
			n := t.n
			if !fn(e.h, e.p) {
				return
			}
			if len(t.s) != len(s) {
				panic("keyspace: table changed size during each")
			}
			if t.n == n {
				break
			}
			// fn deleted e: slot i holds the next entry of the run, not
			// visited yet, or is empty
		}
	}
}

func (t *table) endEach() {
	t.iter--
	t.maybeShrink()
}
