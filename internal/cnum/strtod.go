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
		nan := math.NaN()
		if neg {
			nan = math.Float64frombits(math.Float64bits(nan) | 1<<63)
		}
		return nan, n, false
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1]|0x20) == 'x' {
		if f, n, ok := strtodHex(rest[2:]); ok {
			return sign(f), i + 2 + n, false
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
	if f != 0 && f < 0x1p-1022 && !erange && !exactDecimal(s[i:j], f) {
		erange = true // glibc: an inexact subnormal result underflows too
	}
	return sign(f), j, erange
}

// exactDecimal reports whether the decimal number text is exactly f.
func exactDecimal(text string, f float64) bool {
	r, ok := new(big.Rat).SetString(text)
	return ok && r.Cmp(new(big.Rat).SetFloat64(f)) == 0
}

// strtodHex parses the part of a hexadecimal float after "0x".
func strtodHex(s string) (float64, int, bool) {
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
		return 0, 0, false
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
	f, err := strconv.ParseFloat("0x"+mant+exp, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0, false
		}
	}
	return f, j, true
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }
func isAlnumByte(c byte) bool {
	return isDigitByte(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}
func hexDigit(c byte) bool {
	return isDigitByte(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}
