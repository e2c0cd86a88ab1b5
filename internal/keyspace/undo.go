package keyspace

import "unsafe"

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

// Saved is a key's record as it was before a script wrote it.
type Saved struct {
	db  int
	key []byte         // the caller's, kept
	rec unsafe.Pointer // a private copy of the record; nil: the key did not exist (or had expired)
}

// Key returns the saved key.
func (sv *Saved) Key() []byte { return sv.key }

// DB returns the saved key's database.
func (sv *Saved) DB() int { return sv.db }

// Save returns a deep copy of key's current record (absent when missing or
// expired at db.Now) for Restore. It fails, leaving nothing changed, when
// the value cannot be copied or its accounted size exceeds max bytes:
// copying it would cost more than running the script alone. The caller
// holds key's shard. The Saved keeps key: it must not change while the
// Saved may be restored.
func (db DB) Save(key []byte, max uint32) (Saved, bool) {
	sv := Saved{db: db.idx, key: key}
	ds, h, _ := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return sv, true
	}
	if exp := recExpiry(p); exp != 0 && exp <= db.Now {
		return sv, true
	}
	if recSize(p) > max {
		return sv, false
	}
	// A record changes in place only in its header and, for a raw string,
	// past its value's length; an object's value changes in place: copy
	// all of it.
	hd := hdrOf(p)
	if hd.flags&recObj != 0 {
		o := (*objRec)(p)
		v, ok := Clone(o.val)
		if !ok {
			return sv, false
		}
		sv.rec = newObjRec(o.access, o.key, v, o.exp, o.size)
		return sv, true
	}
	r := decodeStr(p)
	sv.rec = keepFlags(newStrRec(hd.access, recBytes(p, r.keyOff, r.klen), strValue(p, r), recExpiry(p)), p)
	return sv, true
}

// Restore puts a saved record back (or removes the key when it did not
// exist), with its expiry, access clock and memory accounting. The caller
// holds the key's shard.
func (s *Store) Restore(sv *Saved) {
	db := s.DB(sv.db, 0)
	key := sv.key
	ds, h, sh := db.locate(key)
	cur := ds.keys.get(h, key)
	switch {
	case sv.rec != nil:
		var curSize uint32
		var curExp int64
		if cur != nil {
			curSize, curExp = recSize(cur), recExpiry(cur)
		}
		db.store(ds, h, sh, key, cur, curSize, curExp, sv.rec)
	case cur != nil:
		db.remove(ds, h, sh, cur)
	}
}
