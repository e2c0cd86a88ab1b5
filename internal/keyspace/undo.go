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
	// lent: rec is a string record in the caller's arena (SaveIn), which
	// is reused: Restore stores a copy of it.
	lent bool
	// only: the key's access field alone was saved (AccessSaved), in acc
	only bool
	acc  uint32
}

// AccessOnly reports whether sv holds only the key's access field
// (AccessSaved), not its record: it does not undo a write.
func (sv *Saved) AccessOnly() bool { return sv.only }

// AccessSaved returns the Saved that puts access field acc (an LRU clock
// or LFU counter) back on key of database db, if the key still exists,
// when restored: what a read through a HoldingHits view replaced
// (Store.OnHeldAccess). The Saved keeps key, as Save's.
func AccessSaved(db int, key []byte, acc uint32) Saved {
	return Saved{db: db, key: key, only: true, acc: acc}
}

// maxLentRec bounds the string records SaveIn copies to its arena.
const maxLentRec = 512

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
func (db DB) Save(key []byte, max uint32) (Saved, bool) { return db.SaveIn(key, max, nil) }

// SaveIn is Save copying a small string record to *arena (appended, 8-byte
// aligned) rather than to an allocation of its own when arena is not nil.
// The Saved then refers to *arena's bytes: the caller must keep them
// unchanged until the Saved is restored or dropped (growing *arena is
// fine: the old array stays alive while referenced).
func (db DB) SaveIn(key []byte, max uint32, arena *[]byte) (Saved, bool) {
	sv := Saved{db: int(db.idx), key: key}
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
	if n := strRecLen(r); arena != nil && n <= maxLentRec {
		a := *arena
		if len(a)+7+n > cap(a) {
			a = append(make([]byte, 0, 2*cap(a)+n+64), a...)
		}
		end := uintptr(unsafe.Pointer(unsafe.SliceData(a))) + uintptr(len(a))
		off := len(a) + int(-end&7) // records are 8-byte aligned
		a = a[:off+n]
		copy(a[off:], recBytes(p, 0, n))
		*arena = a
		sv.rec, sv.lent = unsafe.Pointer(&a[off]), true
		return sv, true
	}
	sv.rec = keepFlags(newStrRec(hd.access, recBytes(p, r.keyOff, r.klen), strValue(p, r), recExpiry(p), 0), p)
	return sv, true
}

// strRecLen is the length in bytes of the string record r decodes.
func strRecLen(r strRec) int {
	return max(int(r.keyOff)+r.klen+r.vcap, 8) // newStrRec's minimum
}

// Restore puts a saved record back (or removes the key when it did not
// exist), with its expiry, access clock and memory accounting; for a
// AccessSaved, the access field alone. The caller holds the key's shard.
func (s *Store) Restore(sv *Saved) {
	// a key put back is no "new" key: no event, no signal to blocked
	// clients (the view of a load); the slot index still lists it
	db := s.DB(sv.db, 0).Loading()
	key := sv.key
	ds, h, sh := db.locate(key)
	cur := ds.keys.get(h, key)
	if sv.only {
		if cur != nil {
			hdrOf(cur).access = sv.acc
		}
		return
	}
	if sv.lent {
		n := strRecLen(decodeStr(sv.rec))
		b := make([]byte, n)
		copy(b, recBytes(sv.rec, 0, n))
		sv.rec, sv.lent = unsafe.Pointer(&b[0]), false
	}
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
