package lua

import (
	"unsafe"
)

// CRESCENT: cheap per-call argument tables for hosts (Redis's KEYS and
// ARGV, rebuilt for every script call).

// stringItab is the itab word of an LValue holding an LString.
var stringItab unsafe.Pointer

func init() {
	var v LValue = LString("x")
	stringItab = (*iface)(unsafe.Pointer(&v)).itab
}

// AppendStringValues appends to dst the LValues of the strings of each
// part of groups, in order, and returns it. All the strings share one
// allocation and their headers another, instead of two allocations per
// string (the bytes and the interface box) for LString(b) stored in an
// LValue; a few short strings (the usual KEYS and ARGV) share a single
// allocation, headers followed by bytes.
func AppendStringValues(dst []LValue, groups ...[][]byte) []LValue {
	n, size := 0, 0
	for _, g := range groups {
		n += len(g)
		for _, b := range g {
			size += len(b)
		}
	}
	if n == 0 {
		return dst
	}
	var hdrs []LString
	var data []byte
	switch { // size classes: 48, 80, 96, 112, 176 and 320 bytes
	case n <= 2 && size <= 16:
		hdrs, data = argBlock[[2]LString, [16]byte](n, size)
	case n <= 2 && size <= 48:
		hdrs, data = argBlock[[2]LString, [48]byte](n, size)
	case n <= 4 && size <= 32:
		hdrs, data = argBlock[[4]LString, [32]byte](n, size)
	case n <= 4 && size <= 48:
		hdrs, data = argBlock[[4]LString, [48]byte](n, size)
	case n <= 4 && size <= 112:
		hdrs, data = argBlock[[4]LString, [112]byte](n, size)
	case n <= 8 && size <= 192:
		hdrs, data = argBlock[[8]LString, [192]byte](n, size)
	default:
		hdrs, data = make([]LString, n), make([]byte, size)
	}
	off, i := 0, 0
	for _, g := range groups {
		for _, b := range g {
			if len(b) > 0 {
				copy(data[off:], b)
				hdrs[i] = LString(unsafe.String(&data[off], len(b)))
				off += len(b)
			}
			var v LValue
			vi := (*iface)(unsafe.Pointer(&v))
			vi.itab = stringItab
			vi.word = unsafe.Pointer(&hdrs[i])
			dst = append(dst, v)
			i++
		}
	}
	return dst
}

// argBlock returns n string headers and size bytes in one allocation (H
// is an array of at least n LStrings, B of at least size bytes). The
// headers point into the same object, which the strings keep alive.
func argBlock[H, B any](n, size int) ([]LString, []byte) {
	type block struct {
		h H
		b B
	}
	x := new(block)
	return unsafe.Slice((*LString)(unsafe.Pointer(&x.h)), n), unsafe.Slice((*byte)(unsafe.Pointer(&x.b)), size)
}

// ResetArray makes tb what CreateTable(n, 0) returns (n nil array slots,
// no hash part, no metatable), keeping its storage, when tb is such a
// plain array table: no metatable, no hash part and an array part of at
// least n slots once allocated. It reports false, leaving tb unchanged,
// otherwise. A host reusing a table between calls this way gives scripts
// the same layout (array and hash parts, hence iteration order and
// borders) as a new table would.
func (tb *LTable) ResetArray(n int) bool {
	switch tb.Metatable.(type) {
	case nil, *LNilType: // a type switch: comparing with LNil calls ifaceeq
	default:
		return false
	}
	if len(tb.node) != 0 || n > cap(tb.array) {
		return false
	}
	clearRegs(tb.array[:cap(tb.array)])
	tb.array = tb.array[:n]
	tb.lastfree = 0
	return true
}

// StringValue returns LString(b) stored in an LValue. A short string's
// bytes and the interface's box share one allocation (LString(b) stored
// in an LValue costs two: the bytes and the box of the string header);
// the string keeps that allocation alive, which is no larger than the two.
func StringValue(b []byte) LValue {
	switch n := len(b); {
	case n == 0:
		return LString("")
	case n <= 16:
		return boxedString[[16]byte](b)
	case n <= 48:
		return boxedString[[48]byte](b)
	case n <= 112:
		return boxedString[[112]byte](b)
	}
	return LString(b)
}

// boxedString makes the LValue of b in one allocation: the string header
// followed by its bytes (T is a byte array of at least len(b)).
func boxedString[T any](b []byte) LValue {
	type box struct {
		s   LString
		buf T
	}
	x := new(box)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&x.buf)), unsafe.Sizeof(x.buf))
	copy(buf, b)
	x.s = LString(unsafe.String(&buf[0], len(b)))
	var v LValue
	vi := (*iface)(unsafe.Pointer(&v))
	vi.itab = stringItab
	vi.word = unsafe.Pointer(&x.s)
	return v
}

// clearRegs sets the registers of s (above a new top) to nil. The usual
// range is a few registers: plain stores cost less than the call to
// memclrHasPointers and its bulk write barrier that clear(s) makes. CRESCENT
// ClearValues sets the values of s to nil: with plain stores when s is
// short (clear() of a few values calls memclrHasPointers, whose bulk
// barrier alone costs more than the stores). CRESCENT
func ClearValues(s []LValue) { clearRegs(s) }

func clearRegs(s []LValue) {
	if len(s) > 8 {
		clear(s)
		return
	}
	for i := 0; i < len(s); i++ {
		s[i] = nil
	}
}

// Args returns the arguments of the running Go function, L.Get(1) to
// L.Get(L.GetTop()), as a view of the stack: valid until the function
// pushes, pops or calls, and not to be written. One bounds computation
// instead of L.Get's per argument. CRESCENT
func (ls *LState) Args() []LValue {
	return ls.reg.array[ls.currentLocalBase():ls.reg.top]
}
