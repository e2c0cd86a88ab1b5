package keyspace

// TryLockAll takes the whole keyspace exclusively if it is free right now.
func (s *Store) TryLockAll() bool {
	if !s.global.TryLock() {
		return false
	}
	s.beforeAccessAll()
	return true
}

// TryLockShards takes the given shards, which must be sorted ascending and
// unique, and the global lock shared, if all are free right now; it fails
// (holding nothing) while a LockAll holder runs or any of the shards is
// held, e.g. by a script running on it.
//
// The shards come first: a held shard fails the try on a read of its
// mutex (sync.Mutex.TryLock reads before it swaps), without the two
// atomic writes to the global lock's shared counter that taking and
// dropping it cost. A worker spinning on a hot shard (exec.spinLock)
// thus no longer pulls that cache line, which the holder writes again
// when it unlocks, away from the holder's core on every try. Holding a
// shard for a moment before the global lock cannot deadlock: nothing here
// waits.
func (s *Store) TryLockShards(ids []int) bool {
	for i, id := range ids {
		if !s.shards[id].mu.TryLock() {
			for j := i - 1; j >= 0; j-- {
				s.shards[ids[j]].mu.Unlock()
			}
			return false
		}
	}
	if !s.global.TryRLock() {
		for j := len(ids) - 1; j >= 0; j-- {
			s.shards[ids[j]].mu.Unlock()
		}
		return false
	}
	for _, id := range ids {
		s.beforeAccess(id)
	}
	return true
}
