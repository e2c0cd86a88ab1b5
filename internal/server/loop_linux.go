//go:build linux

package server

import (
	"cmp"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/crescent-db/crescent/internal/mono"
)

// eventLoops is the event-loop front end (nil when event-loop is off):
// one epoll instance, edge-triggered for connections, shared by a few
// worker goroutines (eventLoop). Any worker serves any ready connection,
// so a worker the kernel preempts in the middle of its batch delays only
// that batch's connections, not every connection it would own with an
// epoll instance per worker (docs/design/concurrency.md, "One epoll,
// shared workers").
type eventLoops struct {
	s    *Server
	epfd int
	evfd int // eventfd (level-triggered): wakes workers for requests, timeouts and stop
	// rawWait is how long the watching worker blocks in epoll_pwait(2) as
	// a raw system call, keeping its P, before it blocks as an ordinary
	// system call (eventLoop.wait); 0 with GOMAXPROCS 1, where the
	// worker parks in the netpoller instead.
	rawWait time.Duration
	// np is a duplicate of epfd in Go's netpoller, only while the
	// process has a single P (always when rawWait is 0): a worker parks
	// there as an ordinary goroutine (an epoll descriptor is readable
	// while it has ready events), and the runtime polls the goroutine
	// connections' sockets with it. With more Ps epfd stays out of it: a
	// nested epoll descriptor wakes the thread that waits in the
	// runtime's epoll each time a connection gets ready, even while a
	// worker waits on epfd itself or is busy (with it, raw waits cost
	// 0.7–0.9 context switches per unpipelined GET instead of 0.2). The
	// P-count governor (procs.go) switches it with useNetpoll; npMu
	// orders the switches.
	np   atomic.Pointer[netpollEP]
	npMu sync.Mutex

	// Parking (eventLoop.poll): at most one worker waits on epfd
	// (watching; eventLoop.wait); the others idle on idleCh, woken by a worker that finds
	// more ready connections than it serves at once (wakeIdle), or by
	// done at stop.
	watching atomic.Bool
	idle     atomic.Int32 // workers idling on idleCh
	idleCh   chan struct{}
	done     chan struct{} // closed by stopLoops

	mu       sync.Mutex
	conns    map[int32]*loopState // by descriptor
	requests []*conn              // connections to move to a goroutine
	stopping atomic.Bool
	workers  atomic.Int32 // running workers; the last to stop closes the rest
	// sweep: the cron asked for the buffers of idle connections to be
	// released (releaseIdle)
	sweep atomic.Bool

	// Stealing (steal_linux.go; "seventh session" in
	// docs/design/concurrency.md): every worker's batch, so that a worker
	// with nothing of its own serves the unserved rest of another's.
	all atomic.Pointer[[]*eventLoop] // the workers, copy-on-write under mu
	// stealWake: a worker that takes a batch of at least this many ready
	// connections wakes an idle worker, to share it (stealWakeMin);
	// batchHook, when set (tests), runs after a worker took a batch.
	// stealAfter: stealAfter, or the tests' setting.
	stealWake  int
	stealAfter time.Duration
	batchHook  func(n int)
}

// eventLoop is one worker of the loops: a goroutine serving ready
// connections batch by batch. A worker claims a connection
// (loopState.claim) before it serves it and releases it once its replies
// are written, so a connection is served by one worker at a time and its
// replies keep their order.
type eventLoop struct {
	ls *eventLoops
	s  *Server
	// events holds the batch; next is the first event not served yet
	// and n its end. bmu guards next and n, and events[next:n]: another
	// worker may take (steal) the rest of the batch (stealBatch); the
	// owner writes events only once it has taken them all.
	bmu     sync.Mutex
	events  []unix.EpollEvent
	next, n int
	// toFlush: connections served, claimed, whose replies are to be
	// written (flushBatch, right after each); again: connections claimed
	// with events that came while they were claimed, to serve again after
	// the batch.
	toFlush []*conn
	again   []*loopState
	// polledAt is when the poll that returned the batch did (mono.Now;
	// the reply-delay histogram, Server.loopDelay); progress, under bmu,
	// when the owner last took an event of it (stealBatch).
	polledAt, progress int64
	// yielded is when the worker last let other goroutines run (yielded
	// or parked), wokeIdle when it last woke an idle worker (wakeIdle) or
	// parked (mono.Now); parked: it parked since its last batch.
	yielded, wokeIdle int64
	parked            bool
	// clock is the worker's latest clock reading (mono.Now): the poll's,
	// or the end of the last command it ran (Client.ClockMark). Taking
	// an event, writing replies and the yield check use it instead of
	// reading the clock again: a read costs 30-100 ns on this kind of
	// VM (docs/design/concurrency.md, "Clock reads").
	clock int64
	// rawOK: GOMAXPROCS was 2 or more at the last park (eventLoop.wait).
	rawOK bool
}

// wakeAfter is how long a worker may stay busy, finding connections ready
// at every poll, before it wakes an idle worker to share the load.
const wakeAfter = 200 * time.Microsecond

// yieldEvery is how long a busy worker may keep its P between yields.
const yieldEvery = 100 * time.Microsecond

// loopBatch is how many ready connections a worker takes per epoll_wait:
// few enough that a preempted worker holds up only a few of them, while
// the other workers serve the rest (and steal the rest of its batch:
// steal_linux.go).
const loopBatch = 16

// loopBatchOneP is how many a worker takes per epoll_wait at one P, where
// no other worker could serve the rest meanwhile anyway: all that are
// ready, as Redis's one epoll_wait takes them, so that 50 ready clients
// take one poll, not four (docs/design/concurrency.md, "The governor's own
// cost, exact idle time, whole batches at one P").
const loopBatchOneP = 256

// startLoops starts the event-loop workers: event-loops of them, or
// GOMAXPROCS when it is 0.
func (s *Server) startLoops() error {
	n := int(s.cfg.Int("event-loops"))
	if n <= 0 || n > runtime.GOMAXPROCS(0) {
		n = runtime.GOMAXPROCS(0)
	}
	ls, err := newEventLoops(s)
	if err != nil {
		return err
	}
	ls.workers.Store(int32(n))
	s.procs.Store(int32(runtime.GOMAXPROCS(0))) // until the governor sets it (procs.go)
	ws := make([]*eventLoop, n)
	for i := range ws {
		ws[i] = ls.newWorker()
	}
	ls.all.Store(&ws)
	for _, w := range ws {
		s.wg.Add(1)
		go w.run()
	}
	s.loops = ls
	return nil
}

// stopLoops makes the workers close their connections and exit.
func (s *Server) stopLoops() {
	if s.loops == nil {
		return
	}
	if s.loops.stopping.Swap(true) {
		return
	}
	close(s.loops.done)
	s.loops.wake()
}

func newEventLoops(s *Server) (*eventLoops, error) {
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
	rw := s.loopRawWait
	switch {
	case rw == 0:
		rw = rawWaitDefault
	case rw < 0:
		rw = 0
	}
	if runtime.GOMAXPROCS(0) < 2 || strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") {
		rw = 0 // no other P; no signal would reach a raw wait
	}
	ls := &eventLoops{s: s, epfd: epfd, evfd: evfd, conns: map[int32]*loopState{},
		idleCh: make(chan struct{}, runtime.GOMAXPROCS(0)), done: make(chan struct{}), rawWait: rw,
		stealWake: cmp.Or(s.loopHooks.stealWake, stealWakeMin), stealAfter: cmp.Or(s.loopHooks.stealAfter, stealAfter),
		batchHook: s.loopHooks.batchHook}
	if rw == 0 {
		np, err := newNetpollEP(epfd)
		if err != nil {
			unix.Close(epfd)
			unix.Close(evfd)
			return nil, err
		}
		ls.np.Store(np)
	}
	return ls, nil
}

// netpollEP is a duplicate of the loops' epoll descriptor registered in
// Go's netpoller (eventLoops.np).
type netpollEP struct {
	f  *os.File
	rc syscall.RawConn
}

// newNetpollEP registers a duplicate of epfd in Go's netpoller (epfd is
// non-blocking, and so is the duplicate: they share the file).
func newNetpollEP(epfd int) (*netpollEP, error) {
	fd, err := unix.FcntlInt(uintptr(epfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &netpollEP{f: f, rc: rc}, nil
}

// useNetpoll makes the workers wait in Go's netpoller (on: the process
// has a single P) or by raw waits (off; kept on when raw waits are off).
// A worker parked in the netpoller when it is switched off wakes with an
// error and waits again the other way.
func (ls *eventLoops) useNetpoll(on bool) {
	ls.npMu.Lock()
	defer ls.npMu.Unlock()
	switch {
	case on && ls.np.Load() == nil:
		np, err := newNetpollEP(ls.epfd)
		if err != nil {
			ls.s.log.Error("event loops: epoll in the netpoller", "err", err)
			return
		}
		ls.np.Store(np)
	case !on && ls.rawWait > 0:
		if np := ls.np.Swap(nil); np != nil {
			np.f.Close()
		}
	}
}

// rawWaitDefault is eventLoops.rawWait: short, so that nothing the
// runtime would run on the waiting worker's P (a goroutine it readied just
// before, its timers) waits long for an idle P to take it, and an idle
// server soon gives its P up.
const rawWaitDefault = 2 * time.Millisecond

// sleptAfter is how long a raw epoll_pwait(2) must have taken for the
// worker to count it as a wait (eventLoop.parked): a call that finds
// events ready returns within a few microseconds, a sleep and wake-up of
// the thread takes longer.
const sleptAfter = 5 * time.Microsecond

func (ls *eventLoops) newWorker() *eventLoop {
	return &eventLoop{ls: ls, s: ls.s, events: make([]unix.EpollEvent, loopBatchOneP), rawOK: runtime.GOMAXPROCS(0) >= 2}
}

// wait returns the next ready events, waiting for some when none are
// ready, and whether it parked (eventLoop.parked: it waited, and others
// could run meanwhile).
//
// With GOMAXPROCS >= 2 it blocks in epoll_pwait(2) as a raw system call
// (no entersyscall) for up to rawWait: the thread sleeps in the kernel
// holding its P, and one call returns the events, as Redis's one
// epoll_wait does, instead of a park in the netpoller (a scheduler pass
// and about five epoll_pwait calls). Only the watching worker does so, so
// every other goroutine keeps at least one P. The runtime still reaches
// it: a stop-the-world or a preemption signals its thread (SIGURG), and
// epoll_pwait fails with EINTR after any signal handler (it is never
// restarted, signal(7)), so the worker is back in Go code and stops at its
// next function call. When nothing came within rawWait it blocks as an
// ordinary system call (sleepWait), which gives the P up, so an idle
// server holds no P (docs/design/concurrency.md, "Raw waits").
func (l *eventLoop) wait() (int, bool) {
	ls := l.ls
	events := l.batchBuf()
	if np := ls.np.Load(); np != nil {
		return ls.netpollWait(np, events)
	}
	if l.rawOK && ls.s.procs.Load() >= 2 {
		start := mono.Now()
		n, err := rawEpollWait(ls.epfd, events, int(ls.rawWait/time.Millisecond))
		if n > 0 || err != nil {
			// events, or EINTR (a signal: back to Go code, so the
			// runtime can stop the worker; the caller polls again)
			// A sleep counts as a park only while every other worker
			// idles: a goroutine this worker readied (a connection it
			// moved, a pub/sub writer) waits in its P's run queue,
			// which an idle P's thread takes over; with another
			// worker busy, no P would, so the worker goes on yielding
			// every yieldEvery, as when it does not wait.
			slept := mono.Now()-start >= int64(sleptAfter)
			return max(n, 0), slept && ls.idle.Load() >= ls.workers.Load()-1
		}
	}
	n := ls.sleepWait(events)
	// re-checked after each long wait: GOMAXPROCS may have changed, and
	// a raw wait on the only P would keep every other goroutine waiting
	l.rawOK = runtime.GOMAXPROCS(0) >= 2
	return n, true
}

// batchBuf is where the next poll puts its events: loopBatch of them with
// several Ps, loopBatchOneP with one.
func (l *eventLoop) batchBuf() []unix.EpollEvent {
	if l.ls.s.procs.Load() >= 2 {
		return l.events[:loopBatch]
	}
	return l.events
}

// sleepWait blocks in epoll_pwait(2) as an ordinary system call until
// events come: the runtime hands the P to other goroutines meanwhile.
// It returns 0 after a signal.
func (ls *eventLoops) sleepWait(events []unix.EpollEvent) int {
	n, _, e := syscall.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(ls.epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), ^uintptr(0), 0, 0) // timeout -1
	if e != 0 {
		if e != unix.EINTR {
			ls.s.log.Error("epoll_wait", "err", e)
			time.Sleep(10 * time.Millisecond)
		}
		return 0
	}
	return int(n)
}

// netpollWait is wait with GOMAXPROCS 1: it returns the next ready
// events, parking in Go's netpoller (on np) while there are none, and
// whether it parked. It polls first: the
// netpoller forgets, as RawRead begins (prepareRead), a readiness it saw
// before, so a poll made before the call would not cover events that came
// between it and the park.
func (ls *eventLoops) netpollWait(np *netpollEP, events []unix.EpollEvent) (int, bool) {
	n, polls := 0, 0
	err := np.rc.Read(func(uintptr) bool {
		polls++
		k, err := rawEpollWait(ls.epfd, events, 0)
		if err != nil {
			return err != unix.EINTR && err != unix.EAGAIN
		}
		n = k
		return k > 0
	})
	if err != nil && ls.np.Load() == np { // else: switched to raw waits (useNetpoll)
		ls.s.log.Error("epoll_wait", "err", err)
		time.Sleep(10 * time.Millisecond)
	}
	return n, polls > 1
}

// tickLoops wakes the loops from the cron while the idle timeout is set:
// they move their connections to goroutines, which arm read deadlines.
// Once in every sweepEvery ticks it asks them to release the buffers of
// idle connections (releaseIdle).
func (s *Server) tickLoops() {
	if s.loops == nil {
		return
	}
	s.loopTicks++
	if s.loopTicks%sweepEvery == 0 && s.loops.sweep.CompareAndSwap(false, true) {
		s.loops.wake()
		return
	}
	if s.clientLimits.timeout.Int() > 0 {
		s.loops.wake()
	}
}

// sweepEvery: the cron ticks (hz, 10 a second by default) between two
// sweeps of idle connections: Redis's clientsCron also visits each client
// about once a second.
const sweepEvery = 10

// releaseIdle releases the read and reply buffers of the connections no
// worker serves that have been idle for idleRelease (their last command
// began that long ago). It claims each, as a worker does to serve it: a
// connection whose events come meanwhile is served after the batch.
func (l *eventLoop) releaseIdle() {
	cutoff := l.s.clockMs.Load() - idleRelease.Milliseconds()
	for _, st := range l.ls.served() {
		c := st.c
		// qcap 0: released already, or never read (no locks for those;
		// a command after a release publishes its buffer's size again)
		if c.qcap.Load() == 0 || c.cl.LastTime.Load() > cutoff || !l.ls.serving(st) || !st.claim(0, l) {
			continue
		}
		c.releaseBuffers()
		if st.release() {
			l.again = append(l.again, st)
		}
	}
}

func (ls *eventLoops) wake() {
	var one = [8]byte{1}
	unix.Write(ls.evfd, one[:])
}

// adopt takes a new plain TCP connection out of Go's netpoller into the
// loops. It reports false (the connection stays as it was) when it
// cannot.
func (s *Server) adopt(c *conn) bool {
	if !s.adoptConn(c) {
		return false
	}
	return true
}

// rejoin puts a connection that moved to a goroutine back into the loops
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
	ls := s.loops
	if !ok || ls == nil || ls.stopping.Load() {
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
	lf := &loopFD{fd: fd, laddr: sc.LocalAddr(), raddr: sc.RemoteAddr(), unsent: &c.unsent}
	c.cl.FD.Store(int32(fd))
	st := &loopState{c: c, fd: lf}
	c.ncMu.Lock()
	old := c.nc
	c.nc, c.lp = lf, st
	c.cl.NoWait = true
	c.cl.Detach = c.detachFromLoop
	c.cl.BeforePark = ls.wakeIdle
	c.ncMu.Unlock()
	old.Close() // leaves Go's poller; the duplicate keeps the socket
	ls.mu.Lock()
	ls.conns[int32(fd)] = st
	ls.mu.Unlock()
	// Edge-triggered: an event comes when data (or a FIN) arrives, and
	// once at registration if some is there already. A worker reads
	// until a short read (loopFD.Read) or EAGAIN, so it never leaves
	// input that no event would report.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(ls.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		// cannot happen for a fresh socket; the connection is lost
		ls.mu.Lock()
		delete(ls.conns, int32(fd))
		ls.mu.Unlock()
		lf.release()
		c.finish()
		return true
	}
	return true
}

// requestSink is sinkFor's part for a connection on a loop: it asks the
// loops to move the connection to a goroutine, which then starts the push
// writer. It reports false when the connection has a goroutine already.
func (c *conn) requestSink() bool {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	st := c.lp
	if st == nil {
		return false
	}
	st.sinkWanted.Store(true)
	ls := c.s.loops
	ls.mu.Lock()
	ls.requests = append(ls.requests, c)
	ls.mu.Unlock()
	ls.wake()
	return true
}

func (l *eventLoop) run() {
	defer l.s.wg.Done()
	ls := l.ls
	for {
		if ls.stopping.Load() { // checked first: this worker may have
			l.exit() // replaced one that saw the stop wake-up
			return
		}
		if l.batchDone() && !l.stealBatch() {
			n := l.poll()
			l.setBatch(n, mono.Now()) // the worker's clock (eventLoop.clock)
			if multiP := ls.s.procs.Load() >= 2; multiP && (n == loopBatch || n >= ls.stealWake && n > 1) {
				// more may be ready than one batch; or another worker
				// is to serve the rest of this one if this one stalls
				ls.wakeIdle()
			} else if !multiP && n >= loopBatch && l.clock >= ls.s.procPokeAt.Load() {
				// at one P, a multi-P batch's worth: the governor may add Ps now
				// (procs.go) rather than at its next window; once per window
				// (Server.procPokeAt: each send wakes its goroutine, on the
				// only P, and one look is all a window allows)
				ls.s.procPokeAt.Store(math.MaxInt64)
				select {
				case ls.s.procPoke <- struct{}{}:
				default:
				}
			}
			if ls.batchHook != nil && n > 0 {
				ls.batchHook(n)
			}
		}
		// With several Ps each connection's replies go out as soon as it
		// is served: a worker the kernel takes off its core mid-batch
		// would hold them ("Tail latency: stealing the rest of a stalled
		// batch"). With one P nothing else serves meanwhile anyway, and
		// writing them after the batch, as Redis does in beforeSleep,
		// gives the clients' next requests time to arrive together, for
		// the next poll, instead of waking the worker for each.
		eachNow := ls.s.procs.Load() >= 2
		for {
			ev, ok := l.take()
			if !ok {
				break
			}
			if int(ev.Fd) == ls.evfd {
				l.woken()
				continue
			}
			ls.mu.Lock()
			st := ls.conns[ev.Fd]
			ls.mu.Unlock()
			if st != nil && st.claim(ev.Events, l) {
				if !l.handle(st, ev.Events) {
					return // detached: a new worker took over
				}
				if eachNow {
					l.flushBatch() // its replies now, not after the batch
				}
			}
		}
		l.flushBatch()
		for len(l.again) > 0 {
			st := l.again[0]
			l.again = l.again[1:]
			if !l.handle(st, 0) {
				return // detached
			}
			l.flushBatch()
		}
		// Its syscalls being raw, a busy worker never gives its P up on
		// its own: it lets other goroutines (connections on goroutines,
		// timers, the collector) run at least every yieldEvery, between
		// batches, unless it parked meanwhile (parking gives the P up). A
		// yield after every batch cost 2–15% of the server CPU of an
		// unpipelined GET, and one every 100 µs whether or not the worker
		// parked meanwhile made half of its futex calls: runtime.Gosched
		// wakes a thread (docs/design/concurrency.md, "Adaptive workers").
		now := l.clock // read at the end of the batch's last command, or its poll
		if l.parked {
			l.parked = false
			l.yielded, l.wokeIdle = now, now
		}
		if now-l.wokeIdle >= int64(wakeAfter) && ls.s.procs.Load() >= 2 {
			ls.wakeIdle() // busy for a while: work for two
			l.wokeIdle = now
		}
		if now-l.yielded >= int64(yieldEvery) {
			runtime.Gosched()
			l.yielded = now
		}
	}
}

// poll returns the next ready events, waiting for some when none are
// ready and no claimed connection is to be served again: on epfd
// (wait) when no other worker waits there, or else idle until a busy
// worker or the stop wakes it (then it returns 0, to poll again). So
// while one worker keeps up with the load the others sleep: a
// connection's readiness wakes one goroutine, and no second worker is
// woken only to find nothing to do (docs/design/concurrency.md, "Adaptive
// workers").
//
// No event is left unseen: a worker idles only after it found another one
// holding watching, which then either waits on epfd (an event
// wakes it) or is about to serve what it found and poll again.
func (l *eventLoop) poll() int {
	ls := l.ls
	if len(l.again) == 0 && ls.watching.CompareAndSwap(false, true) {
		n, parked := l.wait()
		ls.watching.Store(false)
		l.parked = l.parked || parked
		return n
	}
	n, _ := rawEpollWait(ls.epfd, l.batchBuf(), 0)
	if n > 0 || len(l.again) > 0 {
		return max(n, 0)
	}
	l.parked = true
	ls.idle.Add(1)
	select {
	case <-ls.idleCh:
	case <-ls.done:
	}
	ls.idle.Add(-1)
	return 0
}

// wakeIdle wakes an idle worker, if there is one.
func (ls *eventLoops) wakeIdle() {
	if ls.idle.Load() > 0 {
		select {
		case ls.idleCh <- struct{}{}:
		default: // enough wake-ups queued
		}
	}
}

// exit ends a worker; the last one to stop closes the connections.
func (l *eventLoop) exit() {
	ls := l.ls
	if ls.workers.Add(-1) == 0 && ls.stopping.Load() {
		ls.closeAll()
	}
}

// woken serves the eventfd: stop (left readable, so that every worker
// sees it), requests to move connections, the idle timeout.
func (l *eventLoop) woken() {
	ls := l.ls
	if ls.stopping.Load() {
		return
	}
	var b [8]byte
	unix.Read(ls.evfd, b[:])
	l.serveRequests()
	if ls.sweep.CompareAndSwap(true, false) {
		l.releaseIdle()
	}
	if l.s.clientLimits.timeout.Int() > 0 {
		l.handoffAll() // the idle timeout needs read deadlines
	}
}

// claim makes l the worker serving st and reports true, or records
// events for the worker serving it now, which serves it again when it
// releases it, and reports false.
func (st *loopState) claim(events uint32, l *eventLoop) bool {
	for {
		s := st.claimed.Load()
		if s == 0 {
			if st.claimed.CompareAndSwap(0, 1) {
				st.loop = l
				return true
			}
			continue
		}
		st.pendEv.Or(events)
		if st.claimed.CompareAndSwap(s, 3) {
			return false
		}
	}
}

// release gives st up after its replies were written. When events came
// meanwhile it keeps st claimed and reports true: the worker serves it
// again.
func (st *loopState) release() bool {
	if st.claimed.CompareAndSwap(1, 0) {
		return false
	}
	st.claimed.Store(1)
	return true
}

// flushBatch writes the replies of the connections served since the last
// call and releases them. The worker calls it after each connection it
// served, not once after the whole batch as Redis does before it sleeps:
// a worker the kernel preempts in the middle of a batch then holds back
// no finished replies, and another worker may serve the connection again
// at once (docs/design/concurrency.md, "seventh session"); the number of
// writes is the same. A connection with events that came while it was
// claimed goes to l.again.
func (l *eventLoop) flushBatch() {
	if len(l.toFlush) == 0 {
		return
	}
	// the end of the last command served is when its replies go out
	now := l.toFlush[len(l.toFlush)-1].cl.ClockMark
	if now == 0 {
		now = mono.Now()
	}
	l.clock = now
	for i, c := range l.toFlush {
		l.toFlush[i] = nil
		st := c.lp
		if st == nil || st.loop != l || st.detached {
			continue // moved meanwhile; its goroutine writes
		}
		switch err := c.flush(); {
		case err != nil:
			// shut down only: the hang-up comes as an event
			// (this may run inside a detaching script, holding its locks)
			c.close()
		case len(st.fd.pending) > 0:
			l.handoff(c) // the socket did not take it all
			continue
		default:
			l.recordDelay(now)
			c.endBatch() // maxmemory-clients (client_evict.go)
		}
		if st.release() {
			l.again = append(l.again, st)
		}
	}
	l.toFlush = l.toFlush[:0]
}

// recordDelay counts a connection whose replies were written at now, in
// the histogram of reply delays (Server.loopDelay).
func (l *eventLoop) recordDelay(now int64) {
	usec := (now - l.polledAt) / 1000
	l.s.loopDelay.Record(usec)
	l.s.loopDelayUsec.AddHere(usec)
}

// handle serves a connection claimed by l. It reports false when the
// connection detached from the loops while it ran (detachFromLoop): the
// calling goroutine is no longer a worker and must return.
func (l *eventLoop) handle(st *loopState, events uint32) bool {
	c := st.c
	events |= st.pendEv.Swap(0)
	st.fd.drained = false
	if events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		st.fd.hup = true // edge-triggered: no second report
	}
	ok := c.runGuarded() // run, a panic closing c (recover.go)
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
		l.ls.drop(c)
		return true
	}
	if st.leave || st.args != nil || len(st.fd.pending) > 0 || st.sinkWanted.Load() || l.s.clientLimits.timeout.Int() > 0 {
		l.handoff(c) // its goroutine writes the replies first
		return true
	}
	l.toFlush = append(l.toFlush, c) // flushBatch releases it
	return true
}

// detachFromLoop is the connection's Client.Detach while a loop serves it:
// called from inside a command that runs long (a script), on the worker's
// goroutine. It takes the connection out of the loops and starts a new
// worker with the rest of the batch; the calling goroutine finishes the
// command, then moves the connection to a goroutine of its own (handle)
// and stops being a worker.
func (c *conn) detachFromLoop() {
	st := c.lp
	if st == nil || !c.cl.NoWait || st.detached {
		return
	}
	l := st.loop
	l.flushBatch() // the new worker does not know these
	l.ls.forget(c)
	st.detached, st.leave = true, true
	c.cl.NoWait = false
	c.cl.Detach, c.cl.BeforePark = nil, nil
	nw := l.ls.newWorker()
	l.bmu.Lock()
	nw.n = copy(nw.events, l.events[l.next:l.n])
	l.next = l.n
	l.bmu.Unlock()
	nw.polledAt, nw.clock = l.polledAt, mono.Now()
	l.ls.replaceWorker(l, nw)
	nw.again = append(nw.again, l.again...) // claimed: the new worker serves them
	for _, st := range nw.again {
		st.loop = nw
	}
	l.again = l.again[:0]
	l.s.wg.Add(1)
	go nw.run() // counted in ls.workers in place of this goroutine
	// The new worker waits in this P's run queue while the script runs
	// on; the watching worker, blocked raw on its own P (wait), would
	// not take it over. Let it run first.
	runtime.Gosched()
}

func (l *eventLoop) serveRequests() {
	ls := l.ls
	ls.mu.Lock()
	reqs := ls.requests
	ls.requests = nil
	ls.mu.Unlock()
	for _, c := range reqs {
		// a detached connection's goroutine may be moving it (handoff)
		c.ncMu.Lock()
		st := c.lp
		c.ncMu.Unlock()
		if st != nil && ls.serving(st) && st.claim(0, l) {
			l.handoff(c)
		} // claimed elsewhere: its worker sees sinkWanted when it serves it again
	}
}

// serving reports whether the loops serve st now.
func (ls *eventLoops) serving(st *loopState) bool {
	st.fd.mu.Lock()
	fd := st.fd.fd
	st.fd.mu.Unlock()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return fd >= 0 && ls.conns[int32(fd)] == st
}

// served returns the connections the loops serve now.
func (ls *eventLoops) served() []*loopState {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	all := make([]*loopState, 0, len(ls.conns))
	for _, st := range ls.conns {
		all = append(all, st)
	}
	return all
}

// handoffAll moves every connection no other worker serves now to a
// goroutine; the others move when their worker serves them.
func (l *eventLoop) handoffAll() {
	for _, st := range l.ls.served() {
		if st.claim(0, l) {
			l.handoff(st.c)
		}
	}
}

// closeAll closes the connections and the epoll instance, once every
// worker stopped.
func (ls *eventLoops) closeAll() {
	for _, st := range ls.served() {
		ls.drop(st.c)
	}
	ls.useNetpoll(false)
	if np := ls.np.Load(); np != nil { // raw waits off: kept until now
		np.f.Close()
	}
	unix.Close(ls.epfd)
	unix.Close(ls.evfd)
}

// forget removes c from the loops.
func (ls *eventLoops) forget(c *conn) {
	fd := c.lp.fd.fd
	ls.mu.Lock()
	delete(ls.conns, int32(fd))
	ls.mu.Unlock()
	unix.EpollCtl(ls.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// drop closes a connection served by the loops.
func (ls *eventLoops) drop(c *conn) {
	ls.forget(c)
	c.close()
	c.lp.fd.release()
	c.finish()
}

// handoff moves c to a goroutine of its own, with its unread input (the
// reader's buffer), pending output and client state.
func (l *eventLoop) handoff(c *conn) {
	l.ls.forget(c)
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
	c.idleArmed = false // a new socket: no deadline (idle.go)
	c.noteFD(nc)
	// net.FileConn turns the runtime's default keep-alive (15 s) on: put
	// tcp-keepalive's back (or off)
	l.s.setKeepAlive(nc)
	c.cl.NoWait = false
	c.cl.Detach, c.cl.BeforePark = nil, nil
	c.fromLoop, c.streak = true, 0
	// A move for a passing reason comes back at once: a connection on a
	// goroutine is served by a netpoller wake-up of its own per request,
	// competing with the busy workers for a P (concurrency.md, "Tail
	// latency: where the p99 goes").
	switch {
	case st.detached:
		c.streak = rejoinAfter // a long script: back at its next read
	case st.lockBusy && st.args != nil:
		c.streak = rejoinAfter - 1 // a busy lock: back after that command
	}
	c.ncMu.Unlock()
	l.s.loopMoves.Add(1)
	l.s.wg.Add(1)
	go func() {
		defer l.s.wg.Done()
		defer c.recoverConn("connection") // recover.go
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
		c.s.stats.NetOutput.AddHere(-int64(len(p))) // counted when queued
		c.wmu.Lock()
		_, err := c.writeAllTracked(net.Buffers{p}, len(p), true) // unsent follows it (outmodel.go)
		c.wmu.Unlock()
		c.unsent.Store(0) // counted until the socket took it (client_evict.go)
		c.clearUnit()
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

	// the serving worker only (loopState.claim)
	drained bool   // the last read was short: the input is drained
	hup     bool   // the peer hung up (EPOLLRDHUP): read until EOF
	pending []byte // output the socket did not take
	err     error
	// unsent, the connection's count of replies not taken by the socket
	// (client_evict.go), follows pending for the other goroutines
	unsent *atomic.Int64
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
			// A short read emptied the socket's queue: data that arrives
			// from now on is a new edge, and a FIN comes with
			// EPOLLRDHUP, so this read need not be followed by one that
			// returns EAGAIN.
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
		f.noteUnsent()
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
			f.noteUnsent()
			return n, nil
		case err != nil:
			f.err = err
			return n - len(b), err
		}
		b = b[k:]
	}
	return n, nil
}

// noteUnsent publishes how much output the socket did not take.
func (f *loopFD) noteUnsent() {
	if f.unsent != nil {
		f.unsent.Store(int64(len(f.pending)))
	}
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

// rawEpollWait is epoll_pwait(2) waiting up to msec milliseconds (0: a
// poll). Only the watching worker waits (eventLoop.wait).
func rawEpollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
