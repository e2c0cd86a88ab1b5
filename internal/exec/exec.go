// Package exec is the one call path for commands: lookup, arity, auth,
// MULTI queueing, locking, execution and statistics. Clients, scripts and
// the AOF loader all come through here.
package exec

import (
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/crescent-db/crescent/internal/acl"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/mono"
	"github.com/crescent-db/crescent/internal/resp"
)

// Stat is per-command statistics (INFO commandstats).
type Stat struct {
	Calls         Counter
	Usec          Counter
	RejectedCalls Counter
	FailedCalls   Counter
	// Hist is the latency histogram (LATENCY HISTOGRAM, metrics; ops.go).
	Hist Histogram
}

// Executor runs commands.
type Executor struct {
	Table *command.Table
	Store *keyspace.Store
	// Clock, when set, replaces the real clock (Unix ms): tests move time.
	Clock func() int64
	// Propagate receives the effects of a write command, with its shards
	// still locked so that per-key order is preserved.
	Propagate func(db int, cmds [][][]byte)
	// PropagateTargets, when set, is Propagate for effects that go to the
	// AOF only or to the replicas only (a script's redis.set_repl).
	PropagateTargets func(db int, cmds [][][]byte, aof, replicas bool)
	// Propagating, when set, reports whether Propagate keeps anything
	// now (the AOF is on): a script records its effects only then, read
	// once when it starts.
	Propagating func() bool
	// Wrote, when set, is called right after Propagate on the same
	// goroutine with the client whose command produced the effects (the
	// AOF records the client's write offset there for group commit).
	Wrote func(cl *command.Client)
	// Touched is called for every modified key, under its shard lock. It
	// defaults to the WATCH signal (see multi.go); to add a consumer, wrap
	// the previous value and call it.
	Touched func(db int, key []byte)
	// Notify emits keyspace notifications on behalf of a client (nil:
	// none), which gets its own before its command's reply.
	Notify func(class byte, event string, db int, key []byte, from *command.Client)
	// AuthRequired reports whether clients not authenticated must
	// authenticate (the default user has a password or is off).
	AuthRequired func() bool
	// ACL holds users and the ACL log (nil: no checks).
	ACL *acl.Registry
	// ClientInfo renders a client as CLIENT INFO does, for ACL LOG.
	ClientInfo func(cl *command.Client) string
	// Memory returns maxmemory, maxmemory-policy and maxmemory-samples
	// (nil: no limit).
	Memory func() (max int64, policy string, samples int)
	// BaseMemory is added to the keyspace's accounted memory to give
	// used_memory (the server's own footprint).
	BaseMemory int64
	// EvictedKeys counts keys removed by maxmemory (INFO evicted_keys).
	EvictedKeys atomic.Int64
	// MasterDiskError, when set, is called when the master's stream
	// brings a write (or PING: ping) while GuardDiskError is set: a
	// replica that cannot persist (persist's replica-ignore-disk-write-errors).
	MasterDiskError func(ping bool)
	// UnexpectedErrorReplies counts error replies to the master's stream
	// (INFO unexpected_error_replies; persist's replica).
	UnexpectedErrorReplies atomic.Int64
	// LockConflicts counts the event-loop commands (Client.NoWait) whose
	// shards were held at their first try while a script ran, and
	// LockDeclines those of them that did not get the shards within
	// noWaitSpin and were declined to run on a goroutine (lockNoWait;
	// /metrics; concurrency.md, "Pipelined inventory script").
	LockConflicts, LockDeclines atomic.Int64
	// LockConflictWait is the time (ns) those commands waited, until they
	// got their shards or were declined.
	LockConflictWait atomic.Int64
	// LazyReruns counts the event-loop scripts that found a shard busy
	// when they took it at a key's first access, and ran again holding
	// their declared shards from the start (rerunDeclared).
	LazyReruns atomic.Int64
	// HandlerPanics counts the commands whose handler panicked, answered
	// with an internal error (panic.go; INFO stats'
	// crescent_handler_panics).
	HandlerPanics atomic.Int64
	// OnPanic, when set, logs a handler's panic: the command's name, the
	// value passed to panic and the goroutine's stack (panic.go).
	OnPanic func(cmd string, v any, stack []byte)
	// ServerPanics counts the Go panics recovered outside command
	// handlers: a connection's reading, parsing or executor checks, a
	// push or replica writer, a cron tick (counted by the server; INFO
	// stats' crescent_server_panics).
	ServerPanics atomic.Int64
	// Guard holds the replication states commands are checked against
	// (GuardReadOnly, GuardMasterDown, GuardLoading, GuardNoReplicas,
	// GuardIgnoreMaxmemory; guard.go): 0 on a master without
	// min-replicas-to-write, so that Execute pays one atomic load for them.
	Guard atomic.Uint32
	// diskErr is why writes are refused while GuardDiskError is set
	// (SetDiskError).
	diskErr atomic.Pointer[DiskError]
	// ScriptFlags, when set, gives the command flags of EVAL, EVALSHA,
	// FCALL or their _RO forms called with args as Redis's
	// getCommandFlags does. ok reports a script or function that declares
	// flags (a shebang; every function); otherwise the command's own flags
	// apply. Only Guard's checks, and the maxmemory check of a
	// transaction's queue, call it.
	ScriptFlags func(spec *command.Spec, args [][]byte) (f ScriptCmdFlags, ok bool)
	// ScriptNoScriptAllowed is DEBUG SET-DISABLE-DENY-SCRIPTS (Redis's
	// script_disable_deny_script): scripts may call commands flagged
	// noscript (DEBUG, the blocking commands...).
	ScriptNoScriptAllowed atomic.Bool
	// Busy, when set, reports a running script: past busy-reply-threshold,
	// commands without the allow_busy flag get BUSY instead of waiting.
	Busy BusyMonitor

	frames  sync.Pool // *frame, see Execute
	clock   clock     // the command path's clock (clock.go)
	scripts sync.Pool // *ScriptCall, see NewScriptCall
	// --- operating hooks (ops.go)
	// Observe, when set, sees every command run (client, MULTI, script,
	// blocked re-run) after it ran, with its duration: MONITOR, SLOWLOG,
	// LATENCY and metrics.
	Observe func(c *command.Ctx, d time.Duration)
	// TouchedBy, when set, is called after Touched for every modified key
	// with the client that changed it (for redis.call the script's
	// client, whose Caller ran the script): client-side caching
	// invalidation.
	TouchedBy func(cl *command.Client, db int, key []byte)
	// ServerTouched, when set, is called for every key the server itself
	// deleted (expiry, maxmemory eviction) with the client whose command
	// caused it (Redis's current_client; nil for the active expiry) and
	// whether that command was running already: client-side caching
	// invalidation, whose NOLOOP leaves that client out.
	ServerTouched func(cur *command.Client, running bool, db int, key []byte)
	// TrackLimit, when set, runs before a command while Guard has
	// GuardTrackLimit: client tracking's table eviction, cl being the
	// client whose command is about to run.
	TrackLimit func(cl *command.Client)
	// Pause, when set, runs before a command takes its locks and waits
	// while CLIENT PAUSE holds it back; it reports whether it waited.
	Pause func(cl *command.Client, spec *command.Spec, args [][]byte) bool
	// Subscribed, when set, reports whether a client has subscriptions
	// left: one in subscribed mode whose subscriptions were all ended
	// from elsewhere (the shard channels of a cluster slot its node no
	// longer serves) leaves that mode at its next command (multi.go's
	// intercept, which only clients in MULTI or subscribed mode reach).
	Subscribed func(id int64) bool
	// --- end operating hooks

	// Cluster, when set (cluster-enabled yes), routes every command with
	// keys: MOVED, ASK, CROSSSLOT... (cluster.go).
	Cluster ClusterRouter

	// stats is copied on write (a command's first call, CONFIG
	// RESETSTAT): every command reads it, and a read lock's shared
	// counter would bounce between cores.
	statsMu sync.Mutex
	stats   atomic.Pointer[map[*command.Spec]*Stat]
	// ErrorStats counts error replies by prefix (INFO errorstats).
	errMu     sync.Mutex
	errStats  map[string]int64
	TotalCmds Counter
	Dirty     Counter

	// blocked clients (block.go)
	blocks  blocking
	touchFn func(db int, key []byte)
	errFn   func(msg string) // CountError, for Ctx.OnError
	watches *watchRegistry   // WATCH registrations (multi.go)
}

// New returns an executor.
func New(t *command.Table, s *keyspace.Store) *Executor {
	e := &Executor{Table: t, Store: s, errStats: map[string]int64{}, watches: &watchRegistry{}}
	e.stats.Store(&map[*command.Spec]*Stat{})
	e.Touched = e.touchWatched
	e.blocks.init(s.SignalAdded)
	s.OnAdded(e.keyAdded)
	s.OnStreamGone(e.streamGone)
	s.OnHeldAccess(e.heldAccess)
	e.errFn = e.CountError
	e.touchFn = func(db int, key []byte) {
		if e.Touched != nil {
			e.Touched(db, key)
		}
	}
	return e
}

// StatFor returns the statistics record of s.
func (e *Executor) StatFor(s *command.Spec) *Stat {
	if st := (*e.stats.Load())[s]; st != nil {
		return st
	}
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	cur := *e.stats.Load()
	if st := cur[s]; st != nil {
		return st
	}
	next := make(map[*command.Spec]*Stat, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	st := &Stat{}
	next[s] = st
	e.stats.Store(&next)
	return st
}

// statCache is a few specs' statistics records, valid while the record
// map is the one they came from (CONFIG RESETSTAT replaces it): a pointer
// compare instead of a map lookup for the handful of commands a script
// calls.
type statCache struct {
	m    *map[*command.Spec]*Stat
	spec [4]*command.Spec
	st   [4]*Stat
	next uint8
}

// statFor is e.StatFor(s) through c.
func (e *Executor) statFor(c *statCache, s *command.Spec) *Stat {
	if m := e.stats.Load(); m != c.m {
		*c = statCache{m: m}
	}
	for i := range c.spec {
		if c.spec[i] == s {
			return c.st[i]
		}
	}
	st := e.StatFor(s)
	if e.stats.Load() == c.m { // not a record of a map created meanwhile
		i := c.next & 3
		c.spec[i], c.st[i] = s, st
		c.next++
	}
	return st
}

// Stats calls fn for each command with statistics.
func (e *Executor) Stats(fn func(s *command.Spec, st *Stat)) {
	cur := *e.stats.Load()
	specs := make([]*command.Spec, 0, len(cur))
	for s := range cur {
		specs = append(specs, s)
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for _, s := range specs {
		fn(s, e.StatFor(s))
	}
}

// ResetStats clears command and error statistics (CONFIG RESETSTAT).
func (e *Executor) ResetStats() {
	e.statsMu.Lock()
	e.stats.Store(&map[*command.Spec]*Stat{})
	e.statsMu.Unlock()
	e.errMu.Lock()
	e.errStats = map[string]int64{}
	e.errMu.Unlock()
}

// ErrorStats returns error reply counts by prefix.
func (e *Executor) ErrorStats() map[string]int64 {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	out := make(map[string]int64, len(e.errStats))
	for k, v := range e.errStats {
		out[k] = v
	}
	return out
}

// CountError records an error reply's prefix: its first word when a space
// comes within its first 32 bytes, else ERR (Redis's afterErrorReply).
func (e *Executor) CountError(msg string) {
	p := "ERR"
	if i := strings.IndexByte(msg[:min(len(msg), 32)], ' '); i >= 0 {
		p = msg[:i]
	}
	e.errMu.Lock()
	e.errStats[p]++
	e.errMu.Unlock()
}

// Error texts shared by the call path.
const (
	ErrNoAuth = "NOAUTH Authentication required."
)

// UnknownCommand formats Redis's unknown command error.
func UnknownCommand(args [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ERR unknown command '%s', with args beginning with: ", trunc(args[0]))
	start := b.Len()
	for _, a := range args[1:] {
		n := b.Len() - start // Redis caps the quoted arguments at 128 bytes
		if n >= 128 {
			break
		}
		if len(a) > 128-n {
			a = a[:128-n]
		}
		fmt.Fprintf(&b, "'%s' ", a)
	}
	return b.String()
}

// UnknownSubcommand formats Redis's unknown subcommand error.
func UnknownSubcommand(cmd string, sub []byte) string {
	return fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", trunc(sub), strings.ToUpper(cmd))
}

// WrongArity formats Redis's arity error.
func WrongArity(name string) string {
	return fmt.Sprintf("ERR wrong number of arguments for '%s' command", name)
}

func trunc(b []byte) string {
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// Lookup resolves args to the spec that will run them, or returns the
// error reply Redis gives.
func (e *Executor) Lookup(args [][]byte) (*command.Spec, string) {
	cmd, sub := e.Table.Resolve(args)
	if cmd == nil {
		return nil, UnknownCommand(args)
	}
	if sub == nil {
		if len(args) < 2 {
			return nil, WrongArity(cmd.Name)
		}
		return nil, UnknownSubcommand(cmd.Name, args[1])
	}
	if !sub.CheckArity(len(args)) {
		return nil, WrongArity(sub.Name)
	}
	return sub, ""
}

// misused returns the command that args name but call with the wrong
// arity (nil for an unknown command or subcommand): Redis records it as
// the client's last command (CLIENT LIST's cmd=) before checking the
// arity.
func (e *Executor) misused(args [][]byte) *command.Spec {
	cmd, sub := e.Table.Resolve(args)
	switch {
	case cmd == nil:
		return nil
	case sub == nil && len(args) < 2:
		return cmd
	default:
		return sub
	}
}

// remeasure re-measures the values a collection write changed in place
// (command.FlagResizes), for memory accounting: used_memory, MEMORY USAGE
// and maxmemory see a list, hash, set, sorted set or stream grow. The
// records the command's view handed out are measured where they are
// (keyspace.DB.Remeasure); only when that may miss some (more records
// than it tracks, a view without tracking) are the command's keys looked
// up again by name.
func remeasure(c *command.Ctx) {
	if c.DB.Remeasure() {
		return
	}
	var kb [8]int
	for _, k := range c.Spec.KeysInto(c.Args, kb[:0]) {
		if k < len(c.Args) {
			c.DB.Resized(c.Args[k])
		}
	}
}

// Locks is a set of shard ids computed for a command.
type Locks struct {
	All    bool
	Shards []int
	// Shared holds the global lock shared even with no shards (an EXEC
	// of keyless commands: nothing that needs the whole keyspace runs
	// in the middle of it).
	Shared bool
	// Declared, for a script on an event loop, holds the shards of its
	// declared keys that it takes at their first access rather than up
	// front (Shards is then empty and Shared set; lazyScript). Lock and
	// Unlock ignore it.
	Declared []int
	// hash1 is the store's hash of args[1] when has1 is set: a command
	// whose only key is args[1] (Spec.OnlyKeyIs1) hashes it once, for its
	// shard here and for the keyspace's table (keyspace.DB.NoteHash)
	hash1 uint64
	has1  bool
	buf   [16]int // MSET of redis-benchmark's 10 keys takes 10 shards
}

// lazyScript makes l, a script's lock set, take only the global lock
// shared: the script takes its declared keys' shards at their first
// access (partial.go). It reports whether it did (not for a script that
// holds the whole keyspace).
func (l *Locks) lazyScript() bool {
	if l.All || len(l.Shards) == 0 {
		return false
	}
	l.Declared, l.Shards, l.Shared = l.Shards, nil, true
	return true
}

// LocksFor computes the locks spec needs for args.
func (e *Executor) LocksFor(spec *command.Spec, args [][]byte, l *Locks) {
	l.All, l.Shared, l.has1 = false, false, false // Declared: nil but after lazyScript
	l.Shards = l.buf[:0]
	switch spec.Lock {
	case command.LockAll, command.LockTx: // LockTx: see TxLocks
		l.All = true
		return
	case command.LockNone:
		return
	}
	if spec.LockAllIf != nil && spec.LockAllIf(args) {
		l.All = true
		return
	}

	if len(args) > 1 && spec.OnlyKeyIs1() { // the common shape, without KeysInto
		h := e.Store.Hash(args[1])
		l.Shards = append(l.Shards, int(h&(keyspace.NumShards-1)))
		l.hash1, l.has1 = h, true
		return
	}
	var kb [16]int
	keys := spec.KeysInto(args, kb[:0])
	// the shards, sorted and unique, through a bitmap: no sort of the
	// keys' shards (MSET's 10), no allocation up to len(l.buf) shards
	var set [keyspace.NumShards / 64]uint64
	for _, k := range keys {
		if k < len(args) {
			sh := e.Store.ShardOf(args[k])
			set[sh>>6] |= 1 << (sh & 63)
		}
	}
	for i, w := range set {
		for ; w != 0; w &= w - 1 {
			l.Shards = append(l.Shards, i<<6|bits.TrailingZeros64(w))
		}
	}
	if len(l.Shards) == 0 && spec.Lock == command.LockScript {
		l.All = true // a script without keys holds everything
	}
}

// Lock takes l.
func (e *Executor) Lock(l *Locks) {
	if l.All {
		e.Store.LockAll()
	} else if len(l.Shards) > 0 || l.Shared {
		e.Store.LockShards(l.Shards)
	}
}

// Unlock releases l.
func (e *Executor) Unlock(l *Locks) {
	if l.All {
		e.Store.UnlockAll()
	} else if len(l.Shards) > 0 || l.Shared {
		e.Store.UnlockShards(l.Shards)
	}
}

// NewCtx prepares a context for running spec with the needed locks held.
func (e *Executor) NewCtx(c *command.Ctx, cl *command.Client, spec *command.Spec, args [][]byte, w resp.ReplyWriter, now int64) {
	*c = command.Ctx{Args: args, Spec: spec, W: w, Client: cl,
		DB: e.Store.DBFor(cl.DB, now, unsafe.Pointer(c)), Touched: e.clientTouch(cl), Notify: e.Notify, OnError: e.errFn}
	if spec != nil && spec.Has(command.FlagReadOnly) {
		c.DB = c.DB.CountingHits() // keyspace_hits / keyspace_misses
	} else if spec != nil && spec.Has(command.FlagResizes) {
		c.DB.Track(&c.Scratch) // for remeasure
	}
	if cl.Flags&command.ClientMaster != 0 {
		c.DB = c.DB.AsMaster() // a replica applying its master's stream
	}
}

// Run executes spec's handler with locks already held, then records stats
// and propagates effects.
func (e *Executor) Run(c *command.Ctx) { e.RunIn(c, nil) }

// RunIn is Run inside an execution unit: when u is not nil the command's
// effects are added to u (see PropagateUnit) instead of propagated.
func (e *Executor) RunIn(c *command.Ctx, u *Unit) { e.runIn(c, u, nil) }

// runIn is RunIn; f, when not nil, is the client's frame (Execute): it
// holds the one-command effect list handed to Propagate (which does not
// keep it), so that propagating a client's command allocates nothing,
// and caches the command's statistics record.
func (e *Executor) runIn(c *command.Ctx, u *Unit, f *frame) {
	var one *[1][][]byte
	var st *Stat
	if f != nil {
		one = &f.prop
	}
	start := c.Start
	if start == 0 {
		start = e.clock.read()
	}
	if (f != nil || u != nil) && c.Spec.Lock != command.LockScript {
		// a client's own command (propagateWithExpired) or one of its
		// EXEC's (the DELs join the transaction's unit, as in Redis)
		c.CollectExpired = true
	}
	e.call(c, c.Client)
	if c.Client != nil && c.Client.WouldWait {
		return // declined for NoWait before any effect (a script)
	}
	if c.Dirty > 0 && c.Spec.Has(command.FlagResizes) {
		remeasure(c)
	}
	end := c.End // a handler's last clock read (scripts), else a fresh one
	if end == 0 {
		end = e.clock.read()
	}
	if cl := c.Client; cl != nil && u == nil && one != nil {
		// a client's own command (Execute): its end may start the next
		// one (Client.ClockMark), while it is served by an event loop
		if cl.NoWait {
			cl.ClockMark = end
		} else {
			cl.ClockMark = 0
		}
	}
	if f != nil {
		// looked up after the handler: CONFIG RESETSTAT counts itself in
		// the statistics it just reset, as in Redis
		st = f.statOf(e, c.Spec)
	}
	if c.Client == nil || c.Client.Flags&command.ClientLoading == 0 {
		e.recordDur(c, time.Duration(end-start), st) // stats, histogram, Observe (ops.go)
	}
	done := false // the command's effect went with its expired keys' DELs
	if len(c.Expired) > 0 {
		if u != nil {
			for _, x := range c.Expired {
				u.Add(x.DB, [][][]byte{{e.Store.PropagatedDel(keyspace.LazyExpire), x.Key}})
			}
			c.Expired = nil
		} else {
			done = e.propagateWithExpired(c)
		}
	}
	if c.Dirty > 0 || c.ForcePropagate {
		e.Dirty.AddHere(int64(c.Dirty))
		if u != nil && c.Spec.Has(command.FlagWrite) {
			if c.Propagate != nil {
				u.Add(c.DB.Index(), c.Propagate)
			} else {
				u.Add(c.DB.Index(), [][][]byte{c.Args})
			}
		} else if e.Propagate != nil && c.Spec.Has(command.FlagWrite) && !done {
			if c.Propagate != nil {
				e.emit(c.Client, c.DB.Index(), c.Propagate)
			} else if one != nil {
				one[0] = c.Args
				e.emit(c.Client, c.DB.Index(), one[:])
				one[0] = nil
			} else {
				e.emit(c.Client, c.DB.Index(), [][][]byte{c.Args})
			}
		}
	}
	if c.ReplicasOnly { // PUBLISH: the message goes down to the replicas' subscribers
		if u != nil {
			u.AddReplicas(c.DB.Index(), [][][]byte{c.Args})
		} else if one != nil {
			one[0] = c.Args
			e.propagateReplicas(c.Client, c.DB.Index(), one[:])
			one[0] = nil
		} else {
			e.propagateReplicas(c.Client, c.DB.Index(), [][][]byte{c.Args})
		}
	}
}

// propagateWithExpired propagates the DELs of the keys c's command found
// expired (Ctx.Expired) together with the command's own effect when it
// has one, as one unit: wrapped in MULTI/EXEC when there is more than one
// command, as Redis 7.0 propagates a command's also_propagate list (a
// lazily expired key before SADD: MULTI, DEL, SADD, EXEC; two expired
// keys of one MGET: MULTI, DEL, DEL, EXEC; with a SELECT inside when the
// key was in another database, COPY ... DB); SCAN and RANDOMKEY send
// theirs one by one. It reports whether the command's effect went out
// with them.
func (e *Executor) propagateWithExpired(c *command.Ctx) bool {
	if name := c.Spec.Name; name == "scan" || name == "randomkey" {
		// Redis's CMD_TOUCHES_ARBITRARY_KEYS commands: no transaction
		// around their DELs (propagatePendingCommands), as active expiry
		for _, x := range c.Expired {
			e.emit(c.Client, x.DB, [][][]byte{{e.Store.PropagatedDel(keyspace.LazyExpire), x.Key}})
		}
		c.Expired = nil
		return false
	}
	var u Unit
	for _, x := range c.Expired {
		u.Add(x.DB, [][][]byte{{e.Store.PropagatedDel(keyspace.LazyExpire), x.Key}})
	}
	c.Expired = nil
	own := (c.Dirty > 0 || c.ForcePropagate) && c.Spec.Has(command.FlagWrite)
	if own {
		if c.Propagate != nil {
			u.Add(c.DB.Index(), c.Propagate)
		} else {
			u.Add(c.DB.Index(), [][][]byte{c.Args})
		}
	}
	e.PropagateUnit(&u, c.Client)
	return own
}

// propagateReplicas hands cmds to the replicas only (Ctx.ReplicasOnly),
// then tells Wrote, as emit does.
func (e *Executor) propagateReplicas(cl *command.Client, db int, cmds [][][]byte) {
	if e.PropagateTargets == nil {
		return
	}
	e.PropagateTargets(db, cmds, false, true)
	if e.Wrote != nil && cl != nil {
		e.Wrote(cl)
	}
}

// Now returns the current time in Unix ms (Clock when set).
func (e *Executor) Now() int64 {
	if e.Clock != nil {
		return e.Clock()
	}
	return e.clock.unixMs(e.clock.read())
}

// emit hands effects to Propagate, then tells Wrote that cl's reply must
// wait for them to be durable. Every propagation goes through here.
func (e *Executor) emit(cl *command.Client, db int, cmds [][][]byte) {
	if e.Propagate == nil {
		return
	}
	e.Propagate(db, cmds)
	if e.Wrote != nil && cl != nil {
		e.Wrote(cl)
	}
}

// Execute runs one client command and writes its reply to w.
func (e *Executor) Execute(cl *command.Client, args [][]byte, w *resp.Writer) {
	// a pipeline repeats its command: the client's previous one is
	// checked first (Spec.Repeats), then the table
	spec, errMsg := cl.LastCmd.Load(), ""
	if spec == nil || !spec.Repeats(args) {
		spec, errMsg = e.Lookup(args)
	}
	if spec == nil {
		m := e.misused(args)
		cl.LastCmd.Store(m)
		if m != nil {
			// a wrong arity: a rejected call of the command (Redis's
			// rejectCommand counts c->cmd's rejected_calls)
			e.StatFor(m).RejectedCalls.Add(1)
		}
		cl.MayWait = false
		e.reject(cl, args, w, errMsg)
		return
	}
	if cl.LastCmd.Load() != spec { // a store is a locked instruction
		cl.LastCmd.Store(spec)
	}
	// A script under the Lua debugger (SCRIPT DEBUG) waits for its user.
	debug := cl.LuaDebug != 0 && spec.Lock == command.LockScript
	if cl.MayWait = MayWait(spec) || debug; cl.MayWait && cl.NoWait {
		cl.WouldWait = true // event loop: run it on a goroutine instead
		return
	}
	// Refusals from here on are rejected calls of the command (Redis's
	// rejectCommand, and its cluster redirection).
	if !cl.Authed && !spec.Has(command.FlagNoAuth) && (e.AuthRequired == nil || e.AuthRequired()) {
		e.rejectSpec(cl, spec, args, w, ErrNoAuth)
		return
	}
	// ACL and maxmemory (acl.go, memory.go).
	if msg := e.CheckACL(cl, spec, args); msg != "" {
		e.rejectSpec(cl, spec, args, w, msg)
		return
	}
	if e.Cluster != nil { // cluster mode: slot checks (cluster.go)
		if msg := e.clusterCheck(cl, spec, args); msg != "" {
			e.StatFor(spec).RejectedCalls.Add(1)
			e.rejectKeep(cl, w, msg)
			return
		}
	}
	if msg := e.CheckMemory(cl, spec, args); msg != "" {
		// a replica with replica-ignore-maxmemory yes never gets here
		// (CheckMemory); with no, Redis refuses its master's writes too.
		// A rejected call (Redis's rejectCommand).
		e.rejectSpec(cl, spec, args, w, msg)
		return
	}
	// replication's checks: NOREPLICAS, READONLY, MASTERDOWN, LOADING (guard.go)
	if g := e.Guard.Load(); g != 0 {
		if g&GuardTrackLimit != 0 && e.TrackLimit != nil {
			e.TrackLimit(cl)
		}
		if msg := e.guard(g, cl, spec, args); msg != "" {
			e.rejectGuard(cl, spec, args, w, msg)
			return
		}
	}
	// The MULTI and RESP2 subscribed-mode checks (multi.go).
	if cl.Flags&(command.ClientMulti|command.ClientPubSub) != 0 && e.intercept(cl, spec, args, w) {
		return
	}
	// CLIENT PAUSE (ops.go), before MULTI queueing as in Redis 7.0's
	// processCommand: a write sent inside MULTI waits for its QUEUED.
	if e.Pause != nil && e.Pause(cl, spec, args) {
		cl.ClockMark = 0 // it waited
		// Redis processes a held command again from the start: a manual
		// failover may have moved the slots (cluster mode), the memory
		// check that a pause skips (no eviction meanwhile) is due now,
		// and the replication state may have changed
		if e.Cluster != nil {
			if msg := e.clusterCheck(cl, spec, args); msg != "" {
				e.rejectKeep(cl, w, msg)
				return
			}
		}
		if msg := e.CheckMemory(cl, spec, args); msg != "" {
			e.rejectSpec(cl, spec, args, w, msg)
			return
		}
		if g := e.Guard.Load(); g != 0 {
			if msg := e.guard(g, cl, spec, args); msg != "" {
				e.rejectGuard(cl, spec, args, w, msg)
				return
			}
		}
	}
	if cl.Flags&command.ClientMulti != 0 && e.queue(cl, spec, args, w) {
		return
	}
	// The context and lock set escape (handlers are called through
	// function values), so they are recycled rather than allocated: the
	// client's own (Client.Scratch), else a pooled one.
	f, _ := cl.Scratch.(*frame)
	if f != nil {
		cl.Scratch = nil // in use (a nested call gets another)
	} else {
		f = e.getFrame()
	}
	// kept as it is: the next command's NewCtx overwrites the whole
	// context, and what it still refers to until then is the client's
	// (given back at every return below; a panic loses it to the pool)
	locks, c := &f.locks, &f.ctx
	e.LocksFor(spec, args, locks)
	if debug {
		// It stops anywhere, so nothing else may run meanwhile. Under
		// SCRIPT DEBUG YES its writes are undone at its end, which the
		// partial-lock undo log does (ScriptCall.Rollback): it holds
		// every shard that way instead of the whole keyspace.
		locks.All = cl.LuaDebug == command.DebugSync
		if !locks.All {
			locks.Shards = locks.Shards[:0]
			for sh := range keyspace.NumShards {
				locks.Shards = append(locks.Shards, sh)
			}
		}
	}
	if spec.Lock == command.LockTx {
		e.TxLocks(cl, locks) // EXEC: its queue's shards (multi.go)
	}
	// A command queues on the lock like any other while no script runs.
	// While one does, it polls (lockWhileScript), so that it can be
	// answered BUSY past the threshold (lockOrBusy) however early in the
	// script it came.
	// atOnce: the locks were taken at the first try, so nothing waited
	// since the client's previous command ended (Client.ClockMark)
	atOnce := false
	// A script on an event loop takes its declared keys' shards at their
	// first access: one that never touches a key does not hold its shard
	// (concurrency.md, "Script tail latency, second pass").
	// locks.Declared is nil but for such a script's lock set, and is
	// cleared when it ends.
	if cl.NoWait {
		if spec.Lock == command.LockScript && !debug {
			locks.lazyScript()
		}
		ok, first := e.lockNoWait(cl, spec, locks)
		if !ok {
			cl.WouldWait = true // event loop: run it on a goroutine instead
			cl.LockBusy = true
			cl.Scratch = f
			locks.Declared = nil
			return
		}
		atOnce = first
	} else if e.Busy != nil && e.Busy.Running() && !spec.Has(command.FlagAllowBusy) {
		if msg := e.lockWhileScript(locks); msg != "" {
			e.StatFor(spec).RejectedCalls.Add(1)
			e.reject(cl, args, w, msg)
			cl.Scratch = f
			return
		}
	} else {
		e.Lock(locks)
	}
	cl.Locked = locks // for ReleaseAfterPanic
	// one clock read serves the command's time and its statistics: the
	// end of the client's previous command when it just ended (a
	// pipeline), else a fresh one
	start := cl.ClockMark
	if !atOnce || start == 0 {
		start = e.clock.read()
	}
	now := e.clock.unixMs(start)
	if e.Clock != nil {
		now = e.Clock()
	}
	e.NewCtx(c, cl, spec, args, w, now)
	if locks.has1 {
		c.DB.NoteHash(&c.Scratch, args[1], locks.hash1)
	}
	c.Start = start
	if spec.Lock == command.LockScript {
		c.Held = locks // the script may take more shards, or all (partial.go)
	}
	e.runIn(c, nil, f)
	if locks.Declared != nil {
		// A shard it tried was busy: the script was stopped and undone,
		// holding nothing now. It runs again holding its declared shards
		// from the start, as a command does (waiting for them as
		// lockNoWait allows, else on the connection's goroutine).
		if cl.WouldWait && cl.LockBusy && !e.rerunDeclared(cl, spec, args, w, locks, f) {
			cl.Scratch, cl.Locked = f, nil
			return
		}
		locks.Declared = nil
	}
	// blocking commands: register under the locks, park after (block.go)
	var wt *waiter
	if c.Block != nil {
		wt = e.newWaiter(cl, c.Block)
	}
	cl.Locked = nil
	e.Unlock(locks)
	if e.blocks.nready.Load() != 0 || wt != nil {
		cl.ClockMark = 0 // serving others or parking takes time
	}
	e.blocks.drain()
	if wt != nil {
		e.park(wt, spec, args, w, c.Block)
	}
	cl.Scratch = f
}

// rerunDeclared runs again a script that lazyScript let take its
// declared shards at their first access, after one of them was busy:
// this time it holds them (locks.Declared) from the start. It reports
// false, with cl.WouldWait set and nothing held, when they are not free
// within lockNoWait's wait.
func (e *Executor) rerunDeclared(cl *command.Client, spec *command.Spec, args [][]byte, w *resp.Writer, locks *Locks, f *frame) bool {
	cl.WouldWait, cl.LockBusy = false, false
	locks.Shards, locks.Declared, locks.Shared = locks.Declared, nil, false
	e.LazyReruns.Add(1)
	if ok, _ := e.lockNoWait(cl, spec, locks); !ok {
		// the connection's goroutine runs it (LocksFor again)
		cl.WouldWait, cl.LockBusy = true, true
		return false
	}
	c := &f.ctx
	start := e.clock.read()
	now := e.clock.unixMs(start)
	if e.Clock != nil {
		now = e.Clock()
	}
	e.NewCtx(c, cl, spec, args, w, now)
	c.Start = start
	c.Held = locks
	e.runIn(c, nil, f)
	return true
}

// MayWait reports whether spec may make its caller wait for long or
// needs a connection with a goroutine of its own: blocking commands
// (BLPOP, XREAD, ...), administrative ones (DEBUG SLEEP, MONITOR, CLIENT
// PAUSE/KILL, SHUTDOWN, ...), and the other commands Redis forbids in
// scripts that are not fast (EXEC, WAIT, SUBSCRIBE, ...), except CLIENT's
// connection subcommands (SETNAME, ID, REPLY, ...) and SCRIPT's. An event
// loop hands such a command's connection to a goroutine (Client.NoWait).
// EVAL, EVALSHA, FCALL and their _RO forms run on the loop.
func MayWait(spec *command.Spec) bool {
	if spec.Lock == command.LockScript {
		// EVAL, FCALL and friends run on the loop: a script that needs more
		// than it can take without waiting is declined before any effect
		// (commands.runScript), and one that runs long detaches its
		// connection from the loop (Client.Detach).
		return false
	}
	if spec.Has(command.FlagBlocking | command.FlagAdmin) {
		return true
	}
	if spec.Has(command.FlagNoScript) && !spec.Has(command.FlagFast) {
		// CLIENT's connection subcommands and SCRIPT LOAD/EXISTS/
		// FLUSH/KILL are quick
		return spec.Parent == nil || (spec.Parent.Name != "client" && spec.Parent.Name != "script")
	}
	return false
}

// lockNoWait takes l for a client that must not wait (Client.NoWait): it
// fails, holding nothing, when the command would poll for BUSY or wait for
// a running script's locks. Waiting for an ordinary command's short hold
// is allowed, and so is a short wait for a script's (noWaitSpin).
//
// first reports that it got l at the first try, without waiting.
func (e *Executor) lockNoWait(cl *command.Client, spec *command.Spec, l *Locks) (ok, first bool) {
	if e.tryLock(l) {
		if len(l.Shards) > 0 || len(l.Declared) > 0 || e.Busy == nil || !e.Busy.Slow() || spec.Has(command.FlagAllowBusy) {
			return true, true
		}
		// the whole keyspace, or no keys, while a script runs long: the
		// goroutine path answers BUSY past the threshold (lockOrBusy)
		e.Unlock(l)
		return false, false
	}
	if e.Busy == nil || !e.Busy.Running() {
		if !e.spinLock(l) {
			if cl.BeforePark != nil {
				cl.BeforePark() // another worker watches meanwhile
			}
			e.Lock(l)
		}
		return true, false
	}
	// A script may hold it. Scripts are mostly short: retry for a little
	// while before moving the connection off the loop.
	e.LockConflicts.Add(1)
	t0 := mono.Now()
	deadline := time.Now().Add(noWaitSpin)
	for !e.Busy.Slow() && time.Now().Before(deadline) {
		// Gosched runs what waits for this P (a connection's goroutine
		// the lock may have been handed to); osYield then lets the
		// kernel run the holder, when it is a thread it took off a core
		// (concurrency.md, "Script tail latency, second pass").
		runtime.Gosched()
		if e.tryLock(l) {
			e.LockConflictWait.Add(mono.Now() - t0)
			return true, false
		}
		osYield()
		if e.tryLock(l) {
			e.LockConflictWait.Add(mono.Now() - t0)
			return true, false
		}
	}
	e.LockConflictWait.Add(mono.Now() - t0)
	e.LockDeclines.Add(1)
	return false, false
}

// spinLock retries l for up to lockSpin without parking, and reports
// whether it got it. An event-loop worker that parks on a shard mutex
// gives up its P; the holder's Unlock then has to wake a sleeping thread
// to get the worker running again, which on a loaded machine takes the
// kernel milliseconds, while every connection of the worker's batch waits
// (docs/design/concurrency.md, "Tail latency: where the p99 goes"). An
// ordinary command holds a shard for a few microseconds. With a single
// P the holder cannot run while the worker spins: it tries once and
// parks, as sync.Mutex does.
func (e *Executor) spinLock(l *Locks) bool {
	if runtime.GOMAXPROCS(0) == 1 {
		return e.tryLock(l)
	}
	deadline := mono.Now() + int64(lockSpin)
	for {
		for i := 0; i < 64; i++ {
			if e.tryLock(l) {
				return true
			}
		}
		if mono.Now() > deadline {
			return false
		}
	}
}

// lockSpin is how long an event-loop worker spins on a busy shard before
// it parks.
const lockSpin = 50 * time.Microsecond

// noWaitSpin is how long a client that must not wait retries a lock that
// a running script may hold.
const noWaitSpin = 200 * time.Microsecond

// frame is the per-command scratch state of Execute.
type frame struct {
	ctx   command.Ctx
	locks Locks
	prop  [1][][]byte // the command's effect for Propagate (runIn)
	// the statistics record of statSpec in the map statMap (statOf)
	statMap  *map[*command.Spec]*Stat
	statSpec *command.Spec
	stat     *Stat
}

// statOf returns spec's statistics record (StatFor), remembered for the
// client's next command: a pipeline repeats the same command, and the
// map lookup costs more than the command's other bookkeeping. The record
// is reused only while the map it came from is current (a command's
// first call and CONFIG RESETSTAT replace it).
func (f *frame) statOf(e *Executor, spec *command.Spec) *Stat {
	m := e.stats.Load()
	if f.statMap == m && f.statSpec == spec {
		return f.stat
	}
	st := (*m)[spec]
	if st == nil {
		return e.StatFor(spec) // creates it, in a new map
	}
	f.statMap, f.statSpec, f.stat = m, spec, st
	return st
}

func (e *Executor) getFrame() *frame {
	if f, ok := e.frames.Get().(*frame); ok {
		return f
	}
	return &frame{}
}

func (e *Executor) putFrame(f *frame) {
	f.ctx = command.Ctx{}
	e.frames.Put(f)
}

func (e *Executor) reject(cl *command.Client, args [][]byte, w *resp.Writer, msg string) {
	// EXEC refused before it runs (arity, NOAUTH, NOPERM, OOM, BUSY, the
	// RESP2 subscribed context) ends the transaction, in MULTI or not
	// (WATCHes too), and says so: Redis's rejectCommand calls
	// execCommandAbort, whose message drops the leading "ERR ". Guard
	// (guard.go) aborts by itself; cluster redirections use rejectKeep.
	if !strings.HasPrefix(msg, "EXECABORT") {
		if cmd, _ := e.Table.Resolve(args); cmd != nil && cmd.Lock == command.LockTx {
			e.Discard(cl)
			msg = errExecAbortFor + strings.TrimPrefix(msg, "ERR ")
		}
	}
	e.rejectKeep(cl, w, msg)
}

// rejectKeep is reject without EXEC's abort (a cluster redirection of
// EXEC discards the transaction itself and replies with the plain error).
func (e *Executor) rejectKeep(cl *command.Client, w *resp.Writer, msg string) {
	w.Error(msg)
	e.CountError(msg)
	if cl.Flags&command.ClientMulti != 0 {
		cl.Flags |= command.ClientDirtyExec
	}
}
