// CRESCENT: this file is not part of upstream gopher-lua. It gives the VM
// Lua 5.1's line and count hooks (lua_sethook with LUA_MASKLINE and
// LUA_MASKCOUNT), which Redis's Lua debugger (SCRIPT DEBUG) is built on.
// While a hook is set, mainLoopWithContext runs every instruction by its
// generic handler (no fast paths), and calls the hook before an
// instruction that starts a new line, as luaG_traceexec does: on entry to
// a function, on a jump backwards (a loop, even within one line), and when
// the line changes. Without a hook the VM pays one nil check per
// generic-path step.

package lua

// HookEvent says why a Hook is called.
type HookEvent int

const (
	// HookLine: the code is about to run a new line.
	HookLine HookEvent = iota
	// HookCount: HookOptions.Count more instructions ran.
	HookCount
)

// Hook is called by the VM, on the running state's goroutine, before the
// instruction at a new line (HookLine) or every Count instructions
// (HookCount). line is the line about to run. The hook may call Lua code
// (no hook runs meanwhile) and raise errors (L.RaiseError), which the
// running code sees as raised by its current instruction.
type Hook func(L *LState, ev HookEvent, line int)

type hookState struct {
	fn      Hook
	count   int // instructions between HookCount calls; 0: none
	left    int
	running bool // inside fn: no further hook (Lua's allowhook)
	frame   *callFrame
	lastPc  int
}

// SetHook installs fn (nil removes the hook) with a count hook every count
// instructions (0: no count hook). Only code running on L is traced.
func (ls *LState) SetHook(fn Hook, count int) {
	if fn == nil {
		ls.hook = nil
		return
	}
	ls.hook = &hookState{fn: fn, count: count, left: count, lastPc: -1}
}

// traceExec is called by mainLoopWithContext before the instruction at pc
// of frame cf. While the hook runs, the frame is at pc+1, as when its
// instruction runs: errors and GetInfo place it on the new line.
func (ls *LState) traceExec(cf *callFrame, pc int) {
	h := ls.hook
	if h.running {
		return
	}
	proto := cf.Fn.Proto
	line := 0
	if pc < len(proto.DbgSourcePositions) {
		line = proto.DbgSourcePositions[pc]
	}
	if h.count > 0 {
		if h.left--; h.left <= 0 {
			h.left = h.count
			cf.Pc = pc + 1
			ls.callHook(HookCount, line)
			cf.Pc = pc
		}
	}
	var newLine bool
	switch {
	case pc == 0: // a function starts
		newLine = true
	case cf != h.frame: // back from a call: only if the line changes
		newLine = proto.DbgSourcePositions[pc-1] != line
	case pc <= h.lastPc: // a jump back (a loop, even on one line)
		newLine = true
	default:
		newLine = proto.DbgSourcePositions[h.lastPc] != line
	}
	h.frame, h.lastPc = cf, pc
	if newLine {
		cf.Pc = pc + 1
		ls.callHook(HookLine, line)
		cf.Pc = pc
	}
}

func (ls *LState) callHook(ev HookEvent, line int) {
	h := ls.hook
	h.running = true
	defer func() { h.running = false }()
	h.fn(ls, ev, line)
}
