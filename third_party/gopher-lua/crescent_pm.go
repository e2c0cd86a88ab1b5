// CRESCENT: this file is not part of upstream gopher-lua. Pattern matching
// (string.find/match/gmatch/gsub) runs in Go, outside the VM loop that
// checks for SCRIPT KILL and memory every ctxCheckEvery instructions; these
// helpers make the matcher and gsub's result building honour the same
// interrupt and limits.

package lua

// stopRequested reports whether the script must stop now: its context is
// done (SCRIPT KILL, deadline) or the host's memory check fails.
func (ls *LState) stopRequested() bool {
	if ls.ctx != nil {
		select {
		case <-ls.ctx.Done():
			return true
		default:
		}
	}
	return ls.mem != nil && ls.mem.Check != nil && ls.mem.Check()
}

// raiseStopped raises the error the VM raises for the condition that
// stopRequested saw.
func (ls *LState) raiseStopped() {
	if ls.ctx != nil && ls.ctx.Err() != nil {
		ls.RaiseError(ls.ctx.Err().Error())
	}
	ls.MemoryError()
}
