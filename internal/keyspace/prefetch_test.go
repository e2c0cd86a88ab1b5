package keyspace

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestTablePeek checks peek against get: for every stored key, peek of its
// hash returns a record stored under that hash (the key's own unless
// another key's hash is equal); for absent hashes nil or a colliding one.
func TestTablePeek(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 0)
	for i := 0; i < 20000; i++ {
		db.Set(fmt.Appendf(nil, "k%d", i), []byte("v"), 0)
	}
	for i := 0; i < 20000; i++ {
		k := fmt.Appendf(nil, "k%d", i)
		h := s.Hash(k)
		tb := &s.shards[h&(NumShards-1)].dbs[0].keys
		if p := tb.peek(h); p == nil || p != tb.get(h, k) {
			t.Fatalf("peek(%s) = %p, get %p", k, p, tb.get(h, k))
		}
		miss := fmt.Appendf(nil, "absent%d", i)
		hm := s.Hash(miss)
		if p := s.shards[hm&(NumShards-1)].dbs[0].keys.peek(hm); p != nil {
			t.Fatalf("peek(%s) = %p for an absent key", miss, p)
		}
	}
}

// TestPrefetch covers the cases Prefetch must get through without
// blocking or changing anything: empty and filled tables, repeated
// shards, more keys than PrefetchMax, a shard or the whole keyspace held
// by someone else, an out-of-range database.
func TestPrefetch(t *testing.T) {
	s := New(2, Hooks{})
	keys := make([][]byte, 40)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%d", i%20) // repeats: same shards
	}
	s.Prefetch(0, keys) // empty tables
	db := s.DB(0, 0)
	for i := 0; i < 10; i++ {
		db.Set(keys[i], []byte("v"), 0)
	}
	cases := []struct {
		name string
		db   int
		hold func() (release func())
	}{
		{"free", 0, func() func() { return func() {} }},
		{"other db", 1, func() func() { return func() {} }},
		{"bad db", 7, func() func() { return func() {} }},
		{"negative db", -1, func() func() { return func() {} }},
		{"a shard held", 0, func() func() {
			ids := []int{s.ShardOf(keys[3])}
			s.LockShards(ids)
			return func() { s.UnlockShards(ids) }
		}},
		{"all held", 0, func() func() {
			s.LockAll()
			return s.UnlockAll
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			release := tc.hold()
			s.Prefetch(tc.db, keys)
			s.Prefetch(tc.db, nil)
			release()
			// every lock Prefetch took is free again
			s.LockAll()
			s.UnlockAll()
			all := make([]int, NumShards)
			for i := range all {
				all[i] = i
			}
			if !s.TryLockShards(all) {
				t.Fatal("a shard is still held")
			}
			s.UnlockShards(all)
			for i := 0; i < 10; i++ {
				if v, ok, _ := db.GetString(keys[i]); !ok || string(v) != "v" {
					t.Fatalf("%s = %q %v", keys[i], v, ok)
				}
			}
			if n := db.Size(); n != 10 {
				t.Fatalf("size %d", n)
			}
		})
	}
}

// TestPrefetchConcurrent runs Prefetch against writers that grow, split
// and shrink the tables (go test -race checks that it reads them only
// under their locks).
func TestPrefetchConcurrent(t *testing.T) {
	s := New(1, Hooks{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Appendf(nil, "k%d", rng.IntN(30000))
				ids := []int{s.ShardOf(k)}
				s.LockShards(ids)
				db := s.DB(0, 0)
				if i%3 == 0 {
					db.Delete(k)
				} else {
					db.Set(k, []byte("value"), 0)
				}
				s.UnlockShards(ids)
			}
		}(w)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([][]byte, PrefetchMax)
	for i := 0; i < 20000; i++ {
		for j := range keys {
			keys[j] = fmt.Appendf(keys[j][:0], "k%d", rng.IntN(30000))
		}
		s.Prefetch(0, keys)
	}
	close(stop)
	wg.Wait()
}

func TestPrefetchPays(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 0)
	if s.PrefetchPays() {
		t.Fatal("an empty keyspace")
	}
	for i := 0; i < 200000 && !s.PrefetchPays(); i++ {
		db.Set(fmt.Appendf(nil, "key:%012d", i), []byte("xxx"), 0)
	}
	if !s.PrefetchPays() {
		t.Fatal("200,000 keys")
	}
	if got := s.UsedMemory(); got < prefetchMinBytes/2 {
		t.Fatalf("pays at %d bytes of records", got)
	}
}

// BenchmarkPrefetchGet is 16 lookups of random keys of a 100,000-key
// store, with and without a Prefetch of the 16 first.
func BenchmarkPrefetchGet(b *testing.B) {
	s := New(1, Hooks{})
	db := s.DB(0, 0)
	const n = 100000
	for i := 0; i < n; i++ {
		db.Set(fmt.Appendf(nil, "key:%012d", i), []byte("xxx"), 0)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batches := make([][][]byte, 4096)
	for i := range batches {
		for j := 0; j < 16; j++ {
			batches[i] = append(batches[i], fmt.Appendf(nil, "key:%012d", rng.IntN(n)))
		}
	}
	for _, pre := range []bool{false, true} {
		b.Run(fmt.Sprintf("prefetch=%v", pre), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				keys := batches[i%len(batches)]
				if pre {
					s.Prefetch(0, keys)
				}
				for _, k := range keys {
					if _, ok, _ := db.GetString(k); !ok {
						b.Fatal("missing")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/key")
		})
	}
}
