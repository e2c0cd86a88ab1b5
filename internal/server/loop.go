package server

import (
	"errors"
	"os"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
)

// The event-loop front end (event-loop yes; Linux only, loop_linux.go).
//
// A plain TCP connection is taken out of Go's netpoller at accept and
// registered in one epoll instance (edge-triggered, EPOLLIN|EPOLLRDHUP)
// shared by GOMAXPROCS worker goroutines. A worker takes up to loopBatch
// ready connections at a time (every ready one, up to loopBatchOneP, at
// one P), claims each (loopState.claim: one worker serves a connection at
// a time), runs the connection's usual code (conn.run: resp.Reader,
// exec.Execute, resp.Writer, output limits) until the input is drained,
// reading once per readiness when the read comes back short and the peer
// has not hung up (EPOLLRDHUP), and with several Ps writes each
// connection's replies, one write(2), right after serving it, before it
// lets the connection go (at one P, after the batch, as Redis does). So
// an unpipelined request costs one read and one write, with no goroutine
// parking or waking, and a worker the kernel preempts holds up only the
// connection it is serving: the other workers go on serving every other
// connection, the unserved rest of its batch included (steal_linux.go).
//
// Whatever may wait moves the connection, permanently and with its input,
// output and client state, to the goroutine-per-connection path: a
// command exec.MayWait reports (blocking, admin, EXEC, WAIT,
// SUBSCRIBE...), one that would wait for a running script's locks or poll
// for BUSY (Client.NoWait), CLIENT PAUSE in force, a reply the socket does
// not take at once (slow readers, large replies: the rest is written
// first by the goroutine), a pub/sub or MONITOR sink, and the idle
// timeout. TLS connections never enter a loop.

// A connection that moved to a goroutine goes back to a loop (rejoin) at
// its next read once it has run rejoinAfter commands there, none of which
// may wait, and nothing else keeps it off the loops (canRejoin): a client
// that left for one blocking call, a lock held by a script, a long script
// or an administrative command is served by a loop again, while one that
// keeps calling commands that may wait stays on its goroutine. A
// connection that left only for a busy lock (Client.LockBusy) or a script
// that ran long comes back right after that command (handoff).
const rejoinAfter = 32

// errRejoin is returned by a goroutine's reads (beforeRead) when its
// connection is to go back to an event loop: conn.run returns, and the
// goroutine hands the connection over (conn.runOwn).
var errRejoin = errors.New("rejoin an event loop")

// canRejoin reports whether a connection on a goroutine may go back to a
// loop (it is not a push sink, and no setting would send it off again).
func (c *conn) canRejoin() bool {
	if c.writerOn.Load() || c.closed.Load() || c.cl.Flags&(command.ClientPubSub|command.ClientCloseAfterReply|command.ClientReplica) != 0 {
		return false
	}
	l := &c.s.clientLimits
	if l.timeout.Int() > 0 || (l.aofOn.String() == "yes" && l.aofFsync.String() == "always") {
		return false
	}
	paused, _ := c.s.cmds.PauseInfo()
	return !paused
}

// errWouldBlock is returned by a loop connection's reads when its input
// is drained: conn.run returns to the loop.
var errWouldBlock = errors.New("would block")

// loopState is the event-loop state of a connection.
type loopState struct {
	c *conn
	// loop is the worker serving the connection (set by claim).
	loop *eventLoop
	fd   *loopFD
	// claimed: 0 free, 1 a worker serves the connection, 3 and events
	// came meanwhile (their flags in pendEv): the worker serves it again
	// before it lets go (loop_linux.go, claim and release).
	claimed atomic.Uint32
	pendEv  atomic.Uint32
	// args is the command that made the connection move to a goroutine,
	// not yet run (it aliases the reader's buffer, which is not read
	// again before it runs).
	args [][]byte
	// leave asks the loop to move the connection to a goroutine.
	leave bool
	// lockBusy: it leaves because its command's locks were busy
	// (Client.LockBusy); it comes back after that command.
	lockBusy bool
	// detached: the connection left the loop while a command ran
	// (detachFromLoop); the goroutine that ran it no longer serves the
	// loop.
	detached bool
	// sinkWanted: the connection became a pub/sub or MONITOR sink.
	sinkWanted atomic.Bool
}

// mustLeave reports, before a command runs on the loop, whether the
// connection must move to a goroutine first.
func (st *loopState) mustLeave(c *conn) bool {
	if st.leave || len(st.fd.pending) > 0 || st.sinkWanted.Load() {
		return true
	}
	if c.s.clientLimits.timeout.Int() > 0 {
		return true // idle timeout: read deadlines
	}
	if l := &c.s.clientLimits; l.aofOn.String() == "yes" && l.aofFsync.String() == "always" {
		// replies wait for the fsync: waiting on the loop would
		// serialise its clients behind one group commit each
		return true
	}
	if paused, _ := c.s.cmds.PauseInfo(); paused {
		return true // CLIENT PAUSE: the command may wait
	}
	return false
}

// eventLoopDefault is the default of the event-loop directive: yes (it
// is ignored off Linux). CRESCENT_EVENT_LOOP=yes|no overrides it (CI runs
// the server suites both ways).
func eventLoopDefault() string {
	switch v := os.Getenv("CRESCENT_EVENT_LOOP"); v {
	case "yes", "no":
		return v
	}
	return "yes"
}

// LoopMoves returns how many times a connection moved from an event loop
// to a goroutine.
func (s *Server) LoopMoves() int64 { return s.loopMoves.Load() }

// IdleReleases returns how many read buffers idle loop connections
// released (eventLoop.releaseIdle).
func (s *Server) IdleReleases() int64 { return s.idleReleases.Load() }

// LoopSteals returns how many ready connections a loop worker took from
// another worker's batch (steal_linux.go).
func (s *Server) LoopSteals() int64 { return s.loopSteals.Load() }

// loopHooks are the event loops' test settings, set before the server
// runs: stealWake and stealAfter replace stealWakeMin and stealAfter when
// not 0, and batchHook, when set, runs on a worker after it took a batch
// of n ready events, before it serves them.
type loopHooks struct {
	stealWake  int
	stealAfter time.Duration
	batchHook  func(n int)
}

// LoopConns returns how many connections event loops serve now.
func (s *Server) LoopConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.clients {
		c.ncMu.Lock()
		if c.lp != nil {
			n++
		}
		c.ncMu.Unlock()
	}
	return n
}
