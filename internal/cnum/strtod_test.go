package cnum

import (
	"math"
	"math/big"
	"testing"
)

// exactSubnormal is 2^-1070 written out exactly (1070 decimals).
var exactSubnormal = new(big.Float).SetFloat64(0x1p-1070).Text('f', 1070)

func TestStrtod(t *testing.T) {
	for _, tc := range []struct {
		in     string
		f      float64
		n      int
		erange bool
	}{
		{"1.5", 1.5, 3, false},
		{"  -2e3x", -2000, 6, false},
		{"0x1p4", 16, 5, false},
		{"0x", 0, 1, false},
		{"inf", math.Inf(1), 3, false},
		{"-Infinity", math.Inf(-1), 9, false},
		{"1e400", math.Inf(1), 5, true},
		{"1e-400", 0, 6, true},
		{"abc", 0, 0, false},
		{".", 0, 0, false},
		{"5.", 5, 2, false},
		// glibc: ERANGE for an inexact subnormal, not for an exact one
		{"5e-324", 5e-324, 6, true},
		{"-1e-310", -1e-310, 7, true},
		{"2.2250738585072009e-308", 2.2250738585072009e-308, 23, true},
		{"2.2250738585072014e-308", 2.2250738585072014e-308, 23, false},
		{exactSubnormal, 0x1p-1070, len(exactSubnormal), false},
	} {
		f, n, erange := Strtod(tc.in)
		if f != tc.f || n != tc.n || erange != tc.erange {
			t.Errorf("Strtod(%q) = %v, %d, %v; want %v, %d, %v", tc.in, f, n, erange, tc.f, tc.n, tc.erange)
		}
	}
	if f, n, _ := Strtod("-nan"); !math.IsNaN(f) || !math.Signbit(f) || n != 4 {
		t.Errorf("Strtod(-nan) = %v (sign %v), %d", f, math.Signbit(f), n)
	}
}
