package keyspace

import "unsafe"

// table maps keys to records by the store's 64-bit hash of the key; the
// rare keys with equal hashes share a collRec. A map slot is 16 bytes
// (a map[string]T slot is 16 plus T), and the key lives in the record.
type table struct {
	m map[uint64]unsafe.Pointer
	n int // keys
}

// get returns key's record, or nil.
func (t *table) get(h uint64, key []byte) unsafe.Pointer {
	p := t.m[h]
	if p == nil {
		return nil
	}
	if hdrOf(p).flags&recColl != 0 {
		for _, q := range (*collRec)(p).recs {
			if recKeyIs(q, key) {
				return q
			}
		}
		return nil
	}
	if recKeyIs(p, key) {
		return p
	}
	return nil
}

// set stores rec as key's record, replacing old (nil: a new key).
func (t *table) set(h uint64, key []byte, old, rec unsafe.Pointer) {
	if t.m == nil {
		t.m = make(map[uint64]unsafe.Pointer)
	}
	cur := t.m[h]
	switch {
	case cur == nil:
		t.m[h] = rec
	case cur == old:
		t.m[h] = rec
	case hdrOf(cur).flags&recColl != 0:
		c := (*collRec)(cur)
		recs := make([]unsafe.Pointer, 0, len(c.recs)+1)
		for _, q := range c.recs {
			if q != old {
				recs = append(recs, q)
			}
		}
		t.m[h] = unsafe.Pointer(&collRec{recHdr: recHdr{flags: recColl}, recs: append(recs, rec)})
	default: // another key with the same hash
		t.m[h] = unsafe.Pointer(&collRec{recHdr: recHdr{flags: recColl}, recs: []unsafe.Pointer{cur, rec}})
	}
	if old == nil {
		t.n++
	}
}

// del removes key's record rec.
func (t *table) del(h uint64, rec unsafe.Pointer) {
	cur := t.m[h]
	if cur == nil {
		return
	}
	if cur == rec {
		delete(t.m, h)
		t.n--
		return
	}
	if hdrOf(cur).flags&recColl == 0 {
		return
	}
	c := (*collRec)(cur)
	recs := make([]unsafe.Pointer, 0, len(c.recs))
	for _, q := range c.recs {
		if q != rec {
			recs = append(recs, q)
		}
	}
	if len(recs) == len(c.recs) {
		return
	}
	t.n--
	if len(recs) == 1 {
		t.m[h] = recs[0]
	} else {
		t.m[h] = unsafe.Pointer(&collRec{recHdr: recHdr{flags: recColl}, recs: recs})
	}
}

// bucket calls fn for each record stored under hash h.
func (t *table) bucket(h uint64, fn func(p unsafe.Pointer) bool) bool {
	p := t.m[h]
	if p == nil {
		return true
	}
	return visit(p, fn)
}

func visit(p unsafe.Pointer, fn func(p unsafe.Pointer) bool) bool {
	if hdrOf(p).flags&recColl != 0 {
		for _, q := range (*collRec)(p).recs {
			if !fn(q) {
				return false
			}
		}
		return true
	}
	return fn(p)
}

// each calls fn for every record, with its hash, until fn returns false.
// fn may delete the record it is given.
func (t *table) each(fn func(h uint64, p unsafe.Pointer) bool) {
	for h, p := range t.m {
		if !visit(p, func(q unsafe.Pointer) bool { return fn(h, q) }) {
			return
		}
	}
}
