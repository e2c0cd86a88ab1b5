package server_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// Replication behaviours a Redis user relies on beyond the stream itself:
// min-replicas-to-write with real replica states (the corpus
// testdata/replication/min_replicas.txt compares the replies with
// redis-server), a replica under maxmemory, WAIT.

const errNoReplicas = "-NOREPLICAS Not enough good replicas to write.\r\n"

// TestMinReplicasToWrite follows the good-replica count as Redis's
// refreshGoodSlavesCount does: a replica counts once online, stops
// counting when it has not acknowledged for min-replicas-max-lag seconds,
// counts again after an ACK, and not after it hung up.
func TestMinReplicasToWrite(t *testing.T) {
	addr, _ := startCrescent(t, "min-replicas-to-write", "1", "min-replicas-max-lag", "1")
	c := difftest.Connect(t, addr)
	set := func() string { return string(c.MustDo(t, "SET", "k", "v")) }
	if r := set(); r != errNoReplicas {
		t.Fatalf("SET without replicas = %q", r)
	}
	if g := infoField(t, c, "replication", "min_slaves_good_slaves"); g != "0" {
		t.Fatalf("min_slaves_good_slaves:%s", g)
	}
	nc, _, off := rawReplica(t, addr)
	replWaitFor(t, "the replica to count", 20*time.Second, func() bool { return set() == "+OK\r\n" })
	if g := infoField(t, c, "replication", "min_slaves_good_slaves"); g != "1" {
		t.Fatalf("min_slaves_good_slaves:%s with an online replica", g)
	}
	// a script's writes and EXEC's queue pass too
	if r := string(c.MustDo(t, "EVAL", "return redis.call('set','k','w')", "0")); r != "+OK\r\n" {
		t.Fatalf("EVAL = %q", r)
	}
	// no ACK: past the lag, it no longer counts
	replWaitFor(t, "the silent replica to stop counting", 20*time.Second, func() bool { return set() == errNoReplicas })
	if r := string(c.MustDo(t, "EVAL", "return redis.call('set','k','w')", "0")); !strings.HasPrefix(r, "-NOREPLICAS ") {
		t.Fatalf("EVAL with a lagging replica = %q", r)
	}
	// an ACK makes it good again (at the next refresh, within a second)
	nc.Write(difftest.EncodeStrings("REPLCONF", "ACK", strconv.FormatInt(off, 10)))
	replWaitFor(t, "the replica to count after its ACK", 20*time.Second, func() bool { return set() == "+OK\r\n" })
	// it hangs up: at once
	nc.Close()
	replWaitFor(t, "the replica to be dropped", 20*time.Second, func() bool {
		return infoField(t, c, "replication", "connected_slaves") == "0"
	})
	if r := set(); r != errNoReplicas {
		t.Fatalf("SET after the replica left = %q", r)
	}
	c.MustDo(t, "CONFIG", "SET", "min-replicas-to-write", "0")
	if r := set(); r != "+OK\r\n" {
		t.Fatalf("SET with min-replicas-to-write 0 = %q", r)
	}
	if g := infoField(t, c, "replication", "min_slaves_good_slaves"); g != "" {
		t.Fatalf("min_slaves_good_slaves shown with the option off: %q", g)
	}
}

// TestMinReplicasReplicaRole: a replica never refuses for
// min-replicas-to-write (Redis's checkGoodReplicasStatus), and refuses again
// once promoted without replicas.
func TestMinReplicasReplicaRole(t *testing.T) {
	maddr, _ := startCrescent(t)
	raddr, _ := startCrescent(t, "min-replicas-to-write", "1", "replica-read-only", "no")
	rc := difftest.Connect(t, raddr)
	if r := string(rc.MustDo(t, "SET", "k", "v")); r != errNoReplicas {
		t.Fatalf("SET on the master-to-be = %q", r)
	}
	host, port, _ := net.SplitHostPort(maddr)
	rc.MustDo(t, "REPLICAOF", host, port)
	if r := string(rc.MustDo(t, "SET", "k", "v")); r != "+OK\r\n" {
		t.Fatalf("SET on a writable replica = %q", r)
	}
	rc.MustDo(t, "REPLICAOF", "NO", "ONE")
	if r := string(rc.MustDo(t, "SET", "k", "v")); r != errNoReplicas {
		t.Fatalf("SET after REPLICAOF NO ONE = %q", r)
	}
}

// TestReplicaIgnoresMaxmemory: a replica over maxmemory keeps every key of
// its master and takes its clients' writes (replica-ignore-maxmemory yes,
// the default); with no, it evicts by its policy, and with noeviction
// refuses its clients' writes, as Redis 7.0.
func TestReplicaIgnoresMaxmemory(t *testing.T) {
	maddr, _ := startCrescent(t)
	raddr, _ := startCrescent(t, "maxmemory-policy", "allkeys-random", "replica-read-only", "no")
	mc, rc := difftest.Connect(t, maddr), difftest.Connect(t, raddr)
	used, _ := strconv.ParseInt(infoField(t, rc, "memory", "used_memory"), 10, 64)
	rc.MustDo(t, "CONFIG", "SET", "maxmemory", strconv.FormatInt(used+200<<10, 10))
	host, port, _ := net.SplitHostPort(maddr)
	rc.MustDo(t, "REPLICAOF", host, port)
	replWaitFor(t, "the replica's link", 20*time.Second, func() bool {
		return infoField(t, rc, "replication", "master_link_status") == "up"
	})
	val := strings.Repeat("x", 1000)
	const n = 1000 // about 1 MB: five times what maxmemory leaves
	for i := range n {
		mc.MustDo(t, "SET", "key:"+strconv.Itoa(i), val)
	}
	replOffsetsMeet(t, mc, rc)
	if r := string(rc.MustDo(t, "DBSIZE")); r != ":"+strconv.Itoa(n)+"\r\n" {
		t.Fatalf("replica's DBSIZE = %q, want %d (evicted_keys:%s)", r, n, infoField(t, rc, "stats", "evicted_keys"))
	}
	if r := string(rc.MustDo(t, "SET", "local", "1")); r != "+OK\r\n" {
		t.Fatalf("a client's SET on the replica over maxmemory = %q", r)
	}
	if e := infoField(t, rc, "stats", "evicted_keys"); e != "0" {
		t.Fatalf("evicted_keys:%s on a replica ignoring maxmemory", e)
	}
	// replica-ignore-maxmemory no: the next command evicts
	rc.MustDo(t, "CONFIG", "SET", "replica-ignore-maxmemory", "no")
	mc.MustDo(t, "SET", "after", "1")
	replOffsetsMeet(t, mc, rc)
	if e, _ := strconv.Atoi(infoField(t, rc, "stats", "evicted_keys")); e == 0 {
		t.Fatalf("no key evicted with replica-ignore-maxmemory no (DBSIZE %q)", rc.MustDo(t, "DBSIZE"))
	}
	rc.MustDo(t, "CONFIG", "SET", "maxmemory-policy", "noeviction")
	rc.MustDo(t, "CONFIG", "SET", "maxmemory", "1")
	if r := string(rc.MustDo(t, "SET", "local", "2")); !strings.HasPrefix(r, "-OOM ") {
		t.Fatalf("a client's SET with replica-ignore-maxmemory no and noeviction = %q", r)
	}
	rc.MustDo(t, "CONFIG", "SET", "replica-ignore-maxmemory", "yes")
	if r := string(rc.MustDo(t, "SET", "local", "3")); r != "+OK\r\n" {
		t.Fatalf("a client's SET with replica-ignore-maxmemory yes = %q", r)
	}
}

// TestWaitBlocksForever: WAIT with timeout 0 waits for the replica's ACK of
// the client's last write however long it takes, as Redis.
func TestWaitBlocksForever(t *testing.T) {
	addr, _ := startCrescent(t)
	c := difftest.Connect(t, addr)
	nc, _, _ := rawReplica(t, addr)
	c.MustDo(t, "SET", "k", "v")
	end, _ := strconv.ParseInt(infoField(t, c, "replication", "master_repl_offset"), 10, 64)
	if err := c.SendCmd("WAIT", "1", "0"); err != nil {
		t.Fatal(err)
	}
	if r, err := c.ReadWithin(300 * time.Millisecond); err == nil {
		t.Fatalf("WAIT 1 0 answered %q before the ACK", r)
	}
	nc.Write(difftest.EncodeStrings("REPLCONF", "ACK", strconv.FormatInt(end-1, 10)))
	if r, err := c.ReadWithin(300 * time.Millisecond); err == nil {
		t.Fatalf("WAIT 1 0 answered %q after an ACK short of the write", r)
	}
	nc.Write(difftest.EncodeStrings("REPLCONF", "ACK", strconv.FormatInt(end, 10)))
	r, err := c.ReadWithin(5 * time.Second)
	if err != nil || string(r) != ":1\r\n" {
		t.Fatalf("WAIT 1 0 after the ACK = %q, %v", r, err)
	}
}
