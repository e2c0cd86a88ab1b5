package exec

import (
	"bytes"
	"math"
	"time"
	"unsafe"

	"github.com/crescent-db/crescent/internal/acl"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// Scripts on disjoint keys in parallel (docs/design/concurrency.md).
//
// A script called by Execute starts holding the global lock shared and the
// shards of its declared keys (EVAL's key specs), like a multi-key command.
// A redis.call on a key of another shard tries that shard's lock without
// waiting and keeps it until the script ends (strict two-phase locking:
// the outcome is that of some serial order, and since nobody waits while
// holding a lock out of order there is no deadlock). Before a write the
// previous entries of the command's keys are copied to an undo log, and the
// side effects that others could see before the script ends (WATCH and
// blocked-client signals, keyspace notifications (keymiss included),
// client-side caching invalidations, statistics, MONITOR and SLOWLOG, the
// dirty counter, propagation, ACL LOG entries, redis.log lines) are held
// back until Commit, which replays them in order
// with every lock still held. When the script needs what it cannot take
// this way (a busy shard, a command that needs the whole keyspace, a
// side effect that cannot wait, a value too large to copy) it is stopped,
// its writes are undone and it runs again holding the whole keyspace
// (Escalate), which is always legal. Both attempts see the same frozen
// time; math.random escalates before drawing, so the shared sequence is
// drawn in a serial order.

// maxUndoBytes bounds the accounted size of a value copied to the undo
// log: a script writing a larger value reruns with the whole keyspace,
// which needs no copy.
const maxUndoBytes = 64 << 10

// maxUndoKeys bounds the distinct keys a partial-mode script writes.
const maxUndoKeys = 512

// errRestart is the reply redis.call gets when the script is stopped to
// run again: the script never returns it (the engine drops its reply).
const errRestart = "ERR script restarted with the whole keyspace"

type pendKind uint8

const (
	pendTouch pendKind = iota
	pendNotify
	pendError
	pendReject
	pendObserve
	pendLog // a redis.log line: class the level, event the line
	pendACL // an ACL LOG entry: partial.acl[obs]
	// pendReady: key signalled ready for blocked clients (added, XADD,
	// XGROUP DESTROY; Executor.signalReady)
	pendReady
	// pendExpired: a key the script found expired (KeyExpired): its
	// invalidation and "expired" event
	pendExpired
)

// pending is a side effect held back until Commit. It is kept small (a
// touch or a notification per written key is appended to the log, a copy
// the GC's write barriers see when a collection runs): a pendObserve's
// call is in partial.obs[obs].
type pending struct {
	kind  pendKind
	class byte
	obs   int32 // pendObserve: index in partial.obs; pendACL: in partial.acl
	db    int
	key   []byte // arena
	event string // pendNotify; pendError, pendReject: the message
	spec  *command.Spec
}

// observed is a call whose statistics and Observe wait for Commit.
type observed struct {
	ctx command.Ctx // Args in the arena, W nil
	d   time.Duration
}

// partial is a ScriptCall's partial-lock state.
type partial struct {
	on    bool
	whole bool      // held has every shard: a SCRIPT DEBUG YES session
	held  *Locks    // the caller's lock set (Execute's)
	mask  [4]uint64 // shards held, the caller's and extra
	extra []int     // shards taken by the script itself
	// declared: the shards of the declared keys, not held at the start
	// (Locks.Declared): taken at a key's first access or by Settle
	declared []int
	// busy: a shard the script tried was held by someone else
	busy bool
	// hits: keyspace hits and misses wait in the held shards
	// (keyspace.DB.HoldingHits)
	hits bool
	undo []keyspace.Saved
	pend []pending
	obs  []observed
	// acl: the ACL LOG entries of calls the script's user may not run,
	// added at Commit (only a denied call appends one)
	acl    []acl.LogEntry
	dirty  int64
	arena  []byte
	argbuf [][]byte

	stats statCache // commit's statistics records, kept across scripts

	touchFn  func(db int, key []byte)
	notifyFn func(class byte, event string, db int, key []byte, from *command.Client)
	errFn    func(msg string)
}

func (p *partial) has(sh int) bool { return p.mask[sh>>6]&(1<<(sh&63)) != 0 }

func (p *partial) set(sh int) { p.mask[sh>>6] |= 1 << (sh & 63) }

func (p *partial) add(x pending) { p.pend = append(p.pend, x) }

func (p *partial) keep(b []byte) []byte {
	p.arena = append(p.arena, b...)
	return p.arena[len(p.arena)-len(b) : len(p.arena) : len(p.arena)]
}

// observe holds back the statistics and Observe of a call.
// The entry is built in place: a pending holds a whole Ctx.
func (p *partial) observe(c *command.Ctx, d time.Duration) {
	args := c.Args
	if n := len(p.argbuf) - len(args); n < 0 || len(args) == 0 || &p.argbuf[n] != &args[0] {
		// not built in the log by the engine (ArgBuffers): copied
		start := len(p.argbuf)
		for _, a := range args {
			p.argbuf = append(p.argbuf, p.keep(a))
		}
		args = p.argbuf[start:len(p.argbuf):len(p.argbuf)]
	}
	p.pend = append(p.pend, pending{kind: pendObserve, obs: int32(len(p.obs))})
	if n := len(p.obs); n < cap(p.obs) {
		p.obs = p.obs[:n+1] // overwritten whole below: no zeroing first
	} else {
		p.obs = append(p.obs, observed{})
	}
	x := &p.obs[len(p.obs)-1]
	x.ctx, x.d = *c, d
	x.ctx.Args = args
	x.ctx.W = nil
}

// holdACL holds back the ACL LOG entry of a call the script's user may
// not run: a stopped attempt must not log it (its rerun does).
func (p *partial) holdACL(le acl.LogEntry) {
	p.pend = append(p.pend, pending{kind: pendACL, obs: int32(len(p.acl))})
	p.acl = append(p.acl, le)
}

// WriteLog writes a redis.log line of s's script through s.Log; in
// partial mode it waits for Commit, so that an attempt stopped for a
// rerun writes nothing (the rerun writes it again). A debugging session
// holding every shard never reruns: its lines are written at once.
func (s *ScriptCall) WriteLog(level int, msg string) {
	if s.part.on && !s.part.whole {
		s.part.add(pending{kind: pendLog, class: byte(level), event: msg})
		return
	}
	if s.Log != nil {
		s.Log(level, msg)
	}
}

// Retrier stops a script's code for a rerun (script.Run's Retry). An
// interface rather than a func: a method value would cost an allocation
// per script call.
type Retrier interface{ Retry() }

// StartPartial puts s in partial mode when held, the lock set its caller
// took, is not the whole keyspace. stop must stop the script's code (the
// engine's Run). It reports whether s is in partial mode.
func (s *ScriptCall) StartPartial(held *Locks, stop Retrier) bool {
	p := &s.part
	if held == nil || held.All {
		return false
	}
	p.on, p.held, p.mask, p.dirty, p.declared, p.busy, p.hits = true, held, [4]uint64{}, 0, held.Declared, false, false
	p.undo, p.pend, p.obs, p.extra, p.arena, p.acl = p.undo[:0], p.pend[:0], p.obs[:0], p.extra[:0], p.arena[:0], p.acl[:0]
	// argbuf and, in commit, pend and obs are truncated, not cleared: what
	// their stale entries reference is the reused arena, specs and the
	// script client (obs drops a call's own allocations, below), and a
	// pooled ScriptCall does not outlive two collections. clear() of a
	// few entries costs memclrHasPointers and its bulk barrier, ~60-90
	// instructions each (docs/design/lua-engine.md, eighth pass).
	p.argbuf = p.argbuf[:0]
	for _, sh := range held.Shards {
		p.set(sh)
	}
	p.whole = len(held.Shards) == keyspace.NumShards
	s.stop = stop
	if p.touchFn == nil { // built once per pooled ScriptCall
		p.touchFn = func(db int, key []byte) { p.add(pending{kind: pendTouch, db: db, key: p.keep(key)}) }
		p.notifyFn = func(class byte, event string, db int, key []byte, _ *command.Client) {
			p.add(pending{kind: pendNotify, class: class, event: event, db: db, key: p.keep(key)})
		}
		p.errFn = func(msg string) { p.add(pending{kind: pendError, event: msg}) }
	}
	return true
}

// ArgBuffers returns where the script engine should build the arguments
// of s's redis.call commands (script.Run.ArgBytes and ArgSlices): in
// partial mode, the log's own arena and argument list, where observe
// keeps them until Commit without a copy; nil otherwise.
func (s *ScriptCall) ArgBuffers() (*[]byte, *[][]byte) {
	if !s.part.on {
		return nil, nil
	}
	return &s.part.arena, &s.part.argbuf
}

// Partial reports whether s runs in partial mode.
func (s *ScriptCall) Partial() bool { return s.part.on }

// Restarting reports whether s was stopped to run again with the whole
// keyspace.
func (s *ScriptCall) Restarting() bool { return s.restart }

// NeedAll implements script.Escalator.
func (s *ScriptCall) NeedAll() bool {
	if !s.part.on || s.part.whole {
		return true // no other script can run meanwhile
	}
	s.escalate()
	return false
}

// KeepWaiting implements script.Waiter: a partial-mode script may keep
// waiting for the functions' Lua state until a running script is slow;
// then it stops for a rerun with the whole keyspace (which gets BUSY
// past the threshold instead of waiting).
func (s *ScriptCall) KeepWaiting() bool {
	if !s.part.on {
		return true
	}
	// An event loop must not wait: stopped, the script is declined and
	// runs again on its connection's goroutine (commands.runScript).
	if s.restart || s.Caller != nil && s.Caller.NoWait || s.E.Busy != nil && s.E.Busy.Slow() {
		s.escalate()
		return false
	}
	return true
}

func (s *ScriptCall) escalate() {
	if !s.restart {
		s.restart = true
		if s.stop != nil {
			s.stop.Retry()
		}
	}
}

// acquire makes sure s may run spec in partial mode: the command needs
// only shards, which s holds or takes now without waiting. Otherwise it
// stops the script for a rerun and returns false. keys are the command's
// key positions (appended to kb), for saveKeys.
func (s *ScriptCall) acquire(spec *command.Spec, args [][]byte, kb []int) (keys []int, ok bool) {
	if s.restart {
		return nil, false
	}
	if !partialOK(spec, args) {
		s.escalate()
		return nil, false
	}
	if spec.Lock == command.LockNone {
		return nil, true
	}
	p := &s.part
	keys = spec.KeysInto(args, kb)
	for _, k := range keys {
		if k >= len(args) {
			continue
		}
		sh := s.E.Store.ShardOf(args[k])
		if p.has(sh) {
			continue
		}
		if !s.take(sh) {
			return nil, false
		}
	}
	return keys, true
}

// take tries shard sh's lock for the rest of the script; when it is
// busy it stops the script for a rerun.
func (s *ScriptCall) take(sh int) bool {
	p := &s.part
	if !s.E.Store.TryLockShard(sh) {
		p.busy = true
		s.escalate()
		return false
	}
	p.set(sh)
	p.extra = append(p.extra, sh)
	return true
}

// Lazy reports whether s takes the shards of its declared keys at their
// first access (Locks.Declared); Settle then takes those it has not.
func (s *ScriptCall) Lazy() bool { return s.part.on && len(s.part.declared) > 0 }

// Settle takes the shards of s's declared keys that it does not hold yet,
// without waiting; when one is busy it stops the script for a rerun. The
// engine calls it once a script has run a while (script.Run.Settle): a
// long script then holds its keys as one that took them at its start
// does, so that commands on them get BUSY past the threshold and a late
// access cannot make it start over.
func (s *ScriptCall) Settle() {
	p := &s.part
	if !p.on || s.restart {
		return
	}
	for _, sh := range p.declared {
		if !p.has(sh) && !s.take(sh) {
			return
		}
	}
	p.declared = nil
}

// ShardBusy reports whether s was stopped because a shard it tried was
// busy (rather than for a command that needs the whole keyspace).
func (s *ScriptCall) ShardBusy() bool { return s.part.busy }

// partialOK reports whether spec can run under partial locks at all.
func partialOK(spec *command.Spec, args [][]byte) bool {
	switch spec.Lock {
	case command.LockAll, command.LockTx:
		return false
	case command.LockNone:
		// connection commands (PING, ECHO, TIME, SELECT) only: nothing
		// that publishes or changes the server
		return !spec.Has(command.FlagWrite | command.FlagMayReplicate | command.FlagPubSub | command.FlagAdmin)
	}
	if spec.LockAllIf != nil && spec.LockAllIf(args) {
		return false
	}
	switch spec.Name {
	case "move": // writes another database
		return false
	case "copy": // COPY ... DB n writes another database
		return !hasWord(args[3:], "db")
	}
	return true
}

func hasWord(args [][]byte, w string) bool {
	for _, a := range args {
		if len(a) == len(w) && bytes.EqualFold(a, []byte(w)) {
			return true
		}
	}
	return false
}

// saveKeys copies the entries of a write command's keys to the undo log
// (once per key). It stops the script for a rerun and returns false when a
// value is too large or cannot be copied. keys are the key positions
// acquire found.
func (s *ScriptCall) saveKeys(args [][]byte, keys []int) bool {
	p := &s.part
	db := s.E.Store.DB(s.Client.DB, s.Now)
	for _, k := range keys {
		// a saved access field alone does not undo a write
		if k >= len(args) || p.undoHas(db.Index(), args[k], false) {
			continue
		}
		key := args[k]
		limit := uint32(maxUndoBytes)
		if p.whole {
			limit = math.MaxUint32 // a debugging session: no rerun possible
		} else if len(p.undo) >= maxUndoKeys {
			s.escalate()
			return false
		}
		sv, ok := db.SaveIn(p.keep(key), limit, &p.arena)
		if !ok {
			s.escalate()
			return false
		}
		p.undo = append(p.undo, sv)
	}
	return true
}

// undoHas reports whether the undo log has an entry for key of database
// db: one that restores its value, or with access, any (one that restores
// only its access field too).
func (p *partial) undoHas(db int, key []byte, access bool) bool {
	for i := range p.undo {
		if u := &p.undo[i]; (access || !u.AccessOnly()) && u.DB() == db && bytes.Equal(u.Key(), key) {
			return true
		}
	}
	return false
}

// heldAccess is the keyspace's OnHeldAccess function: a read command of a
// partial-mode script (a HoldingHits view, by its context) changes key's
// access field (LRU clock or LFU counter) from old. Redis runs the script
// once, so a stopped attempt's reads must leave the field as they found
// it, for the rerun to move it once and for anyone reading OBJECT
// IDLETIME or FREQ between the attempts: old goes to the undo log, once
// per key and attempt (an earlier entry restores an older field). Past
// maxUndoKeys entries the script is stopped for a rerun; a stopped
// attempt's reads then change nothing. Called under the key's shard lock.
func (e *Executor) heldAccess(db int, key []byte, old uint32, by unsafe.Pointer) bool {
	c := (*command.Ctx)(by)
	if c == nil {
		return true
	}
	s, _ := c.Client.Script.(*ScriptCall)
	if s == nil || !s.part.on {
		return true
	}
	p := &s.part
	if s.restart {
		return false
	}
	if p.undoHas(db, key, true) {
		return true
	}
	if !p.whole && len(p.undo) >= maxUndoKeys {
		s.escalate()
		return false
	}
	p.undo = append(p.undo, keyspace.AccessSaved(db, p.keep(key), old))
	return true
}

// commit replays the held-back side effects, all locks still held.
func (s *ScriptCall) commit() {
	p, e := &s.part, s.E
	// The caller's own notifications go before the script's reply, which
	// is already written: those appended after it (inline, see
	// command.Client.Out) are moved in front of it below.
	out, end := s.Caller.Out, -1
	if out != nil && s.replyAt >= 0 && s.replyAt <= len(*out) {
		end = len(*out)
	}
	var touch func(db int, key []byte)
	for i := range p.pend {
		x := &p.pend[i]
		switch x.kind {
		case pendTouch:
			if touch == nil {
				touch = e.clientTouch(s.Client)
			}
			touch(x.db, x.key)
		case pendNotify:
			if e.Notify != nil {
				e.Notify(x.class, x.event, x.db, x.key, s.Caller)
			}
		case pendError:
			e.CountError(x.event)
		case pendReject:
			e.CountError(x.event)
			if x.spec != nil {
				e.StatFor(x.spec).RejectedCalls.Add(1)
			}
		case pendObserve:
			o := &p.obs[x.obs]
			e.recordDur(&o.ctx, o.d, e.statFor(&p.stats, o.ctx.Spec))
			// what the handler allocated for itself
			o.ctx.Propagate, o.ctx.Block, o.ctx.Held = nil, nil, nil
		case pendLog:
			if s.Log != nil {
				s.Log(int(x.class), x.event)
			}
		case pendACL:
			e.ACL.AddLog(p.acl[x.obs])
		case pendReady:
			if e.blocks.count.Load() != 0 {
				e.blocks.mark(x.db, x.key)
			}
		case pendExpired:
			e.expiredEffects(s.Client, x.db, x.key)
		}
	}
	if len(p.acl) > 0 {
		clear(p.acl)
		p.acl = p.acl[:0]
	}
	if end >= 0 && len(*out) > end {
		// [replyAt, end) is the reply, [end, len) the pushes: swap them
		// (a copy only when the caller got some of its notifications)
		b := *out
		reply := append([]byte(nil), b[s.replyAt:end]...)
		n := copy(b[s.replyAt:], b[end:])
		copy(b[s.replyAt+n:], reply)
	}
	p.obs = p.obs[:0]
	if p.dirty > 0 {
		e.Dirty.AddHere(p.dirty)
	}
	if p.hits {
		for _, sh := range p.held.Shards {
			e.Store.CommitHits(sh)
		}
		for _, sh := range p.extra {
			e.Store.CommitHits(sh)
		}
		p.hits = false
	}
	// nothing is undone any more: drop the copies now (plain stores, see
	// StartPartial)
	for i := 0; i < len(p.undo); i++ {
		u := &p.undo[i]
		*u = keyspace.Saved{}
	}
	p.pend, p.undo, p.dirty = p.pend[:0], p.undo[:0], 0
}

func (s *ScriptCall) releaseExtra() {
	p := &s.part
	for i := len(p.extra) - 1; i >= 0; i-- {
		s.E.Store.UnlockShardOnly(p.extra[i])
	}
	p.extra = p.extra[:0]
}

// Escalate undoes what a partial-mode script stopped for a rerun did,
// releases its locks and takes the whole keyspace for the rerun, which
// runs in exclusive mode. It returns the BUSY error instead when a script
// runs past the busy threshold and keeps the keyspace (the caller then
// holds nothing). The script's client goes back to the caller's database
// and RESP2.
func (s *ScriptCall) Escalate() string {
	s.abandon()
	return s.E.HoldAll(s.part.held)
}

// Rollback undoes the writes of a script run in partial mode and drops
// its held-back side effects: a SCRIPT DEBUG YES session leaves the
// dataset as it found it, as Redis's forked session does. The locks stay
// held (the caller releases them).
func (s *ScriptCall) Rollback() { s.abandon() }

// Decline undoes what a partial-mode script stopped for a rerun did and
// releases its locks, taking nothing: the caller, a client that must not
// wait (Client.NoWait, an event loop), then runs the script again where
// it may wait for the whole keyspace. Nothing the script did is visible.
func (s *ScriptCall) Decline() {
	s.abandon()
	held := s.part.held
	s.E.Unlock(held)
	held.Shards, held.Shared = held.Shards[:0], false
}

// abandon undoes the stopped attempt and releases the shards the script
// took beyond the caller's.
func (s *ScriptCall) abandon() {
	p, e := &s.part, s.E
	for i := len(p.undo) - 1; i >= 0; i-- {
		e.Store.Restore(&p.undo[i])
		p.undo[i] = keyspace.Saved{}
	}
	for i := range p.pend {
		// the keys found expired stay deleted: their effects go now
		if x := &p.pend[i]; x.kind == pendExpired {
			e.expiredEffects(s.Client, x.db, x.key)
		}
	}
	for _, ef := range s.effects {
		// so are the DELs of those keys (addExpired), which the rerun
		// does not find again
		if ef.expired && e.Propagate != nil {
			e.Propagate(ef.db, [][][]byte{ef.cmd})
		}
	}
	clear(p.pend)
	clear(p.obs)
	clear(p.acl) // the stopped attempt's denials are logged by the rerun
	p.undo, p.pend, p.obs, p.acl, p.dirty = p.undo[:0], p.pend[:0], p.obs[:0], p.acl[:0], 0
	if p.hits { // the stopped attempt counts nothing
		for _, sh := range p.held.Shards {
			e.Store.DropHits(sh)
		}
		for _, sh := range p.extra {
			e.Store.DropHits(sh)
		}
		p.hits = false
	}
	s.effects = s.effects[:0]
	s.replSkip, s.replSplit = 0, false
	s.releaseExtra()
	p.on, s.restart, p.declared, p.busy = false, false, nil, false
	s.wrote.Store(false)
	s.Client.DB, s.Client.Proto = s.Caller.DB, 2
}

// HoldAll makes a LockScript command that holds the shards in held
// (Execute's lock set, passed in Ctx.Held) hold the whole keyspace
// instead: it releases them, then takes the global lock exclusively. Other
// commands may run in between, so the caller must not have changed
// anything yet (or have undone it) and must read again what it read. It
// returns the BUSY error instead when a script runs past the busy
// threshold and keeps the keyspace; held then holds nothing.
func (e *Executor) HoldAll(held *Locks) string {
	if held.All {
		return ""
	}
	e.Unlock(held)
	held.Shards = held.Shards[:0]
	held.Shared = false
	all := Locks{All: true}
	if e.Busy != nil && e.Busy.Slow() {
		if msg := e.lockOrBusy(&all); msg != "" {
			return msg
		}
	} else {
		e.Lock(&all)
	}
	held.All = true
	return ""
}
