package server

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
)

// Client limits, as Redis applies them:
//
//   - client-output-buffer-limit, normal class (pubsub class for a
//     subscribed client): checked after every command on the replies not
//     yet written, as Redis checks after each addReply, and while a reply
//     that grows with a count is built (replyGuard: the loop stops, as
//     Redis's stop at CLIENT_CLOSE_ASAP); a client over the hard limit, or
//     over the soft limit for longer than its seconds, is closed without
//     getting those replies. Replies are flushed every
//     64KB, so a client that does not read blocks its own goroutine in a
//     write and the server holds at most one batch (64KB plus the last
//     reply) for it, limits or not; while such a write is stuck, the soft
//     limit and the idle timeout still close it.
//   - timeout: a client with no traffic either way for that many seconds
//     is closed, except subscribers (Redis also spares blocked clients:
//     ours wait inside the command, where no read deadline applies).
//   - tcp-keepalive: SO_KEEPALIVE with that period.
//   - maxclients: a new connection beyond it gets
//     "-ERR max number of clients reached" and is closed.
type clientLimits struct {
	normal  atomic.Pointer[outputLimit]
	replica atomic.Pointer[outputLimit] // the replication stream (persist)
	timeout *config.Var
	// appendonly and appendfsync: under "always" a reply waits for the
	// group commit, which an event loop must not do for one client
	aofOn, aofFsync *config.Var
	// proto-max-bulk-len and client-query-buffer-limit, applied to every
	// client before each command (CONFIG SET reaches existing clients)
	maxBulk, maxQuery *config.Var
}

// connLimits is a connection's limit state, used by its serving goroutine.
type connLimits struct {
	replySoftSince time.Time // since when the soft output limit is exceeded
	readDeadline   bool      // an idle-timeout read deadline is armed
	idleState                // the idle release on a goroutine (idle.go)
}

// writeTick bounds one blocked write on a plain connection, so that a
// stuck client is re-checked against its limits.
const writeTick = time.Second

// handshakeTimeout bounds a TLS handshake (Redis has none; a client that
// never completes one only holds a connection slot).
const handshakeTimeout = 10 * time.Second

func (s *Server) setupClientLimits(cfg *config.Config) {
	s.clientLimits.timeout = cfg.Var("timeout")
	s.clientLimits.aofOn = cfg.Var("appendonly")
	s.clientLimits.aofFsync = cfg.Var("appendfsync")
	s.clientLimits.maxBulk = cfg.Var("proto-max-bulk-len")
	s.clientLimits.maxQuery = cfg.Var("client-query-buffer-limit")
	load := func(v string) {
		all, _, err := parseOutputLimits(v)
		if err != nil {
			return
		}
		n, r := all["normal"], all["slave"]
		s.clientLimits.normal.Store(&n)
		s.clientLimits.replica.Store(&r)
	}
	cfg.OnChange("client-output-buffer-limit", load)
	load(cfg.Get("client-output-buffer-limit"))
}

// setKeepAlive applies tcp-keepalive to an accepted connection.
func (s *Server) setKeepAlive(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	if ka := s.cfg.Int("tcp-keepalive"); ka > 0 {
		tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true,
			Idle: time.Duration(ka) * time.Second, Interval: time.Duration(ka) * time.Second / 3, Count: 3})
	} else {
		tc.SetKeepAlive(false)
	}
}

// reject sends msg to a connection refused at accept and closes it,
// without holding up the accept loop (a TLS handshake comes first).
func (s *Server) reject(nc net.Conn, msg string) {
	s.stats.RejectedConns.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		nc.SetDeadline(time.Now().Add(handshakeTimeout))
		nc.Write([]byte(msg))
		nc.Close()
	}()
}

// handshake completes a TLS handshake before the first command.
func (c *conn) handshake() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		c.s.log.Debug("Error accepting a client connection", "addr", c.cl.Addr, "err", err)
		return false
	}
	tc.SetDeadline(time.Time{})
	return true
}

// prepareRead sets the reader's limits before a command is read: the
// current proto-max-bulk-len and client-query-buffer-limit, and the
// unauthenticated caps while the client has not authenticated.
func (c *conn) prepareRead() {
	l := &c.s.clientLimits
	c.rd.Limits.MaxBulkLen = l.maxBulk.Int()
	c.rd.Limits.MaxQueryBuf = int(l.maxQuery.Int())
	c.rd.Unauthenticated = !c.cl.Authed
	// Redis's authRequired, asked when a cap would apply: a client that
	// never authenticated is free of the caps once the default user needs
	// no password, even if that changed while it waited for input
	if c.rd.AuthRequired == nil {
		c.rd.AuthRequired = c.s.cmds.ACL.DefaultNeedsAuth
	}
}

// beforeRead runs before the reader blocks: it flushes the replies, then
// arms the idle timeout. On an event loop it does nothing: reads do not
// block there, and the loop writes the replies after the batch.
func (c *conn) beforeRead() error {
	if c.lp != nil {
		return nil // an event loop writes after its batch (flushBatch)
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.endBatch() // maxmemory-clients (client_evict.go)
	t := c.s.clientLimits.timeout.Int()
	if t > 0 && c.cl.Flags&command.ClientPubSub == 0 {
		c.readDeadline = true
		return c.armTimeout(time.Duration(t) * time.Second) // or the idle release's (idle.go)
	}
	c.timeoutAt = time.Time{}
	if c.readDeadline {
		c.readDeadline, c.idleArmed = false, false
		if err := c.nc.SetReadDeadline(time.Time{}); err != nil {
			return err
		}
	}
	if c.fromLoop && c.lp == nil && c.streak >= rejoinAfter && !c.held && len(c.early) == 0 && !c.earlyEOF && c.canRejoin() {
		return errRejoin // back to an event loop (loop.go)
	}
	return c.armIdle() // release the buffers once idle (idle.go)
}

// limitFor returns the output limit class of the client.
func (c *conn) limitFor() *outputLimit {
	if c.cl.Flags&command.ClientPubSub != 0 {
		return c.s.limits.pubsub.Load()
	}
	return c.s.clientLimits.normal.Load()
}

// overOutputLimit checks the replies not yet written after a command
// (serving goroutine); a client over its limit is to be closed.
func (c *conn) overOutputLimit() bool {
	if !c.outputOver() {
		return false
	}
	c.outputLimitReached()
	return true
}

// outputOver reports whether the replies not yet written pass the
// client's output limit.
func (c *conn) outputOver() bool {
	l := c.limitFor()
	if l == nil || (l.hard == 0 && l.soft == 0) {
		return false
	}
	// Redis checks its list of reply blocks (omem), with the replies of
	// the batch so far (outmodel.go)
	var omem int64
	if held := c.batchOut + int64(len(c.w.Buf)); held > redisReplyBuf {
		if l.hard > 0 && held-redisReplyBuf >= l.hard {
			// omem counts at least the bytes past c->buf: over for sure
			// (and no walk of a long reply's chunks)
			omem = held - redisReplyBuf
		} else {
			omem = heldFigures(c.batchOut, c.unit.held, c.w, 0).omem
		}
	}
	return l.over(omem, &c.replySoftSince)
}

// replyLimit is c.w's Limit: the smallest of the client's hard and soft
// output limits (0: none).
func (c *conn) replyLimit() int64 {
	l := c.limitFor()
	if l == nil {
		return 0
	}
	if l.hard > 0 && (l.soft == 0 || l.hard < l.soft) {
		return l.hard
	}
	return l.soft
}

// replyGuard is c.w's Guard: a command's loop asks it as its reply grows
// (command.ReplyGuard), and stops once the client passes its output limit,
// as Redis's loops stop at CLIENT_CLOSE_ASAP. The client is then closed
// after the command by overOutputLimit, as any client over its limit (the
// same log line; a transaction's other commands still run). A muted
// client's reply (CLIENT REPLY OFF/SKIP) is dropped after the command, so
// its loop stops at the first check: Redis adds nothing for it, and the
// client is not closed (the cut reply is not over any limit).
func (c *conn) replyGuard() bool {
	if c.gate.muting && c.cl.Flags&command.ClientRepliesMuted != 0 {
		return true
	}
	return c.outputOver()
}

func (c *conn) outputLimitReached() {
	c.s.log.Warn("Client scheduled to be closed ASAP for overcoming of output buffer limits.",
		"id", c.cl.ID, "addr", c.cl.Addr)
	c.w.Reset()
	c.close()
}

// writeReply writes one buffer (the usual reply batch) with write(2),
// without the allocations of a net.Buffers, unless writes are watched.
func (c *conn) writeReply(b []byte) error {
	if l := c.limitFor(); c.s.clientLimits.timeout.Int() > 0 || (l != nil && l.soft > 0) {
		_, err := c.writeAll(net.Buffers{b}, len(b))
		return err
	}
	k, err := c.nc.Write(b)
	c.s.stats.NetOutput.AddHere(int64(k))
	return err
}

// writeAll writes bufs (n bytes) to the socket. When a soft output limit
// or the idle timeout is configured, a write that makes no progress is
// re-checked against them every writeTick.
func (c *conn) writeAll(bufs net.Buffers, n int) (int64, error) {
	return c.writeAllTracked(bufs, n, false)
}

// writeAllTracked is writeAll; with track, the caller counts the bytes in
// unsent, and a single buffer on a plain socket is written write(2) by
// write(2), each taken off unsent as it goes (writeTracked).
func (c *conn) writeAllTracked(bufs net.Buffers, n int, track bool) (int64, error) {
	timeout := time.Duration(c.s.clientLimits.timeout.Int()) * time.Second
	l := c.limitFor()
	watch := timeout > 0 || (l != nil && l.soft > 0)
	if !watch {
		var w int64
		var err error
		if len(bufs) == 1 {
			// one buffer (the usual reply batch): write(2), not writev(2)
			w, err = c.writeOne(&bufs, track)
		} else {
			w, err = bufs.WriteTo(c.nc)
		}
		c.s.stats.NetOutput.AddHere(w)
		return w, err
	}
	_, isTLS := c.nc.(*tls.Conn)
	var total int64
	lastProgress := time.Now()
	for {
		if isTLS {
			// a timed-out TLS write cannot resume: one deadline, the
			// idle timeout (or the soft limit's seconds)
			d := timeout
			if d == 0 {
				d = time.Duration(l.softSecs)*time.Second + writeTick
			}
			c.nc.SetWriteDeadline(time.Now().Add(d))
		} else {
			c.nc.SetWriteDeadline(time.Now().Add(writeTick))
		}
		var w int64
		var err error
		if track && len(bufs) == 1 {
			w, err = c.writeOne(&bufs, true)
		} else {
			w, err = bufs.WriteTo(c.nc)
		}
		c.s.stats.NetOutput.AddHere(w)
		total += w
		if err == nil {
			c.nc.SetWriteDeadline(time.Time{})
			return total, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || isTLS || c.closed.Load() {
			return total, err
		}
		select {
		case <-c.cl.Kill:
			return total, err
		default:
		}
		now := time.Now()
		if w > 0 {
			lastProgress = now
		}
		if timeout > 0 && now.Sub(lastProgress) >= timeout {
			return total, err
		}
		if l != nil && l.over(int64(n)-total, &c.replySoftSince) {
			c.s.log.Warn("Client scheduled to be closed ASAP for overcoming of output buffer limits.",
				"id", c.cl.ID, "addr", c.cl.Addr)
			return total, err
		}
	}
}

// replicaLimit returns client-output-buffer-limit's replica class, which
// bounds each replica's queued stream (persist.Manager.ReplicaLimit).
func (l *clientLimits) replicaLimit() (hard, soft, softSecs int64) {
	if r := l.replica.Load(); r != nil {
		return r.hard, r.soft, r.softSecs
	}
	return 0, 0, 0
}

// replicaConn hands cl's socket to SYNC/PSYNC (commands.Handlers.
// ReplicaConn): the connection must be on its own goroutine (the one
// running the command); its pending replies are written first. It never
// goes back to an event loop (canRejoin).
func (s *Server) replicaConn(cl *command.Client) net.Conn {
	s.mu.Lock()
	c := s.clients[cl.ID]
	s.mu.Unlock()
	if c == nil || c.lp != nil || c.writerOn.Load() {
		return nil
	}
	if err := c.flush(); err != nil {
		return nil
	}
	return c.netConn()
}

// writeOne writes the one buffer of bufs, consuming what was written
// (as net.Buffers.WriteTo), tracked as writeAllTracked says.
func (c *conn) writeOne(bufs *net.Buffers, track bool) (int64, error) {
	b := (*bufs)[0]
	var k int
	var err error
	ok := false
	if track {
		k, ok, err = c.writeTracked(b)
	}
	if !ok {
		k, err = c.nc.Write(b)
	}
	(*bufs)[0] = b[k:]
	return int64(k), err
}

// writeTracked writes b to c's plain socket write(2) by write(2)
// (rawWrite), taking what each one wrote off unsent, so that other
// clients see the output's progress as Redis's (outmodel.go). ok false:
// not a plain socket (TLS), nothing written.
func (c *conn) writeTracked(b []byte) (int, bool, error) {
	n, ok, err := c.rawWrite(net.Buffers{b}, func(k int) { c.unsent.Add(-int64(k)) })
	return int(n), ok, err
}
