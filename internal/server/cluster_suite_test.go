package server_test

import (
	"strings"
	"testing"
	"time"
)

// Redis's cluster tests that need several nodes (docs/design/fidelity.md,
// "Redis's cluster tests, checked"), on three Crescent masters; the
// expected replies are redis-server 7.0.15's in the same situation.

// clusterID is the node id of the server behind c.
func clusterID(t *testing.T, c *rawConn) string {
	t.Helper()
	return bulkString(t, c.mustDo("CLUSTER", "MYID"))
}

// waitBlocked waits until c's server shows n blocked clients.
func waitBlocked(t *testing.T, c *rawConn, n string) {
	t.Helper()
	pollUntil(t, 5*time.Second, "blocked_clients:"+n, func() (bool, string) {
		info := c.mustDo("INFO", "clients")
		return strings.Contains(info, "blocked_clients:"+n+"\r\n"), info
	})
}

func TestClusterSuiteThreeMasters(t *testing.T) {
	addrs, srvs, cs := formThreeMasters(t)
	id0, id1 := clusterID(t, cs[0]), clusterID(t, cs[1])

	// CLUSTER NODES: with other nodes known, a node's own pong time is a
	// time in whole seconds (Redis learns it from gossip), not 0
	for _, l := range strings.Split(bulkString(t, cs[0].mustDo("CLUSTER", "NODES")+"\r\n"), "\n") {
		if f := strings.Fields(l); len(f) > 5 && strings.Contains(f[2], "myself") &&
			(f[5] == "0" || !strings.HasSuffix(f[5], "000")) {
			t.Fatalf("own CLUSTER NODES line: %q", l)
		}
	}

	// 18-info: a MOVED is a rejected call, counted in errorstats
	cs[1].mustDo("CONFIG", "RESETSTAT")
	if r := cs[1].mustDo("SET", "b", "1"); r != "-MOVED 3300 "+addrs[0]+"\r\n" {
		t.Fatalf("SET on another node's slot: %q", r)
	}
	if r := cs[1].mustDo("INFO", "errorstats"); !strings.Contains(r, "errorstat_MOVED:count=1\r\n") {
		t.Fatalf("errorstats: %q", r)
	}
	if r := cs[1].mustDo("INFO", "commandstats"); !strings.Contains(r, "cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\r\n") {
		t.Fatalf("commandstats: %q", r)
	}

	// DELSLOTS of a slot a live master serves elsewhere: in Redis it is
	// gone from this node's view until that master's next ping; nothing
	// changes for the cluster
	for _, cmd := range [][]string{{"CLUSTER", "DELSLOTS", "0", "1"}, {"CLUSTER", "DELSLOTSRANGE", "2", "100"}} {
		if r := cs[1].mustDo(cmd...); r != "+OK\r\n" {
			t.Fatalf("%q: %q", cmd, r)
		}
	}
	if r := cs[2].mustDo("GET", "k2"); r != "-MOVED 449 "+addrs[0]+"\r\n" {
		t.Fatalf("GET of slot 449 after another node's DELSLOTS: %q", r)
	}
	waitClusterOK(t, addrs[0], 3)

	// misc.tcl, "Key lazy expires during key migration": an expired key
	// of a migrating slot is missing (ASK) but not deleted by the check
	cs[0].mustDo("DEBUG", "SET-ACTIVE-EXPIRE", "0")
	cs[0].mustDo("SET", "FOO", "BAR", "PX", "10")
	clusterChange(t, cs[0], "+OK\r\n", "CLUSTER", "SETSLOT", "3028", "MIGRATING", id1)
	clusterChange(t, cs[1], "+OK\r\n", "CLUSTER", "SETSLOT", "3028", "IMPORTING", id0)
	time.Sleep(20 * time.Millisecond)
	for _, cmd := range [][]string{{"GET", "FOO"}, {"EXISTS", "FOO"}} {
		if r := cs[0].mustDo(cmd...); r != "-ASK 3028 "+addrs[1]+"\r\n" {
			t.Fatalf("%q in a migrating slot: %q", cmd, r)
		}
	}
	if r := cs[0].mustDo("CLUSTER", "COUNTKEYSINSLOT", "3028"); r != ":1\r\n" {
		t.Fatalf("COUNTKEYSINSLOT after the ASK: %q", r)
	}
	clusterChange(t, cs[0], "+OK\r\n", "CLUSTER", "SETSLOT", "3028", "STABLE")
	clusterChange(t, cs[1], "+OK\r\n", "CLUSTER", "SETSLOT", "3028", "STABLE")
	cs[0].mustDo("DEBUG", "SET-ACTIVE-EXPIRE", "1")

	// cli.tcl: a client blocked on a key whose slot moves to another
	// node is unblocked with MOVED (key9184688 is in slot 10923, node 2's)
	cs[2].mustDo("CONFIG", "RESETSTAT")
	blk := dialRaw(t, addrs[2])
	blk.send("BRPOP", "key9184688", "0")
	waitBlocked(t, cs[2], "1")
	clusterChange(t, cs[2], "+OK\r\n", "CLUSTER", "SETSLOT", "10923", "NODE", id0)
	if r := blk.read(5 * time.Second); r != "-MOVED 10923 "+addrs[0]+"\r\n" {
		t.Fatalf("BRPOP after its slot moved: %q", r)
	}
	waitBlocked(t, cs[2], "0")
	if r := cs[2].mustDo("INFO", "errorstats"); !strings.Contains(r, "errorstat_MOVED:count=1\r\n") {
		t.Fatalf("errorstats after the unblocking MOVED: %q", r)
	}

	// ... and with CLUSTERDOWN once the cluster is down (node 2 stopped)
	blk0 := dialRaw(t, addrs[0])
	blk0.send("BRPOP", "key9184688", "0")
	waitBlocked(t, cs[0], "1")
	srvs[2].Shutdown()
	if r := blk0.read(15 * time.Second); r != "-CLUSTERDOWN The cluster is down\r\n" {
		t.Fatalf("BRPOP when the cluster went down: %q", r)
	}
	waitBlocked(t, cs[0], "0")
}
