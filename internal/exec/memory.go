package exec

import (
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// ErrOOM is Redis's reply to a denyoom command over maxmemory.
const ErrOOM = "OOM command not allowed when used memory > 'maxmemory'."

// UsedMemory is the memory compared with maxmemory: the keyspace's
// accounted bytes plus BaseMemory.
func (e *Executor) UsedMemory() int64 { return e.BaseMemory + e.Store.UsedMemory() }

// maxEvictPerCall bounds the keys one command evicts, as Redis's eviction
// time limit does.
const maxEvictPerCall = 10000

// CheckMemory runs before a command, as Redis's performEvictions: when
// used memory is over maxmemory it evicts keys by maxmemory-policy; if
// still over (noeviction, or nothing left to evict) a command that
// deniesOOM gets the OOM error. It returns "" to go on. cl is the client
// whose command (spec, args) is about to run (Redis's current_client
// while it evicts).
func (e *Executor) CheckMemory(cl *command.Client, spec *command.Spec, args [][]byte) string {
	if e.Memory == nil {
		return ""
	}
	max, policy, samples := e.Memory()
	if max <= 0 || e.UsedMemory() <= max || e.Guard.Load()&GuardIgnoreMaxmemory != 0 || e.Store.Paused() {
		// a replica with replica-ignore-maxmemory yes neither evicts nor
		// refuses: it stays an exact copy of its master; neither do
		// paused clients' commands, which the pause may then hold
		// (Redis's isSafeToPerformEvictions)
		return ""
	}
	if !e.Evict(cl, max, policy, samples) && e.deniesOOM(cl, spec, args) {
		return ErrOOM
	}
	return ""
}

// EvictNow evicts keys by maxmemory-policy while used memory is over
// maxmemory, as Redis's CONFIG SET maxmemory does at once
// (updateMaxmemory's performEvictions): the evictions' notifications
// precede the command's reply. cl is the client setting it; the caller
// holds no shard lock.
func (e *Executor) EvictNow(cl *command.Client) {
	if e.Memory == nil {
		return
	}
	max, policy, samples := e.Memory()
	if max <= 0 || e.UsedMemory() <= max || e.Guard.Load()&GuardIgnoreMaxmemory != 0 {
		return
	}
	e.Evict(cl, max, policy, samples)
}

// deniesOOM tells whether a command is refused over maxmemory, as Redis
// 7.0's processCommand: a deny-oom command; in MULTI every command but
// EXEC, DISCARD, QUIT and RESET (queueing takes memory); and EXEC when
// a queued command is deny-oom, a script declaring flags without
// allow-oom or no-writes included (Redis's mstate.cmd_flags, gathered
// while queueing; here looked up from the queue, only when over the
// limit).
func (e *Executor) deniesOOM(cl *command.Client, spec *command.Spec, args [][]byte) bool {
	if cl.Flags&command.ClientMulti != 0 {
		if spec.Lock != command.LockTx {
			switch rootName(spec) {
			case "discard", "quit", "reset":
				return false
			}
			return true
		}
		for _, q := range cl.Queue {
			if qs, _ := e.Lookup(q); qs != nil && e.commandDeniesOOM(qs, q) {
				return true
			}
		}
		return false
	}
	return spec.Has(command.FlagDenyOOM)
}

// commandDeniesOOM is a command's deny-oom flag, a script's declared
// flags standing in for EVAL's and FCALL's (Redis's getCommandFlags).
func (e *Executor) commandDeniesOOM(spec *command.Spec, args [][]byte) bool {
	if spec.Lock == command.LockScript && e.ScriptFlags != nil {
		if f, ok := e.ScriptFlags(spec, args); ok {
			return f.DenyOOM
		}
	}
	return spec.Has(command.FlagDenyOOM)
}

// Evict removes keys by policy until used memory is at most max. It
// reports whether it got there. Evicted keys are counted, notified
// ("evicted"), signalled to WATCH and to client tracking (cur: the client
// whose command is about to run, nil: none) and propagated as DEL. While
// clients are paused nothing is evicted (Redis 7.0's performEvictions
// answers EVICT_FAIL).
func (e *Executor) Evict(cur *command.Client, max int64, policy string, samples int) bool {
	if e.Store.Paused() {
		return false // clients are paused: the dataset stays as it is
	}
	p := keyspace.ParsePolicy(policy)
	now := e.Now()
	onEvict := func(db int, key string) {
		e.EvictedKeys.Add(1)
		k := []byte(key)
		if e.Touched != nil {
			e.Touched(db, k)
		}
		e.touchedNoClient(cur, false, db, k) // client tracking (ops.go)
		if e.Notify != nil {
			e.Notify('e', "evicted", db, k, nil)
		}
		if e.Propagate != nil {
			// UNLINK under lazyfree-lazy-eviction (Redis's propagateExpire)
			e.Propagate(db, [][][]byte{{e.Store.PropagatedDel(keyspace.LazyEviction), k}})
		}
	}
	for i := 0; e.UsedMemory() > max; i++ {
		if i >= maxEvictPerCall || !e.Store.EvictOne(p, samples, now, onEvict) {
			return false
		}
	}
	return true
}
