package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"
)

// testSlotOf is a slot function with few slots, so that slots hold many
// keys (compaction) and keys of one slot share shards: the byte sum of the
// key's part before ':' modulo 8.
func testSlotOf(key []byte) int {
	n := 0
	for _, c := range key {
		if c == ':' {
			break
		}
		n += int(c)
	}
	return n % 8
}

// bruteSlots returns db 0's stored keys by slot, sorted, by a walk.
func bruteSlots(s *Store) [8][]string {
	var out [8][]string
	s.DB(0, 0).ForEachStored(func(k string, _ Entry) bool {
		slot := testSlotOf([]byte(k))
		out[slot] = append(out[slot], k)
		return true
	})
	for i := range out {
		slices.Sort(out[i])
	}
	return out
}

// TestSlotIndexRandom applies random keyspace operations (sets, overwrites,
// deletes, lazy and active expiry, eviction, undone writes, flushes, swaps,
// a sibling store replacing the data) to a store with the slot index and
// checks after each one that every slot's count and keys equal a walk of
// the keyspace, and that the keys come newest first (Redis's order: a key
// added, not overwritten, goes first).
func TestSlotIndexRandom(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 14))
			// order: db 0's keys in the order they were added (newest
			// last), from the "new" hook (Redis's dbAdd); a key deleted
			// meanwhile stays until the check after the step drops it
			var order []string
			ordered := true // order is known (not after a rebuild)
			s := New(2, Hooks{New: func(db int, key []byte, _ unsafe.Pointer) {
				if db == 0 {
					order = slices.DeleteFunc(order, func(k string) bool { return k == string(key) })
					order = append(order, string(key))
				}
			}})
			s.SetKeyEvents(true, false)
			s.IndexSlots(testSlotOf)
			if seed%2 == 0 {
				s.slots.small = 4 // slots with a map, and back
			}
			now := int64(1000)
			large := 0 // steps after which a slot had a map (past slotSmall keys)
			defer func() { t.Logf("%d steps with a map", large) }()
			key := func() []byte {
				return []byte(fmt.Sprintf("%c:%d", 'a'+r.IntN(3), r.IntN(400)))
			}
			for step := 0; step < 3000; step++ {
				db := s.DB(0, now)
				var op string
				switch n := r.IntN(100); {
				case n < 30:
					op = "set"
					var exp int64
					if r.IntN(3) == 0 {
						exp = now + int64(r.IntN(50))
					}
					db.SetString(key(), []byte("v"), exp)
				case n < 38:
					op = "setobj"
					l := NewList()
					l.PushBack([]byte("x"))
					db.Set(key(), l, 0)
				case n < 45:
					op = "setcond"
					db.SetStringCond(key(), []byte("w"), 0, r.IntN(2) == 0, r.IntN(3) == 0)
				case n < 60:
					op = "delete"
					db.Delete(key())
				case n < 68:
					op = "lookup"
					db.Lookup(key())
				case n < 72:
					op = "activeexpire"
					for sh := 0; sh < NumShards; sh++ {
						s.ActiveExpire(sh, 0, now, 20)
					}
				case n < 75:
					op = "evict"
					s.EvictOne(Policy{Kind: PolicyRandom}, 5, now, nil)
				case n < 82:
					op = "undo"
					k := key()
					sv, ok := db.Save(k, 1<<20)
					if ok {
						deleted := false
						if r.IntN(2) == 0 {
							deleted = db.Delete(k)
						} else {
							db.SetString(k, []byte("u"), 0)
						}
						s.Restore(&sv)
						if _, back := db.PeekStored(k); deleted && back {
							// put back without the "new" hook: the
							// index lists it as the newest key
							order = slices.DeleteFunc(order, func(o string) bool { return o == string(k) })
							order = append(order, string(k))
						}
					}
				case n < 84:
					op = "db1"
					s.DB(1, now).SetString(key(), []byte("1"), 0)
				case n < 85:
					op = "flush"
					switch r.IntN(5) {
					case 0:
						db.Flush()
					case 1:
						s.DetachDB(0)
					case 2:
						s.DetachAll()
					case 3:
						s.FlushAll()
					case 4:
						s.DetachDB(1)
					}
				case n < 86:
					op = "swapdb"
					s.SwapDB(0, 1)
					ordered = false
				case n < 87:
					op = "replace"
					o := s.Sibling()
					od := o.DB(0, now)
					for i := 0; i < 20; i++ {
						od.SetString(key(), []byte("r"), 0)
					}
					s.Replace(o)
					ordered = false
				default:
					op = "time"
					now += int64(r.IntN(20))
				}
				walk := bruteSlots(s)
				order = slices.DeleteFunc(order, func(k string) bool {
					_, ok := slices.BinarySearch(walk[testSlotOf([]byte(k))], k)
					return !ok
				})
				for slot := 0; slot < 8; slot++ {
					want := walk[slot]
					if n := s.DB(0, now).CountKeysInSlot(slot, testSlotOf); n != len(want) {
						t.Fatalf("step %d (%s): slot %d: count %d, walk %d", step, op, slot, n, len(want))
					}
					got := s.DB(0, now).KeysInSlot(slot, 1<<30, testSlotOf)
					sorted := slices.Sorted(slices.Values(got))
					if !slices.Equal(sorted, want) {
						t.Fatalf("step %d (%s): slot %d: keys %q, walk %q", step, op, slot, sorted, want)
					}
					if lim := r.IntN(4); lim < len(got) {
						if part := s.DB(0, now).KeysInSlot(slot, lim, testSlotOf); !slices.Equal(part, got[:lim]) {
							t.Fatalf("step %d (%s): slot %d: first %d keys %q, of %q", step, op, slot, lim, part, got)
						}
					}
					if ordered {
						var exp []string
						for i := len(order) - 1; i >= 0; i-- {
							if testSlotOf([]byte(order[i])) == slot {
								exp = append(exp, order[i])
							}
						}
						if !slices.Equal(got, exp) {
							t.Fatalf("step %d (%s): slot %d: order %q, want %q", step, op, slot, got, exp)
						}
					}
				}
				for i := range s.slots.slots {
					if s.slots.slots[i].pos != nil {
						large++
						break
					}
				}
				if !ordered { // take the index's order as the model's
					order = order[:0]
					for slot := 0; slot < 8; slot++ {
						got := s.DB(0, now).KeysInSlot(slot, 1<<30, testSlotOf)
						slices.Reverse(got)
						order = append(order, got...)
					}
					ordered = true
				}
			}
		})
	}
}

// TestSlotIndexCollision checks keys whose 64-bit hashes are equal (put
// in the table directly: the store's hash cannot be made to collide):
// they share one entry of their slot, each is counted and listed once,
// and the index stays right as they go, also through a rebuild.
func TestSlotIndexCollision(t *testing.T) {
	s := New(1, Hooks{})
	s.IndexSlots(testSlotOf)
	db := s.DB(0, 0)
	const h = 0x1234567800 // shard 0
	ds := &s.shards[0].dbs[0]
	var recs []unsafe.Pointer
	for _, k := range []string{"a:1", "a:2", "b:1"} { // a:* share a slot
		p := newStrRec(0, []byte(k), []byte("v"), 0, 0)
		ds.keys.set(h, []byte(k), nil, p)
		s.slots.add(&ds.keys, h, []byte(k), p)
		recs = append(recs, p)
	}
	db.SetString([]byte("a:3"), []byte("v"), 0)
	slotA, slotB := testSlotOf([]byte("a:1")), testSlotOf([]byte("b:1"))
	check := func(what string, wantA, wantB []string) {
		t.Helper()
		for _, c := range []struct {
			slot int
			want []string
		}{{slotA, wantA}, {slotB, wantB}} {
			got := slices.Sorted(slices.Values(db.KeysInSlot(c.slot, 100, testSlotOf)))
			if n := db.CountKeysInSlot(c.slot, testSlotOf); n != len(c.want) || !slices.Equal(got, c.want) {
				t.Fatalf("%s: slot %d: count %d keys %q, want %q", what, c.slot, n, got, c.want)
			}
		}
	}
	check("added", []string{"a:1", "a:2", "a:3"}, []string{"b:1"})
	if sk := &s.slots.slots[slotA]; len(sk.ents) != 2 || sk.dup[h] != 1 {
		t.Fatalf("slot a: ents %v dup %v", sk.ents, sk.dup)
	}
	s.rebuildSlots()
	check("rebuilt", []string{"a:1", "a:2", "a:3"}, []string{"b:1"})
	db.remove(ds, h, 0, recs[0])
	check("a:1 removed", []string{"a:2", "a:3"}, []string{"b:1"})
	db.remove(ds, h, 0, recs[1])
	db.remove(ds, h, 0, recs[2])
	check("all removed", []string{"a:3"}, nil)
	if sk := &s.slots.slots[slotA]; len(sk.ents) != 1 || sk.dup != nil {
		t.Fatalf("slot a: ents %v dup %v", sk.ents, sk.dup)
	}
}

// TestSlotIndexLarge checks a slot past slotSmall keys (a map of entries,
// compaction) and back, in order.
func TestSlotIndexLarge(t *testing.T) {
	s := New(1, Hooks{})
	s.IndexSlots(func([]byte) int { return 5 })
	db := s.DB(0, 0)
	var want []string // newest first
	for i := 0; i < 3*slotSmall; i++ {
		k := fmt.Sprint("k", i)
		db.SetString([]byte(k), []byte("v"), 0)
		want = append([]string{k}, want...)
	}
	for i := 0; i < 3*slotSmall; i += 3 { // every third: compactions
		db.Delete([]byte(fmt.Sprint("k", i)))
		want = slices.DeleteFunc(want, func(k string) bool { return k == fmt.Sprint("k", i) })
		if got := db.KeysInSlot(5, 1000, nil); !slices.Equal(got, want) {
			t.Fatalf("after deleting k%d: %q, want %q", i, got, want)
		}
	}
	if s.slots.slots[5].pos == nil {
		t.Fatal("no map past slotSmall keys")
	}
	for len(want) > 3 {
		db.Delete([]byte(want[len(want)/2]))
		want = slices.Delete(want, len(want)/2, len(want)/2+1)
		if got := db.KeysInSlot(5, 1000, nil); !slices.Equal(got, want) || db.CountKeysInSlot(5, nil) != len(want) {
			t.Fatalf("%d keys: %q, want %q", len(want), got, want)
		}
	}
	if s.slots.slots[5].pos != nil {
		t.Fatal("still a map with 3 keys")
	}
}

// TestSlotIndexOff checks that a store without the index answers by a
// walk, and has no index to keep.
func TestSlotIndexOff(t *testing.T) {
	s := New(1, Hooks{})
	db := s.DB(0, 0)
	db.SetString([]byte("a:1"), []byte("v"), 0)
	db.SetString([]byte("a:2"), []byte("v"), 0)
	if s.slots != nil || s.SlotsIndexed() {
		t.Fatal("index on without IndexSlots")
	}
	slot := testSlotOf([]byte("a:1"))
	if n := db.CountKeysInSlot(slot, testSlotOf); n != 2 {
		t.Fatalf("count %d", n)
	}
	if got := db.KeysInSlot(slot, 1, testSlotOf); len(got) != 1 {
		t.Fatalf("keys %q", got)
	}
}

// TestSlotIndexConcurrent adds and deletes keys of the same slots from
// several goroutines holding different shards (run it with -race): the
// slots' mutexes keep the index right.
func TestSlotIndexConcurrent(t *testing.T) {
	s := New(1, Hooks{})
	s.IndexSlots(testSlotOf)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 2000; i++ {
				k := []byte(fmt.Sprintf("a:%d:%d", g, r.IntN(100)))
				sh := s.ShardOf(k)
				s.LockShard(sh)
				if r.IntN(3) == 0 {
					s.DB(0, 0).Delete(k)
				} else {
					s.DB(0, 0).SetString(k, []byte("v"), 0)
				}
				s.UnlockShard(sh)
			}
		}()
	}
	wg.Wait()
	walk := bruteSlots(s)
	for slot := range walk {
		if n := s.DB(0, 0).CountKeysInSlot(slot, testSlotOf); n != len(walk[slot]) {
			t.Fatalf("slot %d: count %d, walk %d", slot, n, len(walk[slot]))
		}
	}
}

// BenchmarkAddDelete adds and deletes keys (the paths that keep the slot
// index), without the index (a server without cluster mode: it must cost
// nothing) and with it.
func BenchmarkAddDelete(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "cluster"}[indexed], func(b *testing.B) {
			s := New(1, Hooks{})
			if indexed {
				s.IndexSlots(fnvSlot)
			}
			db := s.DB(0, 1000)
			keys := make([][]byte, 1024)
			for i := range keys {
				keys[i] = []byte(fmt.Sprintf("key:%012d", i))
			}
			v := []byte("value")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i&1024 == 0 {
					db.SetString(keys[i&1023], v, 0)
				} else {
					db.Delete(keys[i&1023])
				}
			}
		})
	}
}

// fnvSlot is a slot function over 16384 slots for benchmarks (the FNV-1a
// hash of the key: CRC16 is the cluster package's).
func fnvSlot(key []byte) int {
	h := uint32(2166136261)
	for _, c := range key {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % NumSlots)
}
