//go:build linux

package server

import "time"

// SetLoopRawWait sets how long the watching loop worker blocks in a raw
// epoll_pwait(2) (eventLoops.rawWait) before the server starts; negative:
// never.
func SetLoopRawWait(s *Server, d time.Duration) { s.loopRawWait = d }

// LoopEpollFD returns the loops' epoll descriptor (-1 when event-loop is
// off).
func LoopEpollFD(s *Server) int {
	if s.loops == nil {
		return -1
	}
	return s.loops.epfd
}
