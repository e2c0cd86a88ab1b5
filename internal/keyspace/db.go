package keyspace

import (
	"math/rand/v2"
	"sort"
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

func (db DB) expireIfNeeded(ds *dbShard, key []byte, e Entry) bool {
	if e.Exp != 0 && e.Exp <= db.Now {
		k := string(key)
		delete(ds.keys, k)
		delete(ds.volatile, k)
		db.account(key, -int64(e.size))
		if db.s.hooks.Expired != nil {
			db.s.hooks.Expired(db.idx, k)
		}
		return true
	}
	return false
}

// Lookup returns the live entry for key, deleting it first if expired,
// and records the access for LRU/LFU eviction and OBJECT IDLETIME/FREQ.
func (db DB) Lookup(key []byte) (Entry, bool) {
	sh := db.s.ShardOf(key)
	ds := db.s.dbShard(sh, db.idx)
	e, ok := ds.keys[string(key)]
	if !ok || db.expireIfNeeded(ds, key, e) {
		if db.hits {
			db.s.shards[sh].misses.Add(1)
		}
		return Entry{}, false
	}
	if db.hits {
		db.s.shards[sh].hits.Add(1)
	}
	if a := db.s.touch(e.Access, db.Now); a != e.Access {
		e.Access = a
		ds.keys[string(key)] = e
	}
	return e, true
}

// Peek is Lookup without recording an access (OBJECT, DEBUG, no-touch
// clients).
func (db DB) Peek(key []byte) (Entry, bool) {
	ds := db.shardFor(key)
	e, ok := ds.keys[string(key)]
	if !ok || db.expireIfNeeded(ds, key, e) {
		return Entry{}, false
	}
	return e, true
}

// Get returns key's value, or nil when it does not exist.
func (db DB) Get(key []byte) any {
	e, _ := db.Lookup(key)
	return e.Val
}

// Exists reports whether key exists.
func (db DB) Exists(key []byte) bool {
	_, ok := db.Lookup(key)
	return ok
}

// Set stores val at key with expiry exp (0: none).
func (db DB) Set(key []byte, val any, exp int64) {
	ds := db.shardFor(key)
	if ds.keys == nil {
		ds.keys = make(map[string]Entry)
	}
	k := string(key)
	old, had := ds.keys[k]
	ne := Entry{Val: val, Exp: exp, Access: db.s.newAccess(db.Now), size: entrySize(key, val)}
	if had {
		ne.Access = db.s.touch(old.Access, db.Now)
	}
	ds.keys[k] = ne
	db.account(key, int64(ne.size)-int64(old.size))
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
	if e, ok := ds.keys[string(key)]; ok && !db.expireIfNeeded(ds, key, e) {
		db.replace(ds, key, e, val)
		return
	}
	db.Set(key, val, 0)
}

// Update replaces the value of an existing live key, keeping its expiry.
// It is a no-op when key does not exist.
func (db DB) Update(key []byte, val any) {
	ds := db.shardFor(key)
	if e, ok := ds.keys[string(key)]; ok {
		db.replace(ds, key, e, val)
	}
}

func (db DB) replace(ds *dbShard, key []byte, e Entry, val any) {
	old := e.size
	e.Val = val
	e.size = entrySize(key, val)
	e.Access = db.s.touch(e.Access, db.Now)
	ds.keys[string(key)] = e
	db.account(key, int64(e.size)-int64(old))
}

// Resized re-measures key's value after a handler changed it in place (a
// list grown by LPUSH...), for memory accounting.
func (db DB) Resized(key []byte) {
	ds := db.shardFor(key)
	if e, ok := ds.keys[string(key)]; ok {
		db.replace(ds, key, e, e.Val)
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
	e, ok := ds.keys[string(key)]
	if !ok || db.expireIfNeeded(ds, key, e) {
		return false
	}
	delete(ds.keys, string(key))
	if e.Exp != 0 {
		delete(ds.volatile, string(key))
	}
	db.account(key, -int64(e.size))
	return true
}

// SetExpire sets an existing key's absolute expiry (0 removes it). It
// reports whether the key exists.
func (db DB) SetExpire(key []byte, exp int64) bool {
	ds := db.shardFor(key)
	e, ok := ds.keys[string(key)]
	if !ok || db.expireIfNeeded(ds, key, e) {
		return false
	}
	e.Exp = exp
	k := string(key)
	ds.keys[k] = e
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
		for _, e := range db.s.shards[i].dbs[db.idx].keys {
			n += int64(e.size)
		}
		db.s.shards[i].used.Add(-n)
		db.s.shards[i].dbs[db.idx] = dbShard{}
	}
}

// ForEach calls fn for each live key until fn returns false. Requires LockAll.
func (db DB) ForEach(fn func(key string, e Entry) bool) {
	for i := range db.s.shards {
		for k, e := range db.s.shards[i].dbs[db.idx].keys {
			if e.Exp != 0 && e.Exp <= db.Now {
				continue
			}
			if !fn(k, e) {
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
			for k, e := range m {
				if n == 0 {
					if e.Exp != 0 && e.Exp <= db.Now {
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
			e := m[it.key]
			if !(e.Exp != 0 && e.Exp <= db.Now) && (filter == nil || filter(it.key, e)) {
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
		e := ds.keys[k]
		if e.Exp != 0 && e.Exp <= now {
			delete(ds.keys, k)
			delete(ds.volatile, k)
			s.shards[sh].used.Add(-int64(e.size))
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
