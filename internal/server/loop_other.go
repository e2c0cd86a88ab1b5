//go:build !linux

package server

import (
	"net"
	"sync"
)

// eventLoops is unused off Linux: event-loop is ignored.
type eventLoops struct{}

type eventLoop struct{}

func (s *Server) startLoops() error   { return nil }
func (s *Server) stopLoops()          {}
func (s *Server) adopt(c *conn) bool  { return false }
func (s *Server) rejoin(c *conn) bool { return false }
func (c *conn) requestSink() bool     { return false }
func (s *Server) tickLoops()          {}

// procSource is Linux-only (procs_linux.go).
type procSource interface{}

// startProcGovernor is Linux-only (procs_linux.go): Ps stay as they are.
func (s *Server) startProcGovernor() (stop func()) { return func() {} }

// loopFD is never created off Linux.
type loopFD struct {
	net.Conn
	mu      sync.Mutex
	fd      int
	pending []byte
}
