package commands

import (
	"math/big"
	"strings"
)

// LongDouble emulates the x87 80-bit long double Redis uses for
// INCRBYFLOAT (and HINCRBYFLOAT): a 64-bit mantissa, round to nearest even,
// and a 15-bit exponent, so that results print exactly as Redis prints them.
type LongDouble struct{ f *big.Float }

const (
	ldPrec   = 64
	ldMaxExp = 16384  // |x| >= 2^16384 overflows
	ldMinExp = -16444 // smaller magnitudes underflow to zero
)

// NewLongDouble returns zero.
func NewLongDouble() LongDouble { return LongDouble{new(big.Float).SetPrec(ldPrec)} }

// ParseLongDouble parses b as Redis's string2ld does (strtold, with no
// leading or trailing space, rejecting NaN, overflow and underflow to zero).
// Infinity parses; adding it then fails.
func ParseLongDouble(b []byte) (LongDouble, bool) {
	if len(b) == 0 || len(b) > 5*1024 {
		return LongDouble{}, false
	}
	s := string(b)
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	l := strings.ToLower(body)
	z := NewLongDouble()
	if l == "inf" || l == "infinity" {
		z.f.SetInf(s[0] == '-')
		return z, true
	}
	base := 10
	if strings.HasPrefix(l, "0x") {
		if !validFloat(l[2:], true) {
			return LongDouble{}, false
		}
		base = 0
	} else if !validFloat(l, false) {
		return LongDouble{}, false
	}
	if _, _, err := z.f.Parse(s, base); err != nil {
		return LongDouble{}, false
	}
	if !z.inRange() {
		return LongDouble{}, false
	}
	return z, true
}

// validFloat checks strtold's decimal (or, with hex, hexadecimal) syntax:
// digits with an optional point (at least one digit), then an optional
// exponent (e or p) with at least one digit.
func validFloat(s string, hex bool) bool {
	isDigit := func(c byte) bool {
		if c >= '0' && c <= '9' {
			return true
		}
		return hex && (c >= 'a' && c <= 'f')
	}
	expCh := byte('e')
	if hex {
		expCh = 'p'
	}
	i, digits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != expCh {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (x LongDouble) inRange() bool {
	if x.f.IsInf() || x.f.Sign() == 0 {
		return true
	}
	e := x.f.MantExp(nil)
	return e <= ldMaxExp && e >= ldMinExp
}

// Add returns x+y; ok is false when the result is infinite or NaN.
func (x LongDouble) Add(y LongDouble) (LongDouble, bool) {
	if x.f.IsInf() || y.f.IsInf() {
		return LongDouble{}, false
	}
	z := NewLongDouble()
	z.f.Add(x.f, y.f)
	if z.f.Sign() != 0 && z.f.MantExp(nil) > ldMaxExp {
		return LongDouble{}, false
	}
	return z, true
}

// Format prints x as Redis's ld2string in human mode: "%.17Lf" with
// trailing zeroes (and a trailing point) removed, and "-0" as "0".
func (x LongDouble) Format() string {
	s := x.f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
