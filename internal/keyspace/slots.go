package keyspace

import (
	"sync"
	"unsafe"
)

// The slot→keys index of cluster mode (docs/design/cluster.md, "The
// slot→keys index"): Redis 7.0's slots_to_keys (db.c slotToKeyAdd/Del).
// Database 0's keys, the only ones cluster mode serves, are listed per hash
// slot, newest first as Redis lists them: CLUSTER COUNTKEYSINSLOT is O(1),
// GETKEYSINSLOT O(keys returned), and SETSLOT NODE's "still holds keys"
// check O(1), instead of scans of the whole keyspace.
//
// The index is kept where the keyspace adds a key (DB.store of a key that
// did not exist: Redis's dbAdd) and removes one (DB.remove: deletion,
// expiry, eviction, an undone script write), and replaced where whole
// databases go (Flush, DetachDB, DetachAll, FlushAll, SwapDB, Replace).
// Overwriting a key's value keeps its place, as Redis's dbOverwrite does.
// Without cluster mode the store has no index: adding a key costs nothing
// more (the index is one of the flags already tested there), removing
// one a load and a branch.
//
// A slot's keys hash to any lock shard, so two commands holding different
// shards may add keys of one slot at once: each slot has its own mutex.
// Readers (CountKeysInSlot, KeysInSlot) hold the whole keyspace (LockAll),
// so that they never see half of a script or transaction.

// NumSlots is the number of cluster hash slots.
const NumSlots = 16384

// slotIndex lists database 0's keys by slot.
type slotIndex struct {
	slotOf func(key []byte) int
	small  int // slotSmall (tests lower it)
	slots  [NumSlots]slotKeys
}

// slotKeys is one slot's keys: the hashes of its keys in the order they
// were added (ents, oldest first), one entry per hash. Up to slotSmall
// entries, a deleted key's entry is found by a scan and removed; past
// that, pos maps each hash to its entry, and a deleted key's entry stays
// until compact drops it (an entry is live while pos points at it).
//
// Keys whose 64-bit hashes collide (distinct keys the table keeps side by
// side) share their hash's entry: dup counts the keys beyond the first
// (nil while there are none, as almost always), and the walk resolves an
// entry to every key of the slot under its hash.
type slotKeys struct {
	mu   sync.Mutex
	n    int // keys
	ents []uint64
	pos  map[uint64]int32
	dup  map[uint64]int32
}

// slotSmall is the number of entries up to which a slot has no map: a
// scan of them costs less than a map, and a slot of a million-key node
// holds about 61 keys.
const slotSmall = 128

// IndexSlots turns the slot→keys index on (cluster-enabled yes), with
// slotOf as the hash slot of a key, and indexes the keys database 0
// already holds. Call it before the store is shared.
func (s *Store) IndexSlots(slotOf func(key []byte) int) {
	s.slotOf = slotOf
	s.rebuildSlots()
	s.newOn.Or(newSlots)
}

// SlotsIndexed reports whether the slot→keys index is on.
func (s *Store) SlotsIndexed() bool { return s.slotOf != nil }

// rebuildSlots replaces the index by one of database 0's current keys
// (nothing without the index). Requires LockAll (or an unshared store).
func (s *Store) rebuildSlots() {
	if s.slotOf == nil {
		return
	}
	small := slotSmall
	if s.slots != nil {
		small = s.slots.small
	}
	ix := &slotIndex{slotOf: s.slotOf, small: small}
	for i := range s.shards {
		if len(s.shards[i].dbs) == 0 {
			continue
		}
		t := &s.shards[i].dbs[0].keys
		t.each(func(h uint64, p unsafe.Pointer) bool {
			k := keyBytes(recKey(p))
			slot := ix.slotOf(k)
			sk := &ix.slots[slot]
			sk.n++
			// the first key of the slot under h (in the bucket's order)
			// has the entry
			first := true
			t.bucket(h, func(q unsafe.Pointer) bool {
				if q != p && ix.slotOf(keyBytes(recKey(q))) == slot {
					first = false
				}
				return q != p
			})
			if first {
				sk.insert(h, ix.small)
			} else {
				sk.addDup(h)
			}
			return true
		})
	}
	s.slots = ix
}

// keyBytes returns k's bytes without copying them (not to be written).
func keyBytes(k string) []byte { return unsafe.Slice(unsafe.StringData(k), len(k)) }

// add indexes key, just added to t under hash h as record p.
func (ix *slotIndex) add(t *table, h uint64, key []byte, p unsafe.Pointer) {
	slot := ix.slotOf(key)
	// another key of the slot under h (a hash collision) has the entry
	collide := false
	t.bucket(h, func(q unsafe.Pointer) bool {
		if q != p && ix.slotOf(keyBytes(recKey(q))) == slot {
			collide = true
		}
		return !collide
	})
	sk := &ix.slots[slot]
	sk.mu.Lock()
	sk.n++
	if collide {
		sk.addDup(h)
	} else {
		sk.insert(h, ix.small)
	}
	sk.mu.Unlock()
}

// del unindexes key, just removed from the table, hashed h.
func (ix *slotIndex) del(h uint64, key []byte) {
	sk := &ix.slots[ix.slotOf(key)]
	sk.mu.Lock()
	sk.n--
	if d := sk.dup[h]; d > 0 { // a key sharing the entry remains
		if d == 1 {
			delete(sk.dup, h)
			if len(sk.dup) == 0 {
				sk.dup = nil
			}
		} else {
			sk.dup[h] = d - 1
		}
	} else {
		sk.remove(h, ix.small)
	}
	sk.mu.Unlock()
}

func (sk *slotKeys) addDup(h uint64) {
	if sk.dup == nil {
		sk.dup = make(map[uint64]int32)
	}
	sk.dup[h]++
}

// insert adds an entry for h, the newest.
func (sk *slotKeys) insert(h uint64, small int) {
	if sk.pos != nil {
		sk.pos[h] = int32(len(sk.ents))
		sk.ents = append(sk.ents, h)
		return
	}
	sk.ents = append(sk.ents, h)
	if len(sk.ents) > small {
		sk.pos = make(map[uint64]int32, 2*small)
		for i, e := range sk.ents {
			sk.pos[e] = int32(i)
		}
	}
}

// remove drops h's entry.
func (sk *slotKeys) remove(h uint64, small int) {
	if sk.pos == nil {
		for i := len(sk.ents) - 1; i >= 0; i-- {
			if sk.ents[i] == h {
				copy(sk.ents[i:], sk.ents[i+1:])
				sk.ents = sk.ents[:len(sk.ents)-1]
				break
			}
		}
		if len(sk.ents) == 0 && cap(sk.ents) > small {
			sk.ents = nil
		}
		return
	}
	delete(sk.pos, h)
	switch {
	case len(sk.pos) <= small/2: // back to a scanned slot
		sk.compact()
		sk.pos = nil
	case len(sk.ents) > 2*len(sk.pos):
		sk.compact()
	}
}

// live reports whether entry i (hash h) is a live one.
func (sk *slotKeys) live(i int, h uint64) bool {
	if sk.pos == nil {
		return true
	}
	j, ok := sk.pos[h]
	return ok && int(j) == i
}

// compact drops the entries of deleted keys, keeping the order (pos: the
// live entries' new places).
func (sk *slotKeys) compact() {
	j := 0
	for i, h := range sk.ents {
		if sk.live(i, h) {
			sk.pos[h] = int32(j)
			sk.ents[j] = h
			j++
		}
	}
	if j < cap(sk.ents)/4 {
		sk.ents = append([]uint64(nil), sk.ents[:j]...)
	} else {
		sk.ents = sk.ents[:j]
	}
}

// CountKeysInSlot returns how many keys database db holds in hash slot
// slot, including keys whose time passed but that are not reclaimed yet,
// as Redis's countKeysInSlot. With the index, O(1); without it (or for
// another database than 0), a walk of the database. Requires LockAll.
func (db DB) CountKeysInSlot(slot int, slotOf func(key []byte) int) int {
	if ix := db.s.slots; ix != nil && db.idx == 0 {
		return ix.slots[slot].n
	}
	n := 0
	db.ForEachStored(func(k string, _ Entry) bool {
		if slotOf(keyBytes(k)) == slot {
			n++
		}
		return true
	})
	return n
}

// KeysInSlot returns up to max keys of hash slot slot in database db,
// newest first as Redis's getKeysInSlot (with the index; in the walk's
// order without it), including keys whose time passed but that are not
// reclaimed yet. Requires LockAll.
func (db DB) KeysInSlot(slot, max int, slotOf func(key []byte) int) []string {
	var out []string
	ix := db.s.slots
	if ix == nil || db.idx != 0 {
		db.ForEachStored(func(k string, _ Entry) bool {
			if len(out) >= max {
				return false
			}
			if slotOf(keyBytes(k)) == slot {
				out = append(out, k)
			}
			return true
		})
		return out
	}
	sk := &ix.slots[slot]
	for i := len(sk.ents) - 1; i >= 0 && len(out) < max; i-- {
		h := sk.ents[i]
		if !sk.live(i, h) {
			continue
		}
		db.s.shards[h&(NumShards-1)].dbs[0].keys.bucket(h, func(p unsafe.Pointer) bool {
			if k := recKey(p); len(out) < max && ix.slotOf(keyBytes(k)) == slot {
				out = append(out, k)
			}
			return true
		})
	}
	return out
}
