package lua

import (
	"math"
	"regexp"
	"runtime"
	"runtime/metrics"
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

// collectMin is the allocation of a run beyond which
// collectgarbage('collect') runs Go's collector: below it the script has
// little garbage of its own to free, and a full collection of the
// server's heap on every call of a script that calls collectgarbage()
// would cost far more than Lua's collection of its own small heap.
const collectMin = 1 << 20

// allocsMetric is the cumulative size of the objects allocated on Go's
// heap.
const allocsMetric = "/gc/heap/allocs:bytes"

// memCounter is collectgarbage('count') of a state. gopher-lua allocates
// from Go's heap with no per-VM accounting, so the count is: the state's
// size when it was built (size: what was allocated meanwhile, its
// libraries and stacks, about 500 KB), plus every byte allocated on Go's heap since the
// run started (the garbage of the script included, as Lua counts its own
// until a collection), minus what collectgarbage('collect') freed, never
// below size. It grows when the script allocates, shrinks when a
// collection frees what the script dropped, and is not moved by
// collections of other garbage in between (a live-heap difference would
// be). Allocations of other clients running at the same time count too:
// the heap is the process's.
type memCounter struct {
	sample [2]metrics.Sample // allocsMetric, heapMetric
	size   int64
	// base is allocsMetric when the run started (-1 before the first
	// reading: runs of scripts that do not name collectgarbage or gcinfo
	// read it at their first count, as reading costs ~0.4µs), moved up by
	// what collections freed.
	base int64
}

// init prepares m's samples.
func (m *memCounter) init() {
	m.sample[0].Name = allocsMetric
	m.sample[1].Name = heapMetric
	m.base = -1
}

// read returns the allocation and live heap counters.
func (m *memCounter) read() (allocs, heap int64) {
	metrics.Read(m.sample[:])
	for i := range m.sample {
		if m.sample[i].Value.Kind() != metrics.KindUint64 {
			return 0, 0
		}
	}
	return int64(m.sample[0].Value.Uint64()), int64(m.sample[1].Value.Uint64())
}

// begin starts counting a run: now when the script may ask (countsMem),
// else at its first count.
func (m *memCounter) begin(now bool) {
	m.base = -1
	if now {
		m.base, _ = m.read()
	}
}

// used is the count in bytes.
func (m *memCounter) used() int64 {
	allocs, _ := m.read()
	if m.base < 0 {
		m.base = allocs
	}
	return m.size + max(0, allocs-m.base)
}

// collect is collectgarbage('collect'): Go's collector runs once the run
// has allocated collectMin or more since its start or last collection;
// what it frees is taken off the count (the base moves so that only what
// is left of the script's allocations counts).
func (m *memCounter) collect() {
	grown := m.used() - m.size
	if grown < collectMin {
		return
	}
	_, before := m.read()
	runtime.GC()
	allocs, after := m.read()
	m.base = allocs - max(0, grown-max(0, before-after))
}

// gcinfo is Lua 5.1's gcinfo: collectgarbage('count') in whole kilobytes.
func (s *state) gcinfo(L *glua.LState) int {
	L.Push(glua.LNumber(s.mc.used() >> 10))
	return 1
}

// collectgarbage is luaB_collectgarbage: luaL_checkoption (default
// "collect"), the second argument read by luaL_optint for every option,
// "count" the VM's memory in kilobytes with fractions (memCounter), "step" a
// boolean (a cycle never ends on one step here), setpause/setstepmul the
// previous value, the others 0.
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
		L.Push(glua.LNumber(float64(s.mc.used()) / 1024))
	case "collect":
		s.mc.collect()
		L.Push(glua.LNumber(0))
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
