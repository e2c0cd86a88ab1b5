package cluster

import (
	"reflect"
	"slices"
	"testing"
)

// TestLostSlots checks which node's shard loses which slots from one
// configuration to the next, as Redis 7.0 decides per node: the channels
// of a slot go on the nodes of the shard that served it (the owner and
// its replicas) unless the node takes the slot over itself (a promoted
// replica), and a master deletes the keys of a slot only when another
// node owns it now and the master is still a master.
func TestLostSlots(t *testing.T) {
	// A owns 0-2 with replicas B and C; D owns 3
	base := func() *State {
		s := NewState()
		for _, id := range []string{idA, idB, idC, idD} {
			s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
		}
		s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: []int{0, 1, 2}})
		s.Apply(&Op{Kind: OpAddSlots, Node: idD, Slots: []int{3}})
		for _, r := range []string{idB, idC} {
			if rep := s.Apply(&Op{Kind: OpReplicate, Node: r, Target: idA}); rep != "" {
				t.Fatal(rep)
			}
		}
		return s
	}
	for _, tc := range []struct {
		name string
		op   Op
		want map[string]LostSlots // by node; absent: nothing
	}{
		{"SETSLOT NODE elsewhere", Op{Kind: OpSetNode, Node: idD, Slot: 1, Target: idD},
			map[string]LostSlots{idA: {Channels: []int{1}, Keys: []int{1}}, idB: {Channels: []int{1}}, idC: {Channels: []int{1}}}},
		{"DELSLOTS: the keys stay", Op{Kind: OpDelSlots, Node: idA, Slots: []int{0, 2}},
			map[string]LostSlots{idA: {Channels: []int{0, 2}}, idB: {Channels: []int{0, 2}}, idC: {Channels: []int{0, 2}}}},
		{"another shard's slot", Op{Kind: OpDelSlots, Node: idD, Slots: []int{3}},
			map[string]LostSlots{idD: {Channels: []int{3}}}},
		{"a slot gained", Op{Kind: OpSetNode, Node: idA, Slot: 3, Target: idA},
			map[string]LostSlots{idD: {Channels: []int{3}, Keys: []int{3}}}},
		{"FLUSHSLOTS", Op{Kind: OpFlush, Node: idA},
			map[string]LostSlots{idA: {Channels: []int{0, 1, 2}}, idB: {Channels: []int{0, 1, 2}}, idC: {Channels: []int{0, 1, 2}}}},
		// the old master becomes a replica (it resyncs: no deletion), the
		// other replica leaves the channels, the promoted one keeps them
		{"failover", Op{Kind: OpFailover, Node: idB, Target: idA},
			map[string]LostSlots{idA: {Channels: []int{0, 1, 2}}, idC: {Channels: []int{0, 1, 2}}}},
		{"FORGET the owner", Op{Kind: OpForget, Target: idD},
			map[string]LostSlots{idD: {Channels: []int{3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			old := s.clone()
			if rep := s.Apply(&tc.op); rep != "" {
				t.Fatal(rep)
			}
			for _, id := range []string{idA, idB, idC, idD} {
				got := lostSlots(NewView(old, id), NewView(s.clone(), id))
				if want := tc.want[id]; !reflect.DeepEqual(got, want) {
					t.Errorf("node %c: %+v, want %+v", id[0], got, want)
				}
			}
		})
	}
}

// TestLastSlotTakenBy: a master another master takes its last slot from
// becomes that master's replica (Redis 7.0's clusterUpdateSlotsConfigWith),
// with cluster-allow-replica-migration or when the new owner serves only
// the slots it took from it.
func TestLastSlotTakenBy(t *testing.T) {
	// A owns 0-2, D owns 3, E (a master) owns nothing
	base := func() *State {
		s := NewState()
		for _, id := range []string{idA, idD, idE} {
			s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
		}
		s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: []int{0, 1, 2}})
		s.Apply(&Op{Kind: OpAddSlots, Node: idD, Slots: []int{3}})
		return s
	}
	for _, tc := range []struct {
		name  string
		ops   []Op
		allow bool
		id    string // the node looking
		want  string
	}{
		{"last slot to A", []Op{{Kind: OpSetNode, Slot: 3, Target: idA}}, true, idD, idA},
		{"last slot to A, no migration allowed", []Op{{Kind: OpSetNode, Slot: 3, Target: idA}}, false, idD, ""},
		{"last slot to an empty E, no migration allowed", []Op{{Kind: OpSetNode, Slot: 3, Target: idE}}, false, idD, idE},
		{"a slot left", []Op{{Kind: OpSetNode, Slot: 1, Target: idD}}, true, idA, ""},
		{"the taker", []Op{{Kind: OpSetNode, Slot: 3, Target: idA}}, true, idA, ""},
		{"DELSLOTS of the last slot", []Op{{Kind: OpDelSlots, Slots: []int{3}}}, true, idD, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			old := s.clone()
			for _, op := range tc.ops {
				if rep := s.Apply(&op); rep != "" {
					t.Fatal(rep)
				}
			}
			cur := NewView(s.clone(), tc.id)
			if got := lastSlotTakenBy(lostSlots(NewView(old, tc.id), cur), cur, tc.allow); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}

// TestSettledLost: a node that was not settled (replaying the log found at
// startup, or joining a group) compares the first view once settled with
// every slot it owned in the views before it, from the last one compared:
// a slot lost in any entry of the replay is lost (its keys deleted, its
// channels left), not only one lost by the last entry; a slot lost and
// gained again is kept; the channels of every slot its shard does not
// serve then are left, except a slot it imports; a replica deletes no keys.
func TestSettledLost(t *testing.T) {
	// A owns 0-2 with replica B; D owns 3
	base := func() *State {
		s := NewState()
		for _, id := range []string{idA, idB, idD} {
			s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
		}
		s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: []int{0, 1, 2}})
		s.Apply(&Op{Kind: OpAddSlots, Node: idD, Slots: []int{3}})
		s.Apply(&Op{Kind: OpReplicate, Node: idB, Target: idA})
		return s
	}
	// notServed: the channels left by a node of A's shard settling
	// with A owning mine (and importing imp, -1 none)
	notServed := func(mine []int, imp int) []int {
		var out []int
		for s := 0; s < Slots; s++ {
			if !slices.Contains(mine, s) && s != imp {
				out = append(out, s)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		id       string // the node settling
		ops      []Op   // applied while it is unsettled, a view each
		wantKeys []int
		wantChan []int
	}{
		{"lost before the last entry", idA, []Op{{Kind: OpSetNode, Slot: 1, Target: idD},
			{Kind: OpAddSlots, Node: idD, Slots: []int{7}}}, []int{1}, notServed([]int{0, 2}, -1)},
		{"lost and gained again", idA, []Op{{Kind: OpSetNode, Slot: 1, Target: idD},
			{Kind: OpSetNode, Slot: 1, Target: idA}}, nil, notServed([]int{0, 1, 2}, -1)},
		{"gained and lost in between", idA, []Op{{Kind: OpSetNode, Slot: 3, Target: idA},
			{Kind: OpSetNode, Slot: 3, Target: idD}}, []int{3}, notServed([]int{0, 1, 2}, -1)},
		{"deleted: the keys stay", idA, []Op{{Kind: OpDelSlots, Node: idA, Slots: []int{1}},
			{Kind: OpAddSlots, Node: idD, Slots: []int{7}}}, nil, notServed([]int{0, 2}, -1)},
		{"imported: its channels stay", idA, []Op{{Kind: OpImporting, Node: idA, Slot: 3, Target: idD},
			{Kind: OpAddSlots, Node: idD, Slots: []int{7}}},
			nil, notServed([]int{0, 1, 2}, 3)},
		{"a replica deletes nothing", idB, []Op{{Kind: OpSetNode, Slot: 1, Target: idD},
			{Kind: OpAddSlots, Node: idD, Slots: []int{7}}}, nil, notServed([]int{0, 2}, -1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []LostSlots
			n := &Local{}
			n.SetOnLost(func(l LostSlots) { got = append(got, l) })
			s := base()
			n.checkLost(NewView(s.clone(), tc.id)) // the last view compared
			n.unsettled.Store(true)
			for i, op := range tc.ops {
				if rep := s.Apply(&op); rep != "" {
					t.Fatal(rep)
				}
				if i == len(tc.ops)-1 {
					n.unsettled.Store(false) // settled by the last entry
				}
				n.checkLost(NewView(s.clone(), tc.id))
			}
			if len(got) != 1 {
				t.Fatalf("%d reports, want 1: %+v", len(got), got)
			}
			if !slices.Equal(got[0].Keys, tc.wantKeys) || !slices.Equal(got[0].Channels, tc.wantChan) {
				t.Errorf("keys %v, want %v; %d channel slots, want %d (first %v)", got[0].Keys, tc.wantKeys,
					len(got[0].Channels), len(tc.wantChan), got[0].Channels[:min(5, len(got[0].Channels))])
			}
		})
	}
}

// TestLastSlotLostKeepsKeys: a master that loses its last slot to another
// master and becomes its replica keeps its keys for the resync to replace
// (Redis deletes nothing then: no DEL reaches its replicas or AOF); it
// deletes them only if it cannot become the replica (notReplica).
func TestLastSlotLostKeepsKeys(t *testing.T) {
	s := NewState()
	for _, id := range []string{idA, idD} {
		s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
	}
	s.Apply(&Op{Kind: OpAddSlots, Node: idA, Slots: []int{0, 1, 2}})
	s.Apply(&Op{Kind: OpAddSlots, Node: idD, Slots: []int{3}})
	var got []LostSlots
	n := &Local{}
	n.SetOnLost(func(l LostSlots) { got = append(got, l) })
	n.checkLost(NewView(s.clone(), idD))
	if rep := s.Apply(&Op{Kind: OpSetNode, Slot: 3, Target: idA}); rep != "" {
		t.Fatal(rep)
	}
	v := NewView(s.clone(), idD)
	n.view.Store(v)
	n.checkLost(v)
	if want := []LostSlots{{Channels: []int{3}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reported %+v, want %+v", got, want)
	}
	m, keys := n.takeReplicaOf()
	if m != idA || !slices.Equal(keys, []int{3}) {
		t.Fatalf("takeReplicaOf: %q %v", m, keys)
	}
	n.notReplica(keys) // refused: still a master
	if want := []LostSlots{{Channels: []int{3}}, {Keys: []int{3}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the refusal %+v, want %+v", got, want)
	}
	if rep := s.Apply(&Op{Kind: OpReplicate, Node: idD, Target: idA}); rep != "" {
		t.Fatal(rep)
	}
	n.view.Store(NewView(s.clone(), idD))
	n.notReplica(keys) // a replica after all: nothing
	if len(got) != 2 {
		t.Fatalf("a replica deleted keys: %+v", got)
	}
}
