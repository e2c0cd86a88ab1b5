//go:build !linux

package server

// watchClose is a no-op where MSG_PEEK polling is not wired: a client
// that hangs up while blocked is noticed at its next read.
func (c *conn) watchClose() func() { return func() {} }
