package keyspace

// Elements returns the list's elements from head to tail (SORT).
func (l *List) Elements() [][]byte {
	out := make([][]byte, l.n)
	for i := range out {
		out[i] = l.Index(i)
	}
	return out
}

// HashGet returns the value of field (SORT's key->field patterns).
func (h *Hash) HashGet(field string) ([]byte, bool) { return h.Get([]byte(field)) }

// ForEachMember calls fn for each member until it returns false.
func (s *Set) ForEachMember(fn func(member string) bool) {
	for i, n := 0, s.Len(); i < n; i++ {
		if !fn(s.Member(i)) {
			return
		}
	}
}

// ListFrom returns a list holding elems (owned by the list from now on),
// laid out as pushing them at the tail under the default fill does (SORT
// ... STORE: Redis 7.0 creates that list without applying
// list-max-listpack-size).
func ListFrom(elems [][]byte) *List {
	var l *List
	if len(elems) <= listBlock {
		l = listOf(append([][]byte(nil), elems...))
	} else {
		l = NewList()
		for _, e := range elems {
			l.pushBack(e)
		}
	}
	l.layoutByPushes()
	return l
}
