package resp

import (
	"math"
	"strconv"
)

// Writer appends RESP replies to a buffer. Proto selects RESP2 or RESP3
// encodings for the types that differ.
type Writer struct {
	Buf   []byte
	Proto int
	// Marks are the chunks of more than BigChunk bytes appended to Buf
	// (a large bulk string's body, pre-encoded RESP), in order: Redis
	// gives such a chunk a reply block of its own size, which its CLIENT
	// LIST omem and output limits count whole until its last byte is
	// written (the server's model of Redis's output buffer).
	Marks []Mark
	// Guard, when set, tells whether the replies so far pass the
	// client's output buffer limit (the client is then to be closed). A
	// loop whose reply grows with a count asks it through Due and Check
	// (command.ReplyGuard), as Redis's loops test CLIENT_CLOSE_ASAP; no
	// other write does.
	Guard func() bool
	// Limit, when set, is the smallest output buffer limit that can close
	// the client (0: none), for a loop that would rather refuse at once a
	// reply that must pass its own bound (command.ReplyGuard.Refuse).
	Limit func() int64
	// guardAt is the length of Buf at which Due next reports true
	guardAt int
}

// GuardStep is the least growth of the buffer between two Guard checks:
// Redis checks its limit as its reply list grows, and a 16 KiB reply
// block is its unit.
const GuardStep = 16 * 1024

// Arm sets the next check point GuardStep bytes past the current length
// and returns that length (where a reply about to be written begins).
func (w *Writer) Arm() int {
	w.guardAt = len(w.Buf) + GuardStep
	return len(w.Buf)
}

// Due reports whether the buffer has passed its check point since Arm or
// the last Check: cheap enough to ask per element.
func (w *Writer) Due() bool { return len(w.Buf) >= w.guardAt }

// Check moves the check point on (a step of GuardStep or a sixteenth of
// the buffer, whichever is more: the checks of a reply of n bytes are
// O(log n)) and reports whether Guard finds the limit passed.
func (w *Writer) Check() bool {
	w.guardAt = len(w.Buf) + max(GuardStep, len(w.Buf)/16)
	return w.Guard != nil && w.Guard()
}

// Mark is a chunk of Buf: Len bytes from Off.
type Mark struct{ Off, Len int }

// BigChunk is the size past which a chunk is marked: Redis's reply block
// size (PROTO_REPLY_CHUNK_BYTES).
const BigChunk = 16 * 1024

// mark records a chunk of n bytes about to be appended to Buf.
func (w *Writer) mark(n int) { w.Marks = append(w.Marks, Mark{len(w.Buf), n}) }

// Truncate cuts Buf to n bytes, with the marks past it.
func (w *Writer) Truncate(n int) {
	w.Buf = w.Buf[:n]
	for len(w.Marks) > 0 && w.Marks[len(w.Marks)-1].Off+w.Marks[len(w.Marks)-1].Len > n {
		w.Marks = w.Marks[:len(w.Marks)-1]
	}
}

// NewWriter returns a RESP2 writer. Its buffer grows with the first
// reply: an idle connection holds none.
func NewWriter() *Writer { return &Writer{Proto: 2} }

// Reset empties the buffer, keeping its capacity.
func (w *Writer) Reset() { w.Buf, w.Marks = w.Buf[:0], w.Marks[:0] }

// Release drops an empty buffer and reports whether it did (the next
// reply allocates one): for an idle connection.
func (w *Writer) Release() bool {
	if len(w.Buf) != 0 || w.Buf == nil {
		return false
	}
	w.Buf, w.Marks = nil, nil
	return true
}

// Len is the number of buffered bytes.
func (w *Writer) Len() int { return len(w.Buf) }

// Simple writes +s.
func (w *Writer) Simple(s string) {
	w.Buf = append(w.Buf, '+')
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// OK writes +OK.
func (w *Writer) OK() { w.Buf = append(w.Buf, "+OK\r\n"...) }

// Error writes -msg. msg must carry its prefix (ERR, WRONGTYPE, ...).
// Newlines are replaced by spaces, as Redis does.
func (w *Writer) Error(msg string) {
	w.Buf = append(w.Buf, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.Buf = append(w.Buf, c)
	}
	w.Buf = append(w.Buf, '\r', '\n')
}

// Int writes :n.
func (w *Writer) Int(n int64) { w.Buf = appendLine(w.Buf, ':', n) }

// appendLine appends c, the decimal n and CRLF to buf: an integer reply
// or a length header in one append (three appends and strconv's general
// formatting cost an LPUSH reply ~180 instructions).
func appendLine(buf []byte, c byte, n int64) []byte {
	if n >= 0 && n < 10 {
		return append(buf, c, byte('0'+n), '\r', '\n')
	}
	var tmp [24]byte // c, '-', 19 digits, CRLF
	i := len(tmp) - 2
	tmp[i], tmp[i+1] = '\r', '\n'
	u := uint64(n)
	if n < 0 {
		u = -u
	}
	for u >= 10 {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	tmp[i] = byte('0' + u)
	if n < 0 {
		i--
		tmp[i] = '-'
	}
	i--
	tmp[i] = c
	return append(buf, tmp[i:]...)
}

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.Buf = appendLine(w.Buf, '$', int64(len(b)))
	if len(b) > BigChunk {
		w.mark(len(b))
	}
	w.Buf = append(w.Buf, b...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// BulkString writes a bulk string from a Go string.
func (w *Writer) BulkString(s string) {
	w.Buf = append(w.Buf, '$')
	w.Buf = strconv.AppendInt(w.Buf, int64(len(s)), 10)
	w.Buf = append(w.Buf, '\r', '\n')
	if len(s) > BigChunk {
		w.mark(len(s))
	}
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, '\r', '\n')
}

// BulkInt writes n as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string: $-1 in RESP2, _ in RESP3.
func (w *Writer) Null() {
	if w.Proto >= 3 {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "$-1\r\n"...)
	}
}

// NullArray writes the null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.Proto >= 3 {
		w.Buf = append(w.Buf, "_\r\n"...)
	} else {
		w.Buf = append(w.Buf, "*-1\r\n"...)
	}
}

func (w *Writer) header(c byte, n int) { w.Buf = appendLine(w.Buf, c, int64(n)) }

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map writes a map header of n pairs (RESP2: an array of 2n elements).
func (w *Writer) Map(n int) {
	if w.Proto >= 3 {
		w.header('%', n)
	} else {
		w.header('*', 2*n)
	}
}

// Set writes a set header (RESP2: an array).
func (w *Writer) Set(n int) {
	if w.Proto >= 3 {
		w.header('~', n)
	} else {
		w.header('*', n)
	}
}

// Push writes a push header (RESP2: an array).
func (w *Writer) Push(n int) {
	if w.Proto >= 3 {
		w.header('>', n)
	} else {
		w.header('*', n)
	}
}

// Attribute writes an attribute header (RESP3 only).
func (w *Writer) Attribute(n int) { w.header('|', n) }

// Bool writes a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func (w *Writer) Bool(b bool) {
	if w.Proto >= 3 {
		if b {
			w.Buf = append(w.Buf, "#t\r\n"...)
		} else {
			w.Buf = append(w.Buf, "#f\r\n"...)
		}
		return
	}
	if b {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// FormatDouble formats f as Redis does for doubles in replies (%.17g with
// inf/-inf/nan spelled Redis's way).
func FormatDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		if math.Signbit(f) { // glibc's %g prints the sign of a NaN
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// Double writes a double: ,f in RESP3, a bulk string in RESP2.
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := FormatDouble(tmp[:0], f)
	if w.Proto >= 3 {
		w.Buf = append(w.Buf, ',')
		w.Buf = append(w.Buf, s...)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// BigNumber writes (n in RESP3, a bulk string in RESP2.
func (w *Writer) BigNumber(n string) {
	if w.Proto >= 3 {
		w.Buf = append(w.Buf, '(')
		w.Buf = append(w.Buf, n...)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	w.BulkString(n)
}

// Verbatim writes a verbatim string (RESP3) with the 3-letter format, or a
// bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if w.Proto >= 3 {
		w.header('=', len(s)+4)
		w.Buf = append(w.Buf, format...)
		w.Buf = append(w.Buf, ':')
		if len(s) > BigChunk {
			w.mark(len(s))
		}
		w.Buf = append(w.Buf, s...)
		w.Buf = append(w.Buf, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// VerbatimEnd makes the bytes appended to Buf since start a verbatim
// string of the given 3-byte format (a bulk string in RESP2): a long reply
// built in place piece by piece (CLIENT LIST), so that its Guard sees it
// grow and no second copy of it is made. The header goes in before the
// body (one move of it).
func (w *Writer) VerbatimEnd(start int, format string) {
	n := len(w.Buf) - start
	var head [32]byte
	h := head[:0]
	if w.Proto >= 3 {
		h = append(h, '=')
		h = strconv.AppendInt(h, int64(n+4), 10)
		h = append(h, '\r', '\n')
		h = append(h, format...)
		h = append(h, ':')
	} else {
		h = append(h, '$')
		h = strconv.AppendInt(h, int64(n), 10)
		h = append(h, '\r', '\n')
	}
	w.Buf = append(w.Buf, h...)
	copy(w.Buf[start+len(h):], w.Buf[start:start+n])
	copy(w.Buf[start:], h)
	if n > BigChunk {
		w.Marks = append(w.Marks, Mark{start + len(h), n})
	}
	w.Buf = append(w.Buf, '\r', '\n')
}

// Raw appends pre-encoded RESP.
func (w *Writer) Raw(b []byte) {
	if len(b) > BigChunk {
		w.mark(len(b))
	}
	w.Buf = append(w.Buf, b...)
}

// ReplyWriter receives a command's reply. *Writer encodes it as RESP; the
// scripting layer builds Lua values from it directly.
type ReplyWriter interface {
	Simple(s string)
	OK()
	Error(msg string)
	Int(n int64)
	Bulk(b []byte)
	BulkString(s string)
	BulkInt(n int64)
	Null()
	NullArray()
	Array(n int)
	Map(n int)
	Set(n int)
	Push(n int)
	Bool(b bool)
	Double(f float64)
	BigNumber(n string)
	Verbatim(format, s string)
	ProtoVersion() int
}

// ProtoVersion returns 2 or 3.
func (w *Writer) ProtoVersion() int { return w.Proto }

// SetProto switches the encoding (HELLO changes it mid-batch).
func (w *Writer) SetProto(p int) { w.Proto = p }
