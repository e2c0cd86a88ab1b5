package cluster

// Measurements of the raft timers (cluster.md, "Raft timers under load"),
// skipped unless CLU_MEASURE is set: CLU_DIV sets Config.RaftDivisor, CLU_NT the
// node timeout in ms, CLU_BUSY the busy goroutines, CLU_SECS the duration.
// Busy goroutines in the test process hardly disturb raft (the Go
// scheduler shares the CPU fairly); the step-downs come from other
// processes loading the machine, so the numbers were taken with CPU hogs
// started outside the test, and no test asserts on them.

import (
	"github.com/hashicorp/raft"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// TestMeasureLeaderChanges (CLU_MEASURE=1) counts raft terms started in a
// 3-node group under busy goroutines.
func TestMeasureLeaderChanges(t *testing.T) {
	if os.Getenv("CLU_MEASURE") == "" {
		t.Skip("measurement")
	}
	div := envInt("CLU_DIV", defaultRaftDivisor)
	nt := time.Duration(envInt("CLU_NT", 2000)) * time.Millisecond
	start := func() *Local { return startMeasured(t, nt, div, nil) }
	a, b, c := start(), start(), start()
	for _, o := range []*Local{b, c} {
		if err := a.Meet("127.0.0.1", o.Port(), o.cfg.BusPort); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []*Local{a, b, c} {
		waitFor(t, "3 nodes", func() bool { return len(o.View().Nodes) == 3 })
	}
	time.Sleep(time.Second)
	term := func() int {
		m := 0
		for _, o := range []*Local{a, b, c} {
			v, _ := strconv.Atoi(o.currentRaft().Stats()["term"])
			m = max(m, v)
		}
		return m
	}
	t0 := term()
	var stop atomic.Bool
	var wg sync.WaitGroup
	busy := envInt("CLU_BUSY", 4*runtime.GOMAXPROCS(0))
	for i := 0; i < busy; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !stop.Load() {
				x++
			}
			_ = x
		}()
	}
	time.Sleep(time.Duration(envInt("CLU_SECS", 10)) * time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("div %d nt %v busy %d: terms %d", div, nt, busy, term()-t0)
}

// TestMeasureFailDetection (CLU_MEASURE=1): the time from closing a node
// (the raft leader, or a follower) until the others flag it failing.
func TestMeasureFailDetection(t *testing.T) {
	if os.Getenv("CLU_MEASURE") == "" {
		t.Skip("measurement")
	}
	div := envInt("CLU_DIV", defaultRaftDivisor)
	nt := time.Duration(envInt("CLU_NT", 2000)) * time.Millisecond
	closed := map[*Local]bool{}
	for _, leader := range []bool{true, false} {
		start := func() *Local { return startMeasured(t, nt, div, closed) }
		nodes := []*Local{start(), start(), start()}
		for _, o := range nodes[1:] {
			if err := nodes[0].Meet("127.0.0.1", o.Port(), o.cfg.BusPort); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range nodes {
			waitFor(t, "3 nodes", func() bool { return len(o.View().Nodes) == 3 })
		}
		time.Sleep(time.Second)
		var victim *Local
		var rest []*Local
		for _, o := range nodes {
			if (o.currentRaft().State().String() == "Leader") == leader && victim == nil {
				victim = o
			} else {
				rest = append(rest, o)
			}
		}
		id := victim.ID()
		t0 := time.Now()
		victim.Close()
		closed[victim] = true
		deadline := time.Now().Add(30 * time.Second)
		for {
			nd := rest[0].View().State.Nodes[id]
			if nd != nil && nd.Fail {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("never flagged")
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("div %d nt %v leader %v: flagged after %v", div, nt, leader, time.Since(t0))
	}
}

// TestFailClockOfOldLeader: a node that wins the election replacing the
// leader it followed starts its failure clock for that leader at its last
// contact with it (so the flag comes node-timeout after the leader went
// silent, not node-timeout after the election), and only when a
// heartbeat to it fails; another peer's clock starts at its failure.
func TestFailClockOfOldLeader(t *testing.T) {
	a, b := startLocal(t), startLocal(t)
	if err := a.Meet("127.0.0.1", b.Port(), b.cfg.BusPort); err != nil {
		t.Fatal(err)
	}
	var n *Local // the follower: its LastContact is the leader's
	waitFor(t, "a follower in touch", func() bool {
		for _, o := range []*Local{a, b} {
			if r := o.currentRaft(); r != nil && r.State() == raft.Follower && !r.LastContact().IsZero() {
				n = o
				return true
			}
		}
		return false
	})
	const old, other = "oooooooooooooooooooooooooooooooooooooooo", "pppppppppppppppppppppppppppppppppppppppp"
	since := func(id string) (time.Time, bool) {
		n.failMu.Lock()
		defer n.failMu.Unlock()
		s, ok := n.failSince[id]
		return s, ok
	}
	for _, o := range []raft.Observation{
		{Data: raft.LeaderObservation{LeaderID: old}},
		{Data: raft.LeaderObservation{}}, // the election
		{Data: raft.LeaderObservation{LeaderID: raft.ServerID(n.ID())}},
		{Data: raft.FailedHeartbeatObservation{PeerID: other}},
		{Data: raft.FailedHeartbeatObservation{PeerID: old}},
	} {
		n.obs <- o
	}
	waitFor(t, "both failing", func() bool {
		_, a := since(old)
		_, b := since(other)
		return a && b
	})
	// the old leader's clock started at the election (its last contact),
	// before the other peer's failure, itself before the old leader's
	s1, _ := since(old)
	s2, _ := since(other)
	if !s1.Before(s2) {
		t.Fatalf("old leader failing since %v, not before the other peer's failure at %v", s1, s2)
	}
}

// startMeasured starts a node for the measurements with node-timeout nt
// and raft divisor div, closed when the test ends unless closed (may be
// nil) says the test closed it itself.
func startMeasured(t *testing.T, nt time.Duration, div int, closed map[*Local]bool) *Local {
	t.Helper()
	dir := t.TempDir()
	p, bus := freePorts(t)
	n, err := Start(Config{Dir: dir, ConfigFile: filepath.Join(dir, "nodes.conf"), BindIP: "127.0.0.1",
		Port: p, BusPort: bus, NodeTimeout: nt, RaftDivisor: div})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !closed[n] {
			n.Close()
		}
	})
	return n
}
