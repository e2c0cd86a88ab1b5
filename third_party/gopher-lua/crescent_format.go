// CRESCENT: this file is not part of upstream gopher-lua. It is Lua 5.1's
// string.format (lstrlib.c str_format) with glibc printf's output, instead
// of upstream's fmt.Sprintf pass-through.

package lua

import (
	"math"
	"strconv"
	"strings"
)

const formatFlags = "-+ #0"

// cLong converts f to a C long as x86-64 does: NaN and out-of-range
// values become LONG_MIN.
func cLong(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

// cULong converts f to a C unsigned long as gcc compiles it on x86-64.
func cULong(f float64) uint64 {
	if f >= 9223372036854775808.0 {
		return uint64(cLong(f-9223372036854775808.0)) ^ (1 << 63)
	}
	return uint64(cLong(f))
}

type cSpec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int // -1: absent
}

func (s *cSpec) pad(body string, numeric bool) string {
	if len(body) >= s.width {
		return body
	}
	n := s.width - len(body)
	switch {
	case s.minus:
		return body + strings.Repeat(" ", n)
	case s.zero && numeric:
		sign := ""
		if body != "" && (body[0] == '-' || body[0] == '+' || body[0] == ' ') {
			sign, body = body[:1], body[1:]
		}
		if strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X") {
			sign, body = sign+body[:2], body[2:]
		}
		return sign + strings.Repeat("0", n) + body
	}
	return strings.Repeat(" ", n) + body
}

func (s *cSpec) signed(neg bool, digits string) string {
	switch {
	case neg:
		return "-" + digits
	case s.plus:
		return "+" + digits
	case s.space:
		return " " + digits
	}
	return digits
}

func (s *cSpec) intDigits(digits string) string {
	if s.prec >= 0 {
		if s.prec == 0 && digits == "0" {
			digits = ""
		}
		if len(digits) < s.prec {
			digits = strings.Repeat("0", s.prec-len(digits)) + digits
		}
	}
	return digits
}

func (s *cSpec) formatInt(v int64) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	body := s.signed(neg, s.intDigits(strconv.FormatUint(u, 10)))
	return s.pad(body, s.prec < 0)
}

func (s *cSpec) formatUint(v uint64, verb byte) string {
	var digits string
	switch verb {
	case 'o':
		digits = s.intDigits(strconv.FormatUint(v, 8))
		if s.alt && !strings.HasPrefix(digits, "0") {
			digits = "0" + digits
		}
	case 'x', 'X':
		digits = s.intDigits(strconv.FormatUint(v, 16))
		if s.alt && v != 0 {
			digits = "0x" + digits
		}
		if verb == 'X' {
			digits = strings.ToUpper(digits)
		}
	default:
		digits = s.intDigits(strconv.FormatUint(v, 10))
	}
	return s.pad(digits, s.prec < 0)
}

func (s *cSpec) formatFloat(f float64, verb byte) string {
	neg := math.Signbit(f)
	upper := verb == 'E' || verb == 'G'
	if math.IsInf(f, 0) || f != f {
		body := "inf"
		if f != f {
			body = "nan"
		}
		if upper {
			body = strings.ToUpper(body)
		}
		return s.pad(s.signed(neg, body), false)
	}
	prec := s.prec
	if prec < 0 {
		prec = 6
	}
	a := math.Abs(f)
	var body string
	switch verb {
	case 'f':
		body = strconv.FormatFloat(a, 'f', prec, 64)
		if s.alt && prec == 0 {
			body += "."
		}
	case 'e', 'E':
		body = strconv.FormatFloat(a, 'e', prec, 64)
		if s.alt && prec == 0 {
			body = strings.Replace(body, "e", ".e", 1)
		}
	default: // g, G
		if prec == 0 {
			prec = 1
		}
		exp := 0
		if a != 0 {
			// The exponent after rounding to prec significant digits.
			e := strconv.FormatFloat(a, 'e', prec-1, 64)
			exp, _ = strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
		}
		if exp < -4 || exp >= prec {
			body = strconv.FormatFloat(a, 'e', prec-1, 64)
			if !s.alt {
				mant, ex, _ := strings.Cut(body, "e")
				body = trimZeros(mant) + "e" + ex
			} else if !strings.Contains(body, ".") {
				body = strings.Replace(body, "e", ".e", 1)
			}
		} else {
			body = strconv.FormatFloat(a, 'f', prec-1-exp, 64)
			if !s.alt {
				body = trimZeros(body)
			} else if !strings.Contains(body, ".") {
				body += "."
			}
		}
	}
	if upper {
		body = strings.ToUpper(body)
	}
	return s.pad(s.signed(neg, body), true)
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// cString is a Lua string as a C string: up to its first NUL.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func strFormat51(L *LState) int {
	top := L.GetTop()
	arg := 1
	frm := L.CheckString(arg)
	var b strings.Builder
	for i := 0; i < len(frm); {
		c := frm[i]
		i++
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i < len(frm) && frm[i] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		arg++
		if arg > top {
			L.ArgError(arg, "no value")
		}
		// scanformat
		spec := cSpec{width: -1, prec: -1}
		p := i
		for p < len(frm) && strings.IndexByte(formatFlags, frm[p]) >= 0 {
			switch frm[p] {
			case '-':
				spec.minus = true
			case '+':
				spec.plus = true
			case ' ':
				spec.space = true
			case '#':
				spec.alt = true
			case '0':
				spec.zero = true
			}
			p++
		}
		if p-i >= len(formatFlags)+1 {
			L.RaiseError("invalid format (repeated flags)")
		}
		isDig := func(k int) bool { return k < len(frm) && frm[k] >= '0' && frm[k] <= '9' }
		start := p
		if isDig(p) {
			p++
		}
		if isDig(p) {
			p++
		}
		if p > start {
			spec.width, _ = strconv.Atoi(frm[start:p])
		}
		if p < len(frm) && frm[p] == '.' {
			p++
			start = p
			if isDig(p) {
				p++
			}
			if isDig(p) {
				p++
			}
			spec.prec, _ = strconv.Atoi("0" + frm[start:p])
		}
		if isDig(p) {
			L.RaiseError("invalid format (width or precision too long)")
		}
		verb := byte(0)
		if p < len(frm) {
			verb = frm[p]
		}
		i = p + 1
		switch verb {
		case 'c':
			ch := byte(cInt(float64(L.CheckNumber(arg)))) // (int)luaL_checknumber
			if ch == 0 {
				// sprintf wrote a NUL: strlen(buff) keeps what precedes it.
				if spec.width > 1 && !spec.minus {
					b.WriteString(strings.Repeat(" ", spec.width-1))
				}
				continue
			}
			b.WriteString(spec.pad(string([]byte{ch}), false))
		case 'd', 'i':
			b.WriteString(spec.formatInt(cLong(float64(L.CheckNumber(arg)))))
		case 'o', 'u', 'x', 'X':
			b.WriteString(spec.formatUint(cULong(float64(L.CheckNumber(arg))), verb))
		case 'e', 'E', 'f', 'g', 'G':
			b.WriteString(spec.formatFloat(float64(L.CheckNumber(arg)), verb))
		case 'q':
			s := L.CheckString(arg)
			b.WriteByte('"')
			for k := 0; k < len(s); k++ {
				switch s[k] {
				case '"', '\\', '\n':
					b.WriteByte('\\')
					b.WriteByte(s[k])
				case '\r':
					b.WriteString("\\r")
				case 0:
					b.WriteString("\\000")
				default:
					b.WriteByte(s[k])
				}
			}
			b.WriteByte('"')
		case 's':
			s := L.CheckString(arg)
			if spec.prec < 0 && len(s) >= 100 {
				b.WriteString(s)
				continue
			}
			s = cString(s)
			if spec.prec >= 0 && len(s) > spec.prec {
				s = s[:spec.prec]
			}
			b.WriteString(spec.pad(s, false))
		default:
			// luaO_pushfstring's %c of a NUL adds nothing.
			opt := ""
			if verb != 0 {
				opt = string([]byte{verb})
			}
			L.RaiseError("invalid option '%%%s' to 'format'", opt)
		}
	}
	L.Push(LString(b.String()))
	return 1
}
