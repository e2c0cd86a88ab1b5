package commands

import (
	"strconv"
	"testing"
)

// parseIntRef is ParseInt as strconv defines it (Redis's string2ll: no
// sign '+', no leading zeros, no "-0", at most 20 bytes).
func parseIntRef(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 || len(b) > 1 && b[0] == '0' || b[0] == '+' || b[0] == '-' && (len(b) == 1 || b[1] == '0') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// FuzzParseInt checks ParseInt's digit loop against strconv.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "123", "999999999999999999", "-999999999999999999",
		"1000000000000000000", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"", "+1", "01", "-0", "-", " 1", "1 ", "1.0", "abc", "1_0", "-/", "12:", "0x10"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := ParseInt(b)
		rn, rok := parseIntRef(b)
		if ok != rok || n != rn {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv says %d, %v", b, n, ok, rn, rok)
		}
	})
}
