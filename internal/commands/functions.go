package commands

import (
	"fmt"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/script"
)

// Redis Functions: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/
// KILL/HELP and FCALL / FCALL_RO, on the scripting engine, Run path and
// busy monitor EVAL uses (scripting.go). The libraries live in
// h.scripts.libs (script.Libraries); snapshots and the AOF reach them
// through Functions().

// Function error texts (Redis 7.0).
const (
	errFuncNotFound     = "ERR Function not found"
	errFuncBadNumKeys   = "ERR Bad number of keys provided"
	errFuncFlushOption  = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
	errFuncRestorePol   = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
	errFuncNoLibName    = "ERR library name argument was not given"
	errFuncCodeMissing  = "ERR Function code is missing"
	errScriptNoCluster  = "ERR Can not run script on cluster, 'no-cluster' flag is set."
	errFuncLoadUnknown  = "ERR Unknown option given: "
	errFuncListArgument = "ERR Unknown argument "
)

// Functions returns the FUNCTION libraries: the persistence seam. A
// snapshot saves Codes() (one RDB_OPCODE_FUNCTION2 record each) and loads
// them back with LoadSnapshot(codes, script.RestoreAppend) (or Load(code,
// false, 0) one at a time); an AOF rewrite writes a FUNCTION LOAD per code.
func (h *Handlers) Functions() *script.Libraries { return h.scripts.libs }

func (h *Handlers) registerFunctions() {
	libs := script.NewLibraries()
	libs.AddEngine("LUA", h.scripts.engine)
	libs.Log = h.scriptLog
	h.scripts.libs = libs
	t := h.Table
	all := command.WithLock(command.LockAll)
	none := command.WithLock(command.LockNone)
	// A function locks the shards of its keys and takes more as it runs,
	// like EVAL (exec.ScriptCall), when it may run twice (Rerunnable);
	// else, or without keys, it holds the whole keyspace.
	// They run on an event loop like EVAL: one that would wait (for the
	// whole keyspace, or for the functions' Lua state when no clone of
	// its library is free) is declined before any effect and runs again
	// on the connection's goroutine.
	sc := command.WithLock(command.LockScript)
	t.Handle("fcall", func(c *command.Ctx) { h.fcall(c, false) }, sc)
	t.Handle("fcall_ro", func(c *command.Ctx) { h.fcall(c, true) }, sc)
	// Changes to the libraries hold the whole keyspace: they wait for a
	// running function (or get BUSY past the threshold), as in Redis.
	t.Handle("function|load", h.functionLoad, all)
	t.Handle("function|delete", h.functionDelete, all)
	t.Handle("function|flush", h.functionFlush, all)
	t.Handle("function|restore", h.functionRestore, all)
	t.Handle("function|list", h.functionList, none)
	t.Handle("function|dump", h.functionDump, none)
	t.Handle("function|stats", h.functionStats, none)
	t.Handle("function|kill", h.functionKill, none)
	t.Handle("function|help", h.functionHelp, none)
}

// overMaxmemory reports whether used memory is above maxmemory (after the
// eviction exec already attempted before the command).
func (h *Handlers) overMaxmemory() bool {
	if h.Exec.Memory == nil {
		return false
	}
	max, _, _ := h.Exec.Memory()
	// a replica with replica-ignore-maxmemory yes is never over (guard.go)
	return max > 0 && h.Exec.UsedMemory() > max && h.Exec.Guard.Load()&exec.GuardIgnoreMaxmemory == 0
}

// scriptDenyOOM reports whether a script with flags is refused over
// maxmemory: Redis gives scripts that declare flags the denyoom command
// flag unless they are allow-oom or no-writes.
func (h *Handlers) scriptDenyOOM(flags script.Flags) bool {
	return flags&script.FlagEvalCompat == 0 &&
		flags&(script.FlagAllowOOM|script.FlagNoWrites) == 0 && h.overMaxmemory()
}

// scriptReadOnlyReplica reports whether a script with flags is refused
// on a read-only replica: one that declares flags without no-writes is a
// write command there, as Redis's processCommand sees it (a script
// without flags runs, and its writes fail).
func (h *Handlers) scriptReadOnlyReplica(c *command.Ctx, flags script.Flags) bool {
	return flags&(script.FlagEvalCompat|script.FlagNoWrites) == 0 &&
		h.Exec.Guard.Load()&exec.GuardReadOnly != 0 && c.Client.Flags&command.ClientMaster == 0
}

// scriptFlagsCheck applies a script's declared flags before it runs, as
// scriptPrepareForRun: no-cluster, and the write flag under *_RO. It
// returns the error reply or "".
func (h *Handlers) scriptFlagsCheck(flags script.Flags, ro bool) string {
	if flags&script.FlagEvalCompat != 0 {
		return ""
	}
	if flags&script.FlagNoCluster != 0 && h.Config.Bool("cluster-enabled") {
		return errScriptNoCluster
	}
	// exec's guard refuses these first (Executor.ScriptFlags); kept in
	// Redis's order for a state that changes in between
	g := h.Exec.Guard.Load()
	if g&exec.GuardMasterDown != 0 && flags&script.FlagAllowStale == 0 {
		return exec.ErrScriptNotStale
	}
	if flags&script.FlagNoWrites == 0 && ro {
		return errROWriteFlag
	}
	if flags&script.FlagNoWrites == 0 {
		if msg := h.Exec.ScriptDiskError(); msg != "" {
			return msg
		}
	}
	if flags&script.FlagNoWrites == 0 && g&exec.GuardNoReplicas != 0 {
		return exec.ErrNoReplicas
	}
	return ""
}

// fcall implements FCALL and FCALL_RO. As Redis's fcallCommandGeneric, it
// shows the call to MONITOR first, before the commands it runs and before
// any check (a function not found is shown too).
func (h *Handlers) fcall(c *command.Ctx, ro bool) {
	if c.Client.NoWait && h.ops.nmon.Load() > 0 {
		// MONITOR would show a call declined on the loop twice (eval)
		c.Client.WouldWait = true
		return
	}
	h.MonitorFeed(c) // skip_monitor (ops.go)
	h.fcallRun(c, ro)
}

func (h *Handlers) fcallRun(c *command.Ctx, ro bool) {
	f := h.scripts.libs.Function(string(c.Args[1]))
	if f == nil {
		c.Error(errFuncNotFound)
		return
	}
	if h.scriptDenyOOM(f.Flags) {
		c.Error(exec.ErrOOM)
		return
	}
	if h.scriptReadOnlyReplica(c, f.Flags) {
		c.Error(exec.ErrReadOnlyReplica)
		return
	}
	numkeys, ok := parseNumKeys(c, errFuncBadNumKeys)
	if !ok {
		return
	}
	if msg := h.scriptFlagsCheck(f.Flags, ro); msg != "" {
		c.Error(msg)
		return
	}
	if held, ok := c.Held.(*exec.Locks); ok && !held.All && !f.Rerunnable {
		// A partial attempt stopped for a rerun would repeat the
		// changes the function makes to its library's state (a Lua
		// upvalue): take the whole keyspace first, then look everything
		// up again (the libraries may have changed in between). An
		// event loop must not wait for it: the connection's goroutine
		// runs the call again.
		if c.Client.NoWait {
			c.Client.WouldWait = true
			return
		}
		// a client calling it stays on its goroutine
		c.Client.MayWait = true
		if msg := h.Exec.HoldAll(held); msg != "" { // BUSY
			c.W.Error(msg)
			h.Exec.CountError(msg)
			c.Rejected = true
			return
		}
		h.fcallRun(c, ro)
		return
	}
	readOnly := ro || f.Flags&script.FlagNoWrites != 0
	sc := h.getScriptCall(true)
	run := &sc.run
	run.Name, run.Flags, run.ReadOnly, run.Function, run.Command = f.Name, f.Flags, readOnly, true, c.Args
	var metric string // the statistics record's name, once it is cached
	if f.Stats.Load() == nil {
		metric = "function:" + f.Name
	}
	h.runScript(c, sc, numkeys, metric, &f.Stats, func(keys, args [][]byte) {
		f.Call(run, keys, args)
	})
	h.putScriptCall(sc)
}

func (h *Handlers) functionLoad(c *command.Ctx) {
	replace := false
	i := 2
	for ; i < len(c.Args)-1; i++ {
		if !EqualFold(c.Args[i], "replace") {
			c.Error(errFuncLoadUnknown + string(c.Args[i]))
			return
		}
		replace = true
	}
	if i >= len(c.Args) {
		c.Error(errFuncCodeMissing)
		return
	}
	// Redis loads without the timeout for clients it must obey (AOF replay)
	timeout := script.LoadTimeout
	if c.Client.Flags&command.ClientLoading != 0 {
		timeout = 0
	}
	name, msg := h.scripts.libs.Load(c.Args[i], replace, timeout)
	if msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.Dirty++
	c.W.BulkString(name)
}

func (h *Handlers) functionDelete(c *command.Ctx) {
	if !h.scripts.libs.Delete(string(c.Args[2])) {
		c.Error("ERR " + script.ErrLibNotFound)
		return
	}
	c.Dirty++
	c.W.OK()
}

func (h *Handlers) functionFlush(c *command.Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntaxError(c) // streams.go
		return
	}
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 3 && (EqualFold(c.Args[2], "sync") || EqualFold(c.Args[2], "async")):
	default:
		c.Error(errFuncFlushOption)
		return
	}
	h.scripts.libs.Flush()
	c.Dirty++
	c.W.OK()
}

func (h *Handlers) functionRestore(c *command.Ctx) {
	if len(c.Args) > 4 {
		subcommandSyntaxError(c) // streams.go
		return
	}
	policy := script.RestoreAppend
	if len(c.Args) == 4 {
		switch {
		case EqualFold(c.Args[3], "append"):
		case EqualFold(c.Args[3], "replace"):
			policy = script.RestoreReplace
		case EqualFold(c.Args[3], "flush"):
			policy = script.RestoreFlush
		default:
			c.Error(errFuncRestorePol)
			return
		}
	}
	if msg := h.scripts.libs.Restore(c.Args[2], policy); msg != "" {
		c.Error("ERR " + msg)
		return
	}
	c.Dirty++
	c.W.OK()
}

func (h *Handlers) functionDump(c *command.Ctx) {
	c.W.Bulk(h.scripts.libs.Dump())
}

func (h *Handlers) functionList(c *command.Ctx) {
	withCode := false
	var pattern []byte
	havePattern := false
	for i := 2; i < len(c.Args); i++ {
		a := c.Args[i]
		if !withCode && EqualFold(a, "withcode") {
			withCode = true
			continue
		}
		if !havePattern && EqualFold(a, "libraryname") {
			if i >= len(c.Args)-1 {
				c.Error(errFuncNoLibName)
				return
			}
			i++
			pattern, havePattern = c.Args[i], true
			continue
		}
		c.Error(errFuncListArgument + string(a))
		return
	}
	var match func(string) bool
	if havePattern {
		p := string(pattern)
		match = func(name string) bool { return glob.Match(p, name, true) }
	}
	libs := h.scripts.libs.List(match)
	w := c.W
	w.Array(len(libs))
	for _, l := range libs {
		if withCode {
			w.Map(4)
		} else {
			w.Map(3)
		}
		w.BulkString("library_name")
		w.BulkString(l.Name)
		w.BulkString("engine")
		w.BulkString(l.Engine)
		w.BulkString("functions")
		w.Array(len(l.Functions))
		for _, f := range l.Functions {
			w.Map(3)
			w.BulkString("name")
			w.BulkString(f.Name)
			w.BulkString("description")
			if f.HasDesc {
				w.BulkString(f.Desc)
			} else {
				w.Null()
			}
			w.BulkString("flags")
			names := f.Flags.Names()
			w.Set(len(names))
			for _, n := range names {
				w.Simple(n)
			}
		}
		if withCode {
			w.BulkString("library_code")
			w.BulkString(l.Code)
		}
	}
}

func (h *Handlers) functionStats(c *command.Ctx) {
	run := h.scripts.mon.Current()
	if run != nil && !run.Function {
		c.Error(script.ErrBusyEval)
		return
	}
	w := c.W
	w.Map(2)
	w.BulkString("running_script")
	if run == nil {
		w.Null()
	} else {
		w.Map(3)
		w.BulkString("name")
		w.BulkString(run.Name)
		w.BulkString("command")
		w.Array(len(run.Command))
		for _, a := range run.Command {
			w.Bulk(a)
		}
		w.BulkString("duration_ms")
		w.Int(run.Elapsed().Milliseconds())
	}
	w.BulkString("engines")
	stats := h.scripts.libs.Stats()
	w.Map(len(stats))
	for _, e := range stats {
		w.BulkString(e.Name)
		w.Map(2)
		w.BulkString("libraries_count")
		w.Int(int64(e.Libraries))
		w.BulkString("functions_count")
		w.Int(int64(e.Functions))
	}
}

func (h *Handlers) functionKill(c *command.Ctx) {
	if msg := h.scripts.mon.Kill(true); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}

var functionHelpLines = []string{
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
	"HELP",
	"    Prints this help.",
}

func (h *Handlers) functionHelp(c *command.Ctx) {
	c.W.Array(len(functionHelpLines))
	for _, l := range functionHelpLines {
		c.W.Simple(l)
	}
}

// FunctionStore adapts the libraries for persistence (persist.FunctionLibraries).
type FunctionStore struct{ Libs *script.Libraries }

// Codes returns every library's code.
func (f FunctionStore) Codes() [][]byte { return f.Libs.Codes() }

// LoadCode loads one library read from a snapshot; replace lets it replace
// a library of the same name.
func (f FunctionStore) LoadCode(code []byte, replace bool) error {
	if _, msg := f.Libs.Load(code, replace, 0); msg != "" {
		return fmt.Errorf("loading function library: %s", msg)
	}
	return nil
}

// Prepare compiles a snapshot's libraries without putting them in force;
// install replaces every library with them (the keyspace held whole).
func (f FunctionStore) Prepare(codes [][]byte) (install func(), err error) {
	p, msg := f.Libs.Prepare(codes)
	if msg != "" {
		return nil, fmt.Errorf("loading function library: %s", msg)
	}
	return func() { f.Libs.Install(p) }, nil
}
