package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Slots a node loses when it settles (cluster.md, "Slots lost"): a join
// and the raft log replayed at a restart.

// TestClusterJoinLosesSlots: a node that served every slot alone and
// joins (CLUSTER MEET) a group whose master owns half of them keeps the
// free half, and for the half it lost deletes its keys and unsubscribes
// its shard channel subscribers, as redis-server 7.0.15's loser of a
// slot conflict does (a master with a higher config epoch claiming the
// slots: DBSIZE 0 after the MEET). Its other keys and subscribers stay.
func TestClusterJoinLosesSlots(t *testing.T) {
	if testing.Short() {
		t.Skip("two raft nodes")
	}
	a, b := newClNode(t), newClNode(t)
	ca, cb := dialRaw(t, a.addr), dialRaw(t, b.addr)
	clusterChange(t, ca, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "8191")
	clusterChange(t, cb, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
	pollUntil(t, 20*time.Second, "b ok alone", func() (bool, string) {
		info := cb.mustDo("CLUSTER", "INFO")
		return strings.Contains(info, "cluster_state:ok"), info
	})
	// k3 (4576) and b (3300): slots a owns; foo (12182): free in a's group
	for _, k := range []string{"k3", "b", "foo"} {
		if rep := cb.mustDo("SET", k, "v"); rep != "+OK\r\n" {
			t.Fatalf("SET %s on b: %q", k, rep)
		}
	}
	lost, kept := dialRaw(t, b.addr), dialRaw(t, b.addr)
	for c, ch := range map[*rawConn]string{lost: "k3", kept: "foo"} {
		want := fmt.Sprintf("*3\r\n$10\r\nssubscribe\r\n$%d\r\n%s\r\n:1\r\n", len(ch), ch)
		if rep := c.mustDo("SSUBSCRIBE", ch); rep != want {
			t.Fatalf("SSUBSCRIBE %s: %q", ch, rep)
		}
	}

	meet(t, ca, b) // b joins a's group
	for name, c := range map[string]*rawConn{"a": ca, "b": cb} {
		pollUntil(t, 20*time.Second, name+" knows 2 nodes, all slots assigned", func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_known_nodes:2\r\n") &&
				strings.Contains(info, "cluster_slots_assigned:16384\r\n"), info
		})
	}
	if rep := lost.read(10 * time.Second); rep != "*3\r\n$12\r\nsunsubscribe\r\n$2\r\nk3\r\n:0\r\n" {
		t.Fatalf("the subscriber of a lost slot: %q", rep)
	}
	if rep := lost.mustDo("PING"); rep != "+PONG\r\n" {
		t.Fatalf("PING: %q", rep)
	}
	pollUntil(t, 10*time.Second, "b's keys of the lost slots deleted", func() (bool, string) {
		rep := cb.mustDo("DBSIZE")
		return rep == ":1\r\n", rep
	})
	if rep := cb.mustDo("GET", "foo"); rep != "$1\r\nv\r\n" {
		t.Fatalf("GET foo on b: %q", rep)
	}
	if l := nodesLine(cb, bulkString(t, cb.mustDo("CLUSTER", "MYID"))); !strings.Contains(l, "myself,master - ") ||
		!strings.HasSuffix(l, " 8192-16383") {
		t.Fatalf("b: %q", l)
	}
	// the subscriber of the slot b kept is still subscribed
	if rep := cb.mustDo("SPUBLISH", "foo", "hi"); rep != ":1\r\n" {
		t.Fatalf("SPUBLISH foo on b: %q", rep)
	}
	if rep := kept.read(10 * time.Second); rep != "*3\r\n$8\r\nsmessage\r\n$3\r\nfoo\r\n$2\r\nhi\r\n" {
		t.Fatalf("the subscriber of a kept slot: %q", rep)
	}
}

// TestClusterRestartLosesSlot: a master stopped while another master
// takes one of its slots (SETSLOT NODE, applied by the other two nodes)
// replays the raft log when it starts again and deletes its keys of that
// slot (persisted in its AOF), keeping the others, as when it loses the
// slot while running.
func TestClusterRestartLosesSlot(t *testing.T) {
	if testing.Short() {
		t.Skip("three raft nodes")
	}
	nodes := []*clNode{newClNode(t), newClNodeWith(t, "--appendonly", "yes"), newClNode(t)}
	cs := make([]*rawConn, 3)
	ids := make([]string, 3)
	for i, n := range nodes {
		cs[i] = dialRaw(t, n.addr)
		ids[i] = bulkString(t, cs[i].mustDo("CLUSTER", "MYID"))
	}
	for _, n := range nodes[1:] {
		meet(t, cs[0], n)
	}
	a, b := cs[0], cs[1]
	clusterChange(t, a, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "8191")
	clusterChange(t, b, "-ERR Slot 8192 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "8192", "16383")
	pollUntil(t, 20*time.Second, "b ok", func() (bool, string) {
		info := b.mustDo("CLUSTER", "INFO")
		return strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3\r\n"), info
	})
	// foo: slot 12182, x: 16287, both b's
	for _, k := range []string{"foo", "x"} {
		if rep := b.mustDo("SET", k, "v"); rep != "+OK\r\n" {
			t.Fatalf("SET %s on b: %q", k, rep)
		}
	}
	nodes[1].stop()
	clusterChange(t, a, "", "CLUSTER", "SETSLOT", "12182", "NODE", ids[0])
	nodes[1].start()
	b = dialRaw(t, nodes[1].addr)
	pollUntil(t, 20*time.Second, "b sees slot 12182 a's", func() (bool, string) {
		rep := b.mustDo("GET", "foo")
		return strings.HasPrefix(rep, "-MOVED 12182 "), rep
	})
	pollUntil(t, 10*time.Second, "b's key of the lost slot deleted", func() (bool, string) {
		rep := b.mustDo("CLUSTER", "COUNTKEYSINSLOT", "12182")
		return rep == ":0\r\n", rep + " " + b.mustDo("DBSIZE")
	})
	if rep := b.mustDo("GET", "x"); rep != "$1\r\nv\r\n" {
		t.Fatalf("GET x on b: %q", rep)
	}
	if rep := b.mustDo("DBSIZE"); rep != ":1\r\n" {
		t.Fatalf("DBSIZE on b: %q", rep)
	}
}
