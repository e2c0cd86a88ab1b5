package lua

import (
	"math"
	"strconv"
	"testing"
)

// numberArgSlow is the general path of appendNumberArg: "%.17g" in C's
// notation for every value.
func numberArgSlow(f float64) string {
	buf := strconv.AppendFloat(nil, f, 'g', 17, 64)
	return string(fixExp(buf, 0, f))
}

// TestAppendNumberArg checks the integer fast path of redis.call's number
// arguments against the general "%.17g" formatting, around its limits and
// for values it must leave to the general path.
func TestAppendNumberArg(t *testing.T) {
	cases := []float64{
		0, math.Copysign(0, -1), 1, -1, 60, 100, 7, 42.5, -0.5, 1e-7,
		999999999999999, -999999999999999, 1e15, -1e15, 1e15 + 1, 1e16, 1e17, 1e18, 1e21,
		123456789012345, 9007199254740992, 9007199254740993, -9007199254740992,
		math.MaxInt64, math.MinInt64, math.MaxFloat64, math.SmallestNonzeroFloat64,
		math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(), 0.1, 1.0 / 3, 2.5e-300,
	}
	for _, f := range cases {
		got := string(appendNumberArg([]byte("x"), f))
		if want := "x" + numberArgSlow(f); got != want {
			t.Errorf("appendNumberArg(%v) = %q, want %q", f, got, want)
		}
	}
	if got := string(appendNumberArg(nil, 60)); got != "60" {
		t.Errorf("appendNumberArg(60) = %q", got)
	}
	if got := string(appendNumberArg(nil, math.Copysign(0, -1))); got != "-0" {
		t.Errorf("appendNumberArg(-0) = %q", got)
	}
}

// FuzzAppendNumberArg compares appendNumberArg with the general path.
func FuzzAppendNumberArg(f *testing.F) {
	for _, s := range []float64{0, 60, -1, 1e15, 1e15 - 1, 0.5, math.Inf(1)} {
		f.Add(math.Float64bits(s))
	}
	f.Add(uint64(1) << 63)
	f.Fuzz(func(t *testing.T, bits uint64) {
		for _, v := range []float64{math.Float64frombits(bits), float64(int64(bits) >> 10), float64(int32(bits))} {
			if got, want := string(appendNumberArg(nil, v)), numberArgSlow(v); got != want {
				t.Fatalf("appendNumberArg(%v) = %q, want %q", v, got, want)
			}
		}
	})
}
