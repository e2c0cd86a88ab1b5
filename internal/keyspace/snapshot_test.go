package keyspace

import (
	"strconv"
	"sync"
	"testing"
)

// TestSnapshotPointInTime writes while a snapshot runs: every shard must
// be seen exactly as it was at the cut.
func TestSnapshotPointInTime(t *testing.T) {
	s := New(2, Hooks{})
	db := s.DB(0, 1)
	for i := 0; i < 5000; i++ {
		k := []byte("k" + strconv.Itoa(i))
		s.LockShards([]int{s.ShardOf(k)})
		db.Set(k, []byte("old"), 0)
		s.UnlockShards([]int{s.ShardOf(k)})
	}
	var mu sync.Mutex
	seen := map[string]string{}
	visits := make([]int, NumShards)
	cutRan := false
	sp, err := s.BeginSnapshot(func(sh int) {
		mu.Lock()
		defer mu.Unlock()
		visits[sh]++
		s.ShardEntries(sh, 0, func(k string, e Entry) { seen[k] = string(e.Value().([]byte)) })
	}, func() { cutRan = true })
	if err != nil || !cutRan {
		t.Fatal(err)
	}
	if _, err := s.BeginSnapshot(func(int) {}, nil); err != ErrSnapshotInProgress {
		t.Fatalf("second snapshot: %v", err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < 5000; i += 4 {
				k := []byte("k" + strconv.Itoa(i))
				sh := []int{s.ShardOf(k)}
				s.LockShards(sh)
				db.Set(k, []byte("new"), 0)
				s.UnlockShards(sh)
			}
		}(w)
	}
	sp.Finish()
	wg.Wait()
	for sh, n := range visits {
		if n != 1 {
			t.Fatalf("shard %d visited %d times", sh, n)
		}
	}
	if len(seen) != 5000 {
		t.Fatalf("snapshot has %d keys, want 5000", len(seen))
	}
	for k, v := range seen {
		if v != "old" {
			t.Fatalf("%s = %s in the snapshot", k, v)
		}
	}
}
