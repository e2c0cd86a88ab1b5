package cluster

import (
	"encoding/json"
	"strings"
	"testing"
)

const idD = "dddddddddddddddddddddddddddddddddddddddd"

// TestStateReplicas runs REPLICATE and failover entries in order, with
// every refusal, then checks the configuration and what the views show.
func TestStateReplicas(t *testing.T) {
	s := NewState()
	for _, id := range []string{idA, idB, idC, idD} {
		s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
	}
	s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: []int{0, 1, 2}})
	for i, tc := range []struct {
		op    Op
		reply string
	}{
		{Op{Kind: OpReplicate, Node: idB, Target: "x"}, "ERR Unknown node x"},
		{Op{Kind: OpReplicate, Node: "y", Target: idA}, "ERR Unknown node y"},
		{Op{Kind: OpReplicate, Node: idB, Target: idB}, "ERR Can't replicate myself"},
		{Op{Kind: OpReplicate, Node: idA, Target: idB}, "ERR To set a master the node must be empty and without assigned slots."},
		{Op{Kind: OpReplicate, Node: idB, Target: idA}, ""},
		// a replica cannot be given a slot, nor migrate or import one
		{Op{Kind: OpSetNode, Node: idA, Slot: 0, Target: idB}, ErrNotMaster},
		{Op{Kind: OpMigrating, Node: idA, Slot: 0, Target: idB}, ErrNotMaster},
		{Op{Kind: OpImporting, Node: idD, Slot: 0, Target: idB}, ErrNotMaster},
		{Op{Kind: OpReplicate, Node: idC, Target: idB}, "ERR I can only replicate a master, not a replica."},
		{Op{Kind: OpReplicate, Node: idC, Target: idA}, ""},
		{Op{Kind: OpReplicate, Node: idC, Target: idA}, ""}, // again: no change
		// a re-announcement keeps the relation
		{Op{Kind: OpAddNode, Info: &NodeInfo{ID: idC, IP: "127.0.0.1", Port: 99}}, ""},
		{Op{Kind: OpFailover, Node: idD, Target: idA}, "ERR Failover refused: " + idD + " is not a replica of " + idA},
		// an automatic failover needs the master flagged fail
		{Op{Kind: OpFailover, Node: idB, Target: idA, Fail: true}, "ERR Failover refused: the master " + idA + " is reachable again"},
		{Op{Kind: OpFail, Target: idA, Fail: true}, ""},
		// two replicas race for A: the first entry wins, the second is refused
		{Op{Kind: OpFailover, Node: idC, Target: idA, Fail: true}, ""},
		{Op{Kind: OpFailover, Node: idB, Target: idA, Fail: true}, "ERR Failover refused: " + idB + " is not a replica of " + idA},
	} {
		if got := s.Apply(&tc.op); got != tc.reply {
			t.Fatalf("step %d %+v: %q, want %q", i, tc.op, got, tc.reply)
		}
	}
	a, b, c := s.Nodes[idA], s.Nodes[idB], s.Nodes[idC]
	if c.Master != "" || a.Master != idC || b.Master != idC || c.Port != 99 {
		t.Fatalf("after the failover: a->%q b->%q c->%q", a.Master, b.Master, c.Master)
	}
	if s.Owner[0] != idC || s.Owner[2] != idC || c.Epoch != s.CurrentEpoch || c.Epoch == 0 {
		t.Fatalf("slots %q epoch %d/%d", s.Owner[0], c.Epoch, s.CurrentEpoch)
	}
	// snapshots keep the relation
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s2 := NewState()
	if err := json.Unmarshal(data, s2); err != nil || s2.Nodes[idA].Master != idC {
		t.Fatalf("snapshot: %v %+v", err, s2.Nodes[idA])
	}
	v := NewView(s, idB)
	if reps := v.Replicas(idC); len(reps) != 2 || reps[0].ID != idA || reps[1].ID != idB {
		t.Fatalf("replicas of C: %v", reps)
	}
	lines := strings.Join(v.NodesLines(7), "\n")
	for _, want := range []string{
		idA + " 127.0.0.1:97@0 slave,fail " + idC + " 0 7 1 disconnected",
		idB + " 127.0.0.1:98@0 myself,slave " + idC + " 0 0 1 connected",
		idC + " 127.0.0.1:99@0 master - 0 7 1 connected 0-2",
		idD + " 127.0.0.1:100@0 master - 0 7 0 connected",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("CLUSTER NODES lacks %q:\n%s", want, lines)
		}
	}
	// forgetting a master makes its replicas masters
	s.Apply(&Op{Kind: OpForget, Target: idC})
	if s.Nodes[idA].Master != "" || s.Nodes[idB].Master != "" {
		t.Fatalf("replicas of a forgotten master: %q %q", s.Nodes[idA].Master, s.Nodes[idB].Master)
	}
}

// TestRouteReadOnly: a replica redirects its master's slots, except for
// a READONLY client's reads.
func TestRouteReadOnly(t *testing.T) {
	s := NewState()
	for _, id := range []string{idA, idB, idC} {
		s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
	}
	s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: []int{KeySlot([]byte("a"))}})
	s.Apply(&Op{Kind: OpAddSlots, Node: idC, Slots: []int{KeySlot([]byte("b"))}})
	s.Apply(&Op{Kind: OpReplicate, Node: idB, Target: idA})
	v := NewView(s, idB)
	for _, tc := range []struct {
		key             string
		write, readOnly bool
		want            int
	}{
		{"a", false, false, RedirMoved},
		{"a", false, true, RedirNone},
		{"a", true, true, RedirMoved},
		{"b", false, true, RedirMoved}, // another master's slot
	} {
		q := &Query{Keys: [][]byte{[]byte(tc.key)}, Write: tc.write, ReadOnly: tc.readOnly}
		if kind, _, _ := v.Route(q, true, false); kind != tc.want {
			t.Errorf("%+v: %d, want %d", tc, kind, tc.want)
		}
	}
}
