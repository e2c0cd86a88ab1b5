package server_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
	"github.com/redis/go-redis/v9"
)

// Cluster mode (internal/cluster, docs/design/cluster.md): single nodes,
// three nodes forming a cluster with MEET, go-redis's ClusterClient, a
// slot migration with ASK, and the replies compared with a real
// redis-server --cluster-enabled yes.

// startClusterNode runs an in-process Crescent with cluster mode on a free
// bus port and short raft timeouts.
func startClusterNode(t *testing.T, directives ...string) string {
	t.Helper()
	addr, _ := startCrescent(t, append([]string{"cluster-enabled", "yes",
		"cluster-port", strconv.Itoa(freePort(t)), "cluster-node-timeout", "3000"}, directives...)...)
	return addr
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// waitClusterOK polls CLUSTER INFO on addr until cluster_state is ok and
// known_nodes is n.
func waitClusterOK(t *testing.T, addr string, n int) {
	t.Helper()
	c := dialRaw(t, addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := c.mustDo("CLUSTER", "INFO")
		if strings.Contains(info, "cluster_state:ok") && strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d\r\n", n)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: cluster not ok: %q", addr, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClusterSingleNode(t *testing.T) {
	addr := startClusterNode(t)
	c := dialRaw(t, addr)
	if r := c.mustDo("GET", "foo"); r != "-CLUSTERDOWN Hash slot not served\r\n" {
		t.Fatalf("GET before ADDSLOTS: %q", r)
	}
	if r := c.mustDo("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); r != "+OK\r\n" {
		t.Fatalf("ADDSLOTSRANGE: %q", r)
	}
	waitClusterOK(t, addr, 1)
	for _, tc := range []struct{ cmd, want string }{
		{"MSET a 1 b 2", "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{"MSET {u}a 1 {u}b 2", "+OK\r\n"},
		{"SELECT 1", "-ERR SELECT is not allowed in cluster mode\r\n"},
		{"SELECT 0", "+OK\r\n"},
		{"MOVE {u}a 1", "-ERR MOVE is not allowed in cluster mode\r\n"},
		{"CLUSTER KEYSLOT {u}a", ":11826\r\n"},
		{"CLUSTER COUNTKEYSINSLOT 11826", ":2\r\n"},
		{"EVAL return(1) 2 a b", "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{"EVAL return(redis.call('get',KEYS[1])) 1 {u}a", "$1\r\n1\r\n"},
		{"ASKING", "+OK\r\n"},
		{"READONLY", "+OK\r\n"},
		{"READWRITE", "+OK\r\n"},
	} {
		if r := c.mustDo(strings.Fields(tc.cmd)...); r != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, r, tc.want)
		}
	}
	// MULTI: a queued command of another slot fails the transaction
	c.mustDo("MULTI")
	c.mustDo("SET", "{u}a", "2")
	if r := c.mustDo("MSET", "x", "1", "y", "2"); !strings.HasPrefix(r, "-CROSSSLOT") {
		t.Fatalf("queued MSET: %q", r)
	}
	if r := c.mustDo("EXEC"); !strings.HasPrefix(r, "-EXECABORT") {
		t.Fatalf("EXEC: %q", r)
	}
	// EXEC of commands on two slots
	c.mustDo("MULTI")
	c.mustDo("SET", "x", "1")
	c.mustDo("SET", "y", "1")
	if r := c.mustDo("EXEC"); r != "-CROSSSLOT Keys in request don't hash to the same slot\r\n" {
		t.Fatalf("EXEC on two slots: %q", r)
	}
	if r := c.mustDo("EXEC"); r != "-ERR EXEC without MULTI\r\n" {
		t.Fatalf("EXEC after the discarded transaction: %q", r)
	}

	// go-redis's cluster client
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	defer cc.Close()
	for i := 0; i < 200; i++ {
		if err := cc.Set(ctx, fmt.Sprint("key:", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		if v, err := cc.Get(ctx, fmt.Sprint("key:", i)).Int(); err != nil || v != i {
			t.Fatalf("key:%d = %d, %v", i, v, err)
		}
	}
	if _, err := cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "{tx}a")
		p.Incr(ctx, "{tx}b")
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// an unassigned slot: the cluster is down for every key, or only for
	// that slot's with cluster-require-full-coverage no
	var in0 string
	for i := 0; in0 == ""; i++ {
		if k := fmt.Sprint("s", i); cluster.KeySlot([]byte(k)) == 0 {
			in0 = k
		}
	}
	if r := c.mustDo("CLUSTER", "DELSLOTS", "0"); r != "+OK\r\n" {
		t.Fatalf("DELSLOTS: %q", r)
	}
	for _, tc := range []struct{ cmd, want string }{
		{"GET " + in0, "-CLUSTERDOWN Hash slot not served\r\n"},
		{"GET {u}a", "-CLUSTERDOWN The cluster is down\r\n"},
		{"CONFIG SET cluster-require-full-coverage no", "+OK\r\n"},
		{"GET {u}a", "$1\r\n1\r\n"},
		{"GET " + in0, "-CLUSTERDOWN Hash slot not served\r\n"},
		{"CONFIG SET cluster-require-full-coverage yes", "+OK\r\n"},
		{"CONFIG SET cluster-allow-reads-when-down yes", "+OK\r\n"},
		{"GET {u}a", "$1\r\n1\r\n"},
		{"SET {u}a 2", "-CLUSTERDOWN The cluster is down and only accepts read commands\r\n"},
	} {
		if r := c.mustDo(strings.Fields(tc.cmd)...); r != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, r, tc.want)
		}
	}
}

func TestClusterThreeNodes(t *testing.T) {
	addrs, srvs, cs := formThreeMasters(t)
	// foo is in slot 12182: node 2's
	if r := cs[0].mustDo("GET", "foo"); r != "-MOVED 12182 "+addrs[2]+"\r\n" {
		t.Fatalf("GET foo on node 0: %q", r)
	}
	if r := cs[0].mustDo("EVAL", "return redis.call('get','foo')", "0"); !strings.HasPrefix(r,
		"-ERR Script attempted to access a non local key in a cluster node script: ") {
		t.Fatalf("script on a non-local key: %q", r)
	}
	nodes := cs[1].mustDo("CLUSTER", "NODES")
	if strings.Count(nodes, " connected") != 3 || !strings.Contains(nodes, "myself,master") {
		t.Fatalf("CLUSTER NODES: %q", nodes)
	}
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs[:1]})
	defer cc.Close()
	const n = 500
	for i := 0; i < n; i++ {
		if err := cc.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			for _, c := range cs {
				t.Log(c.mustDo("CLUSTER", "INFO"))
			}
			t.Fatal(err)
		}
	}
	check := func() {
		t.Helper()
		for i := 0; i < n; i++ {
			if v, err := cc.Get(ctx, fmt.Sprint("k", i)).Int(); err != nil || v != i {
				t.Fatalf("k%d = %d, %v", i, v, err)
			}
		}
	}
	check()

	// migrate slot 12182 (foo's, node 2's) to node 0 with SETSLOT,
	// MIGRATE and ASK
	ids := make([]string, 3)
	for i, c := range cs {
		ids[i] = bulkString(t, c.mustDo("CLUSTER", "MYID"))
	}
	cs[2].mustDo("SET", "foo", "bar")
	cs[2].mustDo("SET", "{foo}2", "x")
	const slot = "12182"
	if r := cs[0].mustDo("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[2]); r != "+OK\r\n" {
		t.Fatalf("IMPORTING: %q", r)
	}
	if r := cs[2].mustDo("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[0]); r != "+OK\r\n" {
		t.Fatalf("MIGRATING: %q", r)
	}
	if r := cs[2].mustDo("GET", "foo"); r != "$3\r\nbar\r\n" {
		t.Fatalf("GET of a key still here: %q", r)
	}
	if r := cs[2].mustDo("GET", "{foo}missing"); r != "-ASK "+slot+" "+addrs[0]+"\r\n" {
		t.Fatalf("GET of a missing key of a migrating slot: %q", r)
	}
	if r := cs[0].mustDo("GET", "{foo}missing"); r != "-MOVED "+slot+" "+addrs[2]+"\r\n" {
		t.Fatalf("GET on the importing node without ASKING: %q", r)
	}
	cs[0].mustDo("ASKING")
	if r := cs[0].mustDo("GET", "{foo}missing"); r != "$-1\r\n" {
		t.Fatalf("GET on the importing node after ASKING: %q", r)
	}
	if r := cs[0].mustDo("GET", "{foo}missing"); !strings.HasPrefix(r, "-MOVED") {
		t.Fatalf("ASKING holds for one command only: %q", r)
	}
	if r := cs[2].mustDo("MGET", "foo", "{foo}missing"); r != "-ASK "+slot+" "+addrs[2-2]+"\r\n" {
		t.Fatalf("MGET of a present and a missing key (Redis 7.0 asks): %q", r)
	}
	cs[0].mustDo("ASKING")
	cs[0].mustDo("SET", "{foo}new", "1")
	cs[0].mustDo("ASKING")
	if r := cs[0].mustDo("MGET", "{foo}new", "{foo}none"); r != "-TRYAGAIN Multiple keys request during rehashing of slot\r\n" {
		t.Fatalf("MGET on the importing node with a missing key: %q", r)
	}
	// ASKING holds through a transaction, then ends with EXEC
	cs[0].mustDo("ASKING")
	cs[0].mustDo("MULTI")
	cs[0].mustDo("GET", "{foo}new")
	if r := cs[0].mustDo("EXEC"); r != "*1\r\n$1\r\n1\r\n" {
		t.Fatalf("EXEC after ASKING: %q", r)
	}
	if r := cs[0].mustDo("GET", "{foo}new"); !strings.HasPrefix(r, "-MOVED") {
		t.Fatalf("GET after EXEC: %q", r)
	}
	keys := arrayOf(t, cs[2].mustDo("CLUSTER", "GETKEYSINSLOT", slot, "100"))
	if len(keys) != 2 {
		t.Fatalf("GETKEYSINSLOT: %q", keys)
	}
	args := append([]string{"MIGRATE", "127.0.0.1", portOf(addrs[0]), "", "0", "5000", "KEYS"}, keys...)
	if r := cs[2].mustDo(args...); r != "+OK\r\n" {
		t.Fatalf("MIGRATE: %q", r)
	}
	if r := cs[2].mustDo("GET", "foo"); r != "-ASK "+slot+" "+addrs[0]+"\r\n" {
		t.Fatalf("GET of a migrated key: %q", r)
	}
	for _, c := range []*rawConn{cs[0], cs[2]} {
		if r := c.mustDo("CLUSTER", "SETSLOT", slot, "NODE", ids[0]); r != "+OK\r\n" {
			t.Fatalf("SETSLOT NODE: %q", r)
		}
	}
	for _, c := range cs {
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := c.mustDo("CLUSTER", "COUNTKEYSINSLOT", slot) // any node: served here
			_ = r
			if g := c.mustDo("GET", "foo"); g == "$3\r\nbar\r\n" || g == "-MOVED "+slot+" "+addrs[0]+"\r\n" {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("GET foo after the migration: %q", g)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	check()
	if v, err := cc.Get(ctx, "foo").Result(); err != nil || v != "bar" {
		t.Fatalf("foo = %q, %v", v, err)
	}
	// another node's slot cannot be made MIGRATING here
	if r := cs[1].mustDo("CLUSTER", "SETSLOT", "0", "MIGRATING", ids[2]); r != "-ERR I'm not the owner of hash slot 0\r\n" {
		t.Fatalf("SETSLOT MIGRATING of another node's slot: %q", r)
	}

	// a node down for node-timeout is flagged fail: its slots are not
	// served, so the cluster is down (full coverage required)
	bus2 := busPortOf(t, cs, addrs[2], addrs)
	srvs[2].Shutdown()
	waitDown := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			r := cs[0].mustDo("GET", "k1")
			if r == "-CLUSTERDOWN The cluster is down\r\n" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %q", what, r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitDown("with a failed node")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := cs[1].mustDo("CLUSTER", "NODES")
		if strings.Contains(r, ids[2]+" "+addrs[2]+"@"+bus2+" master,fail ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CLUSTER NODES with a failed node: %q", r)
		}
	}
	if r := cs[0].mustDo("CLUSTER", "INFO"); !strings.Contains(r, "cluster_state:fail") ||
		!strings.Contains(r, "cluster_slots_fail:5460\r\n") {
		t.Fatalf("CLUSTER INFO with a failed node: %q", r)
	}
	// without a raft quorum the last node is down too
	srvs[1].Shutdown()
	waitDown("without quorum")
	if r := cs[0].mustDo("CLUSTER", "INFO"); !strings.HasPrefix(r, "$") || !strings.Contains(r, "cluster_state:fail") {
		t.Fatalf("CLUSTER INFO without quorum: %q", r)
	}
	if r := cs[0].mustDo("PING"); r != "+PONG\r\n" {
		t.Fatalf("PING: %q", r)
	}
}

// busPortOf returns the cluster bus port of the node at addr (from its
// own CLUSTER NODES line).
// formThreeMasters starts three cluster nodes, joins them and gives each
// a third of the slots (0-5460, 5461-10922, 10923-16383), then waits for
// cluster_state ok on all: their addresses, servers and a connection to
// each.
func formThreeMasters(t *testing.T) ([]string, []*server.Server, []*rawConn) {
	t.Helper()
	addrs := make([]string, 3)
	srvs := make([]*server.Server, 3)
	cs := make([]*rawConn, 3)
	for i := range addrs {
		addrs[i], srvs[i] = startCrescent(t, "cluster-enabled", "yes", "cluster-port", strconv.Itoa(freePort(t)),
			"cluster-node-timeout", "3000")
		cs[i] = dialRaw(t, addrs[i])
	}
	for _, a := range addrs[1:] {
		if r := cs[0].mustDo("CLUSTER", "MEET", "127.0.0.1", portOf(a), busPortOf(t, cs, a, addrs)); r != "+OK\r\n" {
			t.Fatalf("MEET: %q", r)
		}
	}
	ranges := [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i, c := range cs {
		if r := c.mustDo("CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(ranges[i][0]), strconv.Itoa(ranges[i][1])); r != "+OK\r\n" {
			t.Fatalf("node %d ADDSLOTSRANGE: %q", i, r)
		}
	}
	for _, a := range addrs {
		waitClusterOK(t, a, 3)
	}
	return addrs, srvs, cs
}

func busPortOf(t *testing.T, cs []*rawConn, addr string, addrs []string) string {
	t.Helper()
	for i, a := range addrs {
		if a != addr {
			continue
		}
		for _, l := range strings.Split(cs[i].mustDo("CLUSTER", "NODES"), "\n") {
			if strings.Contains(l, "myself") {
				f := strings.Fields(l)
				return f[1][strings.IndexByte(f[1], '@')+1:]
			}
		}
	}
	t.Fatalf("no bus port for %s", addr)
	return ""
}

func bulkString(t *testing.T, raw string) string {
	t.Helper()
	lines := strings.Split(raw, "\r\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "$") {
		t.Fatalf("not a bulk string: %q", raw)
	}
	return lines[1]
}

func arrayOf(t *testing.T, raw string) []string {
	t.Helper()
	lines := strings.Split(raw, "\r\n")
	var out []string
	for i := 1; i+1 < len(lines); i += 2 {
		out = append(out, lines[i+1])
	}
	return out
}

// TestClusterDiffSingleNode compares replies with a real redis-server in
// cluster mode, both single nodes serving every slot; node ids and ports
// are replaced by placeholders.
func TestClusterDiffSingleNode(t *testing.T) {
	raddr := startRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(freePort(t)))
	caddr := startClusterNode(t)
	conns := map[string]*rawConn{"redis": dialRaw(t, raddr), "crescent": dialRaw(t, caddr)}
	norm := map[string]func(string) string{}
	ids := map[string]string{}
	for name, c := range conns {
		id := bulkString(t, c.mustDo("CLUSTER", "MYID"))
		ids[name] = id
		port := portOf(map[string]string{"redis": raddr, "crescent": caddr}[name])
		bus := "@" + busPortOf(t, []*rawConn{c}, "x", []string{"x"})
		norm[name] = func(s string) string {
			return strings.NewReplacer(id, "<id>", port, "<port>", bus, "@<bus>").Replace(s)
		}
	}
	cmds := [][]string{
		{"CLUSTER", "INFO"}, // before: fail, nothing assigned (cluster_size aside)
		{"GET", "foo"},
		{"CLUSTER", "ADDSLOTSRANGE", "0", "16383"},
	}
	run := func(cmds [][]string) {
		t.Helper()
		for _, cmd := range cmds {
			rcmd, ccmd := withSelf(cmd, ids["redis"]), withSelf(cmd, ids["crescent"])
			r, c := conns["redis"].mustDo(rcmd...), conns["crescent"].mustDo(ccmd...)
			r, c = norm["redis"](r), norm["crescent"](c)
			if strings.Contains(r, "cluster_slots_assigned:0\r") { // Redis computes cluster_size later
				r = strings.Replace(r, "cluster_size:1", "cluster_size:0", 1)
			}
			if cmd[0] == "CLUSTER" && cmd[1] == "GETKEYSINSLOT" { // in any order
				r, c = string(difftest.SortedReply([]byte(r))), string(difftest.SortedReply([]byte(c)))
			}
			if r != c {
				t.Errorf("%q:\n redis    %q\n crescent %q", cmd, r, c)
			}
		}
	}
	run(cmds[1:])
	for _, a := range []string{raddr, caddr} {
		waitClusterOK(t, a, 1)
	}
	run([][]string{
		{"CLUSTER", "INFO"},
		{"CLUSTER", "NODES"},
		{"CLUSTER", "SLOTS"},
		{"CLUSTER", "SHARDS"},
		{"CLUSTER", "LINKS"},
		{"CLUSTER", "MYID", "x"},
		{"CLUSTER", "KEYSLOT", "{user}a"},
		{"CLUSTER", "KEYSLOT"},
		{"CLUSTER", "COUNTKEYSINSLOT", "16384"},
		{"CLUSTER", "COUNTKEYSINSLOT", "x"},
		{"CLUSTER", "GETKEYSINSLOT", "1", "-1"},
		{"CLUSTER", "GETKEYSINSLOT", "x", "1"},
		{"MSET", "a", "1", "b", "2"},
		{"MSET", "a", "1", "{a}b", "2"},
		{"CLUSTER", "COUNTKEYSINSLOT", "15495"},
		{"CLUSTER", "GETKEYSINSLOT", "15495", "5"},
		{"CLUSTER", "GETKEYSINSLOT", "15495", "0"},
		{"GET", "foo"},
		{"SELECT", "1"},
		{"SELECT", "x"},
		{"SWAPDB", "0", "1"},
		{"MOVE", "a", "1"},
		{"EVAL", "return 1", "2", "a", "b"},
		{"EVAL", "return redis.call('get','zz')", "0"},
		{"EVAL", "redis.call('get','a'); return redis.call('get','b')", "0"},
		{"EVAL", "#!lua flags=no-cluster\nreturn 1", "0"},
		{"EVAL", "return redis.call('select', '1')", "0"},
		{"FUNCTION", "LOAD", "#!lua name=clu\nredis.register_function('f', function(k) return redis.call('get', k[1]) end)"},
		{"FCALL", "f", "2", "a", "b"},
		{"FCALL", "f", "1", "{a}b"},
		{"MGET", "a", "{a}b", "a"},
		{"DEL", "a", "{a}x", "b"},
		{"SPUBLISH", "a", "m"},
		{"CLUSTER", "ADDSLOTS", "0"},
		{"CLUSTER", "ADDSLOTS", "16384"},
		{"CLUSTER", "ADDSLOTS", "x"},
		{"CLUSTER", "ADDSLOTSRANGE", "5", "1"},
		{"CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"},
		{"CLUSTER", "DELSLOTS", "0"},
		{"CLUSTER", "DELSLOTS", "0"},
		{"CLUSTER", "DELSLOTSRANGE", "0", "1"},
		{"CLUSTER", "ADDSLOTS", "0", "0"},
		{"CLUSTER", "ADDSLOTS", "0"},
		{"CLUSTER", "ADDSLOTSRANGE", "0", "1", "1", "3"},
		{"CLUSTER", "SETSLOT", "1", "foo"},
		{"CLUSTER", "SETSLOT", "1", "node"},
		{"CLUSTER", "SETSLOT", "16384", "stable"},
		{"CLUSTER", "SETSLOT", "1", "migrating", "ffffffffffffffffffffffffffffffffffffffff"},
		{"CLUSTER", "SETSLOT", "1", "importing", "<self>"},
		{"CLUSTER", "SETSLOT", "1", "node", "ffffffffffffffffffffffffffffffffffffffff"},
		{"CLUSTER", "SETSLOT", "15495", "node", "<self>"},
		{"CLUSTER", "SETSLOT", "1", "stable"},
		{"CLUSTER", "FORGET", "<self>"},
		{"CLUSTER", "FORGET", "ffffffffffffffffffffffffffffffffffffffff"},
		{"CLUSTER", "COUNT-FAILURE-REPORTS", "<self>"},
		{"CLUSTER", "COUNT-FAILURE-REPORTS", "ffffffffffffffffffffffffffffffffffffffff"},
		{"CLUSTER", "REPLICAS", "<self>"},
		{"CLUSTER", "MEET", "1.2.3.4", "abc"},
		{"CLUSTER", "MEET", "1.2.3.4", "1", "x"},
		{"CLUSTER", "MEET", "1.2.3.4", "99999999"},
		{"CLUSTER", "MEET", "not-an-ip", "1"},
		{"CLUSTER", "SET-CONFIG-EPOCH", "-1"},
		{"CLUSTER", "SET-CONFIG-EPOCH", "x"},
		{"CLUSTER", "SET-CONFIG-EPOCH", "5"},
		{"CLUSTER", "SET-CONFIG-EPOCH", "6"},
		{"CLUSTER", "INFO"},
		{"CLUSTER", "BUMPEPOCH"},
		{"CLUSTER", "FLUSHSLOTS"},
		{"CLUSTER", "RESET", "foo"},
		{"CLUSTER", "RESET"},
		{"CLUSTER", "FAILOVER"},
		{"CLUSTER", "FAILOVER", "now"},
		{"CLUSTER", "FAILOVER", "force", "x"},
		{"CLUSTER", "REPLICATE", "<self>"},
		{"CLUSTER", "REPLICATE", "ffffffffffffffffffffffffffffffffffffffff"},
		{"CLUSTER", "SLAVES", "ffffffffffffffffffffffffffffffffffffffff"},
		{"CLUSTER", "MEET", "1.2.3.4", "1", "2", "3"},
		{"REPLICAOF", "127.0.0.1", "1"},
		{"FAILOVER"},
		{"CLUSTER", "HELP"},
		{"CLUSTER", "NOSUCH"},
		{"ASKING"},
		{"READONLY"},
		{"READWRITE"},
		{"SET", "{a}c", "1"},
		{"MULTI"},
		{"SET", "x", "1"},
		{"SET", "y", "1"},
		{"EXEC"},
		{"EXEC"},
	})
}

// withSelf replaces the argument <self> of cmd by id.
func withSelf(cmd []string, id string) []string {
	out := append([]string(nil), cmd...)
	for i, a := range out {
		if a == "<self>" {
			out[i] = id
		}
	}
	return out
}
