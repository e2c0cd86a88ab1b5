package keyspace

// TryLockAll takes the whole keyspace exclusively if it is free right now.
func (s *Store) TryLockAll() bool { return s.global.TryLock() }

// TryLockShards takes the global lock shared without waiting (it fails
// while a script or another LockAll holder runs), then the given shards,
// which must be sorted ascending and unique.
func (s *Store) TryLockShards(ids []int) bool {
	if !s.global.TryRLock() {
		return false
	}
	for _, id := range ids {
		s.shards[id].mu.Lock()
	}
	return true
}
