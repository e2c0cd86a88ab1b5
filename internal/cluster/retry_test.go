package cluster

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
)

// TestRetryable: which failed proposals leaderCall proposes again. A lost
// leadership may or may not have committed the entry, so only changes
// that give the same state and reply twice are retried (redis-cli
// --cluster rebalance stopped at "ERR leadership lost while committing
// log" from a SETSLOT on a loaded machine).
func TestRetryable(t *testing.T) {
	lost := fmt.Errorf("apply: %w", raft.ErrLeadershipLost)
	for _, tc := range []struct {
		req  rpcReq
		err  error
		want bool
	}{
		{rpcReq{T: "apply", Op: &Op{Kind: OpAddSlots}}, raft.ErrNotLeader, true},
		{rpcReq{T: "join"}, raft.ErrNotLeader, true},
		{rpcReq{T: "apply", Op: &Op{Kind: OpMigrating}}, lost, true},
		{rpcReq{T: "apply", Op: &Op{Kind: OpImporting}}, lost, true},
		{rpcReq{T: "apply", Op: &Op{Kind: OpStable}}, lost, true},
		{rpcReq{T: "apply", Op: &Op{Kind: OpSetNode}}, lost, true},
		{rpcReq{T: "apply", Op: &Op{Kind: OpAddNode}}, lost, true},
		// applied twice, the second would answer "busy", "unassigned"...
		{rpcReq{T: "apply", Op: &Op{Kind: OpAddSlots}}, lost, false},
		{rpcReq{T: "apply", Op: &Op{Kind: OpDelSlots}}, lost, false},
		{rpcReq{T: "apply", Op: &Op{Kind: OpBumpEpoch}}, lost, false},
		{rpcReq{T: "apply", Op: &Op{Kind: OpFailover}}, lost, false},
		{rpcReq{T: "join"}, lost, false},
		{rpcReq{T: "apply", Op: &Op{Kind: OpSetNode}}, errors.New("ERR other"), false},
	} {
		if got := retryable(&tc.req, tc.err); got != tc.want {
			t.Errorf("%s %+v after %v: %v, want %v", tc.req.T, tc.req.Op, tc.err, got, tc.want)
		}
	}
}
