package lualib

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

const cmsgpackMaxNesting = 16

// OpenCMsgpack registers the global table "cmsgpack", a port of
// lua-cmsgpack 0.4.0 as bundled with Redis: pack, unpack, unpack_one and
// unpack_limit.
func OpenCMsgpack(L *lua.LState) {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(mpPack))
	t.RawSetString("unpack", L.NewFunction(mpUnpack))
	t.RawSetString("unpack_one", L.NewFunction(mpUnpackOne))
	t.RawSetString("unpack_limit", L.NewFunction(mpUnpackLimit))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	L.SetGlobal("cmsgpack", t)
}

// ---------------------------------------------------------------- encoding

func mpEncodeBytes(buf []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		buf = append(buf, 0xa0|byte(n))
	case n <= 0xff:
		buf = append(buf, 0xd9, byte(n))
	case n <= 0xffff:
		buf = append(buf, 0xda, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(buf, s...)
}

func mpEncodeDouble(buf []byte, d float64) []byte {
	f := float32(d)
	if float64(f) == d {
		buf = append(buf, 0xca)
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(f))
	}
	buf = append(buf, 0xcb)
	return binary.BigEndian.AppendUint64(buf, math.Float64bits(d))
}

func mpEncodeInt(buf []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(buf, byte(n))
		case n <= 0xff:
			return append(buf, 0xcc, byte(n))
		case n <= 0xffff:
			return append(buf, 0xcd, byte(n>>8), byte(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(buf, 0xce), uint32(n))
		default:
			return binary.BigEndian.AppendUint64(append(buf, 0xcf), uint64(n))
		}
	}
	switch {
	case n >= -32:
		return append(buf, byte(n))
	case n >= -128:
		return append(buf, 0xd0, byte(n))
	case n >= -32768:
		return append(buf, 0xd1, byte(n>>8), byte(n))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(buf, 0xd2), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(buf, 0xd3), uint64(n))
	}
}

func mpEncodeArrayHeader(buf []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(buf, 0x90|byte(n))
	case n <= 0xffff:
		return append(buf, 0xdc, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint32(append(buf, 0xdd), uint32(n))
	}
}

func mpEncodeMapHeader(buf []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(buf, 0x80|byte(n))
	case n <= 0xffff:
		return append(buf, 0xde, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint32(append(buf, 0xdf), uint32(n))
	}
}

func mpEncodeNumber(buf []byte, n float64) []byte {
	// IS_INT64_EQUIVALENT: finite and (int64_t)n == n.
	if !math.IsInf(n, 0) && !math.IsNaN(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 && float64(int64(n)) == n {
		return mpEncodeInt(buf, int64(n))
	}
	return mpEncodeDouble(buf, n)
}

// mpTableIsArray reports whether the table's keys are exactly the numbers
// 1..N (the Redis version only accepts keys of type number).
func mpTableIsArray(t *lua.LTable) bool {
	count, max := int64(0), int64(0)
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f <= 0 || float64(cInt32(f)) != f {
			isArray = false
			return
		}
		if int64(f) > max {
			max = int64(f)
		}
		count++
	})
	return isArray && max == count
}

func mpEncodeValue(L *lua.LState, buf []byte, v lua.LValue, level int) []byte {
	switch x := v.(type) {
	case lua.LString:
		return mpEncodeBytes(buf, string(x))
	case lua.LBool:
		if x {
			return append(buf, 0xc3)
		}
		return append(buf, 0xc2)
	case lua.LNumber:
		return mpEncodeNumber(buf, float64(x))
	case *lua.LTable:
		if level == cmsgpackMaxNesting {
			return append(buf, 0xc0)
		}
		if mpTableIsArray(x) {
			n := x.Len()
			buf = mpEncodeArrayHeader(buf, n)
			for j := 1; j <= n; j++ {
				buf = mpEncodeValue(L, buf, L.GetTable(x, lua.LNumber(j)), level+1)
			}
			return buf
		}
		n := 0
		x.ForEach(func(_, _ lua.LValue) { n++ })
		buf = mpEncodeMapHeader(buf, n)
		x.ForEach(func(k, val lua.LValue) {
			buf = mpEncodeValue(L, buf, k, level+1)
			buf = mpEncodeValue(L, buf, val, level+1)
		})
		return buf
	}
	return append(buf, 0xc0)
}

func mpPack(L *lua.LState) int {
	nargs := L.GetTop()
	if nargs == 0 {
		argError(L, 0, "MessagePack pack needs input.")
	}
	var buf []byte
	for i := 1; i <= nargs; i++ {
		buf = mpEncodeValue(L, buf, L.Get(i), 0)
	}
	L.Push(lua.LString(buf))
	return 1
}

// ---------------------------------------------------------------- decoding

const (
	mpErrNone = iota
	mpErrEOF
	mpErrBadFmt
)

// luaMaxCStack is LUAI_MAXCSTACK of Lua 5.1: the number of stack slots a C
// function may use. The C decoders check it with lua_checkstack, and the
// Go ports count slots the same way so that deep inputs fail identically.
const luaMaxCStack = 8000

const mpTooManyValues = "too many return values at once; use unpack_one or unpack_limit instead."

type mpCursor struct {
	s   string
	p   int
	err int
	// height is the number of Lua stack slots the C implementation would
	// be using at this point of the decoding.
	height int
}

// checkStack mimics luaL_checkstack(L, 1, msg).
func (c *mpCursor) checkStack(L *lua.LState, msg string) {
	if c.height+1 > luaMaxCStack {
		raise(L, "stack overflow (%s)", msg)
	}
}

func (c *mpCursor) left() int { return len(c.s) - c.p }

func (c *mpCursor) need(n int) bool {
	if c.left() < n {
		c.err = mpErrEOF
		return false
	}
	return true
}

func (c *mpCursor) u16(off int) int { return int(c.s[c.p+off])<<8 | int(c.s[c.p+off+1]) }
func (c *mpCursor) u32(off int) uint32 {
	return binary.BigEndian.Uint32([]byte(c.s[c.p+off : c.p+off+4]))
}
func (c *mpCursor) u64(off int) uint64 {
	return binary.BigEndian.Uint64([]byte(c.s[c.p+off : c.p+off+8]))
}

func mpDecodeArray(L *lua.LState, c *mpCursor, n uint64) lua.LValue {
	t := L.NewTable()
	c.height++ // the table
	c.checkStack(L, "in function mp_decode_to_lua_array")
	c.height++ // the index
	for i := uint64(1); i <= n; i++ {
		v := mpDecode(L, c)
		if c.err != mpErrNone {
			return lua.LNil
		}
		t.RawSet(lua.LNumber(float64(i)), v)
	}
	c.height -= 2
	return t
}

func mpDecodeMap(L *lua.LState, c *mpCursor, n uint64) lua.LValue {
	t := L.NewTable()
	c.height++ // the table
	for ; n > 0; n-- {
		k := mpDecode(L, c)
		if c.err != mpErrNone {
			return lua.LNil
		}
		c.height++ // the key
		v := mpDecode(L, c)
		if c.err != mpErrNone {
			return lua.LNil
		}
		c.height--
		if k == lua.LNil {
			// lua_settable with a nil key raises "table index is nil"
			// from within the C function, hence without position.
			L.Error(lua.LString("table index is nil"), 0)
		}
		if kn, ok := k.(lua.LNumber); ok && math.IsNaN(float64(kn)) {
			L.Error(lua.LString("table index is NaN"), 0)
		}
		t.RawSet(k, v)
	}
	c.height--
	return t
}

func mpDecode(L *lua.LState, c *mpCursor) lua.LValue {
	c.checkStack(L, mpTooManyValues)
	if !c.need(1) {
		return lua.LNil
	}
	b := c.s[c.p]
	switch b {
	case 0xcc:
		if !c.need(2) {
			return lua.LNil
		}
		v := c.s[c.p+1]
		c.p += 2
		return lua.LNumber(float64(v))
	case 0xd0:
		if !c.need(2) {
			return lua.LNil
		}
		v := int8(c.s[c.p+1])
		c.p += 2
		return lua.LNumber(float64(v))
	case 0xcd:
		if !c.need(3) {
			return lua.LNil
		}
		v := c.u16(1)
		c.p += 3
		return lua.LNumber(float64(v))
	case 0xd1:
		if !c.need(3) {
			return lua.LNil
		}
		v := int16(c.u16(1))
		c.p += 3
		return lua.LNumber(float64(v))
	case 0xce:
		if !c.need(5) {
			return lua.LNil
		}
		v := c.u32(1)
		c.p += 5
		return lua.LNumber(float64(v))
	case 0xd2:
		if !c.need(5) {
			return lua.LNil
		}
		v := int32(c.u32(1))
		c.p += 5
		return lua.LNumber(float64(v))
	case 0xcf:
		if !c.need(9) {
			return lua.LNil
		}
		// lua_pushunsigned is lua_pushinteger in Lua 5.1: the value goes
		// through a signed 64-bit integer.
		v := int64(c.u64(1))
		c.p += 9
		return lua.LNumber(float64(v))
	case 0xd3:
		if !c.need(9) {
			return lua.LNil
		}
		v := int64(c.u64(1))
		c.p += 9
		return lua.LNumber(float64(v))
	case 0xc0:
		c.p++
		return lua.LNil
	case 0xc3:
		c.p++
		return lua.LTrue
	case 0xc2:
		c.p++
		return lua.LFalse
	case 0xca:
		if !c.need(5) {
			return lua.LNil
		}
		v := math.Float32frombits(c.u32(1))
		c.p += 5
		return lua.LNumber(float64(v))
	case 0xcb:
		if !c.need(9) {
			return lua.LNil
		}
		v := math.Float64frombits(c.u64(1))
		c.p += 9
		return lua.LNumber(v)
	case 0xd9:
		if !c.need(2) {
			return lua.LNil
		}
		l := int(c.s[c.p+1])
		if !c.need(2 + l) {
			return lua.LNil
		}
		v := c.s[c.p+2 : c.p+2+l]
		c.p += 2 + l
		return lua.LString(v)
	case 0xda:
		if !c.need(3) {
			return lua.LNil
		}
		l := c.u16(1)
		if !c.need(3 + l) {
			return lua.LNil
		}
		v := c.s[c.p+3 : c.p+3+l]
		c.p += 3 + l
		return lua.LString(v)
	case 0xdb:
		if !c.need(5) {
			return lua.LNil
		}
		l := uint64(c.u32(1))
		if uint64(c.left()) < 5+l {
			c.err = mpErrEOF
			return lua.LNil
		}
		v := c.s[c.p+5 : c.p+5+int(l)]
		c.p += 5 + int(l)
		return lua.LString(v)
	case 0xdc:
		if !c.need(3) {
			return lua.LNil
		}
		l := c.u16(1)
		c.p += 3
		return mpDecodeArray(L, c, uint64(l))
	case 0xdd:
		if !c.need(5) {
			return lua.LNil
		}
		l := c.u32(1)
		c.p += 5
		return mpDecodeArray(L, c, uint64(l))
	case 0xde:
		if !c.need(3) {
			return lua.LNil
		}
		l := c.u16(1)
		c.p += 3
		return mpDecodeMap(L, c, uint64(l))
	case 0xdf:
		if !c.need(5) {
			return lua.LNil
		}
		l := c.u32(1)
		c.p += 5
		return mpDecodeMap(L, c, uint64(l))
	}
	switch {
	case b&0x80 == 0:
		c.p++
		return lua.LNumber(float64(b))
	case b&0xe0 == 0xe0:
		c.p++
		return lua.LNumber(float64(int8(b)))
	case b&0xe0 == 0xa0:
		l := int(b & 0x1f)
		if !c.need(1 + l) {
			return lua.LNil
		}
		v := c.s[c.p+1 : c.p+1+l]
		c.p += 1 + l
		return lua.LString(v)
	case b&0xf0 == 0x90:
		c.p++
		return mpDecodeArray(L, c, uint64(b&0xf))
	case b&0xf0 == 0x80:
		c.p++
		return mpDecodeMap(L, c, uint64(b&0xf))
	}
	c.err = mpErrBadFmt
	return lua.LNil
}

func mpUnpackFull(L *lua.LState, s string, limit, offset int, base int) int {
	decodeAll := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		raise(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	} else if offset > len(s) {
		raise(L, "Start offset %d greater than input length %d.", offset, len(s))
	}
	if decodeAll {
		limit = math.MaxInt32
	}
	c := &mpCursor{s: s, p: offset, height: base}
	var results []lua.LValue
	for cnt := 0; c.left() > 0 && cnt < limit; cnt++ {
		v := mpDecode(L, c)
		switch c.err {
		case mpErrEOF:
			raise(L, "Missing bytes in input.")
		case mpErrBadFmt:
			raise(L, "Bad data format in input.")
		}
		results = append(results, v)
		c.height++
	}
	if !decodeAll {
		c.checkStack(L, "in function mp_unpack_full")
		next := c.p
		if c.left() == 0 {
			next = -1
		}
		L.Push(lua.LNumber(float64(next)))
	}
	for _, r := range results {
		L.Push(r)
	}
	if !decodeAll {
		return len(results) + 1
	}
	return len(results)
}

func mpUnpack(L *lua.LState) int {
	s := checkString(L, 1)
	return mpUnpackFull(L, s, 0, 0, L.GetTop())
}

func mpUnpackOne(L *lua.LState) int {
	offset := int(int32(optInteger(L, 2, 0)))
	s := checkString(L, 1)
	return mpUnpackFull(L, s, 1, offset, 1)
}

func mpUnpackLimit(L *lua.LState) int {
	limit := int(int32(checkInteger(L, 2)))
	offset := int(int32(optInteger(L, 3, 0)))
	s := checkString(L, 1)
	return mpUnpackFull(L, s, limit, offset, 1)
}
