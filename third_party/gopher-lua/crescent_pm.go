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

// goLoopCheckEvery is how many iterations a long loop of a library
// function written in Go (table.insert's shift, table.sort's comparisons)
// runs between two stopRequested checks.
const goLoopCheckEvery = 1 << 12

// loopStep counts one iteration of such a loop in *n and, every
// goLoopCheckEvery of them, runs the VM's periodic check: a library call
// that loops for long (table.insert(t, -2^31, v) shifts 2^31 slots; C Lua
// does it without its hook, so Redis cannot stop it) still honours SCRIPT
// KILL, the memory limit and the host's check (which moves a long script
// off its event loop), instead of holding everything until it returns.
func (ls *LState) loopStep(n *int) {
	if *n++; *n >= goLoopCheckEvery {
		*n = 0
		if ls.stopRequested() {
			ls.raiseStopped()
		}
	}
}
