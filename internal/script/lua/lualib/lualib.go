// Package lualib implements, on top of gopher-lua, the four extra Lua
// libraries that Redis 7.0 exposes to scripts: cjson (lua-cjson 2.1.0 as
// patched by Redis), cmsgpack (lua-cmsgpack 0.4.0), bit (LuaBitOp 1.0.2) and
// struct (lua_struct 0.2).
//
// The libraries aim to behave byte-for-byte like the C versions bundled with
// Redis, including their error messages. Errors are raised the way the C
// auxiliary library does it: luaL_error prefixes the message with the
// position ("chunk:line: ") of the Lua function that called the library
// function, and nothing when the caller is not a Lua function (for example
// when called through pcall directly). The chunk of an EVAL script should be
// loaded under the name "user_script" to get Redis' "user_script:N: ..."
// messages.
//
// The C decoders check the Lua stack against LUAI_MAXCSTACK (8000 slots);
// the ports count slots the same way, so very deep or very long inputs fail
// with the same messages. cmsgpack.unpack may return up to 7999 values: the
// gopher-lua state needs a registry of at least that size (for example
// lua.Options{RegistrySize: 1024 * 20}).
//
// Known differences: objects and msgpack maps are emitted in gopher-lua's
// table iteration order (insertion order), not C Lua's hash order, so
// tables with several non-array keys may serialise their keys in a
// different order; argument errors of functions called with method syntax
// do not get C Lua's "calling 'f' on bad self" rewording.
package lualib

import (
	"fmt"
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// OpenAll registers the cjson, cmsgpack, bit and struct global tables in L.
func OpenAll(L *lua.LState) {
	OpenCJSON(L)
	OpenCMsgpack(L)
	OpenBit(L)
	OpenStruct(L)
}

// where mimics luaL_where(L, 1): the "chunk:line: " position of the function
// that called the currently running Go function, or "" when that caller is
// not a Lua function.
func where(L *lua.LState) string {
	dbg, ok := L.GetStack(1)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
		return ""
	}
	if dbg.CurrentLine <= 0 || dbg.What == "G" {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
}

// raise mimics luaL_error: it formats the message, prefixes the caller's
// position and raises it as a Lua error. It never returns.
func raise(L *lua.LState, format string, args ...interface{}) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	L.Error(lua.LString(where(L)+msg), 0)
}

// argError mimics luaL_argerror.
func argError(L *lua.LState, n int, msg string) {
	L.ArgError(n, msg)
}

// typeName mimics luaL_typename: "no value" for absent arguments.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// typeError mimics luaL_typerror.
func typeError(L *lua.LState, n int, expected string) {
	argError(L, n, fmt.Sprintf("%s expected, got %s", expected, typeName(L, n)))
}

// toNumber mimics lua_tonumber: numbers and numeric strings convert, anything
// else yields (0, false).
func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return str2number(string(x))
	}
	return 0, false
}

// str2number mimics luaO_str2d from Lua 5.1: strtod, or strtoul for hex,
// with only trailing whitespace allowed.
func str2number(s string) (float64, bool) {
	isSpace := func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
	f, n := strtod(s)
	if n == 0 {
		return 0, false
	}
	if n < len(s) && (s[n] == 'x' || s[n] == 'X') {
		// Lua 5.1 uses strtoul(s, 16) in this case.
		v, m := strtoul16(s)
		if m == 0 {
			return 0, false
		}
		f, n = v, m
	}
	for n < len(s) && isSpace(s[n]) {
		n++
	}
	if n != len(s) {
		return 0, false
	}
	return f, true
}

// strtoul16 mimics strtoul(s, &end, 16) well enough for Lua's number parser.
func strtoul16(s string) (float64, int) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i+1 < len(s) && s[i] == '0' && (s[i+1]|0x20) == 'x' && i+2 < len(s) && hexVal(s[i+2]) >= 0 {
		i += 2
	}
	start := i
	var v uint64
	overflow := false
	for i < len(s) && hexVal(s[i]) >= 0 {
		if v > math.MaxUint64>>4 {
			overflow = true
		}
		v = v<<4 | uint64(hexVal(s[i]))
		i++
	}
	if i == start {
		return 0, 0
	}
	if overflow {
		v = math.MaxUint64
	}
	if neg {
		v = -v
	}
	return float64(v), i
}

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

// checkNumber mimics luaL_checknumber.
func checkNumber(L *lua.LState, n int) float64 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return f
}

// toInteger mimics lua_tointeger on x86-64 (truncation towards zero).
func toInteger(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

// checkInteger mimics luaL_checkinteger.
func checkInteger(L *lua.LState, n int) int64 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return toInteger(f)
}

// optInteger mimics luaL_optinteger.
func optInteger(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkInteger(L, n)
}

// checkString mimics luaL_checklstring: strings, and numbers converted with
// "%.14g".
func checkString(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return fmtG(float64(v), 14)
	}
	typeError(L, n, "string")
	return ""
}

// fmtG mimics C's printf("%.<prec>g", f) as done by glibc.
func fmtG(f float64, prec int) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', prec, 64)
}

// cInt32 mimics a C conversion of a double to int on x86-64 (cvttsd2si):
// out-of-range values become INT_MIN.
func cInt32(f float64) int32 {
	if f != f || f >= 2147483648.0 || f <= -2147483649.0 {
		return math.MinInt32
	}
	return int32(f)
}
