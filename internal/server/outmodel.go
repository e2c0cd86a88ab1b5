package server

import (
	"math/bits"
	"sync"

	"github.com/crescent-db/crescent/internal/resp"
)

// Redis 7.0's output buffer, as CLIENT LIST's obl, oll and omem (and the
// client-output-buffer-limit checks and maxmemory-clients, which use
// them) count it. Crescent writes a client's replies from one contiguous
// buffer; these figures are what Redis would hold for the same bytes.
//
// Redis appends a client's output to its reply buffer (16 KiB, obl) while
// its list of reply blocks is empty, then to the list: each chunk of
// output (a reply's header, a bulk string's body, its CRLF...) first
// fills the tail block, and what is left goes to a new block of
// max(left, 16 KiB) bytes, rounded up by its allocator (jemalloc: a
// 16 KiB block is 20,464 usable bytes, a block for 5.7 MB is 6 MiB less
// its 16-byte header). Every block counts its size, its header and its
// list node (omem), whole until its last byte is written, when it is
// freed; the reply buffer counts until all of it was written. Once
// everything was written, the next output starts in the reply buffer
// again. So the layout of what is still to write follows from the bytes
// queued since the client's output was last drained and where the large
// chunks are (resp.Writer.Marks): chunks of 16 KiB or less never get a
// block of their own.
const (
	redisReplyBuf   = 16 * 1024 // c->buf (PROTO_REPLY_CHUNK_BYTES)
	redisBlockSize  = 20464     // a 16 KiB block's usable size (jemalloc's 20,480 class less the header)
	redisBlockHead  = 16        // sizeof(clientReplyBlock)
	redisBlockExtra = 40        // header and list node, counted per block in omem
)

// jemallocSize is the size class jemalloc gives a request of n bytes
// past 16 KiB: four classes per doubling.
func jemallocSize(n int64) int64 {
	if n <= redisReplyBuf {
		return redisReplyBuf
	}
	k := bits.Len64(uint64(n-1)) - 1 // 2^k < n <= 2^(k+1)
	step := int64(1) << (k - 2)
	return (n + step - 1) / step * step
}

// redisBlock is the usable size of the block Redis allocates for left
// bytes of a chunk that did not fit its tail block.
func redisBlock(left int64) int64 {
	if left <= redisReplyBuf {
		return redisBlockSize
	}
	return jemallocSize(left+redisBlockHead) - redisBlockHead
}

// outFigures is a client's output as Redis's CLIENT LIST shows it.
type outFigures struct {
	obl, oll, omem int64
}

// redisOutput models Redis's output buffer for a stream of n bytes queued
// since the output was last drained, of which the socket took written,
// with the large chunks marks (offsets in the stream, in order).
func redisOutput(n, written int64, marks []resp.Mark) outFigures {
	var f outFigures
	if written >= n || n <= 0 {
		return f
	}
	written = max(written, 0)
	buf := min(n, redisReplyBuf)
	if written < buf {
		f.obl = buf
	}
	// the list: tail is where the last block's room ends
	tail := int64(redisReplyBuf)
	// blocks adds count blocks of size bytes starting at start to the
	// figures, those not yet written whole
	blocks := func(start, count, size int64) {
		if count <= 0 {
			return
		}
		// block i holds [start+i*size, min(start+(i+1)*size, n)); freed
		// once written reaches its end
		done := int64(0)
		if written > start {
			done = min((written-start)/size, count)
		}
		f.oll += count - done
		f.omem += (count - done) * (size + redisBlockExtra)
	}
	fill := func(to int64) { // small chunks up to offset to
		if to > tail {
			k := (to - tail + redisBlockSize - 1) / redisBlockSize
			blocks(tail, k, redisBlockSize)
			tail += k * redisBlockSize
		}
	}
	for _, m := range marks {
		off, end := int64(m.Off), int64(m.Off+m.Len)
		if end > n {
			end = n
		}
		if end <= redisReplyBuf {
			continue // within the reply buffer
		}
		off = max(off, redisReplyBuf)
		fill(off)
		if left := end - max(off, tail); left > 0 {
			size := redisBlock(left)
			blocks(tail, 1, size)
			tail += size
		}
	}
	fill(n)
	return f
}

// outUnit is the output a connection handed to its socket that the
// socket did not take at once (an event loop's pending output, a large
// write on a goroutine, whose progress connMem.unsent follows): its length
// and large chunks, so that what is left of it is counted as Redis would
// hold it. Redis drained its buffer before it: the unit starts a stream.
type outUnit struct {
	mu    sync.Mutex
	n     int64
	marks []resp.Mark
	// held: the large chunks of the replies the current batch flushed
	// (connMem.batchOut, heldOut), from the batch's start; written by
	// the serving goroutine only
	held []resp.Mark
}

// holdMarks records the large chunks of replies the batch flushes, base
// bytes after its start (serving goroutine).
func (c *conn) holdMarks(base int64, marks []resp.Mark) {
	if len(marks) == 0 {
		return
	}
	u := &c.unit
	u.mu.Lock()
	for _, m := range marks {
		u.held = append(u.held, resp.Mark{Off: m.Off + int(base), Len: m.Len})
	}
	u.mu.Unlock()
}

// dropHeld forgets them when the batch ends (serving goroutine).
func (c *conn) dropHeld() {
	if u := &c.unit; len(u.held) > 0 {
		u.mu.Lock()
		u.held = u.held[:0]
		u.mu.Unlock()
	}
}

// heldOutFigures is what other goroutines see of a batch that flushed
// held bytes of replies, followed by more bytes of pushes.
func (c *conn) heldOutFigures(held, more int64) outFigures {
	u := &c.unit
	u.mu.Lock()
	defer u.mu.Unlock()
	return redisOutput(held+more, 0, u.held)
}

// extendUnit adds n bytes with their large chunks to c's unit (a new one
// when there is none).
func (c *conn) extendUnit(n int, marks []resp.Mark) {
	u := &c.unit
	u.mu.Lock()
	for _, m := range marks {
		u.marks = append(u.marks, resp.Mark{Off: m.Off + int(u.n), Len: m.Len})
	}
	u.n += int64(n)
	u.mu.Unlock()
}

// clearUnit ends c's unit: the socket took it all.
func (c *conn) clearUnit() {
	u := &c.unit
	u.mu.Lock()
	u.n, u.marks = 0, u.marks[:0]
	u.mu.Unlock()
}

// unitFigures is what is left of c's unit, followed by more bytes (the
// pushes queued behind it), as Redis's buffer would hold them.
func (c *conn) unitFigures(more int64) outFigures {
	left := c.unsent.Load()
	if left == 0 { // pushes: from where their writer last drained them
		done := c.pushDone.Load()
		return redisOutput(done+more, done, nil)
	}
	u := &c.unit
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n < left { // not published yet: what is left as a stream of its own
		return redisOutput(left+more, 0, nil)
	}
	return redisOutput(u.n+more, u.n-left, u.marks)
}

// heldFigures is held bytes of replies not written (Redis's batch has not
// ended; heldMarks their large chunks), then the reply buffer's with its
// large chunks, then more bytes, as Redis's buffer would hold them.
func heldFigures(held int64, heldMarks []resp.Mark, w *resp.Writer, more int64) outFigures {
	n := held + int64(len(w.Buf)) + more
	if n <= redisReplyBuf {
		return outFigures{obl: n}
	}
	if len(w.Marks) == 0 {
		return redisOutput(n, 0, heldMarks)
	}
	if held == 0 {
		return redisOutput(n, 0, w.Marks)
	}
	marks := make([]resp.Mark, 0, len(heldMarks)+len(w.Marks))
	marks = append(marks, heldMarks...)
	for _, m := range w.Marks {
		marks = append(marks, resp.Mark{Off: m.Off + int(held), Len: m.Len})
	}
	return redisOutput(n, 0, marks)
}

// total is the output's memory: the blocks and the reply buffer in use.
func (f outFigures) total() int64 { return f.obl + f.omem }
