package cluster

import (
	"strings"
	"testing"
	"time"
)

const (
	idE = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	idF = "ffffffffffffffffffffffffffffffffffffffff"
)

// migrationState is masters A (replicas D, E) and B (replica F), each
// serving slots, and C, a master without slots.
func migrationState(t *testing.T) *State {
	t.Helper()
	s := NewState()
	for _, id := range []string{idA, idB, idC, idD, idE, idF} {
		s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: id, IP: "127.0.0.1", Port: int(id[0])}})
	}
	for _, op := range []Op{
		{Kind: OpAddSlots, Node: idA, Slots: []int{0, 1}},
		{Kind: OpAddSlots, Node: idB, Slots: []int{2, 3}},
		{Kind: OpReplicate, Node: idD, Target: idA},
		{Kind: OpReplicate, Node: idE, Target: idA},
		{Kind: OpReplicate, Node: idF, Target: idB},
	} {
		if r := s.Apply(&op); r != "" {
			t.Fatalf("%+v: %s", op, r)
		}
	}
	return s
}

// TestStateMigrate checks OpMigrate's checks at apply, and the MigrateTo
// flag (Redis's CLUSTER_NODE_MIGRATE_TO) that makes a master an orphan.
func TestStateMigrate(t *testing.T) {
	s := migrationState(t)
	if !s.Nodes[idA].MigrateTo || !s.Nodes[idB].MigrateTo || s.Nodes[idC].MigrateTo || s.Nodes[idD].MigrateTo {
		t.Fatal("MigrateTo: set on the masters that gained a replica only")
	}
	if s.Orphaned(idB) {
		t.Fatal("B has a working replica")
	}
	for i, tc := range []struct {
		op    Op
		reply string
	}{
		{Op{Kind: OpMigrate, Node: idD, Target: idB, Barrier: 1}, "ERR Migration refused: " + idB + " is not an orphaned master"},
		{Op{Kind: OpFail, Target: idF, Fail: true}, ""}, // B is orphaned now
		{Op{Kind: OpMigrate, Node: "x", Target: idB}, "ERR Unknown node x"},
		{Op{Kind: OpMigrate, Node: idD, Target: "y"}, "ERR Unknown node y"},
		{Op{Kind: OpMigrate, Node: idA, Target: idB}, "ERR Migration refused: " + idA + " is not a replica of another master"},
		{Op{Kind: OpMigrate, Node: idF, Target: idB}, "ERR Migration refused: " + idF + " is not a replica of another master"},
		// A's two working replicas are not more than a barrier of 2
		{Op{Kind: OpMigrate, Node: idD, Target: idB, Barrier: 2}, "ERR Migration refused: its master would be left with too few replicas"},
		// C serves no slot and never had a replica
		{Op{Kind: OpMigrate, Node: idD, Target: idC, Barrier: 1}, "ERR Migration refused: " + idC + " is not an orphaned master"},
		{Op{Kind: OpMigrate, Node: idD, Target: idB, Barrier: 1}, ""},
		// the second of two racing migrations finds B no longer orphaned
		{Op{Kind: OpMigrate, Node: idE, Target: idB, Barrier: 0}, "ERR Migration refused: " + idB + " is not an orphaned master"},
	} {
		if got := s.Apply(&tc.op); got != tc.reply {
			t.Fatalf("step %d %+v: %q, want %q", i, tc.op, got, tc.reply)
		}
	}
	if s.Nodes[idD].Master != idB || s.Nodes[idE].Master != idA || s.WorkingReplicas(idB) != 1 {
		t.Fatalf("after the migration: d->%s e->%s", s.Nodes[idD].Master, s.Nodes[idE].Master)
	}
	// a failed master is not an orphan; a promoted replica is one once its
	// own replicas are gone (it failed over a master that had replicas)
	s.Apply(&Op{Kind: OpFail, Target: idA, Fail: true})
	if s.Orphaned(idA) {
		t.Fatal("a failing master is not an orphan")
	}
	if r := s.Apply(&Op{Kind: OpFailover, Node: idE, Target: idA, Fail: true}); r != "" {
		t.Fatal(r)
	}
	// A, still flagged fail, is E's only replica: E is an orphan
	if !s.Nodes[idE].MigrateTo || s.Nodes[idA].MigrateTo || !s.Orphaned(idE) {
		t.Fatalf("after the failover: e %+v a %+v", s.Nodes[idE], s.Nodes[idA])
	}
	// A reachable again
	s.Apply(&Op{Kind: OpFail, Target: idA, Fail: false})
	if s.Orphaned(idE) {
		t.Fatal("E has A as a working replica")
	}
	// MigrateTo survives a re-announcement and a snapshot
	s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: idB, IP: "127.0.0.1", Port: 7}})
	c := NewState()
	b, _ := s.MarshalJSON()
	if err := c.UnmarshalJSON(b); err != nil || !c.Nodes[idB].MigrateTo || !c.Nodes[idE].MigrateTo {
		t.Fatalf("snapshot: %v %+v", err, c.Nodes[idB])
	}
}

// TestCheckMigration checks which replica decides to migrate, and when.
func TestCheckMigration(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name    string
		me      string
		change  []Op
		noAllow bool
		barrier int
		want    string // the target, "" none
	}{
		{name: "no orphan", me: idD, barrier: 1},
		{name: "candidate", me: idD, change: []Op{{Kind: OpFail, Target: idF, Fail: true}}, barrier: 1, want: idB},
		{name: "not the smallest id", me: idE, change: []Op{{Kind: OpFail, Target: idF, Fail: true}}, barrier: 1},
		{name: "barrier", me: idD, change: []Op{{Kind: OpFail, Target: idF, Fail: true}}, barrier: 2},
		{name: "not allowed", me: idD, change: []Op{{Kind: OpFail, Target: idF, Fail: true}}, barrier: 1, noAllow: true},
		{name: "the orphan's own failed replica", me: idF, change: []Op{{Kind: OpFail, Target: idF, Fail: true}}, barrier: 0},
		// D flagged fail: E is the candidate, but A keeps one working
		// replica only, fewer than two
		{name: "one working replica left", me: idE, change: []Op{{Kind: OpFail, Target: idF, Fail: true},
			{Kind: OpFail, Target: idD, Fail: true}}, barrier: 0},
		// a master flagged fail is no orphan (its replica fails it over)
		{name: "failing master", me: idD, change: []Op{{Kind: OpFail, Target: idF, Fail: true},
			{Kind: OpFail, Target: idB, Fail: true}}, barrier: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := migrationState(t)
			for _, op := range tc.change {
				if r := s.Apply(&op); r != "" {
					t.Fatal(r)
				}
			}
			n := &Local{}
			n.ok.Store(true)
			n.SetReplicaMigration(!tc.noAllow, tc.barrier)
			v := NewView(s, tc.me)
			since := map[string]time.Time{}
			if op := n.checkMigration(v, since, t0); op != nil {
				t.Fatalf("migrated at once: %+v", op)
			}
			if op := n.checkMigration(v, since, t0.Add(migrationDelay)); op != nil {
				t.Fatalf("migrated after exactly the delay: %+v", op)
			}
			op := n.checkMigration(v, since, t0.Add(migrationDelay+time.Millisecond))
			switch {
			case tc.want == "" && op != nil:
				t.Fatalf("migrated: %+v", op)
			case tc.want != "" && (op == nil || op.Target != tc.want || op.Node != tc.me || op.Barrier != tc.barrier):
				t.Fatalf("got %+v, want a migration to %s", op, tc.want)
			case op != nil:
				if r := s.Apply(op); r != "" {
					t.Fatalf("the decided entry was refused: %s", r)
				}
			}
		})
	}
	// the orphan's clock starts again when it stops being one, and
	// nothing happens while the cluster state is not ok
	s := migrationState(t)
	s.Apply(&Op{Kind: OpFail, Target: idF, Fail: true})
	n := &Local{}
	n.ok.Store(true)
	n.SetReplicaMigration(true, 1)
	since := map[string]time.Time{}
	n.checkMigration(NewView(s, idD), since, t0)
	s.Apply(&Op{Kind: OpFail, Target: idF, Fail: false})
	n.checkMigration(NewView(s, idD), since, t0.Add(time.Second))
	s.Apply(&Op{Kind: OpFail, Target: idF, Fail: true})
	n.checkMigration(NewView(s, idD), since, t0.Add(2*time.Second))
	if op := n.checkMigration(NewView(s, idD), since, t0.Add(migrationDelay+time.Second)); op != nil {
		t.Fatalf("the orphan's time did not start again: %+v", op)
	}
	n.ok.Store(false)
	if op := n.checkMigration(NewView(s, idD), since, t0.Add(time.Hour)); op != nil || len(since) != 0 {
		t.Fatalf("cluster state fail: %+v", op)
	}
}

// TestDataTooOld is Redis's data-age rule for automatic failovers
// (cluster-replica-validity-factor), node-timeout 15 s, ping period 10 s.
func TestDataTooOld(t *testing.T) {
	const nt, ping = 15 * time.Second, 10 * time.Second
	for _, tc := range []struct {
		age    time.Duration
		factor int64
		old    bool
	}{
		{0, 10, false},
		{nt, 10, false},
		// the master's node-timeout is taken off: 15 + 10 + 150 s is the limit
		{175 * time.Second, 10, false},
		{175*time.Second + time.Millisecond, 10, true},
		{25 * time.Second, 1, false},
		{40 * time.Second, 1, false},
		{40*time.Second + time.Millisecond, 1, true},
		// an age below node-timeout is not reduced
		{11 * time.Second, 0, true},
	} {
		if got := dataTooOld(tc.age, nt, ping, tc.factor); got != tc.old {
			t.Errorf("age %v factor %d: too old %v, want %v", tc.age, tc.factor, got, tc.old)
		}
	}
}

// TestNoFailoverFlag: CLUSTER NODES shows nofailover on a node with
// cluster-replica-no-failover, after its other flags as Redis orders them,
// a master's included (redis-server 7.0.15: "myself,master,nofailover").
func TestNoFailoverFlag(t *testing.T) {
	s := migrationState(t)
	s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: idD, IP: "127.0.0.1", Port: 100, NoFailover: true}})
	s.Apply(&Op{Kind: OpAddNode, Info: &NodeInfo{ID: idA, IP: "127.0.0.1", Port: 97, NoFailover: true}})
	s.Apply(&Op{Kind: OpFail, Target: idD, Fail: true})
	v := NewView(s, idB)
	if l := v.NodeLine(v.Node(idD), 0); !strings.Contains(l, " slave,fail,nofailover "+idA+" ") {
		t.Fatalf("replica: %q", l)
	}
	if l := v.NodeLine(v.Node(idA), 0); !strings.Contains(l, " master,nofailover - ") {
		t.Fatalf("a master with the setting: %q", l)
	}
	if s.Nodes[idD].Master != idA {
		t.Fatal("the re-announcement changed the master")
	}
	if l := NewView(s, idD).NodeLine(NewView(s, idD).Myself, 0); !strings.Contains(l, " myself,slave,nofailover ") {
		t.Fatalf("myself: %q", l)
	}
}
