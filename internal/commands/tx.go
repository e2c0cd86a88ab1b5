package commands

import "github.com/crescent-db/crescent/internal/command"

// registerTx attaches MULTI, EXEC, DISCARD, WATCH and UNWATCH. The
// transaction machinery (queueing, WATCH registry, atomic EXEC) lives in
// the executor (exec/multi.go); these handlers are its entry points.
func (h *Handlers) registerTx() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("multi", h.Exec.Multi, none)
	t.Handle("discard", h.Exec.DiscardCommand, none)
	// EXEC holds the shards of its queue's keys (or the whole keyspace)
	// while the queue runs: it is atomic (exec.Executor.TxLocks).
	t.Handle("exec", h.Exec.Exec, command.WithLock(command.LockTx))
	// WATCH locks its keys' shards so their expiry state is read safely.
	t.Handle("watch", h.Exec.Watch)
	t.Handle("unwatch", h.unwatch, none)
	h.chainReset(func(cl *command.Client) { h.Exec.Discard(cl) })
}

func (h *Handlers) unwatch(c *command.Ctx) {
	h.Exec.Unwatch(c.Client)
	c.W.OK()
}

// chainReset adds fn to what RESET runs (OnReset).
func (h *Handlers) chainReset(fn func(cl *command.Client)) {
	prev := h.OnReset
	h.OnReset = func(cl *command.Client) {
		if prev != nil {
			prev(cl)
		}
		fn(cl)
	}
}
