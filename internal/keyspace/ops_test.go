package keyspace

import (
	"strconv"
	"testing"
	"time"
)

func TestDetachAndHits(t *testing.T) {
	s := New(2, Hooks{})
	s.LockAll()
	for i := 0; i < 10000; i++ {
		k := []byte("k" + strconv.Itoa(i))
		s.DB(i%2, 0).Set(k, []byte("v"), 0)
	}
	if s.UsedMemory() == 0 {
		t.Fatal("no accounted memory")
	}
	d := s.DetachDB(1)
	if d.Keys() != 5000 || s.DB(1, 0).Size() != 0 || s.DB(0, 0).Size() != 5000 {
		t.Fatalf("DetachDB: detached %d, left %d/%d", d.Keys(), s.DB(0, 0).Size(), s.DB(1, 0).Size())
	}
	before := s.UsedMemory()
	s.ReleaseAccounting(d)
	if s.UsedMemory() >= before {
		t.Fatal("ReleaseAccounting did not lower used memory")
	}
	start := time.Now()
	all := s.DetachAll()
	// it swaps the tables without walking them; the bound only catches
	// something far off (a loaded machine can pause any call for a while)
	if el := time.Since(start); el > time.Second {
		t.Errorf("DetachAll took %v", el)
	}
	if all.Keys() != 5000 || s.UsedMemory() != 0 || s.DB(0, 0).Size() != 0 {
		t.Fatalf("DetachAll: %d keys, used %d", all.Keys(), s.UsedMemory())
	}
	s.DB(0, 0).Set([]byte("a"), []byte("1"), 0)
	r := s.DB(0, 0).CountingHits()
	r.Lookup([]byte("a"))
	r.Lookup([]byte("b"))
	s.DB(0, 0).Lookup([]byte("a")) // not counted
	if h, m := s.KeyspaceStats(); h != 1 || m != 1 {
		t.Fatalf("hits %d misses %d", h, m)
	}
	s.DB(0, 0).Set([]byte("t"), []byte("1"), 11000)
	if ttl := s.AvgTTL(0, 1000, 10); ttl != 10000 {
		t.Fatalf("AvgTTL = %d", ttl)
	}
	s.UnlockAll()
}

func BenchmarkFlushAllDetach(b *testing.B) {
	b.ReportAllocs()
	s := New(16, Hooks{})
	for i := 0; i < b.N; i++ {
		s.LockAll()
		s.DB(0, 0).Set([]byte("k"), []byte("v"), 0)
		s.DetachAll()
		s.UnlockAll()
	}
}

// TestSiblingReplace: a sibling's keys land in the same shards of s (the
// same hashing), with their accounting and expiries, and s's old data is
// handed back.
func TestSiblingReplace(t *testing.T) {
	s := New(3, Hooks{})
	s.LockAll()
	defer s.UnlockAll()
	s.DB(0, 0).Set([]byte("old"), []byte("1"), 0)
	o := s.Sibling()
	o.LockAll()
	for i := 0; i < 3000; i++ {
		exp := int64(0)
		if i%3 == 0 {
			exp = 1 << 40
		}
		o.DB(i%3, 0).Set([]byte("k"+strconv.Itoa(i)), []byte("v"), exp)
	}
	used := o.UsedMemory()
	o.UnlockAll()
	if s.DB(0, 0).Size() != 1 {
		t.Fatal("loading the sibling changed s")
	}
	old := s.Replace(o)
	if old.Keys() != 1 {
		t.Fatalf("old data: %d keys", old.Keys())
	}
	if s.UsedMemory() != used {
		t.Fatalf("used memory %d after Replace, the sibling had %d", s.UsedMemory(), used)
	}
	for i := 0; i < 3000; i++ {
		e, ok := s.DB(i%3, 0).Lookup([]byte("k" + strconv.Itoa(i)))
		if !ok || (i%3 == 0) != (e.Exp != 0) {
			t.Fatalf("key %d after Replace: %v %+v", i, ok, e)
		}
	}
	if _, ok := s.DB(0, 0).Lookup([]byte("old")); ok {
		t.Fatal("old key still there")
	}
	sh := s.ShardOf([]byte("k0"))
	if !s.HasVolatile(sh) {
		t.Fatal("expiry count not carried over")
	}
}
