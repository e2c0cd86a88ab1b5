package keyspace

import (
	"unsafe"

	"fmt"
	"strconv"
	"sync"
	"testing"
)

func TestSetGetExpire(t *testing.T) {
	s := New(16, Hooks{})
	db := s.DB(0, 1000)
	db.Set([]byte("a"), []byte("1"), 0)
	db.Set([]byte("b"), []byte("2"), 1500)
	if v, _, _ := db.GetString([]byte("a")); string(v) != "1" {
		t.Fatalf("a = %q", v)
	}
	later := s.DB(0, 2000)
	if later.Exists([]byte("b")) {
		t.Fatal("b should have expired")
	}
	if later.Size() != 1 {
		t.Fatalf("size %d", later.Size())
	}
}

func TestScanReturnsEveryStableKey(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 0)
	for i := 0; i < 5000; i++ {
		db.Set([]byte("k"+strconv.Itoa(i)), []byte("v"), 0)
	}
	seen := map[string]bool{}
	var cur uint64
	step := 0
	for {
		keys, next := db.Scan(cur, 37, nil, nil)
		for _, k := range keys {
			seen[k] = true
		}
		// churn: add and delete other keys during the scan
		db.Set([]byte(fmt.Sprintf("tmp%d", step)), []byte("x"), 0)
		db.Delete([]byte(fmt.Sprintf("tmp%d", step-1)))
		step++
		if next == 0 {
			break
		}
		cur = next
	}
	for i := 0; i < 5000; i++ {
		if !seen["k"+strconv.Itoa(i)] {
			t.Fatalf("key k%d missed by SCAN", i)
		}
	}
}

// BenchmarkShardedSetGet measures the store's per-command locking with
// parallel clients on distinct keys (the design in docs/design/concurrency.md).
func BenchmarkShardedSetGet(b *testing.B) {
	s := New(16, Hooks{})
	b.ReportAllocs()
	var mu sync.Mutex
	n := 0
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		key := []byte("key:" + strconv.Itoa(id))
		val := []byte("value")
		ids := []int{s.ShardOf(key)}
		for pb.Next() {
			s.LockShards(ids)
			db := s.DB(0, 1)
			db.Set(key, val, 0)
			_, _, _ = db.GetString(key)
			s.UnlockShards(ids)
		}
	})
}

// BenchmarkGlobalSetGet is the single-lock alternative, for comparison.
func BenchmarkGlobalSetGet(b *testing.B) {
	s := New(16, Hooks{})
	b.ReportAllocs()
	var mu sync.Mutex
	n := 0
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		key := []byte("key:" + strconv.Itoa(id))
		val := []byte("value")
		for pb.Next() {
			s.LockAll()
			db := s.DB(0, 1)
			db.Set(key, val, 0)
			_, _, _ = db.GetString(key)
			s.UnlockAll()
		}
	})
}

// TestReplicaExpiry: on a replica, a key whose time passed is missing for
// reads but kept (the master's DEL removes it), alive for the master's
// commands, and deleted by another client's write; off a replica it is
// deleted on access.
func TestReplicaExpiry(t *testing.T) {
	expired := 0
	s := New(1, Hooks{Expired: func(int, string, unsafe.Pointer) { expired++ }})
	s.DB(0, 1000).Set([]byte("k"), []byte("v"), 1500)
	s.SetReplica(true)
	later := s.DB(0, 2000)
	if _, ok := later.CountingHits().Lookup([]byte("k")); ok {
		t.Fatal("a read on a replica sees an expired key")
	}
	if later.Size() != 1 || expired != 0 {
		t.Fatalf("a read on a replica deleted the expired key (size %d, expired %d)", later.Size(), expired)
	}
	if _, ok := later.AsMaster().Lookup([]byte("k")); !ok {
		t.Fatal("the master's command does not see a key its master has not expired")
	}
	if later.Exists([]byte("k")) || later.Size() != 0 || expired != 1 {
		t.Fatalf("a write's lookup on a replica kept the expired key (size %d, expired %d)", later.Size(), expired)
	}
	s.SetReplica(false)
	s.DB(0, 1000).Set([]byte("k"), []byte("v"), 1500)
	if _, ok := later.CountingHits().Lookup([]byte("k")); ok || later.Size() != 0 {
		t.Fatal("off a replica, a read does not delete an expired key")
	}
}
