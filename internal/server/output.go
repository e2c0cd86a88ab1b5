package server

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/commands"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// A connection's output has two producers: its serving goroutine (command
// replies, written to c.w without locks) and publishers on other goroutines
// (pub/sub messages and keyspace notifications, delivered to Deliver, which
// must never block). They meet in the outbox:
//
//   - out holds bytes waiting for the socket, in order. Deliver appends
//     there when the serving goroutine has no unflushed replies, and starts
//     a writer goroutine unless one runs (kickWriter; from the first
//     subscription on), so a client blocked in Read still gets its messages
//     promptly.
//   - While the serving goroutine is inside a batch (it has read a command
//     and not yet flushed), Deliver appends to deferred instead; the serving
//     goroutine moves deferred into c.w after each command, so a message
//     never overtakes the reply of a command that ran before it (a
//     SUBSCRIBE's confirmation precedes its first message).
//   - Socket writes happen under wmu, which whoever writes takes before
//     taking out; so bytes reach the socket in the order they entered out.
//
// Delivered bytes not yet written (out, deferred and the chunk being
// written) count against the pubsub client-output-buffer-limit; a client
// over it is disconnected and its buffers dropped, so a subscriber that
// stops reading cannot make the server's memory grow without bound.
type outbox struct {
	wmu sync.Mutex // held across socket writes

	omu       sync.Mutex // guards the fields below; never held while blocking
	out       chunkQueue
	deferred  []byte
	inflight  int  // pushed bytes being written
	batch     bool // the serving goroutine has replies not yet in out
	softSince time.Time

	hasDeferred atomic.Bool
	proto       atomic.Int32 // the client's protocol, for encoding pushes
	// writerOn: pushes are written as they come (startWriter; such a
	// connection never goes back to an event loop); writing: a writer
	// goroutine runs (kickWriter)
	writerOn, writing atomic.Bool

	inBatch bool // serving goroutine's copy of batch
}

// chunkSize is the size of output chunks: a queue of fixed chunks grows
// without the copies and garbage of a doubling slice.
const chunkSize = 16 * 1024

// maxWrite bounds the bytes taken from the queue for one write, so that
// most buffered bytes stay counted and droppable.
const maxWrite = 256 * 1024

// chunkQueue is a FIFO of byte chunks.
type chunkQueue struct {
	chunks [][]byte
	n      int
}

func (q *chunkQueue) tail(need int) []byte {
	if k := len(q.chunks); k > 0 {
		if last := q.chunks[k-1]; cap(last)-len(last) >= need {
			return last
		}
	}
	c := make([]byte, 0, max(chunkSize, need))
	q.chunks = append(q.chunks, c)
	return c
}

func (q *chunkQueue) setTail(b []byte) {
	q.n += len(b) - len(q.chunks[len(q.chunks)-1])
	q.chunks[len(q.chunks)-1] = b
}

func (q *chunkQueue) appendMsg(m *pubsub.Message, proto int) {
	q.setTail(m.AppendTo(q.tail(m.Len()), proto))
}

func (q *chunkQueue) appendBytes(b []byte) {
	for len(b) > 0 {
		t := q.tail(1)
		k := min(len(b), cap(t)-len(t))
		q.setTail(append(t, b[:k]...))
		b = b[k:]
	}
}

// take removes chunks from the front, up to about limit bytes (at least
// one chunk); limit <= 0 takes everything.
func (q *chunkQueue) take(limit int) ([][]byte, int) {
	i, n := 0, 0
	for i < len(q.chunks) && (limit <= 0 || n < limit) {
		n += len(q.chunks[i])
		i++
	}
	out := q.chunks[:i:i]
	q.chunks = q.chunks[i:]
	q.n -= n
	if len(q.chunks) == 0 {
		q.chunks = nil
	}
	return out, n
}

func (q *chunkQueue) reset() { q.chunks, q.n = nil, 0 }

// outputLimit is a client-output-buffer-limit class.
type outputLimit struct {
	hard, soft, softSecs int64
	rawHard, rawSoft     uint64 // as set (CONFIG GET shows these)
}

// limits holds the pubsub class limit, updated by CONFIG SET.
type limits struct {
	pubsub atomic.Pointer[outputLimit]
}

var errBufLimit = errors.New("Wrong number of arguments in buffer limit configuration.")

// parseOutputLimits parses client-output-buffer-limit ("class hard soft
// seconds" groups, split on single spaces) into its classes, as Redis's
// updateClientOutputBufferLimit: memory values as memtoull, the seconds
// as strtoll into an int.
func parseOutputLimits(v string) (map[string]outputLimit, []string, error) {
	var f []string
	if v != "" {
		f = strings.Split(v, " ")
	}
	if len(f)%4 != 0 {
		return nil, nil, errBufLimit
	}
	out := map[string]outputLimit{}
	var order []string
	for i := 0; i < len(f); i += 4 {
		var class string
		switch {
		case strings.EqualFold(f[i], "normal"):
			class = "normal"
		case strings.EqualFold(f[i], "pubsub"):
			class = "pubsub"
		case strings.EqualFold(f[i], "slave"), strings.EqualFold(f[i], "replica"):
			class = "slave"
		default:
			return nil, nil, errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := config.MemToULL(f[i+1])
		soft, ok2 := config.MemToULL(f[i+2])
		secs, ok3 := config.Strtoll(f[i+3])
		secs = int64(int32(secs)) // Redis keeps it in an int
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return nil, nil, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		if _, seen := out[class]; !seen {
			order = append(order, class)
		}
		out[class] = outputLimit{clampLimit(hard), clampLimit(soft), secs, hard, soft}
	}
	return out, order, nil
}

// clampLimit is a limit in bytes as an int64 (larger ones never trigger).
func clampLimit(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// normalizeOutputLimits merges a CONFIG SET value into the current one and
// renders all classes in bytes, as Redis's CONFIG GET does.
func normalizeOutputLimits(cur func() string) func(string) (string, error) {
	return func(v string) (string, error) {
		set, _, err := parseOutputLimits(v)
		if err != nil {
			return "", err
		}
		all, _, err := parseOutputLimits(cur())
		if err != nil {
			all = map[string]outputLimit{}
		}
		for k, l := range set {
			all[k] = l
		}
		var b strings.Builder
		for _, class := range []string{"normal", "slave", "pubsub"} {
			l := all[class]
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(class + " " + strconv.FormatUint(l.rawHard, 10) + " " +
				strconv.FormatUint(l.rawSoft, 10) + " " + strconv.FormatInt(l.softSecs, 10))
		}
		return b.String(), nil
	}
}

func (l *limits) load(v string) {
	all, _, err := parseOutputLimits(v)
	if err != nil {
		return
	}
	p := all["pubsub"]
	l.pubsub.Store(&p)
}

// over reports whether n buffered bytes break limit l, tracking how long
// the soft limit has been exceeded in since (Redis's
// checkClientOutputBufferLimits).
func (l *outputLimit) over(n int64, since *time.Time) bool {
	if l.hard > 0 && n >= l.hard {
		return true
	}
	if l.soft > 0 && n >= l.soft {
		now := time.Now()
		if since.IsZero() {
			*since = now
			return false
		}
		return now.Sub(*since) > time.Duration(l.softSecs)*time.Second
	}
	*since = time.Time{}
	return false
}

// Deliver implements pubsub.Sink. It never blocks. A message that closes
// c (its output limit) is counted; later ones, until c's subscriptions are
// removed, are not.
func (c *conn) Deliver(m *pubsub.Message) bool {
	if c.closed.Load() {
		return false
	}
	proto := int(c.proto.Load())
	c.omu.Lock()
	if c.batch {
		c.deferred = m.AppendTo(c.deferred, proto)
		c.hasDeferred.Store(true)
	} else {
		c.out.appendMsg(m, proto)
	}
	over := c.pushesOver()
	if over {
		c.out.reset()
		c.deferred = nil
	} else if c.inflight > 0 && !c.batch && c.s.evict.limit.Load() > 0 {
		c.noteStalled() // maxmemory-clients (client_evict.go)
	}
	wake := !c.batch
	c.omu.Unlock()
	if over {
		c.s.log.Warn("Client scheduled to be closed ASAP for overcoming of output buffer limits.",
			"id", c.cl.ID, "addr", c.cl.Addr)
		c.close()
		return true
	}
	if wake {
		c.kickWriter()
	}
	return true
}

// pushesOver checks the pushes not written against c's class of
// client-output-buffer-limit (omu held): pubsub for a subscriber, normal
// for a MONITOR client, as Redis's getClientType. Redis checks its reply
// blocks (omem), here the bytes queued (outmodel.go: within one block of
// it, the 16 KiB reply buffer aside).
func (c *conn) pushesOver() bool {
	l := c.s.limits.pubsub.Load()
	if c.cl.View().Flags&command.ClientPubSub == 0 {
		l = c.s.clientLimits.normal.Load()
	}
	if l == nil || (l.hard == 0 && l.soft == 0) {
		return false
	}
	var omem int64
	if n := int64(c.out.n + len(c.deferred) + c.inflight); n > redisReplyBuf {
		omem = redisOutput(n, 0, nil).omem
	}
	return l.over(omem, &c.softSince)
}

// checkPushLimit is the cron's check of c's pushes against its output
// limit (Redis's clientsCron checks every client's: a subscriber that
// stays over the soft limit is closed once its seconds passed, without a
// new message).
func (c *conn) checkPushLimit() {
	if c.closed.Load() || !c.writerOn.Load() {
		return
	}
	c.omu.Lock()
	over := c.pushesOver()
	if over {
		c.out.reset()
		c.deferred = nil
	}
	c.omu.Unlock()
	if over {
		c.s.log.Warn("Client scheduled to be closed ASAP for overcoming of output buffer limits.",
			"id", c.cl.ID, "addr", c.cl.Addr)
		c.close()
	}
}

// startWriter makes c's pushes be written while its serving goroutine
// waits for input (kickWriter). It runs on the serving goroutine.
func (c *conn) startWriter() {
	if !c.writerOn.Swap(true) {
		c.kickWriter() // pushes delivered before, if any
	}
}

// kickWriter starts a goroutine that writes the pushes queued outside a
// batch, unless one runs. It exits when the queue is empty: an idle
// subscriber has no writer goroutine (a long-lived one cost 2 KiB of stack
// per subscriber; docs/design/memory.md, "Idle connections").
func (c *conn) kickWriter() {
	if c.writerOn.Load() && c.writing.CompareAndSwap(false, true) {
		go c.writePushes()
	}
}

// writePushes writes queued pushes until none is left (kickWriter).
func (c *conn) writePushes() {
	defer func() {
		if v := recover(); v != nil {
			c.s.notePanic("push writer", c.cl.Addr, v)
			c.close() // writing stays set; the serving side sees the close
		}
	}()
	for {
		if err := c.writeOut(false); err != nil {
			c.close() // writing stays set: no writer for a closed connection
			return
		}
		c.writing.Store(false)
		// a push queued after writeOut's last look found writing set
		// and started no writer: look again
		c.omu.Lock()
		more := c.out.n > 0 && !c.batch
		c.omu.Unlock()
		if !more || !c.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// beginCommand marks the start of a batch (serving goroutine).
func (c *conn) beginCommand() {
	if !c.inBatch {
		c.omu.Lock()
		c.batch = true
		c.omu.Unlock()
		c.inBatch = true
	}
}

// endCommand places the pushes delivered during the command after its
// reply (serving goroutine).
func (c *conn) endCommand() {
	if p := int32(c.cl.Proto); p != c.proto.Load() {
		c.proto.Store(p)
	}
	if c.hasDeferred.Load() {
		c.omu.Lock()
		c.w.Buf = append(c.w.Buf, c.deferred...)
		c.deferred = c.deferred[:0]
		c.hasDeferred.Store(false)
		c.omu.Unlock()
	}
}

// writeOut writes what is pending. With endBatch (the serving goroutine's
// flush) it also ends the batch: pending pushes, then c.w, then the pushes
// deferred during the batch.
func (c *conn) writeOut(endBatch bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.omu.Lock()
	if endBatch {
		c.batch = false
		if c.out.n == 0 && len(c.deferred) == 0 {
			c.omu.Unlock()
			if len(c.w.Buf) < unsentMin || c.lp != nil { // a loop's socket keeps its own (loopFD)
				err := c.writeReply(c.w.Buf)
				if c.lp != nil && c.unsent.Load() != 0 {
					c.extendUnit(len(c.w.Buf), c.w.Marks) // what the loop's socket did not take (outmodel.go)
				}
				return err
			}
			// until the socket took it (client_evict.go), followed write
			// by write (outmodel.go)
			c.extendUnit(len(c.w.Buf), c.w.Marks)
			c.unsent.Store(int64(len(c.w.Buf)))
			_, err := c.writeAllTracked(net.Buffers{c.w.Buf}, len(c.w.Buf), true)
			c.unsent.Store(0)
			c.clearUnit()
			return err
		}
		pending, n := c.out.take(0)
		d := c.deferred
		c.deferred = nil
		c.hasDeferred.Store(false)
		c.inflight = n + len(d)
		c.omu.Unlock()
		bufs := net.Buffers(append(pending, c.w.Buf, d))
		_, err := c.writeAll(bufs, n+len(c.w.Buf)+len(d))
		c.omu.Lock()
		c.inflight = 0
		drained := c.out.n == 0
		c.omu.Unlock()
		if err != nil {
			return err
		}
		if drained && c.pushDone.Load() != 0 {
			c.pushDone.Store(0) // drained (outmodel.go, unitFigures)
		}
	} else {
		c.omu.Unlock()
	}
	// pushes delivered outside a batch, a bounded slice at a time
	for {
		c.omu.Lock()
		chunks, n := c.out.take(maxWrite)
		c.inflight = n
		c.omu.Unlock()
		if n == 0 {
			return nil
		}
		err := c.writePushChunks(chunks)
		c.omu.Lock()
		c.inflight = 0
		drained := c.out.n == 0
		c.omu.Unlock()
		if err != nil {
			return err
		}
		if drained && c.pushDone.Load() != 0 {
			// Redis's buffer restarts from its reply buffer once
			// drained (outmodel.go, unitFigures)
			c.pushDone.Store(0)
		}
		if c.s.evict.limit.Load() > 0 {
			c.s.measure(c) // Redis measures a client after each write (client_evict.go)
		}
	}
}

// writePushChunks writes queued pushes, counting them in pushDone as the
// socket takes them (writevTracked) or after the write.
func (c *conn) writePushChunks(bufs net.Buffers) error {
	w, ok, err := c.writevTracked(bufs)
	if !ok {
		w, err = bufs.WriteTo(c.nc)
		c.pushDone.Add(w)
	}
	c.s.stats.NetOutput.AddHere(w)
	return err
}

// setupPubSub creates the pub/sub hub, wires keyspace notifications to it
// and the configuration it depends on.
func (s *Server) setupPubSub(cfg *config.Config) error {
	s.pubsub = pubsub.New(s.sinkFor)
	s.exec.Notify = func(class byte, event string, db int, key []byte, from *command.Client) {
		if s.pubsub.Notifying() {
			s.pubsub.NotifyFrom(class, event, db, key, commands.PushSelf(from))
		}
	}
	setFlags := func(f uint32) {
		s.pubsub.SetNotifyFlags(f)
		// the n and m classes come from the keyspace's hooks (server.go)
		out := f&(pubsub.NotifyKeyspace|pubsub.NotifyKeyevent) != 0
		s.store.SetKeyEvents(out && f&pubsub.NotifyNew != 0, out && f&pubsub.NotifyKeyMiss != 0)
	}
	// CONFIG GET shows the flags as Redis's keyspaceEventsFlagsToString,
	// which leaves n out when it shows A: the flags in force are the ones
	// parsed from what CONFIG SET was given, kept by the normalizer for
	// the change hook.
	var parsed atomic.Uint32
	cfg.SetNormalizer("notify-keyspace-events", func(v string) (string, error) {
		f, err := pubsub.ParseNotifyFlags(v)
		if err != nil {
			return "", err
		}
		parsed.Store(f)
		return pubsub.FormatNotifyFlags(f), nil
	})
	cfg.OnChange("notify-keyspace-events", func(string) { setFlags(parsed.Load()) })
	f, err := pubsub.ParseNotifyFlags(cfg.Get("notify-keyspace-events"))
	if err != nil {
		return fmt.Errorf("notify-keyspace-events: %w", err)
	}
	if v := pubsub.FormatNotifyFlags(f); v != cfg.Get("notify-keyspace-events") {
		cfg.Set("notify-keyspace-events", v) // canonical form for CONFIG GET
	}
	setFlags(f)
	cfg.SetNormalizer("client-output-buffer-limit", normalizeOutputLimits(func() string {
		return cfg.Get("client-output-buffer-limit")
	}))
	cfg.OnChange("client-output-buffer-limit", s.limits.load)
	cur := cfg.Get("client-output-buffer-limit")
	if norm, err := normalizeOutputLimits(func() string { return "" })(cur); err != nil {
		return fmt.Errorf("client-output-buffer-limit: %w", err)
	} else if norm != cur {
		cfg.Set("client-output-buffer-limit", norm)
	}
	s.limits.load(cfg.Get("client-output-buffer-limit"))
	return nil
}

// sinkFor returns the connection of client id as a pub/sub sink and starts
// its push writer. It runs on that client's goroutine (SUBSCRIBE).
func (s *Server) sinkFor(id int64) pubsub.Sink {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	if !c.requestSink() { // on an event loop: it moves to a goroutine first
		c.startWriter()
	}
	return c
}
