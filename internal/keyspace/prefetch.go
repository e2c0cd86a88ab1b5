package keyspace

import "unsafe"

// PrefetchMax is how many keys one Prefetch call warms at most.
const PrefetchMax = 16

// Prefetch warms the CPU caches for the lookups of keys in database db
// that the commands of a pipelined batch are about to make
// (docs/design/concurrency.md, "Pipelined per-command CPU, second pass").
// It changes nothing and may do nothing: it takes no lock that is not free
// right now, and skips the keys of a shard it could not take.
//
// A lookup of a key that is not in the caches waits for two dependent
// memory reads: its slot in the key table, then the record the slot points
// to. One command after the other, a batch of 16 waits 32 times. Prefetch
// issues the slot reads of all the keys, then their records', without
// waiting for any (a prefetch instruction), so that the batch waits about
// twice in all, while the CPU still has other work.
//
// It holds the global lock shared and the keys' shards (try-locks only,
// so no lock order matters) for the time of the two passes, a few hundred
// ns: another client wanting one of those shards waits that long.
func (s *Store) Prefetch(db int, keys [][]byte) {
	if len(keys) > PrefetchMax {
		keys = keys[:PrefetchMax]
	}
	if db < 0 || db >= s.ndb || len(keys) == 0 || !s.global.TryRLock() {
		return
	}
	var (
		hs     [PrefetchMax]uint64
		tabs   [PrefetchMax]*table
		held   [NumShards / 64]uint64 // shards this call locked
		locked [PrefetchMax]int       // and in which order
		nl     int
	)
	// First pass: hash, take the shard, start reading the home slot.
	for i, k := range keys {
		h := s.Hash(k)
		sh := int(h & (NumShards - 1))
		if held[sh>>6]&(1<<(sh&63)) == 0 {
			if !s.shards[sh].mu.TryLock() {
				continue
			}
			held[sh>>6] |= 1 << (sh & 63)
			locked[nl] = sh
			nl++
		}
		t := &s.shards[sh].dbs[db].keys
		if len(t.dir) == 0 {
			continue
		}
		hs[i], tabs[i] = h, t
		de := &t.dir[h>>t.dshift]
		prefetch(unsafe.Pointer(&de.s[int(h>>de.hshift)&(len(de.s)-1)]))
	}
	// Second pass: the slots are arriving; start reading the records.
	for i, t := range tabs[:len(keys)] {
		if t != nil {
			if p := t.peek(hs[i]); p != nil {
				prefetch(p)
			}
		}
	}
	for _, sh := range locked[:nl] {
		s.shards[sh].mu.Unlock()
	}
	s.global.RUnlock()
}

// prefetchMinBytes is the size of the keyspace's records from which
// Prefetch pays: below it (a few times a core's 512 KiB L2 cache, with
// the key table besides) lookups mostly hit the caches, and the extra
// pass would cost a warm pipelined GET ~10% more CPU.
const prefetchMinBytes = 2 << 20

// PrefetchPays reports whether the keyspace is large enough for Prefetch
// to pay, estimated from shard 0 (keys spread evenly over the shards): one
// atomic load.
func (s *Store) PrefetchPays() bool {
	return s.shards[0].used.Load() >= prefetchMinBytes/NumShards
}

// peek returns the first record stored under hash h, or nil: get without
// the key comparison, which would wait for the record.
func (t *table) peek(h uint64) unsafe.Pointer {
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
			return e.p
		}
		if (i-int(e.h>>hs))&mask < d {
			return nil
		}
		i++
	}
}
