package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// shutdownAbortTranscript plays SHUTDOWN's option errors, then a
// SHUTDOWN that waits for a replica which never acknowledges (writes
// paused, reads served) and a SHUTDOWN ABORT, against addr.
func shutdownAbortTranscript(t *testing.T, addr string) []string {
	t.Helper()
	rawReplica(t, addr) // attached, never sends REPLCONF ACK: lagging
	a, b, s, s2 := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	var out []string
	add := func(what, r string) { out = append(out, fmt.Sprintf("%s -> %q", what, r)) }
	for _, args := range [][]string{
		{"SHUTDOWN", "ABORT"}, {"SHUTDOWN", "abort", "ABORT"}, {"SHUTDOWN", "ABORT", "NOW"},
		{"SHUTDOWN", "NOSAVE", "ABORT"}, {"SHUTDOWN", "SAVE", "NOSAVE"}, {"SHUTDOWN", "NOW", "FOO"},
		{"EVAL", "return redis.call('shutdown', 'abort')", "0"},
		{"SET", "k", "v"},
	} {
		add(strings.Join(args, " "), a.do(args...))
	}
	s.send("SHUTDOWN", "NOSAVE")
	add("SHUTDOWN NOSAVE (blocked)", s.read(300*time.Millisecond))
	s2.send("SHUTDOWN", "NOW") // a second one waits with the first
	add("SHUTDOWN NOW (blocked)", s2.read(100*time.Millisecond))
	b.send("SET", "k2", "v2")
	add("SET during the wait (paused)", b.read(200*time.Millisecond))
	add("GET during the wait", a.do("GET", "k"))
	// CLIENT PAUSE and UNPAUSE end only their own pause, not the wait's
	add("CLIENT PAUSE 50 ALL", a.do("CLIENT", "PAUSE", "50", "ALL"))
	add("CLIENT UNPAUSE", a.do("CLIENT", "UNPAUSE"))
	add("the SET still paused", b.read(200*time.Millisecond))
	add("GET after CLIENT UNPAUSE", a.do("GET", "k"))
	add("SHUTDOWN ABORT", a.do("SHUTDOWN", "ABORT"))
	add("first SHUTDOWN's reply", s.read(2*time.Second))
	add("second SHUTDOWN's reply", s2.read(2*time.Second))
	add("the paused SET's reply", b.read(2*time.Second))
	add("SHUTDOWN ABORT again", a.do("SHUTDOWN", "ABORT"))
	add("PING", a.do("PING"))
	return out
}

// TestShutdownWaitsForReplicas compares with redis-server SHUTDOWN's
// option checks and its wait for a lagging replica, cancelled by SHUTDOWN
// ABORT. Before, Crescent stopped on SHUTDOWN ABORT, on illegal option
// combinations and without waiting for its replicas.
func TestShutdownWaitsForReplicas(t *testing.T) {
	redisAddr := startRedis(t)
	crAddr, _ := startCrescent(t)
	want := shutdownAbortTranscript(t, redisAddr)
	got := shutdownAbortTranscript(t, crAddr)
	t.Logf("redis:\n%s", strings.Join(want, "\n"))
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("step %d differs\nredis:    %s\ncrescent: %s\nredis transcript:\n%s", i, want[i], got[min(i, len(got)-1)], strings.Join(want, "\n"))
		}
	}
}

// shutdownExit sends SHUTDOWN args to addr, whose replica is lagging, and
// reports how long the connection took to close (the server stopped).
func shutdownExit(t *testing.T, addr string, ack bool, args ...string) time.Duration {
	t.Helper()
	nc, _, _ := rawReplica(t, addr)
	c := dialRaw(t, addr)
	c.mustDo("SET", "k", "v")
	if ack { // the replica acknowledges everything: not lagging
		off := infoField(t, c.dc, "replication", "master_repl_offset")
		nc.Write(difftest.EncodeStrings("REPLCONF", "ACK", off))
		replWaitFor(t, "the acknowledgement", 5*time.Second, func() bool {
			return strings.Contains(infoField(t, c.dc, "replication", "slave0"), "offset="+off)
		})
	}
	start := time.Now()
	c.send(args...)
	if r := c.read(10 * time.Second); r != "<eof>" {
		t.Fatalf("%v: got %q, want the connection closed", args, r)
	}
	return time.Since(start)
}

// TestShutdownReplicaTimeout checks, against redis-server, when SHUTDOWN
// stops a master with one replica: at once with NOW, with a replica that
// acknowledged the whole stream, or with shutdown-timeout 0, and after
// shutdown-timeout seconds with a lagging replica.
func TestShutdownReplicaTimeout(t *testing.T) {
	if difftest.RedisBinary() == "" {
		t.Skip("redis-server not found in PATH: skipping the comparison of SHUTDOWN's replica wait")
	}
	cases := []struct {
		name    string
		timeout string
		ack     bool
		args    []string
		waits   bool
	}{
		{"now", "10", false, []string{"SHUTDOWN", "NOSAVE", "NOW"}, false},
		{"acked", "10", true, []string{"SHUTDOWN", "NOSAVE"}, false},
		{"timeout-0", "0", false, []string{"SHUTDOWN", "NOSAVE"}, false},
		{"lagging", "1", false, []string{"SHUTDOWN", "NOSAVE"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, which := range []string{"redis", "crescent"} {
				var addr string
				if which == "redis" {
					addr = startRedis(t, "--shutdown-timeout", tc.timeout)
				} else {
					addr, _ = startCrescent(t, "shutdown-timeout", tc.timeout)
				}
				d := shutdownExit(t, addr, tc.ack, tc.args...)
				if tc.waits && d < 900*time.Millisecond || !tc.waits && d > 5*time.Second {
					t.Errorf("%s stopped after %v (waits for the replica: %v)", which, d, tc.waits)
				}
			}
		})
	}
}

// TestDebugChangeReplID checks DEBUG CHANGE-REPL-ID: a new master_replid,
// master_replid2 zeros and second_repl_offset -1 (it answered OK and
// changed nothing).
func TestDebugChangeReplID(t *testing.T) {
	addr, _ := startCrescent(t, "enable-debug-command", "yes")
	c := dialRaw(t, addr)
	before := infoField(t, c.dc, "replication", "master_replid")
	if r := c.mustDo("DEBUG", "CHANGE-REPL-ID"); r != "+OK\r\n" {
		t.Fatalf("DEBUG CHANGE-REPL-ID: %q", r)
	}
	after := infoField(t, c.dc, "replication", "master_replid")
	if after == before || len(after) != 40 {
		t.Errorf("master_replid %q -> %q, want a new 40-character id", before, after)
	}
	if id2 := infoField(t, c.dc, "replication", "master_replid2"); id2 != strings.Repeat("0", 40) {
		t.Errorf("master_replid2 %q, want zeros", id2)
	}
	if off := infoField(t, c.dc, "replication", "second_repl_offset"); off != "-1" {
		t.Errorf("second_repl_offset %q, want -1", off)
	}
}
