package server

import (
	"net"
	"time"

	"github.com/crescent-db/crescent/internal/command"
)

// SetLoopHooks sets the event loops' test settings (loopHooks); call it
// before the server runs.
func (s *Server) SetLoopHooks(stealWake int, stealAfter time.Duration, batchHook func(n int)) {
	s.loopHooks = loopHooks{stealWake: stealWake, stealAfter: stealAfter, batchHook: batchHook}
}

// SetPanicHooks sets the panic tests' hooks, before Run: cron runs at the
// start of each cron tick's work; read, when not nil, before each socket
// read of every new connection (with its client); wrap, when not nil,
// replaces each new connection's socket (which then stays off the event
// loops).
func (s *Server) SetPanicHooks(cron func(), read func(cl *command.Client), wrap func(net.Conn) net.Conn) {
	s.cronHook = cron
	s.connHook = func(c *conn) {
		if wrap != nil {
			c.nc = wrap(c.nc)
		}
		if read != nil {
			before := c.rd.BeforeRead
			c.rd.BeforeRead = func() error {
				read(c.cl)
				return before()
			}
		}
	}
}
