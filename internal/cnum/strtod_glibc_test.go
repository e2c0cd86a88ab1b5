package cnum

import (
	"math"
	"testing"
)

// TestStrtodERANGE: whether glibc's strtod (x86, as redis-server 7.0.15
// uses it) sets ERANGE near and below the smallest normal, for decimal
// and hexadecimal text. Each case was checked against redis-server: SORT
// BY a weight for which it sets ERANGE answers "ERR One or more scores
// can't be converted into double".
func TestStrtodERANGE(t *testing.T) {
	for _, tc := range []struct {
		in     string
		erange bool
	}{
		{"1e-400", true},
		{"0x1p-1074", false}, // exact subnormal
		{"-0x1p-1074", false},
		{"0x1P-1074", false},
		{"0x.8p-1073", false},
		{"0x1p-1075", true},   // half the smallest subnormal: rounds to 0
		{"0x1.8p-1074", true}, // inexact subnormal
		{"0x1p-1080", true},
		{"0x1p2000", true}, // overflow
		{"0x1.fffffffffffff8p1023", true},
		{"0x1p-1022", false},
		{"0x0.fffffffffffff8p-1022", true}, // tiny at 53 bits, rounds up to 2^-1022
		{"0x1.fffffffffffffp-1023", true},
		{"0x1.fffffffffffff8p-1023", false}, // rounds to 2^-1022 at 53 bits: not tiny
		{"0x1.fffffffffffff7p-1023", true},
		{"2.225073858507201e-308", true},
		{"2.2250738585072013e-308", false}, // above the bound
		{"4.9e-324", true},
		{"5e-324", true},
		{"2.2250738585072011e-308", true},
		{"2.2250738585072012e-308", true}, // rounds up to 2^-1022, tiny before
		{"2.2250738585072014e-308", false},
		{"1e309", true},
		{"0x0p-99999", false},
		{"0x0.0p5", false},
		{"0x1.0000000000000fffp0", false},
	} {
		_, _, erange := Strtod(tc.in)
		if erange != tc.erange {
			t.Errorf("Strtod(%q): erange %v, want %v", tc.in, erange, tc.erange)
		}
	}
	if f, _, _ := Strtod("0x1p2000"); !math.IsInf(f, 1) {
		t.Errorf("0x1p2000 = %v", f)
	}
}
