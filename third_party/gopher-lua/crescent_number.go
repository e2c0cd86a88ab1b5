// CRESCENT: this file is not part of upstream gopher-lua. It gives the fork
// Lua 5.1's number<->string conversions (lua_number2str is "%.14g" with the
// platform printf; luaO_str2d is strtod plus the hexadecimal fallback), so
// that concatenation, tostring, table.concat and the string library format
// and coerce numbers exactly as C Lua does.

package lua

import (
	"math"
	"strconv"
	"strings"
)

// FormatNumber formats f as Lua 5.1's lua_number2str ("%.14g") does with
// glibc's printf: "inf", "-inf", "nan", "-nan", "-0", exponents with at
// least two digits.
func FormatNumber(f float64) string {
	return string(AppendNumber(nil, f))
}

// AppendNumber appends FormatNumber(f) to b.
func AppendNumber(b []byte, f float64) []byte {
	switch {
	case f != f:
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	if f == math.Trunc(f) && f < 1e14 && f > -1e14 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', 14, 64)
}

// Str2Number converts s as Lua 5.1's luaO_str2d does: strtod (C locale,
// so "inf", "nan" and hexadecimal floats are numbers), "0x" integers,
// surrounding white space; the string ends at its first NUL byte as C sees
// it.
func Str2Number(s string) (LNumber, bool) {
	if f, ok := decimalInteger(s); ok {
		return LNumber(f), true
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	f, n := strtod(s)
	if n == 0 {
		return 0, false
	}
	rest := s[n:]
	if rest != "" && (rest[0] == 'x' || rest[0] == 'X') {
		// strtod stopped at an 'x': strtoul(s, 16) from the start, which
		// cannot get further than strtod did here ("0x" alone).
		return 0, false
	}
	for _, c := range []byte(rest) {
		if !isCSpace(c) {
			return 0, false
		}
	}
	return LNumber(f), true
}

// decimalInteger is the common case of Str2Number: an optional sign and
// 1 to 15 decimal digits, nothing else, which strtod reads exactly (the
// value is below 2^53). "-0" is -0, as strtod makes it.
func decimalInteger(s string) (float64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	f := float64(n)
	if neg {
		f = -f
	}
	return f, true
}

func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func strtod(s string) (float64, int) {
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
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(lower, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(lower, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
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
		return nan, n
	}
	if len(rest) >= 2 && rest[0] == '0' && (rest[1]|0x20) == 'x' {
		if f, n, ok := strtodHex(rest[2:]); ok {
			return sign(f), i + 2 + n
		}
		// "0x" not followed by hex digits: only the "0" is consumed.
		return sign(0), i + 1
	}
	j := i
	digits := 0
	for j < len(s) && isDigit(s[j]) {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && (s[j]|0x20) == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil {
		// Range errors still carry the correctly saturated value.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, 0
		}
	}
	return sign(f), j
}

// strtodHex parses the part of a hexadecimal float after "0x".
func strtodHex(s string) (float64, int, bool) {
	j := 0
	digits := 0
	for j < len(s) && hexVal(s[j]) >= 0 {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && hexVal(s[j]) >= 0 {
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
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
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
