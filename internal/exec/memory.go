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
// still over (noeviction, or nothing left to evict) a denyoom command gets
// the OOM error. It returns "" to go on. cl is the client whose command
// is about to run (Redis's current_client while it evicts).
func (e *Executor) CheckMemory(cl *command.Client, spec *command.Spec) string {
	if e.Memory == nil {
		return ""
	}
	max, policy, samples := e.Memory()
	if max <= 0 || e.UsedMemory() <= max || e.Guard.Load()&GuardIgnoreMaxmemory != 0 {
		// a replica with replica-ignore-maxmemory yes neither evicts nor
		// refuses: it stays an exact copy of its master (Redis's
		// isSafeToPerformEvictions)
		return ""
	}
	if !e.Evict(cl, max, policy, samples) && spec.Has(command.FlagDenyOOM) {
		return ErrOOM
	}
	return ""
}

// Evict removes keys by policy until used memory is at most max. It
// reports whether it got there. Evicted keys are counted, notified
// ("evicted"), signalled to WATCH and to client tracking (cur: the client
// whose command is about to run, nil: none) and propagated as DEL.
func (e *Executor) Evict(cur *command.Client, max int64, policy string, samples int) bool {
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
			e.Propagate(db, [][][]byte{{[]byte("DEL"), k}})
		}
	}
	for i := 0; e.UsedMemory() > max; i++ {
		if i >= maxEvictPerCall || !e.Store.EvictOne(p, samples, now, onEvict) {
			return false
		}
	}
	return true
}
