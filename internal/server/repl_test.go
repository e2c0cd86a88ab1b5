package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// Replication tests: a real redis-server 7.0 replica of Crescent,
// redis-cli --rdb, and raw replicas that stop reading or hang up.

// replWrite runs write number i of a mix that covers what the stream must
// carry: strings, hashes, lists, sets (SPOP, propagated as SREM), sorted
// sets, expiry (EXPIRE, SET EX rewritten as PXAT), scripts, MULTI/EXEC,
// several databases and FLUSHDB.
func replWrite(c *difftest.Conn, i int) error {
	s := strconv.Itoa(i)
	cmds := [][]string{
		{"SET", "s:" + s, "v" + s},
		{"HSET", "h:" + strconv.Itoa(i%7), "f" + s, s},
		{"RPUSH", "l:" + strconv.Itoa(i%5), s, s + "b"},
		{"SADD", "set", s, s + "x"},
		{"INCR", "counter"},
		{"ZADD", "z", s, "m" + s},
	}
	if i%3 == 0 {
		cmds = append(cmds, []string{"LPOP", "l:" + strconv.Itoa(i%5)}, []string{"SPOP", "set"})
	}
	if i%4 == 0 {
		cmds = append(cmds, []string{"EXPIRE", "s:" + s, "10000"}, []string{"SET", "ex:" + s, s, "EX", "5000"})
	}
	if i%5 == 0 {
		cmds = append(cmds, []string{"EVAL", "redis.call('set', KEYS[1], ARGV[1]); redis.call('hincrby', KEYS[2], 'n', 1); return redis.call('incr', 'counter')",
			"2", "e:" + s, "hscript", s})
	}
	for _, cmd := range cmds {
		if r, err := c.Do(cmd...); err != nil || r[0] == '-' {
			return fmt.Errorf("%v: %q %v", cmd, r, err)
		}
	}
	if i%6 == 0 {
		for _, cmd := range [][]string{{"MULTI"}, {"SET", "m:" + s, s}, {"ZINCRBY", "z", "1", "m" + s}, {"SELECT", "3"}, {"LPUSH", "l3", s}, {"SELECT", "0"}, {"EXEC"}} {
			if r, err := c.Do(cmd...); err != nil || r[0] == '-' {
				return fmt.Errorf("%v: %q %v", cmd, r, err)
			}
		}
	}
	if i%10 == 0 {
		for _, cmd := range [][]string{{"SELECT", "3"}, {"SET", "d3:" + s, s}, {"SELECT", "5"}, {"SET", "tmp", s}, {"FLUSHDB"}, {"SET", "after-flush:" + s, s}, {"SELECT", "0"}} {
			if r, err := c.Do(cmd...); err != nil || r[0] == '-' {
				return fmt.Errorf("%v: %q %v", cmd, r, err)
			}
		}
	}
	return nil
}

// replDataset describes every key of every database of the server at
// addr: name, type, value (unordered types sorted) and expiry time.
func replDataset(t *testing.T, addr string) []string {
	t.Helper()
	c := difftest.Connect(t, addr)
	defer c.Close()
	parse := func(raw []byte) difftest.Value {
		v, _, err := difftest.Parse(raw)
		if err != nil {
			t.Fatalf("parse %q: %v", raw, err)
		}
		return v
	}
	var out []string
	for db := 0; db < 16; db++ {
		c.MustDo(t, "SELECT", strconv.Itoa(db))
		var keys []string
		for _, k := range parse(c.MustDo(t, "KEYS", "*")).Elems {
			keys = append(keys, string(k.Str))
		}
		sort.Strings(keys)
		for _, k := range keys {
			typ := string(parse(c.MustDo(t, "TYPE", k)).Str)
			var val []byte
			switch typ {
			case "string":
				val = c.MustDo(t, "GET", k)
			case "list":
				val = c.MustDo(t, "LRANGE", k, "0", "-1")
			case "hash":
				val = difftest.SortedReply(c.MustDo(t, "HGETALL", k))
			case "set":
				val = difftest.SortedReply(c.MustDo(t, "SMEMBERS", k))
			case "zset":
				val = c.MustDo(t, "ZRANGE", k, "0", "-1", "WITHSCORES")
			case "stream":
				val = c.MustDo(t, "XRANGE", k, "-", "+")
			default:
				val = []byte("?")
			}
			exp := c.MustDo(t, "PEXPIRETIME", k)
			out = append(out, fmt.Sprintf("db%d %q %s %q exp=%q", db, k, typ, val, exp))
		}
	}
	return out
}

func compareDatasets(t *testing.T, want, got []string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("empty master dataset")
	}
	for i := range max(len(want), len(got)) {
		w, g := "<missing>", "<missing>"
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("datasets differ (master %d entries, replica %d) at %d:\nmaster:  %s\nreplica: %s", len(want), len(got), i, w, g)
		}
	}
}

// infoField returns field's value in INFO section's reply.
func infoField(t *testing.T, c *difftest.Conn, section, field string) string {
	t.Helper()
	v, _, err := difftest.Parse(c.MustDo(t, "INFO", section))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(v.Str), "\r\n") {
		if strings.HasPrefix(l, field+":") {
			return strings.TrimPrefix(l, field+":")
		}
	}
	return ""
}

func replWaitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReplicaOfCrescent(t *testing.T) {
	if difftest.RedisBinary() == "" {
		t.Skip("redis-server not found in PATH (set REDIS_SERVER): no real replica to test against")
	}
	t.Run("aof-off", func(t *testing.T) { replicaOfCrescent(t) })
	// the AOF and the stream are fed side by side
	t.Run("aof-on", func(t *testing.T) { replicaOfCrescent(t, "appendonly", "yes") })
}

// replicaOfCrescent runs a redis-server replica of a Crescent started with
// directives, under writes before, during and after the sync.
func replicaOfCrescent(t *testing.T, directives ...string) {
	addr, _ := startCrescent(t, directives...)
	_, port, _ := net.SplitHostPort(addr)
	c := difftest.Connect(t, addr)
	for i := 0; i < 200; i++ { // before the sync
		if err := replWrite(c, i); err != nil {
			t.Fatal(err)
		}
	}
	// writes during the sync, from another connection
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		w, err := difftest.DialAddr(addr)
		if err != nil {
			werr = err
			return
		}
		defer w.Close()
		for i := 1000; i < 5000; i++ { // a bounded load: the machine is shared
			select {
			case <-stop:
				return
			default:
			}
			if err := replWrite(w, i); err != nil {
				werr = err
				return
			}
		}
	}()
	rs := difftest.StartRedis(t, "--replicaof", "127.0.0.1", port)
	rc := difftest.Connect(t, rs.Addr)
	replWaitFor(t, "the replica's link", 20*time.Second, func() bool {
		return infoField(t, rc, "replication", "master_link_status") == "up"
	})
	time.Sleep(200 * time.Millisecond) // the stream runs while writes go on
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	for i := 200; i < 300; i++ { // after
		if err := replWrite(c, i); err != nil {
			t.Fatal(err)
		}
	}
	if r := string(c.MustDo(t, "WAIT", "1", "10000")); r != ":1\r\n" {
		t.Fatalf("WAIT 1 10000 = %q", r)
	}
	compareDatasets(t, replDataset(t, addr), replDataset(t, rs.Addr))

	// ROLE and INFO name the replica
	_, rport, _ := net.SplitHostPort(rs.Addr)
	if n := infoField(t, c, "replication", "connected_slaves"); n != "1" {
		t.Fatalf("connected_slaves:%s", n)
	}
	s0 := infoField(t, c, "replication", "slave0")
	if !strings.HasPrefix(s0, "ip=127.0.0.1,port="+rport+",state=online,offset=") {
		t.Fatalf("slave0:%s", s0)
	}
	off := infoField(t, c, "replication", "master_repl_offset")
	if off == "0" || off != infoField(t, rc, "replication", "master_repl_offset") {
		t.Fatalf("master_repl_offset %s, replica's %s", off, infoField(t, rc, "replication", "master_repl_offset"))
	}
	role := string(c.MustDo(t, "ROLE"))
	if !strings.HasPrefix(role, "*3\r\n$6\r\nmaster\r\n:"+off+"\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$"+strconv.Itoa(len(rport))+"\r\n"+rport+"\r\n") {
		t.Fatalf("ROLE = %q", role)
	}
	// FAILOVER's checks with a replica attached (the hand-over itself:
	// replica_test.go, TestFailover)
	for _, tc := range [][2]string{
		{"FAILOVER ABORT", "-ERR No failover in progress.\r\n"},
		{"FAILOVER TO 127.0.0.1 1", "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"},
		{"FAILOVER FORCE", "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.\r\n"},
	} {
		if r := string(c.MustDo(t, strings.Fields(tc[0])...)); r != tc[1] {
			t.Fatalf("%s = %q, want %q", tc[0], r, tc[1])
		}
	}
	// WAIT of a client that never wrote counts every online replica;
	// more replicas than attached times out with the count
	c2 := difftest.Connect(t, addr)
	if r := string(c2.MustDo(t, "WAIT", "2", "100")); r != ":1\r\n" {
		t.Fatalf("WAIT 2 100 = %q", r)
	}
}

// rawReplica attaches to addr as a replica with PSYNC, reads the
// FULLRESYNC line and the RDB, and returns the connection (positioned at
// the stream) with the stream's starting offset.
func rawReplica(t *testing.T, addr string) (net.Conn, *bufio.Reader, int64) {
	t.Helper()
	nc, rd := rawDial(t, addr)
	nc.Write(difftest.EncodeStrings("REPLCONF", "listening-port", "4321"))
	if l, _ := rd.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q", l)
	}
	nc.Write(difftest.EncodeStrings("PSYNC", "?", "-1"))
	first, rdb := readFullSync(t, rd, "PSYNC ? -1")
	f := strings.Fields(first)
	if len(f) != 3 || f[0] != "+FULLRESYNC" || len(f[1]) != 40 {
		t.Fatalf("PSYNC reply %q", f)
	}
	off, _ := strconv.ParseInt(f[2], 10, 64)
	if !bytes.HasPrefix(rdb, []byte("REDIS0010")) {
		t.Fatalf("RDB starts %q", rdb[:min(9, len(rdb))])
	}
	nc.SetDeadline(time.Time{})
	return nc, rd, off
}

// TestReplicaStreamExact checks the stream byte for byte against the
// offsets, and that a replica hanging up mid-stream leaves the server
// healthy.
func TestReplicaStreamExact(t *testing.T) {
	addr, _ := startCrescent(t)
	c := difftest.Connect(t, addr)
	c.MustDo(t, "SET", "before", "1")
	nc, rd, off := rawReplica(t, addr)
	c.MustDo(t, "SET", "k", "v")
	c.MustDo(t, "SELECT", "2")
	c.MustDo(t, "EVAL", "redis.call('set','a','1'); redis.call('del','a'); redis.call('rpush','l','x')", "0")
	end, _ := strconv.ParseInt(infoField(t, c, "replication", "master_repl_offset"), 10, 64)
	want := string(difftest.EncodeStrings("SELECT", "0")) + string(difftest.EncodeStrings("SET", "k", "v")) +
		string(difftest.EncodeStrings("SELECT", "2")) + string(difftest.EncodeStrings("MULTI")) +
		string(difftest.EncodeStrings("set", "a", "1")) + string(difftest.EncodeStrings("del", "a")) +
		string(difftest.EncodeStrings("rpush", "l", "x")) + string(difftest.EncodeStrings("EXEC"))
	if end-off != int64(len(want)) {
		t.Fatalf("offset advanced by %d, want %d", end-off, len(want))
	}
	got := make([]byte, len(want))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(rd, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("stream\n got %q\nwant %q", got, want)
	}
	if n := infoField(t, c, "replication", "connected_slaves"); n != "1" {
		t.Fatalf("connected_slaves:%s", n)
	}
	// ACK: WAIT counts the replica once it acknowledged the client's write
	nc.Write(difftest.EncodeStrings("REPLCONF", "ACK", strconv.FormatInt(end-1, 10)))
	if r := string(c.MustDo(t, "WAIT", "1", "100")); r != ":0\r\n" {
		t.Fatalf("WAIT before the ACK = %q", r)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		nc.Write(difftest.EncodeStrings("REPLCONF", "ACK", strconv.FormatInt(end+100, 10)))
	}()
	if r := string(c.MustDo(t, "WAIT", "1", "5000")); r != ":1\r\n" {
		t.Fatalf("WAIT after the ACK = %q", r)
	}
	// hang up mid-stream
	for i := 0; i < 50; i++ {
		c.MustDo(t, "SET", "x"+strconv.Itoa(i), strings.Repeat("y", 1000))
	}
	nc.Close()
	for i := 0; i < 50; i++ {
		c.MustDo(t, "SET", "z"+strconv.Itoa(i), "1")
	}
	replWaitFor(t, "the replica to be dropped", 5*time.Second, func() bool {
		return infoField(t, c, "replication", "connected_slaves") == "0"
	})
	if r := string(c.MustDo(t, "DBSIZE")); r != ":101\r\n" {
		t.Fatalf("DBSIZE = %q", r)
	}
	if r := string(c.MustDo(t, "WAIT", "1", "50")); r != ":0\r\n" {
		t.Fatalf("WAIT without replicas = %q", r)
	}
	// a new replica attaches again
	_, _, off2 := rawReplica(t, addr)
	if off2 < end {
		t.Fatalf("second sync at offset %d < %d", off2, end)
	}
}

// TestReplicaSlowDropped: a replica that stops reading is dropped once its
// queued stream passes the replica class's hard limit, and writers never
// wait for it.
func TestReplicaSlowDropped(t *testing.T) {
	addr, _ := startCrescent(t, "client-output-buffer-limit", "replica 1mb 0 0")
	c := difftest.Connect(t, addr)
	rawReplica(t, addr) // never reads again
	val := strings.Repeat("v", 32<<10)
	start := time.Now()
	for i := 0; i < 400; i++ { // 12.8 MB: past the socket buffers and the limit
		c.MustDo(t, "SET", "k"+strconv.Itoa(i%50), val)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("writes took %v", d)
	}
	replWaitFor(t, "the slow replica to be dropped", 5*time.Second, func() bool {
		return infoField(t, c, "replication", "connected_slaves") == "0"
	})
	if r := string(c.MustDo(t, "PING")); r != "+PONG\r\n" {
		t.Fatalf("PING = %q", r)
	}
}

// TestRedisCliRDB: redis-cli --rdb gets an RDB file (REPLCONF rdb-only)
// that redis-check-rdb accepts and a redis-server loads with the same
// data; the connection is then closed and no replica stays attached.
func TestRedisCliRDB(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil || difftest.RedisBinary() == "" {
		t.Skip("redis-cli or redis-server not found in PATH: skipping redis-cli --rdb")
	}
	addr, _ := startCrescent(t)
	host, port, _ := net.SplitHostPort(addr)
	c := difftest.Connect(t, addr)
	for i := 0; i < 100; i++ {
		if err := replWrite(c, i); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "dump.rdb")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, "-h", host, "-p", port, "--rdb", file).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --rdb: %v\n%s", err, out)
	}
	if chk, err := exec.LookPath("redis-check-rdb"); err == nil {
		if out, err := exec.CommandContext(ctx, chk, file).CombinedOutput(); err != nil {
			t.Fatalf("redis-check-rdb: %v\n%s", err, out)
		}
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		t.Fatalf("rdb file: %v", err)
	}
	rs := difftest.StartRedis(t, "--dir", dir, "--dbfilename", "dump.rdb")
	compareDatasets(t, replDataset(t, addr), replDataset(t, rs.Addr))
	if n := infoField(t, c, "replication", "connected_slaves"); n != "0" {
		t.Fatalf("connected_slaves:%s after redis-cli --rdb", n)
	}
	c.MustDo(t, "SET", "after", "1")
}

// TestReplicaPing: PING goes down the stream every
// repl-ping-replica-period seconds and counts in the offset.
func TestReplicaPing(t *testing.T) {
	addr, _ := startCrescent(t, "repl-ping-replica-period", "1")
	c := difftest.Connect(t, addr)
	nc, rd, off := rawReplica(t, addr)
	ping := string(difftest.EncodeStrings("PING"))
	got := make([]byte, len(ping))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(rd, got); err != nil || string(got) != ping {
		t.Fatalf("stream = %q, %v; want %q", got, err, ping)
	}
	end, _ := strconv.ParseInt(infoField(t, c, "replication", "master_repl_offset"), 10, 64)
	if end < off+int64(len(ping)) || (end-off)%int64(len(ping)) != 0 {
		t.Fatalf("offset %d after PINGs from %d", end, off)
	}
}

// TestReplicaExpiredDel: a key that expires on Crescent (here lazily, on
// access) is deleted on the replica by a DEL in the stream, as Redis
// does: a replica never expires keys by itself.
func TestReplicaExpiredDel(t *testing.T) {
	addr, _ := startCrescent(t)
	c := difftest.Connect(t, addr)
	nc, rd, _ := rawReplica(t, addr)
	c.MustDo(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	c.MustDo(t, "SET", "k", "v", "PX", "30")
	time.Sleep(60 * time.Millisecond)
	if r := string(c.MustDo(t, "GET", "k")); r != "$-1\r\n" {
		t.Fatalf("GET = %q", r)
	}
	head := string(difftest.EncodeStrings("SELECT", "0")) + "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$13\r\n"
	del := string(difftest.EncodeStrings("DEL", "k"))
	got := make([]byte, len(head)+13+2+len(del))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(rd, got); err != nil {
		t.Fatalf("stream %q: %v", got, err)
	}
	if !strings.HasPrefix(string(got), head) || !strings.HasSuffix(string(got), "\r\n"+del) {
		t.Fatalf("stream %q: want SET k v PXAT <ms>, then %q", got, del)
	}
}

// TestReplicaClientType: a replica is flagged S in CLIENT LIST, listed
// and killed by TYPE replica (not normal), and not in connected_clients.
func TestReplicaClientType(t *testing.T) {
	addr, _ := startCrescent(t)
	c := difftest.Connect(t, addr)
	rawReplica(t, addr)
	list := func(typ string) string {
		v, _, _ := difftest.Parse(c.MustDo(t, "CLIENT", "LIST", "TYPE", typ))
		return string(v.Str)
	}
	if l := list("replica"); strings.Count(l, "\n") != 1 || !strings.Contains(l, " flags=S ") {
		t.Fatalf("CLIENT LIST TYPE replica = %q", l)
	}
	if l := list("normal"); strings.Contains(l, "flags=S") || strings.Count(l, "\n") != 1 {
		t.Fatalf("CLIENT LIST TYPE normal = %q", l)
	}
	if n := infoField(t, c, "clients", "connected_clients"); n != "1" {
		t.Fatalf("connected_clients:%s", n)
	}
	if r := string(c.MustDo(t, "CLIENT", "KILL", "TYPE", "slave")); r != ":1\r\n" {
		t.Fatalf("CLIENT KILL TYPE slave = %q", r)
	}
	replWaitFor(t, "the killed replica to go", 5*time.Second, func() bool {
		return infoField(t, c, "replication", "connected_slaves") == "0"
	})
}
