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
			now := int64(1000)
			key := func() []byte {
				return []byte(fmt.Sprintf("%c:%d", 'a'+r.IntN(5), r.IntN(60)))
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
						if r.IntN(2) == 0 {
							db.Delete(k)
						} else {
							db.SetString(k, []byte("u"), 0)
						}
						s.Restore(&sv)
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

// TestSlotIndexCollision checks the index's handling of distinct keys
// whose hashes are equal: one entry, counted per key.
func TestSlotIndexCollision(t *testing.T) {
	ix := &slotIndex{slotOf: testSlotOf}
	ix.add(7, []byte("a:1"))
	ix.add(7, []byte("a:2"))
	ix.add(9, []byte("a:3"))
	sk := &ix.slots[testSlotOf([]byte("a:1"))]
	if sk.n != 3 || len(sk.ents) != 2 || sk.pos[7].n != 2 {
		t.Fatalf("after adds: n %d ents %v pos %v", sk.n, sk.ents, sk.pos)
	}
	ix.del(7, []byte("a:1"))
	if sk.n != 2 || sk.pos[7].n != 1 {
		t.Fatalf("after one delete: n %d pos %v", sk.n, sk.pos)
	}
	ix.del(7, []byte("a:2"))
	ix.del(9, []byte("a:3"))
	if sk.n != 0 || sk.ents != nil || sk.pos != nil {
		t.Fatalf("after deletes: n %d ents %v pos %v", sk.n, sk.ents, sk.pos)
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
