package server

import "time"

// SetLoopHooks sets the event loops' test settings (loopHooks); call it
// before the server runs.
func (s *Server) SetLoopHooks(stealWake int, stealAfter time.Duration, batchHook func(n int)) {
	s.loopHooks = loopHooks{stealWake: stealWake, stealAfter: stealAfter, batchHook: batchHook}
}
