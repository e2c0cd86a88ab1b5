//go:build !linux

package server

import (
	"net"
	"sync/atomic"
)

// rawSource is the Linux fast read path (rawread_linux.go); elsewhere
// connections always use the goroutine path.
type rawSource struct{}

func newRawSource(net.Conn, *atomic.Int64) *rawSource { return nil }

func (r *rawSource) Read([]byte) (int, error) { return 0, errWouldBlock }

func (c *conn) serveRaw() {}
