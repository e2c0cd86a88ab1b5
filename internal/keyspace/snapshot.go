package keyspace

import (
	"errors"
	"sync/atomic"
	"unsafe"
)

// Point-in-time snapshots without stopping clients (for SAVE, BGSAVE and
// AOF rewrites).
//
// BeginSnapshot takes the whole keyspace exclusively for an instant: it
// records the cut and runs atCut (the AOF switches files there, so every
// write lands either in the snapshot or after it). From then on each
// shard is visited exactly once, in its state at the cut: the snapshot
// goroutine walks the shards, and any command that locks a shard not yet
// visited visits it first, before it can change anything. Every path that
// locks shards (LockShards, LockShard, LockAll) calls beforeAccess; a new
// locking path must too.

// ErrSnapshotInProgress is returned when a snapshot is already running.
var ErrSnapshotInProgress = errors.New("a snapshot is already in progress")

type snapshot struct {
	visit func(sh int)
	done  [NumShards]atomic.Bool
}

// Snapshot is a point-in-time walk of the keyspace in progress.
type Snapshot struct {
	s  *Store
	sn *snapshot
}

// BeginSnapshot starts a snapshot. visit(sh) is called once per shard with
// that shard locked (possibly on a client's goroutine); it must only read
// the shard (ShardEntries) and not lock anything in the store. atCut runs
// with the whole keyspace locked, before any command sees the snapshot.
func (s *Store) BeginSnapshot(visit func(sh int), atCut func()) (*Snapshot, error) {
	s.global.Lock()
	defer s.global.Unlock()
	if s.snap.Load() != nil {
		return nil, ErrSnapshotInProgress
	}
	sn := &snapshot{visit: visit}
	if atCut != nil {
		atCut()
	}
	s.snap.Store(sn)
	return &Snapshot{s: s, sn: sn}, nil
}

// Finish visits the shards nobody visited yet, in order, then ends the
// snapshot. It returns after visit was called for every shard.
func (sp *Snapshot) Finish() {
	for sh := 0; sh < NumShards; sh++ {
		sp.s.LockShard(sh) // visits sh if needed
		sp.s.UnlockShard(sh)
	}
	sp.s.snap.CompareAndSwap(sp.sn, nil)
}

// Visited reports whether shard sh was visited.
func (sp *Snapshot) Visited(sh int) bool { return sp.sn.done[sh].Load() }

// beforeAccess visits shard sh for a running snapshot; sh is locked.
func (s *Store) beforeAccess(sh int) {
	sn := s.snap.Load()
	if sn == nil || sn.done[sh].Load() {
		return
	}
	sn.visit(sh)
	sn.done[sh].Store(true)
}

// beforeAccessAll visits every shard not yet visited; the caller holds the
// global lock exclusively.
func (s *Store) beforeAccessAll() {
	if s.snap.Load() == nil {
		return
	}
	for sh := 0; sh < NumShards; sh++ {
		s.beforeAccess(sh)
	}
}

// ShardEntries calls fn for every entry of database db in shard sh,
// including expired keys not yet reclaimed. The caller holds the shard.
func (s *Store) ShardEntries(sh, db int, fn func(key string, e Entry)) {
	s.shards[sh].dbs[db].keys.each(func(_ uint64, p unsafe.Pointer) bool {
		fn(recKey(p), entryOf(p))
		return true
	})
}

// ShardLen is the number of keys of database db in shard sh.
func (s *Store) ShardLen(sh, db int) int { return s.shards[sh].dbs[db].keys.n }
