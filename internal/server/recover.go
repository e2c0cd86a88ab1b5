package server

import (
	"fmt"
	"runtime/debug"
)

// A Go panic outside a command's handler (the executor recovers those,
// exec/panic.go) is a bug in the code serving one client: its reading and
// parsing, the executor's checks before the handler and its bookkeeping
// after it, the event loop's handling of its events, its push writer. It
// must not take every other client down with the process: the serving
// code recovers it per connection (recoverConn, runGuarded), logs it with
// its stack, counts it (INFO stats' crescent_server_panics), releases the
// lock set its command held (exec.Executor.ReleaseAfterPanic), answers an
// error where a reply is possible and closes that connection only. The
// cron recovers each tick (cronTick), a replica's writer its link
// (persist). What the connection's command did before the panic stays
// done, as after a handler's panic; the client cannot know where its
// command stopped, hence the close. The master's link and the AOF loader
// do not run on these paths: a panic there still ends the process, on
// purpose (exec/panic.go). See docs/design/fidelity.md, lua22.
//
// The recovery costs one deferred call per connection goroutine and per
// event-loop visit of a connection (a batch of commands), none per
// command; the executor's part is one store of the lock set in the client
// before the handler and one after it.

// errConnPanic is the error a client gets when a panic outside a handler
// ended its connection.
const errConnPanic = "-ERR internal error (see the server log)\r\n"

// recoverConn is deferred by the goroutines serving c: a panic is noted,
// c answered and closed (connPanicked), then removed (finish), as when its
// serving loop returns false.
func (c *conn) recoverConn(where string) {
	if v := recover(); v != nil {
		c.connPanicked(where, v)
		c.finish()
	}
}

// runGuarded is run for an event loop: a panic makes it report false (the
// loop drops the connection) after connPanicked.
func (c *conn) runGuarded() (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.connPanicked("event loop", v)
			ok = false
		}
	}()
	return c.run()
}

// connPanicked handles a panic v recovered while serving c: logged and
// counted, c's command's locks released, an error appended to the
// replies not yet written, which are flushed, and c closed. A second
// panic on the way (a broken writer) is swallowed: c is closed regardless.
func (c *conn) connPanicked(where string, v any) {
	s := c.s
	s.notePanic(where, c.cl.Addr, v)
	released := s.exec.ReleaseAfterPanic(c.cl)
	if released {
		s.log.Warn("released the locks of the command of a client whose connection panicked", "addr", c.cl.Addr)
	}
	func() {
		defer func() { recover() }()
		c.gate.muting = false
		c.w.Buf = append(c.w.Buf, errConnPanic...)
		c.flush()
	}()
	c.close()
}

// cronTick runs one tick of the cron (tick), recovering a panic: noted,
// the shard the active expiry held released, and the next tick runs as
// usual.
func (s *Server) cronTick(tick func()) {
	defer func() {
		if v := recover(); v != nil {
			s.notePanic("cron", "", v)
			if sh := s.expireLocked; sh >= 0 {
				s.expireLocked = -1
				s.store.UnlockShard(sh)
			}
		}
	}()
	tick()
}

// notePanic counts a panic recovered outside a command handler and logs
// it with the stack of the goroutine that recovers it (still the one
// that panicked). addr is the client's, when one was served.
func (s *Server) notePanic(where, addr string, v any) {
	s.exec.ServerPanics.Add(1)
	s.log.Warn("a panic was recovered outside a command handler: "+where+" (see the stack)",
		"addr", addr, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}
