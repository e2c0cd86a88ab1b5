package listpack

import (
	"encoding/binary"
	"math"
)

// IntsetWidth is the smallest intset element width (2, 4 or 8 bytes)
// holding v.
func IntsetWidth(v int64) int {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

// IntsetBuild returns the intset of sorted, distinct values with elements
// of width bytes (at least what the values need; 0: the smallest that
// fits). Layout: encoding (uint32: 2, 4 or 8), length (uint32), then the
// values little endian.
func IntsetBuild(vals []int64, width int) []byte {
	for _, v := range vals {
		if w := IntsetWidth(v); w > width {
			width = w
		}
	}
	if width < 2 {
		width = 2
	}
	p := make([]byte, 8, 8+width*len(vals))
	binary.LittleEndian.PutUint32(p, uint32(width))
	binary.LittleEndian.PutUint32(p[4:], uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			p = binary.LittleEndian.AppendUint16(p, uint16(int16(v)))
		case 4:
			p = binary.LittleEndian.AppendUint32(p, uint32(int32(v)))
		default:
			p = binary.LittleEndian.AppendUint64(p, uint64(v))
		}
	}
	return p
}

// IntsetDecode returns the values of intset p and its element width. It
// checks the values are sorted and distinct, as Redis does.
func IntsetDecode(p []byte) ([]int64, int, error) { return intsetDecode(p, true) }

// IntsetDecodeShallow is IntsetDecode without the order check, as Redis
// 7.0's intsetValidateIntegrity without deep validation: the values come
// back in the payload's order, unsorted or repeated as they are.
func IntsetDecodeShallow(p []byte) ([]int64, int, error) { return intsetDecode(p, false) }

func intsetDecode(p []byte, deep bool) ([]int64, int, error) {
	if len(p) < 8 {
		return nil, 0, corrupt("intset too short")
	}
	width := int(binary.LittleEndian.Uint32(p))
	if width != 2 && width != 4 && width != 8 {
		return nil, 0, corrupt("bad intset encoding %d", width)
	}
	n := int(binary.LittleEndian.Uint32(p[4:]))
	if n < 0 || len(p)-8 != n*width {
		return nil, 0, corrupt("intset length %d does not match its size", n)
	}
	out := make([]int64, n)
	d := p[8:]
	for i := range out {
		switch width {
		case 2:
			out[i] = int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		case 4:
			out[i] = int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		default:
			out[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
		}
		if deep && i > 0 && out[i] <= out[i-1] {
			return nil, 0, corrupt("intset not sorted or has duplicates")
		}
	}
	return out, width, nil
}
