package exec

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...).
//
// A handler that finds nothing to serve sets Ctx.Block. Execute then
// registers the client as a waiter on each of the keys while the command's
// shard locks are still held (so no push can slip in between the check and
// the registration), releases the locks and parks the connection goroutine.
//
// A key with waiters is put on a ready list when Redis 7.0 signals it
// (signalKeyAsReady): when the key is added (keyspace.Store.OnAdded: Redis's
// dbAdd, for a new key or one put in place of a deleted one by RENAME, COPY,
// RESTORE, MOVE), on XADD and XGROUP DESTROY (Executor.Wake), when a stream
// leaves it (keyspace.Store.OnStreamGone: deleted, expired, evicted,
// overwritten; flushed or swapped away: StreamsGone), and for every waited
// key that exists after SWAPDB or a load (TouchBlockedKeys). Each signal
// has a type, the added value's (a stream for the others), and marks the
// key only while some client, on any key, waits for that type (Redis's
// blocked_clients_by_type): a stream overwritten by a sorted set wakes a
// BZPOPMIN waiting on it only while a client waits on a stream. A change to
// a key that exists wakes nobody: a push to a list that replaced the string
// a BLPOP client waits on leaves it blocked, as does a STORE (setKey's
// dbOverwrite) over it, and so does a list or sorted set deleted or
// emptied. After any command releases its locks (a script or
// EXEC included: they release their locks, shards or all, only at their end),
// Execute drains the ready list: for each ready key it hands a turn to the
// key's waiters in arrival order, one at a time; a waiter re-executes its
// command with locks and reports whether it was served. A waiter that is
// not served keeps its place; when the key is gone (emptied) that ends
// the round for the key, when it exists (of a type the waiter does not
// wait for, or a stream short of its ID) the turn passes to the next. Draining is serialized by drainMu, so the pusher's
// command returns only after the waiters it woke have been served.

type blockKey struct {
	db  int
	key string
}

type waiter struct {
	cl      *command.Client
	db      int
	keys    []string
	wake    chan blockKey   // a turn handed by the drainer, for that key
	done    chan turnResult // the waiter's answer to a turn
	unblock chan unblockReq // CLIENT UNBLOCK, a cluster redirect, a change of role
	handing bool            // a turn was handed and not answered yet (mu)
	timed   bool            // blocked with a timeout (clients_in_timeout_table)
	gone    bool            // answers when its key is gone (BlockRequest.AnswersGone)
	typ     command.BlockType
}

// turnResult is a waiter's answer to a turn on a ready key.
type turnResult int8

const (
	turnStop   turnResult = iota // not served, and no later waiter can be
	turnServed                   // served: its reply is written
	turnPass                     // not served; the next waiter may be
)

type blocking struct {
	mu       sync.Mutex
	queues   map[blockKey][]*waiter
	byClient map[int64]*waiter
	ready    []blockKey
	readySet map[blockKey]struct{}
	nready   atomic.Int32
	count    atomic.Int64
	timed    atomic.Int64 // waiters with a deadline
	// byType counts the waiters by the type they wait for (Redis's
	// blocked_clients_by_type)
	byType  [command.NumBlockTypes]atomic.Int64
	drainMu sync.Mutex

	// signal turns the keyspace's OnAdded and OnStreamGone calls on or off
	signal func(on bool)
}

func (b *blocking) init(signal func(on bool)) {
	b.queues = map[blockKey][]*waiter{}
	b.byClient = map[int64]*waiter{}
	b.readySet = map[blockKey]struct{}{}
	b.signal = signal
}

// blockTypeOf is the type of waiter a value of val's type can serve
// (BlockNone: none).
func blockTypeOf(val any) command.BlockType {
	switch val.(type) {
	case *keyspace.List:
		return command.BlockList
	case *keyspace.ZSet:
		return command.BlockZSet
	case *keyspace.Stream:
		return command.BlockStream
	}
	return command.BlockNone
}

// waitedFor reports whether some client waits for a value of type t.
func (b *blocking) waitedFor(t command.BlockType) bool {
	return t != command.BlockNone && b.byType[t].Load() != 0
}

// mark puts key on the ready list if clients wait on it.
func (b *blocking) mark(db int, key []byte) {
	b.mu.Lock()
	k := blockKey{db, string(key)}
	if _, ok := b.queues[k]; ok {
		if _, dup := b.readySet[k]; !dup {
			b.readySet[k] = struct{}{}
			b.ready = append(b.ready, k)
			b.nready.Store(int32(len(b.ready)))
		}
	}
	b.mu.Unlock()
}

// keyAdded is the keyspace's OnAdded function: key was added with value
// val (Redis's dbAdd signals its waiters with val's type) by the command
// whose context is by (nil: none). Called under the key's shard lock.
func (e *Executor) keyAdded(db int, key []byte, val any, by unsafe.Pointer) {
	if e.blocks.waitedFor(blockTypeOf(val)) {
		e.signalReady((*command.Ctx)(by), db, key)
	}
}

// streamGone is the keyspace's OnStreamGone function: a stream left key
// (Redis's dbGenericDelete and dbSetValue signal its waiters with the
// stream type, whatever the key holds now). Called under the key's shard
// lock.
func (e *Executor) streamGone(db int, key []byte, by unsafe.Pointer) {
	if e.blocks.waitedFor(command.BlockStream) {
		e.signalReady((*command.Ctx)(by), db, key)
	}
}

// Wake marks key, a stream, ready for the clients blocked on it although
// it existed before: XADD and XGROUP DESTROY signal them in Redis (with
// the stream type). c is the command that does it. Called under the key's
// shard lock.
func (e *Executor) Wake(c *command.Ctx, db int, key []byte) {
	if e.blocks.waitedFor(command.BlockStream) {
		e.signalReady(c, db, key)
	}
}

// signalReady marks key ready, or, for a command of a script in partial
// mode, holds the mark back until the script commits: an attempt that is
// stopped and undone must wake nobody (a woken XREAD would be served from
// the undone entries' stream ID, a BLPOP retried for nothing).
func (e *Executor) signalReady(c *command.Ctx, db int, key []byte) {
	if c != nil && c.InScript {
		if s, _ := c.Client.Script.(*ScriptCall); s != nil && s.part.on {
			p := &s.part
			p.add(pending{kind: pendReady, db: db, key: p.keep(key)})
			return
		}
	}
	e.blocks.mark(db, key)
}

func (b *blocking) register(w *waiter) {
	b.mu.Lock()
	for _, k := range w.keys {
		bk := blockKey{w.db, k}
		b.queues[bk] = append(b.queues[bk], w)
	}
	b.byClient[w.cl.ID] = w
	b.byType[w.typ].Add(1)
	if b.count.Add(1) == 1 {
		b.signal(true) // under mu: on and off in order
	}
	if w.timed {
		b.timed.Add(1)
	}
	b.mu.Unlock()
}

// unregisterLocked removes w from every queue. Requires mu.
func (b *blocking) unregisterLocked(w *waiter) {
	if b.byClient[w.cl.ID] != w {
		return
	}
	delete(b.byClient, w.cl.ID)
	b.byType[w.typ].Add(-1)
	if b.count.Add(-1) == 0 {
		b.signal(false)
	}
	if w.timed {
		b.timed.Add(-1)
	}
	for _, k := range w.keys {
		bk := blockKey{w.db, k}
		q := b.queues[bk]
		for i, x := range q {
			if x == w {
				q = append(q[:i], q[i+1:]...)
				break
			}
		}
		if len(q) == 0 {
			delete(b.queues, bk)
		} else {
			b.queues[bk] = q
		}
	}
}

// ServeReady serves the waiters of keys marked ready outside a command
// (TouchBlockedKeys after a replica's swapdb load); Execute does it after
// every command.
func (e *Executor) ServeReady() { e.blocks.drain() }

// drain serves the ready keys' waiters in arrival order.
func (b *blocking) drain() {
	if b.nready.Load() == 0 {
		return
	}
	b.drainMu.Lock()
	defer b.drainMu.Unlock()
	for {
		b.mu.Lock()
		if len(b.ready) == 0 {
			b.nready.Store(0)
			b.mu.Unlock()
			return
		}
		k := b.ready[0]
		b.ready[0] = blockKey{}
		b.ready = b.ready[1:]
		delete(b.readySet, k)
		b.nready.Store(int32(len(b.ready)))
		var passed map[*waiter]bool // waiters that let the turn pass
		goneOnly := false           // the key is gone: only AnswersGone waiters
		for {
			var w *waiter
			for _, x := range b.queues[k] {
				if !passed[x] && (!goneOnly || x.gone) {
					w = x
					break
				}
			}
			if w == nil {
				break
			}
			w.handing = true
			b.mu.Unlock()
			w.wake <- k
			res := <-w.done
			b.mu.Lock()
			if res == turnStop {
				goneOnly = true
			}
			if res != turnServed {
				if passed == nil {
					passed = map[*waiter]bool{}
				}
				passed[w] = true
			}
		}
		b.mu.Unlock()
	}
}

// BlockedKeys returns, sorted, the keys of db that clients wait on.
func (e *Executor) BlockedKeys(db int) []string {
	b := &e.blocks
	if b.count.Load() == 0 {
		return nil
	}
	b.mu.Lock()
	var keys []string
	for k := range b.queues {
		if k.db == db {
			keys = append(keys, k.key)
		}
	}
	b.mu.Unlock()
	slices.Sort(keys)
	return keys
}

// StreamsGone marks keys of db, streams flushed or swapped away, ready
// for the clients blocked on them while some client waits on a stream
// (Redis 7.0's scanDatabaseForDeletedStreams: an XREADGROUP client is
// told).
func (e *Executor) StreamsGone(db int, keys []string) {
	if !e.blocks.waitedFor(command.BlockStream) {
		return
	}
	for _, k := range keys {
		e.blocks.mark(db, []byte(k))
	}
}

// TouchBlockedKeys marks ready the keys of db that clients wait on and
// that exist, each while some client waits for its type, as Redis 7.0's
// scanDatabaseForReadyKeys after SWAPDB: the waiters stay on their
// database, whose contents changed. Called with the whole keyspace
// locked.
func (e *Executor) TouchBlockedKeys(db int) {
	keys := e.BlockedKeys(db) // sorted: deterministic (Redis: its dict's order)
	if len(keys) == 0 {
		return
	}
	d := e.Store.DB(db, e.Now())
	for _, k := range keys {
		if en, ok := d.Lookup([]byte(k)); ok && e.blocks.waitedFor(blockTypeOf(en.Value())) {
			e.blocks.mark(db, []byte(k))
		}
	}
}

// BlockedClients is the number of clients parked by a blocking command
// (INFO blocked_clients).
func (e *Executor) BlockedClients() int { return int(e.blocks.count.Load()) }

// ClientsInTimeoutTable is the number of parked clients that have a
// timeout (INFO clients_in_timeout_table: Redis 7.0 keeps only those in
// its table of timeouts).
func (e *Executor) ClientsInTimeoutTable() int { return int(e.blocks.timed.Load()) }

// IsBlocked reports whether the client with this id is parked.
func (e *Executor) IsBlocked(id int64) bool {
	e.blocks.mu.Lock()
	defer e.blocks.mu.Unlock()
	return e.blocks.byClient[id] != nil
}

// Unblock implements CLIENT UNBLOCK: it wakes the parked client with this
// id, which then replies as on timeout or, when withError, with an
// -UNBLOCKED error. It reports whether such a client was blocked.
func (e *Executor) Unblock(id int64, withError bool) bool {
	b := &e.blocks
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.byClient[id]
	if w == nil {
		return false
	}
	msg := ""
	if withError {
		msg = ErrUnblocked
	}
	b.unblockLocked(w, unblockReq{msg: msg})
	return true
}

// unblockReq is how a parked client is woken by Unblock, UnblockAll or a
// cluster redirect: with msg as its error reply, or as on timeout when
// msg is ""; close closes its connection after the reply.
type unblockReq struct {
	msg   string
	close bool
}

// ErrUnblockedRole is the reply of a client parked when the server becomes
// a replica (Redis's disconnectAllBlockedClients); its connection is then
// closed.
const ErrUnblockedRole = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"

// UnblockAll wakes every parked client with ErrUnblockedRole, then closes
// its connection, as Redis 7.0's replicationSetMaster does when the server
// starts following a (new) master: a blocked BLPOP must not pop from the
// replica's data, which its master now decides.
func (e *Executor) UnblockAll() {
	b := &e.blocks
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.byClient {
		b.unblockLocked(w, unblockReq{msg: ErrUnblockedRole, close: true})
	}
}

// unblockLocked sends how to w unless it is being unblocked already.
// Requires b.mu.
func (b *blocking) unblockLocked(w *waiter, how unblockReq) {
	select {
	case w.unblock <- how:
		if !w.handing {
			// out of the queues now, as Redis unblocks at once: CLIENT
			// LIST and INFO that follow no longer count it (its reply
			// is written by its own goroutine, which finds it gone)
			b.unregisterLocked(w)
		}
	default: // already being unblocked
	}
}

// ErrUnblocked is the reply of a client unblocked by CLIENT UNBLOCK ERROR.
const ErrUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// park waits, without locks, until the blocked command is served, times
// out, is unblocked or the client is killed. The waiter w was registered
// under the command's locks.
func (e *Executor) park(w *waiter, spec *command.Spec, args [][]byte, rw *resp.Writer, req *command.BlockRequest) {
	if w.cl.Flush != nil {
		w.cl.Flush()
	}
	if w.cl.WatchClose != nil {
		defer w.cl.WatchClose()()
	}
	if req.Args != nil {
		// the handler resolved its arguments for re-runs (XREAD's $)
		args = req.Args
	}
	var timer <-chan time.Time
	if !req.Deadline.IsZero() {
		t := time.NewTimer(time.Until(req.Deadline))
		defer t.Stop()
		timer = t.C
	}
	wake := req.Wake // nil: never ready
	// retry runs the command again; pass (when not served) says that
	// the ready key exists, of a type or in a state this waiter cannot
	// use, so that the turn goes on to the next waiter (Redis serves the
	// waiters of a ready key of its type, and every XREAD waiter whose ID
	// the stream passed); an absent key (a list or sorted set emptied)
	// ends the round.
	retry := func(ready []byte) (served, pass bool) {
		var locks Locks
		e.LocksFor(spec, args, &locks)
		var c command.Ctx
		e.Lock(&locks)
		e.NewCtx(&c, w.cl, spec, args, rw, e.Now())
		if spec.Has(command.FlagReadOnly) {
			// Redis serves a woken XREAD without a lookup that counts
			// keyspace_hits or keyspace_misses
			c.DB = e.Store.DB(w.cl.DB, c.DB.Now)
		}
		c.Retry = true
		c.Ready = ready
		e.Run(&c)
		served = c.Block == nil
		if !served {
			wake = c.Block.Wake
			if ready != nil {
				_, pass = c.DB.Peek(ready)
			}
		}
		if served {
			e.blocks.mu.Lock()
			e.blocks.unregisterLocked(w)
			w.handing = false
			e.blocks.mu.Unlock()
		}
		e.Unlock(&locks)
		return served, pass
	}
	turn := func(k blockKey) bool {
		served, pass := retry([]byte(k.key))
		res := turnServed
		if !served {
			e.blocks.mu.Lock()
			w.handing = false
			e.blocks.mu.Unlock()
			res = turnStop
			if pass {
				res = turnPass
			}
		}
		w.done <- res
		return served
	}
	// stop leaves the queues; it reports false when a turn handed at the
	// same moment served the client.
	stop := func() bool {
		b := &e.blocks
		b.mu.Lock()
		if w.handing {
			b.mu.Unlock()
			if turn(<-w.wake) {
				return false
			}
			b.mu.Lock()
		}
		b.unregisterLocked(w)
		b.mu.Unlock()
		return true
	}
	for {
		select {
		case k := <-w.wake:
			if turn(k) {
				return
			}
		case <-wake:
			// a keyless request (WAIT) that may be served now: no
			// drainer hands it turns, so it retries by itself
			if served, _ := retry(nil); served {
				return
			}
		case <-timer:
			if stop() {
				req.OnTimeout(rw)
			}
			return
		case how := <-w.unblock:
			if stop() {
				if how.msg != "" {
					rw.Error(how.msg)
					e.CountError(how.msg)
					if how.close {
						w.cl.Flags |= command.ClientCloseAfterReply
					}
				} else {
					req.OnTimeout(rw)
				}
			}
			return
		case <-w.cl.Kill:
			stop()
			return
		}
	}
}

// newWaiter registers cl as waiting for req's keys. Called with the
// command's locks held.
func (e *Executor) newWaiter(cl *command.Client, req *command.BlockRequest) *waiter {
	w := &waiter{cl: cl, db: cl.DB, timed: !req.Deadline.IsZero(), gone: req.AnswersGone, typ: req.Type, wake: make(chan blockKey, 1), done: make(chan turnResult, 1),
		unblock: make(chan unblockReq, 1)}
	seen := make(map[string]bool, len(req.Keys))
	for _, k := range req.Keys {
		if !seen[string(k)] {
			seen[string(k)] = true
			w.keys = append(w.keys, string(k))
		}
	}
	e.blocks.register(w)
	return w
}
