package commands

import (
	"math"

	"github.com/crescent-db/crescent/internal/cnum"
)

// parseRedisDouble parses b as Redis's getDoubleFromObject does: the whole
// string, no leading space, no NaN, no overflow or underflow.
func parseRedisDouble(b []byte) (float64, bool) {
	if f, ok := parseSmallInt(b); ok {
		return f, true
	}
	return parseRedisDoubleStrtod(b)
}

// parseSmallInt parses an optional '-' and 1 to 15 decimal digits (below
// 2^53, so exact: what strtod returns for them, -0 included) without
// strtod; ok is false for anything else.
func parseSmallInt(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || len(d) > 15 {
		return 0, false
	}
	var n uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	f := float64(n)
	if neg {
		f = -f
	}
	return f, true
}

// parseRedisDoubleStrtod is parseRedisDouble through strtod.
func parseRedisDoubleStrtod(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) {
		return 0, false
	}
	s := string(b)
	f, n, erange := cnum.Strtod(s)
	if n != len(s) || math.IsNaN(f) {
		return 0, false
	}
	if erange && (math.IsInf(f, 0) || f == 0) {
		return 0, false
	}
	return f, true
}

// parseRedisLongDouble parses b as getLongDoubleFromObject does (strtold,
// the whole string, no leading space, no NaN).
func parseRedisLongDouble(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) {
		return 0, false
	}
	s := string(b)
	f, n, _ := cnum.Strtod(s)
	if n != len(s) || math.IsNaN(f) {
		return 0, false
	}
	// long double has a wider range: a double overflow is still a
	// (huge) finite value there, returned here as ±Inf.
	return f, true
}
