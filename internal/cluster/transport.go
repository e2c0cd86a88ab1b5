package cluster

import (
	"sync"

	"github.com/hashicorp/raft"
)

// guardedTransport is raft's TCP transport with a guard on its heartbeat
// fast path. raft runs a heartbeat in the transport's connection
// goroutine, not in its own, so Raft.Shutdown does not wait for one in
// progress; closing the log store right after could make that heartbeat
// save its term into a closed store, which raft treats as fatal (a panic:
// "failed to save current term: database not open"). quiesce waits for
// the heartbeats in progress and turns later ones away.
type guardedTransport struct {
	*raft.NetworkTransport
	mu     sync.RWMutex
	closed bool
}

// SetHeartbeatHandler installs cb, guarded, as the heartbeat fast path.
func (g *guardedTransport) SetHeartbeatHandler(cb func(raft.RPC)) {
	if cb == nil {
		g.NetworkTransport.SetHeartbeatHandler(nil)
		return
	}
	g.NetworkTransport.SetHeartbeatHandler(g.guard(cb))
}

// guard returns cb run under the guard: refused once quiesced.
func (g *guardedTransport) guard(cb func(raft.RPC)) func(raft.RPC) {
	return func(rpc raft.RPC) {
		g.mu.RLock()
		defer g.mu.RUnlock()
		if g.closed {
			rpc.Respond(nil, raft.ErrRaftShutdown)
			return
		}
		cb(rpc)
	}
}

// quiesce waits until no heartbeat is being handled and refuses the ones
// that come later. Call it after Raft.Shutdown, whose shutdown makes a
// heartbeat in progress return at once, and before closing the stores.
func (g *guardedTransport) quiesce() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}
