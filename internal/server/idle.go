package server

import (
	"errors"
	"io"
	"os"
	"time"
)

// Idle goroutine connections give back their buffers.
//
// A connection served by its own goroutine (TLS, event-loop no, a client
// moved off the loops, a subscriber) spends its idle time blocked in a
// read into its read buffer, which the loops' sweep (releaseIdle) cannot
// touch. Its reads therefore carry a read deadline, armed lazily: set
// idleRelease ahead when the goroutine first reads with a buffer, and
// left alone while commands come (no timer operation, no syscall per
// request). When it passes during a read (readArmed), the read is retried
// with the deadline moved to idleRelease after the last command if there
// was one since; otherwise the reader gets errIdle (its state intact, as
// a loop's reader gets errWouldBlock), and the goroutine releases its read
// and reply buffers (releaseBuffers, as Redis's cron frees an idle
// client's query buffer) and waits for input by reading one byte into
// idleState.held (idleWait), which the reader takes first from its new
// buffer. A one-byte read works through TLS, where the socket cannot be
// peeked (the TLS layer may hold a record it already took from it), and
// costs one read only when the client comes back.
//
// The idle timeout (timeout directive) arms a deadline before every read
// as before; the earlier of the two is set, and timeoutAt tells which one
// passed. CLIENT KILL sets a past deadline after marking the client
// killed, so a deadline moved by readArmed is checked against Killed
// after the move, and the kill is not lost.

// idleRelease is how long a connection must have been idle for its read
// and reply buffers to be released (Redis's clientsCronResizeQueryBuffer
// frees the query buffer of a client idle for more than 2 seconds). An
// idle connection then holds about 4 KiB instead of 36 KiB; its next
// request allocates a read buffer again.
const idleRelease = 2 * time.Second

// idleState is the idle-release state of a connection on a goroutine,
// used by its serving goroutine only.
type idleState struct {
	idleArmed bool      // the read deadline is an idle-release one
	timeoutAt time.Time // when the idle timeout closes the client; zero: never
	held      bool      // heldByte was read by idleWait, not yet given to the reader
	heldByte  [1]byte
	// early is the input read while the client was blocked (watchClose;
	// written by its watcher, which the serving goroutine waits for),
	// given to the reader before the socket's; earlyEOF: the socket's
	// input ended after it
	early    []byte
	earlyEOF bool
}

// errIdle is returned by a goroutine connection's read when the client
// has been idle for idleRelease: the reader's state is kept, and the
// serving goroutine releases its buffers (idleWait).
var errIdle = errors.New("idle")

// errClosed ends the serving loop of a client killed while it waited.
var errClosed = errors.New("client killed")

// armIdle sets the idle-release read deadline unless one is set, before a
// goroutine connection's read (beforeRead); only a buffer to give back
// needs one.
func (c *conn) armIdle() error {
	if c.idleArmed || c.rd.Cap() == 0 {
		return nil
	}
	c.idleArmed = true
	return c.nc.SetReadDeadline(time.Now().Add(idleRelease))
}

// armTimeout sets the read deadline of the idle timeout (t seconds), or
// the idle-release one when it comes first.
func (c *conn) armTimeout(t time.Duration) error {
	now := time.Now()
	c.timeoutAt = now.Add(t)
	dl := c.timeoutAt
	c.idleArmed = c.rd.Cap() > 0 && idleRelease < t
	if c.idleArmed {
		dl = now.Add(idleRelease)
	}
	return c.nc.SetReadDeadline(dl)
}

// readArmed reads from the socket; when the idle-release deadline passed
// it either moves it (a command came since it was set) or reports errIdle.
func (c *conn) readArmed(p []byte) (int, error) {
	for {
		n, err := c.nc.Read(p)
		if n > 0 || !c.idleArmed || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if c.cl.Killed() {
			return 0, errClosed
		}
		now := time.Now()
		if !c.timeoutAt.IsZero() && !now.Before(c.timeoutAt) {
			return 0, err // the idle timeout: the client is closed
		}
		idleAt := time.UnixMilli(c.cl.LastTime.Load()).Add(idleRelease)
		if !now.Before(idleAt) {
			c.idleArmed = false
			return 0, errIdle
		}
		dl := idleAt
		if !c.timeoutAt.IsZero() && c.timeoutAt.Before(dl) {
			dl = c.timeoutAt
		}
		if err := c.nc.SetReadDeadline(dl); err != nil {
			return 0, err
		}
		if c.cl.Killed() { // the kill's deadline came before the move
			return 0, errClosed
		}
	}
}

// idleWait runs when the reader got errIdle: it releases the buffers
// (unless release is false: a script under the debugger still uses the
// arguments), then waits for input without a buffer, reading one byte
// into held. The deadline left is the idle timeout's, if any.
func (c *conn) idleWait(release bool) error {
	if release {
		c.releaseBuffers()
	}
	if err := c.nc.SetReadDeadline(c.timeoutAt); err != nil {
		return err
	}
	c.readDeadline = !c.timeoutAt.IsZero()
	if c.cl.Killed() { // after the deadline is set: see readArmed
		return errClosed
	}
	n, err := c.nc.Read(c.heldByte[:])
	if n == 1 {
		c.held = true
		return nil
	}
	if c.cl.Killed() {
		return errClosed
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// readCommand reads the next command on a goroutine, releasing the
// buffers while the client is idle (release false: only waiting).
func (c *conn) readCommand(release bool) ([][]byte, error) {
	for {
		args, err := c.rd.ReadCommand()
		if err != errIdle {
			return args, err
		}
		if err := c.idleWait(release); err != nil {
			return nil, err
		}
	}
}
