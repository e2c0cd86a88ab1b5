package commands

import (
	"math"

	"github.com/crescent-db/crescent/internal/cnum"
)

// parseRedisDouble parses b as Redis's getDoubleFromObject does: the whole
// string, no leading space, no NaN, no overflow or underflow.
func parseRedisDouble(b []byte) (float64, bool) {
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
