package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterSlotLost: a replica serves SSUBSCRIBE and SPUBLISH of its
// master's slots without READONLY, as Redis 7.0. When a slot moves away from its master (CLUSTER
// SETSLOT NODE run on the new owner), the shard channel subscribers of
// the old master and of its replica get `sunsubscribe` and leave
// subscribed mode (Redis 7.0's removeChannelsInSlot), and the old master
// deletes the keys it held of the slot (delKeysInSlot), its replica
// following through the DELs it propagates. Its other keys stay, and the
// deleted ones do not come back with the slot (cluster.md, "Slots lost").
func TestClusterSlotLost(t *testing.T) {
	if testing.Short() {
		t.Skip("three raft nodes")
	}
	// a (slots 0-8191) with its replica r, and b (8192-16383)
	nodes, cs, ids := threeMetNodes(t)
	a, b, r := cs[0], cs[1], cs[2]
	clusterChange(t, a, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "8191")
	clusterChange(t, b, "-ERR Slot 8192 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "8192", "16383")
	clusterChange(t, r, "", "CLUSTER", "REPLICATE", ids[0])
	for i, c := range cs {
		pollUntil(t, 20*time.Second, fmt.Sprintf("node %d ok", i), func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok"), info
		})
	}
	pollUntil(t, 20*time.Second, "the replica's link", func() (bool, string) {
		return replInfo(r, "replication", "master_link_status") == "up", r.mustDo("INFO", "replication")
	})

	// k3 and {k3}2: slot 4576; b: slot 3300, both a's
	for _, k := range []string{"k3", "{k3}2", "b"} {
		if rep := a.mustDo("SET", k, "v"); rep != "+OK\r\n" {
			t.Fatalf("SET %s: %q", k, rep)
		}
	}
	pollUntil(t, 10*time.Second, "the replica's keys", func() (bool, string) {
		rep := r.mustDo("DBSIZE")
		return rep == ":3\r\n", rep
	})
	subs := map[string]*rawConn{"a": dialRaw(t, nodes[0].addr), "r": dialRaw(t, nodes[2].addr), "b": dialRaw(t, nodes[1].addr)}
	// the replica's subscriber without READONLY: Redis 7.0 serves shard
	// channels on a replica of their slot's master all the same
	for name, s := range subs {
		want := "*3\r\n$10\r\nssubscribe\r\n$2\r\nk3\r\n:1\r\n"
		if name == "b" {
			// b does not serve the slot: it answers MOVED
			want = "-MOVED 4576 " + nodes[0].addr + "\r\n"
		}
		if rep := s.mustDo("SSUBSCRIBE", "k3"); rep != want {
			t.Fatalf("SSUBSCRIBE on %s: %q, want %q", name, rep, want)
		}
	}

	// SPUBLISH on the replica too: its subscriber (the reply counts it)
	// and the master's (over the bus)
	if rep := r.mustDo("SPUBLISH", "k3", "hi"); rep != ":1\r\n" {
		t.Fatalf("SPUBLISH on the replica: %q", rep)
	}
	for _, name := range []string{"r", "a"} {
		if rep := subs[name].read(10 * time.Second); rep != "*3\r\n$8\r\nsmessage\r\n$2\r\nk3\r\n$2\r\nhi\r\n" {
			t.Fatalf("%s's subscriber: %q", name, rep)
		}
	}

	// the slot moves to b: a deletes its keys of the slot, a's and r's
	// subscribers are unsubscribed
	clusterChange(t, b, "", "CLUSTER", "SETSLOT", "4576", "NODE", ids[1])
	for _, name := range []string{"a", "r"} {
		s := subs[name]
		if rep := s.read(10 * time.Second); rep != "*3\r\n$12\r\nsunsubscribe\r\n$2\r\nk3\r\n:0\r\n" {
			t.Fatalf("%s's subscriber: %q", name, rep)
		}
		if rep := s.mustDo("PING"); rep != "+PONG\r\n" { // out of subscribed mode
			t.Fatalf("PING on %s: %q", name, rep)
		}
	}
	for name, c := range map[string]*rawConn{"a": a, "r": r} {
		pollUntil(t, 10*time.Second, name+"'s keys of the slot deleted", func() (bool, string) {
			rep := c.mustDo("DBSIZE")
			return rep == ":1\r\n", rep
		})
		if rep := c.mustDo("CLUSTER", "COUNTKEYSINSLOT", "4576"); rep != ":0\r\n" {
			t.Fatalf("COUNTKEYSINSLOT 4576 on %s: %q", name, rep)
		}
	}
	if rep := a.mustDo("GET", "b"); rep != "$1\r\nv\r\n" {
		t.Fatalf("GET b on a: %q", rep)
	}
	if rep := b.mustDo("GET", "k3"); rep != "$-1\r\n" {
		t.Fatalf("GET k3 on b: %q", rep)
	}

	// b's subscriber now, then the slot back to a: b loses it (no keys to
	// delete), a's keys do not come back
	if rep := subs["b"].mustDo("SSUBSCRIBE", "k3"); rep != "*3\r\n$10\r\nssubscribe\r\n$2\r\nk3\r\n:1\r\n" {
		t.Fatalf("SSUBSCRIBE on b: %q", rep)
	}
	clusterChange(t, a, "", "CLUSTER", "SETSLOT", "4576", "NODE", ids[0])
	if rep := subs["b"].read(10 * time.Second); rep != "*3\r\n$12\r\nsunsubscribe\r\n$2\r\nk3\r\n:0\r\n" {
		t.Fatalf("b's subscriber: %q", rep)
	}
	if rep := a.mustDo("GET", "k3"); rep != "$-1\r\n" {
		t.Fatalf("GET k3 on a after the slot came back: %q", rep)
	}
	if rep := a.mustDo("DBSIZE"); rep != ":1\r\n" {
		t.Fatalf("DBSIZE on a: %q", rep)
	}
}

// TestClusterLastSlotLost: a master whose last slot another master takes
// (SETSLOT NODE run on the new owner) becomes the new owner's replica, and
// its replica follows, as Redis 7.0's clusterUpdateSlotsConfigWith does
// ("Configuration change detected. Reconfiguring myself as a replica of
// ..."): ROLE, CLUSTER NODES and INFO replication on both, the data of
// the new master.
func TestClusterLastSlotLost(t *testing.T) {
	if testing.Short() {
		t.Skip("three raft nodes")
	}
	// a (slots 0-16382), b (16383) with its replica r
	nodes, cs, ids := threeMetNodes(t)
	a, b, r := cs[0], cs[1], cs[2]
	clusterChange(t, a, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "16382")
	clusterChange(t, b, "-ERR Slot 16383 is already busy\r\n", "CLUSTER", "ADDSLOTS", "16383")
	clusterChange(t, r, "", "CLUSTER", "REPLICATE", ids[1])
	pollUntil(t, 20*time.Second, "the replica's link", func() (bool, string) {
		return replInfo(r, "replication", "master_link_status") == "up", r.mustDo("INFO", "replication")
	})
	// foo: slot 12182, a's; {t11021}1: 16383, b's
	if rep := a.mustDo("SET", "foo", "bar"); rep != "+OK\r\n" {
		t.Fatalf("SET foo: %q", rep)
	}
	if rep := b.mustDo("SET", "{t11021}1", "v"); rep != "+OK\r\n" {
		t.Fatalf("SET {t11021}1: %q", rep)
	}
	pollUntil(t, 10*time.Second, "r's key", func() (bool, string) {
		rep := r.mustDo("DBSIZE")
		return rep == ":1\r\n", rep
	})
	// what r gets from b until it replicates a (MONITOR): no DEL of the
	// lost slot's keys (Redis deletes nothing, b and r resync)
	mon := dialRaw(t, nodes[2].addr)
	if rep := mon.mustDo("MONITOR"); rep != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", rep)
	}
	clusterChange(t, a, "", "CLUSTER", "SETSLOT", "16383", "NODE", ids[0])

	port := strconv.Itoa(nodes[0].port)
	for i, c := range []*rawConn{b, r} {
		name := []string{"b", "r"}[i]
		pollUntil(t, 20*time.Second, name+" a replica of a", func() (bool, string) {
			l := nodesLine(c, ids[1+i])
			return strings.Contains(l, " myself,slave "+ids[0]+" "), l
		})
		pollUntil(t, 20*time.Second, name+"'s link to a", func() (bool, string) {
			info := c.mustDo("INFO", "replication")
			return replInfo(c, "replication", "role") == "slave" &&
				replInfo(c, "replication", "master_port") == port &&
				replInfo(c, "replication", "master_link_status") == "up", info
		})
		want := "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:" + port + "\r\n$9\r\nconnected\r\n"
		if rep := c.mustDo("ROLE"); !strings.HasPrefix(rep, want) {
			t.Fatalf("ROLE on %s: %q, want %q...", name, rep, want)
		}
		c.mustDo("READONLY")
		pollUntil(t, 10*time.Second, "a's data on "+name, func() (bool, string) {
			rep := c.mustDo("GET", "foo")
			return rep == "$3\r\nbar\r\n", rep
		})
	}
	// a's write reaches r: what r's MONITOR showed before it has no DEL
	if rep := a.mustDo("SET", "marker", "1"); rep != "+OK\r\n" {
		t.Fatalf("SET marker: %q", rep)
	}
	for {
		rep := mon.read(10 * time.Second)
		if strings.Contains(rep, "<timeout>") || strings.Contains(rep, "<eof>") {
			t.Fatalf("r's MONITOR: %q, before the marker", rep)
		}
		if strings.Contains(rep, `"DEL"`) || strings.Contains(rep, `"UNLINK"`) {
			t.Fatalf("r got a deletion of the lost slot's key: %q", rep)
		}
		if strings.Contains(rep, `"marker"`) {
			break
		}
	}
	for i, c := range []*rawConn{b, r} {
		pollUntil(t, 10*time.Second, []string{"b", "r"}[i]+" has a's data only", func() (bool, string) {
			rep := c.mustDo("DBSIZE")
			return rep == ":2\r\n", rep
		})
	}
	// a sees both as its replicas
	for _, id := range ids[1:] {
		if l := nodesLine(a, id); !strings.Contains(l, " slave "+ids[0]+" ") {
			t.Fatalf("on a: %q", l)
		}
	}
}

// TestClusterSlotLostClientFlags: a client unsubscribed from its last
// shard channel by a slot its node stops serving leaves subscribed mode
// at once in CLIENT LIST and CLIENT LIST TYPE pubsub (Redis 7.0: flags=N),
// not at its next command.
func TestClusterSlotLostClientFlags(t *testing.T) {
	n := newClNode(t)
	ctl, sub := dialRaw(t, n.addr), dialRaw(t, n.addr)
	clusterChange(t, ctl, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
	id := strings.TrimSpace(strings.TrimPrefix(sub.mustDo("CLIENT", "ID"), ":"))
	if rep := sub.mustDo("SSUBSCRIBE", "k3"); rep != "*3\r\n$10\r\nssubscribe\r\n$2\r\nk3\r\n:1\r\n" {
		t.Fatalf("SSUBSCRIBE: %q", rep)
	}
	if rep := ctl.mustDo("CLIENT", "LIST", "ID", id); !strings.Contains(rep, " flags=P ") {
		t.Fatalf("CLIENT LIST subscribed: %q", rep)
	}
	clusterChange(t, ctl, "-ERR Slot 4576 is already unassigned\r\n", "CLUSTER", "DELSLOTS", "4576")
	if rep := sub.read(10 * time.Second); rep != "*3\r\n$12\r\nsunsubscribe\r\n$2\r\nk3\r\n:0\r\n" {
		t.Fatalf("push: %q", rep)
	}
	if rep := ctl.mustDo("CLIENT", "LIST", "ID", id); !strings.Contains(rep, " flags=N ") {
		t.Fatalf("CLIENT LIST after the slot loss: %q", rep)
	}
	if rep := ctl.mustDo("CLIENT", "LIST", "TYPE", "pubsub"); rep != "$0\r\n\r\n" {
		t.Fatalf("CLIENT LIST TYPE pubsub: %q", rep)
	}
}

// threeMetNodes starts three cluster nodes, connects to each, and has the
// first meet the others; it returns once every node knows all three, with
// the connections and node ids in the nodes' order.
func threeMetNodes(t *testing.T) ([]*clNode, []*rawConn, []string) {
	t.Helper()
	nodes := []*clNode{newClNode(t), newClNode(t), newClNode(t)}
	cs := make([]*rawConn, 3)
	ids := make([]string, 3)
	for i, n := range nodes {
		cs[i] = dialRaw(t, n.addr)
		ids[i] = bulkString(t, cs[i].mustDo("CLUSTER", "MYID"))
	}
	for _, n := range nodes[1:] {
		meet(t, cs[0], n)
	}
	for i, c := range cs {
		pollUntil(t, 20*time.Second, fmt.Sprintf("node %d knows 3 nodes", i), func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_known_nodes:3\r\n"), info
		})
	}
	return nodes, cs, ids
}
