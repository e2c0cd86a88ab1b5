package server

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// writevTracked writes bufs to c's plain socket writev(2) by writev(2),
// as net.Buffers.WriteTo would, adding what each call wrote to pushDone
// and taking it off inflight, so that other clients see a stuck push
// writer's progress as Redis's (outmodel.go). ok false: not a plain
// socket (TLS), nothing written.
func (c *conn) writevTracked(bufs net.Buffers) (int64, bool, error) {
	return c.rawWrite(bufs, func(k int) {
		c.pushDone.Add(int64(k))
		c.omu.Lock()
		c.inflight -= k
		c.omu.Unlock()
	})
}

// rawWrite writes bufs to c's plain socket, write(2) for one buffer and
// writev(2) for several, making the calls net.Conn.Write and
// net.Buffers.WriteTo would and waiting in the runtime's poller (and its
// deadline) when the socket is full; took gets what each call wrote. ok
// false: not a plain socket (TLS), nothing written.
func (c *conn) rawWrite(bufs net.Buffers, took func(k int)) (n int64, ok bool, err error) {
	sc, isSC := c.nc.(syscall.Conn)
	if !isSC {
		return 0, false, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	for len(bufs) > 0 {
		var werr error
		err = rc.Write(func(fd uintptr) bool {
			for {
				var k int
				var e error
				if len(bufs) == 1 {
					k, e = unix.Write(int(fd), bufs[0])
				} else {
					k, e = unix.Writev(int(fd), bufs)
				}
				switch {
				case e == unix.EINTR:
					continue
				case e == unix.EAGAIN:
					return false // wait until writable
				case e != nil:
					werr = e
					return true
				}
				consume(&bufs, k)
				n += int64(k)
				took(k)
				return true
			}
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			return n, true, err
		}
	}
	return n, true, nil
}

// consume drops k written bytes from the front of b.
func consume(b *net.Buffers, k int) {
	for len(*b) > 0 {
		n := len((*b)[0])
		if n > k {
			(*b)[0] = (*b)[0][k:]
			return
		}
		k -= n
		*b = (*b)[1:]
	}
}
