package rdb

import "errors"

// LZF, as Redis uses for compressed RDB strings (liblzf's format):
//   000LLLLL <L+1 literal bytes>
//   LLLooooo oooooooo            back reference of L+2 bytes (L 1..6)
//   111ooooo LLLLLLLL oooooooo   back reference of L+9 bytes
// where the offset o counts back from the current position minus one.

const (
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = (1 << 8) + (1 << 3)
	lzfHLog   = 14
)

// ErrLZF reports a malformed compressed string.
var ErrLZF = errors.New("invalid LZF data")

// LZFCompress compresses in. It returns nil when the output would not be
// smaller than in (Redis then stores the string as is).
func LZFCompress(in []byte) []byte {
	n := len(in)
	if n < 4 {
		return nil
	}
	out := make([]byte, 0, n)
	var htab [1 << lzfHLog]int32
	lit := 0 // literals in the current run
	out = append(out, 0)
	litPos := 0 // index of the current run's control byte
	hash := func(i int) uint32 {
		v := uint32(in[i])<<16 | uint32(in[i+1])<<8 | uint32(in[i+2])
		return (v * 2654435761) >> (32 - lzfHLog)
	}
	i := 0
	for i < n-2 {
		h := hash(i)
		ref := int(htab[h]) - 1
		htab[h] = int32(i + 1)
		off := i - ref - 1
		if ref >= 0 && off < lzfMaxOff && in[ref] == in[i] && in[ref+1] == in[i+1] && in[ref+2] == in[i+2] {
			l := 3
			maxl := n - i
			if maxl > lzfMaxRef {
				maxl = lzfMaxRef
			}
			for l < maxl && in[ref+l] == in[i+l] {
				l++
			}
			// close the literal run
			if lit == 0 {
				out = out[:len(out)-1]
			} else {
				out[litPos] = byte(lit - 1)
			}
			l2 := l - 2
			if l2 < 7 {
				out = append(out, byte(off>>8)|byte(l2<<5), byte(off))
			} else {
				out = append(out, byte(off>>8)|7<<5, byte(l2-7), byte(off))
			}
			if len(out) >= n {
				return nil
			}
			for j := i + 1; j < i+l && j < n-2; j++ {
				htab[hash(j)] = int32(j + 1)
			}
			i += l
			litPos = len(out)
			out = append(out, 0)
			lit = 0
			continue
		}
		out = append(out, in[i])
		lit++
		i++
		if lit == lzfMaxLit {
			out[litPos] = byte(lit - 1)
			litPos = len(out)
			out = append(out, 0)
			lit = 0
		}
		if len(out) >= n {
			return nil
		}
	}
	for ; i < n; i++ {
		out = append(out, in[i])
		lit++
		if lit == lzfMaxLit {
			out[litPos] = byte(lit - 1)
			litPos = len(out)
			out = append(out, 0)
			lit = 0
		}
	}
	if lit == 0 {
		out = out[:len(out)-1]
	} else {
		out[litPos] = byte(lit - 1)
	}
	if len(out) >= n {
		return nil
	}
	return out
}

// LZFDecompress expands in, which must decompress to exactly outLen bytes.
func LZFDecompress(in []byte, outLen int) ([]byte, error) {
	out := make([]byte, 0, outLen)
	i := 0
	for i < len(in) {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > outLen {
				return nil, ErrLZF
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if i >= len(in) {
				return nil, ErrLZF
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, ErrLZF
		}
		ref := len(out) - ((ctrl&0x1f)<<8 | int(in[i])) - 1
		i++
		l += 2
		if ref < 0 || len(out)+l > outLen {
			return nil, ErrLZF
		}
		for j := 0; j < l; j++ { // may overlap: copy byte by byte
			out = append(out, out[ref+j])
		}
	}
	if len(out) != outLen {
		return nil, ErrLZF
	}
	return out, nil
}
