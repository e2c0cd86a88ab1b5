package lua

import (
	"math"
	"regexp"
	"strings"
	"sync/atomic"

	glua "github.com/yuin/gopher-lua"
)

// gopher-lua words some runtime errors differently from Lua 5.1; these
// rewrites give the C wording where it does not depend on variable names
// (which gopher-lua does not track).
var (
	reArith   = regexp.MustCompile(`cannot perform (\w+) operation between (\w+) and (\w+)`)
	reIndex   = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '[^']*'`)
	reCompare = regexp.MustCompile(`attempt to compare (\w+) with (\w+)`)
	reBadArg  = regexp.MustCompile(`bad argument #(\d+) to ([A-Za-z_][\w.:]*) \(`)
	rePos     = regexp.MustCompile(`^([^:\s]+):(\d+): `)
)

func rewriteVMError(msg, pos string) string {
	if msg == "lua callstack overflow" {
		return pos + "stack overflow"
	}
	if strings.HasSuffix(msg, "__len undefined") {
		return strings.TrimSuffix(msg, "__len undefined") + "attempt to get length of a nil value"
	}
	msg = reArith.ReplaceAllStringFunc(msg, func(m string) string {
		p := reArith.FindStringSubmatch(m)
		t := p[2]
		if t == "number" || (p[1] != "concat" && t == "string") {
			t = p[3]
		}
		if p[1] == "concat" {
			return "attempt to concatenate a " + t + " value"
		}
		return "attempt to perform arithmetic on a " + t + " value"
	})
	msg = reIndex.ReplaceAllString(msg, "attempt to index a $1 value")
	msg = reCompare.ReplaceAllStringFunc(msg, func(m string) string {
		p := reCompare.FindStringSubmatch(m)
		if p[1] == p[2] {
			return "attempt to compare two " + p[1] + " values"
		}
		return m
	})
	msg = reBadArg.ReplaceAllString(msg, "bad argument #$1 to '$2' (")
	msg = strings.Replace(msg, "attempt to call a non-function object", "attempt to call a nil value", 1)
	return msg
}

// luaTostring is tostring() with Lua 5.1's number format (%.14g).
func luaTostring(L *glua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(glua.LNumber); ok {
		L.Push(glua.LString(fmtNumber(float64(n))))
		return 1
	}
	L.Push(L.ToStringMeta(v))
	return 1
}

// luaTonumber is Lua 5.1's tonumber(): base-10 strings parse as
// luaO_str2d does (strtod, hex via strtoul, surrounding spaces); any other
// base as luaB_tonumber does, with C's strtoul (a sign, a 0x prefix in
// base 16, saturation at 2^64-1) on the argument as a C string.
func luaTonumber(L *glua.LState) int {
	// The arguments read once off the stack (L.Args): GetTop, Get and
	// CheckAny each recompute the frame's base (tonumber runs three times
	// per call of the seed's rate limiter).
	args := L.Args()
	base := int32(10)
	if len(args) >= 2 {
		switch b := args[1].(type) {
		case nil, *glua.LNilType: // tonumber(x, nil): base 10
		case glua.LNumber:
			base = luaInt(float64(b))
		case glua.LString:
			f, ok := glua.Str2Number(string(b))
			if !ok {
				L.TypeError(2, glua.LTNumber)
			}
			base = luaInt(float64(f))
		default:
			L.TypeError(2, glua.LTNumber)
		}
	}
	if len(args) == 0 {
		L.CheckAny(1) // raises "value expected"
	}
	if base != 10 {
		var s string
		switch v := args[0].(type) {
		case glua.LString:
			s = string(v)
		case glua.LNumber:
			s = fmtNumber(float64(v))
		default:
			L.TypeError(1, glua.LTString)
		}
		if base < 2 || base > 36 {
			L.ArgError(2, "base out of range")
		}
		if n, ok := strtoulBase(s, int(base)); ok {
			L.Push(glua.LNumber(float64(n)))
		} else {
			L.Push(glua.LNil)
		}
		return 1
	}
	switch v := args[0].(type) {
	case glua.LNumber:
		L.Push(v)
	case glua.LString:
		if f, ok := glua.Str2Number(string(v)); ok {
			L.Push(glua.NumberValue(f))
		} else {
			L.Push(glua.LNil)
		}
	default:
		L.Push(glua.LNil)
	}
	return 1
}

// luaInt is luaL_checkint's conversion of a number on x86-64: truncation
// to a 64-bit integer (out of range and NaN give its minimum, as cvttsd2si
// does), then to a C int.
func luaInt(f float64) int32 {
	if !(f > -9.223372036854775808e18 && f < 9.223372036854775808e18) {
		return 0 // int32(math.MinInt64)
	}
	return int32(int64(f))
}

// strtoulBase is luaB_tonumber's parse of s in base (2..36): C's strtoul
// on s up to its first NUL (leading white space, a sign, "0x" in base 16,
// saturation at 2^64-1, a negated result wrapping), then only white space
// after the digits. ok is false without a digit or with other trailing
// characters.
func strtoulBase(s string, base int) (n uint64, ok bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 16 && i+2 < len(s) && s[i] == '0' && (s[i+1]|0x20) == 'x' && digitVal(s[i+2]) < 16 {
		i += 2
	}
	start, over := i, false
	for ; i < len(s); i++ {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if n > (math.MaxUint64-uint64(d))/uint64(base) {
			over = true
		}
		n = n*uint64(base) + uint64(d)
	}
	if i == start {
		return 0, false
	}
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, false
	}
	switch {
	case over:
		return math.MaxUint64, true
	case neg:
		return -n, true
	}
	return n, true
}

// digitVal is a digit's value in bases up to 36 (99 for anything else).
func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c|0x20-'a') + 10
	}
	return 99
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// gcParams are the collector's pause and step multiplier a Lua state
// keeps (lua_gc LUA_GCSETPAUSE/SETSTEPMUL): collectgarbage('setpause', n)
// answers the previous value. EVAL scripts share one set, as they share
// Redis's one Lua VM; functions have their own VM and so their own set.
// gopher-lua's collector is Go's, so the values change nothing else.
type gcParams struct {
	pause, stepmul atomic.Int32
}

// init gives p Lua 5.1's defaults (LUAI_GCPAUSE, LUAI_GCMUL).
func (p *gcParams) init() {
	p.pause.Store(200)
	p.stepmul.Store(200)
}

// gcOptions are luaB_collectgarbage's options, in lbaselib.c's order.
var gcOptions = [...]string{"stop", "restart", "collect", "count", "step", "setpause", "setstepmul"}

// collectgarbage is luaB_collectgarbage: luaL_checkoption (default
// "collect"), the second argument read by luaL_optint for every option,
// "count" in kilobytes, "step" a boolean (a cycle never ends on one step
// here), setpause/setstepmul the previous value, the others 0.
func (s *state) collectgarbage(L *glua.LState) int {
	name := L.OptString(1, "collect")
	opt := -1
	for i, o := range gcOptions {
		if o == name {
			opt = i
			break
		}
	}
	if opt < 0 {
		L.ArgError(1, "invalid option '"+name+"'")
		return 0
	}
	ex := int32(L.OptInt(2, 0)) // luaL_optint: an int
	switch gcOptions[opt] {
	case "count":
		L.Push(glua.LNumber(32))
	case "step":
		L.Push(glua.LFalse)
	case "setpause":
		L.Push(glua.LNumber(s.gc.pause.Swap(ex)))
	case "setstepmul":
		L.Push(glua.LNumber(s.gc.stepmul.Swap(ex)))
	default:
		L.Push(glua.LNumber(0))
	}
	return 1
}
