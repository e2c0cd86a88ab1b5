package commands

import (
	"math"
	"testing"
)

// TestParseRedisDoubleFastPath: the integer fast path returns what strtod
// returns, bit for bit (-0 included), and declines everything else.
func TestParseRedisDoubleFastPath(t *testing.T) {
	tests := []struct {
		in   string
		fast bool
	}{
		{"0", true}, {"-0", true}, {"7", true}, {"-7", true}, {"007", true}, {"-00", true},
		{"12345", true}, {"999999999999999", true}, {"-999999999999999", true},
		{"9999999999999999", false}, {"1234567890123456789", false},
		{"", false}, {"-", false}, {"+1", false}, {"1.5", false}, {"1e3", false},
		{" 1", false}, {"1 ", false}, {"inf", false}, {"-inf", false}, {"nan", false},
		{"0x10", false}, {"--1", false}, {"1-", false}, {"١", false},
	}
	for _, tc := range tests {
		f, ok := parseSmallInt([]byte(tc.in))
		if ok != tc.fast {
			t.Fatalf("parseSmallInt(%q) ok=%v want %v", tc.in, ok, tc.fast)
		}
		want, wok := parseRedisDoubleStrtod([]byte(tc.in))
		got, gok := parseRedisDouble([]byte(tc.in))
		if gok != wok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseRedisDouble(%q) = %v,%v want %v,%v", tc.in, got, gok, want, wok)
		}
		if ok && math.Float64bits(f) != math.Float64bits(want) {
			t.Fatalf("fast %q = %v want %v", tc.in, f, want)
		}
	}
}

// FuzzParseRedisDouble checks parseRedisDouble against the strtod path.
func FuzzParseRedisDouble(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "-999999999999999", "1e5", "inf", "1.5", " 3", "+4"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wok := parseRedisDoubleStrtod(b)
		got, gok := parseRedisDouble(b)
		if gok != wok || (wok && math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("%q: %v,%v want %v,%v", b, got, gok, want, wok)
		}
	})
}
