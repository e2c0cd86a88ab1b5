package keyspace

import (
	"math"
	"strconv"
)

// Set is a Redis set. While every member is an integer and there are at
// most set-max-intset-entries of them it is an intset: a sorted []int64,
// as Redis's intset (SMEMBERS then lists members in ascending order).
// Otherwise it is a hashtable: members in a dense slice with an index map,
// deletions swapping the last member into the hole so that random picks
// (SPOP, SRANDMEMBER) are O(1). Redis 7.0 has no listpack sets.
type Set struct {
	ints    []int64
	members []string
	idx     map[string]int32
	// width is the intset element width Redis would use (2, 4 or 8
	// bytes): it grows with the values added and never shrinks.
	width uint8
}

// NewSet returns an empty set in intset form.
func NewSet() *Set { return &Set{} }

// TypeName implements TYPE.
func (s *Set) TypeName() string { return "set" }

// Encoding implements OBJECT ENCODING.
func (s *Set) Encoding() string {
	if s.idx != nil {
		return "hashtable"
	}
	return "intset"
}

// IsIntset reports whether the set is in its intset form.
func (s *Set) IsIntset() bool { return s.idx == nil }

// Len is the number of members.
func (s *Set) Len() int {
	if s.idx != nil {
		return len(s.members)
	}
	return len(s.ints)
}

// Member returns member i (0 <= i < Len) in the set's order.
func (s *Set) Member(i int) string {
	if s.idx != nil {
		return s.members[i]
	}
	return strconv.FormatInt(s.ints[i], 10)
}

// AppendMember appends member i to dst without allocating a string.
func (s *Set) AppendMember(dst []byte, i int) []byte {
	if s.idx != nil {
		return append(dst, s.members[i]...)
	}
	return strconv.AppendInt(dst, s.ints[i], 10)
}

// ParseIntMember parses b as Redis's string2ll does: the canonical decimal
// form of an int64 only (no sign '+', no leading zeros, no spaces).
func ParseIntMember(b []byte) (int64, bool) { return parseIntMember(b) }

// parseIntMember is ParseIntMember for a member as bytes or a string (no
// copy of it either way).
func parseIntMember[T ~string | ~[]byte](b T) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if b[0] == '0' && len(b) > 1 || b[0] == '-' && (len(b) == 1 || b[1] == '0') {
		return 0, false
	}
	var n uint64
	neg := b[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, false // past 20 digits' worth: out of range below
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// intPos finds n in the intset as Redis's intsetSearch does: the bounds
// first, then a binary search; not found, the position is where n would
// be inserted. On an intset loaded unsorted (LoadInts) it follows the
// same probes as Redis, so the same members are missed.
func (s *Set) intPos(n int64) (int, bool) {
	v := s.ints
	if len(v) == 0 {
		return 0, false
	}
	if n > v[len(v)-1] {
		return len(v), false
	}
	if n < v[0] {
		return 0, false
	}
	lo, hi := 0, len(v)-1
	for lo <= hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := v[mid]; {
		case n > c:
			lo = mid + 1
		case n < c:
			hi = mid - 1
		default:
			return mid, true
		}
	}
	return lo, false
}

// LoadInts makes an empty set the intset vals (copied) of element width
// width, in vals' order: a payload restored without deep validation,
// unsorted or with repeats, kept as Redis 7.0 keeps it.
func (s *Set) LoadInts(vals []int64, width int) {
	s.ints = append([]int64(nil), vals...)
	s.SetIntsetWidth(width)
}

// intWidth is the intset element width n needs (2, 4 or 8 bytes).
func intWidth(n int64) uint8 {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 8
	} else if n < math.MinInt16 || n > math.MaxInt16 {
		return 4
	}
	return 2
}

// Has reports whether m is a member.
func (s *Set) Has(m []byte) bool {
	if s.idx != nil {
		_, ok := s.idx[string(m)]
		return ok
	}
	n, ok := parseIntMember(m)
	if !ok {
		return false
	}
	_, found := s.intPos(n)
	return found
}

// HasMember reports whether member is in the set, with no copy of it.
func (s *Set) HasMember(member string) bool {
	if s.idx != nil {
		_, ok := s.idx[member]
		return ok
	}
	n, ok := parseIntMember(member)
	if !ok {
		return false
	}
	_, found := s.intPos(n)
	return found
}

func (s *Set) widen(n int64) {
	if w := intWidth(n); w > s.width {
		s.width = w
	}
}

// Ints returns the members of an intset, ascending (aliasing the set).
func (s *Set) Ints() []int64 { return s.ints }

// IntsetWidth is the element width of the intset form (2, 4 or 8 bytes):
// like Redis's intset encoding it only grows while the set lives.
func (s *Set) IntsetWidth() int {
	if s.width == 0 {
		return 2
	}
	return int(s.width)
}

// SetIntsetWidth raises the intset element width to w (a loaded intset
// keeps its encoding).
func (s *Set) SetIntsetWidth(w int) {
	if w > int(s.width) && w <= 8 {
		s.width = uint8(w)
	}
}

func (s *Set) convert() {
	s.members = make([]string, 0, len(s.ints))
	s.idx = make(map[string]int32, len(s.ints))
	for _, n := range s.ints {
		m := strconv.FormatInt(n, 10)
		if _, dup := s.idx[m]; dup {
			continue // a repeat of an intset loaded as it was (LoadInts)
		}
		s.idx[m] = int32(len(s.members))
		s.members = append(s.members, m)
	}
	s.ints = nil
}

// Add adds m (copied) and reports whether it was new. maxIntset is
// set-max-intset-entries.
func (s *Set) Add(m []byte, maxIntset int) bool {
	if s.idx == nil {
		if n, ok := ParseIntMember(m); ok {
			var i int
			if intWidth(n) > uint8(s.IntsetWidth()) {
				// a wider encoding (Redis's intsetUpgradeAndAdd): n is
				// beyond every member, first if negative, else last
				if n >= 0 {
					i = len(s.ints)
				}
			} else {
				var found bool
				if i, found = s.intPos(n); found {
					return false
				}
			}
			s.ints = append(s.ints, 0)
			copy(s.ints[i+1:], s.ints[i:])
			s.ints[i] = n
			s.widen(n)
			if len(s.ints) > maxIntset {
				s.convert()
			}
			return true
		}
		s.convert()
	}
	if _, ok := s.idx[string(m)]; ok {
		return false
	}
	str := string(m)
	s.idx[str] = int32(len(s.members))
	s.members = append(s.members, str)
	return true
}

// Remove deletes m and reports whether it was a member.
func (s *Set) Remove(m []byte) bool {
	if s.idx == nil {
		n, ok := ParseIntMember(m)
		if !ok {
			return false
		}
		i, found := s.intPos(n)
		if !found {
			return false
		}
		s.ints = append(s.ints[:i], s.ints[i+1:]...)
		return true
	}
	i, ok := s.idx[string(m)]
	if !ok {
		return false
	}
	s.RemoveAt(int(i))
	return true
}

// RemoveAt deletes member i (0 <= i < Len).
func (s *Set) RemoveAt(i int) {
	if s.idx == nil {
		s.ints = append(s.ints[:i], s.ints[i+1:]...)
		return
	}
	last := len(s.members) - 1
	delete(s.idx, s.members[i])
	if i != last {
		s.members[i] = s.members[last]
		s.idx[s.members[i]] = int32(i)
	}
	s.members[last] = ""
	s.members = s.members[:last]
}
