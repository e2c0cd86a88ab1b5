// Package lua is the Lua 5.1 scripting engine on gopher-lua: Redis 7.0's
// sandbox (globals and library tables read-only, no io/os/debug, only the
// functions Redis keeps), the redis.* API, and the conversions between
// command replies and Lua values in RESP2 and RESP3.
//
// Lua states are pooled and reused; a script is compiled once per sha into
// a *lua.FunctionProto shared by every state.
package lua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/procid"
	"github.com/crescent-db/crescent/internal/script"
	"github.com/crescent-db/crescent/internal/script/lua/lualib"
	"github.com/crescent-db/crescent/internal/script/lua/luasyntax"
	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Options configure an Engine.
type Options struct {
	// Version and VersionNum are redis.REDIS_VERSION and REDIS_VERSION_NUM.
	Version    string
	VersionNum int
	// MaxString caps strings built by string.rep, concatenation,
	// table.concat and gsub (and reports "not enough memory" beyond it, as
	// an allocation failure would). Default MaxMemory/2.
	MaxString int
	// MaxMemory caps the heap growth of one script run, checked every 64K
	// Lua instructions and before building a string of 1MB or more
	// (gopher-lua has no allocator hook): beyond it the script fails with
	// "not enough memory". Default: a quarter of the machine's memory,
	// between 64MB and 1GB (memlimit.go).
	MaxMemory int64
	// DeprecatedAPI (lua-enable-deprecated-api yes) gives scripts Lua
	// 5.1's getfenv, setfenv and newproxy, which Redis hides by default.
	DeprecatedAPI bool
}

// Engine runs Lua scripts.
type Engine struct {
	opts Options
	// free holds the idle EVAL states by processor (procid): a state goes
	// back to the slot of the core that ran it and is taken again from
	// there, so that its stack, registry and tables stay in that core's
	// caches instead of moving to the other core at the next call, and
	// the two cores do not share one pool lock. all counts the states.
	free procid.Pool[*state]
	all  atomic.Int64
	rng  lrand48

	// FUNCTION libraries live in one state of their own, as in Redis
	// (function.go): fmu serializes loading and calls.
	fmu sync.Mutex
	fst *state

	// gc and fgc are collectgarbage's parameters of the EVAL scripts'
	// states and of the functions' (compat.go).
	gc, fgc gcParams

	// procs is GOMAXPROCS when the engine was made: how many calls can
	// run at once, and so the most clones a library needs (clone.go).
	// Read then, because the server's governor may lower GOMAXPROCS for a
	// while (internal/server, procs.go).
	procs int
}

// New returns an engine.
func New(opts Options) *Engine {
	if opts.Version == "" {
		opts.Version = "7.0.15"
		opts.VersionNum = 0x07000f
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = defaultMaxMemory()
	}
	if opts.MaxString <= 0 {
		opts.MaxString = int(opts.MaxMemory / 2)
	}
	e := &Engine{opts: opts, procs: runtime.GOMAXPROCS(0)}
	e.gc.init()
	e.fgc.init()
	e.rng.seed(0x1234ABCD)
	e.rng.x.Store(0x1234ABCD330E)
	return e
}

type compiled struct {
	proto *glua.FunctionProto
	// countsMem: the script names collectgarbage or gcinfo, so its runs
	// read the heap baseline at the start (memUsed).
	countsMem bool
}

// namesMemCount reports whether p or a function nested in it has the
// string constant "collectgarbage" or "gcinfo" (a global read or a field
// name): such scripts may ask for their memory use, which is measured
// from the heap at the start of the run.
func namesMemCount(p *glua.FunctionProto) bool {
	for _, k := range p.Constants {
		if str, ok := k.(glua.LString); ok && (str == "collectgarbage" || str == "gcinfo") {
			return true
		}
	}
	for _, f := range p.FunctionPrototypes {
		if namesMemCount(f) {
			return true
		}
	}
	return false
}

// Compile compiles code as the chunk name.
func (e *Engine) Compile(name string, code []byte) (script.Function, error) {
	// Lua 5.1's own syntax rules and messages first: gopher-lua's parser
	// accepts some Lua 5.2 syntax and words its errors differently.
	if err := luasyntax.Check(string(code), name, 0); err != nil {
		return nil, err
	}
	chunk, err := parse.Parse(strings.NewReader(string(code)), name)
	if err != nil {
		msg := parseError(name, err)
		var pe *parse.Error
		if errors.As(err, &pe) && pe.Pos.Line == parse.EOF {
			// Lua 5.1 reports errors at the end of input on the last line.
			msg = strings.Replace(msg, fmt.Sprintf("%s:%d:", name, lastLine(pe)),
				fmt.Sprintf("%s:%d:", name, 1+strings.Count(string(code), "\n")), 1)
		}
		return nil, errors.New(msg)
	}
	proto, err := glua.Compile(chunk, name)
	if err != nil {
		var ce *glua.CompileError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%s:%d: %s", name, ce.Line, ce.Message)
		}
		return nil, err
	}
	// Lua 5.1 gives the main chunk no implicit 'arg' table.
	proto.IsVarArg &^= glua.VarArgNeedsArg
	return &compiled{proto: proto, countsMem: namesMemCount(proto)}, nil
}

// parseError renders gopher-lua's parse errors the way Lua 5.1's
// luaX_syntaxerror does: "chunk:line: message near 'token'".
func parseError(name string, err error) string {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return name + ": " + strings.TrimSpace(err.Error())
	}
	msg := pe.Message
	switch msg {
	case "syntax error":
		msg = "unexpected symbol"
	case "unterminated string":
		msg = "unfinished string"
	case "unterminated multiline string":
		msg = "unfinished long string"
	}
	if pe.Pos.Line == parse.EOF {
		return fmt.Sprintf("%s:%d: %s near '<eof>'", name, lastLine(pe), msg)
	}
	return fmt.Sprintf("%s:%d: %s near '%s'", name, pe.Pos.Line, msg, pe.Token)
}

func lastLine(pe *parse.Error) int {
	if pe.Pos.Line > 0 {
		return pe.Pos.Line
	}
	return 1
}

// Memory estimates the memory of the engine's Lua states.
func (e *Engine) Memory() int64 {
	return e.all.Load() * 30 * 1024
}

// slotIdle is how many idle states a processor's slot keeps.
const slotIdle = 4

// get returns an idle state, its processor's first, else another's, else
// a new one.
func (e *Engine) get() *state {
	if s, ok := e.free.Get(); ok {
		return s
	}
	e.all.Add(1)
	return e.newState()
}

// put gives s back to the slot of the processor it ran on.
func (e *Engine) put(s *state) {
	if s.broken {
		// A state that ran out of memory may still reference the
		// garbage: drop it.
		e.all.Add(-1)
		s.L.Close()
		return
	}
	if !e.free.Put(s, slotIdle) {
		e.all.Add(-1)
		s.L.Close()
	}
}

// Call runs fn and writes its result to run.W.
func (e *Engine) Call(run *script.Run, fn script.Function, keys, args [][]byte) {
	c, ok := fn.(*compiled)
	if !ok {
		e.callFunction(run, fn.(*libFunc), keys, args)
		return
	}
	s := e.get()
	defer e.put(s)
	if s.ctx.Err() != nil {
		s.renewContext()
	}
	L := s.L
	s.run = run
	if run.Resp == 0 {
		run.Resp = 2
	}
	run.SetInterrupt(s.cancel)
	// The heap baseline is read at the first periodic check, not here:
	// reading runtime metrics costs as much as a short script. A run that
	// ends before the first check cannot have allocated without bound.
	s.memBase, s.ticks = -1, 0
	s.mc.begin(c.countsMem)
	s.setArgs(keys, args)
	lf := s.fns[c.proto]
	if lf == nil {
		if len(s.fns) > 4096 {
			clear(s.fns)
		}
		lf = L.NewFunctionFromProto(c.proto)
		s.fns[c.proto] = lf
	}
	L.Push(lf)
	if e.opts.DeprecatedAPI {
		// setfenv can change the script's environment, or the state's
		// (level 0): in Redis that lasts, and after setfenv(0, {}) every
		// later script fails ("error in error handling") until SCRIPT
		// FLUSH. Here it lasts only for this run.
		defer func() { lf.Env, L.Env = s.gproxy, s.gproxy }()
	}
	if run.Debug != nil {
		s.debugCall(run)
		return
	}
	s.pcallReply(run, 0, nil)
}

// debugCall runs the function on the stack under the debugger.
func (s *state) debugCall(run *script.Run) {
	l := newLDB(run.Debug, run)
	s.ldb = l
	s.L.SetHook(func(L *glua.LState, ev glua.HookEvent, line int) { l.hook(s, L, ev, line) }, ldbCountHook)
	defer func() {
		s.L.SetHook(nil, 0)
		s.ldb = nil
	}()
	s.pcallReply(run, 0, l)
}

// pcallReply calls the function on the stack with its nargs arguments,
// writes its result or error to run.W and resets the state. A debugging
// session (l, else nil) ends first: its last log lines and
// "<endsession>" go to the client before the script's reply.
func (s *state) pcallReply(run *script.Run, nargs int, l *ldb) {
	L := s.L
	err := L.PCall(nargs, 1, s.errFn)
	run.SetInterrupt(nil)
	if l != nil {
		l.log("<endsession>")
		l.send()
	}
	if run.Retrying() {
		// stopped to run again with the whole keyspace: no reply
	} else if err != nil {
		s.writeError(run, err)
	} else {
		writeScriptReply(run.W, L.Get(-1), run.Resp)
	}
	L.SetTop(0)
	s.run = nil
}

// needAll raises an error that ends the script when it holds only part
// of the keyspace: its host then runs it again holding all of it.
func (s *state) needAll(L *glua.LState) {
	if s.run == nil {
		return
	}
	if x, ok := s.run.Host.(script.Escalator); ok && !x.NeedAll() {
		L.RaiseError("script restarted with the whole keyspace")
	}
}

// setArgs sets the globals KEYS and ARGV, as Redis does for every call
// (luaCreateArray: new tables of the call's strings). The tables of the
// previous call are reused when the script left them plain arrays (no
// metatable, no hash part: nothing a script can observe differs from new
// tables; nothing a script creates outlives its call, the globals being
// read-only), and the strings share two allocations.
func (s *state) setArgs(keys, args [][]byte) {
	vals := glua.AppendStringValues(s.argVals[:0], keys, args)
	s.keysT = s.fillArgTable(s.keysT, "KEYS", vals[:len(keys)])
	s.argvT = s.fillArgTable(s.argvT, "ARGV", vals[len(keys):])
	glua.ClearValues(vals)
	s.argVals = vals[:0]
}

func (s *state) fillArgTable(t *glua.LTable, name string, vals []glua.LValue) *glua.LTable {
	if nt := s.reuseArgTable(t, vals); nt != t {
		s.realG.RawSetString(name, nt)
		return nt
	}
	return t
}

// reuseArgTable returns t, a table of a previous call, holding vals when
// the script left it a plain array; otherwise a new array table of vals.
func (s *state) reuseArgTable(t *glua.LTable, vals []glua.LValue) *glua.LTable {
	if t == nil || !t.ResetArray(len(vals)) {
		t = s.L.CreateTable(len(vals), 0)
	}
	for i, v := range vals {
		t.RawSetInt(i+1, v)
	}
	return t
}

// newArgTable returns a new array table of vals.
func (s *state) newArgTable(vals []glua.LValue) *glua.LTable {
	t := s.L.CreateTable(len(vals), 0)
	for i, v := range vals {
		t.RawSetInt(i+1, v)
	}
	return t
}

// writeError writes the reply for a script that raised an error, in the
// 7.0 shape "<err> script: <name>, on @user_script:<line>.".
func (s *state) writeError(run *script.Run, err error) {
	var obj glua.LValue = glua.LString(err.Error())
	var ae *glua.ApiError
	if errors.As(err, &ae) {
		obj = ae.Object
	}
	if obj == s.memErr {
		s.broken = true
		if run.Killed() {
			script.WriteError(run.W, script.ErrKilled, false)
			return
		}
		script.WriteError(run.W, fmt.Sprintf("ERR Error running script %s, %.100s", run.Name, errMemory), false)
		return
	}
	t, ok := obj.(*glua.LTable)
	if !ok {
		// The error handler could not run (the stack was full): rebuild
		// its table from the message's own position.
		str, isStr := obj.(glua.LString)
		if !isStr {
			script.WriteError(run.W, fmt.Sprintf("ERR Error running script %s, %.100s", run.Name, obj.String()), false)
			return
		}
		msg := rewriteVMError(string(str), "")
		t = s.L.NewTable()
		t.RawSetString("err", glua.LString("ERR "+msg))
		if m := rePos.FindStringSubmatch(msg); m != nil {
			t.RawSetString("source", glua.LString("@"+m[1]))
			n, _ := strconv.Atoi(m[2])
			t.RawSetString("line", glua.LNumber(n))
		}
	}
	msg := ""
	if v, ok := t.RawGetString("err").(glua.LString); ok {
		msg = string(v)
	} else if v, ok := t.RawGetString("err").(glua.LNumber); ok {
		msg = fmtNumber(float64(v))
	} else {
		msg = "ERR unknown error"
	}
	msg = cString(msg) // luaExtractErrorInformation's sdsnew
	if run.Killed() {
		msg = script.ErrKilled
	}
	src, _ := t.RawGetString("source").(glua.LString)
	line := t.RawGetString("line")
	if src != "" && line != glua.LNil {
		msg = msg + " script: " + run.Name + ", on " + string(src) + ":" + luaToString(line) + "."
	}
	script.WriteError(run.W, msg, t.RawGetString("ignore_error_stats_update") == glua.LTrue)
}

func luaToString(v glua.LValue) string {
	if n, ok := v.(glua.LNumber); ok {
		return fmtNumber(float64(n))
	}
	return v.String()
}

// fmtNumber formats a number as Lua 5.1's tostring does (%.14g).
func fmtNumber(f float64) string { return glua.FormatNumber(f) }

// state is one sandboxed Lua state.
type state struct {
	e      *Engine
	gc     *gcParams // collectgarbage's parameters: &e.gc or &e.fgc
	L      *glua.LState
	ctx    context.Context
	cancel context.CancelFunc

	realG   *glua.LTable // the globals, reached through gproxy
	gproxy  *glua.LTable // _G as scripts see it (read-only)
	gmeta   *glua.LTable // realG's metatable (nonexistent global errors)
	gpmt    *glua.LTable // gproxy's metatable: its __index is realG
	proxies map[*glua.LTable]*glua.LTable
	strMeta *glua.LTable // what getmetatable('') returns
	errFn   *glua.LFunction
	// Memory limits: memErr is the value raised on out-of-memory (pcall
	// and the error handler let it through as C Lua does LUA_ERRMEM);
	// memBase the live heap as of the last collection when the run first
	// looked (periodic check or reservation; -1 before).
	memErr    *glua.LUserData
	memBase   int64
	mc        memCounter // collectgarbage('count')
	memSample []metrics.Sample
	ticks     uint32 // periodic checks in this run
	broken    bool
	fns       map[*glua.FunctionProto]*glua.LFunction
	run       *script.Run
	ldb       *ldb         // the debugging session of the run, if any (ldb.go)
	loading   *loadCtx     // set while a FUNCTION library loads (function.go)
	loadG     *glua.LTable // the globals a library sees while it loads
	lw        luaWriter
	argv      [][]byte
	argbuf    []byte
	// keysT and argvT are the KEYS and ARGV of the last call (setArgs),
	// argVals a scratch slice for their values.
	keysT, argvT *glua.LTable
	argVals      []glua.LValue
	// fnKeys and fnArgs are the keys and args tables of the last call of
	// a frozen function (libFunc.frozen), reused like keysT and argvT.
	fnKeys, fnArgs *glua.LTable
}

func (s *state) renewContext() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.L.SetContext(s.ctx)
}

// Lua limits mirrored from Lua 5.1 as built in Redis.
const (
	maxCalls  = 20000 // LUAI_MAXCALLS: "stack overflow" beyond
	maxCStack = 8000  // LUAI_MAXCSTACK: lua_checkstack limit
)

func (e *Engine) newState() *state {
	L := glua.NewState(glua.Options{
		SkipOpenLibs:        true,
		RegistrySize:        1024 * 20,
		RegistryMaxSize:     1024 * 1024,
		CallStackSize:       maxCalls - 3,
		MinimizeStackMemory: false,
	})
	s := &state{e: e, gc: &e.gc, L: L, proxies: map[*glua.LTable]*glua.LTable{},
		fns: map[*glua.FunctionProto]*glua.LFunction{}}
	s.lw.s = s
	s.renewContext()
	s.memErr = L.NewUserData()
	s.memSample = []metrics.Sample{{Name: heapMetric}, {Name: liveMetric}}
	s.mc.init()
	before, _ := s.mc.read()
	defer func() {
		after, _ := s.mc.read()
		s.mc.size = max(0, after-before)
	}()
	L.SetMemoryLimits(&glua.MemoryLimits{MaxString: e.opts.MaxString, Check: s.outOfMemory, CheckEvery: checkEvery,
		Reserve: s.reserve, Error: s.memErr})
	for _, lib := range []struct {
		name string
		fn   glua.LGFunction
	}{
		{glua.BaseLibName, glua.OpenBase},
		{glua.TabLibName, glua.OpenTable},
		{glua.StringLibName, glua.OpenString},
		{glua.MathLibName, glua.OpenMath},
		{glua.CoroutineLibName, glua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(glua.LString(lib.name))
		L.Call(1, 0)
	}
	lualib.OpenAll(L)
	src := L.G.Global
	s.realG = L.NewTable()
	s.gproxy = L.NewTable()
	g := s.realG
	for _, name := range []string{"assert", "collectgarbage", "ipairs", "select",
		"tonumber", "tostring", "type", "rawequal", "xpcall"} {
		g.RawSetString(name, src.RawGetString(name))
	}
	g.RawSetString("_VERSION", glua.LString("Lua 5.1"))
	g.RawSetString("error", L.NewFunction(luaError))
	g.RawSetString("loadstring", L.NewFunction(luaLoadstring))
	g.RawSetString("load", L.NewFunction(s.load))
	g.RawSetString("getmetatable", L.NewFunction(s.getmetatable))
	g.RawSetString("setmetatable", L.NewFunction(s.setmetatable))
	g.RawSetString("rawget", L.NewFunction(s.rawget))
	g.RawSetString("rawset", L.NewFunction(s.rawset))
	next := L.NewFunction(s.next)
	g.RawSetString("next", next)
	g.RawSetString("pairs", L.NewClosure(s.pairs, next))
	g.RawSetString("pcall", L.NewFunction(s.pcall))
	g.RawSetString("unpack", L.NewFunction(luaUnpack))
	g.RawSetString("gcinfo", L.NewFunction(s.gcinfo))
	g.RawSetString("collectgarbage", L.NewFunction(s.collectgarbage))
	g.RawSetString("tostring", L.NewFunction(luaTostring))
	g.RawSetString("tonumber", L.NewFunction(luaTonumber))
	if e.opts.DeprecatedAPI {
		for _, name := range []string{"getfenv", "setfenv", "newproxy"} {
			g.RawSetString(name, src.RawGetString(name))
		}
	}

	// string: gopher-lua's functions, with a capped rep and no dump.
	str := src.RawGetString("string").(*glua.LTable)
	str.RawSetString("__index", glua.LNil)
	str.RawSetString("rep", L.NewFunction(e.strRep))
	str.RawSetString("dump", L.NewFunction(strDump))
	strMT := L.NewTable()
	strMT.RawSetString("__index", str)
	L.SetMetatable(glua.LString(""), strMT)

	tab := src.RawGetString("table").(*glua.LTable)
	for _, name := range []string{"insert"} {
		orig := tab.RawGetString(name).(*glua.LFunction)
		tab.RawSetString(name, L.NewFunction(s.guardFirstArg(orig)))
	}
	tab.RawSetString("setn", L.NewFunction(s.tableSetn))
	tab.RawSetString("foreach", L.NewFunction(tableForeach))
	tab.RawSetString("foreachi", L.NewFunction(tableForeachi))

	math := src.RawGetString("math").(*glua.LTable)
	math.RawSetString("huge", glua.LNumber(inf))
	// The random sequence is shared by all scripts: a script holding only
	// some shards starts again with the whole keyspace before using it.
	math.RawSetString("random", L.NewFunction(func(L *glua.LState) int { s.needAll(L); return e.mathRandom(L) }))
	math.RawSetString("randomseed", L.NewFunction(func(L *glua.LState) int { s.needAll(L); return e.mathRandomseed(L) }))

	co := src.RawGetString("coroutine").(*glua.LTable)

	s.errFn = L.NewFunction(s.errHandler)
	g.RawSetString("__redis__err__handler", s.errFn)
	redis := s.redisLib()

	libs := map[string]*glua.LTable{"string": str, "table": tab, "math": math, "coroutine": co, "redis": redis}
	for _, name := range []string{"cjson", "cmsgpack", "bit", "struct"} {
		libs[name] = src.RawGetString(name).(*glua.LTable)
	}
	for name, t := range libs {
		g.RawSetString(name, s.protect(t))
	}
	strF := L.NewTable()
	strF.RawSetString("__index", g.RawGetString("string"))
	s.strMeta = s.protect(strF)

	s.gmeta = L.NewTable()
	s.gmeta.RawSetString("__index", L.NewFunction(protectedTableError))
	L.SetMetatable(g, s.gmeta)
	gpmt := L.NewTable()
	s.gpmt = gpmt
	gpmt.RawSetString("__index", g)
	gpmt.RawSetString("__newindex", L.NewFunction(readonlyError))
	L.SetMetatable(s.gproxy, gpmt)
	s.gproxy.SetReadThrough(g)
	s.proxies[s.gproxy] = g
	g.RawSetString("_G", s.gproxy)

	// Everything created from now on (compiled scripts, loadstring) sees
	// the read-only globals.
	L.Env = s.gproxy
	// Drop gopher-lua's own globals table contents: nothing reaches it.
	L.G.Global = L.NewTable()
	return s
}

// protect returns a read-only proxy of t.
func (s *state) protect(t *glua.LTable) *glua.LTable {
	L := s.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(readonlyError))
	L.SetMetatable(p, mt)
	// p stays empty (every write path checks s.proxies) and mt is never
	// handed out: the VM may read t directly.
	p.SetReadThrough(t)
	s.proxies[p] = t
	return p
}

const errReadonly = "Attempt to modify a readonly table"

func readonlyError(L *glua.LState) int {
	L.RaiseError(errReadonly)
	return 0
}

func protectedTableError(L *glua.LState) int {
	if L.GetTop() != 2 {
		raise(L, "Wrong number of arguments to luaProtectedTableError")
	}
	k := L.Get(2)
	switch k.(type) {
	case glua.LString, glua.LNumber:
	default:
		raise(L, "Second argument to luaProtectedTableError must be a string or number")
	}
	raise(L, "Script attempted to access nonexistent global variable '"+luaToString(k)+"'")
	return 0
}

// where mimics luaL_where(L, level).
func where(L *glua.LState, level int) string {
	if L.LostTailCall(level) {
		return "" // lua_getstack's tail call marker: no position
	}
	dbg, ok := L.GetStack(level)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, glua.LNil); err != nil {
		return ""
	}
	if dbg.CurrentLine <= 0 || dbg.What == "G" {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
}

// raise mimics luaL_error: the message prefixed with the position of the
// Lua code that called the running Go function.
func raise(L *glua.LState, msg string) {
	L.Error(glua.LString(where(L, 1)+msg), 0)
}

// raiseNoPos raises msg as luaG_runerror does from inside a C function.
func raiseNoPos(L *glua.LState, msg string) {
	L.Error(glua.LString(msg), 0)
}

// luaError is Lua 5.1's error(): strings and numbers get the position of
// the function at the given level.
func luaError(L *glua.LState) int {
	v := L.Get(1)
	level := 1
	if L.GetTop() >= 2 && L.Get(2) != glua.LNil {
		level = int(L.CheckNumber(2))
	}
	switch x := v.(type) {
	case glua.LString:
		if level > 0 {
			v = glua.LString(where(L, level) + string(x))
		}
	case glua.LNumber:
		if level > 0 {
			v = glua.LString(where(L, level) + fmtNumber(float64(x)))
		}
	}
	L.Error(v, 0)
	return 0
}

// luaLoadstring is loadstring(). Precompiled chunks are refused as in
// Redis 7.0, whose Lua parses every chunk as text: a chunk starting with
// the bytecode signature (ESC) fails with "unexpected symbol near
// 'char(27)'".
func luaLoadstring(L *glua.LState) int {
	code := L.CheckString(1)
	return loadChunk(L, code, L.OptString(2, code))
}

// load is Lua 5.1's load(): the reader's pieces (strings or numbers, up
// to nil or an empty string) are parsed as one chunk named "=(load)" by
// default, with loadstring's checks and messages. An error in the reader
// (raised by it, or luaL_error's "reader function must return a string")
// makes load return nil and the error, as lua_load's protected parser
// does (a killed script stays killed). That parser runs under the error
// function active where load is called (L->errfunc): at a script's top
// level Redis's __redis__err__handler, which makes the error a table;
// inside pcall none, so the error stays what was raised; inside xpcall
// its handler.
func (s *state) load(L *glua.LState) int {
	fn := L.CheckFunction(1)
	name := L.OptString(2, "=(load)")
	errfn := L.ErrorFunc()
	var code strings.Builder
	for {
		L.Push(fn)
		if err := L.PCall(0, 1, errfn); err != nil {
			if s.run != nil && s.run.Killed() {
				raiseNoPos(L, "Script killed by user with SCRIPT KILL...")
			}
			L.Push(glua.LNil)
			L.Push(s.errorValue(err))
			return 2
		}
		v := L.Get(-1)
		L.Pop(1)
		if v == glua.LNil {
			break
		}
		var piece string
		switch x := v.(type) {
		case glua.LString:
			piece = string(x)
		case glua.LNumber:
			piece = fmtNumber(float64(x))
		default:
			// luaL_error in generic_reader: the position of load's
			// caller, through the error function (luaG_errormsg)
			var msg glua.LValue = glua.LString(where(L, 1) + "reader function must return a string")
			if errfn != nil {
				L.Push(errfn)
				L.Push(msg)
				L.Call(1, 1)
				msg = L.Get(-1)
				L.Pop(1)
			}
			L.Push(glua.LNil)
			L.Push(msg)
			return 2
		}
		if piece == "" {
			break
		}
		code.WriteString(piece)
	}
	return loadChunk(L, code.String(), name)
}

// loadChunk compiles code for loadstring and load: the function, or nil
// and Lua's syntax error message.
func loadChunk(L *glua.LState, code, name string) int {
	chunk := luasyntax.ChunkID(name)
	// The parser runs one C call deep (loadstring itself), as in Redis.
	if err := luasyntax.Check(code, chunk, 1); err != nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(err.Error()))
		return 2
	}
	fn, err := L.Load(strings.NewReader(code), chunk)
	if err != nil {
		L.Push(glua.LNil)
		msg := err.Error()
		var ae *glua.ApiError
		if errors.As(err, &ae) && ae.Cause != nil {
			msg = parseError(chunk, ae.Cause)
		}
		L.Push(glua.LString(msg))
		return 2
	}
	L.Push(fn)
	return 1
}

// strDump is string.dump. Redis returns a Lua function's Lua 5.1
// bytecode, which gopher-lua cannot produce (its compiler has its own
// instruction set), and whose one use, loading it back, Redis 7.0
// refuses. A C function fails with Redis's own error; a Lua function
// fails with the same text plus the reason, rather than returning bytes
// that would not be Lua 5.1 bytecode.
func strDump(L *glua.LState) int {
	if L.CheckFunction(1).IsG {
		raise(L, "unable to dump given function")
	}
	raise(L, "unable to dump given function (Lua bytecode is not supported by this server)")
	return 0
}

// luaUnpack is unpack() with Lua 5.1's "too many results" check.
func luaUnpack(L *glua.LState) int {
	tb := L.CheckTable(1)
	i := 1
	if L.Get(2) != glua.LNil {
		i = int(toInt(float64(L.CheckNumber(2))))
	}
	e := tb.Len()
	if L.Get(3) != glua.LNil {
		e = int(toInt(float64(L.CheckNumber(3))))
	}
	if i > e {
		return 0
	}
	n := e - i + 1
	if n <= 0 || n > maxCStack || L.GetTop()+n > maxCStack {
		raise(L, "too many results to unpack")
	}
	for k := i; k <= e; k++ {
		L.Push(tb.RawGetInt(k))
	}
	return n
}

// toInt mimics a C cast of a double to a 32-bit int through long
// (luaL_checkint on x86-64).
func toInt(f float64) int32 {
	return int32(toInt64(f))
}

// toInt64 mimics a C cast of a double to long long on x86-64.
func toInt64(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return -9223372036854775808
	}
	return int64(f)
}

func (e *Engine) strRep(L *glua.LState) int {
	str := L.CheckString(1)
	n := int(toInt(float64(L.CheckNumber(2))))
	if n <= 0 || len(str) == 0 {
		L.Push(glua.LString(""))
		return 1
	}
	if len(str)*n/n != len(str) {
		L.MemoryError()
	}
	L.CheckStringSize(len(str) * n)
	L.Push(glua.LString(strings.Repeat(str, n)))
	return 1
}

func (s *state) isProxy(v glua.LValue) (*glua.LTable, bool) {
	t, ok := v.(*glua.LTable)
	if !ok {
		return nil, false
	}
	r, ok := s.proxies[t]
	return r, ok
}

func (s *state) guardFirstArg(orig *glua.LFunction) glua.LGFunction {
	return func(L *glua.LState) int {
		if _, ok := s.isProxy(L.Get(1)); ok {
			raiseNoPos(L, errReadonly)
		}
		return orig.GFunction(L)
	}
}

func (s *state) tableSetn(L *glua.LState) int {
	L.CheckTable(1)
	if _, ok := s.isProxy(L.Get(1)); ok {
		raiseNoPos(L, errReadonly)
	}
	raise(L, "'setn' is obsolete")
	return 0
}

func tableForeach(L *glua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	for k, v := t.Next(glua.LNil); k != glua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if r := L.Get(-1); r != glua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func tableForeachi(L *glua.LState) int {
	t := L.CheckTable(1)
	f := L.CheckFunction(2)
	n := t.Len()
	for i := 1; i <= n; i++ {
		L.Push(f)
		L.Push(glua.LNumber(i))
		L.Push(t.RawGetInt(i))
		L.Call(2, 1)
		if r := L.Get(-1); r != glua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func (s *state) getmetatable(L *glua.LState) int {
	v := L.CheckAny(1)
	if _, ok := v.(glua.LString); ok {
		L.Push(s.strMeta)
		return 1
	}
	if t, ok := v.(*glua.LTable); ok {
		if t == s.gproxy {
			L.Push(s.protectMeta())
			return 1
		}
		if _, ok := s.proxies[t]; ok {
			L.Push(glua.LNil)
			return 1
		}
	}
	L.Push(L.GetMetatable(v))
	return 1
}

func (s *state) protectMeta() *glua.LTable {
	for p, r := range s.proxies {
		if r == s.gmeta {
			return p
		}
	}
	return s.protect(s.gmeta)
}

func (s *state) setmetatable(L *glua.LState) int {
	obj := L.Get(1)
	if _, ok := s.isProxy(obj); ok {
		raiseNoPos(L, errReadonly)
	}
	L.CheckTable(1)
	mt := L.Get(2)
	if mt != glua.LNil {
		if _, ok := mt.(*glua.LTable); !ok {
			argError(L, 2, "nil or table expected")
		}
	}
	if m, ok := obj.(*glua.LTable).Metatable.(*glua.LTable); ok && m.RawGetString("__metatable") != glua.LNil {
		raise(L, "cannot change a protected metatable")
	}
	L.SetMetatable(obj, mt)
	L.SetTop(1)
	return 1
}

// argError is luaL_argerror (the fork's ArgError: '?' for a function not
// called by name from Lua, self not counted in obj:name() calls).
func argError(L *glua.LState, n int, msg string) {
	L.ArgError(n, msg)
}

func (s *state) rawget(L *glua.LState) int {
	t := L.CheckTable(1)
	if r, ok := s.proxies[t]; ok {
		t = r
	}
	L.Push(t.RawGet(L.CheckAny(2)))
	return 1
}

func (s *state) rawset(L *glua.LState) int {
	t := L.CheckTable(1)
	if _, ok := s.proxies[t]; ok {
		raiseNoPos(L, errReadonly)
	}
	L.RawSet(t, L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

func (s *state) next(L *glua.LState) int {
	t := L.CheckTable(1)
	if r, ok := s.proxies[t]; ok {
		t = r
	}
	if !t.ValidNextKey(L.Get(2)) {
		raiseNoPos(L, "invalid key to 'next'")
	}
	k, v := t.Next(L.Get(2))
	if k == glua.LNil {
		L.Push(glua.LNil)
		return 1
	}
	L.Push(k)
	L.Push(v)
	return 2
}

func (s *state) pairs(L *glua.LState) int {
	t := L.CheckTable(1)
	L.Push(L.Get(glua.UpvalueIndex(1)))
	L.Push(t)
	L.Push(glua.LNil)
	return 3
}

// errorValue is the Lua value of an error a protected call returned: the
// object raised (an error table stays a table), the budget's memory error
// as its message, else the error's text.
func (s *state) errorValue(err error) glua.LValue {
	var obj glua.LValue = glua.LString(err.Error())
	var ae *glua.ApiError
	if errors.As(err, &ae) {
		obj = ae.Object
	}
	if obj == s.memErr {
		obj = glua.LString(errMemory)
	}
	return obj
}

// pcall is Lua's pcall, except that a killed script stays killed.
func (s *state) pcall(L *glua.LState) int {
	if L.GetTop() == 0 {
		// Redis's luaRedisPcall pushes its result placeholder (true)
		// under the arguments and calls it when there are none.
		L.Push(glua.LFalse)
		L.Push(glua.LString("attempt to call a boolean value"))
		return 2
	}
	v := L.Get(1)
	if v.Type() != glua.LTFunction && L.GetMetaField(v, "__call").Type() != glua.LTFunction {
		L.Push(glua.LFalse)
		L.Push(glua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	nargs := L.GetTop() - 1
	err := L.PCall(nargs, glua.MultRet, nil)
	if s.run != nil && s.run.Killed() {
		raiseNoPos(L, "Script killed by user with SCRIPT KILL...")
	}
	if err != nil {
		L.Push(glua.LFalse)
		obj := s.errorValue(err)
		// Redis's pcall returns the message of an error table. When
		// the table's err field is not a string, luaRedisPcall leaves
		// it on the stack: a third result (even nil).
		if t, ok := obj.(*glua.LTable); ok {
			switch e := L.GetField(t, "err").(type) { // lua_getfield
			case glua.LString, glua.LNumber:
				obj = e
			default:
				L.Push(obj)
				L.Push(e)
				return 3
			}
		}
		if str, ok := obj.(glua.LString); ok {
			obj = glua.LString(rewriteVMError(string(str), ""))
		}
		L.Push(obj)
		return 2
	}
	L.Insert(glua.LTrue, 1)
	return L.GetTop()
}

// errHandler is __redis__err__handler: it turns any error into a table
// {err=..., source=..., line=...}, with the position of the Lua code that
// raised it.
func (s *state) errHandler(L *glua.LState) int {
	v := L.Get(1)
	if v == s.memErr {
		// LUA_ERRMEM does not run the error handler.
		L.Push(v)
		return 1
	}
	var src string
	line := -1
	for level := 1; level <= 2; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, glua.LNil); err != nil {
			break
		}
		if dbg.What == "G" && level == 1 {
			continue
		}
		if dbg.What == "G" {
			src, line = "=[C]", -1
		} else {
			src, line = "@"+dbg.Source, dbg.CurrentLine
		}
		break
	}
	t, ok := v.(*glua.LTable)
	if !ok {
		msg := ""
		switch x := v.(type) {
		case glua.LString:
			pos := ""
			if line > 0 {
				pos = src[1:] + ":" + strconv.Itoa(line) + ": "
			}
			msg = rewriteVMError(string(x), pos)
		case glua.LNumber:
			msg = fmtNumber(float64(x))
		default:
			msg = L.ToStringMeta(v).String()
		}
		t = L.NewTable()
		t.RawSetString("err", glua.LString("ERR "+msg))
	}
	if src != "" {
		t.RawSetString("source", glua.LString(src))
		t.RawSetString("line", glua.LNumber(line))
	}
	L.Push(t)
	return 1
}

var _ io.Reader = (*strings.Reader)(nil)

// Reset drops the idle Lua states (SCRIPT FLUSH): new ones start clean.
func (e *Engine) Reset() {
	free := e.free.Drain()
	e.all.Add(-int64(len(free)))
	e.gc.init() // a new VM's collector parameters
	for _, s := range free {
		s.L.Close()
	}
}

// errMemory is C Lua's LUA_ERRMEM message.
const errMemory = "not enough memory"

// heapMetric is the live-and-unswept heap the memory budget compares;
// liveMetric the heap the last collection found live, the budget's
// baseline: a baseline with garbage in it (other scripts', other
// clients') would give the run that much more room once a collection
// frees it.
const (
	heapMetric = "/memory/classes/heap/objects:bytes"
	liveMetric = "/gc/heap/live:bytes"
)

// heapBytes reads sample (heapMetric first) and returns the heap.
func heapBytes(sample []metrics.Sample) int64 {
	metrics.Read(sample)
	return sampleBytes(sample, 0)
}

// sampleBytes is sample i as read last, 0 when unavailable.
func sampleBytes(sample []metrics.Sample, i int) int64 {
	if i >= len(sample) || sample[i].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[i].Value.Uint64())
}

// memBaseline sets the run's memory baseline if it has none yet, and
// returns the heap now.
func (s *state) memBaseline() int64 {
	heap := heapBytes(s.memSample)
	if s.memBase < 0 {
		s.memBase = heap
		if live := sampleBytes(s.memSample, 1); live > 0 && live < heap {
			s.memBase = live
		}
	}
	return heap
}

// The VM's periodic check runs every checkEvery instructions (about
// 0.1–0.3 ms of Lua; the count runs on across calls, so a short script
// meets it now and then); the heap is read every memCheckTicks of them,
// since reading runtime metrics costs as much as a short script. A script
// on an event loop detaches from it once it has run detachAfter.
const (
	checkEvery    = 1 << 14
	memCheckTicks = 4
	detachAfter   = time.Millisecond
)

// outOfMemory is the VM's periodic check: heap growth since the run
// started (memBase) over MaxMemory, confirmed after a collection (garbage
// does not count).
func (s *state) outOfMemory() bool {
	s.ticks++
	if r := s.run; r != nil && r.Settle != nil {
		f := r.Settle
		r.Settle = nil
		f()
	}
	if r := s.run; r != nil && r.Detach != nil && r.Elapsed() >= detachAfter {
		// the script has run a while: let its event loop go on without
		// it (script.Run.Detach)
		d := r.Detach
		r.Detach = nil
		d()
	}
	if s.ticks%memCheckTicks != 0 {
		return false
	}
	if s.memBase < 0 {
		s.memBaseline()
		return false
	}
	if heapBytes(s.memSample)-s.memBase <= s.e.opts.MaxMemory {
		return false
	}
	runtime.GC()
	return heapBytes(s.memSample)-s.memBase > s.e.opts.MaxMemory
}
