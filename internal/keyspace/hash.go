package keyspace

import "hash/maphash"

// scanSeed seeds the hash that orders HSCAN/SSCAN cursors. It is fixed for
// the life of the process so that cursors stay valid across calls.
var scanSeed = maphash.MakeSeed()

// ScanPos is the position of a hash field or set member in HSCAN/SSCAN
// order: a cursor c continues with the elements whose position is >= c.
func ScanPos(s string) uint64 {
	p := maphash.String(scanSeed, s) >> 1 // leave room for cursor+1
	if p == 0 {
		p = 1 // 0 is the cursor that starts and ends a scan
	}
	return p
}

// HashLimits are the listpack thresholds of hashes
// (hash-max-listpack-entries / hash-max-listpack-value).
type HashLimits struct {
	Entries int
	Value   int
}

// Hash is a Redis hash. Fields and values live in two parallel slices. In
// the small (listpack) form they keep insertion order and lookups scan the
// slice, as Redis's listpack does; past the limits an index map is added
// (hashtable form) and deletions swap the last entry into the hole, which
// keeps random picks (HRANDFIELD) O(1).
type Hash struct {
	fields []string
	vals   [][]byte
	idx    map[string]int32
}

// NewHash returns an empty hash in listpack form.
func NewHash() *Hash { return &Hash{} }

// TypeName implements TYPE.
func (h *Hash) TypeName() string { return "hash" }

// Encoding implements OBJECT ENCODING.
func (h *Hash) Encoding() string {
	if h.idx != nil {
		return "hashtable"
	}
	return "listpack"
}

// IsListpack reports whether the hash is in its small form.
func (h *Hash) IsListpack() bool { return h.idx == nil }

// Len is the number of fields.
func (h *Hash) Len() int { return len(h.fields) }

// Field returns the i-th field (0 <= i < Len).
func (h *Hash) Field(i int) string { return h.fields[i] }

// Value returns the i-th value (0 <= i < Len).
func (h *Hash) Value(i int) []byte { return h.vals[i] }

// find returns the index of field, or -1.
func (h *Hash) find(field []byte) int {
	if h.idx != nil {
		if i, ok := h.idx[string(field)]; ok {
			return int(i)
		}
		return -1
	}
	for i, f := range h.fields {
		if f == string(field) {
			return i
		}
	}
	return -1
}

// Get returns field's value.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if i := h.find(field); i >= 0 {
		return h.vals[i], true
	}
	return nil, false
}

// Has reports whether field exists.
func (h *Hash) Has(field []byte) bool { return h.find(field) >= 0 }

// convert adds the index (hashtable form). A field repeated in the
// listpack form (LoadDuplicate) keeps its first entry; Redis's conversion
// panics on it.
func (h *Hash) convert() {
	h.idx = make(map[string]int32, len(h.fields))
	n := 0
	for i, f := range h.fields {
		if _, dup := h.idx[f]; dup {
			continue
		}
		h.fields[n], h.vals[n] = f, h.vals[i]
		h.idx[f] = int32(n)
		n++
	}
	clear(h.fields[n:])
	clear(h.vals[n:])
	h.fields, h.vals = h.fields[:n], h.vals[:n]
}

// LoadDuplicate appends a copy of field and val although field is there
// already, as Redis 7.0 keeps a listpack payload with a repeated field
// when RESTORE does not sanitize it (HLEN counts both, lookups find the
// first). Only the listpack form holds such entries; past lim the hash
// converts, keeping the first.
func (h *Hash) LoadDuplicate(field, val []byte, lim HashLimits) {
	if h.idx != nil {
		return
	}
	h.fields = append(h.fields, string(field))
	h.vals = append(h.vals, append([]byte(nil), val...))
	if len(h.fields) > lim.Entries {
		h.convert()
	}
}

// Set stores a copy of field and val and reports whether field is new. The
// hash converts to its hashtable form past lim.
func (h *Hash) Set(field, val []byte, lim HashLimits) bool {
	v := make([]byte, len(val))
	copy(v, val)
	if i := h.find(field); i >= 0 {
		h.vals[i] = v
		// as Redis's hashTypeSet, an update converts too when the hash
		// has more entries than a (since lowered) limit allows
		if h.idx == nil && (len(val) > lim.Value || len(h.fields) > lim.Entries) {
			h.convert()
		}
		return false
	}
	f := string(field)
	h.fields = append(h.fields, f)
	h.vals = append(h.vals, v)
	if h.idx != nil {
		h.idx[f] = int32(len(h.fields) - 1)
	} else if len(h.fields) > lim.Entries || len(field) > lim.Value || len(val) > lim.Value {
		h.convert()
	}
	return true
}

// Del removes field and reports whether it existed.
func (h *Hash) Del(field []byte) bool {
	i := h.find(field)
	if i < 0 {
		return false
	}
	last := len(h.fields) - 1
	if h.idx == nil {
		copy(h.fields[i:], h.fields[i+1:])
		copy(h.vals[i:], h.vals[i+1:])
	} else {
		delete(h.idx, h.fields[i])
		if i != last {
			h.fields[i], h.vals[i] = h.fields[last], h.vals[last]
			h.idx[h.fields[i]] = int32(i)
		}
	}
	h.fields[last], h.vals[last] = "", nil
	h.fields, h.vals = h.fields[:last], h.vals[:last]
	return true
}
