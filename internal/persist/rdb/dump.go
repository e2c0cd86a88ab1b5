package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Dump returns the DUMP payload of v: its RDB type and encoding, the RDB
// version (2 bytes, little endian) and the CRC64 of all that (8 bytes,
// little endian).
func (c *Codecs) Dump(v any, compress bool) ([]byte, error) {
	e := Encoder{Compress: compress}
	if err := c.SaveValue(&e, v); err != nil {
		return nil, err
	}
	e.Buf = binary.LittleEndian.AppendUint16(e.Buf, Version)
	crc := NewCRCTable().Update(0, e.Buf)
	e.Buf = binary.LittleEndian.AppendUint64(e.Buf, crc)
	return e.Buf, nil
}

// Payload errors, mapped by RESTORE to Redis's replies.
var (
	ErrPayloadVersion = errors.New("DUMP payload version or checksum are wrong")
	ErrBadData        = errors.New("Bad data format")
)

// Restore decodes a DUMP payload, with deep integrity validation
// (RestoreShallow: without).
func (c *Codecs) Restore(p []byte) (any, error) { return c.restore(p, false) }

// RestoreShallow is Restore without Redis's deep integrity validation
// (sanitize-dump-payload no): payloads Redis then keeps as they are (a
// hash listpack with a repeated field) are kept.
func (c *Codecs) RestoreShallow(p []byte) (any, error) { return c.restore(p, true) }

func (c *Codecs) restore(p []byte, shallow bool) (any, error) {
	if len(p) < 10 {
		return nil, ErrPayloadVersion
	}
	footer := p[len(p)-10:]
	if ver := binary.LittleEndian.Uint16(footer); ver > Version {
		return nil, ErrPayloadVersion
	}
	if !SkipChecksum.Load() && NewCRCTable().Update(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return nil, ErrPayloadVersion
	}
	// Like Redis's restoreCommand, read the value from the whole payload,
	// footer included, and ignore whatever follows it: a string whose
	// length runs into the footer takes the footer's bytes, and bytes
	// between the value and the footer are not an error.
	d := NewDecoder(bytes.NewReader(p))
	d.Shallow = shallow
	t, err := d.Byte()
	if err != nil || !IsValueType(t) {
		return nil, ErrBadData
	}
	v, err := c.LoadValue(d, t)
	if err != nil {
		return nil, ErrBadData
	}
	return v, nil
}
