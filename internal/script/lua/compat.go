package lua

import (
	"math"
	"regexp"
	"strings"

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

// luaTonumber is tonumber() parsing base-10 strings as Lua 5.1's
// luaO_str2d does (strtod, hex via strtoul, surrounding spaces).
func luaTonumber(orig *glua.LFunction) glua.LGFunction {
	return func(L *glua.LState) int {
		// The arguments read once off the stack (L.Args): GetTop, Get and
		// CheckAny each recompute the frame's base (tonumber runs three
		// times per call of the seed's rate limiter).
		args := L.Args()
		if len(args) >= 2 {
			switch b := args[1].(type) {
			case nil, *glua.LNilType: // tonumber(x, nil): base 10
			case glua.LNumber:
				if b != 10 {
					return orig.GFunction(L)
				}
			default:
				return orig.GFunction(L)
			}
		}
		if len(args) == 0 {
			L.CheckAny(1) // raises "value expected"
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
}

func luaCollectgarbage(L *glua.LState) int {
	switch L.OptString(1, "collect") {
	case "count":
		L.Push(glua.LNumber(32))
	case "step":
		L.Push(glua.LFalse)
	default:
		L.Push(glua.LNumber(0))
	}
	return 1
}

var _ = math.Inf
