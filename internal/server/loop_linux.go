//go:build linux

package server

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// eventLoops is the set of loops (nil when event-loop is off).
type eventLoops struct {
	loops []*eventLoop
	next  atomic.Uint32
}

// eventLoop is one epoll instance served by one goroutine.
type eventLoop struct {
	s    *Server
	epfd int
	evfd int // eventfd: wakes the loop for requests, timeouts and stop
	// ep is epfd in Go's netpoller: the loop parks as an ordinary
	// goroutine when it has nothing to do (an epoll descriptor is readable
	// while it has ready events), instead of blocking a thread in
	// epoll_wait(2).
	ep   *os.File
	epRC syscall.RawConn

	// toFlush: connections served in this batch with replies to write
	// (loop goroutine only; flushBatch)
	toFlush []*conn

	mu       sync.Mutex
	conns    map[int32]*conn // by descriptor
	requests []*conn         // connections to move to a goroutine
	stopping atomic.Bool
}

// startLoops starts the event loops: event-loops of them, or GOMAXPROCS
// when it is 0.
func (s *Server) startLoops() error {
	n := int(s.cfg.Int("event-loops"))
	if n <= 0 || n > runtime.GOMAXPROCS(0) {
		n = runtime.GOMAXPROCS(0)
	}
	ls := &eventLoops{}
	for i := 0; i < n; i++ {
		l, err := newEventLoop(s)
		if err != nil {
			for _, l := range ls.loops {
				l.stop()
			}
			return err
		}
		ls.loops = append(ls.loops, l)
	}
	for _, l := range ls.loops {
		s.wg.Add(1)
		go l.run()
	}
	s.loops = ls
	return nil
}

// stopLoops makes the loops close their connections and exit.
func (s *Server) stopLoops() {
	if s.loops == nil {
		return
	}
	for _, l := range s.loops.loops {
		l.stop()
	}
}

func newEventLoop(s *Server) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	ep := os.NewFile(uintptr(epfd), "epoll")
	rc, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		unix.Close(evfd)
		return nil, err
	}
	return &eventLoop{s: s, epfd: epfd, evfd: evfd, ep: ep, epRC: rc, conns: map[int32]*conn{}}, nil
}

// wait returns the next ready events, parking in Go's netpoller while
// there are none.
func (l *eventLoop) wait(events []unix.EpollEvent) int {
	n := 0
	err := l.epRC.Read(func(uintptr) bool {
		k, err := rawEpollWait(l.epfd, events)
		if err != nil {
			return err != unix.EINTR && err != unix.EAGAIN
		}
		n = k
		return k > 0
	})
	if err != nil {
		l.s.log.Error("epoll_wait", "err", err)
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// tickLoops wakes the loops from the cron while the idle timeout is set:
// they move their connections to goroutines, which arm read deadlines.
func (s *Server) tickLoops() {
	if s.loops == nil || s.clientLimits.timeout.Int() <= 0 {
		return
	}
	for _, l := range s.loops.loops {
		l.wake()
	}
}

func (l *eventLoop) wake() {
	var one = [8]byte{1}
	unix.Write(l.evfd, one[:])
}

func (l *eventLoop) stop() {
	l.stopping.Store(true)
	l.wake()
}

// adopt takes a new plain TCP connection out of Go's netpoller into a
// loop. It reports false (the connection stays as it was) when it cannot.
func (s *Server) adopt(c *conn) bool {
	if !s.adoptConn(c) {
		return false
	}
	c.watchKill()
	return true
}

// rejoin puts a connection that moved to a goroutine back into a loop
// (canRejoin), from that goroutine, which must not touch it afterwards.
func (s *Server) rejoin(c *conn) bool {
	if !s.adoptConn(c) {
		return false
	}
	select {
	case <-c.cl.Kill: // its watcher may have acted on the old socket
		c.netConn().Close()
	default:
	}
	return true
}

func (s *Server) adoptConn(c *conn) bool {
	sc, ok := c.nc.(*net.TCPConn)
	if !ok || s.loops == nil {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	rc.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err != nil || fd < 0 {
		return false
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return false
	}
	lf := &loopFD{fd: fd, laddr: sc.LocalAddr(), raddr: sc.RemoteAddr()}
	l := s.loops.loops[int(s.loops.next.Add(1))%len(s.loops.loops)]
	st := &loopState{loop: l, fd: lf}
	c.ncMu.Lock()
	old := c.nc
	c.nc, c.lp = lf, st
	c.cl.NoWait = true
	c.cl.Detach = c.detachFromLoop
	c.ncMu.Unlock()
	old.Close() // leaves Go's poller; the duplicate keeps the socket
	l.mu.Lock()
	l.conns[int32(fd)] = c
	l.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		// cannot happen for a fresh socket; the connection is lost
		l.mu.Lock()
		delete(l.conns, int32(fd))
		l.mu.Unlock()
		lf.release()
		c.finish()
		return true
	}
	return true
}

// requestSink is sinkFor's part for a connection on a loop: it asks the
// loop to move the connection to a goroutine, which then starts the push
// writer. It reports false when the connection has a goroutine already.
func (c *conn) requestSink() bool {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	st := c.lp
	if st == nil {
		return false
	}
	st.sinkWanted.Store(true)
	l := st.loop
	l.mu.Lock()
	l.requests = append(l.requests, c)
	l.mu.Unlock()
	l.wake()
	return true
}

func (l *eventLoop) run() {
	defer l.s.wg.Done()
	events := make([]unix.EpollEvent, 128)
	for {
		if l.stopping.Load() { // checked first: this goroutine may have
			l.closeAll() // replaced one that consumed the stop wake-up
			return
		}
		n := l.wait(events)
		for i := 0; i < n; i++ {
			ev := &events[i]
			if int(ev.Fd) == l.evfd {
				var b [8]byte
				unix.Read(l.evfd, b[:])
				l.serveRequests()
				if l.s.clientLimits.timeout.Int() > 0 {
					l.handoffAll() // the idle timeout needs read deadlines
				}
				continue
			}
			l.mu.Lock()
			c := l.conns[ev.Fd]
			l.mu.Unlock()
			if c != nil && !l.handle(c, ev.Events) {
				return // c detached: a new goroutine serves the loop
			}
		}
		l.flushBatch()
		// Its syscalls being raw, a busy loop never gives its P up on
		// its own: let other goroutines (connections on goroutines,
		// timers, the collector) run between batches.
		runtime.Gosched()
	}
}

// flushBatch writes the replies of the connections served since the last
// call, after the whole batch of ready connections was read and run, as
// Redis does before it sleeps: a client woken by its reply then finds the
// others' replies too, instead of being woken once per reply.
func (l *eventLoop) flushBatch() {
	for i, c := range l.toFlush {
		l.toFlush[i] = nil
		st := c.lp
		if st == nil || st.loop != l || st.detached {
			continue // moved meanwhile; its goroutine writes
		}
		if err := c.flush(); err != nil {
			// shut down only: the loop sees the hang-up and drops it
			// (this may run inside a detaching script, holding its locks)
			c.close()
		} else if len(st.fd.pending) > 0 {
			l.handoff(c) // the socket did not take it all
		}
	}
	l.toFlush = l.toFlush[:0]
}

// handle serves a ready connection. It reports false when c detached
// from the loop while it ran (detachFromLoop): the calling goroutine no
// longer serves the loop and must return.
func (l *eventLoop) handle(c *conn, events uint32) bool {
	st := c.lp
	st.fd.drained = false
	st.fd.hup = events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
	ok := c.run()
	if st.detached {
		if ok {
			l.handoff(c)
		} else {
			c.flush() // the replies before a hang-up or QUIT
			c.close()
			st.fd.release()
			c.finish()
		}
		return false
	}
	if !ok {
		c.flush() // the replies before a hang-up or QUIT
		l.drop(c)
		return true
	}
	if st.leave || st.args != nil || len(st.fd.pending) > 0 || st.sinkWanted.Load() {
		l.handoff(c) // its goroutine writes the replies first
	} else if len(c.w.Buf) > 0 || c.inBatch {
		l.toFlush = append(l.toFlush, c)
	}
	return true
}

// detachFromLoop is the connection's Client.Detach while a loop serves it:
// called from inside a command that runs long (a script), on the loop's
// goroutine. It takes the connection out of the loop and starts a new
// goroutine that goes on serving the loop's other connections; the
// calling goroutine finishes the command, then moves the connection to a
// goroutine of its own (handle) and stops serving the loop. The loop's
// epoll is level-triggered, so events the old goroutine had not handled
// yet are reported again to the new one.
func (c *conn) detachFromLoop() {
	st := c.lp
	if st == nil || !c.cl.NoWait || st.detached {
		return
	}
	l := st.loop
	l.flushBatch() // the new goroutine does not know these
	l.forget(c)
	st.detached, st.leave = true, true
	c.cl.NoWait = false
	c.cl.Detach = nil
	l.s.wg.Add(1)
	go l.run()
}

func (l *eventLoop) serveRequests() {
	l.mu.Lock()
	reqs := l.requests
	l.requests = nil
	l.mu.Unlock()
	for _, c := range reqs {
		// a detached connection's goroutine may be moving it (handoff)
		fd := -1
		c.ncMu.Lock()
		if st := c.lp; st != nil {
			st.fd.mu.Lock()
			fd = st.fd.fd
			st.fd.mu.Unlock()
		}
		c.ncMu.Unlock()
		l.mu.Lock()
		mine := fd >= 0 && l.conns[int32(fd)] == c
		l.mu.Unlock()
		if mine {
			l.handoff(c)
		}
	}
}

// served returns the connections the loop serves now.
func (l *eventLoop) served() []*conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := make([]*conn, 0, len(l.conns))
	for _, c := range l.conns {
		all = append(all, c)
	}
	return all
}

func (l *eventLoop) handoffAll() {
	for _, c := range l.served() {
		l.handoff(c)
	}
}

func (l *eventLoop) closeAll() {
	for _, c := range l.served() {
		l.drop(c)
	}
	l.ep.Close()
	unix.Close(l.evfd)
}

// forget removes c from the loop.
func (l *eventLoop) forget(c *conn) int {
	fd := c.lp.fd.fd
	l.mu.Lock()
	delete(l.conns, int32(fd))
	l.mu.Unlock()
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	return fd
}

// drop closes a connection served by the loop.
func (l *eventLoop) drop(c *conn) {
	l.forget(c)
	c.close()
	c.lp.fd.release()
	c.finish()
}

// handoff moves c to a goroutine of its own, with its unread input (the
// reader's buffer), pending output and client state.
func (l *eventLoop) handoff(c *conn) {
	l.forget(c)
	st := c.lp
	lf := st.fd
	c.ncMu.Lock()
	if c.closed.Load() {
		c.ncMu.Unlock()
		lf.release()
		c.finish()
		return
	}
	lf.mu.Lock()
	fd := lf.fd
	lf.fd = -1
	lf.mu.Unlock()
	f := os.NewFile(uintptr(fd), "")
	nc, err := net.FileConn(f) // a duplicate in Go's poller
	f.Close()
	if err != nil {
		c.ncMu.Unlock()
		l.s.log.Warn("moving a client to a goroutine", "addr", c.cl.Addr, "err", err)
		c.finish()
		return
	}
	c.nc, c.lp = nc, nil
	c.cl.NoWait = false
	c.cl.Detach = nil
	c.fromLoop, c.streak = true, 0
	c.ncMu.Unlock()
	l.s.loopMoves.Add(1)
	l.s.wg.Add(1)
	go func() {
		defer l.s.wg.Done()
		c.resume(st)
	}()
}

// resume continues a connection on its own goroutine after a loop: the
// output the socket did not take, the push writer, the command that made
// it move, then the usual serving loop.
func (c *conn) resume(st *loopState) {
	if !c.resumeOwn(st) {
		c.finish()
	}
}

// resumeOwn is resume until the connection is to be closed (false) or has
// gone back to a loop (true).
func (c *conn) resumeOwn(st *loopState) bool {
	select {
	case <-c.cl.Kill:
		return false
	default:
	}
	if p := st.fd.pending; len(p) > 0 {
		c.s.stats.NetOutput.Add(-int64(len(p))) // counted when queued
		c.wmu.Lock()
		_, err := c.writeAll(net.Buffers{p}, len(p))
		c.wmu.Unlock()
		if err != nil {
			return false
		}
	}
	if st.sinkWanted.Load() {
		c.startWriter()
	}
	if st.args != nil && !c.execute(st.args) {
		return false
	}
	return c.runOwn()
}

// loopFD is a connection's socket while a loop serves it: a non-blocking
// descriptor outside Go's poller. Reads and writes happen on the loop's
// goroutine; Close, from any goroutine, shuts the socket down and the loop
// then sees the hang-up and releases the descriptor.
type loopFD struct {
	mu           sync.Mutex // guards fd against Close from other goroutines
	fd           int
	shut         bool
	laddr, raddr net.Addr

	// loop goroutine only
	drained bool   // the last read was short: the input is drained
	hup     bool   // the peer hung up (EPOLLRDHUP): read until EOF
	pending []byte // output the socket did not take
	err     error
}

func (f *loopFD) Read(p []byte) (int, error) {
	if f.drained {
		return 0, errWouldBlock
	}
	for {
		n, err := rawRead(f.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			f.drained = true
			return 0, errWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		if n < len(p) && !f.hup {
			// Level-triggered: data that arrives from now on is reported
			// again, and a FIN with EPOLLRDHUP, so this read need not be
			// followed by one that returns EAGAIN.
			f.drained = true
		}
		return n, nil
	}
}

// Write writes b, keeping what the socket does not take in pending: the
// loop then moves the connection to a goroutine, which writes it first.
// It never blocks.
func (f *loopFD) Write(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if len(f.pending) > 0 {
		f.pending = append(f.pending, b...)
		return len(b), nil
	}
	n := len(b)
	for len(b) > 0 {
		k, err := rawWrite(f.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			f.pending = append([]byte(nil), b...)
			return n, nil
		case err != nil:
			f.err = err
			return n - len(b), err
		}
		b = b[k:]
	}
	return n, nil
}

// Close shuts the socket down; the loop releases it.
func (f *loopFD) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd >= 0 && !f.shut {
		f.shut = true
		unix.Shutdown(f.fd, unix.SHUT_RDWR)
	}
	return nil
}

// release closes the descriptor (loop goroutine).
func (f *loopFD) release() {
	f.mu.Lock()
	fd := f.fd
	f.fd = -1
	f.mu.Unlock()
	if fd >= 0 {
		unix.Close(fd)
	}
}

func (f *loopFD) LocalAddr() net.Addr  { return f.laddr }
func (f *loopFD) RemoteAddr() net.Addr { return f.raddr }

// Deadlines do not apply on a loop (nothing waits there).
func (f *loopFD) SetDeadline(time.Time) error      { return nil }
func (f *loopFD) SetReadDeadline(time.Time) error  { return nil }
func (f *loopFD) SetWriteDeadline(time.Time) error { return nil }

// Reads, writes and polls on a loop's non-blocking descriptors never
// block, so they are made without telling the scheduler (RawSyscall):
// with entersyscall, a write that takes tens of microseconds on a busy
// machine (loopback TCP wakes the peer) lets sysmon take the loop's P
// away and start another thread for it, and keeps sysmon polling every
// 20 µs. Measured with strace: futex and nanosleep calls per request fall
// (docs/design/concurrency.md, "Network path").

func rawRead(fd int, p []byte) (int, error)  { return rawIO(unix.SYS_READ, fd, p) }
func rawWrite(fd int, p []byte) (int, error) { return rawIO(unix.SYS_WRITE, fd, p) }

func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func rawEpollWait(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
