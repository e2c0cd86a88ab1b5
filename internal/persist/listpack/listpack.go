// Package listpack reads and writes the compact blob encodings Redis keeps
// inside RDB files and DUMP payloads: listpacks (what Redis 7.0 writes for
// small hashes, sorted sets, list nodes and stream nodes), and the older
// ziplists and zipmaps it still loads, plus intsets. The writers produce
// the same bytes as Redis 7.0 for the same sequence of elements.
package listpack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt listpack")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

const (
	hdrSize = 6 // total bytes (uint32) + element count (uint16)
	eof     = 0xff
	// countUnknown in the header means "count the elements".
	countUnknown = math.MaxUint16
)

// Empty is the size of an empty listpack.
const Empty = hdrSize + 1

// ParseInt reports whether s is the canonical decimal form of an int64,
// as Redis's string2ll/lpStringToInt64 decide (no '+', no leading zeros,
// no "-0", at most 20 bytes).
func ParseInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	i := 0
	if s[0] == '-' {
		i = 1
		if len(s) == 1 {
			return 0, false
		}
	}
	if s[i] < '1' || s[i] > '9' {
		return 0, false
	}
	for _, c := range s[i:] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

// intEncSize is the encoded size (without backlen) of integer v.
func intEncSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 1
	case v >= -4096 && v <= 4095:
		return 2
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 3
	case v >= -(1<<23) && v <= 1<<23-1:
		return 4
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 5
	}
	return 9
}

// strEncSize is the encoded size (without backlen) of a string of n bytes.
func strEncSize(n int) int {
	switch {
	case n < 64:
		return 1 + n
	case n < 4096:
		return 2 + n
	}
	return 5 + n
}

// backlenSize is the size of the backlen of an entry of l bytes.
func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

func appendBacklen(dst []byte, l int) []byte {
	u := uint64(l)
	switch backlenSize(l) {
	case 1:
		return append(dst, byte(u))
	case 2:
		return append(dst, byte(u>>7), byte(u&127|128))
	case 3:
		return append(dst, byte(u>>14), byte(u>>7&127|128), byte(u&127|128))
	case 4:
		return append(dst, byte(u>>21), byte(u>>14&127|128), byte(u>>7&127|128), byte(u&127|128))
	}
	return append(dst, byte(u>>28), byte(u>>21&127|128), byte(u>>14&127|128), byte(u>>7&127|128), byte(u&127|128))
}

// IntSize is the number of bytes integer v occupies in a listpack.
func IntSize(v int64) int {
	n := intEncSize(v)
	return n + backlenSize(n)
}

// StringSize is the number of bytes s occupies in a listpack (as an
// integer when it is one, as Redis stores it).
func StringSize(s []byte) int {
	if v, ok := ParseInt(s); ok {
		return IntSize(v)
	}
	n := strEncSize(len(s))
	return n + backlenSize(n)
}

// AppendInt appends the entry of integer v to dst.
func AppendInt(dst []byte, v int64) []byte {
	at := len(dst)
	switch intEncSize(v) {
	case 1:
		dst = append(dst, byte(v))
	case 2:
		u := uint64(v)
		if v < 0 {
			u = uint64(1<<13 + v)
		}
		dst = append(dst, byte(u>>8)|0xc0, byte(u))
	case 3:
		dst = append(dst, 0xf1)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(int16(v)))
	case 4:
		u := uint64(v)
		if v < 0 {
			u = uint64(1<<24 + v)
		}
		dst = append(dst, 0xf2, byte(u), byte(u>>8), byte(u>>16))
	case 5:
		dst = append(dst, 0xf3)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(int32(v)))
	default:
		dst = append(dst, 0xf4)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
	}
	return appendBacklen(dst, len(dst)-at)
}

// AppendString appends the entry of s to dst, as an integer when s is
// the canonical form of one (as Redis's lpAppend does).
func AppendString(dst []byte, s []byte) []byte {
	if v, ok := ParseInt(s); ok {
		return AppendInt(dst, v)
	}
	return AppendRaw(dst, s)
}

// AppendRaw appends s as a string entry, never integer-encoded.
func AppendRaw(dst []byte, s []byte) []byte {
	at := len(dst)
	n := len(s)
	switch {
	case n < 64:
		dst = append(dst, 0x80|byte(n))
	case n < 4096:
		dst = append(dst, 0xe0|byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xf0)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	}
	dst = append(dst, s...)
	return appendBacklen(dst, len(dst)-at)
}

// Builder assembles a listpack.
type Builder struct {
	buf []byte
	n   int
	// Skew is added to the element count Finish writes in the header (a
	// stream node's wrong count that Redis keeps); Reset clears it
	Skew int
}

// NewBuilder starts a listpack in buf (reusing its capacity).
func NewBuilder(buf []byte) *Builder {
	b := &Builder{}
	b.Reset(buf)
	return b
}

// Reset starts over with an empty listpack in buf.
func (b *Builder) Reset(buf []byte) {
	b.buf = append(buf[:0], 0, 0, 0, 0, 0, 0)
	b.n = 0
	b.Skew = 0
}

// String appends s (integer-encoded when it is an integer).
func (b *Builder) String(s []byte) {
	b.buf = AppendString(b.buf, s)
	b.n++
}

// Int appends integer v.
func (b *Builder) Int(v int64) {
	b.buf = AppendInt(b.buf, v)
	b.n++
}

// Count is the number of elements appended.
func (b *Builder) Count() int { return b.n }

// Size is the size the finished listpack will have.
func (b *Builder) Size() int { return len(b.buf) + 1 }

// Finish writes the header and terminator and returns the listpack; it
// aliases the builder's buffer until the next Reset.
func (b *Builder) Finish() []byte {
	b.buf = append(b.buf, eof)
	binary.LittleEndian.PutUint32(b.buf, uint32(len(b.buf)))
	n := max(b.n+b.Skew, 0)
	if n >= countUnknown {
		n = countUnknown
	}
	binary.LittleEndian.PutUint16(b.buf[4:], uint16(n))
	return b.buf
}

// Build returns the listpack of elems (each integer-encoded when it is an
// integer).
func Build(elems ...[]byte) []byte {
	b := NewBuilder(nil)
	for _, e := range elems {
		b.String(e)
	}
	return b.Finish()
}

// Elem is one decoded element: an integer (IsInt) or a string aliasing
// the listpack.
type Elem struct {
	Str   []byte
	Int   int64
	IsInt bool
}

// Bytes returns the element as a string (integers in decimal, appended to
// scratch).
func (e Elem) Bytes(scratch []byte) []byte {
	if e.IsInt {
		return strconv.AppendInt(scratch[:0], e.Int, 10)
	}
	return e.Str
}

// Integer returns the element's integer value: integers as they are,
// strings when they are the canonical form of an integer.
func (e Elem) Integer() (int64, bool) {
	if e.IsInt {
		return e.Int, true
	}
	return ParseInt(e.Str)
}

// Reader iterates over a listpack's elements, validating as it goes.
type Reader struct {
	p     []byte
	off   int
	count int // from the header; -1 when unknown
	seen  int
}

// NewReader checks the header of p and returns a reader at its first
// element.
func NewReader(p []byte) (*Reader, error) {
	if len(p) < Empty {
		return nil, corrupt("%d bytes is too short", len(p))
	}
	if tot := binary.LittleEndian.Uint32(p); int(tot) != len(p) {
		return nil, corrupt("header says %d bytes, blob has %d", tot, len(p))
	}
	if p[len(p)-1] != eof {
		return nil, corrupt("missing terminator")
	}
	r := &Reader{p: p, off: hdrSize, count: int(binary.LittleEndian.Uint16(p[4:]))}
	if r.count == countUnknown {
		r.count = -1
	}
	return r, nil
}

// Count returns the element count of the header, or -1 when the header
// does not know it (65535 elements or more).
func (r *Reader) Count() int { return r.count }

// IgnoreCount makes the reader take the header's element count as
// unknown: Redis's stream node check (streamValidateListpackIntegrity)
// validates a listpack's header shallowly, without its count.
func (r *Reader) IgnoreCount() { r.count = -1 }

// More reports whether elements remain.
func (r *Reader) More() bool { return r.p[r.off] != eof }

// Next returns the next element; ok is false at the end. Errors report
// corruption (including a count that disagrees with the header).
func (r *Reader) Next() (e Elem, ok bool, err error) {
	p := r.p
	off := r.off
	end := len(p) - 1 // the terminator
	if p[off] == eof {
		if off != end {
			return e, false, corrupt("terminator at %d of %d", off, len(p))
		}
		if r.count >= 0 && r.seen != r.count {
			return e, false, corrupt("header count %d, found %d", r.count, r.seen)
		}
		return e, false, nil
	}
	need := func(n int) bool { return off+n <= end }
	b := p[off]
	var encLen int
	switch {
	case b&0x80 == 0:
		e.IsInt, e.Int, encLen = true, int64(b), 1
	case b&0xc0 == 0x80:
		n := int(b & 0x3f)
		if !need(1 + n) {
			return e, false, corrupt("string overflows")
		}
		e.Str, encLen = p[off+1:off+1+n:off+1+n], 1+n
	case b&0xe0 == 0xc0:
		if !need(2) {
			return e, false, corrupt("integer overflows")
		}
		u := int64(b&0x1f)<<8 | int64(p[off+1])
		if u >= 1<<12 {
			u -= 1 << 13
		}
		e.IsInt, e.Int, encLen = true, u, 2
	case b&0xf0 == 0xe0:
		if !need(2) {
			return e, false, corrupt("string overflows")
		}
		n := int(b&0x0f)<<8 | int(p[off+1])
		if !need(2 + n) {
			return e, false, corrupt("string overflows")
		}
		e.Str, encLen = p[off+2:off+2+n:off+2+n], 2+n
	default:
		switch b {
		case 0xf0:
			if !need(5) {
				return e, false, corrupt("string overflows")
			}
			n := int(binary.LittleEndian.Uint32(p[off+1:]))
			if n < 0 || !need(5+n) {
				return e, false, corrupt("string overflows")
			}
			e.Str, encLen = p[off+5:off+5+n:off+5+n], 5+n
		case 0xf1:
			if !need(3) {
				return e, false, corrupt("integer overflows")
			}
			e.IsInt, e.Int, encLen = true, int64(int16(binary.LittleEndian.Uint16(p[off+1:]))), 3
		case 0xf2:
			if !need(4) {
				return e, false, corrupt("integer overflows")
			}
			u := int64(p[off+1]) | int64(p[off+2])<<8 | int64(p[off+3])<<16
			if u >= 1<<23 {
				u -= 1 << 24
			}
			e.IsInt, e.Int, encLen = true, u, 4
		case 0xf3:
			if !need(5) {
				return e, false, corrupt("integer overflows")
			}
			e.IsInt, e.Int, encLen = true, int64(int32(binary.LittleEndian.Uint32(p[off+1:]))), 5
		case 0xf4:
			if !need(9) {
				return e, false, corrupt("integer overflows")
			}
			e.IsInt, e.Int, encLen = true, int64(binary.LittleEndian.Uint64(p[off+1:])), 9
		default:
			return e, false, corrupt("bad encoding byte %#x at %d", b, off)
		}
	}
	bl := backlenSize(encLen)
	if !need(encLen + bl) {
		return e, false, corrupt("backlen overflows")
	}
	var chk [5]byte
	if string(appendBacklen(chk[:0], encLen)) != string(p[off+encLen:off+encLen+bl]) {
		return e, false, corrupt("bad backlen at %d", off)
	}
	r.off = off + encLen + bl
	r.seen++
	return e, true, nil
}

// Decode returns every element of p as a string (integers in decimal).
func Decode(p []byte) ([][]byte, error) {
	r, err := NewReader(p)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	if r.count > 0 {
		out = make([][]byte, 0, r.count)
	}
	for {
		e, ok, err := r.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if e.IsInt {
			out = append(out, strconv.AppendInt(nil, e.Int, 10))
		} else {
			out = append(out, append([]byte(nil), e.Str...))
		}
	}
}
