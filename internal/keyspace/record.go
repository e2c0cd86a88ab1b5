package keyspace

import (
	"bytes"
	"encoding/binary"
	"unsafe"
)

// Records: how one key and its value are stored (docs/design/memory.md).
//
// Each database shard maps the key's 64-bit hash to one record pointer
// (table.go). A string key is a single pointer-free allocation:
//
//	access uint32 | flags uint8 | uvarint key length |
//	raw: value length uint32, capacity uint32; else: uvarint value length |
//	expiry int64 (only with recExp) | key bytes | value bytes (capacity)
//
// Any other value is an objRec, a struct that starts with the same access
// and flags fields. Two keys whose hashes collide get two slots of the
// table. One
// noscan allocation per key (instead of a key string, a value slice, its
// boxed header and a 48-byte map slot) is most of the memory saved, and
// the GC has one object per key to mark instead of four.
//
// A record is owned by its shard and changed only under the shard's lock,
// and only in its header (access, the length of a raw value, the expiry)
// or past a raw value's length (APPEND grows it in its spare capacity). Key
// bytes handed out alias the record and stay valid: a new value gets a new
// record, except a SET, MSET or INCR of a value of the old one's length and
// expiry presence (overwriteStr), which rewrites the value bytes in place.
// Value bytes are therefore valid only while the caller holds the shard and
// writes nothing with SetStringCond: every reader copies them (replies,
// snapshots, Save) before releasing the lock.

// recHdr is the common prefix of every record.
type recHdr struct {
	access uint32 // Entry.Access
	flags  uint8
}

const (
	recObj  uint8 = 1 << iota // an objRec
	recExp                    // a string record with an expiry field
	recRaw                    // a string record with spare capacity
	recEmb                    // a string Redis keeps "embstr" though it reads as an integer (Entry.Embstr)
	recDead                   // an objRec no longer in its table (resize.go)
	recOwn                    // a string Redis holds in an object of its own, never a shared integer (Entry.Unshared)
)

// objRec holds a key whose value is not a string (list, hash, set...).
type objRec struct {
	recHdr
	size uint32
	exp  int64
	key  string
	val  any
}

func hdrOf(p unsafe.Pointer) *recHdr { return (*recHdr)(p) }

// strRec is a decoded string record header.
type strRec struct {
	klen, vlen, vcap int
	lenOff           uintptr // offset of the raw value length, 0 if not raw
	expOff           uintptr // offset of the expiry, 0 if none
	keyOff           uintptr
}

func uvarintAt(p unsafe.Pointer, off uintptr) (int, uintptr) {
	var x uint64
	var s uint
	for {
		b := *(*byte)(unsafe.Add(p, off))
		off++
		if b < 0x80 {
			return int(x | uint64(b)<<s), off
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
}

// skipUvarint returns the offset just past the uvarint at off.
func skipUvarint(p unsafe.Pointer, off uintptr) uintptr {
	for *(*byte)(unsafe.Add(p, off)) >= 0x80 {
		off++
	}
	return off + 1
}

func u32At(p unsafe.Pointer, off uintptr) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(p, off)), 4))
}

func decodeStr(p unsafe.Pointer) strRec {
	f := hdrOf(p).flags
	// Most records: a key and a value shorter than 128 bytes, not raw.
	if kl, vl := *(*byte)(unsafe.Add(p, 5)), *(*byte)(unsafe.Add(p, 6)); (kl|vl) < 0x80 && f&recRaw == 0 {
		r := strRec{klen: int(kl), vlen: int(vl), vcap: int(vl), keyOff: 7}
		if f&recExp != 0 {
			r.expOff = 7
			r.keyOff = 15
		}
		return r
	}
	return decodeStrSlow(p, f)
}

// decodeStrSlow is decodeStr for any record.
func decodeStrSlow(p unsafe.Pointer, f uint8) strRec {
	var r strRec
	r.klen, r.keyOff = uvarintAt(p, 5)
	if f&recRaw != 0 {
		r.lenOff = r.keyOff
		r.vlen = int(u32At(p, r.keyOff))
		r.vcap = int(u32At(p, r.keyOff+4))
		r.keyOff += 8
	} else {
		r.vlen, r.keyOff = uvarintAt(p, r.keyOff)
		r.vcap = r.vlen
	}
	if f&recExp != 0 {
		r.expOff = r.keyOff
		r.keyOff += 8
	}
	return r
}

func recBytes(p unsafe.Pointer, off uintptr, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(p, off)), n)
}

// newStrRec returns a string record for key and v (both copied; v's spare
// capacity, if any, is kept so that OBJECT ENCODING still says "raw").
// own is recOwn for a new value written while Redis would not use its
// shared integers (Store.ownFlag), else 0.
func newStrRec(access uint32, key, v []byte, exp int64, own uint8) unsafe.Pointer {
	c := cap(v)
	flags := own
	hl := 5 + uvarintLen(len(key))
	if c > len(v) {
		flags |= recRaw
		hl += 8
	} else {
		hl += uvarintLen(len(v))
	}
	if exp != 0 {
		flags |= recExp
		hl += 8
	}
	size := hl + len(key) + c
	if size < 8 {
		size = 8 // recHdr is read from every record
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, access)
	b[4] = flags
	off := 5 + binary.PutUvarint(b[5:], uint64(len(key)))
	if flags&recRaw != 0 {
		binary.LittleEndian.PutUint32(b[off:], uint32(len(v)))
		binary.LittleEndian.PutUint32(b[off+4:], uint32(c))
		off += 8
	} else {
		off += binary.PutUvarint(b[off:], uint64(len(v)))
	}
	if exp != 0 {
		binary.LittleEndian.PutUint64(b[off:], uint64(exp))
		off += 8
	}
	off += copy(b[off:], key)
	copy(b[off:], v)
	return unsafe.Pointer(&b[0])
}

// overwriteStr stores the string v with expiry exp (0: none) and access
// in record p itself when p is a string record whose new version would
// have exactly its layout: not raw (a value stored by SET has no spare
// capacity), a value of v's length, and an expiry field exactly when exp
// is not 0. It reports whether it did; the record's key, size (and so the
// accounted memory) and volatile status are then unchanged. The old value
// bytes are overwritten: only SET's and MSET's store (SetStringCond) and
// INCR's (SetStringKeepTTLAt, after parsing the old value) use it, which
// hand out no value bytes, and nothing keeps a record's value bytes
// past the command that read them under the shard's lock (replies, the
// snapshot and Save copy them).
func overwriteStr(p unsafe.Pointer, access uint32, v []byte, exp int64, own uint8) bool {
	hd := hdrOf(p)
	f := hd.flags
	if f&(recObj|recRaw) != 0 || (f&recExp != 0) != (exp != 0) {
		return false
	}
	var off uintptr
	kl, vl := *(*byte)(unsafe.Add(p, 5)), *(*byte)(unsafe.Add(p, 6))
	if (kl | vl) < 0x80 {
		// decodeStr's fast path: one-byte lengths
		if int(vl) != len(v) {
			return false
		}
		off = 7
	} else {
		r := decodeStrSlow(p, f)
		if r.vlen != len(v) {
			return false
		}
		if exp != 0 {
			binary.LittleEndian.PutUint64(recBytes(p, r.expOff, 8), uint64(exp))
		}
		copy(recBytes(p, r.keyOff+uintptr(r.klen), len(v)), v)
		hd.access = access
		hd.flags = f&^(recEmb|recOwn) | own
		return true
	}
	if exp != 0 {
		binary.LittleEndian.PutUint64(recBytes(p, off, 8), uint64(exp))
		off += 8
	}
	copy(recBytes(p, off+uintptr(kl), len(v)), v)
	hd.access = access
	hd.flags = f&^(recEmb|recOwn) | own // a new value: Redis encodes it afresh
	return true
}

func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func newObjRec(access uint32, key string, val any, exp int64, size uint32) unsafe.Pointer {
	return unsafe.Pointer(&objRec{recHdr: recHdr{access: access, flags: recObj}, size: size, exp: exp, key: key, val: val})
}

// recKey returns the record's key, aliasing the record.
func recKey(p unsafe.Pointer) string {
	if hdrOf(p).flags&recObj != 0 {
		return (*objRec)(p).key
	}
	r := decodeStr(p)
	if r.klen == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Add(p, r.keyOff)), r.klen)
}

// recKeyIs reports whether the record's key is key.
func recKeyIs(p unsafe.Pointer, key []byte) bool {
	if hdrOf(p).flags&recObj != 0 {
		return (*objRec)(p).key == string(key)
	}
	// one-byte lengths, not raw (decodeStr's fast path), without the call
	f := hdrOf(p).flags
	if kl, vl := *(*byte)(unsafe.Add(p, 5)), *(*byte)(unsafe.Add(p, 6)); (kl|vl) < 0x80 && f&recRaw == 0 {
		off := uintptr(7)
		if f&recExp != 0 {
			off = 15
		}
		return int(kl) == len(key) && bytes.Equal(recBytes(p, off, len(key)), key)
	}
	r := decodeStrSlow(p, f)
	return r.klen == len(key) && bytes.Equal(recBytes(p, r.keyOff, r.klen), key)
}

// recExpiry returns the record's expiry (0: none).
func recExpiry(p unsafe.Pointer) int64 {
	f := hdrOf(p).flags
	if f&recObj != 0 {
		return (*objRec)(p).exp
	}
	if f&recExp == 0 {
		return 0
	}
	// The expiry follows the key length and the value length (or the raw
	// value's length and capacity).
	off := skipUvarint(p, 5)
	if f&recRaw != 0 {
		off += 8
	} else {
		off = skipUvarint(p, off)
	}
	return int64(binary.LittleEndian.Uint64(recBytes(p, off, 8)))
}

func strValue(p unsafe.Pointer, r strRec) []byte {
	if r.vcap == 0 {
		return []byte{}
	}
	return recBytes(p, r.keyOff+uintptr(r.klen), r.vcap)[:r.vlen:r.vcap]
}

// recSize is the accounted memory of a record (MEMORY USAGE).
func recSize(p unsafe.Pointer) uint32 {
	if hdrOf(p).flags&recObj != 0 {
		return (*objRec)(p).size
	}
	f := hdrOf(p).flags
	if kl, vl := *(*byte)(unsafe.Add(p, 5)), *(*byte)(unsafe.Add(p, 6)); (kl|vl) < 0x80 && f&recRaw == 0 {
		return clampSize(int64(kl) + entryOverhead + int64(vl)) // decodeStr's fast path
	}
	r := decodeStrSlow(p, f)
	return clampSize(int64(r.klen) + entryOverhead + int64(r.vcap))
}

// entryOf decodes a record into an Entry.
func entryOf(p unsafe.Pointer) Entry {
	h := hdrOf(p)
	if h.flags&recObj != 0 {
		o := (*objRec)(p)
		return Entry{Exp: o.exp, Access: o.access, size: o.size, obj: o.val}
	}
	r := decodeStr(p)
	var exp int64
	if r.expOff != 0 {
		exp = int64(binary.LittleEndian.Uint64(recBytes(p, r.expOff, 8)))
	}
	return Entry{
		Exp:    exp,
		Access: h.access,
		size:   clampSize(int64(r.klen) + entryOverhead + int64(r.vcap)),
		str:    strValue(p, r),
		isStr:  true,
		emb:    h.flags&recEmb != 0,
		own:    h.flags&recOwn != 0,
	}
}

// keepFlags copies the flags that describe a string record's value (not
// its layout) from record p to its copy q, and returns q.
func keepFlags(q, p unsafe.Pointer) unsafe.Pointer {
	hdrOf(q).flags |= hdrOf(p).flags & (recEmb | recOwn)
	return q
}

// setRecExpiry sets the expiry of the record at p, returning the record to
// store (p itself, or a new string record when p had no expiry field).
func setRecExpiry(p unsafe.Pointer, exp int64) unsafe.Pointer {
	h := hdrOf(p)
	if h.flags&recObj != 0 {
		(*objRec)(p).exp = exp
		return p
	}
	r := decodeStr(p)
	if r.expOff == 0 {
		if exp == 0 {
			return p
		}
		return keepFlags(newStrRec(h.access, recBytes(p, r.keyOff, r.klen), strValue(p, r), exp, 0), p)
	}
	binary.LittleEndian.PutUint64(recBytes(p, r.expOff, 8), uint64(exp))
	return p
}
