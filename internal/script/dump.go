package script

// The FUNCTION DUMP payload, in Redis's format: for each library the
// RDB_OPCODE_FUNCTION2 byte and its code as an RDB string, then the RDB
// version (2 bytes, little endian) and the CRC64 (Jones polynomial, as
// Redis's crc64.c) of all that (8 bytes, little endian).
//
// This is a minimal local RDB codec (string encoding, LZF decompression,
// CRC64). TODO(dedup): once internal/persist/rdb is merged, use its
// Encoder/Decoder, CRC64 and LZF (with compression, which makes DUMP
// byte-identical to Redis's; strings are written uncompressed here, which
// Redis reads as well).

import (
	"encoding/binary"
	"hash/crc64"
	"strconv"
)

// RDB constants used by function payloads.
const (
	// RDBVersion is the RDB version Redis 7.0 writes.
	RDBVersion = 10
	// OpFunction2 is RDB_OPCODE_FUNCTION2: a library's code follows.
	OpFunction2 = 245
	// OpFunctionPreGA is RDB_OPCODE_FUNCTION (7.0 release candidates):
	// library name, engine, description and code as separate strings.
	OpFunctionPreGA = 246
)

// crcTable is CRC-64/Jones in its reflected form (Redis's crc64.c).
var crcTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 returns Redis's crc64(crc, p): CRC-64/Jones, reflected, with no
// initial or final inversion.
func CRC64(crc uint64, p []byte) uint64 {
	// Go's Update inverts on entry and exit; undo both.
	return ^crc64.Update(^crc, crcTable, p)
}

// appendRDBLen appends an RDB length.
func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, 0x81)
		return binary.BigEndian.AppendUint64(b, n)
	}
}

// DumpLibraries builds a FUNCTION DUMP payload from library codes.
func DumpLibraries(codes [][]byte) []byte {
	var b []byte
	for _, c := range codes {
		b = append(b, OpFunction2)
		b = appendRDBLen(b, uint64(len(c)))
		b = append(b, c...)
	}
	b = binary.LittleEndian.AppendUint16(b, RDBVersion)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

// ParseDump checks a FUNCTION DUMP payload's version and checksum and
// returns the library codes it holds, or Redis's error text without
// "ERR ".
func ParseDump(p []byte) ([][]byte, string) {
	if len(p) < 10 {
		return nil, ErrPayload
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > RDBVersion {
		return nil, ErrPayload
	}
	if CRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return nil, ErrPayload
	}
	// As Redis does, records are read while more than the footer is
	// left, and a record may run into the footer.
	var codes [][]byte
	for rest := p; len(rest) > 10; {
		t := rest[0]
		rest = rest[1:]
		var code []byte
		switch t {
		case OpFunction2:
			var ok bool
			if code, rest, ok = readRDBString(rest); !ok {
				return nil, "Failed loading library payload"
			}
		case OpFunctionPreGA:
			var msg string
			if code, rest, msg = readPreGA(rest); msg != "" {
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
func readPreGA(b []byte) (code, rest []byte, msg string) {
	name, b, ok := readRDBString(b)
	if !ok {
		return nil, nil, "Failed loading library name"
	}
	engine, b, ok := readRDBString(b)
	if !ok {
		return nil, nil, "Failed loading engine name"
	}
	hasDesc, _, b, ok := readRDBLen(b)
	if !ok {
		return nil, nil, "Failed loading library description indicator"
	}
	if hasDesc != 0 {
		if _, b, ok = readRDBString(b); !ok {
			return nil, nil, "Failed loading library description"
		}
	}
	body, b, ok := readRDBString(b)
	if !ok {
		return nil, nil, "Failed loading library payload"
	}
	code = append([]byte("#!"+string(engine)+" name="+string(name)+"\n"), body...)
	return code, b, ""
}

// readRDBLen reads an RDB length; enc is true for the special encodings
// (11xxxxxx), whose kind is then returned as n.
func readRDBLen(b []byte) (n uint64, enc bool, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, false, nil, false
	}
	switch b[0] >> 6 {
	case 0:
		return uint64(b[0] & 0x3f), false, b[1:], true
	case 1:
		if len(b) < 2 {
			return 0, false, nil, false
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), false, b[2:], true
	case 2:
		switch b[0] {
		case 0x80:
			if len(b) < 5 {
				return 0, false, nil, false
			}
			return uint64(binary.BigEndian.Uint32(b[1:])), false, b[5:], true
		case 0x81:
			if len(b) < 9 {
				return 0, false, nil, false
			}
			return binary.BigEndian.Uint64(b[1:]), false, b[9:], true
		}
		return 0, false, nil, false
	default:
		return uint64(b[0] & 0x3f), true, b[1:], true
	}
}

// readRDBString reads an RDB string: raw, integer-encoded or LZF.
func readRDBString(b []byte) ([]byte, []byte, bool) {
	n, enc, b, ok := readRDBLen(b)
	if !ok {
		return nil, nil, false
	}
	if !enc {
		if uint64(len(b)) < n {
			return nil, nil, false
		}
		return append([]byte(nil), b[:n]...), b[n:], true
	}
	var v int64
	switch n {
	case 0: // int8
		if len(b) < 1 {
			return nil, nil, false
		}
		v, b = int64(int8(b[0])), b[1:]
	case 1: // int16
		if len(b) < 2 {
			return nil, nil, false
		}
		v, b = int64(int16(binary.LittleEndian.Uint16(b))), b[2:]
	case 2: // int32
		if len(b) < 4 {
			return nil, nil, false
		}
		v, b = int64(int32(binary.LittleEndian.Uint32(b))), b[4:]
	case 3: // LZF
		clen, e1, b1, ok1 := readRDBLen(b)
		ulen, e2, b2, ok2 := readRDBLen(b1)
		if !ok1 || !ok2 || e1 || e2 || uint64(len(b2)) < clen || ulen > 1<<32 {
			return nil, nil, false
		}
		out, ok := lzfDecompress(b2[:clen], int(ulen))
		if !ok {
			return nil, nil, false
		}
		return out, b2[clen:], true
	default:
		return nil, nil, false
	}
	return strconv.AppendInt(nil, v, 10), b, true
}

// lzfDecompress is liblzf's lzf_decompress: the output must be exactly
// size bytes.
func lzfDecompress(in []byte, size int) ([]byte, bool) {
	out := make([]byte, 0, size)
	for ip := 0; ip < len(in); {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if ip+n > len(in) || len(out)+n > size {
				return nil, false
			}
			out = append(out, in[ip:ip+n]...)
			ip += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if ip >= len(in) {
				return nil, false
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return nil, false
		}
		ref := len(out) - (ctrl&0x1f)<<8 - 1 - int(in[ip])
		ip++
		n += 2
		if ref < 0 || len(out)+n > size {
			return nil, false
		}
		for i := 0; i < n; i++ {
			out = append(out, out[ref+i])
		}
	}
	if len(out) != size {
		return nil, false
	}
	return out, true
}
