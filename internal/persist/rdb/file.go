package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
)

// Writer writes an RDB file, keeping its checksum.
type Writer struct {
	w   io.Writer
	crc uint64
	tab CRCTable
	n   int64
	// Checksum, when false, writes a zero checksum (rdbchecksum no).
	Checksum bool
}

// NewWriter writes the header ("REDIS0010") to w.
func NewWriter(w io.Writer) (*Writer, error) {
	fw := &Writer{w: w, tab: NewCRCTable(), Checksum: true}
	return fw, fw.Write([]byte(fmt.Sprintf("REDIS%04d", Version)))
}

// Write writes p as is.
func (w *Writer) Write(p []byte) error {
	if w.Checksum {
		w.crc = w.tab.Update(w.crc, p)
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	return err
}

// Size is the number of bytes written.
func (w *Writer) Size() int64 { return w.n }

// Aux writes an auxiliary field.
func (w *Writer) Aux(key, val string) error {
	e := Encoder{}
	e.Byte(OpAux)
	e.String([]byte(key))
	e.String([]byte(val))
	return w.Write(e.Buf)
}

// AuxFields writes the fields Redis 7.0 writes (aofBase marks an AOF base).
func (w *Writer) AuxFields(version string, ctime, usedMem int64, aofBase bool) error {
	base := "0"
	if aofBase {
		base = "1"
	}
	for _, kv := range [][2]string{
		{"redis-ver", version}, {"redis-bits", "64"},
		{"ctime", strconv.FormatInt(ctime, 10)}, {"used-mem", strconv.FormatInt(usedMem, 10)},
		{"aof-base", base},
	} {
		if err := w.Aux(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// SelectDB appends SELECTDB and, when size > 0, RESIZEDB.
func SelectDB(e *Encoder, db int, size, expires uint64) {
	e.Byte(OpSelectDB)
	e.Len(uint64(db))
	if size > 0 {
		e.Byte(OpResizeDB)
		e.Len(size)
		e.Len(expires)
	}
}

// KeyValue appends one key's record: its expiry, type, key and value.
func (c *Codecs) KeyValue(e *Encoder, key []byte, v any, exp int64) error {
	return c.KeyValueAccess(e, key, v, exp, -1, -1)
}

// KeyValueAccess is KeyValue with the key's access information, as Redis
// writes it under an LRU policy (idle >= 0: an IDLE record, seconds) or an
// LFU policy (freq >= 0: a FREQ record, the decayed counter), between the
// expiry and the type.
func (c *Codecs) KeyValueAccess(e *Encoder, key []byte, v any, exp, idle int64, freq int) error {
	at := len(e.Buf)
	if exp != 0 {
		e.Byte(OpExpireTimeMS)
		e.Millis(exp)
	}
	if idle >= 0 {
		e.Byte(OpIdle)
		e.Len(uint64(idle))
	}
	if freq >= 0 {
		e.Byte(OpFreq)
		e.Byte(byte(freq))
	}
	cd, err := c.For(v)
	if err != nil {
		e.Buf = e.Buf[:at]
		return err
	}
	t := len(e.Buf)
	e.Byte(0)
	e.String(key)
	tb, err := cd.Save(e, v)
	if err != nil {
		e.Buf = e.Buf[:at]
		return err
	}
	e.Buf[t] = tb
	return nil
}

// Close writes EOF and the checksum.
func (w *Writer) Close() error {
	if err := w.Write([]byte{OpEOF}); err != nil {
		return err
	}
	var sum [8]byte
	if w.Checksum {
		binary.LittleEndian.PutUint64(sum[:], w.crc)
	}
	n, err := w.w.Write(sum[:])
	w.n += int64(n)
	return err
}

// LoadHandler receives what Load reads.
type LoadHandler struct {
	Codecs *Codecs
	// Key receives each key; exp is the absolute expiry in Unix ms (0:
	// none). It is called for expired keys too: the caller decides.
	Key func(db int, key []byte, val any, exp int64) error
	// Access, when set, receives the IDLE (seconds) and FREQ records
	// that came before a key, after Key; -1 for a record absent.
	Access func(db int, key []byte, idle, freq int64)
	// Aux receives auxiliary fields (optional).
	Aux func(key, val []byte)
	// Function receives a function library's code (optional: skipped).
	Function func(code []byte) error
}

// ErrChecksum is returned when the file's CRC64 does not match.
var ErrChecksum = errors.New("wrong RDB checksum")

// SkipChecksum is Redis's skip_checksum_validation (DEBUG
// SET-SKIP-CHECKSUM-VALIDATION): while set, RDB files and DUMP payloads
// load whatever their CRC64.
var SkipChecksum atomic.Bool

// Load reads an RDB stream from its "REDIS" header to its checksum.
func Load(d *Decoder, h *LoadHandler) error {
	var hdr [9]byte
	if err := d.Full(hdr[:]); err != nil {
		return err
	}
	if !bytes.HasPrefix(hdr[:], []byte("REDIS")) {
		return d.errorf("wrong signature trying to load DB from file")
	}
	ver, err := strconv.Atoi(string(hdr[5:]))
	if err != nil || ver < 1 || ver > Version {
		return d.errorf("can't handle RDB format version %s", hdr[5:])
	}
	db := 0
	var exp int64
	idle, freq := int64(-1), int64(-1)
	for {
		t, err := d.Byte()
		if err != nil {
			return err
		}
		switch t {
		case OpEOF:
			if ver < 5 {
				return nil
			}
			want := d.crc
			var sum [8]byte
			if err := d.Full(sum[:]); err != nil {
				return err
			}
			if got := binary.LittleEndian.Uint64(sum[:]); got != 0 && got != want && !SkipChecksum.Load() {
				return fmt.Errorf("%w (file %#x, computed %#x)", ErrChecksum, got, want)
			}
			return nil
		case OpSelectDB:
			n, err := d.Len()
			if err != nil {
				return err
			}
			db = int(n)
		case OpResizeDB:
			if _, err := d.Len(); err != nil {
				return err
			}
			if _, err := d.Len(); err != nil {
				return err
			}
		case OpExpireTimeMS:
			if exp, err = d.Millis(); err != nil {
				return err
			}
		case OpExpireTime:
			var b [4]byte
			if err := d.Full(b[:]); err != nil {
				return err
			}
			exp = int64(binary.LittleEndian.Uint32(b[:])) * 1000
		case OpFreq:
			b, err := d.Byte()
			if err != nil {
				return err
			}
			freq = int64(b)
		case OpIdle:
			n, err := d.Len()
			if err != nil {
				return err
			}
			idle = int64(n)
		case OpAux:
			k, err := d.String()
			if err != nil {
				return err
			}
			v, err := d.String()
			if err != nil {
				return err
			}
			if h.Aux != nil {
				h.Aux(k, v)
			}
		case OpFunction2:
			code, err := d.String()
			if err != nil {
				return err
			}
			if h.Function != nil {
				if err := h.Function(code); err != nil {
					return err
				}
			}
		case OpFunctionPre, OpModuleAux:
			return d.errorf("unsupported opcode %d (modules / pre-GA functions)", t)
		default:
			if !IsValueType(t) {
				return d.errorf("unknown RDB opcode or type %d", t)
			}
			key, err := d.String()
			if err != nil {
				return err
			}
			v, err := h.Codecs.LoadValue(d, t)
			if errors.Is(err, ErrEmptyKey) {
				exp, idle, freq = 0, -1, -1 // Redis skips empty keys
				continue
			}
			if err != nil {
				return fmt.Errorf("key %q: %w", key, err)
			}
			if err := h.Key(db, key, v, exp); err != nil {
				return err
			}
			if h.Access != nil && (idle >= 0 || freq >= 0) {
				h.Access(db, key, idle, freq)
			}
			exp, idle, freq = 0, -1, -1
		}
	}
}
