// Package rdb reads and writes Redis's RDB format, version 10 as Redis 7.0
// writes it: the snapshot file (dump.rdb, the AOF base), and the value
// encoding DUMP and RESTORE exchange.
//
// Value types plug in through Codec (see codec.go): strings are built in;
// lists, hashes, sets, sorted sets and streams are in internal/persist/codec.
package rdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Version is the RDB version Redis 7.0 writes.
const Version = 10

// Opcodes.
const (
	OpFunction2    = 245
	OpFunctionPre  = 246
	OpModuleAux    = 247
	OpIdle         = 248
	OpFreq         = 249
	OpAux          = 250
	OpResizeDB     = 251
	OpExpireTimeMS = 252
	OpExpireTime   = 253
	OpSelectDB     = 254
	OpEOF          = 255
)

// Value type bytes.
const (
	TypeString          = 0
	TypeList            = 1
	TypeSet             = 2
	TypeZSet            = 3
	TypeHash            = 4
	TypeZSet2           = 5
	TypeModule          = 6
	TypeModule2         = 7
	TypeHashZipmap      = 9
	TypeListZiplist     = 10
	TypeSetIntset       = 11
	TypeZSetZiplist     = 12
	TypeHashZiplist     = 13
	TypeListQuicklist   = 14
	TypeStreamListpacks = 15
	TypeHashListpack    = 16
	TypeZSetListpack    = 17
	TypeListQuicklist2  = 18
	TypeStreamListpack2 = 19
)

const (
	enc6   = 0
	enc14  = 1
	enc32  = 0x80
	enc64  = 0x81
	encVal = 3 // 11xxxxxx: a specially encoded string

	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Encoder appends RDB encodings to Buf.
type Encoder struct {
	Buf []byte
	// Compress enables LZF for strings longer than 20 bytes
	// (rdbcompression).
	Compress bool
	// LZF is the compressor state, allocated on first use; set it to reuse
	// one across encoders.
	LZF *LZFState
}

// Byte appends one byte.
func (e *Encoder) Byte(b byte) { e.Buf = append(e.Buf, b) }

// Len appends a length.
func (e *Encoder) Len(n uint64) {
	switch {
	case n < 1<<6:
		e.Buf = append(e.Buf, byte(n))
	case n < 1<<14:
		e.Buf = append(e.Buf, byte(n>>8)|enc14<<6, byte(n))
	case n <= math.MaxUint32:
		e.Buf = append(e.Buf, enc32)
		e.Buf = binary.BigEndian.AppendUint32(e.Buf, uint32(n))
	default:
		e.Buf = append(e.Buf, enc64)
		e.Buf = binary.BigEndian.AppendUint64(e.Buf, n)
	}
}

// canInt reports whether s is the canonical decimal form of an int64 that
// fits in 32 bits, as Redis checks before int-encoding a string.
func canInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 11 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != string(s) {
		return 0, false
	}
	return n, n >= math.MinInt32 && n <= math.MaxInt32
}

// String appends a string, int-encoded or LZF-compressed when Redis would.
func (e *Encoder) String(s []byte) {
	if n, ok := canInt(s); ok {
		e.Int(n)
		return
	}
	if e.Compress && len(s) > 20 {
		if e.LZF == nil {
			e.LZF = NewLZFState()
		}
		if c := e.LZF.Compress(s); c != nil {
			e.Buf = append(e.Buf, encVal<<6|encLZF)
			e.Len(uint64(len(c)))
			e.Len(uint64(len(s)))
			e.Buf = append(e.Buf, c...)
			return
		}
	}
	e.Len(uint64(len(s)))
	e.Buf = append(e.Buf, s...)
}

// Quicklist node compression thresholds (quicklist.c): a node shorter than
// minCompressBytes is never compressed, nor one LZF shortens by fewer than
// minCompressImprove+1 bytes.
const (
	minCompressBytes   = 48
	minCompressImprove = 8
)

// CompressedNode appends the bytes of a quicklist node Redis holds
// LZF-compressed (an inner node of a list under list-compress-depth). Redis
// writes such a node's LZF bytes whatever rdbcompression says
// (rdbSaveObject's rdbSaveLzfBlob); a node it could not compress
// (__quicklistCompressNode: under 48 bytes, or LZF saving fewer than 9)
// is held raw and written as String writes it.
func (e *Encoder) CompressedNode(s []byte) {
	if len(s) >= minCompressBytes {
		if e.LZF == nil {
			e.LZF = NewLZFState()
		}
		if c := e.LZF.compressTo(s, len(s)); c != nil && len(c)+minCompressImprove < len(s) {
			e.Buf = append(e.Buf, encVal<<6|encLZF)
			e.Len(uint64(len(c)))
			e.Len(uint64(len(s)))
			e.Buf = append(e.Buf, c...)
			return
		}
	}
	e.String(s)
}

// Int appends n as an int-encoded string (n must fit in 32 bits).
func (e *Encoder) Int(n int64) {
	switch {
	case n >= math.MinInt8 && n <= math.MaxInt8:
		e.Buf = append(e.Buf, encVal<<6|encInt8, byte(int8(n)))
	case n >= math.MinInt16 && n <= math.MaxInt16:
		e.Buf = append(e.Buf, encVal<<6|encInt16)
		e.Buf = binary.LittleEndian.AppendUint16(e.Buf, uint16(int16(n)))
	default:
		e.Buf = append(e.Buf, encVal<<6|encInt32)
		e.Buf = binary.LittleEndian.AppendUint32(e.Buf, uint32(int32(n)))
	}
}

// Double appends a binary double (ZSET_2 scores).
func (e *Encoder) Double(f float64) {
	e.Buf = binary.LittleEndian.AppendUint64(e.Buf, math.Float64bits(f))
}

// Millis appends an 8-byte little-endian Unix ms time.
func (e *Encoder) Millis(ms int64) {
	e.Buf = binary.LittleEndian.AppendUint64(e.Buf, uint64(ms))
}

// ErrCorrupt wraps every format error; errors carry the offset.
var ErrCorrupt = errors.New("corrupt RDB data")

// Decoder reads RDB encodings. It tracks the offset and the CRC64 of what
// it consumed.
type Decoder struct {
	// Shallow skips the checks Redis 7.0 makes only with deep integrity
	// validation (sanitize-dump-payload yes): a hash listpack with a
	// repeated field is then kept as it is
	Shallow bool
	r       *bufio.Reader
	off     int64
	crc     uint64
	tab     CRCTable
	tmp     [8]byte
}

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64*1024)
	}
	return &Decoder{r: br, tab: NewCRCTable()}
}

// Offset is the number of bytes consumed.
func (d *Decoder) Offset() int64 { return d.off }

// Reader returns the underlying buffered reader, positioned after what the
// decoder consumed (an AOF continues after its RDB preamble).
func (d *Decoder) Reader() *bufio.Reader { return d.r }

// Corrupt returns an error wrapping ErrCorrupt at the current offset, for
// codecs reporting malformed values.
func (d *Decoder) Corrupt(format string, args ...any) error { return d.errorf(format, args...) }

// ErrEmptyKey is returned by a codec for a value with no elements: Redis
// skips such keys when loading a file, and RESTORE rejects them.
var ErrEmptyKey = errors.New("empty key")

func (d *Decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrCorrupt, d.off, fmt.Sprintf(format, args...))
}

// Full reads exactly len(p) bytes.
func (d *Decoder) Full(p []byte) error {
	n, err := io.ReadFull(d.r, p)
	d.crc = d.tab.Update(d.crc, p[:n])
	d.off += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w at offset %d: unexpected end of file", ErrCorrupt, d.off)
		}
		return err
	}
	return nil
}

// Byte reads one byte.
func (d *Decoder) Byte() (byte, error) {
	if err := d.Full(d.tmp[:1]); err != nil {
		return 0, err
	}
	return d.tmp[0], nil
}

// lenOrEnc reads a length, or reports the special string encoding.
func (d *Decoder) lenOrEnc() (n uint64, enc int, err error) {
	b, err := d.Byte()
	if err != nil {
		return 0, -1, err
	}
	switch b >> 6 {
	case enc6:
		return uint64(b & 0x3f), -1, nil
	case enc14:
		c, err := d.Byte()
		return uint64(b&0x3f)<<8 | uint64(c), -1, err
	case encVal:
		return 0, int(b & 0x3f), nil
	}
	switch b {
	case enc32:
		err = d.Full(d.tmp[:4])
		return uint64(binary.BigEndian.Uint32(d.tmp[:4])), -1, err
	case enc64:
		err = d.Full(d.tmp[:8])
		return binary.BigEndian.Uint64(d.tmp[:8]), -1, err
	}
	return 0, -1, d.errorf("unknown length encoding %#x", b)
}

// Len reads a length. A string encoding's byte (0xC0 to 0xFF) where a
// length is expected is the length of its low six bits, as in Redis's
// rdbLoadLen (which does not ask whether the value was encoded).
func (d *Decoder) Len() (uint64, error) {
	n, enc, err := d.lenOrEnc()
	if err == nil && enc >= 0 {
		return uint64(enc), nil
	}
	return n, err
}

// maxAlloc bounds single allocations driven by untrusted lengths.
const maxAlloc = 1 << 32

// String reads a string in any of its encodings.
func (d *Decoder) String() ([]byte, error) {
	n, enc, err := d.lenOrEnc()
	if err != nil {
		return nil, err
	}
	switch enc {
	case -1:
		if n > maxAlloc {
			return nil, d.errorf("string length %d too large", n)
		}
		return d.readN(int(n))
	case encInt8:
		b, err := d.Byte()
		return strconv.AppendInt(nil, int64(int8(b)), 10), err
	case encInt16:
		err := d.Full(d.tmp[:2])
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(d.tmp[:2]))), 10), err
	case encInt32:
		err := d.Full(d.tmp[:4])
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(d.tmp[:4]))), 10), err
	case encLZF:
		clen, err := d.Len()
		if err != nil {
			return nil, err
		}
		ulen, err := d.Len()
		if err != nil {
			return nil, err
		}
		// LZF expands at most 264 bytes per 3-byte back reference
		if clen > maxAlloc || ulen > maxAlloc || ulen > 88*clen+64 {
			return nil, d.errorf("compressed string too large")
		}
		c, err := d.readN(int(clen))
		if err != nil {
			return nil, err
		}
		if ulen == 0 {
			// Redis's lzf_decompress answers 0 on any error, which is then
			// the expected length: the data is not looked at
			return []byte{}, nil
		}
		out, err := LZFDecompress(c, int(ulen))
		if err != nil {
			return nil, d.errorf("invalid LZF compressed string")
		}
		return out, nil
	}
	return nil, d.errorf("unknown string encoding %d", enc)
}

// readN reads n bytes. Past 1 MB the buffer grows with what actually
// arrives, so a corrupt length cannot allocate gigabytes up front.
func (d *Decoder) readN(n int) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		p := make([]byte, n)
		return p, d.Full(p)
	}
	p := make([]byte, 0, chunk)
	for len(p) < n {
		k := min(n-len(p), max(len(p), chunk))
		at := len(p)
		p = append(p, make([]byte, k)...)
		if err := d.Full(p[at:]); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Double reads a binary double.
func (d *Decoder) Double() (float64, error) {
	err := d.Full(d.tmp[:8])
	return math.Float64frombits(binary.LittleEndian.Uint64(d.tmp[:8])), err
}

// StringDouble reads the old text double of RDB_TYPE_ZSET.
func (d *Decoder) StringDouble() (float64, error) {
	n, err := d.Byte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	p := make([]byte, n)
	if err := d.Full(p); err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil {
		return 0, d.errorf("bad double %q", p)
	}
	return f, nil
}

// Millis reads an 8-byte little-endian integer.
func (d *Decoder) Millis() (int64, error) {
	err := d.Full(d.tmp[:8])
	return int64(binary.LittleEndian.Uint64(d.tmp[:8])), err
}
