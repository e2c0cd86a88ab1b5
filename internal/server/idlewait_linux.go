//go:build linux

package server

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// idleWait is called by a subscriber's goroutine before it blocks reading
// its next command with nothing buffered (beforeRead). A goroutine
// connection's read buffer is held by its blocked read, so the loops'
// sweep (releaseIdle) cannot free it, and a subscriber spends its life
// waiting: it first waits up to idleRelease for input without reading;
// when none came it releases its read and reply buffers, as Redis's cron
// frees an idle client's query buffer, and waits on. The read that
// follows allocates a buffer again. A killed client's wait ends at once
// (conn.killed sets a past deadline).
func (c *conn) idleWait() error {
	if c.rd.Cap() == 0 || c.rd.Buffered() != 0 {
		return nil
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil // TLS: reads go through the TLS layer
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(idleRelease)); err != nil {
		return err
	}
	err = waitReadable(rc)
	if e := c.nc.SetReadDeadline(time.Time{}); e != nil {
		return e
	}
	// after clearing the deadline: a kill's own deadline (conn.killed)
	// comes after its Killed mark, so it is not lost
	if c.cl.Killed() {
		return errClosed
	}
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.releaseBuffers()
	return waitReadable(rc)
}

// errClosed ends the serving loop of a client killed while it waited.
var errClosed = errors.New("client killed")

// waitReadable returns once the socket has input (or an end of file, or an
// error, which the next read reports), without reading it.
func waitReadable(rc syscall.RawConn) error {
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return err != unix.EAGAIN
	})
}
