package exec

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Transactions (MULTI/EXEC/WATCH), the RESP2 subscribed-mode restriction
// and execution units.
//
// WATCH registers (db, key) pairs in a registry sharded like the keyspace.
// Every modification reaches touchWatched through Executor.Touched (called
// by Ctx.Modified under the key's shard lock) and marks the watching
// clients dirty; an atomic count makes this free when nobody watches.
// EXEC holds the shards of every key its queued commands and the client's
// WATCHes name (TxLocks), so a transaction is never seen half done; it
// takes Store.LockAll when a queued command needs more than its keys.
//
// Propagation contract: the effects of an execution unit (a MULTI/EXEC, and
// scripts later) are collected in a Unit and handed to Executor.Propagate
// once. When the unit has more than one command they are wrapped in MULTI
// ... EXEC, as Redis 7.0 does, so the AOF replays them atomically. The
// commands of a unit may run in several databases: then SELECT commands are
// inserted between them and a final SELECT restores the db passed to
// Propagate, so the receiver's selected database is db before and after.

// Error texts of transactions (Redis 7.0).
const (
	ErrMultiNested   = "ERR MULTI calls can not be nested"
	ErrExecNoMulti   = "ERR EXEC without MULTI"
	ErrDiscardNoMult = "ERR DISCARD without MULTI"
	ErrWatchInMulti  = "ERR WATCH inside MULTI is not allowed"
	ErrExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	ErrNoMulti       = "ERR Command not allowed inside a transaction"
	errPubSubContext = "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
)

// watchEntry is one client's registration of one key.
type watchEntry struct {
	w       *watcher
	db      int
	key     string
	expired bool // the key existed but was logically expired at WATCH time
}

type watchShard struct {
	mu sync.Mutex
	m  map[string][]*watchEntry
}

// watchRegistry holds every WATCH registration.
type watchRegistry struct {
	n      atomic.Int64 // registrations
	shards [keyspace.NumShards]watchShard
}

// watcher is one client's WATCH session.
type watcher struct {
	dirty   atomic.Bool
	entries []*watchEntry
}

const watchExtra = "exec.watch"

func watcherOf(cl *command.Client, create bool) *watcher {
	if w, ok := cl.Extra[watchExtra].(*watcher); ok {
		return w
	}
	if !create {
		return nil
	}
	if cl.Extra == nil {
		cl.Extra = map[string]any{}
	}
	w := &watcher{}
	cl.Extra[watchExtra] = w
	return w
}

func (e *Executor) watchReg() *watchRegistry { return e.watches }

// touchWatched is the default Touched hook: it marks the clients watching
// key in db dirty. The caller holds key's shard lock.
func (e *Executor) touchWatched(db int, key []byte) {
	if e.watchReg().n.Load() != 0 { // small enough to inline: no call when nobody watches
		e.markWatched(db, key)
	}
}

// markWatched is touchWatched when some client watches keys.
func (e *Executor) markWatched(db int, key []byte) {
	r := e.watchReg()
	sh := &r.shards[e.Store.ShardOf(key)]
	sh.mu.Lock()
	for _, we := range sh.m[string(key)] {
		if we.db != db || we.w.dirty.Load() {
			continue
		}
		if we.expired {
			// Redis: an already expired key being deleted is no logical change
			if _, ok := e.Store.DB(db, 0).Lookup(key); !ok {
				we.expired = false
				continue
			}
		}
		we.w.dirty.Store(true)
	}
	sh.mu.Unlock()
}

// KeyExpired signals that key was deleted because its time passed: WATCH
// counts it as a modification, an "expired" notification is emitted and,
// while anything keeps propagated writes (the AOF, replicas), a DEL is
// propagated (UNLINK under lazyfree-lazy-expire, as Redis). cur is the client whose command found it expired (nil: the
// active expiry), for client tracking's NOLOOP and the order of its own
// notifications. It is meant for
// keyspace.Hooks.Expired (called under the key's shard lock).
func (e *Executor) KeyExpired(db int, key string, cur *command.Client, by *command.Ctx) {
	if e.watchReg().n.Load() != 0 {
		e.touchWatched(db, []byte(key))
	}
	var s *ScriptCall
	if cur != nil {
		s, _ = cur.Script.(*ScriptCall)
	}
	if s != nil && s.part.on {
		// a partial-mode script's: the invalidation and the event wait
		// for its commit, in order with its other effects (a stopped
		// attempt's go out when it stops: its rerun finds the key gone)
		p := &s.part
		p.add(pending{kind: pendExpired, db: db, key: p.keep([]byte(key))})
	} else {
		e.expiredEffects(cur, db, []byte(key))
	}
	if e.Propagate != nil && e.Propagating != nil && e.Propagating() {
		// as Redis: the AOF and the replicas get a DEL (a replica does not
		// expire keys by itself); under the key's shard lock, like every
		// propagation; a client's own command propagates it with its
		// own effect (runIn)
		if by != nil && by.CollectExpired {
			by.Expired = append(by.Expired, command.ExpiredKey{DB: db, Key: []byte(key)})
		} else {
			e.Propagate(db, [][][]byte{{e.Store.PropagatedDel(keyspace.LazyExpire), []byte(key)}})
		}
	}
}

// expiredEffects are KeyExpired's invalidation and event of key, found
// expired by cur's command (nil: the active expiry).
func (e *Executor) expiredEffects(cur *command.Client, db int, key []byte) {
	e.touchedNoClient(cur, true, db, key) // client tracking (ops.go)
	if e.Notify != nil {
		// from cur: a RESP3 client subscribed to its own events gets
		// "expired" in its reply stream, before its command's other
		// events, as Redis's lookup sends it first
		e.Notify('x', "expired", db, key, cur)
	}
}

// TouchAllWatched signals WATCH for FLUSHDB/FLUSHALL (replacedWith = -1)
// and SWAPDB (called for each of the two databases, before the swap) as
// Redis's touchAllWatchedKeysInDb: watched keys that exist in db, or in
// replacedWith, are modified. The caller holds Store.LockAll.
func (e *Executor) TouchAllWatched(db, replacedWith int) {
	r := e.watchReg()
	if r.n.Load() == 0 {
		return
	}
	now := e.Now()
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for k, list := range sh.m {
			key := []byte(k)
			for _, we := range list {
				if we.db != db || we.w.dirty.Load() {
					continue
				}
				_, inEmptied := e.Store.DB(db, 0).Lookup(key)
				var re keyspace.Entry
				inReplaced := false
				if replacedWith >= 0 {
					re, inReplaced = e.Store.DB(replacedWith, 0).Lookup(key)
				}
				if !inEmptied && !inReplaced {
					continue
				}
				replacedExpired := inReplaced && re.Exp != 0 && re.Exp <= now
				if we.expired {
					if !inReplaced {
						we.expired = false
						continue
					} else if replacedExpired {
						continue
					}
				} else if !inEmptied && replacedExpired {
					we.expired = true
					continue
				}
				we.w.dirty.Store(true)
			}
		}
		sh.mu.Unlock()
	}
}

// Watch registers c's keys for c.Client (WATCH). The keys' shards are
// locked.
func (e *Executor) Watch(c *command.Ctx) {
	cl := c.Client
	if cl.Flags&command.ClientMulti != 0 {
		c.Error(ErrWatchInMulti)
		return
	}
	w := watcherOf(cl, true)
	r := e.watchReg()
	db := c.DB.Index()
outer:
	for _, k := range c.Args[1:] {
		for _, we := range w.entries {
			if we.db == db && we.key == string(k) {
				continue outer
			}
		}
		we := &watchEntry{w: w, db: db, key: string(k)}
		if ent, ok := e.Store.DB(db, 0).Lookup(k); ok && ent.Exp != 0 && ent.Exp <= c.Now() {
			we.expired = true
		}
		sh := &r.shards[e.Store.ShardOf(k)]
		sh.mu.Lock()
		if sh.m == nil {
			sh.m = map[string][]*watchEntry{}
		}
		sh.m[we.key] = append(sh.m[we.key], we)
		sh.mu.Unlock()
		r.n.Add(1)
		w.entries = append(w.entries, we)
	}
	c.W.OK()
}

// Unwatch drops cl's WATCH registrations.
func (e *Executor) Unwatch(cl *command.Client) {
	w := watcherOf(cl, false)
	if w == nil {
		return
	}
	r := e.watchReg()
	for _, we := range w.entries {
		sh := &r.shards[e.Store.ShardOf([]byte(we.key))]
		sh.mu.Lock()
		list := sh.m[we.key]
		for i, x := range list {
			if x == we {
				list[i] = list[len(list)-1]
				list[len(list)-1] = nil
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(sh.m, we.key)
		} else {
			sh.m[we.key] = list
		}
		sh.mu.Unlock()
		r.n.Add(-1)
	}
	w.entries = w.entries[:0]
	w.dirty.Store(false)
	cl.Watched = nil
	cl.Flags &^= command.ClientDirtyCAS
}

// Discard ends cl's transaction: the queue, the flags and its WATCHes.
func (e *Executor) Discard(cl *command.Client) {
	cl.Queue = nil
	cl.Flags &^= command.ClientMulti | command.ClientDirtyCAS | command.ClientDirtyExec
	e.Unwatch(cl)
}

// Multi starts a transaction (MULTI).
func (e *Executor) Multi(c *command.Ctx) {
	if c.Client.Flags&command.ClientMulti != 0 {
		c.Error(ErrMultiNested)
		return
	}
	c.Client.Flags |= command.ClientMulti
	c.W.OK()
}

// DiscardCommand implements DISCARD.
func (e *Executor) DiscardCommand(c *command.Ctx) {
	if c.Client.Flags&command.ClientMulti == 0 {
		c.Error(ErrDiscardNoMult)
		return
	}
	e.Discard(c.Client)
	c.W.OK()
}

// watchedExpired reports whether a key that was live at WATCH time has
// expired since (Redis's isWatchedKeyExpired). Requires the watched keys'
// shards (TxLocks includes them).
func (e *Executor) watchedExpired(w *watcher, now int64) bool {
	for _, we := range w.entries {
		if we.expired {
			continue
		}
		if ent, ok := e.Store.DB(we.db, 0).Lookup([]byte(we.key)); ok && ent.Exp != 0 && ent.Exp <= now {
			return true
		}
	}
	return false
}

// Exec implements EXEC. It runs with the locks TxLocks chose held: the
// queued commands run back to back and nobody touches their keys in
// between; their replies form an array and their effects are propagated
// as one unit.
func (e *Executor) Exec(c *command.Ctx) {
	cl := c.Client
	if cl.Flags&command.ClientMulti == 0 {
		c.Error(ErrExecNoMulti)
		return
	}
	now := c.Now()
	if w := watcherOf(cl, false); w != nil && (w.dirty.Load() || e.watchedExpired(w, now)) {
		cl.Flags |= command.ClientDirtyCAS
	}
	if cl.Flags&command.ClientDirtyExec != 0 {
		e.Discard(cl)
		c.Error(ErrExecAbort)
		return
	}
	if cl.Flags&command.ClientDirtyCAS != 0 {
		e.Discard(cl)
		c.W.NullArray()
		return
	}
	e.Unwatch(cl)
	// the queue stays the client's while it runs, as Redis's mstate: CLIENT
	// INFO and an ACL LOG entry's client-info show multi=<queued count>
	queue := cl.Queue
	c.W.Array(len(queue))
	var u Unit
	// Past the client's output limit every command still runs, writing
	// nothing (w becomes a Discard): Redis adds nothing to the reply of a
	// client flagged CLIENT_CLOSE_ASAP. A queue of GETs of one big value
	// built its whole reply before (1.7 GB of RSS for 50,000 GETs of 10
	// KB under a 100 KB limit).
	w, guard, stopped := c.W, c.ReplyGuard(0), false
	for _, args := range queue {
		if cl.ReplyBoundary != nil {
			cl.ReplyBoundary() // CLIENT REPLY in the queue
		}
		spec, msg := e.Lookup(args)
		if spec == nil { // the table cannot change, but be safe
			w.Error(msg)
			continue
		}
		if msg := e.CheckACLExec(cl, spec, args); msg != "" {
			if stopped {
				c.CountError(msg)
			} else {
				c.Error(msg)
			}
			continue
		}
		var qc command.Ctx
		e.NewCtx(&qc, cl, spec, args, w, now)
		e.RunIn(&qc, &u)
		// a muted client's guard reports its dropped replies: only the
		// output limit stops the rest (CLIENT REPLY ON may follow)
		if !stopped && cl.Flags&command.ClientRepliesMuted == 0 && guard.Over() {
			w, stopped = resp.Discard{Proto: c.W.ProtoVersion()}, true
		}
	}
	cl.Queue = nil
	cl.Flags &^= command.ClientMulti | command.ClientDirtyCAS | command.ClientDirtyExec
	e.PropagateUnit(&u, cl)
}

// TxLocks computes the locks of cl's EXEC (command.LockTx): the global
// lock shared and the shards of every key of the queued commands and of
// the client's WATCHes, sorted, as a multi-key command takes them (a
// shard covers its keys in every database, so SELECT in the queue needs
// nothing more). A queued command that needs more than its keys' shards
// makes it the whole keyspace: a LockAll command (FLUSHALL, SWAPDB,
// KEYS...), a script (it may touch undeclared keys), MOVE, COPY ... DB,
// SORT BY/GET, or a keyless command that publishes or changes the server
// (see partialOK).
//
// Holding the watched keys' shards makes the WATCH check and the queue
// one atomic step: every change to a key (and its expiry) signals WATCH
// under the key's shard lock. Keyspace notifications and blocked-client
// wake-ups are emitted under the same locks as outside a transaction;
// blocked clients are served after EXEC releases them.
func (e *Executor) TxLocks(cl *command.Client, l *Locks) {
	l.All, l.Shared = false, true
	l.Shards = l.buf[:0]
	if w := watcherOf(cl, false); w != nil {
		for _, we := range w.entries {
			l.Shards = append(l.Shards, e.Store.ShardOf([]byte(we.key)))
		}
	}
	if cl.Flags&command.ClientMulti != 0 && cl.Flags&command.ClientDirtyExec == 0 {
		var kb [8]int
		for _, args := range cl.Queue {
			spec, _ := e.Lookup(args)
			if spec == nil {
				continue // replies its error without touching anything
			}
			if txNeedsAll(spec, args) {
				l.All, l.Shared = true, false
				l.Shards = l.buf[:0]
				return
			}
			if spec.Lock == command.LockNone {
				continue
			}
			for _, k := range spec.KeysInto(args, kb[:0]) {
				if k < len(args) {
					l.Shards = append(l.Shards, e.Store.ShardOf(args[k]))
				}
			}
		}
	}
	sortShards(l)
}

// txNeedsAll reports whether a queued command makes its EXEC take the
// whole keyspace (see TxLocks). Beyond what partial-lock scripts refuse,
// a script may touch undeclared keys, and SCRIPT LOAD/FLUSH/KILL and
// FUNCTION KILL change what other clients' scripts see or do: with the
// keyspace held no script runs meanwhile, as in Redis.
func txNeedsAll(spec *command.Spec, args [][]byte) bool {
	if spec.Lock == command.LockScript || !partialOK(spec, args) {
		return true
	}
	switch spec.Name {
	case "script|load", "script|flush", "script|kill", "function|kill":
		return true
	}
	return false
}

// sortShards sorts l.Shards ascending and drops duplicates.
func sortShards(l *Locks) {
	if len(l.Shards) < 2 {
		return
	}
	sort.Ints(l.Shards)
	j := 1
	for i := 1; i < len(l.Shards); i++ {
		if l.Shards[i] != l.Shards[j-1] {
			l.Shards[j] = l.Shards[i]
			j++
		}
	}
	l.Shards = l.Shards[:j]
}

// Unit collects the effects of an execution unit for one Propagate call.
type Unit struct {
	db   int // database of the first effect
	cur  int // database of the last effect
	ops  int // commands, SELECTs excluded
	cmds [][][]byte
	// split, once a command went to the replicas only (AddReplicas),
	// holds the stream of each target: the AOF's, then the replicas'.
	split *[2]Unit
}

// Add records cmds, run in db.
func (u *Unit) Add(db int, cmds [][][]byte) {
	if u.ops == 0 {
		u.db, u.cur = db, db
	} else if db != u.cur {
		u.cmds = append(u.cmds, selectCmd(db))
		u.cur = db
	}
	u.cmds = append(u.cmds, cmds...)
	u.ops += len(cmds)
	if u.split != nil {
		u.split[0].Add(db, cmds)
		u.split[1].Add(db, cmds)
	}
}

// AddReplicas records cmds, run in db, for the replicas only
// (Ctx.ReplicasOnly): from then on u keeps each target's stream apart.
func (u *Unit) AddReplicas(db int, cmds [][][]byte) {
	if u.split == nil {
		u.split = new([2]Unit)
		cur := u.db
		for _, c := range u.cmds { // what both targets got so far
			if string(c[0]) == "SELECT" && len(c) == 2 {
				cur, _ = strconv.Atoi(string(c[1]))
				continue
			}
			u.split[0].Add(cur, [][][]byte{c})
			u.split[1].Add(cur, [][][]byte{c})
		}
	}
	u.split[1].Add(db, cmds)
	if u.ops == 0 {
		u.db, u.cur = db, db
	}
	u.ops += len(cmds)
}

func selectCmd(db int) [][]byte {
	return [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))}
}

// PropagateUnit hands u's effects to Propagate (see the contract above)
// as one unit, on behalf of cl (whose reply then waits for durability).
func (e *Executor) PropagateUnit(u *Unit, cl *command.Client) {
	if u.ops == 0 || e.Propagate == nil {
		return
	}
	if u.split != nil {
		// as Redis 7.0's propagatePendingCommands: each command to its
		// own targets, wrapped when there is more than one in all
		wrap := u.ops > 1
		e.propagateTo(&u.split[0], wrap, true, false, cl)
		e.propagateTo(&u.split[1], wrap, false, true, cl)
		return
	}
	e.emit(cl, u.db, u.stream(u.ops > 1))
}

// stream returns u's commands as propagated, wrapped in MULTI/EXEC when
// wrap is set. A unit that changed database ends in its last one, as in
// Redis, whose stream selects a database again only before a command of
// another one (after EXEC, not inside): the encoder (aof.AppendUnit)
// follows the SELECTs of the unit.
func (u *Unit) stream(wrap bool) [][][]byte {
	cmds := u.cmds
	if wrap {
		wrapped := make([][][]byte, 0, len(cmds)+2)
		wrapped = append(wrapped, [][]byte{[]byte("MULTI")})
		wrapped = append(wrapped, cmds...)
		wrapped = append(wrapped, [][]byte{[]byte("EXEC")})
		cmds = wrapped
	}
	return cmds
}

// propagateTo hands u's effects to the AOF only or to the replicas only
// (PropagateTargets; redis.set_repl), wrapped in MULTI/EXEC when wrap is
// set, on behalf of cl. Without PropagateTargets, only effects for both
// would be propagated: none are.
func (e *Executor) propagateTo(u *Unit, wrap, aof, replicas bool, cl *command.Client) {
	if u.ops == 0 || e.PropagateTargets == nil {
		return
	}
	e.PropagateTargets(u.db, u.stream(wrap), aof, replicas)
	if e.Wrote != nil && cl != nil {
		e.Wrote(cl)
	}
}

// copyArgs copies args into one allocation (queued commands outlive the
// read buffer).
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

func rootName(s *command.Spec) string {
	for s.Parent != nil {
		s = s.Parent
	}
	return s.Name
}

// intercept checks a command from a client in MULTI or in subscribed
// mode before it runs (no_multi, and the RESP2 pub/sub context): it
// reports whether the command was refused.
func (e *Executor) intercept(cl *command.Client, spec *command.Spec, args [][]byte, w *resp.Writer) bool {
	name := rootName(spec)
	if cl.Flags&command.ClientMulti != 0 && spec.Has(command.FlagNoMulti) {
		e.rejectSpec(cl, spec, args, w, ErrNoMulti)
		return true
	}
	if cl.Flags&command.ClientPubSub != 0 && e.Subscribed != nil && !e.Subscribed(cl.ID) {
		// its subscriptions were ended from elsewhere (Hub.DropShardChannels)
		cl.Flags &^= command.ClientPubSub
	}
	if cl.Flags&command.ClientPubSub != 0 && cl.Proto == 2 {
		switch name {
		case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
			"psubscribe", "punsubscribe", "quit", "reset":
		default:
			e.rejectSpec(cl, spec, args, w, fmt.Sprintf(errPubSubContext, spec.Name))
			return true
		}
	}
	return false
}

// queue queues a command of a client in MULTI and answers QUEUED, except
// the commands that act at once (EXEC, DISCARD, MULTI, WATCH, QUIT,
// RESET): it reports whether it queued.
func (e *Executor) queue(cl *command.Client, spec *command.Spec, args [][]byte, w *resp.Writer) bool {
	switch rootName(spec) {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return false
	}
	cl.Queue = append(cl.Queue, copyArgs(args))
	w.Simple("QUEUED")
	return true
}

func (e *Executor) rejectSpec(cl *command.Client, spec *command.Spec, args [][]byte, w *resp.Writer, msg string) {
	e.StatFor(spec).RejectedCalls.Add(1)
	e.reject(cl, args, w, msg)
}

// Replay runs one command of an append-only file being loaded, for a
// caller holding the whole keyspace (at startup, or DEBUG LOADAOF): the
// command's handler runs directly, as Redis's loading client calls it,
// so nothing is checked, nothing is propagated (its effects are already
// in the file), and it counts in no statistics (commandstats, errorstats,
// total_commands_processed, the slow log), except that a command of the
// file's MULTI/EXEC (inTx), which Redis's EXEC runs through call(),
// counts in total_commands_processed. cl is the loading client
// (command.ClientLoading); an unknown command is ignored (the caller
// checked the file's commands).
func (e *Executor) Replay(cl *command.Client, args [][]byte, w resp.ReplyWriter, inTx bool) {
	spec, _ := e.Lookup(args)
	if spec == nil {
		return
	}
	var c command.Ctx
	e.NewCtx(&c, cl, spec, args, w, e.Now())
	c.OnError = nil
	var u Unit // effects collected and dropped
	e.RunIn(&c, &u)
	if inTx {
		e.TotalCmds.AddHere(1)
	}
}
