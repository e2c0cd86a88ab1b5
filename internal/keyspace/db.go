package keyspace

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"unsafe"
)

// DB is a view of one database at a fixed time. Its methods require the
// caller to hold the locks of the shards it touches.
type DB struct {
	s   *Store
	idx int32 // and the three flags: one word
	// hits: Lookup counts keyspace hits and misses (read commands).
	hits bool
	// master: the view of a replica's master link (AsMaster)
	master bool
	// load: keys added are loaded from a snapshot (Loading)
	load bool
	// hold: hits and misses wait in the shard (HoldingHits)
	hold bool
	// Now is the time, in Unix ms, used for expiry checks.
	Now int64
	// x, when not nil, is the command's Scratch: the object records
	// handed out are tracked there (Track), and it may hold a key's hash
	// the caller already computed (NoteHash)
	x *Scratch
	// by is the command adding keys through this view (WithEvents),
	// handed to the "new" event's hook: one word, with idx an int32
	// packed with the flags, so that a view stays 40 bytes (views are
	// copied with every call: 56 bytes cost a SET 35 instructions)
	by unsafe.Pointer
}

// WithEvents returns the view of a command (by, opaque here: the caller
// and the "new" event's hook agree on its type) for the keys it adds: the
// hook (Hooks.New) gets by, so that the event goes where the command's
// other events go (before its reply for a client subscribed to its own
// events, held back with a script's).
func (db DB) WithEvents(by unsafe.Pointer) DB { db.by = by; return db }

// Loading returns the view a snapshot is loaded through: the keys it adds
// call neither the "new" event's hook nor OnAdded's function, as Redis's
// rdbLoad adds them with dbAddRDBLoad, which notifies and signals nobody.
func (db DB) Loading() DB { db.load = true; return db }

// AsMaster returns the view the commands of a replica's master run with:
// on a replica, keys whose time passed still exist for them (the master
// has not expired them yet; its DEL will come).
func (db DB) AsMaster() DB { db.master = true; return db }

// CountingHits returns the view with keyspace hit/miss counting on, as
// Redis's lookupKeyRead: the executor uses it for read-only commands.
func (db DB) CountingHits() DB { db.hits = true; return db }

// HoldingHits is CountingHits for a script in partial-lock mode, which
// holds the shards it reads: the counts wait in each shard until the
// script commits (Store.CommitHits) or is undone (Store.DropHits), so
// that an attempt stopped for a rerun counts nothing.
func (db DB) HoldingHits() DB { db.hits, db.hold = true, true; return db }

// hit counts a read command's keyspace hit in shard sh.
func (db DB) hit(sh int) {
	if db.hold {
		db.s.shards[sh].heldHits++
		return
	}
	db.s.shards[sh].hits.Add(1)
}

// heldTouch records a read command's access to key, whose record's header
// is hd, through a HoldingHits view: a change of the access field (LRU
// clock or LFU counter, Store.touch) is first handed to the
// Store.OnHeldAccess function, which may keep the field as it is.
func (db DB) heldTouch(hd *recHdr, key []byte) {
	a := db.s.touch(hd.access, db.Now)
	if fn := db.s.heldAccess; a != hd.access && fn != nil && !fn(int(db.idx), key, hd.access, db.by) {
		return
	}
	hd.access = a
}

// Index is the database number.
func (db DB) Index() int { return int(db.idx) }

// Store returns the store this view belongs to.
func (db DB) Store() *Store { return db.s }

func (db DB) locate(key []byte) (*dbShard, uint64, int) {
	var h uint64
	// the hash noted for key (NoteHash), else a fresh one: DB.hash,
	// written out so that locate calls maphash directly
	if x := db.x; x != nil && x.hk == uintptr(unsafe.Pointer(unsafe.SliceData(key))) && x.hn == len(key) {
		h = x.h
	} else {
		h = db.s.Hash(key)
	}
	sh := int(h & (NumShards - 1))
	return db.s.dbShard(sh, int(db.idx)), h, sh
}

// setVolatile records that the key hashed h changed from expiry oldExp to
// newExp (0: none). vol is the shard's count of volatile keys (shard.vol).
func (ds *dbShard) setVolatile(h uint64, oldExp, newExp int64, vol *atomic.Int64) {
	switch {
	case oldExp == 0 && newExp != 0:
		ds.volatile.add(h)
		ds.nvol++
		vol.Add(1)
	case oldExp != 0 && newExp == 0:
		ds.nvol--
		vol.Add(-1)
		ds.dropVolatile(h)
	}
}

// HasVolatile reports, without the shard's lock, whether shard sh holds
// keys with an expiry in any database: active expiry skips the others
// without locking them or reading the clock.
func (s *Store) HasVolatile(sh int) bool { return s.shards[sh].vol.Load() > 0 }

// dropVolatile forgets h as volatile unless another key under h has an
// expiry.
func (ds *dbShard) dropVolatile(h uint64) {
	keep := false
	ds.keys.bucket(h, func(p unsafe.Pointer) bool {
		keep = recExpiry(p) != 0
		return !keep
	})
	if !keep {
		ds.volatile.del(h)
	}
}

// remove deletes record p of the key hashed h, with its accounting.
func (db DB) remove(ds *dbShard, h uint64, sh int, p unsafe.Pointer) {
	exp := recExpiry(p)
	ds.keys.del(h, p)
	if ix := db.s.slots; ix != nil && db.idx == 0 {
		ix.del(h, keyBytes(recKey(p)))
	}
	if hd := hdrOf(p); hd.flags&recObj != 0 {
		hd.flags |= recDead // Remeasure skips it
	}
	if exp != 0 {
		ds.setVolatile(h, exp, 0, &db.s.shards[sh].vol)
	}
	db.s.shards[sh].used.Add(-int64(recSize(p)))
}

func (db DB) expireIfNeeded(ds *dbShard, h uint64, sh int, p unsafe.Pointer) bool {
	if exp := recExpiry(p); exp != 0 && exp <= db.Now {
		if db.s.replaying.Load() {
			return false
		}
		if db.s.replica.Load() { // only once a key's time passed
			if db.master {
				return false
			}
			if db.hits {
				return true // a read: missing, but kept for the master's DEL
			}
		}
		if db.s.Paused() {
			return true // missing, but kept until the pause ends
		}
		k := recKey(p)
		if db.s.newOn.Load()&newAdded != 0 { // clients wait on keys
			db.streamLeft([]byte(k), p, nil)
		}
		db.s.lazyFree(LazyExpire, p)
		db.remove(ds, h, sh, p)
		if db.s.hooks.Expired != nil {
			db.s.hooks.Expired(int(db.idx), k, db.by)
		}
		return true
	}
	return false
}

// live returns key's record, deleting it first if expired.
func (db DB) live(key []byte) (*dbShard, uint64, int, unsafe.Pointer) {
	ds, h, sh := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return ds, h, sh, nil
	}
	// recExpiry's object case inline: a collection without an expiry
	// skips the call
	if hd := hdrOf(p); (hd.flags&recObj == 0 || (*objRec)(p).exp != 0) && db.expireIfNeeded(ds, h, sh, p) {
		return ds, h, sh, nil
	}
	if hdrOf(p).flags&recObj != 0 && db.x != nil && db.x.tracking {
		db.x.track(p, sh)
	}
	return ds, h, sh, p
}

// miss counts a read command's keyspace miss of key in shard sh, and
// calls the Miss hook when it is on.
func (db DB) miss(sh int, key []byte) {
	db.countMiss(sh)
	if db.s.missOn.Load() {
		db.s.hooks.Miss(int(db.idx), key, db.by)
	}
}

// countMiss counts a keyspace miss in shard sh (held back while a lazy
// script attempt may still be undone).
func (db DB) countMiss(sh int) {
	if db.hold {
		db.s.shards[sh].heldMisses++
	} else {
		db.s.shards[sh].misses.Add(1)
	}
}

// read returns key's live record (nil: none), deleting it first if
// expired, and with the view's hit counting counts the hit or the miss;
// keymiss: a miss also sends the "keymiss" event.
func (db DB) read(key []byte, keymiss bool) unsafe.Pointer {
	_, _, sh, p := db.live(key)
	if db.hits {
		switch {
		case p != nil:
			db.hit(sh)
		case keymiss:
			db.miss(sh, key)
		default:
			db.countMiss(sh)
		}
	}
	return p
}

// Lookup returns the live entry for key, deleting it first if expired,
// and records the access for LRU/LFU eviction and OBJECT IDLETIME/FREQ.
func (db DB) Lookup(key []byte) (Entry, bool) {
	p := db.read(key, true)
	if p == nil {
		return Entry{}, false
	}
	if h := hdrOf(p); db.hold {
		db.heldTouch(h, key)
	} else {
		h.access = db.s.touch(h.access, db.Now)
	}
	return entryOf(p), true
}

// LookupNoTouch is Lookup without recording the access (Redis's
// LOOKUP_NOTOUCH, as EXISTS and TYPE use it): hits, misses and the keymiss
// event as Lookup, the LRU clock and LFU counter untouched.
func (db DB) LookupNoTouch(key []byte) (Entry, bool) {
	if p := db.read(key, true); p != nil {
		return entryOf(p), true
	}
	return Entry{}, false
}

// Inspect is Lookup for OBJECT (Redis's objectCommandLookup: LOOKUP_NOTOUCH
// and LOOKUP_NONOTIFY): a read command's hit or miss is counted, but the
// access is not recorded and a miss is no "keymiss" event.
func (db DB) Inspect(key []byte) (Entry, bool) {
	if p := db.read(key, false); p != nil {
		return entryOf(p), true
	}
	return Entry{}, false
}

// Peek is Lookup without recording an access (OBJECT, DEBUG, no-touch
// clients).
func (db DB) Peek(key []byte) (Entry, bool) {
	_, _, _, p := db.live(key)
	if p == nil {
		return Entry{}, false
	}
	return entryOf(p), true
}

// Get returns key's value, or nil when it does not exist. A string comes
// back as a []byte (boxing it allocates: use GetString on hot paths).
func (db DB) Get(key []byte) any {
	_, _, sh, p := db.live(key)
	if p == nil {
		if db.hits {
			db.miss(sh, key)
		}
		return nil
	}
	if db.hits {
		db.hit(sh)
	}
	hd := hdrOf(p)
	if db.hold {
		db.heldTouch(hd, key)
	} else {
		hd.access = db.s.touch(hd.access, db.Now)
	}
	if hd.flags&recObj != 0 {
		return (*objRec)(p).val // Lookup's entry without decoding it
	}
	return entryOf(p).Value()
}

// Present reports whether key exists and its time has not passed,
// without deleting it when it has (Redis's LOOKUP_NOEXPIRE: cluster
// routing checks keys of a migrating slot without a deletion to
// propagate). No access, hit or miss is recorded.
func (db DB) Present(key []byte) bool {
	ds, h, _ := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return false
	}
	if exp := recExpiry(p); exp != 0 && exp <= db.Now {
		// valid while loading, and for a replica's master
		return db.s.replaying.Load() || (db.s.replica.Load() && db.master)
	}
	return true
}

// Exists reports whether key exists.
func (db DB) Exists(key []byte) bool {
	_, ok := db.Lookup(key)
	return ok
}

// Set stores val at key with expiry exp (0: none). A []byte value is
// copied with its spare capacity (which OBJECT ENCODING reads as "raw");
// other values are stored as they are.
func (db DB) Set(key []byte, val any, exp int64) {
	if b, ok := val.([]byte); ok {
		db.put(key, nil, b, exp)
		return
	}
	db.put(key, val, nil, exp)
}

// SetString stores a copy of the string v at key with expiry exp (0: none),
// without v's spare capacity: v may alias a connection's read buffer.
func (db DB) SetString(key, v []byte, exp int64) {
	db.put(key, nil, v[:len(v):len(v)], exp)
}

// SetStringCond is SET's lookup and store in one pass over the table: it
// looks key up for writing (an expired key is deleted first, as Exists
// does, and an existing key's access is recorded once), reports whether
// it existed, and stores a copy of v with expiry exp unless nx and it
// existed, or xx and it did not. It is Exists then SetString with one hash
// and one table lookup instead of two. A string of v's length with an
// expiry field exactly when exp is set is overwritten in place (no
// allocation; value bytes read earlier from it change: see record.go).
func (db DB) SetStringCond(key, v []byte, exp int64, nx, xx bool) (found, stored bool) {
	ds, h, sh, old := db.live(key)
	found = old != nil
	var access uint32
	var oldSize uint32
	var oldExp int64
	if found {
		access = db.s.touch(hdrOf(old).access, db.Now)
		if nx {
			hdrOf(old).access = access
			return true, false
		}
		if overwriteStr(old, access, v, exp, db.s.ownFlag()) {
			return true, true
		}
		oldSize = recSize(old)
		oldExp = recExpiry(old)
		db.streamLeft(key, old, nil)
		db.overwritten(old, nil)
	} else if xx {
		return false, false
	} else {
		access = db.s.newAccess(db.Now)
	}
	db.store(ds, h, sh, key, old, oldSize, oldExp, newStrRec(access, key, v[:len(v):len(v)], exp, db.s.ownFlag()))
	return found, true
}

// put stores val, or the string str when val is nil.
func (db DB) put(key []byte, val any, str []byte, exp int64) {
	ds, h, sh := db.locate(key)
	old := ds.keys.get(h, key)
	// Redis's setKey looks the key up for writing first: an expired one is
	// deleted (its "expired" event) and the value is a new key ("new")
	if old != nil && db.expireIfNeeded(ds, h, sh, old) {
		old = nil
	}
	access := db.s.newAccess(db.Now)
	var oldSize uint32
	var oldExp int64
	if old != nil {
		access = db.s.touch(hdrOf(old).access, db.Now)
		oldSize = recSize(old)
		oldExp = recExpiry(old)
		db.streamLeft(key, old, val)
		db.overwritten(old, val)
	}
	db.store(ds, h, sh, key, old, oldSize, oldExp, db.newRec(key, old, val, str, exp, access))
}

// newRec returns a record for key holding val, or str when val is nil. The
// key string of an old object record is reused.
func (db DB) newRec(key []byte, old unsafe.Pointer, val any, str []byte, exp int64, access uint32) unsafe.Pointer {
	if val == nil {
		return newStrRec(access, key, str, exp, db.s.ownFlag())
	}
	var k string
	if old != nil && hdrOf(old).flags&recObj != 0 {
		k = (*objRec)(old).key
	} else {
		k = string(key)
	}
	return newObjRec(access, k, val, exp, entrySizeLen(len(key), val))
}

func (db DB) store(ds *dbShard, h uint64, sh int, key []byte, old unsafe.Pointer, oldSize uint32, oldExp int64, p unsafe.Pointer) {
	ds.keys.set(h, key, old, p)
	if old == nil {
		if f := db.s.newOn.Load(); f != 0 {
			db.keyAdded(f, ds, h, key, p)
		}
	}
	if old != nil && old != p && hdrOf(old).flags&recObj != 0 {
		hdrOf(old).flags |= recDead // replaced: Remeasure skips it
	}
	if hd := hdrOf(p); hd.flags&recObj != 0 {
		hd.flags &^= recDead // back in a table (MOVE...)
		if db.x != nil && db.x.tracking {
			db.x.track(p, sh)
		}
	}
	if d := int64(recSize(p)) - int64(oldSize); d != 0 {
		db.s.shards[sh].used.Add(d)
	}
	ds.setVolatile(h, oldExp, recExpiry(p), &db.s.shards[sh].vol)
}

// SetKeepTTL stores val at key, keeping its current expiry if any.
func (db DB) SetKeepTTL(key []byte, val any) {
	if ds, h, sh, p := db.live(key); p != nil {
		db.replace(ds, h, sh, key, p, val)
		return
	}
	db.Set(key, val, 0)
}

// SetStringKeepTTL stores a copy of the string v at key (without v's
// spare capacity, as SetString), keeping its current expiry if any: it is
// SetKeepTTL for a string without boxing v, and v does not escape.
func (db DB) SetStringKeepTTL(key, v []byte) {
	v = v[:len(v):len(v)]
	ds, h, sh, p := db.live(key)
	if p == nil {
		db.put(key, nil, v, 0)
		return
	}
	oldSize, exp := recSize(p), recExpiry(p)
	hd := hdrOf(p)
	access := db.s.touch(hd.access, db.Now)
	hd.access = access
	db.streamLeft(key, p, nil)
	db.overwritten(p, nil)
	db.store(ds, h, sh, key, p, oldSize, exp, newStrRec(access, key, v, exp, db.s.ownFlag()))
}

// StrSlot is where GetStringSlot found a key, for SetStringKeepTTLAt:
// a read-modify-write (INCR) looks its key up once. It is valid while the
// caller holds the key's shard and changes nothing else in the database.
type StrSlot struct {
	ds *dbShard
	h  uint64
	sh int
	p  unsafe.Pointer // nil: no live key
}

// GetStringSlot is GetString that also returns the key's slot.
func (db DB) GetStringSlot(key []byte) ([]byte, StrSlot, bool, error) {
	ds, h, sh, p := db.live(key)
	slot := StrSlot{ds, h, sh, p}
	if p == nil {
		if db.hits {
			db.miss(sh, key)
		}
		return nil, slot, false, nil
	}
	if db.hits {
		db.hit(sh)
	}
	hd := hdrOf(p)
	if db.hold {
		db.heldTouch(hd, key)
	} else {
		hd.access = db.s.touch(hd.access, db.Now)
	}
	if hd.flags&recObj != 0 {
		return nil, slot, true, ErrWrongType
	}
	return strValue(p, decodeStr(p)), slot, true, nil
}

// SetStringKeepTTLAt is SetStringKeepTTL for the key GetStringSlot found
// at slot. A string of v's length is overwritten in place, as
// SetStringCond does (value bytes read earlier from it change: the caller
// must be done with the value GetStringSlot returned).
func (db DB) SetStringKeepTTLAt(slot StrSlot, key, v []byte) {
	p := slot.p
	if p == nil {
		db.SetStringKeepTTL(key, v)
		return
	}
	v = v[:len(v):len(v)]
	exp := recExpiry(p)
	hd := hdrOf(p)
	// GetStringSlot recorded the access already: one more would count
	// INCR twice in the LFU counter (Redis: lookupKeyWrite's only)
	access := hd.access
	if overwriteStr(p, access, v, exp, db.s.ownFlag()) {
		return // INCR of a value that keeps its length: no allocation
	}
	oldSize := recSize(p)
	hd.access = access
	db.store(slot.ds, slot.h, slot.sh, key, p, oldSize, exp, newStrRec(access, key, v, exp, db.s.ownFlag()))
}

// SetAccess sets key's access field (LRU clock or LFU counter) to a,
// without counting an access: as Redis keeps an object's lru when it moves
// to another key (RENAME, MOVE), or sets it from RESTORE's or an RDB's
// IDLE/FREQ. It reports whether key exists.
func (db DB) SetAccess(key []byte, a uint32) bool {
	ds, h, _ := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return false
	}
	hdrOf(p).access = a
	return true
}

// MarkEmbstr marks key's string value as one that OBJECT ENCODING reports
// "embstr" even when it reads as an integer (Entry.Embstr). The mark stays
// with the value (expiry changes keep it) until the key is written again.
// It is a no-op when key does not hold a string.
func (db DB) MarkEmbstr(key []byte) {
	ds, h, _ := db.locate(key)
	if p := ds.keys.get(h, key); p != nil && hdrOf(p).flags&recObj == 0 {
		hdrOf(p).flags |= recEmb
	}
}

// MarkUnshared marks key's string value as one Redis holds in an object
// of its own, never a shared integer (Entry.Unshared): COPY duplicates
// the object. The mark stays with the value until the key is written
// again. It is a no-op when key does not hold a string.
func (db DB) MarkUnshared(key []byte) {
	ds, h, _ := db.locate(key)
	if p := ds.keys.get(h, key); p != nil && hdrOf(p).flags&recObj == 0 {
		hdrOf(p).flags |= recOwn
	}
}

// Update replaces the value of an existing live key, keeping its expiry.
// It is a no-op when key does not exist.
func (db DB) Update(key []byte, val any) {
	ds, h, sh := db.locate(key)
	if p := ds.keys.get(h, key); p != nil {
		db.replace(ds, h, sh, key, p, val)
	}
}

// replace stores val in place of key's record p, keeping its expiry and
// its access field: its callers (APPEND, SETRANGE, INCRBYFLOAT, SET
// KEEPTTL, SETBIT, PFADD...) looked the key up first, which recorded the
// access, as Redis's dbSetValue keeps the old object's LFU data.
func (db DB) replace(ds *dbShard, h uint64, sh int, key []byte, p unsafe.Pointer, val any) {
	db.streamLeft(key, p, val)
	oldSize := recSize(p)
	exp := recExpiry(p)
	hd := hdrOf(p)
	access := hd.access
	if v, ok := val.([]byte); ok && hd.flags&recObj == 0 {
		r := decodeStr(p)
		if old := strValue(p, r); r.vcap > 0 && cap(v) == r.vcap && unsafe.SliceData(v) == unsafe.SliceData(old) &&
			(len(v) == r.vlen || r.lenOff != 0) {
			// the value changed in place, or grown in its spare capacity
			// (APPEND): only a raw value's length changes, and Redis
			// no longer keeps it as INCRBYFLOAT stored it
			hd.flags &^= recEmb
			if r.lenOff != 0 {
				binary.LittleEndian.PutUint32(recBytes(p, r.lenOff, 4), uint32(len(v)))
			}
			return
		}
	}
	if hd.flags&recObj != 0 {
		if _, isStr := val.([]byte); !isStr {
			o := (*objRec)(p)
			o.val = val
			o.size = entrySizeLen(len(key), val)
			db.s.shards[sh].used.Add(int64(o.size) - int64(oldSize))
			if db.x != nil && db.x.tracking {
				db.x.track(p, sh) // val may change further
			}
			return
		}
	}
	db.overwritten(p, val)
	var np unsafe.Pointer
	if b, ok := val.([]byte); ok {
		np = db.newRec(key, p, nil, b, exp, access)
	} else {
		np = db.newRec(key, p, val, nil, exp, access)
	}
	db.store(ds, h, sh, key, p, oldSize, exp, np)
}

// Resized re-measures key's value after a handler changed it in place (a
// list grown by LPUSH...), for memory accounting, looking the key up by
// name: the fallback of Remeasure, which measures the records it tracked
// without a lookup.
func (db DB) Resized(key []byte) {
	ds, h, sh := db.locate(key)
	if p := ds.keys.get(h, key); p != nil && hdrOf(p).flags&recObj != 0 {
		o := (*objRec)(p)
		old := o.size
		o.size = entrySizeLen(len(key), o.val)
		db.s.shards[sh].used.Add(int64(o.size) - int64(old))
	}
}

// Delete removes key; it reports whether a live key was removed.
func (db DB) Delete(key []byte) bool {
	ds, h, sh, p := db.live(key)
	if p == nil {
		return false
	}
	db.streamLeft(key, p, nil)
	db.remove(ds, h, sh, p)
	return true
}

// DeleteStored removes what is stored at key, whatever its expiry, as
// Redis's dbDelete: a store command whose result is empty deletes its
// destination this way, so an expired key not yet reclaimed is deleted
// (the command's "del"), not expired; its value is freed as dbDelete's,
// lazily under LazyServerDel. It reports whether a key was there.
func (db DB) DeleteStored(key []byte) bool {
	ds, h, sh := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return false
	}
	db.s.lazyFree(LazyServerDel, p)
	db.streamLeft(key, p, nil)
	db.remove(ds, h, sh, p)
	return true
}

// SetExpire sets an existing key's absolute expiry (0 removes it). It
// reports whether the key exists.
func (db DB) SetExpire(key []byte, exp int64) bool {
	ds, h, sh, p := db.live(key)
	if p == nil {
		return false
	}
	oldExp := recExpiry(p)
	np := setRecExpiry(p, exp)
	if np != p {
		db.store(ds, h, sh, key, p, recSize(p), oldExp, np)
	} else {
		ds.setVolatile(h, oldExp, exp, &db.s.shards[sh].vol)
	}
	return true
}

// ExpirySlot is Lookup for the expire commands: it reports whether key
// has a live value (recording the access as Lookup does), its expiry (0:
// none) and its slot, where SetExpireAt then writes a new expiry without
// a second lookup. The slot is valid as StrSlot's, for a value of any type.
func (db DB) ExpirySlot(key []byte) (int64, StrSlot, bool) {
	ds, h, sh, p := db.live(key)
	slot := StrSlot{ds, h, sh, p}
	if p == nil {
		if db.hits {
			db.miss(sh, key)
		}
		return 0, slot, false
	}
	if db.hits {
		db.hit(sh)
	}
	hd := hdrOf(p)
	if db.hold {
		db.heldTouch(hd, key)
	} else {
		hd.access = db.s.touch(hd.access, db.Now)
	}
	return recExpiry(p), slot, true
}

// SetExpireAt is SetExpire for the key ExpirySlot found at slot (a slot
// without a live key: no change, false).
func (db DB) SetExpireAt(slot StrSlot, key []byte, exp int64) bool {
	p := slot.p
	if p == nil {
		return false
	}
	oldExp := recExpiry(p)
	np := setRecExpiry(p, exp)
	if np != p {
		db.store(slot.ds, slot.h, slot.sh, key, p, recSize(p), oldExp, np)
	} else {
		slot.ds.setVolatile(slot.h, oldExp, exp, &db.s.shards[slot.sh].vol)
	}
	return true
}

// Size returns the number of keys (including expired keys not yet
// reclaimed, as Redis's DBSIZE does). Requires LockAll.
func (db DB) Size() int {
	n := 0
	for i := range db.s.shards {
		n += db.s.shards[i].dbs[db.idx].keys.n
	}
	return n
}

// Volatile returns the number of keys with an expiry. Requires LockAll.
func (db DB) Volatile() int {
	n := 0
	for i := range db.s.shards {
		n += db.s.shards[i].dbs[db.idx].nvol
	}
	return n
}

// Flush empties the database. Requires LockAll.
func (db DB) Flush() {
	for i := range db.s.shards {
		var n int64
		db.s.shards[i].dbs[db.idx].keys.each(func(_ uint64, p unsafe.Pointer) bool {
			n += int64(recSize(p))
			return true
		})
		db.s.shards[i].used.Add(-n)
		db.s.shards[i].vol.Add(-int64(db.s.shards[i].dbs[db.idx].nvol))
		db.s.shards[i].dbs[db.idx] = dbShard{}
	}
	if db.idx == 0 {
		db.s.rebuildSlots()
	}
}

// ForEach calls fn for each live key until fn returns false. Requires LockAll.
func (db DB) ForEach(fn func(key string, e Entry) bool) {
	for i := range db.s.shards {
		more := true
		db.s.shards[i].dbs[db.idx].keys.each(func(_ uint64, p unsafe.Pointer) bool {
			if exp := recExpiry(p); exp != 0 && exp <= db.Now {
				return true
			}
			more = fn(recKey(p), entryOf(p))
			return more
		})
		if !more {
			return
		}
	}
}

// ForEachStored is ForEach over every stored key, including logically
// expired ones not reclaimed yet (DEBUG DIGEST, which Redis computes over
// its dictionaries). Requires LockAll.
func (db DB) ForEachStored(fn func(key string, e Entry) bool) {
	for i := range db.s.shards {
		more := true
		db.s.shards[i].dbs[db.idx].keys.each(func(_ uint64, p unsafe.Pointer) bool {
			more = fn(recKey(p), entryOf(p))
			return more
		})
		if !more {
			return
		}
	}
}

// PeekStored returns key's entry even when it is logically expired (not
// reclaimed yet), without recording an access or deleting it (DEBUG
// DIGEST-VALUE, DEBUG OBJECT and MEMORY USAGE, which Redis serves from the
// dictionary directly).
func (db DB) PeekStored(key []byte) (Entry, bool) {
	ds, h, _ := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return Entry{}, false
	}
	return entryOf(p), true
}

// RandomKey returns a random live key, or "" and false. As Redis's
// dbRandomKey, an expired key it picks is reclaimed (the Expired hook) and
// another one is picked; a replica, which keeps expired keys for its
// master's DEL (or a server whose clients are paused), gives up picking
// after 100 of them and walks the keys.
// Requires LockAll.
func (db DB) RandomKey() (string, bool) {
	for tries := 0; tries < 100; tries++ {
		total := db.Size()
		if total == 0 {
			return "", false
		}
		n := rand.IntN(total)
		for i := range db.s.shards {
			ds := &db.s.shards[i].dbs[db.idx]
			if n >= ds.keys.n {
				n -= ds.keys.n
				continue
			}
			var rec unsafe.Pointer
			var h uint64
			ds.keys.each(func(hh uint64, p unsafe.Pointer) bool {
				if n > 0 {
					n--
					return true
				}
				rec, h = p, hh
				return false
			})
			if rec != nil && !db.expireIfNeeded(ds, h, i, rec) {
				return recKey(rec), true
			}
			break
		}
	}
	// a replica's expired keys, or expired keys kept during a client
	// pause: fall back to a walk, for a live key, else (every key's time
	// passed) one of them, as Redis's dbRandomKey gives up on a replica
	// (and, in later versions, during a pause) rather than loop forever
	var out string
	found := false
	db.ForEach(func(k string, _ Entry) bool { out, found = k, true; return false })
	if !found {
		db.ForEachStored(func(k string, _ Entry) bool { out, found = k, true; return false })
	}
	return out, found
}

// scanOrder maps a key hash to its position in SCAN order: shard first, then
// the remaining hash bits. Positions are stable while the key exists.
func scanOrder(h uint64) uint64 {
	return (h&(NumShards-1))<<56 | (h>>8)&(1<<56-1)
}

// Scan returns the live keys of one SCAN step from cursor (about count
// positions visited) and the next cursor (0: done); a key present for the
// whole scan is always returned. As Redis's
// scanGenericCommand, a key that passes match (nil: any) is then checked:
// with typ (SCAN TYPE) it is looked up as a read (a keyspace hit, or for
// an expired key a miss, with the view's hit counting) and kept only if
// typ accepts it; an expired key is reclaimed as an access would (the
// Expired hook: its DEL propagated, its event sent) and left out. Keys
// match refuses are not touched. Requires LockAll.
func (db DB) Scan(cursor uint64, count int, match func(key string) bool, typ func(e Entry) bool) ([]string, uint64) {
	if count < 1 {
		count = 10
	}
	type item struct {
		pos, h uint64
		rec    unsafe.Pointer
	}
	var out []string
	sh := int(cursor >> 56)
	for ; sh < NumShards; sh++ {
		var items []item
		ds := &db.s.shards[sh].dbs[db.idx]
		ds.keys.each(func(h uint64, p unsafe.Pointer) bool {
			if pos := scanOrder(h); pos >= cursor {
				items = append(items, item{pos, h, p})
			}
			return true
		})
		sort.Slice(items, func(i, j int) bool { return items[i].pos < items[j].pos })
		for i := 0; i < len(items); i++ {
			it := items[i]
			if k := recKey(it.rec); match == nil || match(k) {
				expired := db.expireIfNeeded(ds, it.h, sh, it.rec)
				switch {
				case typ != nil && expired:
					if db.hits {
						db.miss(sh, []byte(k))
					}
				case typ != nil:
					if db.hits {
						db.hit(sh)
					}
					if typ(entryOf(it.rec)) {
						out = append(out, k)
					}
				case !expired:
					out = append(out, k)
				}
			}
			count--
			// stop only between distinct positions
			if count <= 0 && (i+1 == len(items) || items[i+1].pos != it.pos) {
				next := it.pos + 1
				if i+1 == len(items) {
					if sh+1 >= NumShards {
						return out, 0
					}
					next = uint64(sh+1) << 56
				}
				return out, next
			}
		}
		cursor = uint64(sh+1) << 56
	}
	return out, 0
}

// ActiveExpire samples keys with an expiry in one shard and deletes the
// expired ones, returning how many were sampled and deleted. The caller
// holds that shard's lock.
func (s *Store) ActiveExpire(sh, db int, now int64, sample int) (sampled, expired int) {
	ds := s.dbShard(sh, db)
	v := DB{s: s, idx: int32(db), Now: now}
	// from where the previous call stopped (Redis's expires cursor)
	ds.volCursor = ds.volatile.each(ds.volCursor, func(h uint64) bool {
		if sampled >= sample {
			return false
		}
		sampled++
		var dead []unsafe.Pointer
		volatile := false // a key under h has an expiry
		ds.keys.bucket(h, func(p unsafe.Pointer) bool {
			if exp := recExpiry(p); exp != 0 {
				volatile = true
				if exp <= now {
					dead = append(dead, p)
				}
			}
			return true
		})
		if !volatile {
			ds.volatile.del(h) // a stale hash after a collision
		}
		for _, p := range dead {
			if v.expireIfNeeded(ds, h, sh, p) {
				expired++
			}
		}
		return true
	})
	return
}

// LockShard locks a single shard under a shared global hold.
func (s *Store) LockShard(sh int) {
	s.global.RLock()
	s.shards[sh].mu.Lock()
	s.beforeAccess(sh)
}

// UnlockShard releases LockShard.
func (s *Store) UnlockShard(sh int) {
	s.shards[sh].mu.Unlock()
	s.global.RUnlock()
}
