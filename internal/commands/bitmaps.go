package commands

import (
	"math"
	"math/bits"

	"github.com/crescent-db/crescent/internal/command"
)

// Bitmap error replies (Redis 7.0 texts).
const (
	errBitOffset     = "ERR bit offset is not an integer or out of range"
	errBitValue      = "ERR bit is not an integer or out of range"
	errBitArg        = "ERR The bit argument must be 1 or 0."
	errBitopNot      = "ERR BITOP NOT must be called with a single source key."
	errBitfieldType  = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	errBitfieldOflow = "ERR Invalid OVERFLOW type specified"
	errBitfieldRO    = "ERR BITFIELD_RO only supports the GET subcommand"
)

func (h *Handlers) registerBitmaps() {
	t := h.Table
	t.Handle("setbit", h.setbit)
	t.Handle("getbit", h.getbit)
	t.Handle("bitcount", h.bitcount)
	t.Handle("bitpos", h.bitpos)
	t.Handle("bitop", h.bitop)
	t.Handle("bitfield", func(c *command.Ctx) { h.bitfield(c, false) })
	t.Handle("bitfield_ro", func(c *command.Ctx) { h.bitfield(c, true) })
}

// maxBulkLen is proto-max-bulk-len, which bounds bit offsets.
func (h *Handlers) maxBulkLen() int64 {
	if h.Config == nil {
		return 512 << 20
	}
	return h.Config.Int("proto-max-bulk-len")
}

// bitOffset parses a bit offset as getBitOffsetFromArgument does; with
// hash, "#n" means n*bits.
func (h *Handlers) bitOffset(c *command.Ctx, arg []byte, hash bool, nbits int) (int64, bool) {
	usehash := hash && nbits > 0 && len(arg) > 0 && arg[0] == '#'
	if usehash {
		arg = arg[1:]
	}
	n, ok := ParseInt(arg)
	if ok && usehash {
		n *= int64(nbits)
	}
	if !ok || n < 0 || n>>3 >= h.maxBulkLen() {
		c.Error(errBitOffset)
		return 0, false
	}
	return n, true
}

// stringForBitWrite returns a private copy of key's string grown to hold
// bit maxbit (copy-on-write: stored strings may be shared), and whether the
// key existed. ok is false when an error was written.
func stringForBitWrite(c *command.Ctx, key []byte, maxbit int64) (buf []byte, existed, grew, ok bool) {
	old, found, ok := getString(c, key)
	if !ok {
		return nil, found, false, false
	}
	need := int(maxbit>>3) + 1
	// Redis unshares the value into a raw string: the one spare byte only
	// marks it raw for OBJECT ENCODING
	n := max(need, len(old))
	buf = make([]byte, n, n+1)
	copy(buf, old)
	return buf, found, need > len(old), true
}

// storeBitString stores a string built by stringForBitWrite, keeping the
// key's expiry.
func storeBitString(c *command.Ctx, key, buf []byte, existed bool) {
	if existed {
		c.DB.Update(key, buf)
	} else {
		c.DB.Set(key, buf, 0)
	}
}

func (h *Handlers) setbit(c *command.Ctx) {
	key := c.Args[1]
	off, ok := h.bitOffset(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	on, ok := ParseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.Error(errBitValue)
		return
	}
	buf, existed, grew, ok := stringForBitWrite(c, key, off)
	if !ok {
		return
	}
	byteIdx := off >> 3
	bit := byte(7 - off&7)
	old := buf[byteIdx] >> bit & 1
	buf[byteIdx] = buf[byteIdx]&^(1<<bit) | byte(on)<<bit
	storeBitString(c, key, buf, existed) // a raw string even when unchanged, as Redis unshares it
	if !existed || grew || old != byte(on) {
		// Redis 7.0 signals, notifies and counts a change only when the
		// key is new, grew or the bit flipped
		c.Modified(key)
		c.Event('$', "setbit", key)
	}
	c.W.Int(int64(old))
}

func (h *Handlers) getbit(c *command.Ctx) {
	off, ok := h.bitOffset(c, c.Args[2], false, 0)
	if !ok {
		return
	}
	s, _, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	byteIdx := off >> 3
	if byteIdx >= int64(len(s)) {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(s[byteIdx] >> (7 - off&7) & 1))
}

func popcount(b []byte) int64 {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

func (h *Handlers) bitcount(c *command.Ctx) {
	s, found, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.Int(0)
		return
	}
	var start, end int64
	var firstMask, lastMask byte
	switch len(c.Args) {
	case 4, 5:
		totlen := int64(len(s))
		var ok bool
		if start, ok = ParseInt(c.Args[2]); !ok {
			c.Error(ErrNotInt)
			return
		}
		if end, ok = ParseInt(c.Args[3]); !ok {
			c.Error(ErrNotInt)
			return
		}
		if start < 0 && end < 0 && start > end {
			c.W.Int(0)
			return
		}
		isbit := false
		if len(c.Args) == 5 {
			switch {
			case EqualFold(c.Args[4], "bit"):
				isbit = true
			case EqualFold(c.Args[4], "byte"):
			default:
				c.Error(ErrSyntax)
				return
			}
		}
		if isbit {
			totlen <<= 3
		}
		if start < 0 {
			start += totlen
		}
		if end < 0 {
			end += totlen
		}
		start, end = max(start, 0), max(end, 0)
		if end >= totlen {
			end = totlen - 1
		}
		if isbit && start <= end {
			firstMask = ^byte((1 << (8 - start&7)) - 1)
			lastMask = byte((1 << (7 - end&7)) - 1)
			start >>= 3
			end >>= 3
		}
	case 2:
		end = int64(len(s)) - 1
	default:
		c.Error(ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(0)
		return
	}
	n := popcount(s[start : end+1])
	if firstMask != 0 {
		n -= int64(bits.OnesCount8(s[start] & firstMask))
	}
	if lastMask != 0 {
		n -= int64(bits.OnesCount8(s[end] & lastMask))
	}
	c.W.Int(n)
}

func (h *Handlers) bitpos(c *command.Ctx) {
	bit, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if bit != 0 && bit != 1 {
		c.Error(errBitArg)
		return
	}
	s, found, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		if bit == 1 {
			c.W.Int(-1)
		} else {
			c.W.Int(0)
		}
		return
	}
	// bstart..bend is the inclusive range in bits
	var bstart, bend int64
	endGiven := false
	totlen := int64(len(s))
	switch len(c.Args) {
	case 4, 5, 6:
		start, ok := ParseInt(c.Args[3])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		isbit := false
		if len(c.Args) == 6 {
			switch {
			case EqualFold(c.Args[5], "bit"):
				isbit = true
			case EqualFold(c.Args[5], "byte"):
			default:
				c.Error(ErrSyntax)
				return
			}
		}
		var end int64
		if len(c.Args) >= 5 {
			if end, ok = ParseInt(c.Args[4]); !ok {
				c.Error(ErrNotInt)
				return
			}
			endGiven = true
		} else if isbit {
			end = totlen<<3 + 7
		} else {
			end = totlen - 1
		}
		if isbit {
			totlen <<= 3
		}
		if start < 0 {
			start += totlen
		}
		if end < 0 {
			end += totlen
		}
		start, end = max(start, 0), max(end, 0)
		if end >= totlen {
			end = totlen - 1
		}
		if start > end {
			c.W.Int(-1)
			return
		}
		if isbit {
			bstart, bend = start, end
		} else {
			bstart, bend = start<<3, end<<3+7
		}
	case 3:
		if totlen == 0 {
			c.W.Int(-1)
			return
		}
		bstart, bend = 0, totlen<<3-1
	default:
		c.Error(ErrSyntax)
		return
	}
	want := byte(bit)
	skip := byte(0xff)
	if want == 1 {
		skip = 0
	}
	for i := bstart; i <= bend; {
		if i&7 == 0 && i+7 <= bend && s[i>>3] == skip {
			i += 8
			continue
		}
		if s[i>>3]>>(7-i&7)&1 == want {
			c.W.Int(i)
			return
		}
		i++
	}
	if bit == 1 || endGiven {
		c.W.Int(-1)
		return
	}
	c.W.Int((bend>>3 + 1) << 3)
}

func (h *Handlers) bitop(c *command.Ctx) {
	op := c.Args[1]
	var kind int
	switch {
	case EqualFold(op, "and"):
		kind = 0
	case EqualFold(op, "or"):
		kind = 1
	case EqualFold(op, "xor"):
		kind = 2
	case EqualFold(op, "not"):
		kind = 3
	default:
		c.Error(ErrSyntax)
		return
	}
	if kind == 3 && len(c.Args) != 4 {
		c.Error(errBitopNot)
		return
	}
	dst := c.Args[2]
	srcs := make([][]byte, 0, len(c.Args)-3)
	maxlen := 0
	saved := readingView(c)
	for _, k := range c.Args[3:] {
		s, _, ok := getString(c, k)
		if !ok {
			c.DB = saved
			return
		}
		srcs = append(srcs, s)
		maxlen = max(maxlen, len(s))
	}
	c.DB = saved
	if maxlen == 0 {
		deleteDestination(c, dst)
		c.W.Int(0)
		return
	}
	res := make([]byte, maxlen, maxlen+1) // Redis stores a raw object: the spare byte marks it
	for i := range res {
		var v byte
		for j, s := range srcs {
			var b byte
			if i < len(s) {
				b = s[i]
			}
			switch {
			case kind == 3:
				v = ^b
			case j == 0:
				v = b
			case kind == 0:
				v &= b
			case kind == 1:
				v |= b
			case kind == 2:
				v ^= b
			}
		}
		res[i] = v
	}
	c.DB.Set(dst, res, 0)
	c.Modified(dst)
	c.Event('$', "set", dst)
	c.W.Int(int64(maxlen))
}

// ---- BITFIELD ----

const (
	bfWrap = iota
	bfSat
	bfFail
)

type bfOp struct {
	op     int // 0 get, 1 set, 2 incrby
	offset int64
	bits   int
	signed bool
	val    int64
	ow     int
}

func parseBitfieldType(b []byte) (signed bool, nbits int, ok bool) {
	if len(b) < 2 {
		return false, 0, false
	}
	switch b[0] { // lower case only, as Redis
	case 'i':
		signed = true
	case 'u':
	default:
		return false, 0, false
	}
	n, ok := ParseInt(b[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, false
	}
	return signed, int(n), true
}

func getUnsignedBits(p []byte, offset int64, nbits int) uint64 {
	var v uint64
	for j := 0; j < nbits; j++ {
		byteIdx := offset >> 3
		var bit uint64
		if byteIdx < int64(len(p)) {
			bit = uint64(p[byteIdx]>>(7-offset&7)) & 1
		}
		v = v<<1 | bit
		offset++
	}
	return v
}

func getSignedBits(p []byte, offset int64, nbits int) int64 {
	v := int64(getUnsignedBits(p, offset, nbits))
	if nbits < 64 && v&(1<<(nbits-1)) != 0 {
		v |= -1 << nbits
	}
	return v
}

func setUnsignedBits(p []byte, offset int64, nbits int, v uint64) {
	for j := 0; j < nbits; j++ {
		bit := byte(v >> (nbits - 1 - j) & 1)
		byteIdx := offset >> 3
		sh := 7 - offset&7
		p[byteIdx] = p[byteIdx]&^(1<<sh) | bit<<sh
		offset++
	}
}

func checkUnsignedOverflow(value uint64, incr int64, nbits int, ow int) (overflow bool, limit uint64) {
	maxv := uint64(1)<<nbits - 1
	maxincr := int64(maxv - value)
	minincr := -int64(value)
	if value > maxv || (incr > 0 && incr > maxincr) {
		if ow == bfSat {
			return true, maxv
		}
	} else if incr < 0 && incr < minincr {
		if ow == bfSat {
			return true, 0
		}
	} else {
		return false, 0
	}
	if ow == bfWrap {
		res := value + uint64(incr)
		return true, res &^ (math.MaxUint64 << nbits)
	}
	return true, 0
}

func checkSignedOverflow(value, incr int64, nbits int, ow int) (overflow bool, limit int64) {
	maxv := int64(math.MaxInt64)
	if nbits != 64 {
		maxv = 1<<(nbits-1) - 1
	}
	minv := -maxv - 1
	maxincr := int64(uint64(maxv) - uint64(value))
	minincr := minv - value
	if value > maxv || (nbits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
		if ow == bfSat {
			return true, maxv
		}
	} else if value < minv || (nbits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
		if ow == bfSat {
			return true, minv
		}
	} else {
		return false, 0
	}
	if ow == bfWrap {
		c := uint64(value) + uint64(incr)
		if nbits < 64 {
			mask := uint64(math.MaxUint64) << nbits
			if c&(1<<(nbits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return true, int64(c)
	}
	return true, 0
}

func (h *Handlers) bitfield(c *command.Ctx, ro bool) {
	key := c.Args[1]
	var ops []bfOp
	ow := bfWrap
	readonly := true
	highest := int64(0)
	for j := 2; j < len(c.Args); j++ {
		rem := len(c.Args) - j - 1
		sub := c.Args[j]
		var op int
		switch {
		case EqualFold(sub, "get") && rem >= 2:
			op = 0
		case EqualFold(sub, "set") && rem >= 3:
			op = 1
		case EqualFold(sub, "incrby") && rem >= 3:
			op = 2
		case EqualFold(sub, "overflow") && rem >= 1:
			j++
			switch t := c.Args[j]; {
			case EqualFold(t, "wrap"):
				ow = bfWrap
			case EqualFold(t, "sat"):
				ow = bfSat
			case EqualFold(t, "fail"):
				ow = bfFail
			default:
				c.Error(errBitfieldOflow)
				return
			}
			continue
		default:
			c.Error(ErrSyntax)
			return
		}
		signed, nbits, ok := parseBitfieldType(c.Args[j+1])
		if !ok {
			c.Error(errBitfieldType)
			return
		}
		off, ok := h.bitOffset(c, c.Args[j+2], true, nbits)
		if !ok {
			return
		}
		o := bfOp{op: op, offset: off, bits: nbits, signed: signed, ow: ow}
		if op != 0 {
			readonly = false
			if o.val, ok = ParseInt(c.Args[j+3]); !ok {
				c.Error(ErrNotInt)
				return
			}
			highest = max(highest, off+int64(nbits)-1)
			j += 3
		} else {
			j += 2
		}
		ops = append(ops, o)
	}
	if !readonly && ro { // after parsing every operation, as Redis
		c.Error(errBitfieldRO)
		return
	}
	var buf []byte
	existed, grew := false, false
	if readonly {
		saved := readingView(c) // lookupKeyRead, in BITFIELD too
		s, _, ok := getString(c, key)
		c.DB = saved
		if !ok {
			return
		}
		buf = s
	} else {
		var ok bool
		if buf, existed, grew, ok = stringForBitWrite(c, key, highest); !ok {
			return
		}
		if !existed {
			// Redis's lookupStringForBitCommand adds the key before the
			// reply (its "new" event first); the bits are stored below
			c.DB.Set(key, buf, 0)
			existed = true
		}
	}
	c.W.Array(len(ops))
	changes := 0
	for _, o := range ops {
		if o.op == 0 {
			if o.signed {
				c.W.Int(getSignedBits(buf, o.offset, o.bits))
			} else {
				c.W.Int(int64(getUnsignedBits(buf, o.offset, o.bits)))
			}
			continue
		}
		if o.signed {
			oldv := getSignedBits(buf, o.offset, o.bits)
			var newv, ret int64
			var of bool
			var wrapped int64
			if o.op == 2 {
				of, wrapped = checkSignedOverflow(oldv, o.val, o.bits, o.ow)
				if of {
					newv = wrapped
				} else {
					newv = oldv + o.val
				}
				ret = newv
			} else {
				newv = o.val
				if of, wrapped = checkSignedOverflow(newv, 0, o.bits, o.ow); of {
					newv = wrapped
				}
				ret = oldv
			}
			if of && o.ow == bfFail {
				c.W.Null()
			} else {
				c.W.Int(ret)
				setUnsignedBits(buf, o.offset, o.bits, uint64(newv))
				if grew || oldv != newv { // Redis 7.0 counts a change only then
					changes++
				}
			}
		} else {
			oldv := getUnsignedBits(buf, o.offset, o.bits)
			var newv, ret, wrapped uint64
			var of bool
			if o.op == 2 {
				newv = oldv + uint64(o.val)
				if of, wrapped = checkUnsignedOverflow(oldv, o.val, o.bits, o.ow); of {
					newv = wrapped
				}
				ret = newv
			} else {
				newv = uint64(o.val)
				if of, wrapped = checkUnsignedOverflow(newv, 0, o.bits, o.ow); of {
					newv = wrapped
				}
				ret = oldv
			}
			if of && o.ow == bfFail {
				c.W.Null()
			} else {
				c.W.Int(int64(ret))
				setUnsignedBits(buf, o.offset, o.bits, newv)
				if grew || oldv != newv {
					changes++
				}
			}
		}
	}
	if !readonly {
		storeBitString(c, key, buf, existed)
	}
	if changes > 0 {
		c.Modified(key)
		c.Dirty += changes - 1
		c.Event('$', "setbit", key)
	}
}
