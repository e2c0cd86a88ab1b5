package keyspace

import "unsafe"

// Lazy-free classes (Store.SetLazyFree): the deletions Redis 7.0 hands to
// its background thread under its lazyfree-lazy-* directives. Crescent's
// GC frees a value the same way whatever the class; only the
// lazyfreed_objects statistic follows Redis, through Hooks.LazyFree.
const (
	// LazyServerDel is lazyfree-lazy-server-del: a value overwritten
	// (Redis's dbOverwrite: SET, a store command's destination) or deleted
	// by a command in Redis's dbDelete (RENAME's and COPY's destination,
	// RESTORE REPLACE, an empty store result).
	LazyServerDel uint32 = 1 << iota
	// LazyExpire is lazyfree-lazy-expire: a key deleted because its time
	// passed.
	LazyExpire
	// LazyEviction is lazyfree-lazy-eviction: a key evicted for maxmemory.
	LazyEviction
	// LazyUserDel is lazyfree-lazy-user-del: DEL frees as UNLINK does.
	// The store does not act on it; DEL's handler reads it (LazyOn).
	LazyUserDel
)

// SetLazyFree sets the lazy-free classes that are on (the Lazy* bits).
func (s *Store) SetLazyFree(classes uint32) { s.lazyOn.Store(classes) }

// LazyOn reports whether lazy-free class c (a Lazy* bit) is on.
func (s *Store) LazyOn(c uint32) bool { return s.lazyOn.Load()&c != 0 }

// PropagatedDel is the command a deletion of lazy-free class c is
// propagated as (to the AOF and the replicas): UNLINK when c is on, DEL
// otherwise, as Redis 7.0 propagates an expired or evicted key
// (propagateExpire) and rewrites EXPIRE/GETEX in the past, RESTORE of a
// past time and SPOP of a whole set.
func (s *Store) PropagatedDel(c uint32) []byte {
	if s.LazyOn(c) {
		return []byte("UNLINK")
	}
	return []byte("DEL")
}

// lazyFree hands the value of record p, leaving the keyspace by class c,
// to Hooks.LazyFree when c is on. A string is a single allocation in
// Redis, never freed in the background: only collections are handed on.
func (s *Store) lazyFree(c uint32, p unsafe.Pointer) {
	if s.lazyOn.Load()&c == 0 || s.hooks.LazyFree == nil || hdrOf(p).flags&recObj == 0 {
		return
	}
	s.hooks.LazyFree((*objRec)(p).val)
}

// overwritten is lazyFree for record old, overwritten by a record holding
// val (nil: a string): a collection stored again in its own key (a
// handler's Set of the value it changed) is not dropped.
func (db DB) overwritten(old unsafe.Pointer, val any) {
	s := db.s
	if s.lazyOn.Load()&LazyServerDel == 0 || hdrOf(old).flags&recObj == 0 {
		return
	}
	if val != nil && sameCollection((*objRec)(old).val, val) {
		return
	}
	s.lazyFree(LazyServerDel, old)
}

// DeleteLazy is Delete for a deletion of lazy-free class c (Redis's
// dbDelete under lazyfree-lazy-server-del, an EXPIRE in the past under
// lazyfree-lazy-expire): the value is handed to Hooks.LazyFree when c is
// on.
func (db DB) DeleteLazy(key []byte, c uint32) bool {
	ds, h, sh, p := db.live(key)
	if p == nil {
		return false
	}
	db.s.lazyFree(c, p)
	db.streamLeft(key, p, nil)
	db.remove(ds, h, sh, p)
	return true
}

// sameCollection reports whether a and b are the same collection object.
func sameCollection(a, b any) bool {
	switch x := a.(type) {
	case *List:
		y, ok := b.(*List)
		return ok && x == y
	case *Set:
		y, ok := b.(*Set)
		return ok && x == y
	case *Hash:
		y, ok := b.(*Hash)
		return ok && x == y
	case *ZSet:
		y, ok := b.(*ZSet)
		return ok && x == y
	case *Stream:
		y, ok := b.(*Stream)
		return ok && x == y
	}
	return false
}
