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
	v, _, found, err := db.GetStringSlot(key) // Lookup without building an Entry
	return v, found, err
}
