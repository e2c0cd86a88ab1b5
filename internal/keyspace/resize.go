package keyspace

import "unsafe"

// Memory accounting of collection writes (docs/design/memory.md,
// "Collections in used_memory"). A write of a list, hash, set, sorted set
// or stream changes its value in place, after which the key's accounted
// size must be measured again. The DB view such a command runs with
// tracks (Track) every object record its lookups hand out and its
// stores create, whatever keyspace call the handler made; Remeasure then
// measures those records where they are, without looking their keys up
// again. A record that left its table meanwhile (deleted, expired,
// replaced) is marked recDead and skipped: its size left the shard's
// total with it.

// resizesMax is how many object records Resizes tracks: a collection
// write touches one key or two (SMOVE, LMOVE); past that the caller falls
// back to re-measuring its keys by name (DB.Resized).
const resizesMax = 4

// Resizes is the set of object records a command's DB view handed out
// or created since Track. Its zero value is empty.
type Resizes struct {
	recs [resizesMax]unsafe.Pointer
	shs  [resizesMax]uint8 // each record's shard
	n    uint8
	over bool // more records than recs holds
	// tracking: DB.Track turned tracking on for the view referring to it
	// (a Scratch's; in the struct's padding)
	tracking bool
}

// Track turns record tracking into x's Resizes (reset first) on for the
// view: Remeasure then re-measures what the view's calls handed out. (It
// sets the view in place: a copy of a 48-byte view per command is
// measurable.)
func (db *DB) Track(x *Scratch) {
	x.n, x.over, x.tracking = 0, false, true
	db.x = x
}

// track records the object record p of shard sh.
func (rs *Resizes) track(p unsafe.Pointer, sh int) {
	n := int(rs.n)
	for i := 0; i < n; i++ {
		if rs.recs[i] == p {
			return
		}
	}
	if n == resizesMax {
		rs.over = true
		return
	}
	rs.recs[n], rs.shs[n] = p, uint8(sh)
	rs.n++
}

// Remeasure measures again, in place, every object record still in its
// table that the view handed out or created since Track, updating the
// shards' accounted memory, and forgets them. It reports false when that
// may not cover every record the command changed (the view tracks
// nothing, or tracked more than it holds): the caller then re-measures
// its keys by name with Resized as well.
func (db DB) Remeasure() bool {
	if db.x == nil || !db.x.tracking {
		return false
	}
	rs := &db.x.Resizes
	for i := range int(rs.n) {
		o := (*objRec)(rs.recs[i])
		rs.recs[i] = nil
		if o.flags&recDead != 0 {
			continue
		}
		old := o.size
		o.size = entrySizeLen(len(o.key), o.val)
		if o.size != old {
			db.s.shards[rs.shs[i]].used.Add(int64(o.size) - int64(old))
		}
	}
	rs.n = 0
	return !rs.over
}

// Measured returns key's accounted size and the size a fresh measurement
// of its value gives now (ok false: no such key). They differ only when a
// write changed the value without re-measuring it: a consistency check
// for tests.
func (db DB) Measured(key []byte) (accounted, fresh int64, ok bool) {
	ds, h, _ := db.locate(key)
	p := ds.keys.get(h, key)
	if p == nil {
		return 0, 0, false
	}
	if hdrOf(p).flags&recObj == 0 {
		return int64(recSize(p)), int64(recSize(p)), true
	}
	o := (*objRec)(p)
	return int64(o.size), int64(entrySizeLen(len(o.key), o.val)), true
}
