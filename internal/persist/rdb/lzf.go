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
	lzfHLog   = 16
)

// ErrLZF reports a malformed compressed string.
var ErrLZF = errors.New("invalid LZF data")

// LZFCompress compresses in as Redis does (liblzf 3.6 with VERY_FAST and
// HLOG 16, output limited to len(in)-4 bytes), so that compressed strings
// are byte-identical to Redis's. It returns nil when that limit is hit:
// Redis then stores the string uncompressed.
func LZFCompress(in []byte) []byte {
	return NewLZFState().Compress(in)
}

// LZFState is the compressor's hash table, reusable across calls (not
// concurrently). Entries carry the call's epoch so nothing is cleared
// between calls and the output is the same as with a zeroed table.
type LZFState struct {
	tab   []uint64
	epoch uint64
}

// NewLZFState allocates a compressor state (512 KiB).
func NewLZFState() *LZFState { return &LZFState{tab: make([]uint64, 1<<lzfHLog)} }

// Compress is LZFCompress using s's table.
func (s *LZFState) Compress(in []byte) []byte { return s.compressTo(in, len(in)-4) }

// compressTo compresses in into at most outLen bytes (nil when they do not
// suffice), with a fresh table.
func (s *LZFState) compressTo(in []byte, outLen int) []byte {
	s.epoch++
	if s.epoch == 1<<32 {
		clear(s.tab)
		s.epoch = 1
	}
	return s.compress(in, outLen)
}

func (s *LZFState) get(slot int) int {
	if v := s.tab[slot]; v>>32 == s.epoch {
		return int(uint32(v))
	}
	return 0
}

func (s *LZFState) set(slot, pos int) { s.tab[slot] = s.epoch<<32 | uint64(uint32(pos)) }

func lzfIdx(h uint32) int { return int(((h >> (3*8 - lzfHLog)) - h*5) & (1<<lzfHLog - 1)) }

func (s *LZFState) compress(in []byte, outLen int) []byte {
	n := len(in)
	if n < 3 || outLen <= 0 {
		return nil
	}
	out := make([]byte, outLen+4)
	ip, op, lit := 0, 1, 0 // op 0 holds the first run's control byte
	hval := uint32(in[0])<<8 | uint32(in[1])
	for ip < n-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := lzfIdx(hval)
		ref := s.get(slot)
		s.set(slot, ip)
		off := ip - ref - 1
		if off >= 0 && off < lzfMaxOff && ref > 0 &&
			in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			l := 2
			maxlen := n - ip - l
			if maxlen > lzfMaxRef {
				maxlen = lzfMaxRef
			}
			noLit := 0
			if lit == 0 {
				noLit = 1
			}
			if op+3+1 >= outLen && op-noLit+3+1 >= outLen {
				return nil
			}
			out[op-lit-1] = byte(lit - 1) // stop the run
			op -= noLit                   // undo it if empty
			mismatch := false
			if maxlen > 16 {
				for k := 0; k < 16; k++ {
					l++
					if in[ref+l] != in[ip+l] {
						mismatch = true
						break
					}
				}
			}
			if !mismatch {
				for {
					l++
					if !(l < maxlen && in[ref+l] == in[ip+l]) {
						break
					}
				}
			}
			l -= 2
			ip++
			if l < 7 {
				out[op] = byte(off>>8) + byte(l<<5)
				op++
			} else {
				out[op] = byte(off>>8) + 7<<5
				out[op+1] = byte(l - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start a run
			ip += l + 1
			if ip >= n-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			s.set(lzfIdx(hval), ip)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			s.set(lzfIdx(hval), ip)
			ip++
			continue
		}
		if op >= outLen {
			return nil
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outLen {
		return nil
	}
	for ip < n {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1)
	if lit == 0 {
		op--
	}
	return out[:op]
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
