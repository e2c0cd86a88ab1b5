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
// Without cluster mode the store has no index: adding or removing a key
// then costs one load and branch more.
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
	slots  [NumSlots]slotKeys
}

// slotKeys is one slot's keys: the hashes of its keys in the order they
// were added (ents, oldest first; an entry whose pos no longer points at it
// is a deleted key's, skipped and dropped by compact), and per hash its
// live entry. Keys whose 64-bit hashes collide share one entry (n counts
// them): the walk resolves a hash to every key of the slot under it.
type slotKeys struct {
	mu   sync.Mutex
	n    int // keys
	ents []uint64
	pos  map[uint64]slotPos
}

// slotPos is the live entry of a hash in ents and how many keys have it.
type slotPos struct{ i, n int32 }

// IndexSlots turns the slot→keys index on (cluster-enabled yes), with
// slotOf as the hash slot of a key, and indexes the keys database 0
// already holds. Call it before the store is shared.
func (s *Store) IndexSlots(slotOf func(key []byte) int) {
	s.slotOf = slotOf
	s.rebuildSlots()
}

// SlotsIndexed reports whether the slot→keys index is on.
func (s *Store) SlotsIndexed() bool { return s.slotOf != nil }

// rebuildSlots replaces the index by one of database 0's current keys
// (nothing without the index). Requires LockAll (or an unshared store).
func (s *Store) rebuildSlots() {
	if s.slotOf == nil {
		return
	}
	ix := &slotIndex{slotOf: s.slotOf}
	for i := range s.shards {
		if len(s.shards[i].dbs) == 0 {
			continue
		}
		s.shards[i].dbs[0].keys.each(func(h uint64, p unsafe.Pointer) bool {
			ix.add(h, keyBytes(recKey(p)))
			return true
		})
	}
	s.slots = ix
}

// keyBytes returns k's bytes without copying them (not to be written).
func keyBytes(k string) []byte { return unsafe.Slice(unsafe.StringData(k), len(k)) }

// add indexes a new key hashed h.
func (ix *slotIndex) add(h uint64, key []byte) {
	sk := &ix.slots[ix.slotOf(key)]
	sk.mu.Lock()
	sk.n++
	if p, ok := sk.pos[h]; ok { // a hash collision within the slot
		p.n++
		sk.pos[h] = p
	} else {
		if sk.pos == nil {
			sk.pos = make(map[uint64]slotPos)
		}
		sk.pos[h] = slotPos{int32(len(sk.ents)), 1}
		sk.ents = append(sk.ents, h)
	}
	sk.mu.Unlock()
}

// del unindexes the removed key hashed h.
func (ix *slotIndex) del(h uint64, key []byte) {
	sk := &ix.slots[ix.slotOf(key)]
	sk.mu.Lock()
	p, ok := sk.pos[h]
	if ok {
		sk.n--
		if p.n > 1 {
			p.n--
			sk.pos[h] = p
		} else {
			delete(sk.pos, h)
		}
		switch {
		case sk.n == 0:
			sk.ents, sk.pos = nil, nil
		case len(sk.ents) > 2*len(sk.pos)+16:
			sk.compact()
		}
	}
	sk.mu.Unlock()
}

// compact drops the entries of deleted keys, keeping the order.
func (sk *slotKeys) compact() {
	j := 0
	for i, h := range sk.ents {
		if p := sk.pos[h]; int(p.i) == i && p.n > 0 {
			p.i = int32(j)
			sk.pos[h] = p
			sk.ents[j] = h
			j++
		}
	}
	clear(sk.ents[j:])
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
		if p, ok := sk.pos[h]; !ok || int(p.i) != i {
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
