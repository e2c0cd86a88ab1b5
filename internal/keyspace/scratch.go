package keyspace

import "unsafe"

// Scratch is a command's own keyspace state, which the command's DB view
// refers to (Track, NoteHash): the object records to re-measure after a
// collection write (Resizes, while tracking), and the hash of one key
// that the caller already computed, so that the keyspace does not hash
// that key again (docs/design/concurrency.md, "Instructions per request,
// session 15"). Its zero value tracks nothing and notes no hash; a
// command's context holds one (command.Ctx.Scratch), reset with it.
type Scratch struct {
	Resizes // and tracking: Track turned record tracking on
	// hk, hn: the address of the first byte and the length of the key
	// whose hash is h (NoteHash); an address, not a pointer, so that a
	// command's context is reset without write barriers (the key's bytes
	// are the command's arguments, alive while it runs)
	hk uintptr
	hn int
	h  uint64
}

// NoteHash makes x the view's Scratch and notes in it that h is the
// store's hash (Store.Hash) of key: a lookup or a write of key through
// the view, or through a view derived from it (the same bytes, not an
// equal copy), uses h instead of hashing key again. Views derived from
// the view are of its store: no other store's view carries the note. key's bytes must not
// change while the view is in use (a command's arguments do not). It sets
// the view in place, as Track does.
func (db *DB) NoteHash(x *Scratch, key []byte, h uint64) {
	x.hk, x.hn, x.h = uintptr(unsafe.Pointer(unsafe.SliceData(key))), len(key), h
	db.x = x
}

// Noted reports whether the view has key's hash noted (NoteHash): the
// very bytes noted.
func (db DB) Noted(key []byte) bool {
	x := db.x
	return x != nil && x.hk == uintptr(unsafe.Pointer(unsafe.SliceData(key))) && x.hn == len(key)
}
