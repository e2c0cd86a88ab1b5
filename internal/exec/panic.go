package exec

import (
	"runtime/debug"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// A Go panic in a command's handler is a bug in that handler. Redis
// crashes on its assertions; Crescent answers the command with an error
// and goes on serving everybody else, with the panic and its stack in the
// log (OnPanic) and counted (HandlerPanics, INFO stats'
// crescent_handler_panics). The recovery is per command execution, around
// the handler alone (call): the executor's locks are taken and released
// by its callers, who see the handler return, so they are released once,
// as after any command. See docs/design/fidelity.md, lua21.
//
// What the command did before it panicked stays done (keys it changed,
// watchers it signalled); nothing of it is propagated to the AOF or the
// replicas, which would run the same bug. Commands applied from the
// master's stream or the AOF re-panic instead: answering the master with
// an error is invisible (its replies are discarded) and skipping a
// command of the stream or the file would leave the dataset silently
// different from the master's or the one written, with every later
// command built on that difference; a crash stops that, and a restart
// resynchronises or reloads.

// errInternal is the reply to a command whose handler panicked.
func errInternal(name string) string {
	return "ERR internal error in '" + name + "' (see the server log)"
}

// replyDiscarder is a reply writer that can drop the reply begun so far
// (a script's redis.call writer).
type replyDiscarder interface{ DiscardReply() }

// call runs c's handler with its panics recovered (recoverHandler).
func (e *Executor) call(c *command.Ctx, from *command.Client) {
	mark := -1
	if w, ok := c.W.(*resp.Writer); ok {
		mark = len(w.Buf)
	}
	defer e.recoverHandler(c, from, mark)
	c.Spec.Handler(c)
}

// recoverHandler is call's deferred recovery: the partial reply is
// dropped (to mark, a *resp.Writer's length before the handler) and the
// command answers errInternal, without effects to propagate and without
// blocking. from is the client the command came from (a script's caller
// for redis.call): the master's link and the AOF loader re-panic.
func (e *Executor) recoverHandler(c *command.Ctx, from *command.Client, mark int) {
	v := recover()
	if v == nil {
		return
	}
	if from != nil && from.Flags&(command.ClientMaster|command.ClientLoading) != 0 {
		panic(v)
	}
	e.HandlerPanics.Add(1)
	if e.OnPanic != nil {
		e.OnPanic(c.Spec.Name, v, debug.Stack())
	}
	switch w := c.W.(type) {
	case *resp.Writer:
		if mark >= 0 && mark <= len(w.Buf) {
			w.Truncate(mark)
		}
	case replyDiscarder:
		w.DiscardReply()
	}
	c.Dirty, c.ForcePropagate, c.Propagate, c.ReplicasOnly = 0, false, nil, false
	c.Block = nil
	c.Error(errInternal(c.Spec.Name))
}

// ReleaseAfterPanic releases the lock set cl's command held when a Go
// panic outside its handler ended it (the executor's statistics or
// propagation after the handler, a hook), so that the other clients do
// not wait for it forever. It reports whether there was one. The
// connection is closed after it: what the command did stays done, as
// after a handler's panic.
func (e *Executor) ReleaseAfterPanic(cl *command.Client) bool {
	l, _ := cl.Locked.(*Locks)
	cl.Locked = nil
	if l == nil {
		return false
	}
	l.Declared = nil
	e.Unlock(l)
	return true
}
