package keyspace

import (
	"bytes"
	"testing"
)

func TestStringRecords(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	k := []byte("k")
	arg := []byte("hello")
	db.SetString(k, arg, 0)
	arg[0] = 'X' // the store copied it
	e, ok := db.Lookup(k)
	v, isStr := e.Str()
	if !ok || !isStr || string(v) != "hello" || cap(v) != 5 || e.Exp != 0 {
		t.Fatalf("got %q cap %d exp %d", v, cap(v), e.Exp)
	}
	used := s.UsedMemory()
	if want := int64(1 + entryOverhead + 5); used != want || e.Size() != want {
		t.Fatalf("used %d size %d, want %d", used, e.Size(), want)
	}

	// raw value with spare capacity, grown in place as APPEND does
	raw := make([]byte, 3, 16)
	copy(raw, "abc")
	db.SetKeepTTL(k, raw)
	e, _ = db.Lookup(k)
	w, _ := e.Str()
	if string(w) != "abc" || cap(w) != 16 {
		t.Fatalf("raw: %q cap %d", w, cap(w))
	}
	w2 := append(w, "def"...)
	db.SetKeepTTL(k, w2)
	e, _ = db.Lookup(k)
	w3, _ := e.Str()
	if string(w3) != "abcdef" || cap(w3) != 16 || &w3[0] != &w[0] {
		t.Fatalf("append in place: %q cap %d", w3, cap(w3))
	}
	if string(w) != "abc" {
		t.Fatalf("earlier view changed: %q", w)
	}
	if s.UsedMemory() != int64(1+entryOverhead+16) {
		t.Fatalf("used %d", s.UsedMemory())
	}

	// expiry added, changed, kept by SetKeepTTL, removed
	db.SetExpire(k, 5000)
	db.SetKeepTTL(k, []byte("new"))
	e, _ = db.Lookup(k)
	if v, _ := e.Str(); string(v) != "new" || e.Exp != 5000 {
		t.Fatalf("keepttl: %q exp %d", v, e.Exp)
	}
	db.SetExpire(k, 6000)
	if e, _ := db.Peek(k); e.Exp != 6000 || db.Volatile() != 1 {
		t.Fatalf("exp %d volatile %d", e.Exp, db.Volatile())
	}
	db.SetExpire(k, 0)
	if e, _ := db.Peek(k); e.Exp != 0 || db.Volatile() != 0 {
		t.Fatalf("persist: exp %d volatile %d", e.Exp, db.Volatile())
	}

	// empty string: exists, non-nil
	db.SetString(k, nil, 0)
	e, ok = db.Lookup(k)
	if v, isStr := e.Str(); !ok || !isStr || v == nil || len(v) != 0 {
		t.Fatalf("empty: %v %v %v", ok, isStr, v)
	}
	if b, _ := e.Value().([]byte); b == nil {
		t.Fatal("empty value is nil")
	}

	// string replaced by another type and back
	l := NewList()
	l.PushBack([]byte("x"))
	db.Update(k, l)
	if TypeName(db.Get(k)) != "list" {
		t.Fatal("not a list")
	}
	db.Update(k, []byte("s"))
	if v, found, err := db.GetString(k); err != nil || !found || !bytes.Equal(v, []byte("s")) {
		t.Fatalf("back to string: %q %v %v", v, found, err)
	}
	db.Delete(k)
	if s.UsedMemory() != 0 {
		t.Fatalf("used %d after delete", s.UsedMemory())
	}
}

func TestGetStringAllocs(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	k, v := []byte("key:1"), []byte("value:1")
	db.SetString(k, v, 0)
	if n := testing.AllocsPerRun(100, func() { db.GetString(k) }); n != 0 {
		t.Fatalf("GetString: %v allocs", n)
	}
}
