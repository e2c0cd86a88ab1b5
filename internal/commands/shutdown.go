package commands

// SHUTDOWN as Redis 7.0 (server.c: shutdownCommand, prepareForShutdown,
// finishShutdown, abortShutdown): unless NOW is given or shutdown-timeout
// is 0, a master whose replicas have not acknowledged its whole
// replication stream pauses writes, asks them for an acknowledgement
// (REPLCONF GETACK) and waits up to shutdown-timeout seconds for them
// before it saves and exits, so that a failover after a planned shutdown
// loses no acknowledged write. The SHUTDOWN client stays blocked
// meanwhile; SHUTDOWN ABORT cancels the wait (the waiting clients get an
// error and writes resume). SIGTERM and SIGINT take the same path with
// the flags of shutdown-on-sigterm / shutdown-on-sigint.

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crescent-db/crescent/internal/command"
)

// shutdownFlags are SHUTDOWN's options (Redis's SHUTDOWN_* flags).
type shutdownFlags uint8

const (
	shutSave shutdownFlags = 1 << iota
	shutNoSave
	shutNow
	shutForce
)

// errShutdownFailed is what the clients waiting on a shutdown that was
// aborted or failed get (Redis's replyToClientsBlockedOnShutdown).
const errShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs."

// errNoShutdown answers SHUTDOWN ABORT when no shutdown is in progress.
const errNoShutdown = "ERR No shutdown in progress."

// parseShutdownFlags parses SHUTDOWN's arguments as shutdownCommand does:
// ok is false for an unknown word or an illegal combination (ABORT with
// anything else, SAVE with NOSAVE).
func parseShutdownFlags(args [][]byte) (f shutdownFlags, abort, ok bool) {
	for _, a := range args {
		switch {
		case EqualFold(a, "nosave"):
			f |= shutNoSave
		case EqualFold(a, "save"):
			f |= shutSave
		case EqualFold(a, "now"):
			f |= shutNow
		case EqualFold(a, "force"):
			f |= shutForce
		case EqualFold(a, "abort"):
			abort = true
		default:
			return 0, false, false
		}
	}
	if abort && f != 0 || f&shutSave != 0 && f&shutNoSave != 0 {
		return 0, false, false
	}
	return f, abort, true
}

// words returns f as SHUTDOWN arguments (for BeforeShutdown).
func (f shutdownFlags) words() [][]byte {
	var out [][]byte
	for _, x := range []struct {
		bit  shutdownFlags
		word string
	}{{shutNoSave, "nosave"}, {shutSave, "save"}, {shutNow, "now"}, {shutForce, "force"}} {
		if f&x.bit != 0 {
			out = append(out, []byte(x.word))
		}
	}
	return out
}

// sigShutdownFlags reads a shutdown-on-sigterm / shutdown-on-sigint value
// ("default", or any of save, nosave, now, force; CONFIG SET checked it).
func sigShutdownFlags(v string) shutdownFlags {
	var words [][]byte
	for _, w := range strings.Fields(v) {
		if !strings.EqualFold(w, "default") {
			words = append(words, []byte(w))
		}
	}
	f, _, _ := parseShutdownFlags(words)
	return f
}

// shutdownState is the shutdown in progress, if any (Handlers.shut).
type shutdownState struct {
	mu      sync.Mutex
	pending *pendingShutdown // waiting for replicas
	// exiting: a shutdown finished and the server is stopping; a blocked
	// SHUTDOWN run again then gets no reply (its connection closes).
	exiting bool
}

// pendingShutdown is a shutdown waiting for lagging replicas.
type pendingShutdown struct {
	flags    shutdownFlags
	deadline time.Time
	abort    chan struct{} // closed by SHUTDOWN ABORT
	done     chan struct{} // closed when it ends, however it ends
}

// errShutdownWaiting reports that a shutdown waits for replicas.
var errShutdownWaiting = errors.New("waiting for replicas")

// shutdown implements SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT].
func (h *Handlers) shutdown(c *command.Ctx) {
	flags, abort, ok := parseShutdownFlags(c.Args[1:])
	if !ok {
		c.Error(ErrSyntax)
		return
	}
	if abort {
		if !h.abortShutdown() {
			c.Error(errNoShutdown)
			return
		}
		c.W.OK()
		return
	}
	if c.Retry { // woken: the shutdown it waited on ended
		h.shut.mu.Lock()
		p, exiting := h.shut.pending, h.shut.exiting
		h.shut.mu.Unlock()
		switch {
		case exiting:
			c.Client.Flags |= command.ClientCloseAfterReply
		case p != nil: // another one began meanwhile: wait for it
			h.blockOnShutdown(c, p)
		default:
			c.Error(errShutdownFailed)
		}
		return
	}
	if c.InScript || !canBlock(c) && flags&shutNow == 0 {
		c.Error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
		return
	}
	if flags&shutNoSave == 0 {
		if msg := h.scriptShutdownCheck(); msg != "" { // scripting.go
			c.Error(msg)
			return
		}
	}
	p, err := h.startShutdown(flags)
	switch {
	case errors.Is(err, errShutdownWaiting):
		h.blockOnShutdown(c, p)
	case err != nil:
		c.Error(errShutdownFailed)
	default:
		c.Client.Flags |= command.ClientCloseAfterReply
	}
}

// blockOnShutdown parks c until the pending shutdown p ends.
func (h *Handlers) blockOnShutdown(c *command.Ctx, p *pendingShutdown) {
	block(c, command.BlockNone, nil, time.Time{}, nil)
	c.Block.Wake = p.done
}

// SignalShutdown is SIGTERM's or SIGINT's shutdown (sig names it): with
// the flags of shutdown-on-sigterm or shutdown-on-sigint, it waits for
// lagging replicas as SHUTDOWN does, then stops the server. When the
// final save fails (without FORCE) the server goes on running, as Redis
// does, and SignalShutdown reports false. Another signal while a shutdown
// waits for replicas changes nothing; the caller exits at once on a
// second SIGINT (Redis's "You insist... exiting now.").
func (h *Handlers) SignalShutdown(sig string) bool {
	h.Log.Warn("Received " + sig + " scheduling shutdown...")
	name := "shutdown-on-sigterm"
	if sig == "SIGINT" {
		name = "shutdown-on-sigint"
	}
	_, err := h.startShutdown(sigShutdownFlags(h.Config.Get(name)))
	return err == nil || errors.Is(err, errShutdownWaiting)
}

// ShutdownPending reports whether a shutdown waits for replicas.
func (h *Handlers) ShutdownPending() bool {
	h.shut.mu.Lock()
	defer h.shut.mu.Unlock()
	return h.shut.pending != nil
}

// startShutdown is prepareForShutdown: it stops the server now, or, with
// lagging replicas, starts waiting for them (errShutdownWaiting, with the
// pending shutdown; so does a shutdown already waiting, whose flags
// stay). Another error: the final save failed and the server goes on.
func (h *Handlers) startShutdown(flags shutdownFlags) (*pendingShutdown, error) {
	h.shut.mu.Lock()
	if p := h.shut.pending; p != nil {
		h.shut.mu.Unlock()
		return p, errShutdownWaiting
	}
	if h.shut.exiting {
		h.shut.mu.Unlock()
		return nil, nil
	}
	h.Log.Warn("User requested shutdown...")
	timeout := h.Config.Int("shutdown-timeout")
	if flags&shutNow == 0 && timeout != 0 && !h.replicasCaughtUp() {
		p := &pendingShutdown{flags: flags, deadline: time.Now().Add(time.Duration(timeout) * time.Second),
			abort: make(chan struct{}), done: make(chan struct{})}
		h.shut.pending = p
		h.shut.mu.Unlock()
		if h.ops.pause.Load() == nil {
			h.Repl.RequestAcks() // sendGetackToReplicas
		}
		h.pauseFor(pauseByShutdown, farFuture(), false) // writes wait
		h.Log.Info("Waiting for replicas before shutting down.")
		go h.awaitReplicas(p)
		return p, errShutdownWaiting
	}
	err := h.finishShutdown(flags)
	h.shut.mu.Unlock()
	return nil, err
}

// replicasCaughtUp is isReadyToShutdown: every replica, in whatever
// state, acknowledged the whole replication stream.
func (h *Handlers) replicasCaughtUp() bool {
	if h.Repl == nil {
		return true
	}
	reps := h.Repl.Replicas()
	off := h.Repl.ReplOffset()
	for _, r := range reps {
		if r.Offset != off {
			return false
		}
	}
	return true
}

// awaitReplicas waits until p's replicas caught up, its deadline passes
// or it is aborted, then finishes the shutdown or gives it up.
func (h *Handlers) awaitReplicas(p *pendingShutdown) {
	timer := time.NewTimer(time.Until(p.deadline))
	defer timer.Stop()
	for {
		_, wake := h.Repl.AckedReplicas(0) // the next acknowledgement
		if h.replicasCaughtUp() {
			break
		}
		select {
		case <-wake:
			continue
		case <-timer.C:
		case <-p.abort:
			return // abortShutdown ended it
		}
		break
	}
	h.shut.mu.Lock()
	defer h.shut.mu.Unlock()
	if h.shut.pending != p {
		return // aborted meanwhile
	}
	if err := h.finishShutdown(p.flags); err != nil {
		h.cancelShutdownLocked(p)
		return
	}
	h.shut.pending = nil
	close(p.done) // its clients see exiting and close
}

// finishShutdown is Redis's finishShutdown: it logs the lagging replicas,
// saves as flags and the save points say (BeforeShutdown) and stops the
// server; on a failed save it logs and reports an error, and the server
// goes on. Called with h.shut.mu held.
func (h *Handlers) finishShutdown(flags shutdownFlags) error {
	if h.Repl != nil {
		off := h.Repl.ReplOffset()
		for _, r := range h.Repl.Replicas() {
			if r.Offset != off {
				h.Log.Warn("Lagging replica " + r.IP + ":" + strconv.Itoa(r.Port) + " reported offset " +
					strconv.FormatInt(off-r.Offset, 10) + " behind master, lag=" + strconv.FormatInt(r.Lag, 10) +
					", state=" + r.State + ".")
			}
		}
	}
	if h.BeforeShutdown != nil {
		if err := h.BeforeShutdown(flags.words()); err != nil {
			h.Log.Warn("Errors trying to shut down the server. Check the logs for more information.")
			return err
		}
	}
	h.shut.exiting = true
	h.Server.RequestShutdown()
	return nil
}

// abortShutdown is SHUTDOWN ABORT: it cancels a shutdown waiting for
// replicas and reports whether there was one.
func (h *Handlers) abortShutdown() bool {
	h.shut.mu.Lock()
	defer h.shut.mu.Unlock()
	p := h.shut.pending
	if p == nil {
		return false
	}
	close(p.abort)
	h.cancelShutdownLocked(p)
	h.Log.Warn("Shutdown manually aborted.")
	return true
}

// cancelShutdownLocked ends the pending shutdown p without stopping: its
// blocked clients get errShutdownFailed and writes resume. Called with
// h.shut.mu held.
func (h *Handlers) cancelShutdownLocked(p *pendingShutdown) {
	h.shut.pending = nil
	h.unpauseFor(pauseByShutdown)
	close(p.done)
}
