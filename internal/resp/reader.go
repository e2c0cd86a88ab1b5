// Package resp implements the Redis serialization protocol: a reader that
// yields command arguments as slices of its own buffer, and an append-only
// writer that is flushed once per pipelined batch.
package resp

import (
	"errors"
	"fmt"
	"io"
)

// ProtocolError is a malformed-input error. Its text is what Redis sends
// after "-ERR " before closing the connection.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

// ErrBufferLimit is returned when the input held for the command being
// read passes client-query-buffer-limit as Redis counts it (Reader.held: an
// argument over the limit), or the command passes the reader's own bound
// of its whole size (fill).
var ErrBufferLimit = errors.New("query buffer limit exceeded")

// Limits bound what a client can make the reader hold.
type Limits struct {
	MaxBulkLen  int64 // proto-max-bulk-len
	MaxQueryBuf int   // client-query-buffer-limit
}

const (
	maxMultibulk  = 1<<31 - 1 // Redis 7.0 accepts up to INT_MAX; args grow as they arrive
	maxInline     = 64 * 1024
	initialBuffer = 16 * 1024
	// allocation for a declared bulk is capped at this much up front; the
	// buffer then grows only as bytes really arrive.
	maxPrealloc = 1 << 20
	// maxCommand bounds the bytes of one command (see fill).
	maxCommand = 1 << 30
)

// BigArg is Redis's PROTO_MBULK_BIG_ARG: Redis reads a bulk argument of
// this many bytes or more that has not fully arrived into a query buffer
// allocated at the argument's size (Reader.TakeBig, Reader.Room).
const BigArg = 32 * 1024

// Reader parses client commands. Arguments returned by ReadCommand alias the
// reader's buffer and are valid until the next call to ReadCommand or Fill.
type Reader struct {
	rd     io.Reader
	buf    []byte
	r, w   int // unread data is buf[r:w]
	args   [][]byte
	Limits Limits
	// pendingBulk is how many more bytes the command being parsed needs.
	pendingBulk int
	// argStart is where the incomplete argument begins, from r: Redis's
	// query buffer holds that argument and what follows (the arguments
	// before it are parsed), and client-query-buffer-limit applies to it.
	argStart int
	// Unauthenticated, set by the server before each command while the
	// client must still AUTH, caps multibulk counts at 10 and bulk
	// lengths at 16384, as Redis does.
	Unauthenticated bool
	// AuthRequired, when set, is asked when a cap would apply to an
	// Unauthenticated client: false lifts it (Redis's authRequired: the
	// default user may have become nopass since the server last set
	// Unauthenticated, before a blocking read).
	AuthRequired func() bool
	// BeforeRead, when set, runs before the reader blocks on the
	// underlying reader (the server flushes pending replies there).
	BeforeRead func() error
	// didRead is set by every read from rd (see TookRead).
	didRead bool
	// fresh is set by every read that brought data (see Fresh).
	fresh bool
	// parsed holds the multibulk commands Ahead parsed, which ReadCommand
	// then returns without parsing them again (see Ahead).
	parsed parsedAhead
	// big is the length of the last argument of BigArg bytes or more the
	// reader had to wait for (TakeBig); want, while it waits for such an
	// argument, is how many bytes from r the buffer holds once it is
	// complete (Room), bigFrom where its data starts and bigArgv the
	// length of the arguments before it (Partial). All are set on the
	// incomplete path only.
	big, want, bigFrom, bigArgv int
	// readFrom is r when the last read from rd began (Held).
	readFrom int
}

// TakeBig returns the length of the last argument of BigArg bytes or more
// that did not arrive in one piece, once: Redis then keeps a query buffer
// of that size for the commands after it.
func (r *Reader) TakeBig() int {
	b := r.big
	if b != 0 {
		r.big = 0
	}
	return b
}

// Room reports, while the reader waits for the rest of an argument of
// BigArg bytes or more, how many of its bytes have still to come (Redis
// allocates its query buffer for the whole argument once it sees the
// length); otherwise 0.
func (r *Reader) Room() int {
	if r.pendingBulk == 0 || r.want == 0 {
		return 0
	}
	return max(0, r.want-(r.w-r.r))
}

// Partial reports, while the reader waits for the rest of an argument of
// BigArg bytes or more, how many buffered bytes come before its data (the
// command's header and the arguments before it) and the length of those
// arguments: Redis moves them out of its query buffer into the command's
// argv (CLIENT LIST's argv-mem) and keeps only the big argument's data
// there. Only meaningful while Room is more than 0.
func (r *Reader) Partial() (skip, argv int) { return r.bigFrom, r.bigArgv }

// Held reports the bytes read since the last read from rd began, with
// what was left unparsed then: Redis's query buffer while it runs the
// commands of one read (CLIENT LIST's qbuf for the client itself).
func (r *Reader) Held() int { return r.w - r.readFrom }

// parsedAhead is what Ahead parsed: cmds[next:] are commands at increasing
// positions of the buffer, their arguments in args[cur]. It is valid until
// the buffer changes (fill clears it) and only under the limits it was
// parsed with. Ahead parses into the args array that the command
// ReadCommand returned last does not use (last), so a command's arguments
// stay valid until the next ReadCommand, as a parsed one's do.
type parsedAhead struct {
	cmds   []aheadCmd
	next   int
	args   [2][][]byte
	cur    int // args[cur] holds cmds' arguments
	last   int // the args array of the command ReadCommand returned last, -1: none
	limits Limits
	unauth bool
}

// aheadCmd is one command Ahead parsed: it starts at buf[pos] and takes
// n bytes; its arguments are args[cur][lo:hi].
type aheadCmd struct {
	pos, n, lo, hi int
}

// maxParsedAhead bounds the commands one Ahead keeps parsed.
const maxParsedAhead = 32

// fromAhead returns the command at r.r if Ahead parsed it under the
// current limits, as parse would.
func (r *Reader) fromAhead() ([][]byte, int, bool) {
	p := &r.parsed
	for p.next < len(p.cmds) && p.cmds[p.next].pos < r.r {
		p.next++ // passed by (an inline command parsed in between)
	}
	if p.next == len(p.cmds) || p.cmds[p.next].pos != r.r || p.limits != r.Limits || p.unauth != r.Unauthenticated {
		return nil, 0, false
	}
	c := &p.cmds[p.next]
	p.next++
	r.pendingBulk, r.argStart = 0, 0
	p.last = p.cur
	return p.args[p.cur][c.lo:c.hi:c.hi], c.n, true
}

// TookRead reports whether the reader read from the underlying reader
// (or tried to) since the last call: the server then knows that time may
// have passed between two commands (command.Client.ClockMark).
func (r *Reader) TookRead() bool {
	d := r.didRead
	r.didRead = false
	return d
}

// Fresh reports whether the reader received data since the last call.
func (r *Reader) Fresh() bool {
	f := r.fresh
	r.fresh = false
	return f
}

// Ahead calls fn with the arguments of each complete command buffered
// after the one ReadCommand returned last, in order, until fn returns
// false, without consuming them: ReadCommand returns them later as
// usual. It stops at an incomplete command or one that does not parse
// (ReadCommand then reports the error), and at a multibulk of more than
// maxArgs arguments, which it does not parse (a huge MSET costs no second
// parse, and the scratch stays small). The arguments alias the buffer
// and a scratch slice: fn must neither change nor keep them. The
// multibulk commands it parses are kept parsed: ReadCommand returns them
// without a second parse while the buffer and the limits are unchanged.
func (r *Reader) Ahead(maxArgs int, fn func(args [][]byte) bool) {
	pos, pend, argStart, saved := r.r, r.pendingBulk, r.argStart, r.args
	big, want := r.big, r.want
	p := &r.parsed
	p.cur = 0
	if p.last == 0 {
		p.cur = 1 // the last command's arguments stay valid
	}
	args := p.args[p.cur][:0]
	if args == nil {
		args = make([][]byte, 0, 64)
	}
	p.cmds, p.next = p.cmds[:0], 0
	p.limits, p.unauth = r.Limits, r.Unauthenticated
	for r.r < r.w {
		multi := r.buf[r.r] == '*'
		if multi {
			if count, _, ok := header(r.buf[r.r:r.w], 0); !ok || count > int64(maxArgs) {
				break
			}
		}
		lo := len(args)
		r.args = args[lo:] // parse appends here: no copy when it fits
		a, n, err := r.parse()
		if err != nil || n == 0 {
			break
		}
		if multi && len(p.cmds) < maxParsedAhead {
			if len(a) > 0 && (lo+len(a) > cap(args) || &args[:lo+1][lo] != &a[0]) {
				args = append(args, a...) // parse grew its own array
			} else {
				args = args[:lo+len(a)]
			}
			p.cmds = append(p.cmds, aheadCmd{pos: r.r, n: n, lo: lo, hi: len(args)})
		}
		r.r += n
		if len(a) > 0 && !fn(a) {
			break
		}
	}
	p.args[p.cur] = args
	r.r, r.pendingBulk, r.argStart, r.args = pos, pend, argStart, saved
	r.big, r.want = big, want
}

// NewReader returns a reader over rd.
func NewReader(rd io.Reader, lim Limits) *Reader {
	if lim.MaxBulkLen <= 0 {
		lim.MaxBulkLen = 512 << 20
	}
	if lim.MaxQueryBuf <= 0 {
		lim.MaxQueryBuf = 1 << 30
	}
	return &Reader{rd: rd, Limits: lim} // the buffer comes with the first read
}

// shrinkAbove: a buffer larger than this (grown for a big argument or a
// large pipelined batch) is dropped once everything in it was consumed,
// when the next read begins: a client that sent one 64 MB SET does not
// keep 64 MB for the rest of its life (Redis's query buffer goes to the
// argument and a fresh one is started). A steady pipeline of larger
// batches regrows it, one allocation per such batch.
const shrinkAbove = 64 * 1024

// Cap is the size of the read buffer (0 while it is released).
func (r *Reader) Cap() int { return len(r.buf) }

// Release drops the read buffer when it holds nothing (no unparsed input,
// no command in progress) and reports whether it did; the next read
// allocates a new one. The server calls it for clients idle for a while,
// as Redis's cron frees an idle client's query buffer. Arguments returned
// before stay valid (they keep the old buffer alive while referenced).
func (r *Reader) Release() bool {
	if r.buf == nil || r.r != r.w || r.pendingBulk != 0 {
		return false
	}
	// the last commands' arguments alias the buffer: they would keep it
	p := &r.parsed
	clear(p.args[0])
	clear(p.args[1])
	p.cmds = p.cmds[:0]
	clear(r.args[:cap(r.args)])
	r.buf, r.r, r.w, r.readFrom, r.argStart = nil, 0, 0, 0, 0
	return true
}

// Buffered reports how many unparsed bytes are already in the buffer.
func (r *Reader) Buffered() int { return r.w - r.r }

// fill reads more data from the underlying reader, compacting or growing the
// buffer as needed so that at least need bytes of unread data fit.
func (r *Reader) fill(need int) error {
	if p := &r.parsed; len(p.cmds) > 0 { // positions may move
		clear(p.args[p.cur]) // and an old buffer is not kept
		p.cmds = p.cmds[:0]
	}
	if r.r == r.w && len(r.buf) > shrinkAbove {
		r.buf, r.r, r.w = nil, 0, 0 // all consumed: start small again
	}
	if r.r > 0 && (r.r == r.w || len(r.buf)-r.w < need) {
		// compact; arguments from the previous command are no longer live
		n := copy(r.buf, r.buf[r.r:r.w])
		r.r, r.w = 0, n
	}
	if len(r.buf)-r.w < need || r.w == len(r.buf) {
		// A command's parsed arguments stay in the buffer (they alias
		// it), so the buffer holds the whole command, which Redis does not
		// count against client-query-buffer-limit: bound it by the limit
		// or 1GB (the default limit), whichever is larger.
		if r.w+need > max(r.Limits.MaxQueryBuf, maxCommand)+maxInline {
			return ErrBufferLimit
		}
		size := max(2*len(r.buf), initialBuffer)
		if need >= BigArg {
			// the rest of a big argument: exactly what the command
			// needs, as Redis sizes its query buffer for a big bulk (a
			// 64 MB value held 128 MB while it was read)
			size = max(size, r.w+need)
		}
		for size < r.w+need {
			size *= 2
		}
		nb := make([]byte, size)
		copy(nb, r.buf[r.r:r.w])
		r.w -= r.r
		r.r = 0
		r.buf = nb
	}
	r.didRead = true
	r.readFrom = r.r
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	if n > 0 {
		r.fresh = true
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// ReadCommand returns the next command's arguments, reading from the
// underlying reader as needed. An empty inline line yields a nil slice and no
// error (Redis ignores it). On a *ProtocolError the connection must be closed.
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		if r.r < r.w {
			if len(r.parsed.cmds) > 0 {
				if args, n, ok := r.fromAhead(); ok {
					r.r += n
					return args, nil
				}
			}
			args, n, err := r.parse()
			if err != nil {
				return nil, err
			}
			if n > 0 {
				r.r += n
				return args, nil
			}
			if r.held() > r.Limits.MaxQueryBuf {
				return nil, ErrBufferLimit
			}
		}
		need := 1
		if r.pendingBulk > 0 {
			need = r.pendingBulk
		}
		if r.BeforeRead != nil {
			if err := r.BeforeRead(); err != nil {
				return nil, err
			}
		}
		if err := r.fill(need); err != nil {
			return nil, err
		}
	}
}

// held is what Redis's query buffer holds while the command being parsed
// is incomplete, which client-query-buffer-limit applies to: Redis moves
// each complete argument out of it (into the command's argv), so it holds
// the incomplete argument and what follows; for an argument of BigArg
// bytes or more, only its data (Redis reads no further, and drops the
// header line from the buffer). Counted after the parse of what was read
// (Redis counts a read before it parses it, but it reads at most its
// buffer's free space, a few tens of KB, or the rest of a big argument:
// complete arguments of one read of Crescent's larger buffer are not held).
func (r *Reader) held() int {
	if r.pendingBulk > 0 && r.want != 0 {
		return r.w - r.r - r.bigFrom
	}
	return r.w - r.r - r.argStart
}

// parse tries to parse one command from buf[r:w]. It returns n == 0 when more
// data is needed.
func (r *Reader) parse() ([][]byte, int, error) {
	r.pendingBulk, r.argStart = 0, 0
	b := r.buf[r.r:r.w]
	if b[0] != '*' {
		return r.parseInline(b)
	}
	// multibulk
	count, pos, ok := header(b, 0)
	if !ok {
		var line []byte
		if line, pos, ok = readLine(b, 0); !ok {
			if len(b) > maxInline {
				return nil, 0, &ProtocolError{"too big mbulk count string"}
			}
			return nil, 0, nil
		}
		count, ok = parseInt(line[1:])
		if !ok || count > maxMultibulk {
			return nil, 0, &ProtocolError{"invalid multibulk length"}
		}
	}
	if count > maxMultibulk {
		return nil, 0, &ProtocolError{"invalid multibulk length"}
	}
	if count > 10 && r.unauthenticated() {
		return nil, 0, &ProtocolError{"unauthenticated multibulk length"}
	}
	if count <= 0 {
		return r.args[:0], pos, nil
	}
	args := r.args[:0]
	for i := int64(0); i < count; i++ {
		if pos >= len(b) {
			r.argStart = pos
			return nil, 0, nil
		}
		n, next, ok := header(b, pos)
		if !ok || b[pos] != '$' {
			var line []byte
			if line, next, ok = readLine(b, pos); !ok {
				if len(b)-pos > maxInline {
					return nil, 0, &ProtocolError{"too big bulk count string"}
				}
				r.argStart = pos
				return nil, 0, nil
			}
			if b[pos] != '$' {
				return nil, 0, &ProtocolError{fmt.Sprintf("expected '$', got '%c'", b[pos])}
			}
			n, ok = parseInt(line[1:])
			if !ok || n < 0 {
				return nil, 0, &ProtocolError{"invalid bulk length"}
			}
		}
		if n > r.Limits.MaxBulkLen {
			return nil, 0, &ProtocolError{"invalid bulk length"}
		}
		if n > 16384 && r.unauthenticated() {
			return nil, 0, &ProtocolError{"unauthenticated bulk length"}
		}
		end := next + int(n)
		if int(n) >= r.Limits.MaxQueryBuf-1 && min(end+2, len(b))-next > r.Limits.MaxQueryBuf {
			// Redis reads an argument of BigArg bytes or more alone into
			// its query buffer, and counts it before it parses it: one
			// over the limit closes the client once that much of it came
			return nil, 0, ErrBufferLimit
		}
		if end+2 > len(b) {
			missing := end + 2 - len(b)
			if missing > maxPrealloc {
				missing = maxPrealloc
			}
			r.pendingBulk = missing
			r.argStart = pos
			r.want = 0
			if n >= BigArg {
				r.big, r.want, r.bigFrom, r.bigArgv = int(n), end+2, next, 0
				for _, a := range args {
					r.bigArgv += len(a)
				}
			}
			r.args = args
			return nil, 0, nil
		}
		args = append(args, b[next:end:end])
		pos = end + 2
	}
	r.args = args
	return args, pos, nil
}

// header parses the header line at b[from] (its type byte is not
// checked) in the common case: 1 to 18 digits without a leading zero,
// then '\r' and one more byte. It returns the number and where the next
// line starts; ok is false for anything else (the caller then goes the
// general way: readLine and parseInt), and never where those would parse
// the line differently.
func header(b []byte, from int) (n int64, next int, ok bool) {
	i := from + 1
	if i >= len(b) || b[i] < '1' || b[i] > '9' {
		return 0, 0, false
	}
	n = int64(b[i] - '0')
	for i++; i < len(b); i++ {
		c := b[i]
		if c-'0' <= 9 {
			if i-from > 18 {
				return 0, 0, false // a 19th digit
			}
			n = n*10 + int64(c-'0')
			continue
		}
		if c == '\r' && i+1 < len(b) {
			return n, i + 2, true
		}
		return 0, 0, false
	}
	return 0, 0, false
}

// readLine finds a multibulk header line. Like Redis, it ends at the first
// '\r' and skips the byte after it (normally '\n'), which must be present.
func readLine(b []byte, from int) (line []byte, next int, ok bool) {
	for i := from; i < len(b); i++ {
		if b[i] == 0 {
			// Redis searches with strchr, which stops at NUL: the line
			// never ends
			return nil, 0, false
		}
		if b[i] == '\r' {
			if i+1 >= len(b) {
				return nil, 0, false
			}
			return b[from:i], i + 2, true
		}
	}
	return nil, 0, false
}

// parseInt parses a header number strictly, as Redis's string2ll: no '+',
// no leading zeros, no "-0".
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func (r *Reader) parseInline(b []byte) ([][]byte, int, error) {
	nl := -1
	for i, c := range b {
		if c == 0 {
			break // strchr stops at NUL, as in Redis: the line never ends
		}
		if c == '\n' {
			nl = i
			break
		}
	}
	if nl < 0 {
		if len(b) > maxInline {
			return nil, 0, &ProtocolError{"too big inline request"}
		}
		return nil, 0, nil
	}
	line := b[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, err := SplitArgs(line, r.args[:0])
	if err != nil {
		return nil, 0, &ProtocolError{"unbalanced quotes in request"}
	}
	r.args = args
	if len(args) == 0 {
		return nil, nl + 1, nil
	}
	return args, nl + 1, nil
}

// unauthenticated reports whether the unauthenticated caps apply now.
func (r *Reader) unauthenticated() bool {
	return r.Unauthenticated && (r.AuthRequired == nil || r.AuthRequired())
}
