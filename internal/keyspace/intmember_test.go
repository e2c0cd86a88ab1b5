package keyspace

import (
	"strconv"
	"testing"
)

// TestParseIntMember checks the parser without strconv (lim22: it no
// longer copies its argument) against string2ll's rule written with
// strconv: the canonical decimal form of an int64 only, as bytes and as
// a string.
func TestParseIntMember(t *testing.T) {
	ref := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != s {
			return 0, false
		}
		return n, true
	}
	cases := []string{"", "0", "-0", "00", "01", "-", "+1", "1", "-1", "7", " 1", "1 ", "1a", "a1",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "99999999999999999999", "-99999999999999999999",
		"100000000000000000000", "123456789012345678", "--1", "1-", "1.0", "1e3"}
	for i := int64(-1000); i <= 1000; i += 7 {
		cases = append(cases, strconv.FormatInt(i, 10))
	}
	for _, c := range cases {
		wn, wok := ref(c)
		if n, ok := ParseIntMember([]byte(c)); n != wn || ok != wok {
			t.Errorf("ParseIntMember(%q) = %d, %v; want %d, %v", c, n, ok, wn, wok)
		}
		if n, ok := parseIntMember(c); n != wn || ok != wok {
			t.Errorf("parseIntMember(%q string) = %d, %v; want %d, %v", c, n, ok, wn, wok)
		}
	}
	s := NewSet()
	for _, m := range []string{"5", "-3", "100"} {
		s.Add([]byte(m), 512)
	}
	for _, m := range []string{"5", "-3", "100", "05", "4", "x"} {
		if s.HasMember(m) != s.Has([]byte(m)) || s.HasMember(m) != (m == "5" || m == "-3" || m == "100") {
			t.Errorf("intset HasMember(%q) = %v", m, s.HasMember(m))
		}
	}
	s.Add([]byte("abc"), 512)
	for _, m := range []string{"5", "abc", "05", "ab"} {
		if s.HasMember(m) != (m == "5" || m == "abc") {
			t.Errorf("hashtable HasMember(%q) = %v", m, s.HasMember(m))
		}
	}
}
