package keyspace

import (
	"math/rand/v2"
	"sort"
	"unsafe"
)

// DB is a view of one database at a fixed time. Its methods require the
// caller to hold the locks of the shards it touches.
type DB struct {
	s   *Store
	idx int
	// Now is the time, in Unix ms, used for expiry checks.
	Now int64
	// hits: Lookup counts keyspace hits and misses (read commands).
	hits bool
}

// CountingHits returns the view with keyspace hit/miss counting on, as
// Redis's lookupKeyRead: the executor uses it for read-only commands.
func (db DB) CountingHits() DB { db.hits = true; return db }

// Index is the database number.
func (db DB) Index() int { return db.idx }

// Store returns the store this view belongs to.
func (db DB) Store() *Store { return db.s }

func (db DB) shardFor(key []byte) *dbShard {
	return db.s.dbShard(db.s.ShardOf(key), db.idx)
}

func (db DB) shardForString(key string) *dbShard {
	return db.s.dbShard(int(db.s.HashString(key)&(NumShards-1)), db.idx)
}

func (db DB) expireIfNeeded(ds *dbShard, key []byte, p unsafe.Pointer) bool {
	if exp := recExpiry(p); exp != 0 && exp <= db.Now {
		k := string(key)
		delete(ds.keys, k)
		delete(ds.volatile, k)
		db.account(key, -int64(recSize(p, len(key))))
		if db.s.hooks.Expired != nil {
			db.s.hooks.Expired(db.idx, k)
		}
		return true
	}
	return false
}

// live returns key's record, deleting it first if expired.
func (db DB) live(ds *dbShard, key []byte) (unsafe.Pointer, bool) {
	p, ok := ds.keys[string(key)]
	if !ok || db.expireIfNeeded(ds, key, p) {
		return nil, false
	}
	return p, true
}

// Lookup returns the live entry for key, deleting it first if expired,
// and records the access for LRU/LFU eviction and OBJECT IDLETIME/FREQ.
func (db DB) Lookup(key []byte) (Entry, bool) {
	sh := db.s.ShardOf(key)
	ds := db.s.dbShard(sh, db.idx)
	p, ok := db.live(ds, key)
	if !ok {
		if db.hits {
			db.s.shards[sh].misses.Add(1)
		}
		return Entry{}, false
	}
	if db.hits {
		db.s.shards[sh].hits.Add(1)
	}
	h := hdrOf(p)
	h.access = db.s.touch(h.access, db.Now)
	return entryOf(p, len(key)), true
}

// Peek is Lookup without recording an access (OBJECT, DEBUG, no-touch
// clients).
func (db DB) Peek(key []byte) (Entry, bool) {
	ds := db.shardFor(key)
	p, ok := db.live(ds, key)
	if !ok {
		return Entry{}, false
	}
	return entryOf(p, len(key)), true
}

// Get returns key's value, or nil when it does not exist. A string comes
// back as a []byte (boxing it allocates: use GetString on hot paths).
func (db DB) Get(key []byte) any {
	e, _ := db.Lookup(key)
	return e.Value()
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

// put stores val, or the string str when val is nil.
func (db DB) put(key []byte, val any, str []byte, exp int64) {
	ds := db.shardFor(key)
	if ds.keys == nil {
		ds.keys = make(map[string]unsafe.Pointer)
	}
	old, had := ds.keys[string(key)]
	access := db.s.newAccess(db.Now)
	var oldSize uint32
	if had {
		access = db.s.touch(hdrOf(old).access, db.Now)
		oldSize = recSize(old, len(key))
	}
	var p unsafe.Pointer
	if val == nil {
		p = newStrRec(access, str, exp)
	} else {
		p = newObjRec(access, val, exp, entrySizeLen(len(key), val))
	}
	k := string(key)
	ds.keys[k] = p
	db.account(key, int64(recSize(p, len(key)))-int64(oldSize))
	if exp != 0 {
		if ds.volatile == nil {
			ds.volatile = make(map[string]struct{})
		}
		ds.volatile[k] = struct{}{}
	} else if len(ds.volatile) > 0 {
		delete(ds.volatile, k)
	}
}

// SetKeepTTL stores val at key, keeping its current expiry if any.
func (db DB) SetKeepTTL(key []byte, val any) {
	ds := db.shardFor(key)
	if p, ok := db.live(ds, key); ok {
		db.replace(ds, key, p, val)
		return
	}
	db.Set(key, val, 0)
}

// Update replaces the value of an existing live key, keeping its expiry.
// It is a no-op when key does not exist.
func (db DB) Update(key []byte, val any) {
	ds := db.shardFor(key)
	if p, ok := ds.keys[string(key)]; ok {
		db.replace(ds, key, p, val)
	}
}

// replace stores val in place of key's record p, keeping its expiry.
func (db DB) replace(ds *dbShard, key []byte, p unsafe.Pointer, val any) {
	oldSize := recSize(p, len(key))
	h := hdrOf(p)
	access := db.s.touch(h.access, db.Now)
	np := p
	switch v := val.(type) {
	case []byte:
		if h.flags&recObj == 0 && sameStorage(recStr(p), v) {
			// the value grown in place in its spare capacity (APPEND) or
			// changed in place: only the length changes
			h.n = uint32(len(v))
		} else {
			np = newStrRec(access, v, recExpiry(p))
		}
	default:
		if h.flags&recObj != 0 {
			o := (*objRec)(p)
			o.val = val
			o.size = entrySizeLen(len(key), val)
		} else {
			np = newObjRec(access, val, recExpiry(p), entrySizeLen(len(key), val))
		}
	}
	hdrOf(np).access = access
	if np != p {
		ds.keys[string(key)] = np
	}
	db.account(key, int64(recSize(np, len(key)))-int64(oldSize))
}

// sameStorage reports whether v is old's storage with the same capacity.
func sameStorage(old, v []byte) bool {
	return cap(old) > 0 && cap(v) == cap(old) && unsafe.SliceData(v) == unsafe.SliceData(old)
}

// Resized re-measures key's value after a handler changed it in place (a
// list grown by LPUSH...), for memory accounting.
func (db DB) Resized(key []byte) {
	ds := db.shardFor(key)
	if p, ok := ds.keys[string(key)]; ok && hdrOf(p).flags&recObj != 0 {
		o := (*objRec)(p)
		old := o.size
		o.size = entrySizeLen(len(key), o.val)
		o.access = db.s.touch(o.access, db.Now)
		db.account(key, int64(o.size)-int64(old))
	}
}

func (db DB) account(key []byte, delta int64) {
	if delta != 0 {
		db.s.shards[db.s.ShardOf(key)].used.Add(delta)
	}
}

// Delete removes key; it reports whether a live key was removed.
func (db DB) Delete(key []byte) bool {
	ds := db.shardFor(key)
	p, ok := db.live(ds, key)
	if !ok {
		return false
	}
	delete(ds.keys, string(key))
	if recExpiry(p) != 0 {
		delete(ds.volatile, string(key))
	}
	db.account(key, -int64(recSize(p, len(key))))
	return true
}

// SetExpire sets an existing key's absolute expiry (0 removes it). It
// reports whether the key exists.
func (db DB) SetExpire(key []byte, exp int64) bool {
	ds := db.shardFor(key)
	p, ok := db.live(ds, key)
	if !ok {
		return false
	}
	oldSize := recSize(p, len(key))
	np := setRecExpiry(p, exp)
	k := string(key)
	if np != p {
		ds.keys[k] = np
		db.account(key, int64(recSize(np, len(key)))-int64(oldSize))
	}
	if exp != 0 {
		if ds.volatile == nil {
			ds.volatile = make(map[string]struct{})
		}
		ds.volatile[k] = struct{}{}
	} else {
		delete(ds.volatile, k)
	}
	return true
}

// Size returns the number of keys (including expired keys not yet
// reclaimed, as Redis's DBSIZE does). Requires LockAll.
func (db DB) Size() int {
	n := 0
	for i := range db.s.shards {
		n += len(db.s.shards[i].dbs[db.idx].keys)
	}
	return n
}

// Volatile returns the number of keys with an expiry. Requires LockAll.
func (db DB) Volatile() int {
	n := 0
	for i := range db.s.shards {
		n += len(db.s.shards[i].dbs[db.idx].volatile)
	}
	return n
}

// Flush empties the database. Requires LockAll.
func (db DB) Flush() {
	for i := range db.s.shards {
		var n int64
		for k, p := range db.s.shards[i].dbs[db.idx].keys {
			n += int64(recSize(p, len(k)))
		}
		db.s.shards[i].used.Add(-n)
		db.s.shards[i].dbs[db.idx] = dbShard{}
	}
}

// ForEach calls fn for each live key until fn returns false. Requires LockAll.
func (db DB) ForEach(fn func(key string, e Entry) bool) {
	for i := range db.s.shards {
		for k, p := range db.s.shards[i].dbs[db.idx].keys {
			if exp := recExpiry(p); exp != 0 && exp <= db.Now {
				continue
			}
			if !fn(k, entryOf(p, len(k))) {
				return
			}
		}
	}
}

// RandomKey returns a random live key, or "" and false. Requires LockAll.
func (db DB) RandomKey() (string, bool) {
	total := db.Size()
	if total == 0 {
		return "", false
	}
	for tries := 0; tries < 100; tries++ {
		n := rand.IntN(total)
		for i := range db.s.shards {
			m := db.s.shards[i].dbs[db.idx].keys
			if n >= len(m) {
				n -= len(m)
				continue
			}
			for k, p := range m {
				if n == 0 {
					if exp := recExpiry(p); exp != 0 && exp <= db.Now {
						break
					}
					return k, true
				}
				n--
			}
			break
		}
	}
	// mostly expired keys: fall back to a walk
	var out string
	found := false
	db.ForEach(func(k string, _ Entry) bool { out, found = k, true; return false })
	return out, found
}

// scanOrder maps a key hash to its position in SCAN order: shard first, then
// the remaining hash bits. Positions are stable while the key exists.
func scanOrder(h uint64) uint64 {
	return (h&(NumShards-1))<<56 | (h>>8)&(1<<56-1)
}

// Scan returns up to about count live keys whose scan position is at or
// after cursor, accepted by filter (nil: all), and the cursor to continue
// from (0 when done). A key present for the whole scan is always returned.
// Requires LockAll.
func (db DB) Scan(cursor uint64, count int, filter func(key string, e Entry) bool) ([]string, uint64) {
	if count < 1 {
		count = 10
	}
	type item struct {
		pos uint64
		key string
	}
	var out []string
	sh := int(cursor >> 56)
	for ; sh < NumShards; sh++ {
		m := db.s.shards[sh].dbs[db.idx].keys
		var items []item
		for k := range m {
			p := scanOrder(db.s.HashString(k))
			if p >= cursor {
				items = append(items, item{p, k})
			}
		}
		sort.Slice(items, func(i, j int) bool { return items[i].pos < items[j].pos })
		for i := 0; i < len(items); i++ {
			it := items[i]
			p := m[it.key]
			if exp := recExpiry(p); !(exp != 0 && exp <= db.Now) && (filter == nil || filter(it.key, entryOf(p, len(it.key)))) {
				out = append(out, it.key)
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
	for k := range ds.volatile {
		if sampled >= sample {
			break
		}
		sampled++
		p := ds.keys[k]
		if p == nil {
			continue
		}
		if exp := recExpiry(p); exp != 0 && exp <= now {
			delete(ds.keys, k)
			delete(ds.volatile, k)
			s.shards[sh].used.Add(-int64(recSize(p, len(k))))
			expired++
			if s.hooks.Expired != nil {
				s.hooks.Expired(db, k)
			}
		}
	}
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
