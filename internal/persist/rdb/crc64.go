package rdb

import "hash/crc64"

// Redis checksums RDB files and DUMP payloads with CRC-64/Jones: reflected,
// polynomial 0xad93d23594c935a9, initial value 0 and no final xor. Go's
// hash/crc64 runs the same reflected algorithm but complements the value on
// the way in and out, so CRC64 undoes those complements.

// jonesReflected is the Jones polynomial with its bits reversed, the form
// hash/crc64 expects.
const jonesReflected = 0x95ac9329ac4bc9b5

// CRCTable is the table for Redis's CRC64.
type CRCTable struct{ t *crc64.Table }

// NewCRCTable builds the CRC64 table.
func NewCRCTable() CRCTable { return CRCTable{crc64.MakeTable(jonesReflected)} }

// Update returns Redis's crc64(crc, p).
func (t CRCTable) Update(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, t.t, p)
}
