package server

// Client eviction (maxmemory-clients), at the points where Redis 7.0
// checks it. Redis keeps each evictable client's memory, as last measured,
// in a total and in "memory usage buckets" (one per power of two, all
// clients under 32 KiB in the first), measured after every command, after
// each read from the socket and after each write to it; before every
// command (processCommand's evictClients) and once per event-loop
// iteration (beforeSleep), while the total of the normal and pub/sub
// clients is at or past the limit, it closes the clients of the highest
// bucket first, in the order they entered it. A client closed before its
// own command does not run it, nor get the replies still buffered.
//
// Crescent keeps the same measurements per connection (connMem) and
// checks at the same points: before each command (execute), after a read
// (connReader), at the end of a batch (after its replies are flushed,
// Redis's beforeSleep) and from the cron, which also measures the clients
// Redis measures only there (CLIENT NO-EVICT ones: their memory counts in
// the total, but they are never chosen). Replicas are in no bucket and out
// of the total, as Redis's replica client type. A batch's replies that a
// goroutine wrote to the socket before the batch ended still count
// (connMem.batchOut): Redis holds them in the output buffer until
// beforeSleep, and a pipelined burst of large replies is evicted there
// before its next command.
//
// A subscriber delivered to while its push writer is inside a write is
// measured at the next batch's end (noteStalled), and a push writer
// measures its client after each write, as Redis after writeToClient.
//
// With maxmemory-clients 0 (the default), a command pays one atomic load
// and a compare (clientEviction.limit), and nothing is measured.

import (
	"errors"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
)

// clientStructMemory is what a client counts besides its buffers (CLIENT
// LIST's tot-mem; Redis counts its client struct, 1,800 bytes for an
// idle client whose query buffer was freed): its connection and client
// structures, about 3.5 KiB of heap measured per idle connection,
// client side included (TestIdleClientBuffers).
const clientStructMemory = 2048

// releaseBuffers drops c's read and reply buffers when they hold nothing
// (an idle client: eventLoop.releaseIdle, conn.idleWait); only whoever
// serves c may call it.
func (c *conn) releaseBuffers() {
	if c.rd.Release() {
		c.qcap.Store(0)
		c.s.idleReleases.Add(1)
	}
	if c.w.Release() { // CLIENT LIST rbs, rbp (noteReplyBuffer)
		c.rcap.Store(0)
		c.rpeak.Store(0)
	}
}

// queryMemory is a client's query buffer as Redis counts it: the
// allocation, which holds the buffered bytes and the room for the rest of
// a big argument; here the read buffer's size (0 once an idle client
// released it), or what Redis would allocate (buffered + room, the buffer
// Redis keeps after a big argument: fat), whichever is larger.
func queryMemory(capacity, buffered, room, fat int64) int64 {
	return max(capacity, buffered+room, fat)
}

// Redis's CLIENT_MEM_USAGE_BUCKET_MIN_LOG and _MAX_LOG: the first bucket
// holds the clients under 32 KiB, the last those of 8 GiB and more.
const (
	memBucketMinLog = 15
	memBucketMaxLog = 33
)

// minClientEvictionLimit is Redis's floor for maxmemory-clients (128 KiB),
// so that a tiny setting does not cut off every client.
const minClientEvictionLimit = 128 * 1024

// errEvicted ends a connection that client eviction closed.
var errEvicted = errors.New("client evicted (maxmemory-clients)")

// clientEviction is the server's eviction state.
type clientEviction struct {
	limit atomic.Int64  // maxmemory-clients in bytes; 0: off
	total atomic.Int64  // recorded memory of the normal and pub/sub clients
	seq   atomic.Uint64 // orders the entries into buckets
	mu    sync.Mutex    // one eviction pass at a time

	// stalled: subscribers delivered to while their socket did not take
	// what they had (Deliver), measured at the next batch's end as Redis
	// measures a client after its write attempt in beforeSleep
	stalledMu sync.Mutex
	stalled   []*conn
}

// connMem is a connection's recorded memory (Redis's last_memory_usage
// and mem_usage_bucket).
type connMem struct {
	memMu    sync.Mutex // orders the records of one connection
	mem      int64      // recorded, counted in clientEviction.total
	bucket   int        // bucket index, -1: in none (not evictable)
	seq      uint64     // when it entered its bucket
	gone     bool       // closed: records no more
	batchOut int64      // replies written during the current batch (serving goroutine)
	stalled  atomic.Bool
	// fatQbuf is Redis's query buffer after an argument of 32 kB or more
	// (PROTO_MBULK_BIG_ARG): it is reallocated at that argument's size and
	// kept until the second pass of its cron (clientsCronResizeQueryBuffer)
	// after the argument; fatPasses counts those passes.
	fatQbuf   atomic.Int64
	fatPasses atomic.Int32
	// qroom is what is still to come of an argument of 32 kB or more
	// being read (resp.Reader.Room): Redis's query buffer is allocated
	// for the whole argument once its length is read.
	qroom atomic.Int64
	// qargv is, meanwhile, the length of the arguments before it: Redis
	// has moved them into the command's argv (CLIENT LIST's argv-mem),
	// and qbuf holds the big argument's data alone.
	qargv atomic.Int64
	// unsent is the replies handed to the socket that it has not taken
	// yet: an event loop's pending output (loopFD), or a large write in
	// progress on a goroutine (writeOut). Redis still holds those in its
	// output buffer.
	unsent atomic.Int64
	// heldOut is batchOut for the other goroutines (the cron, CLIENT
	// LIST): the replies of the current batch already flushed, with the
	// chunk being flushed; 0 outside a batch that flushed.
	heldOut atomic.Int64
	// pushDone is the pushes written since the push writer last found
	// nothing left: Redis's buffer holds the rest from that point on
	// (outmodel.go)
	pushDone atomic.Int64
	// unit is the layout of the output unsent counts (outmodel.go)
	unit outUnit
}

// unsentMin is the size from which a reply write on a goroutine counts as
// unsent while it lasts (smaller ones do not fill a socket's buffer).
const unsentMin = 64 * 1024

// memBucket is the bucket of a client using mem bytes (getMemUsageBucket).
func memBucket(mem int64) int {
	b := bits.Len64(uint64(mem))
	return min(max(b, memBucketMinLog), memBucketMaxLog) - memBucketMinLog
}

// clientEvictionLimit is maxmemory-clients in bytes as Redis's
// getClientEvictionLimit: a percentage is of maxmemory (none without
// maxmemory), and at least 128 KiB; 0 is off.
func clientEvictionLimit(cfg *config.Config) int64 {
	v := cfg.Get("maxmemory-clients")
	var limit int64
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		n, _ := strconv.ParseInt(pct, 10, 64)
		mm := cfg.Int("maxmemory")
		if n <= 0 || mm <= 0 {
			return 0
		}
		limit = int64(float64(mm) * float64(n) / 100)
	} else {
		limit = cfg.Int("maxmemory-clients")
	}
	if limit <= 0 {
		return 0
	}
	return max(limit, minClientEvictionLimit)
}

// setupClientEviction follows maxmemory-clients and maxmemory.
func (s *Server) setupClientEviction(cfg *config.Config) {
	apply := func(string) {
		was := s.evict.limit.Swap(clientEvictionLimit(cfg))
		if s.evict.limit.Load() > 0 && was == 0 {
			s.measureClients() // nothing was measured while it was off
		}
	}
	cfg.OnChange("maxmemory-clients", apply)
	cfg.OnChange("maxmemory", apply)
	apply("")
}

// evictable reports whether eviction may choose a client with these flags.
func evictable(flags int) bool {
	return flags&(command.ClientNoEvict|command.ClientReplica|command.ClientMaster) == 0
}

// record sets c's recorded memory. A client that may not be evicted leaves
// its bucket; with measured false its memory stays as last recorded (Redis
// measures those only from its cron).
func (s *Server) record(c *conn, mem int64, flags int, measured bool) {
	if flags&(command.ClientReplica|command.ClientMaster) != 0 {
		mem, measured = 0, true // another client type: not in the total
	}
	c.memMu.Lock()
	defer c.memMu.Unlock()
	if c.gone {
		return
	}
	if measured {
		s.evict.total.Add(mem - c.mem)
		c.mem = mem
	}
	b := -1
	if evictable(flags) {
		b = memBucket(c.mem)
	}
	if b != c.bucket {
		c.bucket = b
		c.seq = s.evict.seq.Add(1) // enters at the bucket's tail
	}
}

// forget removes a closed connection's memory from the total.
func (s *Server) forget(c *conn) {
	c.memMu.Lock()
	defer c.memMu.Unlock()
	if !c.gone {
		c.gone = true
		s.evict.total.Add(-c.mem)
		c.mem, c.bucket = 0, -1
	}
}

// ownMemory is c's memory as its serving goroutine sees it: the read
// buffer, the query buffer (qbuf: what is buffered, with the arguments
// of the command about to run), the replies of the batch and the pushes
// not written yet.
func (c *conn) ownMemory(qbuf int64) int64 {
	return clientStructMemory + queryMemory(int64(c.rd.Cap()), qbuf, 0, c.fatQbuf.Load()) + c.ownOutput()
}

// ownOutput is what c has to write as its serving goroutine sees it, as
// Redis's output buffer would hold it (outmodel.go): the replies of the
// batch (those already flushed too: Redis holds them until the batch ends,
// and those the socket did not take) and the pushes not written.
func (c *conn) ownOutput() int64 { return c.ownFigures().total() }

// ownFigures is ownOutput's obl, oll and omem.
func (c *conn) ownFigures() outFigures {
	c.omu.Lock()
	pending := c.out.n + len(c.deferred) + c.inflight
	c.omu.Unlock()
	held, marks := c.unsent.Load(), []resp.Mark(nil)
	if c.batchOut >= held {
		held, marks = c.batchOut, c.unit.held // the serving goroutine writes them
	}
	return heldFigures(held, marks, c.w, int64(pending))
}

// otherOutput is what c has to write as other goroutines see it: the
// pushes not written, what is left of the replies the socket did not take
// yet, or the replies its current batch flushed (Redis holds them all
// until the batch ends), as Redis's output buffer would hold them.
func (c *conn) otherOutput() (out int64, busy bool) {
	f, busy := c.otherFigures()
	return f.total(), busy
}

// otherFigures is otherOutput's obl, oll and omem.
func (c *conn) otherFigures() (f outFigures, busy bool) {
	c.omu.Lock()
	busy = c.batch
	pending := int64(c.out.n + len(c.deferred) + c.inflight)
	c.omu.Unlock()
	if held := c.heldOut.Load(); held > 0 {
		return c.heldOutFigures(held, pending), busy
	}
	return c.unitFigures(pending), busy
}

// evictCheck measures c (serving goroutine) when it may be evicted, then
// evicts while the clients hold limit or more. false: c itself was.
func (c *conn) evictCheck(limit, qbuf int64) bool {
	if evictable(c.cl.Flags) {
		c.s.record(c, c.ownMemory(qbuf), c.cl.Flags, true)
	} else {
		c.s.record(c, 0, c.cl.Flags, false)
	}
	if c.s.evict.total.Load() >= limit {
		c.s.evictClients(limit)
	}
	return !c.closed.Load()
}

// beforeCommand is the check before a command (serving goroutine): the
// query buffer counts the command's arguments (Redis's argv_len_sum).
// false: c was evicted.
func (c *conn) beforeCommand(limit int64, args [][]byte) bool {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return c.evictCheck(limit, c.qbuf.Load()+int64(n))
}

// noteFat records, after its command's check, an argument of big bytes
// (32 kB or more) that did not arrive in one piece: Redis's query buffer
// stays at its size for the commands after it, until the second pass of
// its cron (connMem.fatQbuf). Whether eviction is on or not: CLIENT LIST
// shows it, and a limit set meanwhile counts it.
func (c *conn) noteFat(big int) {
	c.fatQbuf.Store(int64(big) + 2)
	c.fatPasses.Store(0)
}

// afterRead runs after a read brought the query buffer to qbuf, with
// room bytes still to come of a big argument and argv bytes of arguments
// before it: a command arriving in pieces counts as it grows, as Redis's
// query buffer. It records them for CLIENT LIST, and with eviction on,
// measures and checks. An error: the client was evicted.
func (c *conn) afterRead(qbuf, room, argv int64) error {
	c.qbuf.Store(qbuf)
	if room != 0 || c.qroom.Load() != 0 {
		c.qroom.Store(room)
		c.qargv.Store(argv)
	}
	limit := c.s.evict.limit.Load()
	if limit <= 0 {
		return nil
	}
	if !c.evictCheck(limit, qbuf+room+argv) {
		return errEvicted
	}
	return nil
}

// endBatch runs once a batch's replies are flushed (Redis's beforeSleep,
// which writes the replies, measures the clients it wrote to and then
// evicts).
func (c *conn) endBatch() {
	if c.batchOut != 0 {
		c.batchOut = 0
		c.heldOut.Store(0)
		c.dropHeld()
	}
	if limit := c.s.evict.limit.Load(); limit > 0 && !c.closed.Load() {
		c.s.measureStalled()
		c.evictCheck(limit, c.qbuf.Load())
	}
}

// noteStalled marks c, delivered to while its push writer is in a write
// (omu held), for measuring at the next batch's end.
func (c *conn) noteStalled() {
	if c.stalled.CompareAndSwap(false, true) {
		c.s.evict.stalledMu.Lock()
		c.s.evict.stalled = append(c.s.evict.stalled, c)
		c.s.evict.stalledMu.Unlock()
	}
}

// measureStalled measures the clients noteStalled marked.
func (s *Server) measureStalled() {
	s.evict.stalledMu.Lock()
	list := s.evict.stalled
	s.evict.stalled = nil
	s.evict.stalledMu.Unlock()
	for _, c := range list {
		c.stalled.Store(false)
		s.measure(c)
	}
}

// measureClients records every client's memory, from what other
// goroutines can see of it (the cron; Redis's clientsCron). Clients in the
// middle of a batch measure themselves.
func (s *Server) measureClients() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.clients))
	for _, c := range s.clients {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		s.measure(c)
		c.checkPushLimit() // client-output-buffer-limit (output.go)
	}
}

// measure records c's memory from another goroutine, unless c is in the
// middle of a batch.
func (s *Server) measure(c *conn) {
	if out, busy := c.otherOutput(); !busy {
		s.record(c, c.otherMemory(out), c.cl.View().Flags, true)
	}
}

// otherMemory is c's memory as other goroutines see it, with out bytes
// to write (otherOutput): as ownMemory, the query buffer being what was
// left unparsed after the last command or read, with what is still to
// come of a big argument.
func (c *conn) otherMemory(out int64) int64 {
	return clientStructMemory + queryMemory(c.qcap.Load(), c.qbuf.Load(), c.qroom.Load(), c.fatQbuf.Load()) + c.qargv.Load() + out
}

// evictionCron measures the clients, whether eviction is on or not (INFO's
// mem_clients_normal; Redis's clientsCron measures every client), and
// evicts (the cron, hz times a second), so that an idle client past the
// limit goes too.
func (s *Server) evictionCron() {
	s.measureClients()
	if limit := s.evict.limit.Load(); limit > 0 && s.evict.total.Load() >= limit {
		s.evictClients(limit)
	}
	s.mu.Lock()
	for _, c := range s.clients {
		if c.fatQbuf.Load() > 0 && c.fatPasses.Add(1) >= 2 {
			c.fatQbuf.Store(0) // Redis's cron shrinks it on its second pass
		}
	}
	s.mu.Unlock()
}

// evictClients closes clients, from the highest bucket down and in the
// order they entered it, while the recorded total is limit or more
// (Redis's evictClients).
func (s *Server) evictClients(limit int64) {
	s.evict.mu.Lock()
	defer s.evict.mu.Unlock()
	if s.evict.total.Load() < limit {
		return
	}
	type cand struct {
		c      *conn
		bucket int
		seq    uint64
	}
	s.mu.Lock()
	cands := make([]cand, 0, len(s.clients))
	for _, c := range s.clients {
		c.memMu.Lock()
		if c.bucket >= 0 && !c.gone {
			cands = append(cands, cand{c, c.bucket, c.seq})
		}
		c.memMu.Unlock()
	}
	s.mu.Unlock()
	slices.SortFunc(cands, func(a, b cand) int {
		if a.bucket != b.bucket {
			return b.bucket - a.bucket
		}
		if a.seq < b.seq {
			return -1
		}
		if a.seq > b.seq {
			return 1
		}
		return 0
	})
	for _, x := range cands {
		if s.evict.total.Load() < limit {
			return
		}
		x.c.memMu.Lock()
		mem := x.c.mem
		x.c.memMu.Unlock()
		// (not CLIENT INFO's line as Redis: this may run under a script's locks)
		s.log.Info("Evicting client", "id", x.c.cl.ID, "addr", x.c.cl.Addr, "tot-mem", mem)
		x.c.close()
		s.forget(x.c)
		s.stats.EvictedClients.Add(1)
	}
	if s.evict.total.Load() >= limit {
		s.log.Warn("Over client maxmemory after evicting all evictable clients")
	}
}
