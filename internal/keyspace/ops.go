package keyspace

import (
	"math/rand/v2"
	"unsafe"
)

// KeyspaceStats returns the keyspace hits and misses counted by read
// commands' lookups (INFO keyspace_hits / keyspace_misses).
func (s *Store) KeyspaceStats() (hits, misses int64) {
	for i := range s.shards {
		hits += s.shards[i].hits.Load()
		misses += s.shards[i].misses.Load()
	}
	return hits, misses
}

// ResetKeyspaceStats clears the hit and miss counters (CONFIG RESETSTAT).
func (s *Store) ResetKeyspaceStats() {
	for i := range s.shards {
		s.shards[i].hits.Store(0)
		s.shards[i].misses.Store(0)
	}
}

// AvgTTL returns the average remaining time to live, in ms, of a sample
// of up to sample keys with an expiry in database db, as INFO keyspace's
// avg_ttl (0 when none). Requires LockAll.
func (s *Store) AvgTTL(db int, now int64, sample int) int64 {
	var sum, n int64
	for i := range s.shards {
		ds := &s.shards[i].dbs[db]
		ds.volatile.each(rand.IntN(ds.volatile.span()), func(h uint64) bool {
			if int(n) >= sample {
				return false
			}
			ds.keys.bucket(h, func(p unsafe.Pointer) bool {
				if exp := recExpiry(p); exp > now {
					sum += exp - now
					n++
				}
				return true
			})
			return true
		})
		if int(n) >= sample {
			break
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// Detached is the content of databases removed from a store by
// DetachAll or DetachDB: dropping it frees the memory (lazy freeing).
type Detached struct {
	shards [][]dbShard
}

// Keys returns the number of keys the detached databases held.
func (d *Detached) Keys() int {
	n := 0
	for _, sh := range d.shards {
		for _, ds := range sh {
			n += ds.keys.n
		}
	}
	return n
}

// DetachAll empties every database in O(shards): the old maps are
// returned, not walked, so the caller can drop them outside the lock
// (FLUSHALL). Requires LockAll.
func (s *Store) DetachAll() *Detached {
	d := &Detached{shards: make([][]dbShard, len(s.shards))}
	for i := range s.shards {
		d.shards[i] = s.shards[i].dbs
		s.shards[i].dbs = make([]dbShard, s.ndb)
		s.shards[i].used.Store(0)
		s.shards[i].vol.Store(0)
	}
	s.rebuildSlots()
	return d
}

// DetachDB empties database db, returning its old maps (FLUSHDB). The
// shards' accounted memory is recomputed from the entries, which is
// O(keys); with async the accounting walk is skipped and the memory is
// subtracted from the per-shard totals lazily by Release. Requires
// LockAll.
func (s *Store) DetachDB(db int) *Detached {
	d := &Detached{shards: make([][]dbShard, len(s.shards))}
	for i := range s.shards {
		old := s.shards[i].dbs[db]
		d.shards[i] = []dbShard{old}
		s.shards[i].vol.Add(-int64(old.nvol))
		s.shards[i].dbs[db] = dbShard{}
	}
	if db == 0 {
		s.rebuildSlots()
	}
	return d
}

// ReleaseAccounting subtracts the accounted memory of the entries in d
// from their shards (after DetachDB). It takes no lock beyond atomics and
// may run in the background: the entries are no longer reachable.
func (s *Store) ReleaseAccounting(d *Detached) {
	for i, sh := range d.shards {
		var n int64
		for _, ds := range sh {
			ds.keys.each(func(_ uint64, p unsafe.Pointer) bool {
				n += int64(recSize(p))
				return true
			})
		}
		s.shards[i].used.Add(-n)
	}
}

// HashForDebug returns a stable pseudo address for key (DEBUG OBJECT's
// "Value at").
func HashForDebug(key []byte) uint64 { return 0x7f0000000000 | uint64(len(key))<<4 }

// Sibling returns an empty store with s's databases, key hashing and
// settings (LFU, replica expiry) and no hooks, to be filled while s serves
// and then installed by Replace (a replica's diskless load with
// repl-diskless-load swapdb).
func (s *Store) Sibling() *Store {
	o := &Store{ndb: s.ndb, seed: s.seed}
	o.lfu.Store(s.lfu.Load())
	o.replica.Store(s.replica.Load())
	for i := range o.shards {
		o.shards[i].dbs = make([]dbShard, s.ndb)
	}
	if s.slotOf != nil {
		o.IndexSlots(s.slotOf)
		o.slots.small = s.slots.small
	}
	return o
}

// Replace installs o's data (o from s.Sibling, no longer used) in s in
// O(shards) and returns s's old data, which the caller drops outside the
// lock. Requires LockAll.
func (s *Store) Replace(o *Store) *Detached {
	d := &Detached{shards: make([][]dbShard, len(s.shards))}
	for i := range s.shards {
		d.shards[i] = s.shards[i].dbs
		s.shards[i].dbs = o.shards[i].dbs
		o.shards[i].dbs = nil
		s.shards[i].used.Store(o.shards[i].used.Load())
		s.shards[i].vol.Store(o.shards[i].vol.Load())
	}
	if s.slotOf != nil {
		if o.slots == nil {
			s.rebuildSlots()
		} else {
			s.slots, o.slots = o.slots, nil
		}
	}
	return d
}
