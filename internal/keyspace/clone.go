package keyspace

// Cloner is implemented by value types that COPY can duplicate: Clone
// returns a deep copy sharing no mutable state with the receiver.
type Cloner interface {
	Clone() any
}

// Clone returns a deep copy of a stored value, or false when its type does
// not implement Cloner. Strings keep their spare capacity, which OBJECT
// ENCODING reads as "raw".
func Clone(v any) (any, bool) {
	switch x := v.(type) {
	case []byte:
		out := make([]byte, len(x), cap(x))
		copy(out, x)
		return out, true
	case *ZSet:
		return x.Clone(), true
	case Cloner:
		return x.Clone(), true
	}
	return nil, false
}

// Clone implements Cloner: the copy keeps the quicklist layout and fill,
// as quicklistDup does.
func (l *List) Clone() any {
	var out *List
	if l.n <= listBlock {
		elems := make([][]byte, l.n)
		for i := range elems {
			elems[i] = append([]byte(nil), l.Index(i)...)
		}
		out = listOf(elems)
	} else {
		out = NewList()
		for i := 0; i < l.n; i++ {
			out.pushBack(append([]byte(nil), l.Index(i)...))
		}
	}
	out.q, out.qsz = l.q.clone(), l.qsz
	return out
}

// Clone implements Cloner.
func (h *Hash) Clone() any {
	out := &Hash{fields: append([]string(nil), h.fields...), vals: make([][]byte, len(h.vals))}
	for i, v := range h.vals {
		out.vals[i] = append([]byte(nil), v...)
	}
	if h.idx != nil {
		out.idx = make(map[string]int32, len(h.idx))
		for k, v := range h.idx {
			out.idx[k] = v
		}
	}
	return out
}

// Clone implements Cloner.
func (s *Set) Clone() any {
	out := &Set{ints: append([]int64(nil), s.ints...), members: append([]string(nil), s.members...), width: s.width}
	if s.idx != nil {
		out.idx = make(map[string]int32, len(s.idx))
		for k, v := range s.idx {
			out.idx[k] = v
		}
	}
	return out
}
