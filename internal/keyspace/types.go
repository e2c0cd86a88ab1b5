package keyspace

// TypeName returns the TYPE name of a stored value.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case []byte:
		return "string"
	}
	if t, ok := v.(interface{ TypeName() string }); ok {
		return t.TypeName()
	}
	return "unknown"
}

// GetString returns the string at key. A missing key yields (nil, false, nil).
func (db DB) GetString(key []byte) ([]byte, bool, error) {
	e, ok := db.Lookup(key)
	if !ok {
		return nil, false, nil
	}
	b, isStr := e.Str()
	if !isStr {
		return nil, true, ErrWrongType
	}
	return b, true, nil
}
