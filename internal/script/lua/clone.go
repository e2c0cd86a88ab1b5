package lua

import (
	"sync"
	"time"

	"github.com/crescent-db/crescent/internal/procid"
	"github.com/crescent-db/crescent/internal/script"
	glua "github.com/yuin/gopher-lua"
)

// Library clones: FUNCTION libraries live in one Lua state (function.go),
// so FCALLs would run one at a time even on disjoint keys. A function
// whose calls leave no trace in that state (script.FunctionInfo.Rerunnable:
// no upvalue assignment anywhere in its library, nothing mutable reachable
// through its upvalues, read-only globals) behaves the same in any state
// where its library was loaded. Such a function runs in a clone: a state
// of its own where the same compiled library was loaded again (in the
// functions' state only when every clone is busy). Clones are made on
// demand, at most GOMAXPROCS (as the engine was made: Engine.procs) per
// library, and belong to one load of the library: FUNCTION LOAD REPLACE,
// DELETE and FLUSH leave them to the garbage collector with the functions
// that point at them.

// cloneLoadMax is the most CPU time a library's load may take (on its
// thread: onThreadCPU) for it still to get clones: a clone is loaded by the
// FCALL that needs it, while it holds its keys.
const cloneLoadMax = 5 * time.Millisecond

// libClones are the clones of one loaded library.
//
// A function that may run in a clone runs in one first, the functions'
// state only when every clone is busy: the idle clones are kept by
// processor (procid), so that each core keeps running in its own clone,
// whose lines stay in that core's caches, and no lock or state passes
// from core to core at every call, as the functions' state and its lock
// did when every call tried them first (docs/design/concurrency.md,
// "Shared lines").
type libClones struct {
	proto *glua.FunctionProto
	names []string // the functions that may run in a clone
	max   int

	free procid.Pool[*clone]

	mu     sync.Mutex // guards made and failed
	made   int
	failed bool // a clone did not load as the original did: no more tries
}

// clone is one copy of a library in a state of its own.
type clone struct {
	s   *state
	fns map[string]*glua.LFunction
}

// enableClones lets the rerunnable functions among fns, just loaded from
// proto in the functions' state in load time, run in clones. The caller
// holds e.fmu.
func (e *Engine) enableClones(proto *glua.FunctionProto, fns []*script.FunctionInfo, load time.Duration) {
	if load > cloneLoadMax {
		return
	}
	lc := &libClones{proto: proto, max: max(1, e.procs)}
	for _, f := range fns {
		if f.Rerunnable {
			lf := f.Fn.(*libFunc)
			lf.clones, lf.name = lc, f.Name
			lc.names = append(lc.names, f.Name)
		}
	}
}

// get returns a free clone, loading a new one if fewer than max exist; nil
// when none can be had.
func (lc *libClones) get(e *Engine) *clone {
	if c, ok := lc.free.Get(); ok {
		return c
	}
	lc.mu.Lock()
	if lc.failed || lc.made >= lc.max {
		lc.mu.Unlock()
		return nil
	}
	lc.made++
	lc.mu.Unlock()
	c := e.newClone(lc)
	if c == nil {
		lc.mu.Lock()
		lc.made--
		lc.failed = true
		lc.mu.Unlock()
	}
	return c
}

// put returns c after a call. A clone whose state ran out of memory is
// dropped, as the EVAL pool drops such states.
func (lc *libClones) put(c *clone) {
	if c.s.broken {
		lc.mu.Lock()
		lc.made--
		lc.mu.Unlock()
		c.s.L.Close()
		return
	}
	lc.free.Put(c, 0)
}

// newClone loads lc's library into a new state. It returns nil if the
// load fails or registers the functions differently (it cannot, the load
// environment being deterministic, but a clone must never run code other
// than the original's).
func (e *Engine) newClone(lc *libClones) *clone {
	s := e.newFuncState()
	fns, err := s.loadLibrary(lc.proto, script.LoadTimeout, nil)
	if err != nil {
		s.L.Close()
		return nil
	}
	c := &clone{s: s, fns: make(map[string]*glua.LFunction, len(fns))}
	for _, f := range fns {
		if f.Rerunnable {
			c.fns[f.Name] = f.Fn.(*libFunc).fn
		}
	}
	for _, name := range lc.names {
		if c.fns[name] == nil {
			s.L.Close()
			return nil
		}
	}
	return c
}
