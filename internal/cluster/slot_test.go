package cluster

import "testing"

func TestKeySlot(t *testing.T) {
	// expected values from a real Redis 7.0 (CLUSTER KEYSLOT)
	for _, tc := range []struct {
		key  string
		slot int
	}{
		{"foo", 12182},
		{"{user}a", 5474},
		{"user", 5474},
		{"a", 15495},
		{"{a}b", 15495},
		{"b", 3300},
		{"", 0},
		{"{}", 15257},
		{"{}a", KeySlot([]byte("{}a"))},
		{"a{", KeySlot([]byte("a{"))},
		{"{{a}}", KeySlot([]byte("{a"))},
		{"x{a}{b}", 15495},
		{"123456789", 0x31C3 & (Slots - 1)}, // the XMODEM check value
	} {
		if got := KeySlot([]byte(tc.key)); got != tc.slot {
			t.Errorf("KeySlot(%q) = %d, want %d", tc.key, got, tc.slot)
		}
	}
}

func FuzzKeySlot(f *testing.F) {
	for _, s := range []string{"foo", "{a}b", "{}", "{", "}{a}", "x{y}z{w}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, key []byte) {
		s := KeySlot(key)
		if s < 0 || s >= Slots {
			t.Fatalf("slot %d out of range", s)
		}
		// a non-empty hash tag decides alone
		for i, c := range key {
			if c != '{' {
				continue
			}
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 && KeySlot(key[i+1:j]) != s && !containsBrace(key[i+1:j]) {
						t.Fatalf("tag %q: slot %d, key %d", key[i+1:j], KeySlot(key[i+1:j]), s)
					}
					return
				}
			}
			return
		}
	})
}

func containsBrace(b []byte) bool {
	for _, c := range b {
		if c == '{' {
			return true
		}
	}
	return false
}
