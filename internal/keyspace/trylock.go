package keyspace

// TryLockAll takes the whole keyspace exclusively if it is free right now.
func (s *Store) TryLockAll() bool {
	if !s.global.TryLock() {
		return false
	}
	s.beforeAccessAll()
	return true
}

// TryLockShards takes the global lock shared and then the given shards,
// which must be sorted ascending and unique, if all are free right now; it
// fails (holding nothing) while a LockAll holder runs or any of the shards
// is held, e.g. by a script running on it.
func (s *Store) TryLockShards(ids []int) bool {
	if !s.global.TryRLock() {
		return false
	}
	for i, id := range ids {
		if !s.shards[id].mu.TryLock() {
			for j := i - 1; j >= 0; j-- {
				s.shards[ids[j]].mu.Unlock()
			}
			s.global.RUnlock()
			return false
		}
	}
	for _, id := range ids {
		s.beforeAccess(id)
	}
	return true
}
