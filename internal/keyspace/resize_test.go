package keyspace

import (
	"fmt"
	"testing"
)

// BenchmarkCollectionWrite is an SADD/HSET/LPUSH of an existing key as
// the executor runs it, with its memory accounting: a lookup for writing,
// the change, then a re-measure of the record. "track" is the record the
// lookup handed out (Track, Remeasure); "bykey" looks the key up again
// (Resized), as every collection write did before.
func BenchmarkCollectionWrite(b *testing.B) {
	member := make([][]byte, 1<<12)
	for i := range member {
		member[i] = []byte(fmt.Sprintf("element:%012d", i))
	}
	lim := HashLimits{Entries: 128, Value: 64}
	val := []byte("xxx")
	cases := []struct {
		name  string
		key   string
		value func() any
		write func(v any, i int)
	}{
		{"sadd", "myset", func() any { return NewSet() }, func(v any, i int) { v.(*Set).Add(member[i&(len(member)-1)], 512) }},
		{"hset", "myhash", func() any { return NewHash() }, func(v any, i int) { v.(*Hash).Set(member[i&(len(member)-1)], val, lim) }},
		{"lpush", "mylist", func() any { return NewList() }, func(v any, i int) {
			l := v.(*List)
			l.PushFront(val)
			if l.Len() > 1<<16 {
				l.PopBack()
			}
		}},
	}
	for _, tc := range cases {
		for _, byKey := range []bool{false, true} {
			name := tc.name + "/track"
			if byKey {
				name = tc.name + "/bykey"
			}
			b.Run(name, func(b *testing.B) {
				s := New(1, Hooks{})
				key := []byte(tc.key)
				s.DB(0, 0).Set(key, tc.value(), 0)
				var rs Scratch
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					db := s.DB(0, 0)
					if !byKey {
						db.Track(&rs)
					}
					tc.write(db.Get(key), i)
					if byKey {
						db.Resized(key)
					} else if !db.Remeasure() {
						b.Fatal("tracked more than Resizes holds")
					}
				}
				if acc, fresh, _ := s.DB(0, 0).Measured(key); acc != fresh {
					b.Fatalf("accounted %d, measures %d", acc, fresh)
				}
			})
		}
	}
}

// TestRemeasureSkipsRemoved: a record deleted or replaced after its
// lookup is not measured again (its size left the shard's total with
// it), one stored again (MOVE) is, and more records than Resizes holds
// make Remeasure report false.
func TestRemeasureSkipsRemoved(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 0)
	k := []byte("l")
	db.Set(k, NewList(), 0)
	var rs Scratch
	db.Track(&rs)
	l := db.Get(k).(*List)
	l.PushBack([]byte("0123456789"))
	db.Delete(k)
	if !db.Remeasure() || s.UsedMemory() != 0 {
		t.Fatalf("deleted: used memory %d", s.UsedMemory())
	}

	db.Set(k, NewList(), 0)
	db.Track(&rs)
	db.Get(k).(*List).PushBack([]byte("0123456789"))
	db.Set(k, NewSet(), 0) // replaced
	want := s.UsedMemory()
	db.Remeasure()
	if s.UsedMemory() != want {
		t.Fatalf("replaced: used memory %d, want %d", s.UsedMemory(), want)
	}
	if acc, fresh, _ := db.Measured(k); acc != fresh {
		t.Fatalf("replacement accounted %d, measures %d", acc, fresh)
	}

	db.Track(&rs)
	for i := range resizesMax + 1 {
		key := []byte(fmt.Sprint("k", i))
		db.Set(key, NewList(), 0)
		db.Get(key).(*List).PushBack([]byte("x"))
	}
	if db.Remeasure() {
		t.Fatal("Remeasure reported complete past resizesMax records")
	}
	plain := s.DB(0, 0)
	if plain.Remeasure() {
		t.Fatal("Remeasure reported complete without tracking")
	}
}
