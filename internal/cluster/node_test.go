package cluster

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freePorts returns a client port p and its bus port p+10000, both free a
// moment ago.
func freePorts(t *testing.T) (int, int) {
	t.Helper()
	for i := 0; i < 50; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if p+10000 > 65535 {
			continue
		}
		if bl, err := net.Listen("tcp", "127.0.0.1:"+itoa(p+10000)); err == nil {
			bl.Close()
			return p, p + 10000
		}
	}
	t.Fatal("no free port pair")
	return 0, 0
}

func itoa(n int) string { return strconv.Itoa(n) }

func startLocal(t *testing.T) *Local {
	t.Helper()
	dir := t.TempDir()
	p, bus := freePorts(t)
	n, err := Start(Config{Dir: dir, ConfigFile: filepath.Join(dir, "nodes.conf"), BindIP: "127.0.0.1",
		Port: p, BusPort: bus, NodeTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSingleNodeAddSlots(t *testing.T) {
	n := startLocal(t)
	slots := make([]int, Slots)
	for i := range slots {
		slots[i] = i
	}
	reply, err := n.Propose(&Op{Kind: OpAddSlots, Node: n.ID(), Slots: slots})
	if err != nil || reply != "" {
		t.Fatalf("addslots: %q %v", reply, err)
	}
	waitFor(t, "state ok", n.StateOK)
	if reply, _ := n.Propose(&Op{Kind: OpAddSlots, Node: n.ID(), Slots: []int{5}}); reply != "ERR Slot 5 is already busy" {
		t.Fatalf("busy: %q", reply)
	}
	v := n.View()
	if v.Myself == nil || v.Owner(0) != v.Myself || v.Assigned() != Slots {
		t.Fatalf("view: %+v", v.Myself)
	}
}

func TestThreeNodesMeet(t *testing.T) {
	a, b, c := startLocal(t), startLocal(t), startLocal(t)
	// b serves slots alone before it meets a: it brings them along
	if r, err := b.Propose(&Op{Kind: OpAddSlots, Node: b.ID(), Slots: []int{100, 101}}); err != nil || r != "" {
		t.Fatal(r, err)
	}
	// b, alone, joins a's group; then c, alone, meets b (in a group of
	// two, whose leader is a): c joins that group, through b
	if err := a.Meet("127.0.0.1", b.Port(), b.cfg.BusPort); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Propose(&Op{Kind: OpAddSlots, Node: c.ID(), Slots: []int{200}}); err != nil || r != "" {
		t.Fatal(r, err)
	}
	if err := c.Meet("127.0.0.1", b.Port(), b.cfg.BusPort); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*Local{a, b, c} {
		waitFor(t, "3 nodes everywhere", func() bool {
			return len(o.View().Nodes) == 3 && o.View().Owner(100) != nil && o.View().Owner(200) != nil
		})
	}
	// a change proposed on a follower goes through the leader
	if r, err := c.Propose(&Op{Kind: OpAddSlots, Node: c.ID(), Slots: []int{7}}); err != nil || r != "" {
		t.Fatal(r, err)
	}
	for _, o := range []*Local{a, b, c} {
		waitFor(t, "slot 7 owned by c", func() bool { n := o.View().Owner(7); return n != nil && n.ID == c.ID() })
		if n := o.View().Owner(100); n == nil || n.ID != b.ID() {
			t.Fatalf("slot 100 owner %v", n)
		}
		if n := o.View().Owner(200); n == nil || n.ID != c.ID() {
			t.Fatalf("slot 200 owner %v", n)
		}
	}
	// meeting a member again is a no-op
	if err := b.Meet("127.0.0.1", c.Port(), c.cfg.BusPort); err != nil {
		t.Fatal(err)
	}
}

// TestRestart: a node keeps its id (cluster-config-file) and its
// configuration (the raft log in dir) across a restart.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	p, bus := freePorts(t)
	cfg := Config{Dir: dir, ConfigFile: filepath.Join(dir, "nodes.conf"), BindIP: "127.0.0.1",
		Port: p, BusPort: bus, NodeTimeout: time.Second}
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := n.ID()
	if r, err := n.Propose(&Op{Kind: OpAddSlots, Node: id, Slots: []int{1, 2, 3}}); err != nil || r != "" {
		t.Fatal(r, err)
	}
	n.Close()
	if got, err := readMyID(cfg.ConfigFile); err != nil || got != id {
		t.Fatalf("config file id %q, %v; want %q", got, err, id)
	}
	n, err = Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.ID() != id {
		t.Fatalf("id %q after restart, want %q", n.ID(), id)
	}
	// restored from the snapshot taken by Close, before any election
	if o := n.View().Owner(2); o == nil || o.ID != id {
		t.Fatalf("after restart: owner %v", o)
	}
	// RESET HARD: a new id, nothing assigned
	if err := n.Reset(true); err != nil {
		t.Fatal(err)
	}
	if n.ID() == id || n.View().Owner(2) != nil {
		t.Fatalf("after RESET HARD: id %q owner %v", n.ID(), n.View().Owner(2))
	}
	if r, err := n.Propose(&Op{Kind: OpAddSlots, Node: n.ID(), Slots: []int{2}}); err != nil || r != "" {
		t.Fatal(r, err)
	}
}

func TestReadMyID(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ text, id, err string }{
		{"", "", ""},
		{"vars currentEpoch 0 lastVoteEpoch 0\n", "", ""},
		{idB + " :1@2 master - 0 0 0 connected\n" + idA + " :7000@17000 myself,master - 0 0 0 connected 0-5\n", idA, ""},
		{"xyz :7000@17000 myself,master - 0 0 0 connected\n", "", "bad node id"},
	} {
		path := filepath.Join(dir, "nodes.conf")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		id, err := readMyID(path)
		if id != tc.id || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %q, %v", tc.text, id, err)
		}
	}
	if id, err := readMyID(filepath.Join(dir, "none")); id != "" || err != nil {
		t.Errorf("missing file: %q, %v", id, err)
	}
}

// TestLeaderCallStops: a change in flight gives up as soon as the node
// closes, instead of retrying until its deadline (5 s or more) and holding
// Close up.
func TestLeaderCallStops(t *testing.T) {
	n := &Local{cfg: Config{NodeTimeout: time.Second}, stop: make(chan struct{})}
	time.AfterFunc(50*time.Millisecond, func() { close(n.stop) })
	start := time.Now()
	_, err := n.leaderCall(&rpcReq{T: "apply", Op: &Op{Kind: OpAddNode}})
	if err != ErrStopped {
		t.Fatalf("leaderCall on a closing node: %v, want ErrStopped", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("leaderCall took %v after Close", d)
	}
}

// TestCallStop: a bus call to a peer that never answers ends when stop is
// closed, not at its 30 s deadline.
func TestCallStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // read nothing, answer nothing
		}
	}()
	stop := make(chan struct{})
	time.AfterFunc(50*time.Millisecond, func() { close(stop) })
	start := time.Now()
	if _, err := callStop(ln.Addr().String(), &rpcReq{T: "apply"}, 30*time.Second, stop); err == nil {
		t.Fatal("callStop to a silent peer: no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("callStop took %v after stop", d)
	}
}
