package lualib

import (
	"bytes"
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// OpenStruct registers the global table "struct", a port of lua_struct 0.2
// (as bundled with Redis): pack, unpack and size of binary structures.
func OpenStruct(L *lua.LState) {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	L.SetGlobal("struct", t)
}

const (
	structMaxIntSize = 32
	structMaxAlign   = 8 // offsetof(struct {char c; double d;}, d) on x86-64
	structBig        = 0
	structLittle     = 1
)

type structHeader struct {
	endian int
	align  int
}

// structFmt is a cursor over a format string; reads past the end yield 0,
// like the NUL terminator of the C string.
type structFmt struct {
	s string
	i int
}

func (f *structFmt) peek() byte {
	if f.i < len(f.s) {
		return f.s[f.i]
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (f *structFmt) getnum(L *lua.LState, df int) int {
	if !isDigit(f.peek()) {
		return df
	}
	a := 0
	for {
		d := int(f.peek() - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			raise(L, "integral size overflow")
		}
		a = a*10 + d
		f.i++
		if !isDigit(f.peek()) {
			return a
		}
	}
}

func (f *structFmt) optsize(L *lua.LState, opt byte) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T':
		return 8
	case 'f':
		return 4
	case 'd':
		return 8
	case 'x':
		return 1
	case 'c':
		return f.getnum(L, 1)
	case 'i', 'I':
		sz := f.getnum(L, 4)
		if sz > structMaxIntSize {
			raise(L, "integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	return 0
}

func gettoalign(length int, h *structHeader, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > h.align {
		size = h.align
	}
	return (size - (length & (size - 1))) & (size - 1)
}

func isp2(x int) bool { return x > 0 && x&(x-1) == 0 }

func (f *structFmt) controloptions(L *lua.LState, opt byte, h *structHeader) {
	switch opt {
	case ' ':
	case '>':
		h.endian = structBig
	case '<':
		h.endian = structLittle
	case '!':
		a := f.getnum(L, structMaxAlign)
		if !isp2(a) {
			raise(L, "alignment %d is not a power of 2", a)
		}
		h.align = a
	default:
		argError(L, 1, "invalid format option '"+string([]byte{byte(opt)})+"'") // luaL_error's %c: the byte
	}
}

func defaultHeader() structHeader { return structHeader{endian: structLittle, align: 1} }

// putinteger mimics lua_struct's putinteger with a 64-bit long.
func putinteger(L *lua.LState, b *bytes.Buffer, arg int, endian int, size int) {
	n := checkNumber(L, arg)
	var value uint64
	if n < 0 {
		value = uint64(toInteger(n))
	} else {
		value = cUint64(n)
	}
	buf := make([]byte, size)
	if endian == structLittle {
		for i := 0; i < size; i++ {
			buf[i] = byte(value)
			value >>= 8
		}
	} else {
		for i := size - 1; i >= 0; i-- {
			buf[i] = byte(value)
			value >>= 8
		}
	}
	b.Write(buf)
}

// cUint64 mimics a C conversion of a non-negative double to uint64_t as gcc
// emits it on x86-64.
func cUint64(f float64) uint64 {
	if f != f {
		return 1 << 63
	}
	if f < 9223372036854775808.0 {
		return uint64(int64(f))
	}
	// gcc subtracts 2^63, converts with cvttsd2si and flips the top bit.
	// Past 2^64 (and +inf) cvttsd2si gives 1<<63, which the flip clears.
	d := f - 9223372036854775808.0
	if d >= 9223372036854775808.0 {
		return 0
	}
	return uint64(int64(d)) ^ (1 << 63)
}

func structPack(L *lua.LState) int {
	f := &structFmt{s: checkString(L, 1)}
	h := defaultHeader()
	arg := 2
	// Like the C code, push a nil mark after the arguments: a missing
	// argument is then reported as "got nil" rather than "got no value".
	L.Push(lua.LNil)
	total := 0
	var b bytes.Buffer
	for f.peek() != 0 {
		opt := f.peek()
		f.i++
		size := f.optsize(L, opt)
		toalign := gettoalign(total, &h, opt, size)
		total += toalign
		for ; toalign > 0; toalign-- {
			b.WriteByte(0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			putinteger(L, &b, arg, h.endian, size)
			arg++
		case 'x':
			b.WriteByte(0)
		case 'f':
			v := math.Float32bits(float32(checkNumber(L, arg)))
			arg++
			var tmp [4]byte
			if h.endian == structLittle {
				binary.LittleEndian.PutUint32(tmp[:], v)
			} else {
				binary.BigEndian.PutUint32(tmp[:], v)
			}
			b.Write(tmp[:])
		case 'd':
			v := math.Float64bits(checkNumber(L, arg))
			arg++
			var tmp [8]byte
			if h.endian == structLittle {
				binary.LittleEndian.PutUint64(tmp[:], v)
			} else {
				binary.BigEndian.PutUint64(tmp[:], v)
			}
			b.Write(tmp[:])
		case 'c', 's':
			s := checkString(L, arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				argError(L, arg, "string too short")
			}
			b.WriteString(s[:size])
			if opt == 's' {
				b.WriteByte(0)
				size++
			}
		default:
			f.controloptions(L, opt, &h)
		}
		total += size
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func getinteger(buf []byte, endian int, signed bool, size int) float64 {
	var l uint64
	if endian == structBig {
		for i := 0; i < size; i++ {
			l <<= 8
			l |= uint64(buf[i])
		}
	} else {
		for i := size - 1; i >= 0; i-- {
			l <<= 8
			l |= uint64(buf[i])
		}
	}
	if !signed {
		return float64(l)
	}
	// C shifts by (size*8-1) mod 64 on x86-64.
	mask := ^uint64(0) << (uint(size*8-1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return float64(int64(l))
}

func structUnpack(L *lua.LState) int {
	f := &structFmt{s: checkString(L, 1)}
	data := checkString(L, 2)
	ld := uint64(len(data))
	// Redis' patch: the offset is read as a size_t and must not be 0.
	pos := uint64(optInteger(L, 3, 1))
	if pos == 0 {
		argError(L, 3, "offset must be 1 or greater")
	}
	pos--
	h := defaultHeader()
	var results []lua.LValue
	for f.peek() != 0 {
		opt := f.peek()
		f.i++
		size := uint64(f.optsize(L, opt))
		pos += uint64(gettoalign(int(pos), &h, opt, int(size)))
		if !(size <= ld && pos <= ld-size) {
			argError(L, 2, "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt >= 'a' && opt <= 'z'
			results = append(results, lua.LNumber(getinteger([]byte(data[pos:pos+size]), h.endian, signed, int(size))))
		case 'x':
		case 'f':
			var v uint32
			if h.endian == structLittle {
				v = binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			} else {
				v = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			results = append(results, lua.LNumber(float64(math.Float32frombits(v))))
		case 'd':
			var v uint64
			if h.endian == structLittle {
				v = binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			} else {
				v = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			results = append(results, lua.LNumber(math.Float64frombits(v)))
		case 'c':
			if size == 0 {
				var prev float64
				ok := false
				if len(results) > 0 {
					prev, ok = toNumber(results[len(results)-1])
				}
				if !ok {
					raise(L, "format 'c0' needs a previous size")
				}
				size = uint64(toInteger(prev))
				results = results[:len(results)-1]
				if !(size <= ld && pos <= ld-size) {
					argError(L, 2, "data string too short")
				}
			}
			results = append(results, lua.LString(data[pos:pos+size]))
		case 's':
			e := bytes.IndexByte([]byte(data[pos:]), 0)
			if e < 0 {
				raise(L, "unfinished string in data")
			}
			size = uint64(e) + 1
			results = append(results, lua.LString(data[pos:pos+size-1]))
		default:
			f.controloptions(L, opt, &h)
		}
		pos += size
	}
	for _, r := range results {
		L.Push(r)
	}
	L.Push(lua.LNumber(float64(int64(pos + 1))))
	return len(results) + 1
}

func isAlnum(c byte) bool {
	return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}

func structSize(L *lua.LState) int {
	f := &structFmt{s: checkString(L, 1)}
	h := defaultHeader()
	pos := 0
	for f.peek() != 0 {
		opt := f.peek()
		f.i++
		size := f.optsize(L, opt)
		pos += gettoalign(pos, &h, opt, size)
		if opt == 's' {
			argError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			argError(L, 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.controloptions(L, opt, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(float64(pos)))
	return 1
}
