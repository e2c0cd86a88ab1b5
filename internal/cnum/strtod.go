// Package cnum converts numbers the way C's library does, for the places
// where Redis's replies depend on it (strtod in the C locale).
package cnum

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Strtod mimics glibc's strtod in the C locale: it parses the longest
// prefix of s forming a number (leading white space skipped) and returns the
// value, the bytes consumed (0: no conversion) and whether errno would be
// ERANGE (overflow to ±HUGE_VAL, underflow to zero or to an inexact
// subnormal).
func Strtod(s string) (f float64, n int, erange bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	lower := strings.ToLower(rest[:min(len(rest), 8)])
	switch {
	case strings.HasPrefix(lower, "infinity"):
		return sign(math.Inf(1)), i + 8, false
	case strings.HasPrefix(lower, "inf"):
		return sign(math.Inf(1)), i + 3, false
	case strings.HasPrefix(lower, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isAlnumByte(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				n = j + 1
			}
		}
		// glibc's NaN: the quiet NaN without payload (math.NaN() has a
		// payload bit, which LuaBitOp's conversion shows: bit.tobit('nan'))
		nan := math.Float64frombits(0x7ff8000000000000)
		if neg {
			nan = math.Float64frombits(math.Float64bits(nan) | 1<<63)
		}
		return nan, n, false
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1]|0x20) == 'x' {
		if f, n, erange, ok := strtodHex(rest[2:]); ok {
			return sign(f), i + 2 + n, erange
		}
		return sign(0), i + 1, false
	}
	j := i
	digits, nonzero := 0, false
	for j < len(s) && isDigitByte(s[j]) {
		nonzero = nonzero || s[j] != '0'
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigitByte(s[j]) {
			nonzero = nonzero || s[j] != '0'
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(s) && (s[j]|0x20) == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigitByte(s[k]) {
			for k < len(s) && isDigitByte(s[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0, false
		}
		erange = true
	}
	if f == 0 && nonzero {
		erange = true
	}
	if f != 0 && f <= 0x1p-1022 && !erange {
		if r, ok := new(big.Rat).SetString(s[i:j]); ok {
			erange = underflows(r, f)
		}
	}
	return sign(f), j, erange
}

// tinyBound is where glibc's strtod on x86 starts calling a value tiny:
// x86 detects tininess after rounding, and glibc rounds to the normal
// precision (53 bits, exponent unbounded) for that test, so a value is
// tiny when it is below 2^-1022 - 2^-1076 (half an ulp under the smallest
// normal, where rounding reaches it).
var tinyBound = new(big.Rat).SetFrac(big.NewInt(1<<54-1), new(big.Int).Lsh(big.NewInt(1), 1076))

// underflows reports whether glibc's strtod sets ERANGE for the exact
// value r, which it rounds to f (0 < f <= 2^-1022): r is tiny and f is
// inexact. A value just under 2^-1022 that rounds up to it still
// underflows when it is tiny ("2.2250738585072012e-308").
func underflows(r *big.Rat, f float64) bool {
	return r.Cmp(tinyBound) < 0 && r.Cmp(new(big.Rat).SetFloat64(f)) != 0
}

// strtodHex parses the part of a hexadecimal float after "0x", with
// whether glibc sets ERANGE (overflow, or a tiny inexact result).
func strtodHex(s string) (float64, int, bool, bool) {
	j := 0
	digits := 0
	for j < len(s) && hexDigit(s[j]) {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && hexDigit(s[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false, false
	}
	mant := s[:j]
	exp := "p0"
	if j < len(s) && (s[j]|0x20) == 'p' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigitByte(s[k]) {
			for k < len(s) && isDigitByte(s[k]) {
				k++
			}
			exp = s[j:k]
			j = k
		}
	}
	if strings.HasSuffix(mant, ".") {
		mant += "0"
	}
	if strings.HasPrefix(mant, ".") {
		mant = "0" + mant
	}
	text := "0x" + mant + exp
	f, err := strconv.ParseFloat(text, 64)
	erange := false
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0, false, false
		}
		erange = true // overflow
	}
	switch {
	case erange || strings.Trim(mant, "0.") == "": // overflow, or a zero
	case f == 0: // underflow to zero
		erange = true
	case f <= 0x1p-1022:
		// exactly: 4 bits a digit (the exponent does not cost precision)
		x, _, err := big.ParseFloat(text, 0, uint(4*len(mant)+64), big.ToNearestEven)
		if err == nil {
			r, _ := x.Rat(nil)
			erange = underflows(r, f)
		}
	}
	return f, j, erange, true
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }
func isAlnumByte(c byte) bool {
	return isDigitByte(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}
func hexDigit(c byte) bool {
	return isDigitByte(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}
