package persist

// backlog is the replication backlog: a ring buffer of the stream's last
// repl-backlog-size bytes, from which PSYNC continues a replica that
// reconnects (TryPartialSync).
type backlog struct {
	buf     []byte // the ring; len(buf) is the size
	w       int    // where the next byte goes
	histlen int    // bytes held (<= len(buf))
	end     int64  // the stream offset of the last byte held
}

// zeroReplID is master_replid2 when there is no previous id.
const zeroReplID = "0000000000000000000000000000000000000000"

// newBacklog returns an empty backlog of size bytes (at least 16 KB, as
// Redis's minimum) whose first byte will be the stream's offset+1.
func newBacklog(size, offset int64) *backlog {
	size = max(size, 16<<10)
	return &backlog{buf: make([]byte, size), end: offset}
}

// first is repl_backlog_first_byte_offset: the offset of the oldest byte
// held (Redis numbers the stream's bytes from 1).
func (b *backlog) first() int64 { return b.end - int64(b.histlen) + 1 }

// add appends p to the ring, forgetting the oldest bytes past its size.
func (b *backlog) add(p []byte) {
	b.end += int64(len(p))
	n := len(b.buf)
	if len(p) >= n {
		copy(b.buf, p[len(p)-n:])
		b.w, b.histlen = 0, n
		return
	}
	k := copy(b.buf[b.w:], p)
	copy(b.buf, p[k:])
	b.w = (b.w + len(p)) % n
	b.histlen = min(b.histlen+len(p), n)
}

// since returns a copy of the bytes from offset off (first() <= off <=
// end+1) to the end.
func (b *backlog) since(off int64) []byte {
	k := int(b.end - off + 1) // bytes wanted
	out := make([]byte, k, k+4096)
	n := len(b.buf)
	start := (b.w - k + n) % n
	c := copy(out, b.buf[start:min(start+k, n)])
	copy(out[c:], b.buf[:k-c])
	return out
}
