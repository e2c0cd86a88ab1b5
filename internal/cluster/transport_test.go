package cluster

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestGuardedTransportQuiesce: quiesce waits for a heartbeat in progress,
// and a heartbeat that comes later is answered with an error without
// reaching raft (whose stores are about to close).
func TestGuardedTransportQuiesce(t *testing.T) {
	g := &guardedTransport{}
	entered, release := make(chan struct{}), make(chan struct{})
	calls := 0
	h := g.guard(func(rpc raft.RPC) {
		calls++
		close(entered)
		<-release
		rpc.Respond(nil, nil)
	})
	first := raft.RPC{RespChan: make(chan raft.RPCResponse, 1)}
	go h(first)
	<-entered
	done := make(chan struct{})
	go func() { g.quiesce(); close(done) }()
	select {
	case <-done:
		t.Fatal("quiesce returned while a heartbeat was being handled")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("quiesce did not return after the heartbeat ended")
	}
	lateResp := make(chan raft.RPCResponse, 1)
	h(raft.RPC{RespChan: lateResp})
	if calls != 1 {
		t.Fatalf("handler ran %d times, want 1 (the late heartbeat must not reach raft)", calls)
	}
	if r := <-lateResp; r.Error != raft.ErrRaftShutdown {
		t.Fatalf("late heartbeat answered %v, want ErrRaftShutdown", r.Error)
	}
}
