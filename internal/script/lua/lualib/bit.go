package lualib

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// OpenBit registers the global table "bit", a port of LuaBitOp 1.0.2: 32-bit
// bitwise operations on Lua numbers (doubles).
func OpenBit(L *lua.LState) {
	funcs := map[string]lua.LGFunction{
		"tobit":   bitToBit,
		"bnot":    bitBNot,
		"band":    bitBAnd,
		"bor":     bitBOr,
		"bxor":    bitBXor,
		"lshift":  bitLShift,
		"rshift":  bitRShift,
		"arshift": bitARShift,
		"rol":     bitRol,
		"ror":     bitRor,
		"bswap":   bitBSwap,
		"tohex":   bitToHex,
	}
	t := L.NewTable()
	for name, fn := range funcs {
		t.RawSetString(name, L.NewFunction(fn))
	}
	L.SetGlobal("bit", t)
}

// barg normalises argument n to a 32-bit value exactly like LuaBitOp: the
// number is added to 2^52+2^51 and the low 32 bits of the resulting double's
// representation are taken.
func barg(L *lua.LState, n int) uint32 {
	v := L.Get(n)
	f, ok := toNumber(v)
	b := uint32(math.Float64bits(f + 6755399441055744.0))
	if b == 0 && !ok {
		typeError(L, n, "number")
	}
	return b
}

func bret(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(float64(int32(b))))
	return 1
}

func bitToBit(L *lua.LState) int { return bret(L, barg(L, 1)) }
func bitBNot(L *lua.LState) int  { return bret(L, ^barg(L, 1)) }

func bitOp(L *lua.LState, op func(a, b uint32) uint32) int {
	b := barg(L, 1)
	for i := L.GetTop(); i > 1; i-- {
		b = op(b, barg(L, i))
	}
	return bret(L, b)
}

func bitBAnd(L *lua.LState) int { return bitOp(L, func(a, b uint32) uint32 { return a & b }) }
func bitBOr(L *lua.LState) int  { return bitOp(L, func(a, b uint32) uint32 { return a | b }) }
func bitBXor(L *lua.LState) int { return bitOp(L, func(a, b uint32) uint32 { return a ^ b }) }

func bitShift(L *lua.LState, op func(b, n uint32) uint32) int {
	b := barg(L, 1)
	n := barg(L, 2) & 31
	return bret(L, op(b, n))
}

func bitLShift(L *lua.LState) int {
	return bitShift(L, func(b, n uint32) uint32 { return b << n })
}
func bitRShift(L *lua.LState) int {
	return bitShift(L, func(b, n uint32) uint32 { return b >> n })
}
func bitARShift(L *lua.LState) int {
	return bitShift(L, func(b, n uint32) uint32 { return uint32(int32(b) >> n) })
}

// rol and ror: with n == 0 the C code shifts by 32, which x86 treats as a
// shift by 0, so the result is b either way.
func bitRol(L *lua.LState) int {
	return bitShift(L, func(b, n uint32) uint32 { return b<<n | b>>((32-n)&31) })
}
func bitRor(L *lua.LState) int {
	return bitShift(L, func(b, n uint32) uint32 { return b<<((32-n)&31) | b>>n })
}

func bitBSwap(L *lua.LState) int {
	b := barg(L, 1)
	b = b>>24 | (b>>8)&0xff00 | (b&0xff00)<<8 | b<<24
	return bret(L, b)
}

func bitToHex(L *lua.LState) int {
	b := barg(L, 1)
	n := int32(8)
	if L.GetTop() >= 2 {
		n = int32(barg(L, 2))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n = -n
		digits = "0123456789ABCDEF"
	}
	// For n == INT_MIN, -n overflows; the C compiler treats it as a large
	// positive number, so the width is capped to 8 like any n > 8.
	if n > 8 || n < 0 {
		n = 8
	}
	buf := make([]byte, n)
	for i := int(n) - 1; i >= 0; i-- {
		buf[i] = digits[b&15]
		b >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
