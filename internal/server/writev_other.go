//go:build !linux

package server

import "net"

// writevTracked is writev_linux.go's; elsewhere pushes are written by
// net.Buffers.WriteTo, their progress known after the write.
func (c *conn) writevTracked(net.Buffers) (int64, bool, error) { return 0, false, nil }

// rawWrite is writev_linux.go's; elsewhere writes go through net.Conn,
// their progress known after the write.
func (c *conn) rawWrite(net.Buffers, func(int)) (int64, bool, error) { return 0, false, nil }
