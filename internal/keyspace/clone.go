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
	case Cloner:
		return x.Clone(), true
	}
	return nil, false
}
