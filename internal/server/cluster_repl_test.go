package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/redis/go-redis/v9"
)

// Cluster replicas and failover (docs/design/cluster.md, "Replicas and
// failover"): three masters and three replicas, READONLY reads, a manual
// CLUSTER FAILOVER under writes, a master stopped and failed over
// automatically, and its restart as a replica.

// replNodeTimeout is cluster-node-timeout in these tests (ms).
const replNodeTimeout = 3000

// clNode is an in-process cluster node that can be stopped and started
// again on the same ports and directory.
type clNode struct {
	t         *testing.T
	port, bus int
	dir       string
	addr      string
	cancel    context.CancelFunc
	done      chan error
	args      []string // more directives (newClNodeWith)
}

func newClNode(t *testing.T) *clNode { return newClNodeWith(t) }

// newClNodeWith is newClNode with more directives (args), kept for its
// restarts.
func newClNodeWith(t *testing.T, args ...string) *clNode {
	n := &clNode{t: t, port: freePort(t), bus: freePort(t), dir: t.TempDir(), args: args}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *clNode) start() {
	t := n.t
	t.Helper()
	srv := difftest.NewCrescent(t, append([]string{"--port", strconv.Itoa(n.port), "--dir", n.dir, "--cluster-enabled", "yes",
		"--cluster-port", strconv.Itoa(n.bus), "--cluster-node-timeout", strconv.Itoa(replNodeTimeout)}, n.args...)...)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- srv.Run(ctx) }()
	n.addr = srv.Addr().String()
}

// stop stops the node (its process would have been killed).
func (n *clNode) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.t.Errorf("node %s did not stop", n.addr)
	}
	n.cancel = nil
}

// pollUntil polls cond every 20 ms until it holds, or fails after d.
func pollUntil(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nodesLine returns the CLUSTER NODES line of id as c sees it.
func nodesLine(c *rawConn, id string) string {
	for _, l := range strings.Split(c.mustDo("CLUSTER", "NODES"), "\n") {
		if strings.HasPrefix(l, id+" ") {
			return l
		}
	}
	return ""
}

// replInfo returns field of INFO section on c.
func replInfo(c *rawConn, section, field string) string {
	for _, l := range strings.Split(c.mustDo("INFO", section), "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	return ""
}

// formSixNodes starts 3 masters with the slots in 3 ranges and 3 replicas
// (CLUSTER REPLICATE), replica i+3 of master i, and waits until every
// node is ok and every replica's link is up.
func formSixNodes(t *testing.T) ([]*clNode, []*rawConn, []string) {
	nodes := make([]*clNode, 6)
	cs := make([]*rawConn, 6)
	ids := make([]string, 6)
	for i := range nodes {
		nodes[i] = newClNode(t)
		cs[i] = dialRaw(t, nodes[i].addr)
		ids[i] = bulkString(t, cs[i].mustDo("CLUSTER", "MYID"))
	}
	for _, n := range nodes[1:] {
		meet(t, cs[0], n)
	}
	for i, c := range cs { // every node has the six (the new voters caught up)
		pollUntil(t, 20*time.Second, fmt.Sprintf("node %d knows 6 nodes", i), func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_known_nodes:6\r\n"), info
		})
	}
	ranges := [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i := 0; i < 3; i++ {
		// a try answered "leadership lost" may have been committed all
		// the same: its retry then finds the slots taken (by this node:
		// waitReplicas and the callers' checks see any other owner)
		busy := fmt.Sprintf("-ERR Slot %d is already busy\r\n", ranges[i][0])
		clusterChange(t, cs[i], busy, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(ranges[i][0]), strconv.Itoa(ranges[i][1]))
	}
	for i := 3; i < 6; i++ {
		clusterChange(t, cs[i], "", "CLUSTER", "REPLICATE", ids[i-3])
	}
	waitReplicas(t, nodes, cs)
	return nodes, cs, ids
}

// clusterChange runs a CLUSTER command that changes the configuration
// and fails the test unless it answers OK. A raft leader on a loaded
// machine (-race, other tests) may lose its lease while it commits: the
// command is then tried again, as a client would, and an answer equal to
// done (the first try was applied after all) counts as OK.
func clusterChange(t *testing.T, c *rawConn, done string, args ...string) {
	t.Helper()
	pollUntil(t, 30*time.Second, strings.Join(args[:2], " "), func() (bool, string) {
		r := c.mustDo(args...)
		switch {
		case strings.Contains(r, "leadership lost") || strings.HasPrefix(r, "-CLUSTERDOWN"):
			return false, r
		case r == "+OK\r\n" || (done != "" && r == done):
			return true, r
		}
		t.Fatalf("%v: %q", args, r)
		return false, r
	})
}

// meet has the node of c MEET n.
func meet(t *testing.T, c *rawConn, n *clNode) {
	t.Helper()
	clusterChange(t, c, "-ERR CLUSTER MEET of two nodes that are both in a cluster of several nodes is not supported\r\n",
		"CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.port), strconv.Itoa(n.bus))
}

// waitReplicas waits until every node's cluster state is ok and every
// replica's link to its master is up.
func waitReplicas(t *testing.T, nodes []*clNode, cs []*rawConn) {
	t.Helper()
	for i, c := range cs {
		pollUntil(t, 20*time.Second, fmt.Sprintf("node %d ok", i), func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:6\r\n") {
				return false, info
			}
			// every node has applied the configuration's three replicas
			if nl := c.mustDo("CLUSTER", "NODES"); strings.Count(nl, "slave ") != 3 {
				return false, nl
			}
			if replInfo(c, "replication", "role") == "slave" &&
				replInfo(c, "replication", "master_link_status") != "up" {
				return false, c.mustDo("INFO", "replication")
			}
			return true, ""
		})
	}
}

func TestClusterReplicasAndFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("six raft nodes")
	}
	nodes, cs, ids := formSixNodes(t)
	ctx := context.Background()

	// the configuration as every node shows it
	for i := 3; i < 6; i++ {
		if l := nodesLine(cs[i], ids[i]); !strings.Contains(l, " myself,slave "+ids[i-3]+" ") {
			t.Fatalf("CLUSTER NODES on replica %d: %q", i, l)
		}
		if l := nodesLine(cs[0], ids[i]); !strings.Contains(l, " slave "+ids[i-3]+" ") || !strings.HasSuffix(l, " connected") {
			t.Fatalf("CLUSTER NODES on node 0, replica %d: %q", i, l)
		}
		if r := cs[i].mustDo("ROLE"); !strings.HasPrefix(r, "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:"+strconv.Itoa(nodes[i-3].port)+"\r\n") {
			t.Fatalf("ROLE on replica %d: %q", i, r)
		}
	}
	if r := cs[1].mustDo("CLUSTER", "REPLICAS", ids[0]); !strings.HasPrefix(r, "*1\r\n$") || !strings.Contains(r, ids[3]+" ") {
		t.Fatalf("CLUSTER REPLICAS: %q", r)
	}
	if r := cs[1].mustDo("CLUSTER", "SLAVES", ids[3]); r != "-ERR The specified node is not a master\r\n" {
		t.Fatalf("CLUSTER SLAVES of a replica: %q", r)
	}
	slots := cs[4].mustDo("CLUSTER", "SLOTS")
	if strings.Count(slots, "*4\r\n") != 9 || !strings.HasPrefix(slots, "*3\r\n*4\r\n:0\r\n:5460\r\n") {
		t.Fatalf("CLUSTER SLOTS: %q", slots)
	}
	shards := cs[2].mustDo("CLUSTER", "SHARDS")
	if strings.Count(shards, "$7\r\nreplica\r\n") != 3 || !strings.HasPrefix(shards, "*3\r\n") {
		t.Fatalf("CLUSTER SHARDS: %q", shards)
	}
	// SPUBLISH reaches the shard's replicas over the bus (foo: slot
	// 12182, node 2's, replicated by node 5), as Redis's
	// clusterPropagatePublish; the reply counts the local receivers
	sub := dialRaw(t, nodes[5].addr)
	sub.mustDo("READONLY")
	if r := sub.mustDo("SSUBSCRIBE", "foo"); r != "*3\r\n$10\r\nssubscribe\r\n$3\r\nfoo\r\n:1\r\n" {
		t.Fatalf("SSUBSCRIBE on the replica: %q", r)
	}
	if r := cs[2].mustDo("SPUBLISH", "foo", "hi"); r != ":0\r\n" {
		t.Fatalf("SPUBLISH on the master: %q", r)
	}
	if r := sub.read(10 * time.Second); r != "*3\r\n$8\r\nsmessage\r\n$3\r\nfoo\r\n$2\r\nhi\r\n" {
		t.Fatalf("the replica's shard subscriber: %q", r)
	}
	for _, tc := range []struct {
		c    int
		cmd  []string
		want string
	}{
		{3, []string{"CLUSTER", "REPLICATE", ids[3]}, "-ERR Can't replicate myself\r\n"},
		{0, []string{"CLUSTER", "REPLICATE", ids[4]}, "-ERR I can only replicate a master, not a replica.\r\n"},
		{0, []string{"CLUSTER", "REPLICATE", ids[1]}, "-ERR To set a master the node must be empty and without assigned slots.\r\n"},
		{0, []string{"CLUSTER", "REPLICATE", "nosuchnode"}, "-ERR Unknown node nosuchnode\r\n"},
		{0, []string{"CLUSTER", "FAILOVER"}, "-ERR You should send CLUSTER FAILOVER to a replica\r\n"},
		{3, []string{"CLUSTER", "FAILOVER", "NOW"}, "-ERR syntax error\r\n"},
		{0, []string{"REPLICAOF", "127.0.0.1", "1"}, "-ERR REPLICAOF not allowed in cluster mode.\r\n"},
		{0, []string{"FAILOVER"}, "-ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.\r\n"},
		{3, []string{"CLUSTER", "FAILOVER", "FORCE", "x"}, "-ERR unknown subcommand or wrong number of arguments for 'FAILOVER'. Try CLUSTER HELP.\r\n"},
	} {
		if r := cs[tc.c].mustDo(tc.cmd...); r != tc.want {
			t.Errorf("%v on node %d: %q, want %q", tc.cmd, tc.c, r, tc.want)
		}
	}

	// writes through the cluster client show on the replicas (READONLY)
	addrs := []string{nodes[0].addr, nodes[1].addr, nodes[2].addr}
	// go-redis keeps sending a dead master's slots to it (connection
	// refused: no MOVED) until it reloads the slots, every
	// ClusterStateReloadInterval (60 s by default), against Redis too
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 16,
		ClusterStateReloadInterval: time.Second})
	defer cc.Close()
	const n = 300
	for i := 0; i < n; i++ {
		if err := cc.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// foo is in slot 12182: master 2's, replica 5's
	if r := cs[2].mustDo("SET", "foo", "bar"); r != "+OK\r\n" {
		t.Fatalf("SET foo: %q", r)
	}
	if r := cs[5].mustDo("GET", "foo"); r != "-MOVED 12182 "+nodes[2].addr+"\r\n" {
		t.Fatalf("GET on the replica without READONLY: %q", r)
	}
	cs[5].mustDo("READONLY")
	pollUntil(t, 5*time.Second, "foo on the replica", func() (bool, string) {
		r := cs[5].mustDo("GET", "foo")
		return r == "$3\r\nbar\r\n", r
	})
	if r := cs[5].mustDo("SET", "foo", "x"); r != "-MOVED 12182 "+nodes[2].addr+"\r\n" {
		t.Fatalf("SET on the replica with READONLY: %q", r)
	}
	if r := cs[5].mustDo("GET", "bar"); r != "-MOVED 5061 "+nodes[0].addr+"\r\n" { // master 0's slot
		t.Fatalf("GET of another shard's key on a READONLY replica: %q", r)
	}
	cs[5].mustDo("READWRITE")
	if r := cs[5].mustDo("GET", "foo"); r != "-MOVED 12182 "+nodes[2].addr+"\r\n" {
		t.Fatalf("GET on the replica after READWRITE: %q", r)
	}

	// manual failover of master 0 to replica 3 while writes go on: every
	// acknowledged write survives
	var mu sync.Mutex
	acked := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprint("w", i%200)
			if cc.Set(ctx, k, i, 0).Err() == nil {
				mu.Lock()
				acked[k] = i
				mu.Unlock()
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if r := cs[3].mustDo("CLUSTER", "FAILOVER"); r != "+OK\r\n" {
		t.Fatalf("CLUSTER FAILOVER: %q", r)
	}
	pollUntil(t, 15*time.Second, "replica 3 promoted, master 0 its replica", func() (bool, string) {
		l0, l3 := nodesLine(cs[0], ids[0]), nodesLine(cs[0], ids[3])
		return strings.Contains(l3, " master - ") && strings.Contains(l3, " 0-5460") &&
			strings.Contains(l0, "myself,slave "+ids[3]), l0 + " / " + l3
	})
	time.Sleep(200 * time.Millisecond) // some writes after the failover
	close(stop)
	wg.Wait()
	waitReplicas(t, nodes, cs)
	mu.Lock()
	for k, v := range acked {
		if got, err := cc.Get(ctx, k).Int(); err != nil || got != v {
			t.Fatalf("%s = %d, %v; acknowledged %d", k, got, err, v)
		}
	}
	mu.Unlock()
	if r := cs[0].mustDo("ROLE"); !strings.HasPrefix(r, "*5\r\n$5\r\nslave\r\n") {
		t.Fatalf("ROLE on the old master: %q", r)
	}

	// master 1 stops: replica 4 takes its slots over
	cs4 := dialRaw(t, nodes[4].addr)
	cs4.mustDo("READONLY")
	master1Keys := []string{}
	for i := 0; i < n; i++ {
		k := fmt.Sprint("k", i)
		if r := cs[1].mustDo("EXISTS", k); r == ":1\r\n" {
			master1Keys = append(master1Keys, k)
		}
	}
	if len(master1Keys) == 0 {
		t.Fatal("no key on master 1")
	}
	last := master1Keys[len(master1Keys)-1]
	pollUntil(t, 5*time.Second, "replica 4 caught up", func() (bool, string) {
		r := cs4.mustDo("EXISTS", last)
		return r == ":1\r\n", r
	})
	start := time.Now()
	nodes[1].stop()
	pollUntil(t, 10*replNodeTimeout*time.Millisecond, "replica 4 promoted", func() (bool, string) {
		l := nodesLine(cs[2], ids[4])
		return strings.Contains(l, " master - ") && strings.Contains(l, " 5461-10922"), l
	})
	t.Logf("automatic failover after %v (node timeout %d ms)", time.Since(start), replNodeTimeout)
	// the cluster client goes on: writes succeed, the replicated data is
	// there
	pollUntil(t, 10*time.Second, "writes after the failover", func() (bool, string) {
		for i := 0; i < 50; i++ {
			if err := cc.Set(ctx, fmt.Sprint("after", i), i, 0).Err(); err != nil {
				return false, fmt.Sprintf("after%d: %v; slots on node 2: %q", i, err, cs[2].mustDo("CLUSTER", "SLOTS"))
			}
		}
		return true, ""
	})
	for _, k := range master1Keys {
		want, _ := strconv.Atoi(k[1:])
		if got, err := cc.Get(ctx, k).Int(); err != nil || got != want {
			t.Fatalf("%s = %d, %v after the failover", k, got, err)
		}
	}

	// the old master comes back as a replica of the new one
	nodes[1].start()
	cs[1] = dialRaw(t, nodes[1].addr)
	pollUntil(t, 20*time.Second, "old master 1 a replica of 4", func() (bool, string) {
		l := nodesLine(cs[1], ids[1])
		return strings.Contains(l, "myself,slave "+ids[4]) &&
			replInfo(cs[1], "replication", "master_link_status") == "up", l
	})
	cs[1].mustDo("READONLY")
	for i := 0; i < 50; i++ { // the keys written after the failover in its shard
		k := fmt.Sprint("after", i)
		if sl := cluster.KeySlot([]byte(k)); sl < 5461 || sl > 10922 {
			continue
		}
		want := fmt.Sprintf("$%d\r\n%d\r\n", len(strconv.Itoa(i)), i)
		pollUntil(t, 5*time.Second, k+" on the old master", func() (bool, string) {
			r := cs[1].mustDo("GET", k)
			return r == want, r
		})
	}
	pollUntil(t, 10*time.Second, "fail flag cleared", func() (bool, string) {
		l := nodesLine(cs[2], ids[1])
		return !strings.Contains(l, "fail"), l
	})

	// CLUSTER FAILOVER TAKEOVER: the old master takes its slots back
	// without the handshake, with the data it replicated
	if r := cs[1].mustDo("CLUSTER", "FAILOVER", "TAKEOVER"); r != "+OK\r\n" {
		t.Fatalf("CLUSTER FAILOVER TAKEOVER: %q", r)
	}
	pollUntil(t, 10*time.Second, "node 1 master again, node 4 its replica", func() (bool, string) {
		l1, l4 := nodesLine(cs[1], ids[1]), nodesLine(cs[1], ids[4])
		return strings.Contains(l1, "myself,master - ") && strings.Contains(l1, " 5461-10922") &&
			strings.Contains(l4, " slave "+ids[1]+" "), l1 + " / " + l4
	})
	cs[1].mustDo("READWRITE")
	for _, k := range master1Keys {
		if r := cs[1].mustDo("GET", k); r != fmt.Sprintf("$%d\r\n%s\r\n", len(k)-1, k[1:]) {
			t.Fatalf("GET %s on node 1 after TAKEOVER: %q", k, r)
		}
	}

	// CLUSTER RESET on a replica that holds keys: an empty master, alone
	if r := cs[5].mustDo("DBSIZE"); r == ":0\r\n" {
		t.Fatalf("replica 5 holds no keys")
	}
	if r := cs[5].mustDo("CLUSTER", "RESET"); r != "+OK\r\n" {
		t.Fatalf("CLUSTER RESET on a replica: %q", r)
	}
	if r := cs[5].mustDo("DBSIZE"); r != ":0\r\n" {
		t.Fatalf("DBSIZE after RESET: %q", r)
	}
	pollUntil(t, 5*time.Second, "reset replica is a master", func() (bool, string) {
		r := cs[5].mustDo("ROLE")
		return strings.HasPrefix(r, "*3\r\n$6\r\nmaster\r\n"), r
	})
}

// TestClusterCreateReplicasRedisCli forms the cluster with redis-cli
// --cluster create --cluster-replicas 1, which uses CLUSTER REPLICATE.
func TestClusterCreateReplicasRedisCli(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not found in PATH: skipping redis-cli --cluster create --cluster-replicas 1")
	}
	nodes := make([]*clNode, 6)
	args := []string{"--cluster", "create"}
	for i := range nodes {
		nodes[i] = newClNode(t)
		args = append(args, nodes[i].addr)
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	cs := make([]*rawConn, 6)
	for i, n := range nodes {
		cs[i] = dialRaw(t, n.addr)
	}
	waitReplicas(t, nodes, cs)
	nl := cs[0].mustDo("CLUSTER", "NODES")
	if strings.Count(nl, " slave ") != 3 || strings.Count(nl, "master - ") != 3 {
		t.Fatalf("CLUSTER NODES after redis-cli create: %s", nl)
	}
	check, err := exec.CommandContext(ctx, cli, "--cluster", "check", nodes[0].addr).CombinedOutput()
	if err != nil || !strings.Contains(string(check), "[OK] All 16384 slots covered.") ||
		strings.Count(string(check), "S: ") != 3 {
		t.Fatalf("redis-cli --cluster check: %v\n%s", err, check)
	}
	if os.Getenv("CRESCENT_TEST_VERBOSE") != "" {
		t.Logf("%s", out)
	}
}

// TestClusterReplicaMigration: master 0 has two replicas (3 and 6),
// master 1 one (4). When replica 4 stops, master 1 is orphaned, and the
// replica of master 0 with the smaller id migrates to it (Redis's replica
// migration, docs/design/cluster.md), unless its
// cluster-allow-replica-migration is no or its cluster-migration-barrier
// would be crossed. Then master 1 stops, and its new replica is promoted
// only once neither its cluster-replica-no-failover nor its
// cluster-replica-validity-factor holds it back.
func TestClusterReplicaMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("seven raft nodes")
	}
	nodes, cs, ids := formSixNodes(t)
	n6 := newClNode(t)
	c6 := dialRaw(t, n6.addr)
	id6 := bulkString(t, c6.mustDo("CLUSTER", "MYID"))
	meet(t, cs[0], n6)
	pollUntil(t, 20*time.Second, "node 6 knows 7 nodes", func() (bool, string) {
		info := c6.mustDo("CLUSTER", "INFO")
		return strings.Contains(info, "cluster_known_nodes:7\r\n"), info
	})
	clusterChange(t, c6, "", "CLUSTER", "REPLICATE", ids[0])
	pollUntil(t, 20*time.Second, "node 6 replicates master 0", func() (bool, string) {
		return replInfo(c6, "replication", "master_link_status") == "up", c6.mustDo("INFO", "replication")
	})
	cand, other, cc := 3, 6, cs[3] // the candidate: the smaller id
	if id6 < ids[3] {
		cand, other, cc = 6, 3, c6
	}
	idOf := func(i int) string {
		if i == 6 {
			return id6
		}
		return ids[i]
	}
	// keys of master 1's slots (5461-10922), written before and after
	var keys []string
	for i := 0; len(keys) < 20; i++ {
		k := fmt.Sprint("m", i)
		if sl := cluster.KeySlot([]byte(k)); sl >= 5461 && sl <= 10922 {
			keys = append(keys, k)
			if r := cs[1].mustDo("SET", k, k); r != "+OK\r\n" {
				t.Fatalf("SET %s: %q", k, r)
			}
		}
	}
	// the candidate does not allow migration
	if r := cc.mustDo("CONFIG", "SET", "cluster-allow-replica-migration", "no"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	nodes[4].stop()
	pollUntil(t, 10*replNodeTimeout*time.Millisecond, "replica 4 flagged fail", func() (bool, string) {
		l := nodesLine(cs[1], ids[4])
		return strings.Contains(l, "fail"), l
	})
	masterOf := func(c *rawConn, i int) string { // on c, the master of node i
		f := strings.Fields(nodesLine(c, idOf(i)))
		if len(f) < 4 {
			return ""
		}
		return f[3]
	}
	unmoved := func(what string) {
		t.Helper()
		for _, i := range []int{3, 6} {
			if m := masterOf(cs[0], i); m != ids[0] {
				t.Fatalf("%s: node %d moved to %s", what, i, m)
			}
		}
	}
	time.Sleep(6 * time.Second) // past the 5 s an orphan waits
	unmoved("allow-replica-migration no")
	// the candidate allows it, but master 0 would be left with one
	// replica, not more than its barrier of 2
	cc.mustDo("CONFIG", "SET", "cluster-migration-barrier", "2")
	cc.mustDo("CONFIG", "SET", "cluster-allow-replica-migration", "yes")
	time.Sleep(2 * time.Second)
	unmoved("migration barrier 2")
	// barrier 1: the candidate moves to master 1, the other stays
	start := time.Now()
	cc.mustDo("CONFIG", "SET", "cluster-migration-barrier", "1")
	for _, i := range []int{0, 1, 2, 5} {
		pollUntil(t, 20*time.Second, fmt.Sprintf("node %d sees the migration", i), func() (bool, string) {
			return masterOf(cs[i], cand) == ids[1] && masterOf(cs[i], other) == ids[0], nodesLine(cs[i], idOf(cand))
		})
	}
	t.Logf("migrated %v after the barrier was lowered", time.Since(start))
	pollUntil(t, 20*time.Second, "the candidate replicates master 1", func() (bool, string) {
		return replInfo(cc, "replication", "master_port") == strconv.Itoa(nodes[1].port) &&
			replInfo(cc, "replication", "master_link_status") == "up", cc.mustDo("INFO", "replication")
	})
	if r := cs[1].mustDo("SET", "m-after", "x"); !strings.HasPrefix(r, "+OK") && !strings.HasPrefix(r, "-MOVED") {
		t.Fatalf("SET after the migration: %q", r)
	}
	cc.mustDo("READONLY")
	for _, k := range keys {
		pollUntil(t, 5*time.Second, k+" on the migrated replica", func() (bool, string) {
			r := cc.mustDo("GET", k)
			return r == fmt.Sprintf("$%d\r\n%s\r\n", len(k), k), r
		})
	}
	if r := cs[1].mustDo("CLUSTER", "REPLICAS", ids[1]); !strings.Contains(r, idOf(cand)+" ") {
		t.Fatalf("CLUSTER REPLICAS of master 1: %q", r)
	}

	// the limits on automatic failover: master 1 stops while its replica
	// has cluster-replica-no-failover, then data too old for its
	// cluster-replica-validity-factor; neither promotes it
	cc.mustDo("CONFIG", "SET", "cluster-replica-no-failover", "yes")
	for _, i := range []int{0, 2, 5} {
		pollUntil(t, 10*time.Second, fmt.Sprintf("nofailover flag on node %d", i), func() (bool, string) {
			l := nodesLine(cs[i], idOf(cand))
			return strings.Contains(l, " slave,nofailover "+ids[1]+" "), l
		})
	}
	// the replica's own view applies the entry on its own time too
	pollUntil(t, 10*time.Second, "nofailover flag on the replica itself", func() (bool, string) {
		l := nodesLine(cc, idOf(cand))
		return strings.Contains(l, " myself,slave,nofailover "), l
	})
	nodes[1].stop()
	pollUntil(t, 10*replNodeTimeout*time.Millisecond, "master 1 flagged fail", func() (bool, string) {
		l := nodesLine(cs[0], ids[1])
		return strings.Contains(l, "master,fail"), l
	})
	notPromoted := func(what string) {
		t.Helper()
		if l := nodesLine(cs[0], idOf(cand)); !strings.Contains(l, " slave") {
			t.Fatalf("%s: promoted: %q", what, l)
		}
	}
	time.Sleep(2 * time.Second)
	notPromoted("cluster-replica-no-failover yes")
	// with a factor of 1 and a ping period of 1 s, data older than
	// 3 + 1 + 3 s is too old: the replica's link has been down for 8 s
	cc.mustDo("CONFIG", "SET", "cluster-replica-validity-factor", "1", "repl-ping-replica-period", "1")
	pollUntil(t, 30*time.Second, "the link down for 8 s", func() (bool, string) {
		d, err := strconv.Atoi(replInfo(cc, "replication", "master_link_down_since_seconds"))
		return err == nil && d >= 8, cc.mustDo("INFO", "replication")
	})
	cc.mustDo("CONFIG", "SET", "cluster-replica-no-failover", "no")
	time.Sleep(2 * time.Second)
	notPromoted("data too old")
	cc.mustDo("CONFIG", "SET", "cluster-replica-validity-factor", "0") // no limit
	pollUntil(t, 20*time.Second, "the replica promoted", func() (bool, string) {
		l := nodesLine(cs[0], idOf(cand))
		return strings.Contains(l, " master - ") && strings.Contains(l, " 5461-10922"), l
	})
	cc.mustDo("READWRITE")
	for _, k := range keys { // once its cluster state is ok again
		pollUntil(t, 10*time.Second, k+" on the promoted replica", func() (bool, string) {
			r := cc.mustDo("GET", k)
			return r == fmt.Sprintf("$%d\r\n%s\r\n", len(k), k), r
		})
	}
}
