package server_test

import (
	"context"
	"os/exec"
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

	// announced-endpoints.tcl: cluster-announce-port changed at run time
	// shows in every node's CLUSTER NODES (and MOVED), and 0 goes back to
	// the port
	cs[0].mustDo("CONFIG", "SET", "cluster-announce-port", "7777")
	for _, c := range cs {
		pollUntil(t, 5*time.Second, "announced port", func() (bool, string) {
			r := c.mustDo("CLUSTER", "NODES")
			return strings.Contains(r, id0+" 127.0.0.1:7777@"), r
		})
	}
	if r := cs[1].mustDo("SET", "b", "1"); r != "-MOVED 3300 127.0.0.1:7777\r\n" {
		t.Fatalf("MOVED to the announced port: %q", r)
	}
	cs[0].mustDo("CONFIG", "SET", "cluster-announce-port", "0")
	for _, c := range cs {
		pollUntil(t, 5*time.Second, "port again", func() (bool, string) {
			r := c.mustDo("CLUSTER", "NODES")
			return strings.Contains(r, id0+" "+addrs[0]+"@"), r
		})
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

	// ... and with CLUSTERDOWN once the cluster is down (node 2 stopped),
	// on node 0, once it has applied the change too
	pollUntil(t, 5*time.Second, "node 0 serving slot 10923", func() (bool, string) {
		r := cs[0].mustDo("GET", "key9184688")
		return r == "$-1\r\n", r
	})
	blk0 := dialRaw(t, addrs[0])
	blk0.send("BRPOP", "key9184688", "0")
	waitBlocked(t, cs[0], "1")
	srvs[2].Shutdown()
	if r := blk0.read(15 * time.Second); r != "-CLUSTERDOWN The cluster is down\r\n" {
		t.Fatalf("BRPOP when the cluster went down: %q", r)
	}
	waitBlocked(t, cs[0], "0")
}

// TestClusterFixHalfMigratedRedisCli is Redis's 20-half-migrated-slot.tcl:
// a slot migration stopped at each stage is repaired by redis-cli
// --cluster fix, and the key stays readable. The third stage is redis-cli's
// "no single clear owner" repair: on the node holding the key it runs
// SETSLOT STABLE, DELSLOTS (of a slot another node owns), ADDSLOTS and
// BUMPEPOCH, so DELSLOTS must free the slot for the cluster.
func TestClusterFixHalfMigratedRedisCli(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not found in PATH: skipping redis-cli --cluster fix")
	}
	addrs, _, cs := formThreeMasters(t)
	ids := []string{clusterID(t, cs[0]), clusterID(t, cs[1])}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// run runs redis-cli --cluster op; the node that proposed the last
	// change has applied it, the others may not have yet: redis-cli then
	// says they "don't agree", and is run again (Redis's own fix_cluster
	// helper waits for agreement too)
	run := func(stage, op string, args ...string) string {
		t.Helper()
		for try := 0; ; try++ {
			out, err := exec.CommandContext(ctx, cli, append([]string{"--cluster", op, addrs[0]}, args...)...).CombinedOutput()
			if err == nil && (op != "check" || !strings.Contains(string(out), "[WARNING]")) {
				return string(out)
			}
			if !strings.Contains(string(out), "don't agree") || try == 50 {
				t.Fatalf("%s: redis-cli --cluster %s: %v\n%s", stage, op, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	fix := func(stage string) {
		t.Helper()
		run(stage, "fix", "--cluster-yes")
		run(stage, "check")
		// the key, through whichever node owns slot 609 now
		for i, c := range cs[:2] {
			if r := c.mustDo("GET", "aga"); r == "$3\r\nxyz\r\n" {
				return
			} else if !strings.HasPrefix(r, "-MOVED 609 ") {
				t.Fatalf("%s: GET aga on node %d: %q", stage, i, r)
			}
		}
		t.Fatalf("%s: aga not found", stage)
	}
	if r := cs[0].mustDo("SET", "aga", "xyz"); r != "+OK\r\n" { // slot 609, node 0's
		t.Fatalf("SET aga: %q", r)
	}
	clusterChange(t, cs[0], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "MIGRATING", ids[1])
	fix("half init migration in 'migrating'")
	clusterChange(t, cs[1], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "IMPORTING", ids[0])
	fix("half init migration in 'importing'")
	clusterChange(t, cs[0], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "MIGRATING", ids[1])
	clusterChange(t, cs[1], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "IMPORTING", ids[0])
	if r := cs[0].mustDo("MIGRATE", "127.0.0.1", portOf(addrs[1]), "aga", "0", "10000"); r != "+OK\r\n" {
		t.Fatalf("MIGRATE: %q", r)
	}
	fix("init migration and move key")
	if r := cs[1].mustDo("CLUSTER", "COUNTKEYSINSLOT", "609"); r != ":1\r\n" {
		t.Fatalf("slot 609 on node 1 after the fix: %q", r)
	}
	// back to node 0, the source marked done (SETSLOT NODE) first
	clusterChange(t, cs[1], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "MIGRATING", ids[0])
	clusterChange(t, cs[0], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "IMPORTING", ids[1])
	if r := cs[1].mustDo("MIGRATE", "127.0.0.1", portOf(addrs[0]), "aga", "0", "10000"); r != "+OK\r\n" {
		t.Fatalf("MIGRATE back: %q", r)
	}
	clusterChange(t, cs[1], "+OK\r\n", "CLUSTER", "SETSLOT", "609", "NODE", ids[0])
	fix("half-finished migration")
}
