package server

import (
	"syscall"
	"time"
)

// watchClose watches the socket of a blocked client for the peer hanging
// up, and reads on what the client sends meanwhile into c.early, as
// Redis reads a blocked client's input into its query buffer: CLIENT
// LIST's qbuf and client eviction (maxmemory-clients) see it, and a query
// buffer past client-query-buffer-limit closes the client. The commands
// in it run only after the blocked one, as the reader takes c.early
// before the socket (connReader). A hang-up closes the client when
// nothing of its input is pending; with input pending the pipelined
// commands still run first, and the reader meets the end of input after
// them (c.earlyEOF). The returned func stops the watch and restores the
// socket.
func (c *conn) watchClose() func() {
	if c.earlyEOF {
		return func() {} // the end of input was seen: nothing more comes
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	// no deadline while it waits (an idle-release or idle-timeout one
	// would end the watch): the next read arms them again (idle.go)
	c.idleArmed, c.readDeadline = false, false
	c.nc.SetReadDeadline(time.Time{})
	buffered := int64(c.rd.Buffered())
	limit := int64(c.rd.Limits.MaxQueryBuf)
	done := make(chan struct{})
	go func() {
		defer close(done)
		hungUp, over := false, false
		var err error
		for {
			var q int64
			measure := false
			err = rc.Read(func(fd uintptr) bool {
				for {
					if len(c.early) == cap(c.early) {
						grown := make([]byte, len(c.early), max(2*cap(c.early), earlyChunk))
						copy(grown, c.early)
						c.early = grown
					}
					n, _, err := syscall.Recvfrom(int(fd), c.early[len(c.early):cap(c.early)], syscall.MSG_DONTWAIT)
					if err == syscall.EAGAIN || err == syscall.EINTR {
						return false // wait for readability
					}
					if err != nil || n <= 0 {
						hungUp = true
						return true
					}
					c.early = c.early[:len(c.early)+n]
					q = buffered + int64(len(c.early))
					c.qbuf.Store(q)
					c.qcap.Store(int64(c.rd.Cap()) + int64(cap(c.early)))
					if limit > 0 && q > limit {
						over = true
						return true
					}
					if c.s.evict.limit.Load() > 0 {
						measure = true // outside the read: an eviction closes sockets
						return true
					}
				}
			})
			if err != nil || !measure {
				break
			}
			// with maxmemory-clients on, measure and check after each read,
			// as Redis after reading into a query buffer; then watch on
			if limit := c.s.evict.limit.Load(); limit > 0 && !c.evictCheck(limit, q) {
				return // evicted
			}
		}
		switch {
		case over:
			c.s.log.Warn("closing client that reached max query buffer length", "addr", c.cl.Addr)
			c.cl.Close()
		case hungUp && buffered == 0 && len(c.early) == 0:
			c.cl.Close()
		case hungUp:
			c.earlyEOF = true // after the pending commands
		case err != nil && !isTimeout(err):
			c.cl.Close()
		}
	}()
	return func() {
		c.nc.SetReadDeadline(time.Now())
		<-done
		c.nc.SetReadDeadline(time.Time{})
	}
}

// earlyChunk is the first allocation for a blocked client's input.
const earlyChunk = 16 * 1024

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}
