package lualib

import "github.com/crescent-db/crescent/internal/cnum"

// strtod is glibc's strtod in the C locale: the value and the number of
// bytes consumed (0 when no conversion could be performed).
func strtod(s string) (float64, int) {
	f, n, _ := cnum.Strtod(s)
	return f, n
}
