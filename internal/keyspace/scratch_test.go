package keyspace

import "testing"

// TestNoteHash: a view with a noted hash (NoteHash) uses it for the very
// bytes noted and for nothing else: an equal copy of the key, a slice of
// it is hashed afresh. A wrong hash is
// noted on purpose so that its use shows: the key is stored under it
// and a fresh lookup does not find it.
func TestNoteHash(t *testing.T) {
	s := New(1, Hooks{})
	key := []byte("user:1000")
	wrong := s.Hash(key) ^ 0x5a5a5a5a // another shard and slot
	tests := []struct {
		name string
		used bool // the noted hash serves the lookup through the view
		view func(*Scratch) DB
		k    []byte
	}{
		{"same bytes", true, func(x *Scratch) DB { db := s.DB(0, 0); db.NoteHash(x, key, wrong); return db }, key},
		{"equal copy", false, func(x *Scratch) DB { db := s.DB(0, 0); db.NoteHash(x, key, wrong); return db }, []byte("user:1000")},
		{"shorter slice", false, func(x *Scratch) DB { db := s.DB(0, 0); db.NoteHash(x, key, wrong); return db }, key[:4]},
		{"derived view", true, func(x *Scratch) DB { db := s.DB(0, 0); db.NoteHash(x, key, wrong); return db.CountingHits() }, key},
		{"tracking too", true, func(x *Scratch) DB { db := s.DB(0, 0); db.NoteHash(x, key, wrong); db.Track(x); return db }, key},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var x Scratch
			db := tc.view(&x)
			db.Set(tc.k, []byte("v"), 0)
			if got := db.Get(tc.k); got == nil {
				t.Fatal("not found through the view that stored it")
			}
			fresh := db.s.DB(0, 0) // no note: hashes the key
			if found := fresh.Get(tc.k) != nil; found == tc.used {
				t.Fatalf("found by a fresh hash: %v, want %v", found, !tc.used)
			}
			db.Delete(tc.k)
			if db.s.DB(0, 0).Size() != 0 {
				t.Fatalf("%d keys left", db.s.DB(0, 0).Size())
			}
		})
	}
}

// TestNoteHashRight: with the right hash noted, a view answers as one
// without a note (SET, GET, overwrite, delete), and its writes are found
// by fresh lookups.
func TestNoteHashRight(t *testing.T) {
	s := New(1, Hooks{})
	for i := range 200 {
		key := []byte{'k', byte(i), byte(i >> 8)}
		var x Scratch
		db := s.DB(0, 0)
		db.NoteHash(&x, key, s.Hash(key))
		db.Set(key, []byte("a"), 0)
		db.Set(key, []byte("bb"), 0)
		if v, _ := s.DB(0, 0).Get(key).([]byte); string(v) != "bb" {
			t.Fatalf("key %q: %q", key, v)
		}
		if i%2 == 0 && !db.Delete(key) {
			t.Fatalf("key %q: not deleted", key)
		}
	}
	if n := s.DB(0, 0).Size(); n != 100 {
		t.Fatalf("%d keys, want 100", n)
	}
}
