package commands

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/script"
	"github.com/crescent-db/crescent/internal/script/lua"
)

// scripting is the state of EVAL and SCRIPT: the script cache, the Lua
// engine and the monitor of the running script (BUSY, SCRIPT KILL).
type scripting struct {
	cache  *script.Cache
	engine *lua.Engine
	mon    script.Monitor
	// libs are the FUNCTION libraries (functions.go).
	libs *script.Libraries
	// calls are the per-call states of EVAL and FCALL (scriptCall), each
	// with the fake client its script's commands run as (scripts on
	// disjoint keys run in parallel).
	calls sync.Pool
	// log is h.scriptLog, made once (a method value per call allocates).
	log func(level int, msg string)
}

// Script error texts (Redis 7.0).
const (
	errNoScript       = "NOSCRIPT No matching script. Please use EVAL."
	errNumKeysGreater = "ERR Number of keys can't be greater than number of args"
	errNumKeysNeg     = "ERR Number of keys can't be negative"
	errROWriteFlag    = "ERR Can not execute a script with write flag using *_ro command."
	errCompile        = "ERR Error compiling script (new function): "
)

func (h *Handlers) registerScripting() {
	h.scripts = &scripting{
		cache: script.NewCache(),
		engine: lua.New(lua.Options{Version: RedisVersion, VersionNum: versionNum(RedisVersion),
			DeprecatedAPI: h.Config != nil && h.Config.Bool("lua-enable-deprecated-api")}),
	}
	h.scripts.calls.New = func() any { return &scriptCall{client: command.NewClient(0)} }
	h.scripts.log = h.scriptLog
	h.scripts.mon.Threshold = func() time.Duration {
		return time.Duration(h.Config.Int("busy-reply-threshold")) * time.Millisecond
	}
	h.Exec.Busy = &h.scripts.mon
	h.Exec.ScriptFlags = h.scriptCmdFlags
	t := h.Table
	// A script locks the shards of its keys and takes more as it runs, or
	// everything when it has no keys (exec.ScriptCall).
	sc := command.WithLock(command.LockScript)
	none := command.WithLock(command.LockNone)
	t.Handle("eval", func(c *command.Ctx) { h.eval(c, false, false) }, sc)
	t.Handle("evalsha", func(c *command.Ctx) { h.eval(c, true, false) }, sc)
	t.Handle("eval_ro", func(c *command.Ctx) { h.eval(c, false, true) }, sc)
	t.Handle("evalsha_ro", func(c *command.Ctx) { h.eval(c, true, true) }, sc)
	t.Handle("script|load", h.scriptLoad, none)
	t.Handle("script|exists", h.scriptExists, none)
	t.Handle("script|flush", h.scriptFlush, none)
	t.Handle("script|kill", h.scriptKill, none)
	t.Handle("script|help", h.scriptHelp, none)
	prev := h.ExtraMemoryInfo
	h.ExtraMemoryInfo = func() []string {
		lines := h.scriptMemoryInfo()
		if prev != nil {
			lines = append(lines, prev()...)
		}
		return lines
	}
}

// versionNum encodes "7.0.15" as Redis's REDIS_VERSION_NUM (0x07000f).
func versionNum(v string) int {
	var a, b, c int
	fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c)
	return a<<16 | b<<8 | c
}

func (h *Handlers) scriptMemoryInfo() []string {
	s := h.scripts
	vm := s.engine.Memory()
	scripts := s.cache.Memory()
	nlibs, nfuncs := s.libs.Counts()
	fvm := s.engine.FunctionsMemory()
	fmem := s.libs.Memory()
	return []string{
		fmt.Sprintf("used_memory_lua:%d", vm),
		fmt.Sprintf("used_memory_vm_eval:%d", vm),
		"used_memory_lua_human:" + humanBytes(vm),
		fmt.Sprintf("used_memory_scripts_eval:%d", scripts),
		fmt.Sprintf("number_of_cached_scripts:%d", s.cache.Len()),
		fmt.Sprintf("number_of_functions:%d", nfuncs),
		fmt.Sprintf("number_of_libraries:%d", nlibs),
		fmt.Sprintf("used_memory_vm_functions:%d", fvm),
		fmt.Sprintf("used_memory_vm_total:%d", vm+fvm),
		"used_memory_vm_total_human:" + humanBytes(vm+fvm),
		fmt.Sprintf("used_memory_functions:%d", fmem),
		fmt.Sprintf("used_memory_scripts:%d", scripts+fmem),
		"used_memory_scripts_human:" + humanBytes(scripts+fmem),
	}
}

// compileScript returns the cached script for body, compiling and caching
// it when new. On failure it returns the error reply.
func (h *Handlers) compileScript(body []byte) (*script.Script, string) {
	if s := h.scripts.cache.GetBody(body); s != nil {
		return s, "" // EVAL of a cached script: no SHA1, no allocation
	}
	sha := script.SHA1Hex(body)
	if s := h.scripts.cache.Get(sha); s != nil {
		return s, ""
	}
	flags, n, msg := script.ParseShebang(body)
	if msg != "" {
		return nil, "ERR " + msg
	}
	fn, err := h.scripts.engine.Compile("user_script", body[n:])
	if err != nil {
		return nil, errCompile + err.Error()
	}
	return h.scripts.cache.Add(&script.Script{Sha: sha, Body: string(body), Flags: flags, Fn: fn}), ""
}

// eval implements EVAL, EVALSHA, EVAL_RO and EVALSHA_RO. The script is
// atomic: it holds the shards of its keys, takes more as it needs them or
// runs again with the whole keyspace (exec.ScriptCall).
func (h *Handlers) eval(c *command.Ctx, bySha, ro bool) {
	if c.Client.NoWait && h.ops.nmon.Load() > 0 {
		// MONITOR would show a script declined on the loop twice
		c.Client.WouldWait = true
		return
	}
	h.MonitorFeed(c) // skip_monitor: shown before the commands it calls (ops.go)
	// Over maxmemory, a script that declares flags without allow-oom or
	// no-writes is a deny-oom command: refused before anything else, as
	// Redis's processCommand does with evalGetCommandFlags.
	if h.overMaxmemory() && h.scriptDeniesOOM(c.Args[1], bySha) {
		// A rejection (rejected_calls), not a failure.
		c.W.Error(exec.ErrOOM)
		h.Exec.CountError(exec.ErrOOM)
		c.Rejected = true
		return
	}
	debug := c.Client.LuaDebug != 0 && c.Client.Flags&command.ClientMulti == 0 && c.Client.DebugConn != nil
	if debug && bySha {
		if len(c.Args[1]) != 40 {
			c.Error(errNoScript)
		} else {
			c.Error("ERR Please use EVAL instead of EVALSHA for debugging")
		}
		return
	}
	if bySha && len(c.Args[1]) != 40 {
		// Redis's evalShaCommand: no sha of another length can match,
		// before numkeys is read
		c.Error(errNoScript)
		return
	}
	numkeys, ok := parseNumKeys(c, ErrNotInt)
	if !ok {
		return
	}
	var s *script.Script
	if bySha {
		s = h.scripts.cache.GetSha(c.Args[1])
		if s == nil {
			c.Error(errNoScript)
			return
		}
	} else {
		var msg string
		if s, msg = h.compileScript(c.Args[1]); s == nil {
			c.Error(msg)
			return
		}
	}
	compat := s.Flags&script.FlagEvalCompat != 0
	if h.scriptDenyOOM(s.Flags) { // functions.go
		c.Error(exec.ErrOOM)
		return
	}
	if h.scriptReadOnlyReplica(c, s.Flags) { // functions.go
		c.Error(exec.ErrReadOnlyReplica)
		return
	}
	if compat && h.Exec.Guard.Load()&exec.GuardMasterDown != 0 {
		// a script without flags does not run on a stale replica
		// (Redis 7.0's scriptPrepareForRun): a failed call, not a rejection
		c.Error(exec.ErrMasterDown)
		return
	}
	if msg := h.scriptFlagsCheck(s.Flags, ro); msg != "" {
		c.Error(msg)
		return
	}
	readOnly := ro || (!compat && s.Flags&script.FlagNoWrites != 0)
	sc := h.getScriptCall(false)
	run := &sc.run
	run.Name, run.Flags, run.ReadOnly = s.Sha, s.Flags, readOnly
	if debug {
		h.debugSession(c, run)
	}
	h.runScript(c, sc, numkeys, s.Sha, &s.Stats, func(keys, args [][]byte) {
		h.scripts.engine.Call(run, s.Fn, keys, args)
	})
	h.putScriptCall(sc)
}

// errDebugUndo ends a SCRIPT DEBUG YES session whose script ran a
// command the session could not undo at its end. (Redis forks the
// session, so it never needs to.)
const errDebugUndo = "ERR the script ran a command whose effects a SCRIPT DEBUG YES session cannot undo; debug it with SCRIPT DEBUG SYNC (its writes are kept)"

// debugSession makes run a Lua debugging session (SCRIPT DEBUG YES or
// SYNC, Redis's evalGenericCommandWithDebugging): the debugger talks to
// the client directly while the script runs, and the connection closes
// after the script's reply. The executor runs the call on the
// connection's goroutine, holding the whole keyspace (MayWait, LocksFor).
func (h *Handlers) debugSession(c *command.Ctx, run *script.Run) {
	// The debugger reads the client's next commands into the buffer the
	// call's arguments are in: they get a copy of their own.
	args := make([][]byte, len(c.Args))
	for i, a := range c.Args {
		args[i] = bytes.Clone(a)
	}
	c.Args = args
	timeout := h.scripts.mon.Threshold()
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	run.Debug = &script.Debug{Conn: c.Client.DebugConn, Source: args[1], Timeout: timeout}
	c.Client.Flags |= command.ClientCloseAfterReply
	c.Client.LuaDebug = 0
	if h.Log != nil {
		h.Log.Warn("Lua debugging session started", "client", c.Client.Addr)
	}
}

// scriptCall is the per-call state of EVAL and FCALL: the Run and the
// reply writer, pooled so that a call allocates neither. A Run the
// Monitor handed out (SCRIPT KILL, FUNCTION STATS, a BUSY check may hold
// it after the call) is left to the collector instead (Run.Reusable).
type scriptCall struct {
	run script.Run
	ew  errWatch
	// client is the fake client the script's commands run as and sc its
	// executor state: one pool round trip per script call instead of
	// three. A scriptCall left to the collector takes them along, so a
	// Run still referenced never sees its Host reused.
	client *command.Client
	sc     exec.ScriptCall
	settle func()                      // sc.Settle, built once per pooled scriptCall
	log    func(level int, msg string) // sc.WriteLog, likewise
}

// settleFn returns sc.Settle as a func without an allocation per call.
func (s *scriptCall) settleFn() func() {
	if s.settle == nil {
		s.settle = s.sc.Settle
	}
	return s.settle
}

// logFn returns sc.WriteLog as a func without an allocation per call.
func (s *scriptCall) logFn() func(level int, msg string) {
	if s.log == nil {
		s.log = s.sc.WriteLog
	}
	return s.log
}

// Redis's fake clients for scripts, created at startup before any
// connection: EVAL's Lua client is client 1 and FUNCTION's is client 2,
// so connections start at 3 (CLIENT ID or CLIENT INFO from a script).
const (
	LuaClientID      = 1
	FunctionClientID = 2
)

// getScriptCall returns a pooled script call whose client is EVAL's Lua
// client (id 1) or, for fn, the functions' client (id 2), created when
// the server started.
func (h *Handlers) getScriptCall(fn bool) *scriptCall {
	sc := h.scripts.calls.Get().(*scriptCall)
	sc.client.ID = LuaClientID
	if fn {
		sc.client.ID = FunctionClientID
	}
	if sc.client.Created == 0 {
		sc.client.Created = h.Started.UnixMilli()
		sc.client.LastTime.Store(sc.client.Created)
	}
	return sc
}

// putScriptCall recycles sc once its run ended (Monitor.End) and the
// engine returned.
func (h *Handlers) putScriptCall(sc *scriptCall) {
	if !sc.run.Reusable() {
		return
	}
	sc.run.Reset()
	sc.ew = errWatch{}
	h.scripts.calls.Put(sc)
}

// parseNumKeys reads EVAL's and FCALL's numkeys (c.Args[2]), writing
// notInt (their texts differ) or the range errors they share.
func parseNumKeys(c *command.Ctx, notInt string) (int64, bool) {
	numkeys, ok := ParseInt(c.Args[2])
	switch {
	case !ok:
		c.Error(notInt)
	case numkeys > int64(len(c.Args)-3):
		c.Error(errNumKeysGreater)
	case numkeys < 0:
		c.Error(errNumKeysNeg)
	default:
		return numkeys, true
	}
	return 0, false
}

// runScript is the shared tail of EVAL and FCALL once their own checks
// passed: the script call with the caller's rules, the busy monitor, the
// operating hooks, and the effects propagated as one unit at the end.
// metric names the script in metrics and the slow-script log; stats, when
// not nil, caches its statistics record.
func (h *Handlers) runScript(c *command.Ctx, scall *scriptCall, numkeys int64, metric string, stats *atomic.Value, call func(keys, args [][]byte)) {
	run := &scall.run
	keys := c.Args[3 : 3+numkeys]
	args := c.Args[3+numkeys:]
	sc := &scall.sc
	h.Exec.InitScriptCall(sc, c.Client, scall.client, c.DB.Now, run.ReadOnly)
	defer sc.Release()
	if st := trackingOf(c.Client); st != nil {
		// the script's reads remember its keys (trackObserveClient)
		st.script = c
		defer func() { st.script = nil }()
	}
	sc.DenyOOM = run.Flags&script.FlagAllowOOM == 0 && h.overMaxmemory()
	// cluster mode: an EVAL without shebang, or allow-cross-slot-keys,
	// may touch several slots; any other script keeps to one (the
	// caller's Slot, given back to a rerun as it was at the start)
	sc.CrossSlot = run.Flags&(script.FlagEvalCompat|script.FlagAllowCrossSlot) != 0
	slot := c.Client.Slot
	run.Host, run.Resp, run.Log = sc, 2, h.scripts.log
	sc.Log = h.scripts.log
	if c.Client.NoWait {
		run.Detach = c.Client.Detach // a long script leaves the event loop
	}
	// A script holding only the shards of its keys (exec.Locks in c.Held)
	// runs in partial mode; stopped for a rerun, it runs again below with
	// the whole keyspace.
	if held, ok := c.Held.(*exec.Locks); ok && sc.StartPartial(held, run) {
		run.ArgBytes, run.ArgSlices = sc.ArgBuffers() // no copy per held-back call
		run.Log = scall.logFn()                       // lines wait for Commit
		if sc.Lazy() {
			run.Settle = scall.settleFn() // a long script takes all its keys
		}
	}
	// --- ops: per-script metrics (memory_ops.go)
	ew := &scall.ew
	*ew = errWatch{ReplyWriter: c.W, c: c}
	run.W = ew
	// The run starts at its command's start and ends at its command's end
	// (one clock, package mono): two clock reads fewer per call.
	if c.Start != 0 {
		h.scripts.mon.BeginAt(run, c.Start)
	} else {
		h.scripts.mon.Begin(run)
	}
	start := run.Started()
	call(keys, args)
	if run.Retrying() && run.Debug != nil {
		// SCRIPT DEBUG YES: a command whose effects the undo log cannot
		// hold (FLUSHALL, MOVE...) stopped it; it cannot start again
		h.scripts.mon.End(run)
		sc.Rollback()
		c.Error(errDebugUndo)
		return
	}
	if run.Retrying() {
		h.scripts.mon.End(run)
		if c.Client.NoWait {
			// On an event loop: undo, and run it again on the
			// connection's own goroutine, where it may wait for the
			// whole keyspace (exec.MayWait). Stopped for a busy shard,
			// it may first run again on the loop holding its declared
			// shards (exec.Executor.Execute), and its connection comes
			// back to the loop after it, as a command's whose lock was
			// busy (Client.LockBusy).
			c.Client.LockBusy = sc.ShardBusy()
			sc.Decline()
			c.Client.Slot = slot
			c.Client.WouldWait = true
			return
		}
		if msg := sc.Escalate(); msg != "" { // BUSY
			c.W.Error(msg)
			h.Exec.CountError(msg)
			c.Rejected = true
			return
		}
		if run.Killed() { // SCRIPT KILL came as it stopped: its writes are undone
			c.Error(script.ErrKilled)
			h.ScriptDone(metric, stats, script.Since(start), true)
			return
		}
		run.Restart()
		run.Resp = 2
		c.Client.Slot = slot
		run.ArgBytes, run.ArgSlices = nil, nil // exclusive: nothing held back
		h.scripts.mon.Begin(run)
		call(keys, args)
	}
	h.scripts.mon.End(run)
	if run.Debug != nil && sc.Partial() {
		sc.Rollback() // SCRIPT DEBUG YES: the dataset as it was
	}
	sc.Finish()
	end := script.Now()
	h.ScriptDone(metric, stats, time.Duration(end-start), ew.failed) // ops
	c.End = end
}

// scriptDeniesOOM reports whether the script named by arg (its body, or
// its sha for EVALSHA) has the deny-oom command flag: it declares flags
// (shebang) without allow-oom or no-writes.
func (h *Handlers) scriptDeniesOOM(arg []byte, bySha bool) bool {
	flags, ok := h.evalFlags(arg, bySha)
	return ok && flags&script.FlagEvalCompat == 0 && flags&(script.FlagAllowOOM|script.FlagNoWrites) == 0
}

// evalFlags returns the flags of EVAL's script (bySha: EVALSHA's) before
// it runs, as Redis's evalGetCommandFlags finds them: the cached script's,
// else the shebang's; ok is false for an unknown sha or a bad shebang.
func (h *Handlers) evalFlags(arg []byte, bySha bool) (flags script.Flags, ok bool) {
	if bySha {
		s := h.scripts.cache.GetSha(arg)
		if s == nil {
			return 0, false
		}
		return s.Flags, true
	}
	if s := h.scripts.cache.GetBody(arg); s != nil {
		return s.Flags, true
	}
	flags, _, msg := script.ParseShebang(arg)
	return flags, msg == ""
}

// scriptCmdFlags is exec.Executor.ScriptFlags: the command flags of a
// script or function that declares flags, as Redis's
// scriptFlagsToCmdFlags (write unless no-writes, stale with allow-stale,
// deny-oom unless allow-oom or no-writes).
func (h *Handlers) scriptCmdFlags(spec *command.Spec, args [][]byte) (exec.ScriptCmdFlags, bool) {
	if len(args) < 2 {
		return exec.ScriptCmdFlags{}, false
	}
	var flags script.Flags
	switch spec.Name {
	case "eval", "eval_ro":
		f, ok := h.evalFlags(args[1], false)
		if !ok {
			return exec.ScriptCmdFlags{}, false
		}
		flags = f
	case "evalsha", "evalsha_ro":
		f, ok := h.evalFlags(args[1], true)
		if !ok {
			return exec.ScriptCmdFlags{}, false
		}
		flags = f
	case "fcall", "fcall_ro":
		f := h.scripts.libs.Function(string(args[1]))
		if f == nil {
			return exec.ScriptCmdFlags{}, false
		}
		flags = f.Flags
	default:
		return exec.ScriptCmdFlags{}, false
	}
	if flags&script.FlagEvalCompat != 0 {
		return exec.ScriptCmdFlags{}, false
	}
	return exec.ScriptCmdFlags{
		Write:   flags&script.FlagNoWrites == 0,
		Stale:   flags&script.FlagAllowStale != 0,
		DenyOOM: flags&(script.FlagNoWrites|script.FlagAllowOOM) == 0,
	}, true
}

// scriptErrWriter counts a script's error replies on its EVAL's Ctx as
// Redis does: in errorstats unless a failed redis.call already counted
// them, and as a failed call of EVAL in any case.
func (h *Handlers) scriptLog(level int, msg string) {
	if h.Log == nil {
		return
	}
	lv := slog.LevelInfo
	switch level {
	case 0:
		lv = slog.LevelDebug
	case 3:
		lv = slog.LevelWarn
	}
	h.Log.Log(context.Background(), lv, msg, "source", "script")
}

func (h *Handlers) scriptLoad(c *command.Ctx) {
	s, msg := h.compileScript(c.Args[2])
	if s == nil {
		c.Error(msg)
		return
	}
	c.W.BulkString(s.Sha)
}

func (h *Handlers) scriptExists(c *command.Ctx) {
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if h.scripts.cache.GetSha(a) != nil { // any case, as Redis's dict
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func (h *Handlers) scriptFlush(c *command.Ctx) {
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 3 && (EqualFold(c.Args[2], "sync") || EqualFold(c.Args[2], "async")):
	default:
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	if c.InScript && !calledByFunction(c.Client) {
		// reachable with DEBUG SET-DISABLE-DENY-SCRIPTS 1 only: Redis 7.0.15
		// frees the Lua state the script runs on and crashes
		c.Error(errScriptFlushInScript)
		return
	}
	h.scripts.cache.Flush()
	h.scripts.engine.Reset()
	c.W.OK()
}

// errScriptFlushInScript answers SCRIPT FLUSH run by an EVAL script, which
// crashes redis-server 7.0.15 (Crescent refuses it as a noscript command).
const errScriptFlushInScript = "ERR This Redis command is not allowed from script"

// calledByFunction reports whether cl, a script's client, runs for a
// FCALL or FCALL_RO (its caller's command).
func calledByFunction(cl *command.Client) bool {
	if cl == nil || cl.Caller == nil {
		return false
	}
	sp := cl.Caller.LastCmd.Load()
	return sp != nil && (sp.Name == "fcall" || sp.Name == "fcall_ro")
}

func (h *Handlers) scriptKill(c *command.Ctx) {
	if msg := h.scripts.mon.Kill(false); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

var scriptHelpLines = []string{
	"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
	"HELP",
	"    Prints this help.",
}

func (h *Handlers) scriptHelp(c *command.Ctx) {
	c.W.Array(len(scriptHelpLines))
	for _, l := range scriptHelpLines {
		c.W.Simple(l)
	}
}

// scriptShutdownCheck returns the BUSY error SHUTDOWN without NOSAVE
// gets while a script runs past the busy threshold ("" if none).
func (h *Handlers) scriptShutdownCheck() string { return h.scripts.mon.BusyError() }

// closeScripting stops a running script (shutdown).
func (h *Handlers) closeScripting() { h.scripts.mon.KillAny() }
