package persist_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDebugReloadFiles: the file DEBUG RELOAD writes loads in Redis, a file
// Redis saved loads with DEBUG RELOAD NOSAVE, and a save that fails leaves
// the data alone with Redis's reply.
func TestDebugReloadFiles(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	fill := func(c *client) {
		t.Helper()
		c.must(t, "RPUSH", "l", "a", "b")
		c.must(t, "HSET", "h", "f", "v")
		c.must(t, "ZADD", "z", "1.5", "m")
		c.must(t, "SADD", "s", "1", "x")
		c.must(t, "XADD", "st", "1-1", "f", "v")
		c.must(t, "XGROUP", "CREATE", "st", "g", "0")
		c.must(t, "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "st", ">")
		c.must(t, "SET", "e", "v")
		c.must(t, "PEXPIREAT", "e", "4102444800123")
	}
	check := func(c *client, who string) {
		t.Helper()
		for _, q := range []struct {
			want string
			args []string
		}{
			{"a b", []string{"LRANGE", "l", "0", "-1"}},
			{"v", []string{"HGET", "h", "f"}},
			{"1.5", []string{"ZSCORE", "z", "m"}},
			{"1", []string{"SISMEMBER", "s", "x"}},
			{"1 1-1 1-1 c1 1", []string{"XPENDING", "st", "g"}},
			{"4102444800123", []string{"PEXPIRETIME", "e"}},
			{"6", []string{"DBSIZE"}},
		} {
			if got := c.must(t, q.args...); got != q.want {
				t.Errorf("%s: %v = %q, want %q", who, q.args, got, q.want)
			}
		}
	}

	// Crescent saves with DEBUG RELOAD, Redis loads the file
	p := startCrescent(t, dir, "--save", "", "--enable-debug-command", "yes")
	pc := dial(t, p)
	fill(pc)
	pc.expect(t, "OK", "DEBUG", "RELOAD")
	check(pc, "crescent after DEBUG RELOAD")
	pc.do("SHUTDOWN", "NOSAVE")
	p.wait(t)
	r := startRedis(t, dir, "--save", "", "--enable-debug-command", "yes")
	rc := dial(t, r)
	check(rc, "redis loading crescent's file")

	// Redis saves, Crescent loads it with NOSAVE over its own data
	rc.must(t, "SET", "from", "redis")
	rc.expect(t, "OK", "SAVE")
	rc.do("SHUTDOWN", "NOSAVE")
	r.wait(t)
	os.Rename(filepath.Join(dir, "dump.rdb"), filepath.Join(dir, "redis.rdb"))
	p = startCrescent(t, dir, "--save", "", "--enable-debug-command", "yes", "--dbfilename", "redis.rdb")
	pc = dial(t, p)
	pc.must(t, "DEL", "from")
	pc.must(t, "SET", "extra", "x")
	pc.expect(t, "OK", "DEBUG", "RELOAD", "NOSAVE")
	pc.expect(t, "redis", "GET", "from")
	pc.expect(t, "(nil)", "GET", "extra")
	pc.do("SHUTDOWN", "NOSAVE")
	p.wait(t)

	// a save that fails (dump.rdb became a directory) changes nothing;
	// with no file, the load fails after the flush
	for _, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		d := t.TempDir()
		s := start(t, d, "--save", "", "--enable-debug-command", "yes")
		c := dial(t, s)
		c.must(t, "SET", "k", "v")
		c.expect(t, "-ERR Error trying to load the RDB dump", "DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
		c.expect(t, "v", "GET", "k")
		if err := os.Mkdir(filepath.Join(d, "dump.rdb"), 0o755); err != nil {
			t.Fatal(err)
		}
		c.expect(t, "-ERR", "DEBUG", "RELOAD")
		c.expect(t, "v", "GET", "k")
		if err := os.Remove(filepath.Join(d, "dump.rdb")); err != nil {
			t.Fatal(err)
		}
		c.expect(t, "-ERR Error trying to load the RDB dump", "DEBUG", "RELOAD", "NOSAVE")
		c.expect(t, "0", "DBSIZE")
	}
}

// TestDebugReloadConcurrent: DEBUG RELOAD, which holds the whole keyspace,
// interleaved with writers, BGSAVE and SAVE loses no acknowledged write and
// deadlocks nothing.
func TestDebugReloadConcurrent(t *testing.T) {
	dir := t.TempDir()
	p := startCrescent(t, dir, "--save", "", "--enable-debug-command", "yes")
	const writers, incrs = 4, 300
	var wg sync.WaitGroup
	errs := make(chan string, writers+2)
	for w := 0; w < writers; w++ {
		c := dial(t, p)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < incrs; i++ {
				if got, err := c.do("INCR", "counter:"+strconv.Itoa(w)); err != nil || got != strconv.Itoa(i+1) {
					errs <- "INCR: " + got
					return
				}
			}
		}(w)
	}
	for _, cmd := range [][]string{{"DEBUG", "RELOAD"}, {"BGSAVE"}, {"SAVE"}} {
		c := dial(t, p)
		wg.Add(1)
		go func(cmd []string) {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				got, err := c.do(cmd...)
				if err != nil || strings.HasPrefix(got, "-") && got != "-ERR Background save already in progress" {
					errs <- strings.Join(cmd, " ") + ": " + got
					return
				}
			}
		}(cmd)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	c := dial(t, p)
	c.expect(t, "OK", "DEBUG", "RELOAD")
	for w := 0; w < writers; w++ {
		c.expect(t, strconv.Itoa(incrs), "GET", "counter:"+strconv.Itoa(w))
	}
}

// TestDebugReloadInfo: INFO persistence after DEBUG RELOAD (saved or not,
// with keys expired in the file, after a failed save) reads as Redis's.
func TestDebugReloadInfo(t *testing.T) {
	needRedis(t)
	fields := []string{"rdb_changes_since_last_save", "rdb_saves", "rdb_last_load_keys_expired",
		"rdb_last_load_keys_loaded", "rdb_last_bgsave_status"}
	run := func(start func(testing.TB, string, ...string) *proc) []string {
		d := t.TempDir()
		s := start(t, d, "--save", "", "--enable-debug-command", "yes")
		c := dial(t, s)
		var out []string
		info := func(step string) {
			all := c.must(t, "INFO", "persistence")
			for _, f := range fields {
				for _, l := range strings.Split(all, "\r\n") {
					if strings.HasPrefix(l, f+":") {
						out = append(out, step+" "+l)
					}
				}
			}
		}
		c.must(t, "SET", "a", "1")
		c.must(t, "SET", "b", "2")
		c.must(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
		c.must(t, "SET", "c", "v", "PX", "1")
		time.Sleep(20 * time.Millisecond) // c expired, not reclaimed: saved, skipped when loading
		info("before")
		c.must(t, "SAVE")
		info("save")
		c.must(t, "SET", "d", "4")
		c.must(t, "DEBUG", "RELOAD", "NOSAVE")
		info("nosave")
		c.must(t, "SET", "d", "4")
		c.must(t, "PEXPIRE", "d", "1")
		time.Sleep(20 * time.Millisecond)
		c.must(t, "DEBUG", "RELOAD")
		info("reload")
		c.must(t, "SET", "e", "5")
		if err := os.Mkdir(filepath.Join(d, "dump.rdb.dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(d, "dump.rdb"))
		os.Rename(filepath.Join(d, "dump.rdb.dir"), filepath.Join(d, "dump.rdb"))
		c.must(t, "DEBUG", "RELOAD")
		info("failed")
		return out
	}
	want, got := run(startRedis), run(startCrescent)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("INFO persistence differs:\nredis:\n%s\ncrescent:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
