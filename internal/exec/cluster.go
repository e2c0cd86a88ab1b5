package exec

import (
	"math"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// Cluster mode's slot checks (docs/design/cluster.md): Execute and
// CallFromScript call these only when Executor.Cluster is set, so that a
// server without cluster mode pays one predictable branch per command.

// clusterCheck routes a client's command as Redis's processCommand does
// with getNodeByQuery: "" to run it here, else the error reply (MOVED,
// ASK, CROSSSLOT, TRYAGAIN, CLUSTERDOWN). It also consumes the client's
// ASKING flag, which holds for one command (or one transaction).
func (e *Executor) clusterCheck(cl *command.Client, spec *command.Spec, args [][]byte) string {
	asking := cl.Flags&command.ClientAsking != 0
	if asking && (cl.Flags&command.ClientMulti == 0 || spec.Lock == command.LockTx) &&
		spec.Name != "asking" && spec.Name != "multi" {
		cl.Flags &^= command.ClientAsking // kept through MULTI, up to EXEC
	}
	cl.Slot = 0
	if cl.Flags&(command.ClientLoading|command.ClientMaster) != 0 {
		return "" // the AOF, and a replica's master, are obeyed
	}
	q := cluster.Query{Asking: asking || spec.Has(command.FlagAsking), Migrate: spec.Name == "migrate",
		ReadOnly: cl.Flags&command.ClientReadOnly != 0}
	var kb [8]int
	if spec.Lock == command.LockTx { // EXEC: every queued command's keys
		if cl.Flags&command.ClientMulti == 0 {
			return ""
		}
		for _, a := range cl.Queue {
			_, s := e.Table.Resolve(a)
			if s == nil {
				continue
			}
			q.Write = q.Write || s.Has(command.FlagWrite)
			for _, k := range s.KeysInto(a, kb[:0]) {
				if k < len(a) {
					q.Keys = append(q.Keys, a[k])
				}
			}
		}
	} else if len(args) > 1 && spec.OnlyKeyIs1() { // the common shape, without KeysInto
		q.Keys = args[1:2]
		q.Write = spec.Has(command.FlagWrite)
	} else {
		keys := spec.KeysInto(args, kb[:0])
		if len(keys) == 0 {
			return "" // no keys: served here in every case
		}
		var ab [8][]byte
		q.Keys = ab[:0]
		for _, k := range keys {
			if k < len(args) {
				q.Keys = append(q.Keys, args[k])
			}
		}
		q.Write = spec.Has(command.FlagWrite)
	}
	if len(q.Keys) == 0 {
		return ""
	}
	q.Exists = e.keyExistsLocked
	v, ok, readsDown := e.Cluster.Routing()
	kind, slot, to := v.Route(&q, ok, readsDown)
	if kind == cluster.RedirMoved && !q.ReadOnly && spec.Has(command.FlagPubSub) {
		// SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH: a replica serves its
		// master's shard channels without READONLY (Redis 7.0's
		// pubsubshard_included in getNodeByQuery)
		q.ReadOnly = true
		kind, slot, to = v.Route(&q, ok, readsDown)
	}
	if kind == cluster.RedirNone {
		cl.Slot = slot + 1
		return ""
	}
	if spec.Lock == command.LockTx {
		e.Discard(cl) // Redis discards the transaction
	}
	return cluster.Reply(kind, slot, to)
}

// keyExistsLocked reports whether key exists in db 0, under its shard's
// lock (the command's own locks are not taken yet). A key whose time
// passed is missing, and left in place (Redis's LOOKUP_NOEXPIRE).
func (e *Executor) keyExistsLocked(key []byte) bool {
	sh := []int{e.Store.ShardOf(key)}
	e.Store.LockShards(sh)
	defer e.Store.UnlockShards(sh)
	return e.Store.DB(0, e.Now()).Present(key) // not deleted if expired, as Redis
}

// scriptClusterCheck is scriptVerifyClusterState: a command a script
// runs must be on a key of a slot this node serves, and, unless the
// script may cross slots (ScriptCall.CrossSlot), of the slot of the
// caller's command (Client.Slot: its declared keys, the transaction's,
// else the script's first key). The script holds the key's shard
// already (or the whole keyspace).
func (e *Executor) scriptClusterCheck(s *ScriptCall, spec *command.Spec, args [][]byte) string {
	if s.Caller != nil && s.Caller.Flags&(command.ClientLoading|command.ClientMaster) != 0 {
		return ""
	}
	var kb [8]int
	keys := spec.KeysInto(args, kb[:0])
	if len(keys) == 0 {
		return ""
	}
	q := cluster.Query{Write: spec.Has(command.FlagWrite), Migrate: spec.Name == "migrate"}
	if s.Caller != nil {
		q.Asking = s.Caller.Flags&command.ClientAsking != 0 || spec.Has(command.FlagAsking)
		q.ReadOnly = s.Caller.Flags&command.ClientReadOnly != 0
	}
	for _, k := range keys {
		if k < len(args) {
			q.Keys = append(q.Keys, args[k])
		}
	}
	db := e.Store.DB(0, s.Now)
	q.Exists = db.Present
	v, ok, readsDown := e.Cluster.Routing()
	kind, slot, _ := v.Route(&q, ok, readsDown)
	switch kind {
	case cluster.RedirNone:
		if s.CrossSlot || s.Caller == nil || slot < 0 {
			return ""
		}
		if s.Caller.Slot == 0 {
			s.Caller.Slot = slot + 1
		} else if s.Caller.Slot != slot+1 {
			return cluster.ErrScriptCrossSlot
		}
		return ""
	case cluster.RedirDownROState:
		return cluster.ErrScriptDownRO
	case cluster.RedirDownState:
		return cluster.ErrScriptDown
	}
	return cluster.ErrScriptNonLocal
}

// RedirectBlocked is Redis's clusterRedirectBlockedClientIfNeeded, run
// by the server's cron in cluster mode while clients are blocked: a
// client blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK...) is unblocked
// with "CLUSTERDOWN The cluster is down" while the cluster is down (even
// with cluster-allow-reads-when-down: only a write could serve it), and
// with MOVED (or "CLUSTERDOWN Hash slot not served") once the slot of its
// keys is served by another node and not imported here; a READONLY
// client's read on a replica keeps waiting on its master's slots.
func (e *Executor) RedirectBlocked() {
	v, ok, _ := e.Cluster.Routing()
	b := &e.blocks
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.byClient {
		if len(w.keys) == 0 {
			continue // WAIT: no keys
		}
		msg := cluster.ErrDown
		if ok {
			slot := cluster.KeySlot([]byte(w.keys[0])) // one slot: checked when it blocked
			n := v.Owner(slot)
			if spec := w.cl.LastCmd.Load(); w.cl.Flags&command.ClientReadOnly != 0 && spec != nil &&
				!spec.Has(command.FlagWrite) && n != nil && n == v.MasterOf(v.Myself) {
				n = v.Myself
			}
			switch {
			case n == v.Myself || v.Importing(slot) != nil:
				continue
			case n == nil:
				msg = cluster.ErrDownUnbound
			default:
				msg = cluster.Reply(cluster.RedirMoved, slot, n)
			}
		}
		b.unblockLocked(w, unblockReq{msg: msg})
	}
}

// ClusterRouter gives what routing a command needs in cluster mode
// (cluster.Local): the current view, whether the cluster state is ok, and
// cluster-allow-reads-when-down. The executor calls View.Route itself, so
// that the query stays on its stack.
type ClusterRouter interface {
	Routing() (v *cluster.View, ok, readsWhenDown bool)
}

// DropSlotKeys deletes the keys of database 0 (cluster mode's only one)
// in each of slots for which gone, asked under the keyspace lock, still
// holds: a master's keys of slots another node took from it, as Redis's
// delKeysInSlot (cluster.md, "Slots lost"). Each key is deleted as
// dbDelete does (whatever its expiry; lazily under
// lazyfree-lazy-server-del), signalled to WATCH and client tracking, and
// propagated to the AOF and the replicas as DEL (UNLINK when lazy), one
// by one as Redis 7.2's propagateDeletion; redis-server 7.0.15 propagates
// nothing, so its replicas keep the keys. It returns the number deleted.
func (e *Executor) DropSlotKeys(slots []int, gone func(slot int) bool) int {
	e.Store.LockAll()
	defer e.Store.UnlockAll()
	db := e.Store.DB(0, e.Now())
	del := []byte("DEL")
	if e.Store.LazyOn(keyspace.LazyServerDel) {
		del = []byte("UNLINK")
	}
	n := 0
	for _, s := range slots {
		if !gone(s) {
			continue // served here again
		}
		for _, k := range db.KeysInSlot(s, math.MaxInt32, cluster.KeySlot) {
			key := []byte(k)
			if !db.DeleteStored(key) {
				continue
			}
			n++
			if e.Touched != nil {
				e.Touched(0, key)
			}
			e.touchedNoClient(nil, false, 0, key)
			if e.Propagate != nil {
				e.Propagate(0, [][][]byte{{del, key}})
			}
		}
	}
	return n
}
