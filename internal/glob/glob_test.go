package glob

import "testing"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		nocase bool
		want   bool
	}{
		{"", "", false, true},
		{"*", "", false, false}, // stringmatchlen: nothing but "" matches ""
		{"**", "", false, false},
		{"?", "", false, false},
		{"", "a", false, false},
		{"*", "a", false, true},
		{"a*", "a", false, true},
		{"a**", "a", false, true},
		{"*a", "ba", false, true},
		{"k*", "k1", false, true},
		{"k*", "x", false, false},
		{"h?llo", "hello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"H*", "hello", true, true},
		{"H*", "hello", false, false},
		{`a\*`, "a*", false, true},
		{`a\*`, "ab", false, false},
	} {
		if got := Match(tc.pat, tc.s, tc.nocase); got != tc.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", tc.pat, tc.s, tc.nocase, got, tc.want)
		}
	}
}
