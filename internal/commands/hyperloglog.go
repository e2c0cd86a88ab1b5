package commands

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/crescent-db/crescent/internal/command"
)

// HyperLogLog in Redis's exact string layout: a 16-byte header ("HYLL",
// encoding, 3 unused bytes, 8-byte little-endian cached cardinality whose
// top bit marks it stale) followed by 16384 6-bit registers, either dense
// (12288 bytes) or sparse (ZERO / XZERO / VAL opcodes).

const (
	hllP          = 14
	hllQ          = 64 - hllP
	hllRegisters  = 1 << hllP
	hllPMask      = hllRegisters - 1
	hllBits       = 6
	hllRegMax     = 1<<hllBits - 1
	hllHdrSize    = 16
	hllDenseSize  = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllDense      = 0
	hllSparse     = 1
	hllAlphaInf   = 0.721347520444481703680
	hllValMaxVal  = 32
	hllValMaxLen  = 4
	hllZeroMaxLen = 64
	hllXZeroMax   = 16384

	errHLLWrongType = "WRONGTYPE Key is not a valid HyperLogLog string value."
	errHLLInvalid   = "INVALIDOBJ Corrupted HLL object detected"
)

func (h *Handlers) registerHyperLogLog() {
	t := h.Table
	t.Handle("pfadd", h.pfadd)
	t.Handle("pfcount", h.pfcount)
	t.Handle("pfmerge", h.pfmerge)
	t.Handle("pfselftest", func(c *command.Ctx) { c.W.OK() })
	t.Handle("pfdebug", h.pfdebug)
}

// murmurHash64A is MurmurHash2, 64-bit version A, reading little-endian.
func murmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := uint64(seed) ^ (uint64(len(key)) * m)
	n := len(key) - len(key)&7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	switch len(tail) {
	case 7:
		h ^= uint64(tail[6]) << 48
		fallthrough
	case 6:
		h ^= uint64(tail[5]) << 40
		fallthrough
	case 5:
		h ^= uint64(tail[4]) << 32
		fallthrough
	case 4:
		h ^= uint64(tail[3]) << 24
		fallthrough
	case 3:
		h ^= uint64(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint64(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint64(tail[0])
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register index of ele and the length of the
// "000..1" pattern in the remaining hash bits.
func hllPatLen(ele []byte) (int, uint8) {
	hash := murmurHash64A(ele, 0xadc83b19)
	index := int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ
	count := uint8(1)
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

func hllDenseGet(regs []byte, i int) uint8 {
	b := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	b0 := uint(regs[b])
	var b1 uint
	if b+1 < len(regs) {
		b1 = uint(regs[b+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegMax)
}

func hllDenseSetReg(regs []byte, i int, v uint8) {
	b := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	regs[b] &^= byte(hllRegMax << fb)
	regs[b] |= byte(uint(v) << fb)
	if b+1 < len(regs) {
		regs[b+1] &^= byte(hllRegMax >> (8 - fb))
		regs[b+1] |= byte(uint(v) >> (8 - fb))
	}
}

// hllDenseSet raises register i to count; it reports a change.
func hllDenseSet(regs []byte, i int, count uint8) bool {
	if count > hllDenseGet(regs, i) {
		hllDenseSetReg(regs, i, count)
		return true
	}
	return false
}

func newHLL() []byte {
	s := make([]byte, hllHdrSize, hllHdrSize+64)
	copy(s, "HYLL")
	s[4] = hllSparse
	for aux := hllRegisters; aux > 0; {
		x := min(aux, hllXZeroMax)
		s = append(s, byte((x-1)>>8)|0x40, byte((x-1)&0xff))
		aux -= x
	}
	return s
}

func isXZero(b byte) bool { return b&0xc0 == 0x40 }
func isZero(b byte) bool  { return b&0xc0 == 0 }
func isVal(b byte) bool   { return b&0x80 != 0 }
func zeroLen(b byte) int  { return int(b&0x3f) + 1 }
func xzeroLen(p []byte) int {
	return (int(p[0]&0x3f)<<8 | int(p[1])) + 1
}
func valValue(b byte) int { return int(b>>2&0x1f) + 1 }
func valLen(b byte) int   { return int(b&3) + 1 }
func valByte(v, l int) byte {
	return byte((v-1)<<2|(l-1)) | 0x80
}
func appendZeroRun(seq []byte, l int) []byte {
	if l > hllZeroMaxLen {
		return append(seq, byte((l-1)>>8)|0x40, byte((l-1)&0xff))
	}
	return append(seq, byte(l-1))
}

// hllSparseToDense converts a sparse HLL; ok is false when corrupted.
func hllSparseToDense(s []byte) ([]byte, bool) {
	if s[4] == hllDense {
		return s, true
	}
	d := make([]byte, hllDenseSize)
	copy(d, s[:hllHdrSize])
	d[4] = hllDense
	regs := d[hllHdrSize:]
	idx := 0
	p := s[hllHdrSize:]
	for i := 0; i < len(p); {
		switch {
		case isZero(p[i]):
			idx += zeroLen(p[i])
			i++
		case isXZero(p[i]):
			if i+1 >= len(p) {
				return nil, false
			}
			idx += xzeroLen(p[i:])
			i += 2
		default:
			l, v := valLen(p[i]), valValue(p[i])
			if idx+l > hllRegisters {
				return nil, false
			}
			for ; l > 0; l-- {
				hllDenseSetReg(regs, idx, uint8(v))
				idx++
			}
			i++
		}
	}
	if idx != hllRegisters {
		return nil, false
	}
	return d, true
}

// hllSparseSet raises register index to count in the sparse HLL s,
// following Redis's algorithm step by step so that the bytes match. It
// returns the new string and 1 (changed), 0 (unchanged) or -1 (corrupt).
func hllSparseSet(s []byte, index int, count uint8, maxBytes int) ([]byte, int) {
	if count > hllValMaxVal {
		return hllPromote(s, index, count)
	}
	sparse := s[hllHdrSize:]
	end := len(sparse)
	first, span := 0, 0
	p := 0
	prev := -1
	for p < end {
		oplen := 1
		switch {
		case isZero(sparse[p]):
			span = zeroLen(sparse[p])
		case isVal(sparse[p]):
			span = valLen(sparse[p])
		default:
			if p+1 >= end {
				return s, -1
			}
			span = xzeroLen(sparse[p:])
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return s, -1
	}
	next := p + 1
	if isXZero(sparse[p]) {
		next = p + 2
	}
	var runlen int
	isz, isxz, isv := false, false, false
	switch {
	case isZero(sparse[p]):
		isz, runlen = true, zeroLen(sparse[p])
	case isXZero(sparse[p]):
		isxz, runlen = true, xzeroLen(sparse[p:])
	default:
		isv, runlen = true, valLen(sparse[p])
	}
	updated := false
	if isv {
		if uint8(valValue(sparse[p])) >= count {
			return s, 0
		}
		if runlen == 1 {
			sparse[p] = valByte(int(count), 1)
			updated = true
		}
	}
	if !updated && isz && runlen == 1 {
		sparse[p] = valByte(int(count), 1)
		updated = true
	}
	if !updated {
		var sb [5]byte
		seq := sb[:0]
		last := first + span - 1
		if isz || isxz {
			if index != first {
				seq = appendZeroRun(seq, index-first)
			}
			seq = append(seq, valByte(int(count), 1))
			if index != last {
				seq = appendZeroRun(seq, last-index)
			}
		} else {
			cur := valValue(sparse[p])
			if index != first {
				seq = append(seq, valByte(cur, index-first))
			}
			seq = append(seq, valByte(int(count), 1))
			if index != last {
				seq = append(seq, valByte(cur, last-index))
			}
		}
		oldlen := 1
		if isxz {
			oldlen = 2
		}
		delta := len(seq) - oldlen
		if delta > 0 && len(s)+delta > maxBytes {
			return hllPromote(s, index, count)
		}
		ns := make([]byte, 0, len(s)+delta)
		ns = append(ns, s[:hllHdrSize+p]...)
		ns = append(ns, seq...)
		ns = append(ns, s[hllHdrSize+next:]...)
		s = ns
		sparse = s[hllHdrSize:]
		end = len(sparse)
	}
	// merge adjacent VAL opcodes
	p = prev
	if p < 0 {
		p = 0
	}
	for scan := 5; p < end && scan > 0; {
		scan--
		if isXZero(sparse[p]) {
			p += 2
			continue
		} else if isZero(sparse[p]) {
			p++
			continue
		}
		if p+1 < end && isVal(sparse[p+1]) {
			v1, v2 := valValue(sparse[p]), valValue(sparse[p+1])
			if v1 == v2 {
				l := valLen(sparse[p]) + valLen(sparse[p+1])
				if l <= hllValMaxLen {
					sparse[p+1] = valByte(v1, l)
					copy(sparse[p:], sparse[p+1:end])
					end--
					s = s[:hllHdrSize+end]
					sparse = s[hllHdrSize:]
					continue
				}
			}
		}
		p++
	}
	hllInvalidate(s)
	return s, 1
}

func hllPromote(s []byte, index int, count uint8) ([]byte, int) {
	d, ok := hllSparseToDense(s)
	if !ok {
		return s, -1
	}
	hllDenseSet(d[hllHdrSize:], index, count)
	return d, 1
}

func hllInvalidate(s []byte) { s[15] |= 1 << 7 }

// hllAdd adds ele to the HLL s (owned by the caller).
func hllAdd(s []byte, ele []byte, maxBytes int) ([]byte, int) {
	index, count := hllPatLen(ele)
	if s[4] == hllDense {
		if hllDenseSet(s[hllHdrSize:], index, count) {
			return s, 1
		}
		return s, 0
	}
	return hllSparseSet(s, index, count, maxBytes)
}

// hllMerge raises max[i] to the HLL's registers; false when corrupted.
func hllMerge(max []uint8, s []byte) bool {
	if s[4] == hllDense {
		regs := s[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			if v := hllDenseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	p := s[hllHdrSize:]
	i := 0
	for j := 0; j < len(p); {
		switch {
		case isZero(p[j]):
			i += zeroLen(p[j])
			j++
		case isXZero(p[j]):
			if j+1 >= len(p) {
				return false
			}
			i += xzeroLen(p[j:])
			j += 2
		default:
			l, v := valLen(p[j]), uint8(valValue(p[j]))
			if l+i > hllRegisters {
				return false
			}
			for ; l > 0; l-- {
				if v > max[i] {
					max[i] = v
				}
				i++
			}
			j++
		}
	}
	return i == hllRegisters
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		z -= math.Pow(1-x, 2) * y
		if zp == z {
			return z / 3
		}
	}
}

// hllCountHisto estimates the cardinality from a register histogram.
func hllCountHisto(histo *[64]int) uint64 {
	m := float64(hllRegisters)
	z := m * hllTau((m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(histo[0])/m)
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

// hllHisto builds the register histogram of s; false when corrupted.
func hllHisto(s []byte, histo *[64]int) bool {
	if s[4] == hllDense {
		regs := s[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			histo[hllDenseGet(regs, i)]++
		}
		return true
	}
	idx := 0
	p := s[hllHdrSize:]
	for j := 0; j < len(p); {
		switch {
		case isZero(p[j]):
			l := zeroLen(p[j])
			idx += l
			histo[0] += l
			j++
		case isXZero(p[j]):
			if j+1 >= len(p) {
				return false
			}
			l := xzeroLen(p[j:])
			idx += l
			histo[0] += l
			j += 2
		default:
			l := valLen(p[j])
			idx += l
			histo[valValue(p[j])] += l
			j++
		}
	}
	return idx == hllRegisters
}

// isHLL validates a string value as an HLL.
func isHLL(s []byte) bool {
	if len(s) < hllHdrSize || string(s[:4]) != "HYLL" || s[4] > hllSparse {
		return false
	}
	return s[4] != hllDense || len(s) == hllDenseSize
}

// getHLL fetches key as an HLL; ok is false when an error was written.
func getHLL(c *command.Ctx, key []byte) (s []byte, found, ok bool) {
	s, found, ok = getString(c, key)
	if !ok || !found {
		return s, found, ok
	}
	if !isHLL(s) {
		c.Error(errHLLWrongType)
		return nil, true, false
	}
	return s, true, true
}

func (h *Handlers) hllMaxBytes() int {
	if h.Config == nil {
		return 3000
	}
	return int(h.Config.Int("hll-sparse-max-bytes"))
}

func (h *Handlers) pfadd(c *command.Ctx) {
	key := c.Args[1]
	old, found, ok := getHLL(c, key)
	if !ok {
		return
	}
	updated := 0
	var s []byte
	if !found {
		s = newHLL()
		updated++
	} else {
		s = append(make([]byte, 0, len(old)+8), old...) // copy-on-write
	}
	maxBytes := h.hllMaxBytes()
	for _, ele := range c.Args[2:] {
		var r int
		s, r = hllAdd(s, ele, maxBytes)
		switch r {
		case 1:
			updated++
		case -1:
			// Redis changes the HLL in place: the registers the elements
			// before the corrupt part raised stay raised (the cached
			// cardinality is not invalidated, nothing is signalled)
			if found {
				c.DB.Update(key, hllRaw(s))
			}
			c.Error(errHLLInvalid)
			return
		}
	}
	if updated > 0 {
		hllInvalidate(s)
		s = hllRaw(s)
		if found {
			c.DB.Update(key, s)
		} else {
			c.DB.Set(key, s, 0)
		}
		c.Modified(key)
		c.Dirty += updated - 1
		c.Event('$', "pfadd", key)
		c.W.Int(1)
		return
	}
	if found && cap(old) == len(old) {
		c.DB.Update(key, hllRaw(old)) // unshared all the same
	}
	c.W.Int(0)
}

// hllRaw returns s marked "raw" for OBJECT ENCODING (with spare capacity,
// copying it if it has none): Redis creates HyperLogLogs as raw strings and
// PFADD, PFCOUNT and PFMERGE unshare the value they touch (turning an
// embstr one, as RESTORE makes, raw) even when they change nothing.
func hllRaw(s []byte) []byte {
	if cap(s) > len(s) {
		return s
	}
	return rawString(s, 1)
}

func (h *Handlers) pfcount(c *command.Ctx) {
	if len(c.Args) > 2 {
		max := make([]uint8, hllRegisters)
		for _, k := range c.Args[1:] {
			s, found, ok := getHLL(c, k)
			if !ok {
				return
			}
			if !found {
				continue
			}
			if !hllMerge(max, s) {
				c.Error(errHLLInvalid)
				return
			}
		}
		var histo [64]int
		for _, v := range max {
			histo[v]++
		}
		c.W.Int(int64(hllCountHisto(&histo)))
		return
	}
	key := c.Args[1]
	s, found, ok := getHLL(c, key)
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	if s[15]&(1<<7) == 0 {
		if cap(s) == len(s) {
			c.DB.Update(key, hllRaw(s))
		}
		c.W.Int(int64(binary.LittleEndian.Uint64(s[8:16])))
		return
	}
	var histo [64]int
	if !hllHisto(s, &histo) {
		c.Error(errHLLInvalid)
		return
	}
	card := hllCountHisto(&histo)
	ns := rawString(s, 1) // copy-on-write
	binary.LittleEndian.PutUint64(ns[8:16], card)
	c.DB.Update(key, ns)
	c.Modified(key)
	c.W.Int(int64(card))
}

func (h *Handlers) pfmerge(c *command.Ctx) {
	max := make([]uint8, hllRegisters)
	useDense := false
	saved := readingView(c) // every key, the destination first, as Redis
	defer func() { c.DB = saved }()
	for _, k := range c.Args[1:] {
		s, found, ok := getHLL(c, k)
		if !ok {
			return
		}
		if !found {
			continue
		}
		if s[4] == hllDense {
			useDense = true
		}
		if !hllMerge(max, s) {
			c.Error(errHLLInvalid)
			return
		}
	}
	key := c.Args[1]
	c.DB = saved
	old, found, _ := getString(c, key)
	var s []byte
	if !found {
		s = newHLL()
	} else {
		s = append([]byte(nil), old...)
	}
	if useDense {
		var ok bool
		if s, ok = hllSparseToDense(s); !ok {
			c.Error(errHLLInvalid)
			return
		}
	}
	maxBytes := h.hllMaxBytes()
	for j, v := range max {
		if v == 0 {
			continue
		}
		if s[4] == hllDense {
			hllDenseSet(s[hllHdrSize:], j, v)
		} else {
			s, _ = hllSparseSet(s, j, v, maxBytes)
		}
	}
	hllInvalidate(s)
	s = hllRaw(s)
	if found {
		c.DB.Update(key, s)
	} else {
		c.DB.Set(key, s, 0)
	}
	c.Modified(key)
	c.Event('$', "pfadd", key)
	c.W.OK()
}

// pfdebug implements PFDEBUG GETREG|DECODE|ENCODING|TODENSE key, as
// Redis's pfdebugCommand: GETREG and TODENSE turn a sparse HLL dense.
func (h *Handlers) pfdebug(c *command.Ctx) {
	sub, key := c.Args[1], c.Args[2]
	s, found, ok := getHLL(c, key)
	if !ok {
		return
	}
	if !found {
		c.Error("ERR The specified key does not exist")
		return
	}
	toDense := func() bool {
		d, ok := hllSparseToDense(s)
		if !ok {
			c.Error(errHLLInvalid)
			return false
		}
		c.DB.Update(key, d)
		c.Dirty++ // Redis forces propagation on the encoding change
		s = d
		return true
	}
	switch {
	case EqualFold(sub, "getreg"):
		if s[4] == hllSparse && !toDense() {
			return
		}
		regs := s[hllHdrSize:]
		c.W.Array(hllRegisters)
		for j := 0; j < hllRegisters; j++ {
			c.W.Int(int64(hllDenseGet(regs, j)))
		}
	case EqualFold(sub, "decode"):
		if s[4] != hllSparse {
			c.Error("ERR HLL encoding is not sparse")
			return
		}
		var b strings.Builder
		p := s[hllHdrSize:]
		for i := 0; i < len(p); {
			switch {
			case isZero(p[i]):
				b.WriteString("z:" + strconv.Itoa(zeroLen(p[i])) + " ")
				i++
			case isXZero(p[i]):
				if i+1 >= len(p) {
					// Redis reads past the end here; stop instead
					i = len(p)
					break
				}
				b.WriteString("Z:" + strconv.Itoa(xzeroLen(p[i:])) + " ")
				i += 2
			default:
				b.WriteString("v:" + strconv.Itoa(valValue(p[i])) + "," + strconv.Itoa(valLen(p[i])) + " ")
				i++
			}
		}
		c.W.BulkString(strings.Trim(b.String(), " "))
	case EqualFold(sub, "encoding"):
		if s[4] == hllSparse {
			c.W.Simple("sparse")
		} else {
			c.W.Simple("dense")
		}
	case EqualFold(sub, "todense"):
		conv := int64(0)
		if s[4] == hllSparse {
			if !toDense() {
				return
			}
			conv = 1
		}
		c.W.Int(conv)
	default:
		c.Error("ERR Unknown PFDEBUG subcommand '" + string(sub) + "'")
	}
}
