package server

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
)

// The fast read path (io-fast-read, on by default on Linux).
//
// Reading a socket through net.Conn costs, per request of an unpipelined
// client, one read that returns EAGAIN before the goroutine parks, on top
// of the read that gets the request and the write of its reply. Here the
// serving goroutine runs inside one RawConn.Read call and reads the
// socket itself: after a read that did not fill the buffer the socket is
// drained, so instead of trying again it waits for readability directly.
//
// That relies on two properties. The runtime poller registers sockets
// edge-triggered, and the kernel signals an edge on every arrival of data
// (or FIN), so data that arrives after a short read always produces a
// readiness notification. And within one RawConn.Read call a notification
// that arrives while the goroutine is busy is kept, not reset (the reset
// happens only when RawConn.Read is entered, and the first pass through
// the loop always reads for real), so it is never lost.
//
// Commands that may block (FlagBlocking) run outside the RawConn.Read
// call: the blocked client's hang-up watch (watch_linux.go) needs the
// socket's read side.

// rawSource reads the socket with read(2) from inside RawConn.Read.
type rawSource struct {
	rc      syscall.RawConn
	fd      int
	drained bool // the last read was short: wait before reading again
	n       *atomic.Int64
}

// newRawSource returns the fast read source for nc, or nil when it does
// not apply (TLS, not a socket).
func newRawSource(nc net.Conn, counter *atomic.Int64) *rawSource {
	if _, ok := nc.(*tls.Conn); ok {
		return nil
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawSource{rc: rc, fd: -1, n: counter}
}

// Read implements io.Reader for resp.Reader. It returns errWouldBlock when
// the socket is drained; the caller then waits for readability.
func (r *rawSource) Read(p []byte) (int, error) {
	if r.drained || r.fd < 0 {
		return 0, errWouldBlock
	}
	for {
		n, err := syscall.Read(r.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		r.n.Add(int64(n))
		r.drained = n < len(p)
		return n, nil
	}
}

// serveRaw is the serving loop of the fast path.
func (c *conn) serveRaw() {
	r := c.raw
	for {
		res := stepDone
		err := r.rc.Read(func(fd uintptr) bool {
			r.fd, r.drained = int(fd), false
			for {
				switch res = c.step(); res {
				case stepNext:
				case stepWait:
					return false // wait for readability
				default:
					return true
				}
			}
		})
		r.fd = -1
		if err != nil || res != stepSlow {
			return // closed, killed, idle timeout, EOF...
		}
		args := c.pending
		c.pending = nil
		if c.run(args) != stepNext {
			return
		}
	}
}
