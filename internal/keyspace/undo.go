package keyspace

// Support for scripts that run holding only some shards (see
// docs/design/concurrency.md, "Scripts on disjoint keys in parallel"): a
// script tries the lock of each further shard it needs without waiting,
// and records the previous entry of every key it writes so that its writes
// can be undone if it must start again holding the whole keyspace.

// TryLockShard takes shard sh's lock if it is free right now. The caller
// already holds the global lock shared (LockShards) and not sh.
func (s *Store) TryLockShard(sh int) bool {
	if !s.shards[sh].mu.TryLock() {
		return false
	}
	s.beforeAccess(sh)
	return true
}

// UnlockShardOnly releases a shard taken by TryLockShard, keeping the
// global lock.
func (s *Store) UnlockShardOnly(sh int) { s.shards[sh].mu.Unlock() }

// Saved is a key's entry as it was before a script wrote it.
type Saved struct {
	db  int
	key string
	e   Entry
	had bool // the key existed (and had not expired)
}

// Key returns the saved key.
func (sv *Saved) Key() string { return sv.key }

// DB returns the saved key's database.
func (sv *Saved) DB() int { return sv.db }

// Save returns a deep copy of key's current entry (absent when missing or
// expired at db.Now) for Restore. It fails, leaving nothing changed, when
// the value cannot be copied or its accounted size exceeds max bytes:
// copying it would cost more than running the script alone. The caller
// holds key's shard.
func (db DB) Save(key []byte, max uint32) (Saved, bool) {
	sv := Saved{db: db.idx, key: string(key)}
	e, ok := db.shardFor(key).keys[sv.key]
	if !ok || (e.Exp != 0 && e.Exp <= db.Now) {
		return sv, true
	}
	if e.size > max {
		return sv, false
	}
	v, ok := Clone(e.Val)
	if !ok {
		return sv, false
	}
	e.Val = v
	sv.e, sv.had = e, true
	return sv, true
}

// Restore puts a saved entry back (or removes the key when it did not
// exist), with its expiry, access clock and memory accounting. The caller
// holds the key's shard.
func (s *Store) Restore(sv *Saved) {
	sh := int(s.HashString(sv.key) & (NumShards - 1))
	ds := s.dbShard(sh, sv.db)
	cur, had := ds.keys[sv.key]
	delta := -int64(cur.size)
	if !had {
		delta = 0
	}
	if sv.had {
		if ds.keys == nil {
			ds.keys = make(map[string]Entry)
		}
		ds.keys[sv.key] = sv.e
		delta += int64(sv.e.size)
		if sv.e.Exp != 0 {
			if ds.volatile == nil {
				ds.volatile = make(map[string]struct{})
			}
			ds.volatile[sv.key] = struct{}{}
		} else {
			delete(ds.volatile, sv.key)
		}
	} else if had {
		delete(ds.keys, sv.key)
		delete(ds.volatile, sv.key)
	}
	if delta != 0 {
		s.shards[sh].used.Add(delta)
	}
}
