package lua

import (
	"math"
	"testing"
)

// TestCPow checks pow's NaN results against glibc's (x86-64), as measured
// with a C program: the sign of a NaN base is kept except for odd integer
// exponents when it is negative, a NaN exponent is propagated, a domain
// error gives the default (negative) NaN.
func TestCPow(t *testing.T) {
	negNaN, posNaN := defaultNaN, math.Copysign(defaultNaN, 1)
	cases := []struct {
		x, y float64
		want string
	}{
		{negNaN, -2, "-nan"}, {negNaN, -1, "nan"}, {negNaN, -0.5, "-nan"}, {negNaN, 0, "1"},
		{negNaN, 0.5, "-nan"}, {negNaN, 1, "nan"}, {negNaN, 2, "-nan"}, {negNaN, 3, "nan"},
		{negNaN, 1e300, "-nan"}, {negNaN, math.Inf(1), "-nan"},
		{posNaN, -1, "nan"}, {posNaN, 2, "nan"},
		{-2, negNaN, "-nan"}, {2, posNaN, "nan"}, {1, negNaN, "1"}, {0, negNaN, "-nan"},
		{-8, 1.0 / 3, "-nan"}, {-2, 0.5, "-nan"}, {2, 10, "1024"},
	}
	for _, c := range cases {
		if got := FormatNumber(cPow(c.x, c.y)); got != c.want {
			t.Errorf("pow(%s, %s) = %s, want %s", FormatNumber(c.x), FormatNumber(c.y), got, c.want)
		}
	}
}

// TestCInts checks luaL_checkint's truncation and (int)'s conversion.
func TestCInts(t *testing.T) {
	L := NewState()
	defer L.Close()
	for _, c := range []struct {
		code, want string
	}{
		{"return (select(2^32 + 2, 'a', 'b', 'c'))", "b"},
		{"return string.char(2^32 + 65)", "A"},
		{"return table.concat({1, 2, 3}, ',', 2^32 + 2)", "2,3"},
		{"return math.ldexp(1, 2^32 + 3)", "8"},
		{"return (string.gsub('aaa', 'a', 'b', 2^32 + 1))", "baa"},
		{"return '<' .. string.format('%c', 2^32 + 66) .. '>'", "<>"},
		{"local a, b = math.modf(-1/0) return a .. ' ' .. b", "-inf -0"},
	} {
		if err := L.DoString(c.code); err != nil {
			t.Errorf("%s: %v", c.code, err)
			continue
		}
		if got := L.Get(-1).String(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.code, got, c.want)
		}
		L.Pop(1)
	}
	if got := cInt(4294967362); got != math.MinInt32 {
		t.Errorf("cInt(2^32 + 66) = %d, want INT_MIN", got)
	}
}
