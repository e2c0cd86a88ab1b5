package cluster

import (
	"encoding/json"
	"reflect"
	"testing"
)

const (
	idA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idC = "cccccccccccccccccccccccccccccccccccccccc"
)

// TestStateApply runs operations in order, checking each reply.
func TestStateApply(t *testing.T) {
	s := NewState()
	for i, tc := range []struct {
		op    Op
		reply string
	}{
		{Op{Kind: OpAddSlots, Node: idA, Slots: []int{1}}, "ERR Unknown node " + idA},
		{Op{Kind: OpAddNode, Info: &NodeInfo{ID: idA, Port: 1}}, ""},
		{Op{Kind: OpAddNode, Info: &NodeInfo{ID: idB, Port: 2}, Slots: []int{7}}, ""},
		{Op{Kind: OpAddSlots, Node: idA, Slots: []int{1, 2, 3}}, ""},
		{Op{Kind: OpAddSlots, Node: idB, Slots: []int{4, 3}}, "ERR Slot 3 is already busy"},
		{Op{Kind: OpDelSlots, Slots: []int{4}}, "ERR Slot 4 is already unassigned"},
		{Op{Kind: OpMigrating, Node: idB, Slot: 1, Target: idA}, "ERR I'm not the owner of hash slot 1"},
		{Op{Kind: OpMigrating, Node: idA, Slot: 1, Target: idC}, "ERR I don't know about node " + idC},
		{Op{Kind: OpImporting, Node: idA, Slot: 1, Target: idB}, "ERR I'm already the owner of hash slot 1"},
		{Op{Kind: OpMigrating, Node: idA, Slot: 1, Target: idB}, ""},
		{Op{Kind: OpImporting, Node: idB, Slot: 1, Target: idA}, ""},
		{Op{Kind: OpSetNode, Slot: 1, Target: idC}, "ERR Unknown node " + idC},
		{Op{Kind: OpSetNode, Slot: 1, Target: idB}, ""}, // bumps B's epoch
		{Op{Kind: OpEpoch, Node: idA, Epoch: 5}, "ERR The user can assign a config epoch only when the node does not know any other node."},
		{Op{Kind: OpBumpEpoch, Node: idA}, ""},
		{Op{Kind: OpForget, Target: idC}, "ERR Unknown node " + idC},
		{Op{Kind: OpFail, Target: idC, Fail: true}, "ERR Unknown node " + idC},
		{Op{Kind: OpFail, Target: idA, Fail: true}, ""},
		{Op{Kind: OpFail, Target: idA}, ""},
		{Op{Kind: "nonsense"}, "ERR unknown cluster operation nonsense"},
	} {
		if got := s.Apply(&tc.op); got != tc.reply {
			t.Fatalf("step %d %+v: %q, want %q", i, tc.op, got, tc.reply)
		}
	}
	if s.Owner[1] != idB || s.Owner[2] != idA || s.Owner[7] != idB || s.Owner[4] != "" {
		t.Fatalf("owners: 1=%s 2=%s 7=%s 4=%s", s.Owner[1], s.Owner[2], s.Owner[7], s.Owner[4])
	}
	if len(s.Migrating[idA]) != 0 || len(s.Importing[idB]) != 0 {
		t.Fatalf("migration state left: %v %v", s.Migrating, s.Importing)
	}
	if s.Nodes[idB].Epoch != 1 || s.Nodes[idA].Epoch != 2 || s.CurrentEpoch != 2 {
		t.Fatalf("epochs: a=%d b=%d current=%d", s.Nodes[idA].Epoch, s.Nodes[idB].Epoch, s.CurrentEpoch)
	}
	s.Apply(&Op{Kind: OpFail, Target: idB, Fail: true})
	if v := NewView(s, idA); v.FailingSlots() != 2 || !v.Node(idB).Fail || v.Node(idA).Fail {
		t.Fatalf("failing slots %d", v.FailingSlots())
	}
	if v := NewView(s, idB); v.FailingSlots() != 0 { // a node never counts itself
		t.Fatalf("failing slots seen by the failed node: %d", v.FailingSlots())
	}
	s.Apply(&Op{Kind: OpFail, Target: idB})
	// a snapshot restores the same state
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	r := NewState()
	if err := json.Unmarshal(b, r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Owner, s.Owner) || !reflect.DeepEqual(r.Nodes, s.Nodes) || r.CurrentEpoch != s.CurrentEpoch {
		t.Fatalf("snapshot round trip differs")
	}
	// forgetting a node unassigns its slots
	if got := s.Apply(&Op{Kind: OpForget, Target: idB}); got != "" || s.Owner[1] != "" || s.Nodes[idB] != nil {
		t.Fatalf("forget: %q owner %q", got, s.Owner[1])
	}
}

// TestRoute is getNodeByQuery's decisions on a fixed view.
func TestRoute(t *testing.T) {
	s := NewState()
	s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: idA, IP: "10.0.0.1", Port: 7000}})
	s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: idB, IP: "10.0.0.2", Port: 7001}})
	all := make([]int, 0, Slots)
	for i := 0; i < Slots/2; i++ {
		all = append(all, i)
	}
	s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: all})
	s.Apply(&Op{Kind: OpAddSlots, Node: idB, Slots: []int{12182}})                      // foo
	s.Apply(&Op{Kind: OpMigrating, Node: idA, Slot: KeySlot([]byte("b")), Target: idB}) // 3300
	v := NewView(s, idA)
	present := map[string]bool{"b": true}
	exists := func(k []byte) bool { return present[string(k)] }
	for _, tc := range []struct {
		keys   []string
		write  bool
		asking bool
		ok     bool
		want   string
	}{
		{nil, false, false, true, ""},
		{[]string{"a"}, false, false, true, "CLUSTERDOWN Hash slot not served"},
		{[]string{"foo"}, false, false, true, "MOVED 12182 10.0.0.2:7001"},
		{[]string{"b"}, false, false, true, ""},
		{[]string{"{b}x"}, false, false, true, "ASK 3300 10.0.0.2:7001"},
		{[]string{"b", "{b}x"}, false, false, true, "ASK 3300 10.0.0.2:7001"},
		{[]string{"b", "foo"}, false, false, true, ErrCrossSlot},
		{[]string{"b", "b"}, false, false, true, ""},
		{[]string{"b"}, false, false, false, ErrDown},
	} {
		q := &Query{Write: tc.write, Asking: tc.asking, Exists: exists}
		for _, k := range tc.keys {
			q.Keys = append(q.Keys, []byte(k))
		}
		kind, slot, to := v.Route(q, tc.ok, false)
		if got := Reply(kind, slot, to); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.keys, got, tc.want)
		}
	}
	// on B: the importing side
	s.Apply(&Op{Kind: OpImporting, Node: idB, Slot: 3300, Target: idA})
	vb := NewView(s, idB)
	for _, tc := range []struct {
		keys   []string
		asking bool
		want   string
	}{
		{[]string{"{b}x"}, false, "MOVED 3300 10.0.0.1:7000"},
		{[]string{"{b}x"}, true, ""},
		{[]string{"{b}x", "{b}y"}, true, ErrTryAgain},
	} {
		q := &Query{Asking: tc.asking, Exists: func([]byte) bool { return false }}
		for _, k := range tc.keys {
			q.Keys = append(q.Keys, []byte(k))
		}
		kind, slot, to := vb.Route(q, true, false)
		if got := Reply(kind, slot, to); got != tc.want {
			t.Errorf("on B %v asking=%v: %q, want %q", tc.keys, tc.asking, got, tc.want)
		}
	}
	// reads when down
	q := &Query{Keys: [][]byte{[]byte("b")}, Write: true}
	if k, _, _ := v.Route(q, false, true); k != RedirDownROState {
		t.Errorf("write when down with reads allowed: %d", k)
	}
	q.Write = false
	if k, _, _ := v.Route(q, false, true); k != RedirNone {
		t.Errorf("read when down with reads allowed: %d", k)
	}
}
