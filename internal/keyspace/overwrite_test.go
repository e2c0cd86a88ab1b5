package keyspace

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
)

// recordOf returns key's record in db (nil: none).
func recordOf(db DB, key []byte) unsafe.Pointer {
	ds, h, _ := db.locate(key)
	return ds.keys.get(h, key)
}

// recBytesAll returns all the bytes of string record p.
func recBytesAll(p unsafe.Pointer) []byte {
	r := decodeStrSlow(p, hdrOf(p).flags)
	return recBytes(p, 0, int(r.keyOff)+r.klen+r.vcap)
}

// overwriteCase is one SET over an existing key, for checkSetOverwrite.
type overwriteCase struct {
	klen, oldLen, newLen int
	oldSpare             int   // spare capacity of the old value (raw)
	oldExp, newExp       int64 // 0: none
	oldEmb               bool  // the old value is marked embstr
	oldObj               bool  // the old value is a list
	lfu                  bool
	keepTTL              bool // INCR's store (GetStringSlot, SetStringKeepTTLAt): newExp is the old expiry
}

// checkSetOverwrite runs SetStringCond over an existing key set up as c
// says, and compares the result with the same SET into an empty store:
// the value, expiry, embstr mark, record bytes, used memory and volatile
// count must be the same whether the record was overwritten in place or
// replaced, and it must be overwritten in place exactly when the new
// record has the old one's layout.
func checkSetOverwrite(t *testing.T, c overwriteCase) {
	t.Helper()
	const now = 1_000_000
	key := bytes.Repeat([]byte{'k'}, c.klen)
	other := []byte("other-key") // another key in the store, with an expiry
	oldVal := make([]byte, c.oldLen, c.oldLen+c.oldSpare)
	for i := range oldVal {
		oldVal[i] = 'o'
	}
	newVal := make([]byte, c.newLen, c.newLen+7) // spare capacity: SET drops it
	for i := range newVal {
		newVal[i] = byte('a' + i%26)
	}

	s := New(1, Hooks{})
	ref := New(1, Hooks{})
	if c.lfu {
		s.SetLFU(true)
		ref.SetLFU(true)
	}
	db, rdb := s.DB(0, now), ref.DB(0, now)
	for _, d := range []DB{db, rdb} {
		d.SetString(other, []byte("v"), now+5000)
	}
	if c.oldObj {
		db.Set(key, NewList(), c.oldExp)
	} else {
		db.Set(key, oldVal, c.oldExp) // a []byte keeps its capacity
	}
	if c.oldEmb {
		db.MarkEmbstr(key)
	}
	before := recordOf(db, key)
	if c.keepTTL {
		c.newExp = c.oldExp
	}
	inPlace := !c.oldObj && c.oldSpare == 0 && c.oldLen == c.newLen && (c.oldExp != 0) == (c.newExp != 0)

	if c.keepTTL {
		_, slot, found, err := db.GetStringSlot(key)
		if !found || err != nil {
			t.Fatalf("found %v err %v", found, err)
		}
		db.SetStringKeepTTLAt(slot, key, newVal)
	} else if found, stored := db.SetStringCond(key, newVal, c.newExp, false, false); !found || !stored {
		t.Fatalf("found %v stored %v", found, stored)
	}
	rdb.SetStringCond(key, newVal, c.newExp, false, false)
	if c.newLen > 0 {
		newVal[0] = '!' // the stores copied it
	}

	after := recordOf(db, key)
	if got := after == before; got != inPlace {
		t.Errorf("overwritten in place: %v, want %v", got, inPlace)
	}
	e, _ := db.Peek(key)
	re, _ := rdb.Peek(key)
	v, isStr := e.Str()
	rv, _ := re.Str()
	if !isStr || !bytes.Equal(v, rv) || cap(v) != cap(rv) || e.Exp != re.Exp || e.Embstr() || e.Size() != re.Size() {
		t.Errorf("entry %q cap %d exp %d emb %v size %d; want %q cap %d exp %d size %d",
			v, cap(v), e.Exp, e.Embstr(), e.Size(), rv, cap(rv), re.Exp, re.Size())
	}
	if !c.lfu && e.Access != re.Access {
		t.Errorf("access %d, want %d", e.Access, re.Access)
	}
	if c.lfu && e.Access>>8 != re.Access>>8 {
		t.Errorf("LFU time %d, want %d", e.Access>>8, re.Access>>8)
	}
	if got, want := recBytesAll(after), recBytesAll(recordOf(rdb, key)); !c.lfu && !bytes.Equal(got, want) {
		t.Errorf("record\n%x, want\n%x", got, want)
	}
	if s.UsedMemory() != ref.UsedMemory() {
		t.Errorf("used memory %d, want %d", s.UsedMemory(), ref.UsedMemory())
	}
	if db.Volatile() != rdb.Volatile() || db.Size() != rdb.Size() {
		t.Errorf("volatile %d size %d, want %d %d", db.Volatile(), db.Size(), rdb.Volatile(), rdb.Size())
	}
	// the table still finds both keys, and the expiry index is usable
	if _, ok := db.Peek(other); !ok {
		t.Error("other key lost")
	}
	s.DB(0, now+1_000_000_000).Delete(key)
	if db.Volatile() != 1 {
		t.Errorf("volatile after delete %d, want 1", db.Volatile())
	}
}

// TestSetOverwriteInPlace: SET (and MSET) over a string of the same length
// and expiry presence, and INCR's store keeping the expiry, reuse the record
// (the pipelined SET's allocation),
// with the same result as a new record, for keys and values on both
// sides of the one-byte length limit, raw, embstr-marked, object and
// expiring old values, LRU and LFU.
func TestSetOverwriteInPlace(t *testing.T) {
	var cases []overwriteCase
	for _, kl := range []int{0, 1, 16, 127, 128, 300} {
		for _, lens := range [][2]int{{3, 3}, {0, 0}, {3, 4}, {4, 3}, {127, 127}, {128, 128}, {127, 128}, {5000, 5000}} {
			for _, exps := range [][2]int64{{0, 0}, {0, 9_000_000}, {8_000_000, 0}, {8_000_000, 9_000_000}} {
				cases = append(cases, overwriteCase{klen: kl, oldLen: lens[0], newLen: lens[1], oldExp: exps[0], newExp: exps[1]})
			}
		}
	}
	cases = append(cases,
		overwriteCase{klen: 16, oldLen: 3, newLen: 3, oldSpare: 5},
		overwriteCase{klen: 16, oldLen: 3, newLen: 3, oldSpare: 5, oldExp: 8_000_000, newExp: 9_000_000},
		overwriteCase{klen: 16, oldLen: 1, newLen: 1, oldEmb: true},
		overwriteCase{klen: 16, oldLen: 1, newLen: 1, oldEmb: true, oldExp: 8_000_000, newExp: 9_000_000},
		overwriteCase{klen: 16, oldObj: true, newLen: 3},
		overwriteCase{klen: 16, oldObj: true, newLen: 3, oldExp: 8_000_000, newExp: 9_000_000},
		overwriteCase{klen: 16, oldLen: 3, newLen: 3, lfu: true},
		overwriteCase{klen: 200, oldLen: 300, newLen: 300, oldExp: 8_000_000, newExp: 9_000_000, lfu: true},
	)
	// INCR's store keeps the expiry: every length and expiry case again
	for _, c := range cases {
		if !c.oldObj && c.newExp == c.oldExp {
			c.keepTTL = true
			cases = append(cases, c)
		}
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) { checkSetOverwrite(t, c) })
	}
}

func FuzzSetOverwrite(f *testing.F) {
	f.Add(uint16(16), uint16(3), uint16(3), uint8(0), false, false, false, false)
	f.Add(uint16(130), uint16(200), uint16(200), uint8(0), true, true, false, false)
	f.Add(uint16(1), uint16(2), uint16(2), uint8(3), false, false, true, false)
	f.Add(uint16(16), uint16(5), uint16(5), uint8(0x80), true, false, false, false)
	f.Fuzz(func(t *testing.T, kl, ol, nl uint16, spare uint8, oldExp, newExp, emb, obj bool) {
		// spare's high bit chooses INCR's store (not over a list)
		c := overwriteCase{klen: int(kl % 400), oldLen: int(ol % 400), newLen: int(nl % 400), oldSpare: int(spare & 0x7f), oldEmb: emb, oldObj: obj,
			keepTTL: spare&0x80 != 0 && !obj}
		if oldExp {
			c.oldExp = 8_000_000
		}
		if newExp {
			c.newExp = 9_000_000
		}
		checkSetOverwrite(t, c)
	})
}

// TestSetOverwriteConditions: NX over an existing key and XX over a
// missing one store nothing, also when the layouts match.
func TestSetOverwriteConditions(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 1000)
	k := []byte("k")
	db.SetString(k, []byte("abc"), 0)
	if found, stored := db.SetStringCond(k, []byte("xyz"), 0, true, false); !found || stored {
		t.Fatalf("NX: found %v stored %v", found, stored)
	}
	if v, _, _ := db.GetString(k); string(v) != "abc" {
		t.Fatalf("NX changed the value: %q", v)
	}
	if found, stored := db.SetStringCond([]byte("m"), []byte("xyz"), 0, false, true); found || stored {
		t.Fatalf("XX: found %v stored %v", found, stored)
	}
	if found, stored := db.SetStringCond(k, []byte("xyz"), 0, false, true); !found || !stored {
		t.Fatalf("XX existing: found %v stored %v", found, stored)
	}
	if v, _, _ := db.GetString(k); string(v) != "xyz" {
		t.Fatalf("XX value %q", v)
	}
	// an expired key of the same layout is deleted, not overwritten
	db.SetString(k, []byte("abc"), 1500)
	later := s.DB(0, 2000)
	if found, stored := later.SetStringCond(k, []byte("xyz"), 3000, false, false); found || !stored {
		t.Fatalf("expired: found %v stored %v", found, stored)
	}
	if e, _ := later.Peek(k); e.Exp != 3000 || later.Volatile() != 1 {
		t.Fatalf("expired: exp %d volatile %d", e.Exp, later.Volatile())
	}
}

// BenchmarkSetStringCond is SET over existing keys: same-length values
// (overwritten in place, no allocation) and a length change (a new record).
func BenchmarkSetStringCond(b *testing.B) {
	for _, tc := range []struct {
		name string
		vals [2]string
	}{{"same-length", [2]string{"xxx", "yyy"}}, {"new-length", [2]string{"xxx", "yyyy"}}} {
		b.Run(tc.name, func(b *testing.B) {
			s := New(1, Hooks{})
			db := s.DB(0, 1000)
			keys := make([][]byte, 1024)
			for i := range keys {
				keys[i] = []byte(fmt.Sprintf("key:%012d", i))
				db.SetString(keys[i], []byte(tc.vals[1]), 0)
			}
			vals := [2][]byte{[]byte(tc.vals[0]), []byte(tc.vals[1])}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				db.SetStringCond(keys[i&1023], vals[i>>10&1], 0, false, false)
			}
		})
	}
}
