package exec

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/crescent-db/crescent/internal/acl"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/mono"
	"github.com/crescent-db/crescent/internal/resp"
)

// Errors of commands called from scripts (Redis 7.0 texts).
const (
	ErrScriptUnknown   = "ERR Unknown Redis command called from script"
	ErrScriptArity     = "ERR Wrong number of args calling Redis command from script"
	ErrScriptNoScript  = "ERR This Redis command is not allowed from script"
	ErrScriptReadOnly  = "ERR Write commands are not allowed from read-only scripts."
	ErrACLCheckUnknown = "ERR Invalid command passed to redis.acl_check_cmd()"
)

// ScriptCall is one script execution as the call path sees it: the fake
// client its commands run as (its DB changes with SELECT for the rest of
// the script only; its Proto follows redis.setresp), the frozen time, the
// read-only rule and the writes to propagate. It implements script.Host.
//
// A script runs in one of two modes (docs/design/concurrency.md, "Scripts
// on disjoint keys in parallel"). Exclusive: the caller holds the whole
// keyspace and commands run without further locking. Partial (see
// partial.go): the caller holds the global lock shared and the shards of
// the declared keys; further shards are tried without waiting, writes are
// undoable and their side effects wait for Commit, and anything that does
// not fit stops the script for a rerun in exclusive mode (Escalate).
type ScriptCall struct {
	E      *Executor
	Client *command.Client // the script's client
	Caller *command.Client // the client that ran EVAL / FCALL
	// Now is the script's frozen time (Unix ms).
	Now int64
	// ReadOnly rejects write and may-replicate commands.
	ReadOnly bool
	// DenyOOM rejects denyoom commands until the script's first write:
	// memory was over maxmemory when the script started and it is not
	// allow-oom (Redis's scriptVerifyOOM).
	DenyOOM bool
	// CrossSlot lets the script's commands, in cluster mode, touch keys
	// of several (local) slots: an EVAL without shebang, or a script or
	// function flagged allow-cross-slot-keys (Redis's
	// SCRIPT_ALLOW_CROSS_SLOT).
	CrossSlot bool
	// Log receives the script's redis.log lines (WriteLog): at once,
	// or at Commit in partial mode.
	Log func(level int, msg string)

	wrote   atomic.Bool
	effects []effect
	// replSkip is what redis.set_repl turned off for the next writes
	// (skipAOF, skipReplicas; 0: both get them, as REPL_ALL)
	replSkip uint8
	// replSplit: an effect was recorded with a replSkip
	replSplit bool
	// propagate: the effects are recorded (Executor.Propagating at the
	// script's first write, read under that key's lock: a snapshot's cut,
	// which turns the AOF or a replica's stream on, cannot fall between
	// that write and the script's end, since the script keeps its locks)
	propagate bool
	// propagateKnown: propagate was decided (first write)
	propagateKnown bool

	part partial // partial-lock mode state (partial.go)
	// ctx is the context of the running redis.call (calls never nest):
	// no frame from the executor's pool per call.
	ctx     command.Ctx
	stop    Retrier // stops the script's code for a rerun
	restart bool    // stopped for a rerun with the whole keyspace
	pooled  bool    // from NewScriptCall: Release puts it back
	// replyAt is where the script's reply starts in Caller.Out (-1: no
	// such buffer): commit puts the caller's own held-back keyspace
	// notifications there, before the reply.
	replyAt int

	// names caches the specs of the last commands called, for the table
	// namesTab: a script calls the same few commands, and Spec.Repeats
	// (the check a client's repeated command uses) costs less than the
	// table's hash lookup. It survives Release.
	names    [4]*command.Spec
	namesTab *command.Table
	nextName uint8
}

// resolve is e.Table.Resolve(args) through s.names. Only commands
// without subcommands are cached (Spec.Repeats): their spec does not
// depend on args[1].
func (s *ScriptCall) resolve(t *command.Table, args [][]byte) (cmd, spec *command.Spec) {
	if s.namesTab != t {
		s.names, s.namesTab, s.nextName = [4]*command.Spec{}, t, 0
	}
	for _, x := range s.names {
		if x != nil && x.Repeats(args) {
			return x, x
		}
	}
	cmd, spec = t.Resolve(args)
	if cmd != nil && spec == cmd && cmd.Repeats(args) {
		s.names[s.nextName&3] = cmd
		s.nextName++
	}
	return cmd, spec
}

type effect struct {
	db   int
	cmd  [][]byte
	skip uint8 // skipAOF, skipReplicas: targets redis.set_repl turned off
	// expired: the DEL of a key the script found expired (addExpired):
	// the key stays deleted when a partial-mode attempt stops (abandon)
	expired bool
}

// The targets of an effect that redis.set_repl turned off.
const (
	skipAOF      = 1 // REPL_AOF not set
	skipReplicas = 2 // REPL_REPLICA not set
)

// SetRepl implements redis.set_repl: flags is REPL_NONE (0), REPL_AOF (1),
// REPL_REPLICA (2) or REPL_ALL (3), for the script's next writes. A write
// with neither is not propagated at all, as in Redis's call().
func (s *ScriptCall) SetRepl(flags int) { s.replSkip = uint8(3 &^ flags) }

// NewScriptCall prepares a script run for caller at time now. The script's
// client starts in the caller's database with RESP2.
func (e *Executor) NewScriptCall(caller, scriptClient *command.Client, now int64, readOnly bool) *ScriptCall {
	s, _ := e.scripts.Get().(*ScriptCall)
	if s == nil {
		s = &ScriptCall{}
	}
	e.InitScriptCall(s, caller, scriptClient, now, readOnly)
	s.pooled = true
	return s
}

// InitScriptCall is NewScriptCall in storage the caller owns (a zero
// ScriptCall or one Released): no pool round trip per script (EVALSHA's
// per-call state lives in one pooled object, commands.scriptCall).
// Release does not pool s.
func (e *Executor) InitScriptCall(s *ScriptCall, caller, scriptClient *command.Client, now int64, readOnly bool) {
	scriptClient.DB = caller.DB
	scriptClient.Proto = 2
	scriptClient.Flags = command.ClientScript
	scriptClient.User = caller.User
	scriptClient.ACLUser = caller.ACLUser
	scriptClient.Authed = true
	scriptClient.Caller = caller
	scriptClient.Script = s
	s.E, s.Client, s.Caller, s.Now, s.ReadOnly = e, scriptClient, caller, now, readOnly
	s.propagate, s.propagateKnown = false, false
	s.pooled = false
	s.replyAt = -1
	if caller.Out != nil {
		s.replyAt = len(*caller.Out)
	}
}

// Release recycles s after Finish; s must not be used afterwards (but
// for a new InitScriptCall by its owner).
func (s *ScriptCall) Release() {
	e := s.E
	s.wrote.Store(false)
	s.Client.Caller, s.Client.Script = nil, nil
	s.E, s.Client, s.Caller, s.DenyOOM, s.CrossSlot, s.stop, s.restart, s.Log = nil, nil, nil, false, false, nil, false, nil
	s.ctx = command.Ctx{}
	clear(s.effects)
	s.effects = s.effects[:0]
	s.replSkip, s.replSplit = 0, false
	s.part.on, s.part.held, s.part.declared, s.part.busy = false, nil, nil, false
	if cap(s.part.arena) > 64<<10 || cap(s.part.pend) > 1024 || cap(s.part.obs) > 256 || cap(s.part.undo) > 1024 {
		s.part = partial{}
	}
	if s.pooled {
		e.scripts.Put(s)
	}
}

// DB is the database the script's commands currently run in.
func (s *ScriptCall) DB() int { return s.Client.DB }

// Call runs a redis.call command (script.Host).
func (s *ScriptCall) Call(args [][]byte, w resp.ReplyWriter) { s.E.CallFromScript(s, args, w) }

// SetResp sets the RESP version of the script's command replies.
func (s *ScriptCall) SetResp(p int) { s.Client.Proto = p }

// Wrote reports whether a write command ran (SCRIPT KILL refuses then).
func (s *ScriptCall) Wrote() bool { return s.wrote.Load() }

// CheckACL implements redis.acl_check_cmd: whether the caller's user may
// run args, as Redis's lookupCommand + ACLCheckAllUserCommandPerm (no
// arity check, nothing logged). A container alone is checked as itself.
func (s *ScriptCall) CheckACL(args [][]byte) (allowed bool, msg string) {
	cmd, sub := s.E.Table.Resolve(args)
	if cmd != nil && sub == nil && len(args) == 1 {
		sub = cmd
	}
	if cmd == nil || sub == nil {
		return false, ErrACLCheckUnknown
	}
	if s.E.ACL == nil {
		return true, ""
	}
	defer func() {
		// Key extraction on malformed argument lists must not take the
		// server down: such a call is simply not allowed.
		if recover() != nil {
			allowed, msg = false, ""
		}
	}()
	res, _ := s.E.ACL.Check(s.E.UserOf(s.Caller), sub, args)
	return res == acl.OK, ""
}

// CallFromScript runs args for a script: lookup, arity and the script
// rules (noscript, no writes in read-only scripts), then the handler with
// the script's client, its database and its frozen time. Rejections are
// written to w as the error texts Redis uses; writes are recorded as
// effects for Finish.
func (e *Executor) CallFromScript(s *ScriptCall, args [][]byte, w resp.ReplyWriter) {
	cmd, spec := s.resolve(e.Table, args)
	if cmd == nil || (spec == nil && len(args) >= 2) {
		s.reject(nil, w, ErrScriptUnknown)
		return
	}
	if spec == nil || !spec.CheckArity(len(args)) {
		s.reject(spec, w, ErrScriptArity)
		return
	}
	if s.Client.LastCmd.Load() != spec { // CLIENT INFO's cmd= from a script
		s.Client.LastCmd.Store(spec)
	}
	if spec.Has(command.FlagNoScript) && !e.ScriptNoScriptAllowed.Load() {
		s.reject(spec, w, ErrScriptNoScript)
		return
	}
	// a replica's stale link (replica-serve-stale-data no): only commands
	// flagged stale run (Redis's scriptVerifyAllowStale); a master's
	// min-replicas-to-write below (guard.go)
	g := e.Guard.Load()
	if g&GuardMasterDown != 0 && !spec.Has(command.FlagStale) {
		s.reject(spec, w, ErrScriptStale)
		return
	}
	p := &s.part
	var kb [8]int
	var keys []int // the key positions acquire found, for saveKeys
	if p.on {
		var ok bool
		if keys, ok = s.acquire(spec, args, kb[:0]); !ok {
			w.Error(errRestart) // the script stops; nobody sees this reply
			return
		}
	}
	// ACL, with the caller's user; logged with context "lua" (acl.go),
	// at Commit in partial mode.
	if msg := e.checkACLScript(s.Caller, spec, args, p); msg != "" {
		s.reject(spec, w, "ERR "+msg)
		return
	}
	if s.ReadOnly && (spec.Has(command.FlagWrite) || spec.Has(command.FlagMayReplicate)) {
		s.reject(spec, w, ErrScriptReadOnly)
		return
	}
	if spec.Has(command.FlagWrite) && g&GuardReadOnly != 0 && s.Caller.Flags&command.ClientMaster == 0 {
		s.reject(spec, w, ErrReadOnlyReplica) // a read-only replica (guard.go)
		return
	}
	if spec.Has(command.FlagWrite) && g&GuardDiskError != 0 && !s.wrote.Load() {
		// the server cannot persist (MISCONF), unless the script
		// already wrote, as Redis's scriptVerifyWriteCommandAllow
		s.reject(spec, w, e.diskError().Message())
		return
	}
	if spec.Has(command.FlagWrite) && g&GuardNoReplicas != 0 && !s.wrote.Load() {
		// too few good replicas; a script that already wrote goes on,
		// as Redis's scriptVerifyWriteCommandAllow
		s.reject(spec, w, ErrNoReplicas)
		return
	}
	if s.DenyOOM && !s.wrote.Load() && spec.Has(command.FlagDenyOOM) {
		s.reject(spec, w, ErrOOM)
		return
	}
	if p.on && spec.Has(command.FlagWrite) && !s.saveKeys(args, keys) {
		w.Error(errRestart)
		return
	}
	if e.Cluster != nil { // cluster mode: keys of slots served here (cluster.go)
		if msg := e.scriptClusterCheck(s, spec, args); msg != "" {
			s.reject(spec, w, msg)
			return
		}
	}
	if spec.Has(command.FlagWrite) {
		s.wrote.Store(true)
	}
	c := &s.ctx
	*c = command.Ctx{Args: args, Spec: spec, W: w, Client: s.Client,
		DB: e.Store.DBFor(s.Client.DB, s.Now, unsafe.Pointer(c)), Touched: e.clientTouch(s.Client), Notify: e.Notify, InScript: true,
		OnError: e.errFn, CollectExpired: true}
	if spec.Has(command.FlagReadOnly) {
		if p.on { // the counts wait for Commit too
			c.DB = c.DB.HoldingHits()
			p.hits = true
		} else {
			c.DB = c.DB.CountingHits()
		}
	} else if spec.Has(command.FlagResizes) {
		c.DB.Track(&c.Scratch) // for remeasure
	}
	if p.on { // side effects wait for Commit
		c.Touched, c.OnError = p.touchFn, p.errFn
		if c.Notify != nil {
			c.Notify = p.notifyFn
		}
	}
	start := e.clock.read()
	e.call(c, s.Caller)
	if len(c.Expired) > 0 {
		s.addExpired(c)
	}
	if c.Dirty > 0 && spec.Has(command.FlagResizes) {
		remeasure(c)
	}
	if p.on {
		p.observe(c, time.Duration(e.clock.read()-start))
	} else {
		e.recordCall(c, start)
	}
	if c.Dirty > 0 || c.ForcePropagate {
		if p.on {
			p.dirty += int64(c.Dirty)
		} else {
			e.Dirty.AddHere(int64(c.Dirty))
		}
		if spec.Has(command.FlagWrite) && !s.propagateKnown {
			s.propagate = e.Propagate != nil && (e.Propagating == nil || e.Propagating())
			s.propagateKnown = true
		}
		if spec.Has(command.FlagWrite) && s.propagate && s.replSkip != skipAOF|skipReplicas {
			db := c.DB.Index()
			if s.replSkip != 0 {
				s.replSplit = true
			}
			if c.Propagate != nil {
				for _, p := range c.Propagate {
					s.effects = append(s.effects, effect{db: db, cmd: p, skip: s.replSkip})
				}
			} else {
				s.effects = append(s.effects, effect{db: db, cmd: copyArgs(args), skip: s.replSkip})
			}
		}
	}
	if c.ReplicasOnly && s.replSkip&skipReplicas == 0 {
		// PUBLISH from a script: to the replicas only, among its effects
		if !s.propagateKnown {
			s.propagate = e.Propagate != nil && (e.Propagating == nil || e.Propagating())
			s.propagateKnown = true
		}
		if s.propagate {
			s.replSplit = true
			s.effects = append(s.effects, effect{db: c.DB.Index(), cmd: copyArgs(args), skip: s.replSkip | skipAOF})
		}
	}
}

// addExpired records the DELs (UNLINKs under lazyfree-lazy-expire) of
// the keys c's command found expired (Ctx.Expired) among the script's
// effects, before the command's own: Redis 7.0 propagates them in the
// script's MULTI/EXEC, to both targets whatever redis.set_repl says
// (propagateExpire).
func (s *ScriptCall) addExpired(c *command.Ctx) {
	e := s.E
	if !s.propagateKnown {
		s.propagate = e.Propagate != nil && (e.Propagating == nil || e.Propagating())
		s.propagateKnown = true
	}
	if s.propagate {
		for _, x := range c.Expired {
			s.effects = append(s.effects, effect{db: x.DB, cmd: [][]byte{e.Store.PropagatedDel(keyspace.LazyExpire), x.Key}, expired: true})
		}
	}
	c.Expired = nil
}

// RejectWatcher is implemented by a reply writer that wants to know that
// a script's command was refused before it ran (unknown, arity, noscript,
// ACL, read-only...): the Lua debugger logs such an error as Redis's
// luaPushError does, without a <reply> line (script/lua/ldb.go).
type RejectWatcher interface {
	// Rejected is called with the error text before it is written.
	Rejected(msg string)
}

// reject is scriptReject, deferred to Commit in partial mode.
func (s *ScriptCall) reject(spec *command.Spec, w resp.ReplyWriter, msg string) {
	if rw, ok := w.(RejectWatcher); ok {
		rw.Rejected(msg)
	}
	if s.part.on {
		w.Error(msg)
		s.part.add(pending{kind: pendReject, spec: spec, event: msg})
		return
	}
	s.E.scriptReject(spec, w, msg)
}

func (e *Executor) scriptReject(spec *command.Spec, w resp.ReplyWriter, msg string) {
	w.Error(msg)
	e.CountError(msg)
	if spec != nil {
		e.StatFor(spec).RejectedCalls.Add(1)
	}
}

// Finish commits a partial-mode script (Commit), then propagates the
// script's writes: as Redis 7 does, the effects, not the script, wrapped
// in MULTI/EXEC when there is more than one. Shards the script took
// beyond the caller's are released last.
func (s *ScriptCall) Finish() {
	if s.part.on {
		s.commit()
		defer s.releaseExtra()
	}
	if s.replSplit {
		s.finishSplit()
	} else {
		var u Unit
		for _, ef := range s.effects {
			u.Add(ef.db, [][][]byte{ef.cmd})
		}
		s.E.PropagateUnit(&u, s.Caller)
	}
	clear(s.effects)
	s.effects = s.effects[:0]
	s.replSkip, s.replSplit = 0, false
}

// finishSplit propagates effects that redis.set_repl sent to the AOF only
// or to the replicas only: as Redis 7.0's propagatePendingCommands, MULTI
// and EXEC go to both when the script propagates more than one command,
// each command to its own targets.
func (s *ScriptCall) finishSplit() {
	var aof, repl Unit
	for _, ef := range s.effects {
		if ef.skip&skipAOF == 0 {
			aof.Add(ef.db, [][][]byte{ef.cmd})
		}
		if ef.skip&skipReplicas == 0 {
			repl.Add(ef.db, [][][]byte{ef.cmd})
		}
	}
	wrap := len(s.effects) > 1
	s.E.propagateTo(&aof, wrap, true, false, s.Caller)
	s.E.propagateTo(&repl, wrap, false, true, s.Caller)
}

// BusyMonitor reports a script running past busy-reply-threshold.
type BusyMonitor interface {
	// Running reports whether a script is running.
	Running() bool
	// Slow reports whether the running script has run long enough that
	// commands should poll for the lock (and get BUSY past the threshold)
	// rather than queue on it.
	Slow() bool
	// BusyError returns the BUSY error text once the script has run past
	// the threshold, else "".
	BusyError() string
}

// lockWhileScript takes l while a script runs (a connection's own
// goroutine; event loops use lockNoWait). Once the script is slow it is
// lockOrBusy. Before, it tries l until it gets it, the script ends or
// turns slow, for at most earlyPoll: queueing on the lock at once would
// wait out a script that started less than the slow time ago to its end,
// however long it ran, where Redis (and the event-loop path) answers BUSY
// past busy-reply-threshold. A script that runs on becomes slow within
// earlyPoll; when none did, the one that held l ended, and the command
// queues for l like any other (a lock of the whole keyspace keeps its
// place that way under a stream of short scripts, where polling for it
// could starve).
func (e *Executor) lockWhileScript(l *Locks) string {
	deadline := mono.Now() + int64(earlyPoll)
	for i := 0; ; i++ {
		if e.Busy.Slow() {
			return e.lockOrBusy(l)
		}
		if e.tryLock(l) {
			return ""
		}
		if !e.Busy.Running() || mono.Now() > deadline {
			e.Lock(l)
			return ""
		}
		if i < 32 {
			runtime.Gosched()
		} else {
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// earlyPoll bounds lockWhileScript's polling before a script is slow:
// twice the slow time (script.Monitor's slowAfter).
const earlyPoll = 2 * time.Millisecond

// lockOrBusy takes l while a script may be running: it gives up with the
// BUSY error as soon as a script passes the busy threshold while l is not
// free, so clients are answered instead of waiting for the script to end.
// A command with keys on shards no script holds runs even then (a script
// holds only the shards of its keys unless it needs the whole keyspace);
// others get BUSY as in Redis.
func (e *Executor) lockOrBusy(l *Locks) string {
	wait := 50 * time.Microsecond
	for {
		if len(l.Shards) > 0 && e.tryLock(l) {
			return ""
		}
		if msg := e.Busy.BusyError(); msg != "" {
			return msg
		}
		if !e.Busy.Running() {
			e.Lock(l)
			return ""
		}
		if len(l.Shards) == 0 && e.tryLock(l) {
			return ""
		}
		time.Sleep(wait)
		if wait < 5*time.Millisecond {
			wait *= 2
		}
	}
}

func (e *Executor) tryLock(l *Locks) bool {
	if l.All {
		return e.Store.TryLockAll()
	}
	if len(l.Shards) == 0 && !l.Shared {
		return true
	}
	return e.Store.TryLockShards(l.Shards)
}
