package persist_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replPair starts a master and its replica with start (startRedis or
// startCrescent), the replica logging to replica.log in its directory,
// and waits for the link to be up.
func replPair(t *testing.T, start func(testing.TB, string, ...string) *proc, replicaArgs ...string) (m, r *proc, mc, rc *client, rlog string) {
	t.Helper()
	m = start(t, t.TempDir(), "--save", "", "--repl-diskless-sync", "no", "--enable-debug-command", "yes")
	rdir := t.TempDir()
	rlog = filepath.Join(rdir, "replica.log")
	args := append([]string{"--save", "", "--logfile", rlog, "--enable-debug-command", "yes",
		"--replicaof", "127.0.0.1", strings.TrimPrefix(m.addr(), "127.0.0.1:")}, replicaArgs...)
	r = start(t, rdir, args...)
	mc, rc = dial(t, m), dial(t, r)
	deadline := time.Now().Add(10 * time.Second)
	for infoField(t, rc, "replication", "master_link_status") != "up" {
		if time.Now().After(deadline) {
			t.Fatal("the replica's link did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return m, r, mc, rc, rlog
}

// logCount counts the lines of the log file path holding s.
func logCount(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

// exited waits up to 10 s for p to exit and reports whether it did.
func exited(p *proc) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// TestDebugReplicateDivergence is replication-4.tcl's "Data divergence"
// tests and more, on a redis-server pair and a Crescent pair: DEBUG
// REPLICATE sends a command down the stream without running it or
// writing it to the AOF; the replica that fails it logs a CRITICAL line
// naming the error and the command, counts unexpected_error_replies and,
// under propagation-error-behavior panic-on-replicas, panics when it is
// read-only (not when writable).
func TestDebugReplicateDivergence(t *testing.T) {
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		_, r, mc, rc, rlog := replPair(t, start)
		rec := func(cl *client, args ...string) {
			got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
		}
		note := func(s string, v any) {
			got[i] = append(got[i], s+": "+strings.TrimSpace(strings.ReplaceAll(strings.TrimSpace(fmtAny(v)), "\n", " ")))
		}
		rec(rc, "CONFIG", "SET", "propagation-error-behavior", "ignore")
		rec(mc, "SET", "foo", "bar1")
		rec(mc, "DEBUG", "REPLICATE", "fake-command-1")
		rec(mc, "SET", "foo", "bar2")
		rec(mc, "WAIT", "1", "5000")
		note("log fake-command-1", logCount(t, rlog, "fake-command-1"))
		note("log CRITICAL", logCount(t, rlog, "== CRITICAL =="))
		note("log <unknown>", logCount(t, rlog, "after processing the command '<unknown>'"))
		note("unexpected_error_replies", infoField(t, rc, "stats", "unexpected_error_replies"))
		rec(rc, "GET", "foo")
		// not run on the master, not in its AOF: only the replica has it
		rec(mc, "DEBUG", "REPLICATE", "SET", "only", "replica")
		rec(mc, "WAIT", "1", "5000")
		rec(mc, "EXISTS", "only")
		rec(rc, "GET", "only")
		rec(rc, "CONFIG", "SET", "replica-read-only", "no")
		rec(rc, "SET", "number2", "foo")
		rec(mc, "INCRBY", "number2", "1")
		rec(mc, "WAIT", "1", "5000")
		rec(mc, "GET", "number2")
		rec(rc, "GET", "number2")
		note("log incrby", logCount(t, rlog, "after processing the command 'incrby'"))
		// writable: no panic whatever the behaviour
		rec(rc, "CONFIG", "SET", "propagation-error-behavior", "panic-on-replicas")
		rec(mc, "DEBUG", "REPLICATE", "INCR", "foo")
		rec(mc, "WAIT", "1", "5000")
		rec(rc, "PING")
		note("unexpected_error_replies", infoField(t, rc, "stats", "unexpected_error_replies"))
		rec(rc, "CONFIG", "SET", "replica-read-only", "yes")
		rec(mc, "DEBUG", "REPLICATE", "INCR", "foo")
		note("replica exited", exited(r))
		note("log panicked", logCount(t, rlog, "This replica panicked sending an error to its master after processing the command 'incr'"))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestReplicaDiskErrorPanics: a replica whose background save failed
// (dump.rdb made a directory) refuses its own clients' writes with
// MISCONF; a write from its master makes it panic ("Replica was unable to
// write command to disk.") unless replica-ignore-disk-write-errors is yes,
// where it applies the write.
func TestReplicaDiskErrorPanics(t *testing.T) {
	for _, ignore := range []string{"no", "yes"} {
		t.Run("ignore="+ignore, func(t *testing.T) {
			var got [2][]string
			for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
				_, r, mc, rc, rlog := replPair(t, start, "--replica-ignore-disk-write-errors", ignore)
				rec := func(cl *client, args ...string) {
					got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
				}
				rdb := filepath.Join(filepath.Dir(rlog), "dump.rdb")
				os.Remove(rdb)
				if err := os.Mkdir(rdb, 0o755); err != nil {
					t.Fatal(err)
				}
				rec(mc, "SET", "a", "1")
				rec(rc, "CONFIG", "SET", "save", "3600 1")
				rec(rc, "BGSAVE")
				deadline := time.Now().Add(10 * time.Second)
				for infoField(t, rc, "persistence", "rdb_last_bgsave_status") != "err" {
					if time.Now().After(deadline) {
						t.Fatal("the replica's BGSAVE did not fail")
					}
					time.Sleep(20 * time.Millisecond)
				}
				got[i] = append(got[i], "replica SET -> "+strings.SplitN(rc.must(t, "SET", "x", "1"), " ", 2)[0])
				rec(mc, "SET", "b", "2")
				if ignore == "no" {
					got[i] = append(got[i], "replica exited: "+fmtAny(exited(r)))
					got[i] = append(got[i], "log: "+fmtAny(logCount(t, rlog, "Replica was unable to write command to disk.")))
					continue
				}
				rec(mc, "WAIT", "1", "5000")
				rec(rc, "GET", "b")
			}
			if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
				t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
			}
		})
	}
}

func fmtAny(v any) string { return fmt.Sprint(v) }

// TestAOFLoadErrorBehavior: an AOF whose command fails when replayed
// (INCR of a string) is logged as Redis 7.0 logs it ("== CRITICAL == This
// server is sending an error to its AOF-loading-client"), counted in
// unexpected_error_replies and errorstats; with propagation-error-behavior
// panic the server dies loading it.
func TestAOFLoadErrorBehavior(t *testing.T) {
	aofText := "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nx\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\n"
	prepare := func(t *testing.T) string {
		dir := t.TempDir()
		ad := filepath.Join(dir, "appendonlydir")
		if err := os.Mkdir(ad, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ad, "appendonly.aof.1.incr.aof"), []byte(aofText), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ad, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := prepare(t)
		log := filepath.Join(dir, "log")
		p := start(t, dir, "--appendonly", "yes", "--save", "", "--logfile", log)
		cl := dial(t, p)
		got[i] = append(got[i], "unexpected_error_replies:"+infoField(t, cl, "stats", "unexpected_error_replies"),
			"errorstat_ERR:"+infoField(t, cl, "errorstats", "errorstat_ERR"), "DBSIZE -> "+cl.must(t, "DBSIZE"),
			fmt.Sprint("log: ", logCount(t, log, "== CRITICAL == This server is sending an error to its AOF-loading-client: 'value is not an integer or out of range' after processing the command 'incr'")))
		// panic: the server does not come up
		dir = prepare(t)
		log = filepath.Join(dir, "log")
		bin := crescentBin
		if i == 0 {
			bin = "redis-server"
		}
		// a server that does not die is killed after 20 s
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--port", fmt.Sprint(freePort(t)), "--dir", dir, "--appendonly", "yes", "--save", "",
			"--logfile", log, "--propagation-error-behavior", "panic")
		err := cmd.Run()
		got[i] = append(got[i], fmt.Sprint("panic run failed: ", err != nil),
			fmt.Sprint("log: ", logCount(t, log, "panicked sending an error to its AOF-loading-client after processing the command 'incr'")))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// criticalLines are the CRITICAL lines of the log at path from "==
// CRITICAL ==" to the message's last quote (the two servers' log prefixes
// differ), and the number of "Latest backlog is: '" lines.
func criticalLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	backlog := 0
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "== CRITICAL =="); i >= 0 {
			line = line[i:]
			out = append(out, line[:strings.LastIndex(line, "'")+1])
		}
		if strings.Contains(line, "Latest backlog is: '") {
			backlog++
		}
	}
	return append(out, fmt.Sprint("backlog lines: ", backlog))
}

// TestReplicaExecErrors: a writable replica whose data differs fails
// commands of its master's stream inside a transaction; Redis 7.0's
// afterErrorReply logs each failed command of the EXEC (named 'exec', its
// lastcmd) and counts it in unexpected_error_replies. The text logged is
// the error as Redis passed it: the message alone for an error given
// without a code, the whole reply for a shared error object
// ("-WRONGTYPE ...", "-ERR syntax error"); a command of the wrong arity is
// named. Crescent looked at top-level replies only, without the code,
// and named a command of the wrong arity '<unknown>'.
func TestReplicaExecErrors(t *testing.T) {
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		_, _, mc, rc, rlog := replPair(t, start, "--replica-read-only", "no")
		rec := func(cl *client, args ...string) {
			got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
		}
		// the master forked once for the sync, and its end set the time
		got[i] = append(got[i], "master's total_forks:"+infoField(t, mc, "stats", "total_forks"),
			"master's rdb_last_bgsave_time_sec is set: "+fmt.Sprint(infoField(t, mc, "persistence", "rdb_last_bgsave_time_sec") != "-1"))
		rec(rc, "CONFIG", "RESETSTAT") // a LOADING answered while the replica started
		rec(rc, "SET", "k", "foo")
		rec(rc, "SET", "k2", "foo")
		rec(mc, "MULTI")
		rec(mc, "INCR", "k")
		rec(mc, "SET", "z", "1")
		rec(mc, "LPUSH", "k2", "x")
		rec(mc, "EXEC")
		rec(mc, "LPUSH", "k2", "y")
		rec(mc, "DEBUG", "REPLICATE", "SET", "a", "b", "xx", "yy")
		rec(mc, "DEBUG", "REPLICATE", "LSET", "nokey", "0", "x")
		rec(mc, "RPUSH", "l", "a")
		rec(mc, "DEBUG", "REPLICATE", "LSET", "l", "5", "x")
		rec(mc, "DEBUG", "REPLICATE", "LPUSH", "k")
		rec(mc, "DEBUG", "REPLICATE", "CONFIG")
		rec(mc, "DEBUG", "REPLICATE", "CONFIG", "nosuch")
		rec(mc, "WAIT", "1", "5000")
		rec(rc, "MGET", "k", "z")
		got[i] = append(got[i], criticalLines(t, rlog)...)
		for _, f := range []string{"unexpected_error_replies", "total_error_replies"} {
			got[i] = append(got[i], f+":"+infoField(t, rc, "stats", f))
		}
		got[i] = append(got[i], "errorstats: "+rc.must(t, "INFO", "errorstats"))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestAOFLoadExecErrors: the commands of an AOF's transaction that fail
// are logged as the EXEC's ('exec'), as a replica's, with the error's
// text as Redis logs it; a failed command outside is named itself.
func TestAOFLoadExecErrors(t *testing.T) {
	aofText := "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nx\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n" +
		"*3\r\n$5\r\nLPUSH\r\n$1\r\na\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\n*1\r\n$4\r\nEXEC\r\n" +
		"*3\r\n$5\r\nLPUSH\r\n$1\r\na\r\n$1\r\nx\r\n"
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		ad := filepath.Join(dir, "appendonlydir")
		if err := os.Mkdir(ad, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ad, "appendonly.aof.1.incr.aof"), []byte(aofText), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ad, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, "log")
		p := start(t, dir, "--appendonly", "yes", "--save", "", "--logfile", log)
		cl := dial(t, p)
		got[i] = append(got[i], criticalLines(t, log)...)
		got[i] = append(got[i], "unexpected_error_replies:"+infoField(t, cl, "stats", "unexpected_error_replies"),
			"errorstats: "+errorstatsBut(t, cl, "LOADING"), "MGET a b -> "+cl.must(t, "MGET", "a", "b"))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// errorstatsBut is INFO errorstats without the line of the error code
// skip (a LOADING answered to the test's first PING depends on timing).
func errorstatsBut(t *testing.T, cl *client, skip string) string {
	t.Helper()
	var keep []string
	for _, l := range strings.Split(cl.must(t, "INFO", "errorstats"), "\n") {
		if !strings.HasPrefix(l, "errorstat_"+skip+":") {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(keep, " ")
}
