package lua

import (
	"fmt"
	"strings"
)

const emptyLString LString = LString("")

func OpenString(L *LState) int {
	var mod *LTable
	//_, ok := L.G.builtinMts[int(LTString)]
	//if !ok {
	mod = L.RegisterModule(StringLibName, strFuncs).(*LTable)
	mod.RawSetString("gfind", mod.RawGetString("gmatch")) // CRESCENT: crescent_lstrlib.go
	mod.RawSetString("__index", mod)
	L.G.builtinMts[int(LTString)] = mod
	//}
	L.Push(mod)
	return 1
}

var strFuncs = map[string]LGFunction{
	"byte":    strByte,
	"char":    strChar,
	"dump":    strDump,
	"find":    strFind,
	"format":  strFormat,
	"gmatch":  strGmatch,
	"gsub":    strGsub,
	"len":     strLen,
	"lower":   strLower,
	"match":   strMatch,
	"rep":     strRep,
	"reverse": strReverse,
	"sub":     strSub,
	"upper":   strUpper,
}

// strByte is lstrlib.c's str_byte. CRESCENT: Lua 5.1's position rules
// (posrelat, clamping) and its C stack limit.
func strByte(L *LState) int {
	str := L.CheckString(1)
	l := len(str)
	posi := posRelat(L.OptInt(2, 1), l)
	pose := posRelat(L.OptInt(3, posi), l)
	if posi <= 0 {
		posi = 1
	}
	if pose > l {
		pose = l
	}
	if posi > pose {
		return 0 // empty interval; return no values
	}
	n := pose - posi + 1
	if n > luaiMaxCStack-L.GetTop() { // luaL_checkstack
		L.RaiseError("stack overflow (string slice too long)")
	}
	for i := 0; i < n; i++ {
		L.Push(LNumber(str[posi+i-1]))
	}
	return n
}

func strChar(L *LState) int {
	top := L.GetTop()
	bytes := make([]byte, L.GetTop())
	for i := 1; i <= top; i++ {
		c := L.CheckCInt(i)     // CRESCENT: luaL_checkint
		if c != int(uint8(c)) { // CRESCENT: Lua 5.1's check
			L.ArgError(i, "invalid value")
		}
		bytes[i-1] = uint8(c)
	}
	L.Push(LString(string(bytes)))
	return 1
}

func strDump(L *LState) int {
	L.RaiseError("GopherLua does not support the string.dump")
	return 0
}

func strFormat(L *LState) int {
	if true { // CRESCENT: Lua 5.1's str_format (crescent_format.go)
		return strFormat51(L)
	}
	str := L.CheckString(1)
	args := make([]interface{}, L.GetTop()-1)
	top := L.GetTop()
	for i := 2; i <= top; i++ {
		args[i-2] = L.Get(i)
	}
	npat := strings.Count(str, "%") - strings.Count(str, "%%")
	L.Push(LString(fmt.Sprintf(str, args[:intMin(npat, len(args))]...)))
	return 1
}

// gsubValue is Lua 5.1's add_value check of a table's or function's
// replacement: false and nil keep the match, strings and numbers replace
// it, anything else is an error. CRESCENT
func gsubValue(L *LState, v LValue) (string, bool) {
	switch v.(type) {
	case LString, LNumber:
		return LVAsString(v), true
	}
	if LVIsFalse(v) {
		return "", false
	}
	L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	return "", false
}

func strLen(L *LState) int {
	str := L.CheckString(1)
	L.Push(LNumber(len(str)))
	return 1
}

func strLower(L *LState) int {
	str := L.CheckString(1)
	L.Push(LString(asciiMap(str, 'A', 'Z'))) // CRESCENT: C locale tolower
	return 1
}

func strRep(L *LState) int {
	str := L.CheckString(1)
	n := L.CheckCInt(2) // CRESCENT: luaL_checkint, an int
	if n < 0 {
		L.Push(emptyLString)
	} else {
		L.Push(LString(strings.Repeat(str, n)))
	}
	return 1
}

func strReverse(L *LState) int {
	str := L.CheckString(1)
	bts := []byte(str)
	out := make([]byte, len(bts))
	for i, j := 0, len(bts)-1; j >= 0; i, j = i+1, j-1 {
		out[i] = bts[j]
	}
	L.Push(LString(string(out)))
	return 1
}

// strSub is lstrlib.c's str_sub. CRESCENT: Lua 5.1's position rules, so
// that huge, infinite and NaN positions clamp as they do in C.
func strSub(L *LState) int {
	str := L.CheckString(1)
	l := len(str)
	start := posRelat(L.CheckInt(2), l)
	end := posRelat(L.OptInt(3, -1), l)
	if start < 1 {
		start = 1
	}
	if end > l {
		end = l
	}
	if start <= end {
		L.Push(LString(str[start-1 : end]))
	} else {
		L.Push(emptyLString)
	}
	return 1
}

func strUpper(L *LState) int {
	str := L.CheckString(1)
	L.Push(LString(asciiMap(str, 'a', 'z'))) // CRESCENT: C locale toupper
	return 1
}

//
