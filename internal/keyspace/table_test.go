package keyspace

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// tableModel drives a table and a reference map through the same
// operations and checks that they agree.
type tableModel struct {
	t    testing.TB
	tb   table
	ref  map[string]unsafe.Pointer
	hash func(k int) uint64
	ver  int // makes each new record of a key distinct
}

// Hash functions for the model: the store's low 8 bits (the shard) are the
// same for every key of a table, so they are in all of them.
var tableHashes = []struct {
	name string
	fn   func(k int) uint64
}{
	{"spread", func(k int) uint64 { return rand.New(rand.NewPCG(uint64(k), 9)).Uint64()&^0xff | 0x2a }},
	// many keys per hash: whole runs of equal hashes
	{"collide", func(k int) uint64 { return uint64(k%5)<<61 | 0x2a }},
	// distinct hashes, few home slots: long Robin Hood runs
	{"crowd", func(k int) uint64 { return uint64(k%3)<<62 | uint64(k)<<8 | 0x2a }},
}

func newTableModel(t testing.TB, hash func(k int) uint64) *tableModel {
	return &tableModel{t: t, ref: map[string]unsafe.Pointer{}, hash: hash}
}

func (m *tableModel) key(k int) []byte { return fmt.Appendf(nil, "k%d", k) }

func (m *tableModel) get(k int) {
	key := m.key(k)
	if got, want := m.tb.get(m.hash(k), key), m.ref[string(key)]; got != want {
		m.t.Fatalf("get %s: %p, want %p", key, got, want)
	}
}

func (m *tableModel) set(k int) {
	key := m.key(k)
	h := m.hash(k)
	old := m.tb.get(h, key)
	m.ver++
	rec := newStrRec(0, key, fmt.Appendf(nil, "v%d", m.ver), 0, 0)
	m.tb.set(h, key, old, rec)
	m.ref[string(key)] = rec
}

func (m *tableModel) del(k int) {
	key := m.key(k)
	h := m.hash(k)
	if p := m.ref[string(key)]; p != nil {
		m.tb.del(h, p)
		delete(m.ref, string(key))
	}
}

// each walks the table, deleting the records for which drop says so, and
// checks that every key was seen exactly once with its hash.
func (m *tableModel) each(drop func(i int) bool, stopAfter int) {
	seen := map[string]bool{}
	i := 0
	m.tb.each(func(h uint64, p unsafe.Pointer) bool {
		k := recKey(p)
		if seen[k] {
			m.t.Fatalf("each: %s twice", k)
		}
		seen[k] = true
		if m.ref[k] != p {
			m.t.Fatalf("each: %s is %p, want %p", k, p, m.ref[k])
		}
		var n int
		fmt.Sscanf(k, "k%d", &n)
		if h != m.hash(n) {
			m.t.Fatalf("each: %s hash %x", k, h)
		}
		if drop(i) {
			m.tb.del(h, p)
			delete(m.ref, k)
		}
		i++
		return i != stopAfter
	})
	if stopAfter < 0 {
		for k := range m.ref {
			if !seen[k] {
				m.t.Fatalf("each: %s not seen", k)
			}
		}
	}
}

// bucket checks that bucket(h) yields exactly the keys with hash h.
func (m *tableModel) bucket(k int) {
	h := m.hash(k)
	got := map[string]bool{}
	m.tb.bucket(h, func(p unsafe.Pointer) bool {
		got[recKey(p)] = true
		return true
	})
	want := 0
	for key := range m.ref {
		var n int
		fmt.Sscanf(key, "k%d", &n)
		if m.hash(n) == h {
			want++
			if !got[key] {
				m.t.Fatalf("bucket %x: %s missing", h, key)
			}
		}
	}
	if len(got) != want {
		m.t.Fatalf("bucket %x: %d records, want %d", h, len(got), want)
	}
}

// subs returns the table's distinct sub-tables in directory order, with
// the index of their first directory entry.
func (tb *table) subs() (subs []*subTable, first []int) {
	for i := 0; i < len(tb.dir); {
		st := tb.dir[i].st
		subs, first = append(subs, st), append(first, i)
		i += 1 << (tb.depth - st.depth)
	}
	return subs, first
}

// slots returns the table's number of slots.
func (tb *table) slots() int {
	n := 0
	subs, _ := tb.subs()
	for _, st := range subs {
		n += len(st.s)
	}
	return n
}

// check verifies the counts, the directory, the Robin Hood order and the
// loads.
func (m *tableModel) check() {
	tb := &m.tb
	if tb.n != len(m.ref) {
		m.t.Fatalf("n %d, want %d", tb.n, len(m.ref))
	}
	if tb.dir == nil {
		if tb.n != 0 {
			m.t.Fatalf("%d keys, no directory", tb.n)
		}
		return
	}
	if len(tb.dir) != 1<<tb.depth || int(tb.dshift) != 64-int(tb.depth) {
		m.t.Fatalf("directory of %d entries, depth %d, shift %d", len(tb.dir), tb.depth, tb.dshift)
	}
	total, deepest := 0, uint8(0)
	subs, firsts := tb.subs()
	for k, st := range subs {
		first := firsts[k]
		span := 1 << (tb.depth - st.depth)
		if st.depth > tb.depth || first&(span-1) != 0 {
			m.t.Fatalf("sub-table of depth %d at entry %d (directory depth %d)", st.depth, first, tb.depth)
		}
		for i := first; i < first+span; i++ {
			if de := tb.dir[i]; de.st != st || len(de.s) != len(st.s) || &de.s[0] != &st.s[0] || de.hshift != st.hshift {
				m.t.Fatalf("entry %d: not the sub-table of entry %d", i, first)
			}
		}
		deepest = max(deepest, st.depth)
		c := len(st.s)
		if c < tableMinCap || c&(c-1) != 0 || int(st.hshift) != 64-bits.TrailingZeros(uint(c))-int(st.depth) {
			m.t.Fatalf("sub-table of %d slots, depth %d, shift %d", c, st.depth, st.hshift)
		}
		full := 0
		for i, e := range st.s {
			if e.p == nil {
				continue
			}
			full++
			if st.depth > 0 && int(e.h>>(64-st.depth)) != first>>(tb.depth-st.depth) {
				m.t.Fatalf("hash %x in the sub-table of entry %d", e.h, first)
			}
			prev := st.s[(i-1)&(c-1)]
			// along a run, distances grow by at most one: an entry at
			// distance d > 0 follows one at distance >= d-1
			if d := st.dist(i, e.h); d > 0 && (prev.p == nil || st.dist(i-1, prev.h) < d-1) {
				m.t.Fatalf("slot %d at distance %d after a shorter run", i, d)
			}
		}
		if full != st.n {
			m.t.Fatalf("%d full slots for %d keys", full, st.n)
		}
		if st.n*tableMaxLoadDen > c*tableMaxLoadNum {
			m.t.Fatalf("%d keys in %d slots", st.n, c)
		}
		total += st.n
	}
	if total != tb.n {
		m.t.Fatalf("sub-tables hold %d keys, table %d", total, tb.n)
	}
	if deepest != tb.depth {
		m.t.Fatalf("directory depth %d, deepest sub-table %d", tb.depth, deepest)
	}
	for k := range m.ref {
		var n int
		fmt.Sscanf(k, "k%d", &n)
		m.get(n)
	}
}

// run interprets ops, two bytes each: an operation and a key.
func (m *tableModel) run(ops []byte, keys int) {
	for len(ops) >= 2 {
		op, k := ops[0], int(ops[1])%keys
		ops = ops[2:]
		switch op % 16 {
		case 0, 1, 2:
			m.get(k)
		case 3, 4, 5, 6, 7:
			m.set(k)
		case 8, 9, 10:
			m.del(k)
		case 11:
			m.bucket(k)
		case 12:
			m.each(func(i int) bool { return (i+k)%3 == 0 }, -1)
		case 13:
			m.each(func(int) bool { return false }, 1+k%7)
		case 14:
			// delete all during each: the shrink waits for the walk's end
			m.each(func(int) bool { return k%2 == 0 }, -1)
		case 15:
			m.check()
		}
	}
	m.check()
}

func TestTableRandomized(t *testing.T) {
	for _, hf := range tableHashes {
		t.Run(hf.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			for round := 0; round < 30; round++ {
				m := newTableModel(t, hf.fn)
				// small sub-tables split and merge within a few keys
				m.tb.subLog = []uint8{0, 3, 4, 6}[round%4]
				keys := 1 + r.IntN(2000)
				ops := make([]byte, 2*4000)
				for i := range ops {
					ops[i] = byte(r.Uint32())
				}
				// phases: fill, then mixed, then drain (exercises shrinking)
				for i := 0; i < keys; i++ {
					m.set(i)
				}
				m.check()
				m.run(ops, 256)
				for i := 0; i < keys; i += 1 + r.IntN(3) {
					m.del(i)
				}
				m.check()
				m.each(func(i int) bool { return i%2 == 0 }, -1)
				m.check()
				for i := 0; i < max(keys, 256); i++ {
					m.del(i)
				}
				m.check()
				if m.tb.n != 0 || m.tb.slots() > tableMinCap {
					t.Fatalf("empty table keeps %d slots", m.tb.slots())
				}
			}
		})
	}
}

// TestTableShrinks: a table emptied by deletions gives its memory back.
func TestTableShrinks(t *testing.T) {
	m := newTableModel(t, tableHashes[0].fn)
	for i := 0; i < 100000; i++ {
		m.set(i)
	}
	big, bigDir := m.tb.slots(), len(m.tb.dir)
	for i := 0; i < 99000; i++ {
		m.del(i)
	}
	m.check()
	if m.tb.slots() > big/32 || len(m.tb.dir) > bigDir/16 {
		t.Fatalf("%d slots, %d directory entries for %d keys (was %d, %d)", m.tb.slots(), len(m.tb.dir), m.tb.n, big, bigDir)
	}
}

func FuzzTable(f *testing.F) {
	f.Add([]byte{3, 1, 3, 2, 0, 1, 8, 1, 0, 1, 12, 0}, uint8(0))
	f.Add([]byte{3, 1, 3, 6, 3, 11, 11, 1, 14, 0, 8, 6}, uint8(1))
	f.Add([]byte{3, 1, 3, 4, 3, 7, 3, 10, 13, 2, 9, 4}, uint8(2))
	f.Fuzz(func(t *testing.T, ops []byte, hf uint8) {
		m := newTableModel(t, tableHashes[int(hf)%len(tableHashes)].fn)
		m.tb.subLog = []uint8{3, 4, 0}[int(hf/16)%3]
		m.run(ops, 64)
	})
}
