package keyspace

import (
	"encoding/binary"
	"unsafe"
)

// Records: how one key's value is stored (see docs/design/memory.md).
//
// Each database shard maps a key to one record pointer. A string value is a
// single pointer-free allocation: a recHdr, then its capacity (4 bytes, only
// when it has spare capacity: "raw"), then its expiry (8 bytes, only when it
// has one), then the value bytes. Any other value is an objRec, a struct that
// starts with the same recHdr. Storing strings this way costs one allocation
// per value instead of the value bytes plus a boxed slice header plus a
// 32-byte map element, which is most of a small key's memory.
//
// A record is owned by its shard and changed only under the shard's lock.
// Value bytes handed out (Entry.Str) alias the record: the bytes up to the
// length are never written again except by a caller that owns the value
// (APPEND writes past the length, into spare capacity), as with the []byte
// values before.

// recHdr is the common prefix of every record.
type recHdr struct {
	access uint32 // Entry.Access
	n      uint32 // string length
	flags  uint8
}

const (
	recObj uint8 = 1 << iota // an objRec
	recExp                   // a string record with an expiry field
	recRaw                   // a string record with a capacity field
)

const recHdrSize = unsafe.Sizeof(recHdr{})

// objRec holds a value that is not a string (list, hash, set...).
type objRec struct {
	recHdr
	size uint32
	exp  int64
	val  any
}

func hdrOf(p unsafe.Pointer) *recHdr { return (*recHdr)(p) }

// newStrRec returns a string record for v (copied; its spare capacity, if
// any, is kept so that OBJECT ENCODING still says "raw").
func newStrRec(access uint32, v []byte, exp int64) unsafe.Pointer {
	hl := int(recHdrSize)
	c := cap(v)
	var flags uint8
	if c > len(v) {
		flags |= recRaw
		hl += 4
	}
	if exp != 0 {
		flags |= recExp
		hl += 8
	}
	b := make([]byte, hl+c)
	p := unsafe.Pointer(&b[0])
	h := hdrOf(p)
	h.access, h.n, h.flags = access, uint32(len(v)), flags
	off := int(recHdrSize)
	if flags&recRaw != 0 {
		binary.LittleEndian.PutUint32(b[off:], uint32(c))
		off += 4
	}
	if flags&recExp != 0 {
		binary.LittleEndian.PutUint64(b[off:], uint64(exp))
	}
	copy(b[hl:], v)
	return p
}

func newObjRec(access uint32, val any, exp int64, size uint32) unsafe.Pointer {
	o := &objRec{recHdr: recHdr{access: access, flags: recObj}, size: size, exp: exp, val: val}
	return unsafe.Pointer(o)
}

// strLayout returns a string record's capacity and the offsets of its
// expiry field (0: none) and data.
func strLayout(p unsafe.Pointer) (c uint32, expOff, dataOff uintptr) {
	h := hdrOf(p)
	c = h.n
	off := recHdrSize
	if h.flags&recRaw != 0 {
		c = *(*uint32)(unsafe.Add(p, off))
		off += 4
	}
	if h.flags&recExp != 0 {
		expOff = off
		off += 8
	}
	return c, expOff, off
}

func recBytes(p unsafe.Pointer, off uintptr, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(p, off)), n)
}

// recExpiry returns the record's expiry (0: none).
func recExpiry(p unsafe.Pointer) int64 {
	h := hdrOf(p)
	if h.flags&recObj != 0 {
		return (*objRec)(p).exp
	}
	if h.flags&recExp == 0 {
		return 0
	}
	_, eo, _ := strLayout(p)
	return int64(binary.LittleEndian.Uint64(recBytes(p, eo, 8)))
}

// recStr returns a string record's value: length n, capacity as stored.
func recStr(p unsafe.Pointer) []byte {
	h := hdrOf(p)
	c, _, off := strLayout(p)
	if c == 0 {
		return []byte{}
	}
	return recBytes(p, off, int(c))[:h.n:c]
}

// recSize is the accounted memory of the record of a key of length klen.
func recSize(p unsafe.Pointer, klen int) uint32 {
	h := hdrOf(p)
	if h.flags&recObj != 0 {
		return (*objRec)(p).size
	}
	c, _, _ := strLayout(p)
	return clampSize(int64(klen) + entryOverhead + int64(c))
}

// entryOf decodes a record into an Entry; klen is the key's length.
func entryOf(p unsafe.Pointer, klen int) Entry {
	h := hdrOf(p)
	if h.flags&recObj != 0 {
		o := (*objRec)(p)
		return Entry{Exp: o.exp, Access: o.access, size: o.size, obj: o.val}
	}
	s := recStr(p)
	return Entry{
		Exp:    recExpiry(p),
		Access: h.access,
		size:   clampSize(int64(klen) + entryOverhead + int64(cap(s))),
		str:    s,
		isStr:  true,
	}
}

// newRec returns a record for val (a []byte is copied).
func newRec(klen int, val any, exp int64, access uint32) unsafe.Pointer {
	if b, ok := val.([]byte); ok {
		return newStrRec(access, b, exp)
	}
	return newObjRec(access, val, exp, entrySizeLen(klen, val))
}

// setRecExpiry sets the expiry of the record at p, returning the record to
// store (p itself, or a new string record when p had no expiry field).
func setRecExpiry(p unsafe.Pointer, exp int64) unsafe.Pointer {
	h := hdrOf(p)
	if h.flags&recObj != 0 {
		(*objRec)(p).exp = exp
		return p
	}
	if h.flags&recExp == 0 {
		if exp == 0 {
			return p
		}
		return newStrRec(h.access, recStr(p), exp)
	}
	_, eo, _ := strLayout(p)
	binary.LittleEndian.PutUint64(recBytes(p, eo, 8), uint64(exp))
	return p
}
