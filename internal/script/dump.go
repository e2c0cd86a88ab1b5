package script

// The FUNCTION DUMP payload, in Redis's format: for each library the
// RDB_OPCODE_FUNCTION2 byte and its code as an RDB string, then the RDB
// version (2 bytes, little endian) and the CRC64 (Jones polynomial, as
// Redis's crc64.c) of all that (8 bytes, little endian). The RDB encoding
// is internal/persist/rdb's, so payloads are byte-identical to Redis's.

import (
	"bytes"
	"encoding/binary"

	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// RDB constants used by function payloads.
const (
	// OpFunction2 is RDB_OPCODE_FUNCTION2: a library's code follows.
	OpFunction2 = rdb.OpFunction2
	// OpFunctionPreGA is RDB_OPCODE_FUNCTION (7.0 release candidates):
	// library name, engine, description and code as separate strings.
	OpFunctionPreGA = rdb.OpFunctionPre
)

// DumpLibraries builds a FUNCTION DUMP payload from library codes.
func DumpLibraries(codes [][]byte) []byte {
	e := rdb.Encoder{Compress: true}
	for _, c := range codes {
		e.Byte(OpFunction2)
		e.String(c)
	}
	e.Buf = binary.LittleEndian.AppendUint16(e.Buf, rdb.Version)
	return binary.LittleEndian.AppendUint64(e.Buf, rdb.NewCRCTable().Update(0, e.Buf))
}

// ParseDump checks a FUNCTION DUMP payload's version and checksum and
// returns the library codes it holds, or Redis's error text without
// "ERR ".
func ParseDump(p []byte) ([][]byte, string) {
	if len(p) < 10 {
		return nil, ErrPayload
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > rdb.Version {
		return nil, ErrPayload
	}
	if rdb.NewCRCTable().Update(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return nil, ErrPayload
	}
	// As Redis does, records are read while more than the footer is
	// left, and a record may run into the footer.
	d := rdb.NewDecoder(bytes.NewReader(p))
	var codes [][]byte
	for int64(len(p))-d.Offset() > 10 {
		t, err := d.Byte()
		if err != nil {
			return nil, "Failed loading library payload"
		}
		var code []byte
		switch t {
		case OpFunction2:
			if code, err = d.String(); err != nil {
				return nil, "Failed loading library payload"
			}
		case OpFunctionPreGA:
			var msg string
			if code, msg = readPreGA(d); msg != "" {
				return nil, msg
			}
		default:
			return nil, "given type is not a function"
		}
		codes = append(codes, code)
	}
	return codes, ""
}

// readPreGA reads a library record of Redis 7.0's release candidates
// (RDB_OPCODE_FUNCTION): name, engine, optional description, code. The
// metadata line is rebuilt from the name and engine.
func readPreGA(d *rdb.Decoder) (code []byte, msg string) {
	name, err := d.String()
	if err != nil {
		return nil, "Failed loading library name"
	}
	engine, err := d.String()
	if err != nil {
		return nil, "Failed loading engine name"
	}
	hasDesc, err := d.Len()
	if err != nil {
		return nil, "Failed loading library description indicator"
	}
	if hasDesc != 0 {
		if _, err = d.String(); err != nil {
			return nil, "Failed loading library description"
		}
	}
	body, err := d.String()
	if err != nil {
		return nil, "Failed loading library payload"
	}
	return append([]byte("#!"+string(engine)+" name="+string(name)+"\n"), body...), ""
}
