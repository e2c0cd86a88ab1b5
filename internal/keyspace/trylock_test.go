package keyspace

import "testing"

// TestTryLockShards: the try takes every shard and the global lock shared,
// or, when a shard or the whole keyspace is held, nothing at all.
func TestTryLockShards(t *testing.T) {
	tests := []struct {
		name   string
		held   []int // shards held by another holder (LockShards)
		all    bool  // the keyspace held by LockAll
		try    []int
		wantOK bool
	}{
		{"free", nil, false, []int{1, 5, 9}, true},
		{"no shards", nil, false, nil, true},
		{"first held", []int{1}, false, []int{1, 5, 9}, false},
		{"middle held", []int{5}, false, []int{1, 5, 9}, false},
		{"last held", []int{9}, false, []int{1, 5, 9}, false},
		{"other shard held", []int{2}, false, []int{1, 5, 9}, true},
		{"keyspace held", nil, true, []int{1, 5, 9}, false},
		{"keyspace held, no shards", nil, true, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(1, Hooks{})
			if tc.all {
				s.LockAll()
			} else if tc.held != nil {
				s.LockShards(tc.held)
			}
			ok := s.TryLockShards(tc.try)
			if ok != tc.wantOK {
				t.Fatalf("TryLockShards = %v want %v", ok, tc.wantOK)
			}
			if ok {
				if s.global.TryLock() {
					t.Fatal("global lock not held shared")
				}
				for _, id := range tc.try {
					if s.shards[id].mu.TryLock() {
						t.Fatalf("shard %d not held", id)
					}
				}
				s.UnlockShards(tc.try)
			}
			if tc.all {
				s.UnlockAll()
			} else if tc.held != nil {
				s.UnlockShards(tc.held)
			}
			// everything is free again: a failed try held nothing
			if !s.global.TryLock() {
				t.Fatal("global lock left held")
			}
			s.global.Unlock()
			for id := range s.shards {
				if !s.shards[id].mu.TryLock() {
					t.Fatalf("shard %d left held", id)
				}
				s.shards[id].mu.Unlock()
			}
		})
	}
}
