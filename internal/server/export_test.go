package server

// SetLoopHooks sets the event loops' test settings (loopHooks); call it
// before the server runs.
func (s *Server) SetLoopHooks(stealWake int, batchHook func(n int)) {
	s.loopHooks = loopHooks{stealWake: stealWake, batchHook: batchHook}
}
