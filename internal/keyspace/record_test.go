package keyspace

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"unsafe"
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

// Keys whose 64-bit hashes collide get separate slots: the table must keep
// them apart. maphash cannot be made to collide, so the test calls the
// table with one hash for several keys.
func TestTableCollisions(t *testing.T) {
	var tb table
	const h = 42
	a, b, c := []byte("a"), []byte("b"), []byte("c")
	ra := newStrRec(0, a, []byte("1"), 0, 0)
	rb := newStrRec(0, b, []byte("2"), 5, 0)
	tb.set(h, a, nil, ra)
	tb.set(h, b, nil, rb)
	if tb.n != 2 || tb.get(h, a) != ra || tb.get(h, b) != rb || tb.get(h, c) != nil {
		t.Fatal("collision lookup")
	}
	ra2 := newStrRec(0, a, []byte("one"), 0, 0)
	tb.set(h, a, ra, ra2)
	if tb.n != 2 || tb.get(h, a) != ra2 || tb.get(h, b) != rb {
		t.Fatal("collision replace")
	}
	seen := map[string]bool{}
	tb.each(func(hh uint64, p unsafe.Pointer) bool {
		seen[recKey(p)] = hh == h
		return true
	})
	if len(seen) != 2 || !seen["a"] || !seen["b"] {
		t.Fatalf("each: %v", seen)
	}
	var ds dbShard
	var vol atomic.Int64
	ds.keys = tb
	ds.setVolatile(h, 0, 5, &vol)
	tb.del(h, rb)
	ds.keys = tb
	ds.setVolatile(h, 5, 0, &vol)
	if vol.Load() != 0 {
		t.Fatalf("shard count %d", vol.Load())
	}
	if tb.n != 1 || tb.get(h, b) != nil || tb.get(h, a) != ra2 || ds.nvol != 0 || ds.volatile.len() != 0 {
		t.Fatalf("collision delete: n %d nvol %d", tb.n, ds.nvol)
	}
	tb.del(h, ra2)
	if tb.n != 0 || tb.get(h, a) != nil {
		t.Fatal("delete last")
	}
}

func TestExpiryCounts(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	for i := 0; i < 100; i++ {
		k := []byte{byte(i)}
		db.SetString(k, []byte("v"), int64(2000+i%2*10000))
	}
	if db.Volatile() != 100 || db.Size() != 100 {
		t.Fatalf("volatile %d size %d", db.Volatile(), db.Size())
	}
	expired := 0
	for sh := 0; sh < NumShards; sh++ {
		for {
			sampled, n := s.ActiveExpire(sh, 0, 5000, 20)
			expired += n
			if sampled == 0 || n == 0 {
				break
			}
		}
	}
	if expired != 50 || db.Volatile() != 50 || db.Size() != 50 {
		t.Fatalf("expired %d volatile %d size %d", expired, db.Volatile(), db.Size())
	}
	if avg := s.AvgTTL(0, 5000, 100); avg != 7000 {
		t.Fatalf("avg ttl %d", avg)
	}
	checkVolatileCounts(t, s)
}

// TestEmbstrMark: MarkEmbstr's mark stays with the value through expiry
// changes, undo copies and reads, and goes with any new write of the key.
func TestEmbstrMark(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	k := []byte("k")
	embstr := func() bool {
		t.Helper()
		e, ok := db.Lookup(k)
		if !ok {
			t.Fatal("key missing")
		}
		return e.Embstr()
	}
	db.SetString(k, []byte("6"), 0)
	if embstr() {
		t.Fatal("a new string is not marked")
	}
	db.MarkEmbstr(k)
	if !embstr() {
		t.Fatal("MarkEmbstr did not mark")
	}
	db.SetExpire(k, 5000) // a new record with an expiry field
	if !embstr() {
		t.Fatal("the mark was lost adding an expiry")
	}
	db.SetExpire(k, 0)
	if !embstr() {
		t.Fatal("the mark was lost removing the expiry")
	}
	sv, ok := db.Save(k, 1<<20)
	if !ok {
		t.Fatal("Save failed")
	}
	db.SetString(k, []byte("7"), 0)
	if embstr() {
		t.Fatal("a new value kept the mark")
	}
	s.Restore(&sv)
	if !embstr() {
		t.Fatal("Restore lost the mark")
	}
	db.SetKeepTTL(k, []byte("8")[:1:1])
	if embstr() {
		t.Fatal("SetKeepTTL kept the mark")
	}
	db.Set(k, NewList(), 0)
	db.MarkEmbstr(k) // not a string: no-op
	if embstr() {
		t.Fatal("a list was marked")
	}
	db.MarkEmbstr([]byte("missing")) // no-op
}

// TestDecodeStrFastPath checks decodeStr's one-byte-length fast path and
// recExpiry's direct decoding against the general decoder, for keys and
// values on both sides of the one-byte uvarint limit, raw or not, with
// and without an expiry.
func TestDecodeStrFastPath(t *testing.T) {
	for _, kl := range []int{0, 1, 127, 128, 300} {
		for _, vl := range []int{0, 1, 127, 128, 20000} {
			for _, spare := range []int{0, 5} {
				for _, exp := range []int64{0, 1, 1 << 62} {
					key := bytes.Repeat([]byte{'k'}, kl)
					v := make([]byte, vl, vl+spare)
					for i := range v {
						v[i] = byte(i)
					}
					p := newStrRec(7, key, v, exp, 0)
					name := fmt.Sprintf("k%d/v%d/spare%d/exp%d", kl, vl, spare, exp)
					if got, want := decodeStr(p), decodeStrSlow(p, hdrOf(p).flags); got != want {
						t.Errorf("%s: decodeStr = %+v, want %+v", name, got, want)
					}
					r := decodeStrSlow(p, hdrOf(p).flags)
					if got, want := recSize(p), clampSize(int64(r.klen)+entryOverhead+int64(r.vcap)); got != want {
						t.Errorf("%s: recSize = %d, want %d", name, got, want)
					}
					if got := recExpiry(p); got != exp {
						t.Errorf("%s: recExpiry = %d", name, got)
					}
					if !recKeyIs(p, key) {
						t.Errorf("%s: recKeyIs false", name)
					}
					if recKeyIs(p, append(bytes.Clone(key), 'k')) {
						t.Errorf("%s: recKeyIs true for a longer key", name)
					}
					if kl > 0 {
						other := bytes.Clone(key)
						other[kl-1] = 'x'
						if recKeyIs(p, other) {
							t.Errorf("%s: recKeyIs true for another key", name)
						}
					}
					if e := entryOf(p); !bytes.Equal(e.str, v) || e.Exp != exp {
						t.Errorf("%s: entryOf = %q exp %d", name, e.str, e.Exp)
					}
				}
			}
		}
	}
}

// TestStringSlot: GetStringSlot reads as GetString does and
// SetStringKeepTTLAt writes as SetStringKeepTTL does (value, expiry kept,
// memory accounting), for a missing key, a string, an expired key and a
// key of another type.
func TestStringSlot(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	db.SetString([]byte("s"), []byte("41"), 0)
	db.SetString([]byte("ttl"), []byte("7"), 5000)
	db.SetString([]byte("gone"), []byte("1"), 500) // expired at Now 1000
	db.Set([]byte("obj"), NewList(), 0)
	for _, tc := range []struct {
		key       string
		want      string
		found     bool
		wrongType bool
		exp       int64
	}{
		{"missing", "", false, false, 0},
		{"s", "41", true, false, 0},
		{"ttl", "7", true, false, 5000},
		{"gone", "", false, false, 0},
		{"obj", "", true, true, 0},
	} {
		key := []byte(tc.key)
		v, slot, found, err := db.GetStringSlot(key)
		if found != tc.found || (err != nil) != tc.wrongType || string(v) != tc.want {
			t.Fatalf("%s: GetStringSlot = %q, %v, %v", tc.key, v, found, err)
		}
		if tc.wrongType {
			continue
		}
		db.SetStringKeepTTLAt(slot, key, []byte("new"))
		got, found, err := db.GetString(key)
		if string(got) != "new" || !found || err != nil {
			t.Fatalf("%s: after SetStringKeepTTLAt: %q, %v, %v", tc.key, got, found, err)
		}
		e, _ := db.Lookup(key)
		if e.Exp != tc.exp {
			t.Errorf("%s: expiry %d, want %d", tc.key, e.Exp, tc.exp)
		}
	}
	before := s.UsedMemory()
	db.SetStringKeepTTL([]byte("s"), []byte("newer"))
	d1 := s.UsedMemory() - before
	_, slot, _, _ := db.GetStringSlot([]byte("s"))
	db.SetStringKeepTTLAt(slot, []byte("s"), []byte("new"))
	if d2 := s.UsedMemory() - before; d2 != 0 || d1 == 0 {
		t.Errorf("memory accounting: +%d after a longer value, %d back at the same value", d1, d2)
	}
}

// checkVolatileCounts checks the per-shard counts of volatile keys that
// active expiry reads without locks (HasVolatile) against the databases'.
func checkVolatileCounts(t *testing.T, s *Store) {
	t.Helper()
	for sh := range s.shards {
		var n int64
		for db := range s.shards[sh].dbs {
			n += int64(s.shards[sh].dbs[db].nvol)
		}
		if got := s.shards[sh].vol.Load(); got != n || s.HasVolatile(sh) != (n > 0) {
			t.Fatalf("shard %d: count %d, databases hold %d", sh, got, n)
		}
	}
}

// TestVolatileShardCounts keeps the lock-free per-shard counts right
// through every way keys gain or lose an expiry, or go away.
func TestVolatileShardCounts(t *testing.T) {
	s := New(4, Hooks{})
	fill := func(db int) {
		v := s.DB(db, 1000)
		for i := 0; i < 200; i++ {
			k := []byte(fmt.Sprintf("k%d", i))
			v.SetString(k, []byte("v"), int64(i%3)*5000) // 0: no expiry
		}
	}
	for db := 0; db < 4; db++ {
		fill(db)
	}
	checkVolatileCounts(t, s)
	v := s.DB(1, 1000)
	for i := 0; i < 200; i += 2 {
		k := []byte(fmt.Sprintf("k%d", i))
		v.SetExpire(k, 0)     // PERSIST
		v.SetExpire(k, 90000) // EXPIRE
		v.SetStringKeepTTL(k, []byte("w"))
	}
	for i := 0; i < 200; i += 5 {
		v.Delete([]byte(fmt.Sprintf("k%d", i)))
	}
	checkVolatileCounts(t, s)
	s.SwapDB(0, 3)
	checkVolatileCounts(t, s)
	s.DB(2, 1000).Flush()
	checkVolatileCounts(t, s)
	s.ReleaseAccounting(s.DetachDB(1))
	checkVolatileCounts(t, s)
	for sh := 0; sh < NumShards; sh++ {
		for db := 0; db < 4; db++ {
			for { // keys past their time (10000 > 5000) expire
				sampled, n := s.ActiveExpire(sh, db, 10000, 20)
				if sampled == 0 || n == 0 {
					break
				}
			}
		}
	}
	checkVolatileCounts(t, s)
	s.DetachAll()
	checkVolatileCounts(t, s)
	fill(0)
	s.FlushAll()
	checkVolatileCounts(t, s)
	for sh := 0; sh < NumShards; sh++ {
		if s.HasVolatile(sh) {
			t.Fatalf("shard %d volatile after FLUSHALL", sh)
		}
	}
}

// TestExpirySlot compares ExpirySlot + SetExpireAt with Lookup +
// SetExpire on two equal stores: found, expiry, volatile count, size and
// used memory after every change, for strings (short and long, with and
// without an expiry), an expired key, an object and a missing key.
func TestExpirySlot(t *testing.T) {
	fill := func() (*Store, DB) {
		s := New(1, Hooks{})
		db := s.DB(0, 1000)
		db.SetString([]byte("s"), []byte("41"), 0)
		db.SetString([]byte("ttl"), []byte("7"), 5000)
		db.SetString([]byte("long"), bytes.Repeat([]byte("x"), 300), 9000)
		db.SetString([]byte("gone"), []byte("1"), 500) // expired at Now 1000
		db.Set([]byte("obj"), NewList(), 0)
		db.Set([]byte("objttl"), NewList(), 7000)
		return s, db
	}
	s1, a := fill()
	s2, b := fill()
	for _, key := range []string{"s", "ttl", "long", "gone", "obj", "objttl", "missing"} {
		for _, exp := range []int64{3000, 3000, 8000, 0, 0, 2000} {
			k := []byte(key)
			cur, slot, found := a.ExpirySlot(k)
			e, found2 := b.Lookup(k)
			if found != found2 || cur != e.Exp {
				t.Fatalf("%s: ExpirySlot = %d, %v; Lookup = %d, %v", key, cur, found, e.Exp, found2)
			}
			ok1 := a.SetExpireAt(slot, k, exp)
			ok2 := b.SetExpire(k, exp)
			if ok1 != ok2 || ok1 != found {
				t.Fatalf("%s exp %d: SetExpireAt %v, SetExpire %v", key, exp, ok1, ok2)
			}
			ea, _ := a.Peek(k)
			eb, _ := b.Peek(k)
			if ea.Exp != eb.Exp || ea.Size() != eb.Size() || a.Volatile() != b.Volatile() || a.Size() != b.Size() || s1.UsedMemory() != s2.UsedMemory() {
				t.Fatalf("%s exp %d: exp %d/%d size %d/%d volatile %d/%d keys %d/%d used %d/%d", key, exp,
					ea.Exp, eb.Exp, ea.Size(), eb.Size(), a.Volatile(), b.Volatile(), a.Size(), b.Size(), s1.UsedMemory(), s2.UsedMemory())
			}
		}
	}
}
