package keyspace

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"
)

// TestSaveInArena checks that records saved to an arena (SaveIn) restore
// exactly as allocated copies (Save) do: value, spare capacity, expiry,
// access clock, embstr mark and accounted memory, while the arena is
// reused and grown between saves and overwritten after the restore.
func TestSaveInArena(t *testing.T) {
	type setup func(db DB, k []byte)
	cases := []struct {
		name string
		set  setup
	}{
		{"missing", func(db DB, k []byte) {}},
		{"int", func(db DB, k []byte) { db.SetString(k, []byte("12345"), 0) }},
		{"empty", func(db DB, k []byte) { db.SetString(k, []byte{}, 0) }},
		{"expiry", func(db DB, k []byte) { db.SetString(k, []byte("v"), 99999) }},
		{"expired", func(db DB, k []byte) { db.SetString(k, []byte("v"), 10) }},
		{"raw", func(db DB, k []byte) { db.SetString(k, append(make([]byte, 0, 40), "abc"...), 0) }},
		{"embstr", func(db DB, k []byte) { db.SetString(k, []byte("6"), 0); db.MarkEmbstr(k) }},
		{"big", func(db DB, k []byte) { db.SetString(k, []byte(strings.Repeat("x", 2*maxLentRec)), 0) }},
		{"list", func(db DB, k []byte) { l := NewList(); l.PushBack([]byte("a")); db.Set(k, l, 0) }},
	}
	snapshot := func(db DB, k []byte) (Entry, bool) {
		e, ok := db.Peek(k)
		if ok && e.isStr {
			e.str = bytes.Clone(e.str)
		}
		return e, ok
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, lend := range []bool{false, true} {
				s := New(1, Hooks{})
				db := s.DB(0, 1000)
				k := []byte("key:" + tc.name)
				tc.set(db, k)
				want, wantOK := snapshot(db, k)
				wantMem := s.UsedMemory()
				var arena []byte
				if lend {
					arena = append(make([]byte, 0, 3), "pad"...) // misaligned tail, too small
				}
				var sv Saved
				var ok bool
				if lend {
					sv, ok = db.SaveIn(k, 1<<20, &arena)
				} else {
					sv, ok = db.Save(k, 1<<20)
				}
				if !ok {
					t.Fatal("save failed")
				}
				if sv.lent && uintptr(sv.rec)%8 != 0 {
					t.Fatal("lent record not 8-byte aligned")
				}
				db.SetString(k, []byte("overwritten, longer than before"), 0)
				s.Restore(&sv)
				for i := range arena { // the arena is reused: Restore kept a copy
					arena[i] = 0xff
				}
				got, gotOK := snapshot(db, k)
				if gotOK != wantOK {
					t.Fatalf("lend=%v: exists %v, want %v", lend, gotOK, wantOK)
				}
				if gotOK {
					if got.isStr != want.isStr || !bytes.Equal(got.str, want.str) || cap(got.str) != cap(want.str) ||
						got.Exp != want.Exp || got.emb != want.emb || got.size != want.size {
						t.Fatalf("lend=%v: restored %+v, want %+v", lend, got, want)
					}
				}
				if m := s.UsedMemory(); m != wantMem {
					t.Fatalf("lend=%v: used memory %d, want %d", lend, m, wantMem)
				}
			}
		})
	}
}

// BenchmarkSaveIn measures saving a small string record to the undo log.
func BenchmarkSaveIn(b *testing.B) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	k := []byte("ratelimit:user:1000:api")
	db.SetString(k, []byte("12345"), 0)
	for _, lend := range []bool{false, true} {
		name := "alloc"
		if lend {
			name = "arena"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			arena := make([]byte, 0, 256)
			for i := 0; i < b.N; i++ {
				arena = arena[:0]
				if lend {
					db.SaveIn(k, 1<<20, &arena)
				} else {
					db.Save(k, 1<<20)
				}
			}
		})
	}
}

// TestSetStringKeepTTL checks SetStringKeepTTL against SetKeepTTL of the
// same value with cap == len (the boxed general path): value, encoding,
// expiry, embstr mark and memory accounting, over every kind of previous
// entry.
func TestSetStringKeepTTL(t *testing.T) {
	prev := []struct {
		name string
		set  func(db DB, k []byte)
	}{
		{"missing", func(db DB, k []byte) {}},
		{"string", func(db DB, k []byte) { db.SetString(k, []byte("12"), 0) }},
		{"expiry", func(db DB, k []byte) { db.SetString(k, []byte("12"), 99999) }},
		{"expired", func(db DB, k []byte) { db.SetString(k, []byte("12"), 10) }},
		{"raw", func(db DB, k []byte) { db.SetString(k, append(make([]byte, 0, 40), "abc"...), 0) }},
		{"embstr", func(db DB, k []byte) { db.SetString(k, []byte("6"), 0); db.MarkEmbstr(k) }},
		{"list", func(db DB, k []byte) { l := NewList(); l.PushBack([]byte("a")); db.Set(k, l, 5000) }},
	}
	for _, p := range prev {
		for _, v := range []string{"", "13", "-9223372036854775808", "a longer value than the previous one"} {
			k := []byte("k")
			run := func(typed bool) (Entry, bool, int64) {
				s := New(1, Hooks{})
				db := s.DB(0, 1000)
				p.set(db, k)
				b := append(make([]byte, 0, 64), v...) // spare capacity is dropped
				if typed {
					db.SetStringKeepTTL(k, b)
				} else {
					db.SetKeepTTL(k, b[:len(b):len(b)])
				}
				b[0:cap(b)][0] = 'X' // the stored value is a copy
				e, ok := db.Peek(k)
				return e, ok, s.UsedMemory()
			}
			got, gotOK, gotMem := run(true)
			want, wantOK, wantMem := run(false)
			if gotOK != wantOK || !bytes.Equal(got.str, want.str) || cap(got.str) != cap(want.str) ||
				got.Exp != want.Exp || got.emb != want.emb || got.size != want.size || gotMem != wantMem {
				t.Errorf("%s <- %q: got %+v (mem %d), want %+v (mem %d)", p.name, v, got, gotMem, want, wantMem)
			}
		}
	}
}

// BenchmarkSetStringKeepTTL measures INCR's store of its new value.
func BenchmarkSetStringKeepTTL(b *testing.B) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	k := []byte("ratelimit:user:1000:api")
	db.SetString(k, []byte("12345"), 99999)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var tmp [20]byte
		db.SetStringKeepTTL(k, append(tmp[:0], "12346"...))
	}
}

// TestRestoreNoNewEvent checks that undoing a script's deletion puts the
// key back without the "new" event or the added signal (Redis never sees
// the undone attempt), while the slot index lists the key again.
func TestRestoreNoNewEvent(t *testing.T) {
	var events []string
	s := New(1, Hooks{New: func(_ int, key []byte, _ unsafe.Pointer) { events = append(events, string(key)) }})
	s.SetKeyEvents(true, false)
	var signals []string
	s.OnAdded(func(_ int, key []byte, _ any, _ unsafe.Pointer) { signals = append(signals, string(key)) })
	s.SignalAdded(true)
	s.IndexSlots(testSlotOf)
	db := s.DB(0, 0)
	db.SetString([]byte("a:k"), []byte("v"), 0)
	sv, ok := db.Save([]byte("a:k"), 1<<20)
	if !ok {
		t.Fatal("save failed")
	}
	db.Delete([]byte("a:k"))
	events, signals = nil, nil
	s.Restore(&sv)
	if events != nil || signals != nil {
		t.Fatalf("restore: new events %q, added signals %q", events, signals)
	}
	if got := db.KeysInSlot(testSlotOf([]byte("a:k")), 10, testSlotOf); len(got) != 1 || got[0] != "a:k" {
		t.Fatalf("slot keys after restore: %q", got)
	}
}
