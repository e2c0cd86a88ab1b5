package persist_test

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// setFileLimit sets RLIMIT_FSIZE's soft limit of process pid: a write
// past it fails with EFBIG (the servers inherit SIGXFSZ ignored from
// the test; Crescent also ignores it itself). limit < 0 lifts it.
func setFileLimit(t *testing.T, pid int, limit int64) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &old); err != nil {
		t.Skipf("prlimit: %v", err)
	}
	lim := unix.Rlimit{Cur: old.Max, Max: old.Max}
	if limit >= 0 {
		lim.Cur = uint64(limit)
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
		t.Skipf("prlimit: %v", err)
	}
}

// incrFile is the path of the first incremental AOF file in dir.
func incrFile(dir string) string {
	return filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
}

// waitFileHolds waits until the file at path contains s, and returns its size.
func waitFileHolds(t *testing.T, path, s string) int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), s) {
			return int64(len(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not hold %q: %q", path, s, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReply sends cmd until its reply starts with prefix (5 s at most),
// and returns the reply.
func waitReply(t *testing.T, cl *client, prefix string, cmd ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := cl.do(cmd...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(r, prefix) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: %q, waited for %q", cmd, r, prefix)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func infoField(t *testing.T, cl *client, section, field string) string {
	t.Helper()
	for _, l := range strings.Split(cl.must(t, "INFO", section), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// TestAOFWriteErrorMisconf fills the AOF's file-size limit under
// appendfsync everysec, on redis-server and Crescent alike: the write
// that fails is kept (its partial bytes truncated away), write commands
// and PING get MISCONF with the errno's text (a short write is ENOSPC, a
// write refused whole EFBIG), in MULTI and scripts too, reads go on; once
// the limit is lifted the retry succeeds, writes are accepted again, and
// the AOF holds every acknowledged write.
func TestAOFWriteErrorMisconf(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ)
	for _, c := range []struct {
		name string
		room int64 // bytes the limit leaves past the file's size
	}{{"short write", 5}, {"no room", 0}} {
		t.Run(c.name, func(t *testing.T) {
			var got [2][]string
			for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
				dir := t.TempDir()
				p := start(t, dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--enable-debug-command", "yes")
				cl := dial(t, p)
				rec := func(args ...string) {
					r := cl.must(t, args...)
					got[i] = append(got[i], strings.Join(args, " ")+" -> "+r)
				}
				rec("SET", "a", "1")
				size := waitFileHolds(t, incrFile(dir), "$1\r\na\r\n")
				setFileLimit(t, p.cmd.Process.Pid, size+c.room)
				rec("SET", "b", "hello-world") // answered before its write fails
				got[i] = append(got[i], "PING -> "+waitReply(t, cl, "-MISCONF", "PING"))
				rec("SET", "c", "1")
				rec("INCR", "n")
				rec("GET", "a")
				rec("EXISTS", "b")
				rec("EVAL", "return redis.call('set', 'd', '1')", "0")
				rec("EVAL", "return redis.pcall('set', 'd', '1')", "0")
				rec("EVAL", "#!lua\nreturn 1", "0")
				rec("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'a')", "0")
				rec("MULTI")
				rec("SET", "e", "1")
				rec("EXEC")
				got[i] = append(got[i], "aof_last_write_status:"+infoField(t, cl, "persistence", "aof_last_write_status"))
				if st, err := os.Stat(incrFile(dir)); err != nil || st.Size() != size {
					t.Errorf("server %d: the failed write left the incr file at %v bytes (was %d): %v", i, st.Size(), size, err)
				}
				setFileLimit(t, p.cmd.Process.Pid, -1)
				got[i] = append(got[i], "PING -> "+waitReply(t, cl, "PONG", "PING"))
				rec("SET", "c", "2")
				got[i] = append(got[i], "aof_last_write_status:"+infoField(t, cl, "persistence", "aof_last_write_status"))
				waitFileHolds(t, incrFile(dir), "$1\r\nc\r\n$1\r\n2\r\n")
				rec("DEBUG", "LOADAOF") // the file on disk holds every acknowledged write
				rec("MGET", "a", "b", "c", "d", "e")
			}
			if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
				t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
			}
			t.Logf("%d replies the same:\n%s", len(got[1]), strings.Join(got[1], "\n"))
		})
	}
}

// TestAOFWriteErrorAlwaysExits: under appendfsync always a failed write
// cannot be undone (the change is in memory), so both servers exit with
// status 1 and Redis's message, without acknowledging it; restarted, they
// have every write acknowledged before it and not that one.
func TestAOFWriteErrorAlwaysExits(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ)
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		args := []string{"--appendonly", "yes", "--appendfsync", "always", "--save", ""}
		p := start(t, dir, args...)
		cl := dial(t, p)
		cl.expect(t, "OK", "SET", "a", "1")
		size := waitFileHolds(t, incrFile(dir), "$1\r\na\r\n")
		setFileLimit(t, p.cmd.Process.Pid, size+5)
		r, err := cl.do("SET", "b", "2")
		got[i] = append(got[i], "SET b 2 answered: "+r)
		if err == nil {
			t.Errorf("server %d acknowledged a write it could not persist: %q", i, r)
		}
		p.wait(t)
		got[i] = append(got[i], "exit status: "+p.cmd.ProcessState.String())
		if out := p.out.String(); !strings.Contains(out, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...") {
			t.Errorf("server %d's log: %s", i, out)
		}
		p2 := start(t, dir, args...)
		cl2 := dial(t, p2)
		got[i] = append(got[i], "after restart: "+cl2.must(t, "MGET", "a", "b"))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
	t.Logf("%s", strings.Join(got[1], "\n"))
}

// TestAOFWriteErrorRewrite: a rewrite started while a write waits to be
// retried fails at its cut instead of moving those bytes to the new incr
// file (they are effects from before the cut, which the new base holds
// too: replayed again, an INCR would count twice). After the retry
// succeeds, a rewrite works and the AOF replays each write once.
func TestAOFWriteErrorRewrite(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ)
	dir := t.TempDir()
	p := startCrescent(t, dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--enable-debug-command", "yes")
	cl := dial(t, p)
	// the incr file grows past what the base needs, so that the limit
	// stops the incr file's writes and not the base's
	cl.must(t, "EVAL", "for i = 1, 50 do redis.call('set', 'a', string.rep('x', 1000)) end", "0")
	cl.expect(t, "OK", "SET", "a", "1")
	size := waitFileHolds(t, incrFile(dir), "$1\r\na\r\n$1\r\n1\r\n")
	setFileLimit(t, p.cmd.Process.Pid, size)
	cl.expect(t, "1", "INCR", "n")
	waitReply(t, cl, "-MISCONF", "PING")
	cl.expect(t, "Background append only file rewriting started", "BGREWRITEAOF")
	waitReply(t, cl, "0", "EVAL", "return redis.call('info', 'persistence'):match('aof_rewrite_in_progress:(%d)')", "0")
	if st := infoField(t, cl, "persistence", "aof_last_bgrewrite_status"); st != "err" {
		t.Fatalf("aof_last_bgrewrite_status:%s, want err", st)
	}
	setFileLimit(t, p.cmd.Process.Pid, -1)
	waitReply(t, cl, "PONG", "PING")
	cl.expect(t, "Background append only file rewriting started", "BGREWRITEAOF")
	waitReply(t, cl, "0", "EVAL", "return redis.call('info', 'persistence'):match('aof_rewrite_in_progress:(%d)')", "0")
	if st := infoField(t, cl, "persistence", "aof_last_bgrewrite_status"); st != "ok" {
		t.Fatalf("aof_last_bgrewrite_status:%s, want ok", st)
	}
	cl.expect(t, "2", "INCR", "n")
	cl.expect(t, "OK", "DEBUG", "LOADAOF")
	cl.expect(t, "2", "GET", "n")
}
