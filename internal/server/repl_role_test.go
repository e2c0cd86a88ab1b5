package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// TestBlockedClientsOnReplicaof is Redis's "BLPOP followed by role change,
// issue #2473" (replication.tcl), compared with redis-server 7.0.15: when
// a master becomes a replica, its clients parked in BLPOP and in WAIT get
// -UNBLOCKED and are disconnected, so that no pop runs later on the
// replica's data; REPLICAOF of the master it already follows unblocks
// nobody. Before, Crescent left them parked.
func TestBlockedClientsOnReplicaof(t *testing.T) {
	master := difftest.StartRedis(t)
	mhost, mport, _ := net.SplitHostPort(master.Addr)
	run := func(addr string) []string {
		c := difftest.Connect(t, addr)
		var out []string
		blocked := []*difftest.Conn{difftest.Connect(t, addr), difftest.Connect(t, addr)}
		blocked[0].SendCmd("BLPOP", "foo", "0")
		blocked[1].SendCmd("WAIT", "1", "0")
		replWaitFor(t, "two blocked clients", 5*time.Second, func() bool {
			return infoField(t, c, "clients", "blocked_clients") == "2"
		})
		out = append(out, string(c.MustDo(t, "REPLICAOF", mhost, mport)))
		for _, b := range blocked {
			r, err := b.ReadWithin(5 * time.Second)
			out = append(out, string(r)+" "+errString(err))
			// then the connection is closed
			_, err = b.ReadWithin(5 * time.Second)
			out = append(out, "then "+errString(err))
		}
		out = append(out, "blocked_clients:"+infoField(t, c, "clients", "blocked_clients"),
			"errorstat_UNBLOCKED:"+infoField(t, c, "errorstats", "errorstat_UNBLOCKED"))
		// a reader parked while it already follows that master stays
		// (XREAD: a replica refuses BLPOP and WAIT)
		b := difftest.Connect(t, addr)
		b.SendCmd("XREAD", "BLOCK", "300", "STREAMS", "s", "$")
		replWaitFor(t, "a blocked client", 5*time.Second, func() bool {
			return infoField(t, c, "clients", "blocked_clients") == "1"
		})
		out = append(out, string(c.MustDo(t, "REPLICAOF", mhost, mport)))
		r, err := b.ReadWithin(5 * time.Second)
		out = append(out, string(r)+" "+errString(err))
		c.MustDo(t, "REPLICAOF", "NO", "ONE")
		return out
	}
	want := run(difftest.StartRedis(t).Addr)
	addr, _ := startCrescent(t)
	got := run(addr)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("redis:    %q\ncrescent: %q", want, got)
	}
}

func errString(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, io.EOF):
		return "EOF"
	default:
		return "error"
	}
}

// TestReplicaLinkGetsNoReplies is Redis's "replica do not write the reply
// to the replication link" (replication.tcl), compared with redis-server
// 7.0.15: a replica (after SYNC or PSYNC) that sends a command with a
// reply (PING, GET, SLOWLOG GET, XINFO HELP) is disconnected; REPLCONF ACK
// keeps it. Before, Crescent kept the link and dropped the reply.
func TestReplicaLinkGetsNoReplies(t *testing.T) {
	cases := [][]string{
		{"SYNC", "PING"},
		{"SYNC", "XINFO HELP"},
		{"PSYNC replicationid -1", "GET foo"},
		{"PSYNC replicationid -1", "SLOWLOG GET"},
		{"PSYNC replicationid -1", "REPLCONF ACK 0"},
		{"SYNC", "REPLCONF GETACK *"},
	}
	run := func(addr string) []string {
		var out []string
		for _, tc := range cases {
			nc, rd, _ := rawSync(t, addr, strings.Fields(tc[0]))
			nc.Write(difftest.EncodeStrings(strings.Fields(tc[1])...))
			nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err := rd.ReadByte()
			res := "kept"
			if errors.Is(err, io.EOF) {
				res = "closed"
			} else if err == nil {
				res = "got bytes"
			}
			nc.Close()
			out = append(out, tc[0]+" + "+tc[1]+": "+res)
		}
		c := difftest.Connect(t, addr)
		out = append(out, string(c.MustDo(t, "PING")))
		return out
	}
	want := run(difftest.StartRedis(t, "--repl-diskless-sync", "no", "--repl-ping-replica-period", "3600").Addr)
	addr, _ := startCrescent(t, "repl-ping-replica-period", "3600")
	got := run(addr)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("redis:    %q\ncrescent: %q", want, got)
	}
}

// rawSync sends cmd (SYNC, or PSYNC with its arguments) on a new
// connection and reads the reply up to the end of the RDB.
func rawSync(t *testing.T, addr string, cmd []string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	nc, rd := rawDial(t, addr)
	nc.Write(difftest.EncodeStrings(cmd...))
	first, _ := readFullSync(t, rd, strings.Join(cmd, " "))
	nc.SetDeadline(time.Time{})
	return nc, rd, first
}

// rawDial connects to addr for a sync, closed when the test ends, with a
// 10 s deadline for the sync to come.
func rawDial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc, bufio.NewReader(nc)
}

// readFullSync reads a sync's reply from rd: the +FULLRESYNC line if one
// comes (returned without its CRLF; "" for SYNC), then the RDB as a bulk,
// skipping keepalive newlines. what names the sync in failures.
func readFullSync(t *testing.T, rd *bufio.Reader, what string) (string, []byte) {
	t.Helper()
	var first string
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if l == "\n" {
			continue
		}
		l = strings.TrimSuffix(l, "\r\n")
		if strings.HasPrefix(l, "+FULLRESYNC") {
			first = l
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(l, "$"))
		if err != nil || l[0] != '$' {
			t.Fatalf("%s: RDB header %q", what, l)
		}
		rdb := make([]byte, n)
		if _, err := io.ReadFull(rd, rdb); err != nil {
			t.Fatal(err)
		}
		return first, rdb
	}
}

// TestFailoverWaitingStates is failover.tcl's "failover with timeout
// aborts if replica never catches up" and "failovers can be aborted",
// compared with redis-server 7.0.15: the target is a raw replica that
// never acknowledges, so the master stays in waiting-for-sync with writes
// paused (reads served) until the timeout or FAILOVER ABORT, then is a
// master again and the paused write runs.
func TestFailoverWaitingStates(t *testing.T) {
	run := func(addr string) []string {
		c := difftest.Connect(t, addr)
		rawReplica(t, addr) // listening-port 4321, never ACKs
		replWaitFor(t, "the replica online", 10*time.Second, func() bool {
			return strings.Contains(infoField(t, c, "replication", "slave0"), "state=online")
		})
		c.MustDo(t, "SET", "CASE", "1") // a write the replica never acknowledges
		var out []string
		state := func() { out = append(out, infoField(t, c, "replication", "master_failover_state")) }
		do := func(args ...string) { out = append(out, strings.Join(args, " ")+" -> "+string(c.MustDo(t, args...))) }
		do("FAILOVER", "TO", "127.0.0.1", "4321", "TIMEOUT", "300")
		state()
		do("GET", "CASE")
		do("FAILOVER", "TO", "127.0.0.1", "4321")
		replWaitFor(t, "the failover to time out", 5*time.Second, func() bool {
			return infoField(t, c, "replication", "master_failover_state") == "no-failover"
		})
		state()
		out = append(out, infoField(t, c, "replication", "role"))
		do("FAILOVER", "TO", "127.0.0.1", "4321", "TIMEOUT", "60000")
		state()
		w := difftest.Connect(t, addr)
		w.SendCmd("SET", "CASE", "2") // paused until the abort
		if r, err := w.ReadWithin(200 * time.Millisecond); err == nil {
			out = append(out, "SET during the wait -> "+string(r))
		}
		do("GET", "CASE")
		do("FAILOVER", "ABORT")
		state()
		r, err := w.ReadWithin(5 * time.Second)
		out = append(out, "SET after the abort -> "+string(r)+" "+errString(err))
		do("GET", "CASE")
		do("FAILOVER", "ABORT")
		out = append(out, infoField(t, c, "replication", "role"))
		return out
	}
	want := run(difftest.StartRedis(t, "--repl-diskless-sync", "no").Addr)
	addr, _ := startCrescent(t)
	got := run(addr)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("redis:    %q\ncrescent: %q", want, got)
	}
}
