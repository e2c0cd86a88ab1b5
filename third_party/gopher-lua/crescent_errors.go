// CRESCENT: this file is not part of upstream gopher-lua. Error positions
// and argument errors as Lua 5.1's lauxlib.c and ldebug.c give them.

package lua

import "math"

// luaLWhere is luaL_where(L, 1) for an error raised by the running
// function: the position of the Lua function that called it when it is a
// Go function (luaL_error in a C function), or its own when it is a Lua
// function (an error of the VM); "" when a Go function was called by
// another Go function (pcall(string.rep)), as C Lua gives no position for
// a C caller.
func (ls *LState) luaLWhere() string {
	cf := ls.currentFrame
	if cf == nil {
		return ""
	}
	if cf.Fn.IsG {
		cf = cf.Parent
		if cf == nil || cf.Fn.IsG {
			return ""
		}
	}
	return ls.whereFrame(cf)
}

// runError is luaG_runerror: the message gets the position of the running
// function only when it is a Lua function (an error raised inside a Go
// function, as rawset's "table index is nil" or a comparison in
// table.sort, has none).
func (ls *LState) runError(format string, args ...interface{}) {
	if cf := ls.currentFrame; cf != nil && !cf.Fn.IsG {
		ls.raiseError(1, format, args...)
	}
	ls.raiseError(0, format, args...)
}

// argTypeName is luaL_typename(L, n) for argument n: "no value" past the
// last argument.
func (ls *LState) argTypeName(n int) string {
	if n > ls.GetTop() {
		return "no value"
	}
	return ls.Get(n).Type().String()
}

// argFuncName is the name luaL_argerror gives the running function: the
// name it was called by, '?' when none is known (called from Go, or
// through an expression that is not a name); a generic for's iterator is
// the local '(for generator)'.
func (ls *LState) argFuncName() string {
	name := ls.rawFrameFuncName(ls.currentFrame)
	if name == "" || name[0] == '(' && name != "(for generator)" || name[0] == '<' {
		return "'?'"
	}
	return "'" + name + "'"
}

// argNumber is argument n, v, as luaL_checknumber takes it: a string
// that reads as a number is that number; anything else is a type error.
func (ls *LState) argNumber(n int, v LValue) LNumber {
	if lv, ok := v.(LString); ok {
		if num, err := parseNumber(string(lv)); err == nil {
			return num
		}
	}
	ls.TypeError(n, LTNumber)
	return 0
}

// asciiMap is s with the bytes from lo to hi (one ASCII letter range)
// switched to the other case, as C's toupper and tolower do in the C
// locale: other bytes, UTF-8 included, are left alone.
func asciiMap(s string, lo, hi byte) string {
	i := 0
	for i < len(s) && (s[i] < lo || s[i] > hi) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= lo && c <= hi {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

// calledAsMethod reports whether the running Go function was called as
// obj:name(...) by a Lua function (ldebug.c's namewhat "method").
func (ls *LState) calledAsMethod() bool {
	fr := ls.currentFrame
	if fr == nil || fr.Parent == nil || fr.Parent.Fn.IsG {
		return false
	}
	pc := fr.Parent.Pc - 1
	for _, call := range fr.Parent.Fn.Proto.DbgCalls {
		if call.Pc == pc {
			return call.Method
		}
	}
	return false
}

// LostTailCall reports whether stack level (as GetStack counts) is a
// call lost to a tail call: lua_getstack finds it, but it has no function
// and no position (luaL_where gives ""), where GetStack answers with the
// bottom frame.
func (ls *LState) LostTailCall(level int) bool {
	frame := ls.currentFrame
	for ; level > 0 && frame != nil; frame = frame.Parent {
		level--
		if !frame.Fn.IsG {
			level -= frame.TailCall
		}
	}
	return level < 0
}

// CheckCInt is luaL_checkint: the number (or numeric string) converted to
// a C long, then truncated to an int, as on x86-64 (2^32 + 2 is 2,
// out-of-range values LONG_MIN's low half, 0).
func (ls *LState) CheckCInt(n int) int {
	return int(int32(cLong(float64(ls.CheckNumber(n)))))
}

// OptCInt is luaL_optint: d when argument n is absent or nil, else
// CheckCInt.
func (ls *LState) OptCInt(n int, d int) int {
	if ls.Get(n) == LNil {
		return d
	}
	return ls.CheckCInt(n)
}

// cInt converts f to a C int as x86-64 does ((int)f): NaN and values
// outside the int range become INT_MIN.
func cInt(f float64) int32 {
	if f != f || f >= 2147483648.0 || f <= -2147483649.0 {
		return math.MinInt32
	}
	return int32(f)
}
