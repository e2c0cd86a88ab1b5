package server

import (
	"syscall"
	"time"
)

// watchClose watches the socket of a blocked client (which is not reading)
// for the peer hanging up, without consuming input: pipelined commands stay
// queued for after the blocking command. It closes the client on EOF or a
// socket error. The returned func stops the watch and restores the socket.
func (c *conn) watchClose() func() {
	if c.rd.Buffered() > 0 {
		return func() {}
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
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		hungUp := false
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				return false // wait for readability
			}
			hungUp = err != nil || n == 0
			return true // data (pipelined input) or hang-up: stop watching
		})
		if hungUp || err != nil && !isTimeout(err) {
			c.cl.Close()
		}
	}()
	return func() {
		c.nc.SetReadDeadline(time.Now())
		<-done
		c.nc.SetReadDeadline(time.Time{})
	}
}

func isTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}
