package listpack

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Ziplists are what Redis before 7.0 wrote for small lists, hashes and
// sorted sets. Layout: zlbytes (uint32), zltail (uint32, offset of the last
// entry), zllen (uint16, 65535 when unknown), entries, 0xff. An entry is
// prevlen (1 byte, or 0xfe and a uint32), an encoding and the data.
const (
	zlHeader   = 10
	zlBigLen   = 0xfe
	zlStr6     = 0x00
	zlStr14    = 0x40
	zlStr32    = 0x80
	zlInt16    = 0xc0
	zlInt32    = 0xd0
	zlInt64    = 0xe0
	zlInt24    = 0xf0
	zlInt8     = 0xfe
	zlImmMin   = 0xf1
	zlImmMax   = 0xfd
	zlCountMax = math.MaxUint16
)

// ZiplistBuild returns the ziplist of elems as Redis's ziplistPush would
// build it (strings shorter than 32 bytes that are integers are stored as
// integers).
func ZiplistBuild(elems ...[]byte) []byte {
	p := make([]byte, zlHeader, zlHeader+16*len(elems))
	prev, tail := 0, zlHeader
	for _, s := range elems {
		at := len(p)
		tail = at
		if prev < zlBigLen {
			p = append(p, byte(prev))
		} else {
			p = append(p, zlBigLen)
			p = binary.LittleEndian.AppendUint32(p, uint32(prev))
		}
		if v, ok := zlTryInt(s); ok {
			switch {
			case v >= 0 && v <= 12:
				p = append(p, zlImmMin+byte(v))
			case v >= math.MinInt8 && v <= math.MaxInt8:
				p = append(p, zlInt8, byte(int8(v)))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				p = append(p, zlInt16)
				p = binary.LittleEndian.AppendUint16(p, uint16(int16(v)))
			case v >= -(1<<23) && v <= 1<<23-1:
				u := uint32(int32(v))
				p = append(p, zlInt24, byte(u), byte(u>>8), byte(u>>16))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				p = append(p, zlInt32)
				p = binary.LittleEndian.AppendUint32(p, uint32(int32(v)))
			default:
				p = append(p, zlInt64)
				p = binary.LittleEndian.AppendUint64(p, uint64(v))
			}
		} else {
			n := len(s)
			switch {
			case n <= 0x3f:
				p = append(p, zlStr6|byte(n))
			case n <= 0x3fff:
				p = append(p, zlStr14|byte(n>>8), byte(n))
			default:
				p = append(p, zlStr32)
				p = binary.BigEndian.AppendUint32(p, uint32(n))
			}
			p = append(p, s...)
		}
		prev = len(p) - at
	}
	p = append(p, eof)
	binary.LittleEndian.PutUint32(p, uint32(len(p)))
	binary.LittleEndian.PutUint32(p[4:], uint32(tail))
	n := len(elems)
	if n > zlCountMax {
		n = zlCountMax
	}
	binary.LittleEndian.PutUint16(p[8:], uint16(n))
	return p
}

// zlTryInt is Redis's zipTryEncoding: integers of fewer than 32 bytes.
func zlTryInt(s []byte) (int64, bool) {
	if len(s) >= 32 {
		return 0, false
	}
	return ParseInt(s)
}

// ZiplistDecode returns every element of ziplist p as a string.
func ZiplistDecode(p []byte) ([][]byte, error) {
	if len(p) < zlHeader+1 {
		return nil, corrupt("ziplist of %d bytes is too short", len(p))
	}
	if int(binary.LittleEndian.Uint32(p)) != len(p) || p[len(p)-1] != eof {
		return nil, corrupt("bad ziplist header or terminator")
	}
	tail := int(binary.LittleEndian.Uint32(p[4:]))
	count := int(binary.LittleEndian.Uint16(p[8:]))
	end := len(p) - 1
	var out [][]byte
	off, prev, last := zlHeader, 0, zlHeader
	for off < end {
		at := off
		last = at
		var pl int
		if p[off] < zlBigLen {
			pl = int(p[off])
			off++
		} else if p[off] == zlBigLen {
			if off+5 > end {
				return nil, corrupt("ziplist prevlen overflows")
			}
			pl = int(binary.LittleEndian.Uint32(p[off+1:]))
			off += 5
		} else {
			return nil, corrupt("bad ziplist prevlen")
		}
		if pl != prev {
			return nil, corrupt("ziplist prevlen %d, previous entry has %d bytes", pl, prev)
		}
		if off >= end {
			return nil, corrupt("ziplist entry overflows")
		}
		b := p[off]
		need := func(n int) error {
			if off+n > end {
				return corrupt("ziplist entry overflows")
			}
			return nil
		}
		var v []byte
		switch {
		case b>>6 == 0 || b>>6 == 1 || b>>6 == 2:
			var n, h int
			switch b >> 6 {
			case 0:
				n, h = int(b&0x3f), 1
			case 1:
				if err := need(2); err != nil {
					return nil, err
				}
				n, h = int(b&0x3f)<<8|int(p[off+1]), 2
			default:
				if b != zlStr32 {
					return nil, corrupt("bad ziplist encoding %#x", b)
				}
				if err := need(5); err != nil {
					return nil, err
				}
				n, h = int(binary.BigEndian.Uint32(p[off+1:])), 5
			}
			if n < 0 || need(h+n) != nil {
				return nil, corrupt("ziplist string overflows")
			}
			v = append([]byte(nil), p[off+h:off+h+n]...)
			off += h + n
		default:
			var x int64
			var sz int
			switch {
			case b == zlInt8:
				sz = 1
			case b == zlInt16:
				sz = 2
			case b == zlInt24:
				sz = 3
			case b == zlInt32:
				sz = 4
			case b == zlInt64:
				sz = 8
			case b >= zlImmMin && b <= zlImmMax:
				x = int64(b - zlImmMin)
			default:
				return nil, corrupt("bad ziplist encoding %#x", b)
			}
			if err := need(1 + sz); err != nil {
				return nil, err
			}
			d := p[off+1:]
			switch sz {
			case 1:
				x = int64(int8(d[0]))
			case 2:
				x = int64(int16(binary.LittleEndian.Uint16(d)))
			case 3:
				x = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24) >> 8)
			case 4:
				x = int64(int32(binary.LittleEndian.Uint32(d)))
			case 8:
				x = int64(binary.LittleEndian.Uint64(d))
			}
			v = strconv.AppendInt(nil, x, 10)
			off += 1 + sz
		}
		prev = off - at
		out = append(out, v)
	}
	if off != end {
		return nil, corrupt("ziplist entries overflow")
	}
	if len(out) > 0 && tail != last || len(out) == 0 && tail != zlHeader {
		return nil, corrupt("bad ziplist tail offset")
	}
	if count != zlCountMax && count != len(out) {
		return nil, corrupt("ziplist count %d, found %d", count, len(out))
	}
	return out, nil
}

// ZipmapBuild returns the zipmap of field/value pairs as Redis 2.x wrote
// it (no free space after values).
func ZipmapBuild(pairs ...[]byte) []byte {
	n := len(pairs) / 2
	if n > 253 {
		n = 254
	}
	p := []byte{byte(n)}
	appendLen := func(l int) {
		if l < 254 {
			p = append(p, byte(l))
		} else {
			p = append(p, 254)
			p = binary.LittleEndian.AppendUint32(p, uint32(l))
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		appendLen(len(pairs[i]))
		p = append(p, pairs[i]...)
		appendLen(len(pairs[i+1]))
		p = append(p, 0)
		p = append(p, pairs[i+1]...)
	}
	return append(p, eof)
}

// ZipmapDecode returns the field/value pairs of zipmap p.
func ZipmapDecode(p []byte) ([][]byte, error) {
	if len(p) < 2 {
		return nil, corrupt("zipmap too short")
	}
	off := 1
	readLen := func() (int, error) {
		if off >= len(p) {
			return 0, corrupt("zipmap overflows")
		}
		b := p[off]
		if b < 254 {
			off++
			return int(b), nil
		}
		if b == 254 && off+5 <= len(p) {
			n := int(binary.LittleEndian.Uint32(p[off+1:]))
			off += 5
			return n, nil
		}
		return 0, corrupt("bad zipmap length")
	}
	var out [][]byte
	for {
		if off >= len(p) {
			return nil, corrupt("zipmap without terminator")
		}
		if p[off] == eof {
			if off != len(p)-1 {
				return nil, corrupt("zipmap has trailing bytes")
			}
			break
		}
		kl, err := readLen()
		if err != nil {
			return nil, err
		}
		if kl < 0 || off+kl > len(p) {
			return nil, corrupt("zipmap key overflows")
		}
		k := append([]byte(nil), p[off:off+kl]...)
		off += kl
		vl, err := readLen()
		if err != nil {
			return nil, err
		}
		if off >= len(p) {
			return nil, corrupt("zipmap overflows")
		}
		free := int(p[off])
		off++
		if vl < 0 || off+vl+free > len(p) {
			return nil, corrupt("zipmap value overflows")
		}
		out = append(out, k, append([]byte(nil), p[off:off+vl]...))
		off += vl + free
	}
	if n := int(p[0]); n < 254 && n != len(out)/2 {
		return nil, corrupt("zipmap count %d, found %d", n, len(out)/2)
	}
	return out, nil
}
