package aof

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// ErrTruncated reports a file ending in the middle of a record.
var ErrTruncated = errors.New("truncated AOF record")

// ErrFormat reports a file that is not a sequence of RESP multibulks.
var ErrFormat = errors.New("bad AOF format")

// Reader reads AOF records.
type Reader struct {
	r   *bufio.Reader
	off int64 // offset of the next unread byte
	// NextShared's buffers: the arguments' bytes, their ends, the slice
	buf  []byte
	ends []int
	args [][]byte
}

// NewReader reads records from r, whose first byte is at offset off of
// its file.
func NewReader(r *bufio.Reader, off int64) *Reader { return &Reader{r: r, off: off} }

// Offset is the offset after the last complete record.
func (r *Reader) Offset() int64 { return r.off }

func (r *Reader) line(n *int64) ([]byte, error) {
	l, err := r.r.ReadSlice('\n')
	*n += int64(len(l))
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		}
		return nil, err
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, ErrFormat
	}
	return l[:len(l)-2], nil
}

// Next returns the next command, io.EOF at a clean end, or an error
// wrapping ErrTruncated or ErrFormat; Offset stays at the start of the bad
// record.
func (r *Reader) Next() ([][]byte, error) { return r.next(false) }

// NextShared is Next with the command in buffers the reader reuses: the
// arguments are valid until the next call, as a client's are (a
// replica's stream: no allocation per command).
func (r *Reader) NextShared() ([][]byte, error) { return r.next(true) }

// sharedMax bounds the buffer NextShared keeps between commands.
const sharedMax = 1 << 20

func (r *Reader) next(shared bool) ([][]byte, error) {
	var n int64
	b, err := r.r.ReadByte()
	if err != nil {
		return nil, err // io.EOF: clean end
	}
	n++
	for b == '#' {
		// an annotation (aof-timestamp-enabled: "#TS:<unix time>")
		if _, err := r.line(&n); err != nil {
			return nil, err
		}
		r.off += n
		n = 0
		if b, err = r.r.ReadByte(); err != nil {
			return nil, err
		}
		n++
	}
	if b != '*' {
		return nil, ErrFormat
	}
	l, err := r.line(&n)
	if err != nil {
		return nil, err
	}
	argc, err := strconv.Atoi(string(l))
	if err != nil || argc < 1 || argc > 1<<20 {
		return nil, ErrFormat
	}
	var args [][]byte
	if shared {
		if cap(r.buf) > sharedMax {
			r.buf, r.ends, r.args = nil, nil, nil
		}
		r.buf, r.ends = r.buf[:0], r.ends[:0]
	} else {
		args = make([][]byte, argc)
	}
	for i := 0; i < argc; i++ {
		c, err := r.r.ReadByte()
		if err != nil {
			return nil, ErrTruncated
		}
		n++
		if c != '$' {
			return nil, ErrFormat
		}
		l, err := r.line(&n)
		if err != nil {
			return nil, err
		}
		sz, err := strconv.Atoi(string(l))
		if err != nil || sz < 0 || sz > 1<<32 {
			return nil, ErrFormat
		}
		var a []byte
		if shared {
			start := len(r.buf)
			if r.buf, err = r.readBulk(r.buf, sz+2, &n); err != nil {
				return nil, err
			}
			a = r.buf[start:]
		} else if a, err = r.readBulk(make([]byte, 0, min(sz+2, readChunk)), sz+2, &n); err != nil {
			return nil, err
		}
		if a[sz] != '\r' || a[sz+1] != '\n' {
			return nil, ErrFormat
		}
		if shared {
			r.ends = append(r.ends, len(r.buf)-2)
		} else {
			args[i] = a[:sz]
		}
	}
	if shared {
		// sliced once the buffer stopped growing
		args = r.args[:0]
		start := 0
		for _, end := range r.ends {
			args = append(args, r.buf[start:end:end])
			start = end + 2
		}
		r.args = args
	}
	r.off += n
	return args, nil
}

// readChunk bounds how far readBulk grows its buffer past the bytes read.
const readChunk = 1 << 20

// readBulk appends the next size bytes to dst, adding n's count of bytes
// read. It grows dst as the bytes come (by append's rule, so at most twice
// what was read, or readChunk) rather than by size at once: a corrupt
// length of up to 4 GB on a short stream costs no more memory than the
// stream holds (FuzzReaderShared's worker ran out of memory on one).
func (r *Reader) readBulk(dst []byte, size int, n *int64) ([]byte, error) {
	for size > 0 {
		k := min(size, readChunk)
		start := len(dst)
		dst = slices.Grow(dst, k)[:start+k]
		m, err := io.ReadFull(r.r, dst[start:])
		*n += int64(m)
		if err != nil {
			return nil, ErrTruncated
		}
		size -= k
	}
	return dst, nil
}

// PositionError locates a loading error.
type PositionError struct {
	File   string
	Offset int64
	Err    error
}

func (e *PositionError) Error() string {
	return fmt.Sprintf("%s at offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *PositionError) Unwrap() error { return e.Err }
