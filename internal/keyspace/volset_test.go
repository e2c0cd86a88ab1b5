package keyspace

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkVolSet compares s with the model m: membership, size, what each
// visits from any start, and the probing invariant (every hash reachable
// from its home without crossing an empty slot).
func checkVolSet(t *testing.T, s *volSet, m map[uint64]bool) {
	t.Helper()
	if s.len() != len(m) {
		t.Fatalf("len %d, want %d", s.len(), len(m))
	}
	for h := range m {
		if !s.has(h) {
			t.Fatalf("%#x missing", h)
		}
	}
	mask := len(s.slots) - 1
	n := 0
	for i, h := range s.slots {
		if h == 0 {
			continue
		}
		n++
		if !m[h] {
			t.Fatalf("%#x in slot %d, not in the model", h, i)
		}
		for j := s.home(h); j != i; j = (j + 1) & mask {
			if s.slots[j] == 0 {
				t.Fatalf("%#x at %d unreachable from home %d (gap at %d)", h, i, s.home(h), j)
			}
		}
	}
	if n != s.n {
		t.Fatalf("n %d, %d in slots", s.n, n)
	}
	for _, start := range []int{0, 1, s.span() - 1, s.span() + 3, -1} {
		seen := map[uint64]int{}
		s.each(start, func(h uint64) bool { seen[h]++; return true })
		if len(seen) != len(m) {
			t.Fatalf("each from %d saw %d hashes, want %d", start, len(seen), len(m))
		}
		for h, c := range seen {
			if c != 1 || !m[h] {
				t.Fatalf("each from %d saw %#x %d times (in model: %v)", start, h, c, m[h])
			}
		}
	}
}

// TestVolSet runs fixed sequences, including the hash 0, clusters of
// equal homes that wrap around the table's end, growth and emptying.
func TestVolSet(t *testing.T) {
	const top = uint64(1) << 60 // home 1 of 16 once shifted by 60
	for _, tc := range []struct {
		name string
		add  []uint64
		del  []uint64
	}{
		{"zero hash", []uint64{0, 5, 0}, []uint64{0, 0, 5}},
		{"same home", []uint64{top | 1, top | 2, top | 3, 2*top | 1}, []uint64{top | 1, top | 3}},
		{"wrap at end", []uint64{15*top | 1, 15*top | 2, 15*top | 3, 14*top | 4, 0*top | 5}, []uint64{15*top | 1, 14*top | 4, 15*top | 3}},
		{"delete absent", []uint64{top | 1}, []uint64{top | 2, 99, top | 1, top | 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s volSet
			m := map[uint64]bool{}
			for _, h := range tc.add {
				s.add(h)
				m[h] = true
				checkVolSet(t, &s, m)
			}
			for _, h := range tc.del {
				s.del(h)
				delete(m, h)
				checkVolSet(t, &s, m)
			}
		})
	}
	t.Run("grow and empty", func(t *testing.T) {
		var s volSet
		m := map[uint64]bool{}
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 1000; i++ {
			h := r.Uint64()
			s.add(h)
			m[h] = true
		}
		checkVolSet(t, &s, m)
		for h := range m {
			s.del(h)
			delete(m, h)
		}
		checkVolSet(t, &s, m)
		if s.slots != nil {
			t.Fatalf("empty set keeps %d slots", len(s.slots))
		}
	})
}

// TestVolSetEachDelete: a walk that deletes every hash it is given
// (ActiveExpire expiring everything) visits each at most once and leaves
// the set holding exactly what it did not visit.
func TestVolSetEachDelete(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		var s volSet
		m := map[uint64]bool{}
		n := 1 + r.IntN(200)
		for i := 0; i < n; i++ {
			h := r.Uint64() >> uint(r.IntN(8)) // clusters of small homes too
			if r.IntN(20) == 0 {
				h = 0
			}
			s.add(h)
			m[h] = true
		}
		seen := map[uint64]bool{}
		limit := r.IntN(n + 1)
		s.each(r.IntN(s.span()), func(h uint64) bool {
			if len(seen) >= limit {
				return false
			}
			if seen[h] {
				t.Fatalf("seed %d: %#x visited twice", seed, h)
			}
			seen[h] = true
			s.del(h)
			delete(m, h)
			return true
		})
		checkVolSet(t, &s, m)
	}
}

// FuzzVolSet applies adds and deletes from the input (9 bytes each: an
// operation and a hash) to the set and to a map, comparing them.
func FuzzVolSet(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x10\x01\x00\x00\x00\x00\x00\x00\x00\x10"))
	f.Add(make([]byte, 90))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s volSet
		m := map[uint64]bool{}
		for len(data) >= 9 {
			op := data[0]
			h := binary.LittleEndian.Uint64(data[1:9])
			if op&0x80 != 0 { // few distinct homes: long probe runs
				h &= 0xf0000000000000ff
			}
			data = data[9:]
			switch op & 3 {
			case 0, 1:
				s.add(h)
				m[h] = true
			case 2:
				s.del(h)
				delete(m, h)
			case 3:
				if s.has(h) != m[h] {
					t.Fatalf("has(%#x) = %v", h, !m[h])
				}
			}
		}
		checkVolSet(t, &s, m)
	})
}

// TestActiveExpireCursor: keys that all expire are found by repeated
// ActiveExpire calls of 20 samples each, every call resuming where the
// previous one stopped, and no key is sampled twice before all were.
func TestActiveExpireCursor(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	for i := 0; i < 5000; i++ {
		db.SetString([]byte(fmt.Sprint("k", i)), []byte("v"), 2000)
	}
	// a second database's keys never expire: sampled, not deleted
	expired, calls := 0, 0
	for sh := 0; sh < NumShards; sh++ {
		for {
			sampled, n := s.ActiveExpire(sh, 0, 5000, 20)
			calls++
			expired += n
			if sampled == 0 {
				break
			}
			if n != sampled {
				t.Fatalf("shard %d: sampled %d expired %d", sh, sampled, n)
			}
		}
	}
	if expired != 5000 || db.Size() != 0 || db.Volatile() != 0 {
		t.Fatalf("expired %d size %d volatile %d after %d calls", expired, db.Size(), db.Volatile(), calls)
	}
	// none expired: successive calls sample different keys
	for i := 0; i < 400; i++ {
		db.SetString([]byte(fmt.Sprint("p", i)), []byte("v"), 90000)
	}
	for sh := 0; sh < NumShards; sh++ {
		ds := s.dbShard(sh, 0)
		n := ds.volatile.len()
		seen := map[uint64]int{}
		for round := 0; round < n; round++ {
			before := ds.volCursor
			ds.volatile.each(before, func(h uint64) bool { seen[h]++; return false })
			sampled, exp := s.ActiveExpire(sh, 0, 5000, 1)
			if sampled != 1 || exp != 0 {
				t.Fatalf("shard %d: sampled %d expired %d", sh, sampled, exp)
			}
		}
		if len(seen) != n {
			t.Fatalf("shard %d: %d rounds of one sample saw %d of %d hashes", sh, n, len(seen), n)
		}
	}
}
