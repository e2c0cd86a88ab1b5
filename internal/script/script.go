// Package script is the engine-neutral scripting layer shared by EVAL and
// FUNCTION: the Engine interface a language runtime implements, the Run
// handle that is the engine's only way back to the server (redis.call,
// RESP version, read-only flag, kill and busy checks), script flags and
// shebang parsing, and the EVAL script cache.
package script

import (
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/mono"
	"github.com/crescent-db/crescent/internal/procid"
	"github.com/crescent-db/crescent/internal/resp"
)

// Flags are a script's declared flags (the shebang's flags=...).
type Flags uint32

// Script flags, as Redis 7.0 names them in shebangs and FUNCTION flags.
const (
	FlagNoWrites Flags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlot
	// FlagEvalCompat marks an EVAL script without shebang: it runs in the
	// pre-7.0 compatibility mode where the flags are not checked.
	FlagEvalCompat
)

var flagNames = []struct {
	name string
	flag Flags
}{
	{"no-writes", FlagNoWrites},
	{"allow-oom", FlagAllowOOM},
	{"allow-stale", FlagAllowStale},
	{"no-cluster", FlagNoCluster},
	{"allow-cross-slot-keys", FlagAllowCrossSlot},
}

// ParseFlag returns the script flag named s.
func ParseFlag(s string) (Flags, bool) {
	for _, f := range flagNames {
		if f.name == s {
			return f.flag, true
		}
	}
	return 0, false
}

// Names returns the names of the flags set in f, in Redis's order.
func (f Flags) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.flag != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// ParseShebang reads an EVAL script's optional "#!lua flags=..." first
// line. It returns the flags, the length of the shebang line (the body to
// compile starts there, keeping the newline so line numbers stay right) and
// Redis's error text without the "ERR " prefix.
func ParseShebang(body []byte) (Flags, int, string) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return FlagEvalCompat, 0, ""
	}
	end := -1
	for i, c := range body {
		if c == '\n' {
			end = i
			break
		}
	}
	if end < 0 {
		return 0, 0, "Invalid script shebang"
	}
	parts, err := resp.SplitArgs(body[:end], nil)
	if err != nil || len(parts) == 0 {
		return 0, 0, "Invalid engine in script shebang"
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, "Unexpected engine in script shebang: " + string(parts[0])
	}
	var flags Flags
	for _, p := range parts[1:] {
		rest, ok := strings.CutPrefix(string(p), "flags=")
		if !ok {
			return 0, 0, "Unknown lua shebang option: " + string(p)
		}
		if rest == "" {
			continue
		}
		for _, name := range strings.Split(rest, ",") {
			f, ok := ParseFlag(name)
			if !ok {
				return 0, 0, "Unexpected flag in script shebang: " + name
			}
			flags |= f
		}
	}
	return flags, end, ""
}

// SHA1Hex returns the lowercase hex SHA1 of b, the name of an EVAL script.
func SHA1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// Function is an engine's compiled function; only the engine that compiled
// it knows its type.
type Function any

// Engine is a scripting language runtime.
type Engine interface {
	// Compile compiles code under the chunk name name. The error's text is
	// the engine's compile message ("user_script:1: ...").
	Compile(name string, code []byte) (Function, error)
	// Call runs fn with keys and args and writes its result, or the error
	// that stopped it, to run.W.
	Call(run *Run, fn Function, keys, args [][]byte)
	// Memory estimates the bytes used by the engine's runtimes.
	Memory() int64
}

// Host is what a Run calls back into: the server's redis.call path. exec
// implements it, so a command called from a script passes the same checks
// as a client's command plus the script rules.
type Host interface {
	// Call runs a command for redis.call / redis.pcall and writes its reply
	// (or the rejection error, e.g. "ERR Unknown Redis command called from
	// script") to w.
	Call(args [][]byte, w resp.ReplyWriter)
	// SetResp sets the RESP version the script's commands reply with.
	SetResp(proto int)
	// Wrote reports whether the script has run a write command.
	Wrote() bool
	// CheckACL reports whether the caller may run args
	// (redis.acl_check_cmd); ok is false and msg set for an unknown command.
	CheckACL(args [][]byte) (allowed bool, msg string)
}

// Replicator is implemented by a Host that propagates a script's writes:
// redis.set_repl's flags (REPL_NONE 0, REPL_AOF 1, REPL_REPLICA 2,
// REPL_ALL 3) for the script's next writes.
type Replicator interface {
	SetRepl(flags int)
}

// Escalator is implemented by a Host whose script may hold only some
// shards of the keyspace.
type Escalator interface {
	// NeedAll reports whether the script holds the whole keyspace. When
	// it does not, it stops the run for a retry (Run.Retry) that will, and
	// returns false.
	NeedAll() bool
}

// Waiter is implemented by a Host whose script may hold only some shards
// of the keyspace: an engine that must wait for a resource (the functions'
// shared state) asks it between polls instead of blocking.
type Waiter interface {
	// KeepWaiting reports whether the run may wait longer. False means it
	// was stopped for a retry (Run.Retry) that holds the whole keyspace.
	KeepWaiting() bool
}

// ErrorNoter is implemented by a Run's W when the host counts the error
// replies of scripts (errorstats, failed_calls): the engine calls
// NoteError before writing each error reply. counted is set for errors
// already counted when a command called by the script failed (Redis's
// ignore_error_stats_update): they only mark the script as failed.
type ErrorNoter interface {
	NoteError(msg string, counted bool)
}

// WriteError writes an error reply to w, noting it first when w is an
// ErrorNoter.
func WriteError(w resp.ReplyWriter, msg string, counted bool) {
	if n, ok := w.(ErrorNoter); ok {
		n.NoteError(msg, counted)
	}
	w.Error(msg)
}

// Run is one execution of a script or function.
type Run struct {
	// W receives the script's final reply.
	W resp.ReplyWriter
	// Host serves redis.call.
	Host Host
	// Name is what error replies call the script: the sha1 of an EVAL
	// script, or a function's name.
	Name string
	// Flags are the script's flags.
	Flags Flags
	// ReadOnly forbids write commands (EVAL_RO, or the no-writes flag).
	ReadOnly bool
	// Function is set for FCALL (SCRIPT KILL and FUNCTION KILL each kill
	// only their kind).
	Function bool
	// Command is the caller's command (FUNCTION STATS shows it while a
	// function runs). It may alias the caller's read buffer, which stays
	// untouched while the command runs: read it only while the run is
	// current.
	Command [][]byte
	// Resp is the RESP version commands called by the script reply with
	// (redis.setresp); it starts at 2.
	Resp int
	// Log receives redis.log lines at a Redis log level (0 debug .. 3
	// warning).
	Log func(level int, msg string)

	// Detach, when set, is called once, from the running code's
	// goroutine, when the script has run for a while (the engine's
	// periodic check): the caller's connection leaves its event loop so
	// that the loop's other connections are served meanwhile.
	Detach func()
	// Settle, when set, is called once, from the running code's
	// goroutine, at the engine's first periodic check (a script that
	// runs more than a few thousand instructions): a script that takes
	// its keys' locks at their first access then takes the rest.
	Settle func()

	// Debug, when set, runs the script under the Lua debugger (SCRIPT
	// DEBUG YES or SYNC, Redis's LDB): the engine stops at its first
	// line and serves debugger commands read from the client, writing its
	// output to the client directly.
	Debug *Debug

	// ArgBytes and ArgSlices, when set, are where the engine builds
	// redis.call's arguments: it appends each call's bytes and slices and
	// never reuses what they hold, so the host may keep a call's arguments
	// until the run is finished (exec's partial-lock log holds its calls'
	// statistics back until then). When nil the engine reuses its own
	// buffers from call to call.
	ArgBytes  *[]byte
	ArgSlices *[][]byte

	start  atomic.Int64 // monoNow at Begin
	slot   int          // the Monitor's slot it is registered in (Begin)
	killed atomic.Bool
	retry  atomic.Bool
	// shared is set when the Monitor handed r to someone else (Current,
	// KillAny): SCRIPT KILL, FUNCTION STATS or a BUSY check may still
	// hold it after the run ended, so it must not be reused.
	shared atomic.Bool
	mu     sync.Mutex
	stop   func() // set by the engine: interrupts the running code
}

// DebugConn is a debugging client's connection, used directly while a
// script runs under the debugger.
type DebugConn interface {
	// ReadCommand returns the client's next command (a debugger
	// command), waiting for it; an error means the client is gone.
	ReadCommand() ([][]byte, error)
	// Write sends p to the client now.
	Write(p []byte) error
}

// Debug is a debugging session's setting (Run.Debug).
type Debug struct {
	Conn DebugConn
	// Source is the script's code, which the debugger lists.
	Source []byte
	// Timeout is how long the script may run without stopping before
	// the debugger stops it ("timeout reached, infinite loop?"): the busy
	// threshold, or 5 s when that is 0.
	Timeout time.Duration
}

// ResetStart makes the run start now: a script the debugger stopped
// does not count the time it waited for its user.
func (r *Run) ResetStart() { r.start.Store(monoNow()) }

// Reusable reports whether r, once its run ended (Monitor.End), is held
// by nobody but its owner: the Monitor never handed it out. Only then may
// the owner Reset it for another call.
func (r *Run) Reusable() bool { return !r.shared.Load() }

// Reset makes r a zero Run for another call. r must be Reusable, its run
// ended and the engine done with it.
func (r *Run) Reset() { *r = Run{} }

// SetResp switches the RESP version of the script's command replies.
func (r *Run) SetResp(p int) {
	r.Resp = p
	if r.Host != nil {
		r.Host.SetResp(p)
	}
}

// Killed reports whether SCRIPT KILL (or shutdown) stopped the run.
func (r *Run) Killed() bool { return r.killed.Load() }

// SetInterrupt is called by the engine before running code: stop must make
// the running code fail at its next step.
// SetInterrupt(nil) after the code returned makes a late Kill harmless.
// A Kill that came before the engine installed stop takes effect now.
func (r *Run) SetInterrupt(stop func()) {
	r.mu.Lock()
	r.stop = stop
	if stop != nil && r.killed.Load() {
		stop()
	}
	r.mu.Unlock()
}

// Retry stops the run to start it again holding the whole keyspace (it
// holds only some shards and needs more than it can take without
// waiting): the engine stops the code at its next step and writes no
// reply; every further redis.call fails.
func (r *Run) Retry() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retry.CompareAndSwap(false, true) && r.stop != nil {
		r.stop()
	}
}

// Retrying reports whether Retry was called since the run (re)started.
func (r *Run) Retrying() bool { return r.retry.Load() }

// Restart clears Retry for the run's second attempt.
func (r *Run) Restart() { r.retry.Store(false) }

// Kill stops the run.
func (r *Run) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.killed.CompareAndSwap(false, true) && r.stop != nil {
		r.stop()
	}
}

// monoNow is the runs' clock: nanoseconds on the monotonic clock (the
// executor's, package mono), never 0 (one clock read where time.Now takes
// two).
func monoNow() int64 { return mono.Now() }

// Now reads the runs' clock (the executor's: mono.Now).
func Now() int64 { return mono.Now() }

// Started returns when the run last began (Monitor.Begin) on the runs'
// clock, for Since.
func (r *Run) Started() int64 { return r.start.Load() }

// Since returns the time elapsed since t, a time from Started.
func Since(t int64) time.Duration { return time.Duration(monoNow() - t) }

// Elapsed is how long the run has been going.
func (r *Run) Elapsed() time.Duration {
	s := r.start.Load()
	if s == 0 {
		return 0
	}
	return time.Duration(monoNow() - s)
}

// Error texts of the busy-script machinery (Redis 7.0).
const (
	ErrBusyEval     = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	ErrBusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	ErrNotBusy      = "NOTBUSY No scripts in execution right now."
	ErrUnkillable   = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	ErrKilled       = "ERR Script killed by user with SCRIPT KILL..."
)

// Monitor tracks the running scripts for BUSY replies, SCRIPT KILL and
// FUNCTION KILL. Scripts on disjoint keys run in parallel, so several may
// run at once; the oldest is the one BUSY, KILL and FUNCTION STATS see.
//
// Every script call registers and unregisters itself, on whichever core
// runs it: the registry is kept by processor (procid), a lock and a list
// per slot, so that two cores running scripts do not pass one lock's
// cache line back and forth twice per call (docs/design/concurrency.md,
// "Shared lines"). The rare readers of the whole registry (KILL, BUSY,
// FUNCTION STATS) lock every slot, in order.
type Monitor struct {
	slots [procid.Slots]monSlot
	// Threshold returns busy-reply-threshold.
	Threshold func() time.Duration
}

// monSlot is one processor's running scripts, on cache lines of its own.
type monSlot struct {
	mu   sync.Mutex
	runs []*Run
	// oldest is the start (monoNow) of the slot's oldest running script,
	// 0 when none runs: Running and Slow read it on every command without
	// taking mu.
	oldest atomic.Int64
	_      [128 - 8 - 24 - 8]byte
}

// Begin marks r as running.
func (m *Monitor) Begin(r *Run) { m.BeginAt(r, monoNow()) }

// BeginAt is Begin with the start read already (Now, or the command's
// Start: the same clock).
func (m *Monitor) BeginAt(r *Run, start int64) { m.beginIn(r, start, procid.Slot()) }

// beginIn registers r in slot i.
func (m *Monitor) beginIn(r *Run, start int64, i int) {
	r.start.Store(start)
	r.slot = i
	sl := &m.slots[i]
	sl.mu.Lock()
	sl.runs = append(sl.runs, r)
	sl.oldest.Store(sl.runs[0].start.Load())
	sl.mu.Unlock()
}

// End marks r as no longer running.
func (m *Monitor) End(r *Run) {
	sl := &m.slots[r.slot]
	sl.mu.Lock()
	if i := slices.Index(sl.runs, r); i >= 0 {
		sl.runs = slices.Delete(sl.runs, i, i+1) // clears the freed slot
	}
	if len(sl.runs) > 0 {
		sl.oldest.Store(sl.runs[0].start.Load())
	} else {
		sl.oldest.Store(0)
	}
	sl.mu.Unlock()
}

// lockAll locks every slot, in order (Begin and End lock one).
func (m *Monitor) lockAll() {
	for i := range m.slots {
		m.slots[i].mu.Lock()
	}
}

func (m *Monitor) unlockAll() {
	for i := range m.slots {
		m.slots[i].mu.Unlock()
	}
}

// oldestRun is the running script that started first, or nil. Requires
// lockAll.
func (m *Monitor) oldestRun() *Run {
	var r *Run
	for i := range m.slots {
		if runs := m.slots[i].runs; len(runs) > 0 && (r == nil || runs[0].start.Load() < r.start.Load()) {
			r = runs[0]
		}
	}
	return r
}

// Current returns the oldest running script, or nil.
func (m *Monitor) Current() *Run {
	m.lockAll()
	defer m.unlockAll()
	r := m.oldestRun()
	if r != nil {
		r.shared.Store(true)
	}
	return r
}

// Running reports whether a script is running.
func (m *Monitor) Running() bool {
	for i := range m.slots {
		if m.slots[i].oldest.Load() != 0 {
			return true
		}
	}
	return false
}

// slowAfter is how long a script runs before commands stop queueing on
// the keyspace lock and poll for it instead (see exec.BusyMonitor.Slow).
const slowAfter = time.Millisecond

// Slow reports whether a running script has run for slowAfter, or past
// the busy threshold when that is shorter.
func (m *Monitor) Slow() bool {
	var o int64
	for i := range m.slots {
		if x := m.slots[i].oldest.Load(); x != 0 && (o == 0 || x < o) {
			o = x
		}
	}
	if o == 0 {
		return false
	}
	limit := slowAfter
	if m.Threshold != nil {
		if th := m.Threshold(); th < limit {
			limit = th
		}
	}
	return time.Duration(monoNow()-o) >= limit
}

// BusyError returns the BUSY error when a script has run past the busy
// threshold, or "".
func (m *Monitor) BusyError() string {
	r := m.Current()
	if r == nil {
		return ""
	}
	th := 5 * time.Second
	if m.Threshold != nil {
		th = m.Threshold()
	}
	if r.Elapsed() < th {
		return ""
	}
	if r.Function {
		return ErrBusyFunction
	}
	return ErrBusyEval
}

// Kill implements SCRIPT KILL (function false) and FUNCTION KILL
// (function true). It returns the error reply, or "" for OK.
func (m *Monitor) Kill(function bool) string {
	// Under the slots' locks the run stays registered (End waits), so its
	// Host, which its caller recycles after End, is still its own.
	m.lockAll()
	defer m.unlockAll()
	r := m.oldestRun()
	if r == nil {
		return ErrNotBusy
	}
	if r.Host != nil && r.Host.Wrote() {
		return ErrUnkillable
	}
	if r.Function != function {
		if r.Function {
			return ErrBusyFunction
		}
		return ErrBusyEval
	}
	r.Kill()
	return ""
}

// KillAny stops the running scripts whatever they did (SHUTDOWN NOSAVE).
func (m *Monitor) KillAny() {
	m.lockAll()
	var runs []*Run
	for i := range m.slots {
		runs = append(runs, m.slots[i].runs...)
	}
	for _, r := range runs {
		r.shared.Store(true)
	}
	m.unlockAll()
	for _, r := range runs {
		r.Kill()
	}
}
