// Package keyspace owns the databases: typed values, expiry and the locks
// that make commands atomic.
//
// The keyspace is split into NumShards shards by a hash of the key (the same
// shard index in every database). A command locks the shards of its keys in
// ascending order under a shared hold of the store's global lock; commands
// that need the whole keyspace at once (scripts, MULTI/EXEC, FLUSHALL, KEYS,
// SWAPDB...) take the global lock exclusively. See docs/design/concurrency.md.
package keyspace

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// NumShards is the number of lock shards. A power of two.
const NumShards = 256

// ErrWrongType is returned by typed accessors when the key holds another type.
var ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")

// Entry is a copy of one key's value and absolute expiry time in Unix
// milliseconds (0 means no expiry). Access is the LRU clock (seconds) or
// the LFU counter (minutes<<8 | log counter) as the eviction policy reads
// it; size is the entry's accounted memory. The store keeps keys as
// records (record.go); an Entry is decoded from one on lookup.
type Entry struct {
	Exp    int64
	Access uint32
	size   uint32
	isStr  bool
	emb    bool   // Embstr
	own    bool   // Unshared
	str    []byte // string value, aliasing the record
	obj    any    // any other value
}

// Embstr reports whether the string value is one Redis keeps as an
// "embstr" object although it reads as an integer: INCRBYFLOAT stores its
// result unencoded, and RENAME, MOVE and COPY keep the object as it is
// (MarkEmbstr). Any other write of a string lets it be "int".
func (e Entry) Embstr() bool { return e.emb }

// Unshared reports whether a string value is held in an object of its own
// where Redis would otherwise use a shared integer (OBJECT REFCOUNT 1): a
// COPY's duplicate (DB.MarkUnshared).
func (e Entry) Unshared() bool { return e.own }

// Value returns the stored value: a []byte for a string (boxing it costs an
// allocation: hot paths use Str), else the list, hash, set... nil for the
// zero Entry.
func (e Entry) Value() any {
	if e.isStr {
		return e.str
	}
	return e.obj
}

// Str returns the value if it is a string. The bytes alias the store: do
// not write them (APPEND extends a "raw" value past its length, in its spare
// capacity, and stores the result with SetKeepTTL).
func (e Entry) Str() ([]byte, bool) { return e.str, e.isStr }

type dbShard struct {
	keys table // key -> record (table.go, record.go)
	// hashes of keys with an expiry, for active expiration (after a hash
	// collision possibly one too many: ActiveExpire drops it), and their count
	volatile  volSet
	nvol      int
	volCursor int // where ActiveExpire's next sample starts in volatile
}

type shard struct {
	mu   sync.Mutex
	dbs  []dbShard
	used atomic.Int64 // accounted bytes of the shard's entries, all dbs
	vol  atomic.Int64 // keys with an expiry, all dbs (HasVolatile)
	// keyspace hits and misses of read commands, per shard so that cores
	// never share the counters' cache line
	hits, misses atomic.Int64
	// hits and misses counted by a script in partial-lock mode, which
	// holds mu (DB.HoldingHits), until it ends (CommitHits) or its
	// attempt is undone (DropHits); in the padding that keeps shards on
	// separate cache lines
	heldHits, heldMisses int64
}

// CommitHits adds to shard sh's keyspace_hits and keyspace_misses those a
// script counted there through a HoldingHits view. Requires sh's lock.
func (s *Store) CommitHits(sh int) {
	x := &s.shards[sh]
	if x.heldHits != 0 {
		x.hits.Add(x.heldHits)
		x.heldHits = 0
	}
	if x.heldMisses != 0 {
		x.misses.Add(x.heldMisses)
		x.heldMisses = 0
	}
}

// DropHits forgets the hits and misses a script counted in shard sh
// through a HoldingHits view (its attempt was undone). Requires sh's lock.
func (s *Store) DropHits(sh int) {
	x := &s.shards[sh]
	x.heldHits, x.heldMisses = 0, 0
}

// Hooks are called by the keyspace, with the key's shard locked.
type Hooks struct {
	// Expired is called when a key is deleted because its time passed;
	// by is what the view that found it was given by DB.WithEvents or
	// Store.DBFor (a command's context; nil for the active expiry).
	Expired func(db int, key string, by unsafe.Pointer)
	// New is called when a key is added (Redis's dbAdd: the "new"
	// keyspace event), while SetKeyEvents turned it on; by is what the
	// view that added it was given by DB.WithEvents (nil: none).
	New func(db int, key []byte, by unsafe.Pointer)
	// Miss is called when a read command's lookup misses (Redis's
	// "keymiss" event), while SetKeyEvents turned it on; by is what the
	// view that missed was given by DB.WithEvents (nil: none), as for
	// New: the event goes where the command's other events go (held back
	// with a script's that may still be undone).
	Miss func(db int, key []byte, by unsafe.Pointer)
	// LazyFree is called, under the key's shard lock, with a collection
	// that leaves the keyspace by a deletion of a lazy-free class that is
	// on (SetLazyFree): Redis 7.0 would free it in the background, and
	// count it in lazyfreed_objects when it is big enough.
	LazyFree func(val any)
}

// Store is the set of databases.
type Store struct {
	global sync.RWMutex
	shards [NumShards]shard
	ndb    int
	seed   maphash.Seed
	hooks  Hooks
	lfu    atomic.Bool
	ownNew atomic.Uint32 // recOwn while shared integers are off (SetNoSharedIntegers)
	// lfuLog and lfuDecay are lfu-log-factor and lfu-decay-time, plus
	// one so that the zero Store has Redis's defaults (SetLFUParams)
	lfuLog, lfuDecay atomic.Int64
	snap             atomic.Pointer[snapshot] // a running snapshot (snapshot.go)
	// replica: the store is a replica's, whose keys are deleted by the
	// master's DELs, not by their time passing (SetReplica)
	replica atomic.Bool
	// replaying: an AOF is being replayed, during which no key expires
	// (SetReplaying)
	replaying atomic.Bool
	// pausedUntil: clients are paused until this Unix time in ms (0:
	// not paused); meanwhile no key is deleted for its time (SetPaused)
	pausedUntil atomic.Int64
	// newOn: call hooks.New (newEvents, SetKeyEvents) and added
	// (newAdded, SignalAdded), and index the slot (newSlots, IndexSlots),
	// where a key is added; missOn: call
	// hooks.Miss (SetKeyEvents)
	newOn atomic.Uint32
	// lazyOn: the lazy-free classes that are on (Lazy*, SetLazyFree)
	lazyOn atomic.Uint32
	missOn atomic.Bool
	// added is called where a key is added while newAdded is on
	// (OnAdded), streamGone where a stream leaves a key (OnStreamGone)
	added      func(db int, key []byte, val any, by unsafe.Pointer)
	streamGone func(db int, key []byte, by unsafe.Pointer)
	// slots lists database 0's keys by hash slot (cluster mode: slots.go;
	// nil without), slotOf computing a key's slot; replaced only under
	// LockAll
	slots  *slotIndex
	slotOf func(key []byte) int
	// heldAccess is called where a HoldingHits view changes a key's
	// access field (OnHeldAccess)
	heldAccess func(db int, key []byte, old uint32, by unsafe.Pointer) bool
}

// newOn's bits.
const (
	newEvents = 1 << iota // the "new" keyspace event (hooks.New)
	newAdded              // Store.added: clients wait on keys
	newSlots              // the slot→keys index (IndexSlots)
)

// SetKeyEvents turns the New and Miss hooks on or off (the n and m classes
// of notify-keyspace-events): off, they cost one load where a key is added
// or a read misses.
func (s *Store) SetKeyEvents(newKeys, misses bool) {
	if newKeys && s.hooks.New != nil {
		s.newOn.Or(newEvents)
	} else {
		s.newOn.And(^uint32(newEvents))
	}
	s.missOn.Store(misses && s.hooks.Miss != nil)
}

// OnAdded sets the function that SignalAdded turns on: it is called,
// under the key's shard lock, wherever a key is added (created, or put in
// place of a deleted one by RENAME, COPY, RESTORE, MOVE: Redis's dbAdd),
// not where an existing key is changed or overwritten, with the value
// added (nil for a string) and the adding view's by (DB.WithEvents: the
// command's context; nil for none). Set it before the store is used.
func (s *Store) OnAdded(fn func(db int, key []byte, val any, by unsafe.Pointer)) { s.added = fn }

// OnStreamGone sets the function that SignalAdded turns on with OnAdded's:
// it is called, under the key's shard lock, wherever a stream leaves its
// key: deleted (DB.Delete), its time passed, evicted, or overwritten by
// another value (Redis's dbGenericDelete and dbSetValue signal a stream's
// waiters there), not where a script's attempt is undone nor where a
// database is flushed or swapped. by is as for OnAdded. Set it before the
// store is used.
func (s *Store) OnStreamGone(fn func(db int, key []byte, by unsafe.Pointer)) { s.streamGone = fn }

// OnHeldAccess sets the function called, under the key's shard lock,
// before a read through a HoldingHits view (a script's attempt that may
// be undone) changes a key's access field (LRU clock or LFU counter) from
// old: the caller may save old to put it back (AccessSaved) if the
// attempt is undone, so that a stopped attempt's reads leave the key's
// idle time and counter as they found them. The view's by (DB.WithEvents)
// names the reading command. fn reports whether the access is recorded;
// false keeps the field as it is. Set it before the store is used.
func (s *Store) OnHeldAccess(fn func(db int, key []byte, old uint32, by unsafe.Pointer) bool) {
	s.heldAccess = fn
}

// SignalAdded turns the OnAdded function on or off: off, it costs the
// load that the "new" event's hook already costs.
func (s *Store) SignalAdded(on bool) {
	if on && s.added != nil {
		s.newOn.Or(newAdded)
	} else {
		s.newOn.And(^uint32(newAdded))
	}
}

// keyAdded indexes key, just added to ds under hash h as record p, by
// slot (newSlots) and calls the hooks of a key added (newOn's bits f)
// unless the view is loading.
func (db DB) keyAdded(f uint32, ds *dbShard, h uint64, key []byte, p unsafe.Pointer) {
	if f&newSlots != 0 && db.idx == 0 {
		db.s.slots.add(&ds.keys, h, key, p)
	}
	if db.load {
		return
	}
	if f&newEvents != 0 {
		db.s.hooks.New(int(db.idx), key, db.by)
	}
	if f&newAdded != 0 {
		var val any
		if hdrOf(p).flags&recObj != 0 {
			val = (*objRec)(p).val
		}
		db.s.added(int(db.idx), key, val, db.by)
	}
}

// streamLeft calls the streamGone function (OnStreamGone) if record p,
// leaving key, holds a stream that is not next (the key's next value; nil:
// none or a string), while SignalAdded has it on.
func (db DB) streamLeft(key []byte, p unsafe.Pointer, next any) {
	if db.s.newOn.Load()&newAdded == 0 || db.load || db.s.streamGone == nil || hdrOf(p).flags&recObj == 0 {
		return
	}
	s, ok := (*objRec)(p).val.(*Stream)
	if !ok {
		return
	}
	if n, ok := next.(*Stream); ok && n == s {
		return
	}
	db.s.streamGone(int(db.idx), key, db.by)
}

// SetReplica turns replica expiry on or off. On a replica, as in Redis
// 7.0, a key whose time passed is not deleted on access: a read command
// (a view CountingHits) sees it missing, the master's commands (a view
// AsMaster) still see it, and a write of another client deletes it.
func (s *Store) SetReplica(on bool) { s.replica.Store(on) }

// SetReplaying turns expiry off while an AOF is replayed, as Redis's
// keyIsExpired answers "not expired" while it loads: a key whose time
// passed is still there for the file's later commands.
func (s *Store) SetReplaying(on bool) { s.replaying.Store(on) }

// Replaying reports whether an AOF replay is on (SetReplaying).
func (s *Store) Replaying() bool { return s.replaying.Load() }

// SetPaused records that clients are paused (CLIENT PAUSE, a failover)
// until the Unix time until in ms (0: not paused). As Redis 7.0's
// expireIfNeeded and performEvictions during a pause, the dataset stays
// as it is: a key whose time passed reads as missing but is not deleted,
// and nothing is evicted (Paused).
func (s *Store) SetPaused(until int64) { s.pausedUntil.Store(until) }

// Paused reports whether clients are paused now (SetPaused).
func (s *Store) Paused() bool {
	u := s.pausedUntil.Load()
	return u != 0 && time.Now().UnixMilli() < u
}

// Replica reports whether replica expiry is on (SetReplica).
func (s *Store) Replica() bool { return s.replica.Load() }

// New returns a store with n databases.
func New(n int, hooks Hooks) *Store {
	s := &Store{ndb: n, seed: maphash.MakeSeed(), hooks: hooks}
	s.SetLFUParams(10, 1) // Redis's defaults of lfu-log-factor and lfu-decay-time
	for i := range s.shards {
		s.shards[i].dbs = make([]dbShard, n)
	}
	return s
}

// NumDBs is the number of databases.
func (s *Store) NumDBs() int { return s.ndb }

// Hash returns the store's hash of key.
func (s *Store) Hash(key []byte) uint64 { return maphash.Bytes(s.seed, key) }

// HashString returns the store's hash of key.
func (s *Store) HashString(key string) uint64 { return maphash.String(s.seed, key) }

// ShardOf returns the shard index of key.
func (s *Store) ShardOf(key []byte) int { return int(s.Hash(key) & (NumShards - 1)) }

// LockShards takes the global lock shared, then the given shards, which must
// be sorted ascending and unique.
func (s *Store) LockShards(ids []int) {
	s.global.RLock()
	for _, id := range ids {
		s.shards[id].mu.Lock()
		s.beforeAccess(id)
	}
}

// UnlockShards releases what LockShards took.
func (s *Store) UnlockShards(ids []int) {
	for i := len(ids) - 1; i >= 0; i-- {
		s.shards[ids[i]].mu.Unlock()
	}
	s.global.RUnlock()
}

// LockAll takes the whole keyspace exclusively.
func (s *Store) LockAll() {
	s.global.Lock()
	s.beforeAccessAll()
}

// UnlockAll releases LockAll.
func (s *Store) UnlockAll() { s.global.Unlock() }

// DB returns a view of database i at time now (Unix ms). The caller must
// hold the locks covering the keys it touches through the view.
func (s *Store) DB(i int, now int64) DB { return DB{s: s, idx: int32(i), Now: now} }

// DBFor is DB(i, now).WithEvents(by), built at once (a command's view).
func (s *Store) DBFor(i int, now int64, by unsafe.Pointer) DB {
	return DB{s: s, idx: int32(i), Now: now, by: by}
}

func (s *Store) dbShard(sh, db int) *dbShard { return &s.shards[sh].dbs[db] }

// SwapDB swaps databases a and b. Requires LockAll.
func (s *Store) SwapDB(a, b int) {
	for i := range s.shards {
		d := s.shards[i].dbs
		d[a], d[b] = d[b], d[a]
	}
	if a == 0 || b == 0 {
		s.rebuildSlots()
	}
}

// FlushAll empties every database. Requires LockAll.
func (s *Store) FlushAll() {
	for i := range s.shards {
		for j := range s.shards[i].dbs {
			s.shards[i].dbs[j] = dbShard{}
		}
		s.shards[i].used.Store(0)
		s.shards[i].vol.Store(0)
	}
	s.rebuildSlots()
}
