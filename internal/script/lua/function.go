package lua

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/script"
	glua "github.com/yuin/gopher-lua"
)

// FUNCTION libraries, as Redis 7.0's function_lua.c: every library is
// loaded into one Lua state kept for functions (so upvalues a library
// keeps live across calls, as in Redis). While a library's code runs, the
// globals resolve to the load environment, which holds only
// redis.register_function, redis.log, the log levels and the version;
// afterwards they resolve to the usual sandbox again, so the registered
// callbacks see the full API (but no KEYS/ARGV globals: they get keys and
// args as parameters).

// libFunc is a function registered by a library.
type libFunc struct {
	st *state
	fn *glua.LFunction
	// clones, when set, holds copies of the library that can run this
	// function while the functions' state is busy (clone.go).
	clones *libClones
	name   string
	// frozen: the function is script.FunctionInfo.Rerunnable, so it
	// cannot keep its keys and args tables past a call (no upvalue it
	// assigns, nothing mutable it reaches, read-only globals): they are
	// reused.
	frozen bool
	// countsMem: the function names collectgarbage or gcinfo
	// (namesMemCount), so its calls read the memory baseline at the start.
	countsMem bool
}

// loadCtx collects the functions a loading library registers.
type loadCtx struct {
	funcs []*script.FunctionInfo
}

// funcState returns the functions' state, creating it on first use. The
// caller holds e.fmu.
func (e *Engine) funcState() *state {
	if e.fst == nil {
		e.fst = e.newFuncState()
	}
	return e.fst
}

// newFuncState returns a new state set up for FUNCTION libraries: the
// functions' state, or one of a library's clones (clone.go).
func (e *Engine) newFuncState() *state {
	s := e.newState()
	s.gc = &e.fgc
	L := s.L
	// What EVAL has and functions have not: the error handler as a global
	// (functions keep it in the registry) and the EVAL-only redis calls.
	s.realG.RawSetString("__redis__err__handler", glua.LNil)
	if redis, ok := s.proxies[s.realG.RawGetString("redis").(*glua.LTable)]; ok {
		for _, name := range []string{"replicate_commands", "breakpoint", "debug"} {
			redis.RawSetString(name, glua.LNil)
		}
	}
	api := L.NewTable()
	api.RawSetString("register_function", L.NewFunction(s.registerFunction))
	api.RawSetString("log", L.NewFunction(s.log))
	for name, v := range map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3} {
		api.RawSetString(name, glua.LNumber(v))
	}
	api.RawSetString("REDIS_VERSION", glua.LString(e.opts.Version))
	api.RawSetString("REDIS_VERSION_NUM", glua.LNumber(e.opts.VersionNum))
	L.SetMetatable(api, s.gmeta)
	s.loadG = L.NewTable()
	s.loadG.RawSetString("redis", s.protect(api))
	L.SetMetatable(s.loadG, s.gmeta)
	return s
}

// Errors of FUNCTION LOAD (Redis 7.0 texts, without "ERR ").
const (
	errLoadCompile  = "Error compiling function: "
	errLoadRegister = "Error registering functions: "
	errLoadTimeout  = "ERR FUNCTION LOAD timeout" // Redis pushes it as an error table (luaPushError)
)

// LoadLibrary runs a library's code in the load environment and returns
// the functions it registered (script.Loader).
func (e *Engine) LoadLibrary(code []byte, timeout time.Duration, log func(level int, msg string)) ([]*script.FunctionInfo, error) {
	fn, err := e.Compile("user_function", code)
	if err != nil {
		return nil, errors.New(errLoadCompile + err.Error())
	}
	proto := fn.(*compiled).proto
	e.fmu.Lock()
	defer e.fmu.Unlock()
	s := e.funcState() // created on first use: not part of the load's time
	var fns []*script.FunctionInfo
	cost := onThreadCPU(func() { fns, err = s.loadLibrary(proto, timeout, log) })
	if err != nil {
		return nil, err
	}
	e.enableClones(proto, fns, cost)
	return fns, nil
}

// loadLibrary runs a library's compiled code in s's load environment and
// returns the functions it registered, each marked Rerunnable or not.
func (s *state) loadLibrary(proto *glua.FunctionProto, timeout time.Duration, log func(level int, msg string)) ([]*script.FunctionInfo, error) {
	L := s.L
	lc := &loadCtx{}
	s.loading = lc
	s.run = &script.Run{Log: log, Resp: 2}
	s.gpmt.RawSetString("__index", s.loadG)
	s.gproxy.SetReadThrough(s.loadG)
	var ctx context.Context
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	L.SetContext(ctx)
	L.Push(L.NewFunctionFromProto(proto))
	err := L.PCall(0, 0, s.errFn)
	timedOut := ctx.Err() == context.DeadlineExceeded
	cancel()
	s.renewContext()
	s.gpmt.RawSetString("__index", s.realG)
	s.gproxy.SetReadThrough(s.realG)
	s.loading = nil
	s.run = nil
	if err != nil {
		msg := errorMessage(err)
		if timedOut {
			msg = errLoadTimeout
		}
		L.SetTop(0)
		return nil, errors.New(errLoadRegister + msg)
	}
	L.SetTop(0)
	assigns := proto.AssignsUpvalue()
	for _, f := range lc.funcs {
		lf := f.Fn.(*libFunc)
		f.Rerunnable = !assigns && s.frozen(lf.fn, map[*glua.LFunction]bool{})
		lf.frozen = f.Rerunnable
	}
	return lc.funcs, nil
}

// frozen reports whether nothing fn can reach through its upvalues can
// change: the values are nil, booleans, numbers, strings, the sandbox's
// read-only tables or functions that are frozen in turn. With no upvalue
// assignment anywhere in the library (AssignsUpvalue), a call of such a
// function leaves no trace in the Lua state (globals are read-only), so it
// may be stopped and run again (script.FunctionInfo.Rerunnable).
func (s *state) frozen(fn *glua.LFunction, seen map[*glua.LFunction]bool) bool {
	if seen[fn] {
		return true
	}
	if len(seen) > 256 {
		return false
	}
	seen[fn] = true
	for _, uv := range fn.Upvalues {
		switch v := uv.Value().(type) {
		case *glua.LFunction:
			if !s.frozen(v, seen) {
				return false
			}
		case *glua.LTable:
			if _, ok := s.isProxy(v); !ok {
				return false
			}
		default:
			switch v.Type() {
			case glua.LTNil, glua.LTBool, glua.LTNumber, glua.LTString:
			default:
				return false
			}
		}
	}
	return true
}

// errorMessage is the "err" field of the error table a PCall raised, as
// luaExtractErrorInformation reads it.
func errorMessage(err error) string {
	var ae *glua.ApiError
	if !errors.As(err, &ae) {
		return "ERR " + err.Error()
	}
	switch v := ae.Object.(type) {
	case *glua.LTable:
		switch m := v.RawGetString("err").(type) {
		case glua.LString:
			return string(m)
		case glua.LNumber:
			return fmtNumber(float64(m))
		}
		return "ERR unknown error"
	case glua.LString:
		return "ERR " + rewriteVMError(string(v), "")
	}
	return "ERR " + ae.Object.String()
}

// luaString is luaGetStringSds: strings, and numbers converted as Lua
// does.
func luaString(v glua.LValue) (string, bool) {
	switch x := v.(type) {
	case glua.LString:
		return string(x), true
	case glua.LNumber:
		return fmtNumber(float64(x)), true
	}
	return "", false
}

// registerFunction is redis.register_function(name, callback) or
// redis.register_function{function_name=..., callback=..., flags={...},
// description=...}.
func (s *state) registerFunction(L *glua.LState) int {
	lc := s.loading
	if lc == nil {
		raiseError(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	f := &script.FunctionInfo{}
	var cb *glua.LFunction
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*glua.LTable)
		if !ok {
			raiseError(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		named := false
		for k, v := t.Next(glua.LNil); k != glua.LNil; k, v = t.Next(k) {
			key, ok := luaString(k)
			if !ok {
				raiseError(L, "named argument key given to redis.register_function is not a string")
			}
			switch {
			case strings.EqualFold(key, "function_name"):
				if f.Name, ok = luaString(v); !ok {
					raiseError(L, "function_name argument given to redis.register_function must be a string")
				}
				named = true
			case strings.EqualFold(key, "description"):
				if f.Desc, ok = luaString(v); !ok {
					raiseError(L, "description argument given to redis.register_function must be a string")
				}
				f.HasDesc = true
			case strings.EqualFold(key, "callback"):
				if cb, ok = v.(*glua.LFunction); !ok {
					raiseError(L, "callback argument given to redis.register_function must be a function")
				}
			case strings.EqualFold(key, "flags"):
				ft, ok := v.(*glua.LTable)
				if !ok {
					raiseError(L, "flags argument to redis.register_function must be a table representing function flags")
				}
				flags, ok := readFlags(ft)
				if !ok {
					raiseError(L, "unknown flag given")
				}
				f.Flags = flags
			default:
				raiseError(L, "unknown argument given to redis.register_function")
			}
		}
		if !named {
			raiseError(L, "redis.register_function must get a function name argument")
		}
		if cb == nil {
			raiseError(L, "redis.register_function must get a callback argument")
		}
	case 2:
		var ok bool
		if f.Name, ok = luaString(L.Get(1)); !ok {
			raiseError(L, "first argument to redis.register_function must be a string")
		}
		if cb, ok = L.Get(2).(*glua.LFunction); !ok {
			raiseError(L, "second argument to redis.register_function must be a function")
		}
	default:
		raiseError(L, "wrong number of arguments to redis.register_function")
	}
	if !script.ValidName(f.Name) {
		raiseError(L, script.ErrBadName)
	}
	for _, g := range lc.funcs {
		if g.Name == f.Name {
			raiseError(L, script.ErrFuncExistsInLb)
		}
	}
	f.Fn = &libFunc{st: s, fn: cb, countsMem: cb.Proto != nil && namesMemCount(cb.Proto)}
	lc.funcs = append(lc.funcs, f)
	return 0
}

// readFlags reads a flags array: strings (or numbers) naming script flags,
// case-insensitively.
func readFlags(t *glua.LTable) (script.Flags, bool) {
	var flags script.Flags
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == glua.LNil {
			return flags, true
		}
		name, ok := luaString(v)
		if !ok {
			return 0, false
		}
		f, ok := script.ParseFlag(strings.ToLower(name))
		if !ok {
			return 0, false
		}
		flags |= f
	}
}

// callFunction runs a library function with keys and args as its two
// parameters: in a clone of its library when the function may run in one
// and a clone is free or may be made (clone.go), else in the functions'
// state.
func (e *Engine) callFunction(run *script.Run, f *libFunc, keys, args [][]byte) {
	if f.clones != nil {
		if c := f.clones.get(e); c != nil {
			c.s.callFunction(run, c.fns[f.name], true, f.countsMem, keys, args)
			f.clones.put(c)
			return
		}
	}
	if !e.lockFunctions(run) {
		return // stopped to run again with the whole keyspace: no reply
	}
	defer e.fmu.Unlock()
	f.st.callFunction(run, f.fn, f.frozen, f.countsMem, keys, args)
}

// callFunction runs fn, a function of a library loaded in s; frozen and
// countsMem are libFunc's.
func (s *state) callFunction(run *script.Run, fn *glua.LFunction, frozen, countsMem bool, keys, args [][]byte) {
	if s.ctx.Err() != nil {
		s.renewContext()
	}
	if run.Resp == 0 {
		run.Resp = 2
	}
	s.run = run
	s.memBase, s.ticks = -1, 0
	s.mc.begin(countsMem)
	run.SetInterrupt(s.cancel)
	L := s.L
	L.Push(fn)
	vals := glua.AppendStringValues(s.argVals[:0], keys, args)
	if frozen {
		s.fnKeys = s.reuseArgTable(s.fnKeys, vals[:len(keys)])
		s.fnArgs = s.reuseArgTable(s.fnArgs, vals[len(keys):])
		L.Push(s.fnKeys)
		L.Push(s.fnArgs)
	} else {
		// New tables each call: a library can keep them in its upvalues.
		L.Push(s.newArgTable(vals[:len(keys)]))
		L.Push(s.newArgTable(vals[len(keys):]))
	}
	clear(vals)
	s.argVals = vals[:0]
	s.pcallReply(run, 2, nil)
}

// lockFunctions takes fmu for run. Functions share one Lua state, so they
// run one at a time even when they hold disjoint shards. A run that holds
// only part of the keyspace (script.Waiter) polls instead of queueing, so
// that it can stop for a rerun with the whole keyspace, which answers
// BUSY past the threshold as Redis does, when the function it waits for
// runs long. It reports false when the run was stopped (Run.Retry).
func (e *Engine) lockFunctions(run *script.Run) bool {
	if e.fmu.TryLock() {
		return true
	}
	wt, ok := run.Host.(script.Waiter)
	if !ok {
		e.fmu.Lock()
		return true
	}
	wait := 10 * time.Microsecond
	for {
		if !wt.KeepWaiting() {
			return false
		}
		time.Sleep(wait)
		if e.fmu.TryLock() {
			return true
		}
		if wait < time.Millisecond {
			wait *= 2
		}
	}
}

// FunctionsMemory estimates the memory of the functions' Lua state
// (used_memory_vm_functions).
func (e *Engine) FunctionsMemory() int64 {
	e.fmu.Lock()
	defer e.fmu.Unlock()
	if e.fst == nil {
		return 0
	}
	return 30 * 1024
}
