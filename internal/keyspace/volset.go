package keyspace

// volSet is the set of key hashes with an expiry of one database shard
// (dbShard.volatile): an open-addressing table of uint64 with linear
// probing and backward-shift deletion, indexed by the hash's high bits.
// It replaces a map[uint64]struct{}: the hashes are already uniform (the
// low 8 bits, the same in a shard, are left out of the index), so adding
// and removing cost a probe or two without rehashing, and sampling
// (ActiveExpire) walks the slots from a cursor, as Redis's active expiry
// scans its expires dictionary.
//
// Slot value 0 means empty; the hash 0 itself is kept in zero. The zero
// value is an empty set.
type volSet struct {
	slots []uint64 // len 0 or a power of two
	n     int      // hashes in slots (zero not counted)
	zero  bool     // the hash 0 is in the set
	shift uint8    // 64 - log2(len(slots))
}

// volMinSlots is the table's size when the first hash arrives.
const volMinSlots = 16

func (s *volSet) home(h uint64) int { return int(h >> s.shift) }

// len returns the number of hashes in the set.
func (s *volSet) len() int {
	if s.zero {
		return s.n + 1
	}
	return s.n
}

// has reports whether h is in the set.
func (s *volSet) has(h uint64) bool {
	if h == 0 {
		return s.zero
	}
	if s.n == 0 {
		return false
	}
	mask := len(s.slots) - 1
	for i := s.home(h); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// add puts h in the set (no change when it is there).
func (s *volSet) add(h uint64) {
	if h == 0 {
		s.zero = true
		return
	}
	if (s.n+1)*4 > len(s.slots)*3 { // load at most 3/4
		s.resize()
	}
	mask := len(s.slots) - 1
	for i := s.home(h); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			return
		}
	}
}

// resize doubles the table (or allocates the first one) and re-inserts
// the hashes.
func (s *volSet) resize() {
	old := s.slots
	size := volMinSlots
	if len(old) > 0 {
		size = len(old) * 2
	}
	s.slots = make([]uint64, size)
	s.shift = uint8(64 - log2(size))
	mask := size - 1
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := s.home(h)
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}

// del removes h from the set (no change when it is not there). The
// entries after it in its probe run move back into the gap, so a scan
// (each) that deletes the entry it is at may skip one that moved behind
// it, and never sees one twice. An emptied set frees its table.
func (s *volSet) del(h uint64) {
	if h == 0 {
		s.zero = false
		return
	}
	if s.n == 0 {
		return
	}
	mask := len(s.slots) - 1
	i := s.home(h)
	for {
		switch s.slots[i] {
		case 0:
			return
		case h:
			s.n--
			if s.n == 0 {
				*s = volSet{zero: s.zero}
				return
			}
			// backward shift: move later entries of the run into the gap
			// when that is no farther from their home than where they are
			for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
				v := s.slots[j]
				// distance from home: to i, and to j
				if (i-s.home(v))&mask <= (j-s.home(v))&mask {
					s.slots[i] = v
					i = j
				}
			}
			s.slots[i] = 0
			return
		}
		i = (i + 1) & mask
	}
}

// span is the number of positions each walks: the slots, then the hash 0.
func (s *volSet) span() int { return len(s.slots) + 1 }

// each calls fn with the hashes in the set, starting at position start
// (taken modulo span) and going once around at most, until fn returns
// false. It returns where a later walk may resume: the position of the
// hash fn declined, or the one after the last visited. fn may delete the
// hash it is given (see del), and must not add any.
func (s *volSet) each(start int, fn func(h uint64) bool) int {
	span := s.span()
	pos := start % span
	if pos < 0 {
		pos += span
	}
	for visited := 0; visited < span; visited++ {
		var h uint64
		present := false
		if pos < len(s.slots) {
			h = s.slots[pos]
			present = h != 0
		} else {
			present = s.zero
		}
		if present && !fn(h) {
			return pos
		}
		if len(s.slots)+1 != span { // fn emptied the table
			return 0
		}
		if pos++; pos >= span {
			pos = 0
		}
	}
	return pos
}
