package server_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterDiffReplicaShardPubsubMulti compares, with a real redis-server
// 7.0 master and replica, the shard pub/sub commands a replica serves for
// its master's slots: alone without READONLY, but inside MULTI/EXEC only
// with READONLY (Redis 7.0's getNodeByQuery looks at EXEC itself, not at
// the queued commands, for SPUBLISH and SSUBSCRIBE: `MOVED`; Redis 7.2
// looks at the queued commands). Ports are replaced by placeholders.
func TestClusterDiffReplicaShardPubsubMulti(t *testing.T) {
	if testing.Short() {
		t.Skip("two redis-server and two raft nodes")
	}
	type pair struct {
		master, replica string // addresses
	}
	var redis pair
	redis.master = startRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(freePort(t)))
	rbus := freePort(t)
	redis.replica = startRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(rbus))
	cm, cr := newClNode(t), newClNode(t)
	cres := pair{cm.addr, cr.addr}

	// redis: the master serves every slot, meets the replica, which
	// replicates it once it knows it
	rm, rr := dialRaw(t, redis.master), dialRaw(t, redis.replica)
	if rep := rm.mustDo("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); rep != "+OK\r\n" {
		t.Fatalf("redis ADDSLOTSRANGE: %q", rep)
	}
	if rep := rm.mustDo("CLUSTER", "MEET", "127.0.0.1", portOf(redis.replica), strconv.Itoa(rbus)); rep != "+OK\r\n" {
		t.Fatalf("redis MEET: %q", rep)
	}
	rid := bulkString(t, rm.mustDo("CLUSTER", "MYID"))
	pollUntil(t, 20*time.Second, "redis replica replicates", func() (bool, string) {
		rep := rr.mustDo("CLUSTER", "REPLICATE", rid)
		return rep == "+OK\r\n", rep
	})
	// crescent: the same through raft
	ccm, ccr := dialRaw(t, cm.addr), dialRaw(t, cr.addr)
	clusterChange(t, ccm, "-ERR Slot 0 is already busy\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
	meet(t, ccm, cr)
	pollUntil(t, 20*time.Second, "crescent replica knows 2 nodes", func() (bool, string) {
		info := ccr.mustDo("CLUSTER", "INFO")
		return strings.Contains(info, "cluster_known_nodes:2\r\n"), info
	})
	clusterChange(t, ccr, "", "CLUSTER", "REPLICATE", bulkString(t, ccm.mustDo("CLUSTER", "MYID")))
	for name, c := range map[string]*rawConn{"redis": rr, "crescent": ccr} {
		pollUntil(t, 20*time.Second, name+" replica ok and linked", func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok") &&
				replInfo(c, "replication", "master_link_status") == "up", info
		})
	}
	// the masters too: a redis-server master reports ok a moment after its
	// replica may (its writable delay), which the replica's 5 s sync delay
	// used to cover
	for name, c := range map[string]*rawConn{"redis": rm, "crescent": ccm} {
		pollUntil(t, 20*time.Second, name+" master ok", func() (bool, string) {
			info := c.mustDo("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok"), info
		})
	}

	seqs := []struct {
		on   string // "master" or "replica"
		cmds [][]string
	}{
		{"replica", [][]string{{"MULTI"}, {"SPUBLISH", "k3", "hi"}, {"EXEC"}, {"SPUBLISH", "k3", "hi"}}},
		{"replica", [][]string{{"MULTI"}, {"SSUBSCRIBE", "k3"}, {"EXEC"}}},
		{"replica", [][]string{{"MULTI"}, {"SPUBLISH", "k3", "hi"}, {"GET", "k3"}, {"EXEC"}}},
		{"replica", [][]string{{"READONLY"}, {"MULTI"}, {"SPUBLISH", "k3", "hi"}, {"GET", "k3"}, {"EXEC"},
			{"MULTI"}, {"SPUBLISH", "k3", "hi"}, {"SET", "k3", "v"}, {"EXEC"}}},
		{"replica", [][]string{{"READONLY"}, {"MULTI"}, {"SSUBSCRIBE", "k3"}, {"EXEC"}}},
		{"master", [][]string{{"MULTI"}, {"SPUBLISH", "k3", "hi"}, {"EXEC"}, {"MULTI"}, {"SSUBSCRIBE", "k3"}, {"EXEC"}}},
	}
	norm := func(p pair, s string) string {
		return strings.NewReplacer(p.master, "<master>", p.replica, "<replica>").Replace(s)
	}
	for _, seq := range seqs {
		conns := map[string]*rawConn{}
		for name, p := range map[string]pair{"redis": redis, "crescent": cres} {
			addr := p.replica
			if seq.on == "master" {
				addr = p.master
			}
			conns[name] = dialRaw(t, addr)
		}
		for _, cmd := range seq.cmds {
			r := norm(redis, conns["redis"].mustDo(cmd...))
			c := norm(cres, conns["crescent"].mustDo(cmd...))
			if r != c {
				t.Errorf("on the %s, %v: redis %q, crescent %q", seq.on, cmd, r, c)
			}
		}
	}
}
