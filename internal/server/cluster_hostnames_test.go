package server_test

import (
	"strings"
	"testing"
	"time"
)

// TestClusterHostnames: a node's cluster-announce-hostname reaches the
// other nodes (CLUSTER NODES' ",hostname"), and a node's
// cluster-preferred-endpoint-type decides the address its redirections
// give, as Redis 7.0's getPreferredEndpoint: the IP, the hostname ("?"
// for a node without one) or nothing (unknown-endpoint). The replies of
// CLUSTER SLOTS and SHARDS are compared with redis-server in
// difftest/testdata/cluster/suite_cluster_hostnames.txt.
func TestClusterHostnames(t *testing.T) {
	addrs, _, cs := formThreeMasters(t)
	port1, port2 := portOf(addrs[1]), portOf(addrs[2])
	if r := cs[1].mustDo("CONFIG", "SET", "cluster-announce-hostname", "host-b.example"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	pollUntil(t, 10*time.Second, "node 1's hostname on node 0", func() (bool, string) {
		nodes := cs[0].mustDo("CLUSTER", "NODES")
		return strings.Contains(nodes, ":"+port1+"@") && strings.Contains(nodes, ",host-b.example "), nodes
	})
	// z: slot 8157 (node 1); k1: slot 12706 (node 2, without a hostname)
	for _, tc := range []struct{ endpoint, z, k1 string }{
		{"ip", "127.0.0.1:" + port1, "127.0.0.1:" + port2},
		{"hostname", "host-b.example:" + port1, "?:" + port2},
		{"unknown-endpoint", ":" + port1, ":" + port2},
	} {
		if r := cs[0].mustDo("CONFIG", "SET", "cluster-preferred-endpoint-type", tc.endpoint); r != "+OK\r\n" {
			t.Fatalf("CONFIG SET %s: %q", tc.endpoint, r)
		}
		if r := cs[0].mustDo("GET", "z"); r != "-MOVED 8157 "+tc.z+"\r\n" {
			t.Errorf("%s: GET z: %q", tc.endpoint, r)
		}
		if r := cs[0].mustDo("GET", "k1"); r != "-MOVED 12706 "+tc.k1+"\r\n" {
			t.Errorf("%s: GET k1: %q", tc.endpoint, r)
		}
	}
	// ASK gives the endpoint too
	cs[0].mustDo("CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname")
	id1 := bulkString(t, cs[1].mustDo("CLUSTER", "MYID"))
	clusterChange(t, cs[1], "", "CLUSTER", "SETSLOT", "449", "IMPORTING", bulkString(t, cs[0].mustDo("CLUSTER", "MYID")))
	clusterChange(t, cs[0], "", "CLUSTER", "SETSLOT", "449", "MIGRATING", id1)
	if r := cs[0].mustDo("GET", "k2"); r != "-ASK 449 host-b.example:"+port1+"\r\n" {
		t.Errorf("GET k2 in a migrating slot: %q", r)
	}
	// the hostname removed: "?" again, on the other nodes too
	cs[1].mustDo("CONFIG", "SET", "cluster-announce-hostname", "")
	pollUntil(t, 10*time.Second, "node 1's hostname gone on node 0", func() (bool, string) {
		r := cs[0].mustDo("GET", "z")
		return r == "-MOVED 8157 ?:"+port1+"\r\n", r
	})
}
