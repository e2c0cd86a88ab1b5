package persist_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needRedis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed: skipping compatibility test")
	}
}

var long = strings.Repeat("compressible-", 40)

// fill writes the same dataset to a Crescent or Redis server: raw,
// int-encoded, LZF-compressible and binary strings, an expiring key and a
// second database.
func fill(t *testing.T, c *client) {
	t.Helper()
	for _, kv := range [][2]string{{"s", "hello"}, {"n", "12345"}, {"neg", "-7"}, {"big", "12345678901234"},
		{"long", long}, {"bin", "a\x00b\r\n\xff"}, {"empty", ""}} {
		c.expect(t, "OK", "SET", kv[0], kv[1])
	}
	c.expect(t, "OK", "SET", "ttl", "v", "PX", "100000000")
	c.expect(t, "OK", "SELECT", "2")
	c.expect(t, "OK", "SET", "other", "db2")
	c.expect(t, "OK", "SELECT", "0")
}

// check verifies fill's dataset.
func check(t *testing.T, c *client) {
	t.Helper()
	for _, kv := range [][2]string{{"s", "hello"}, {"n", "12345"}, {"neg", "-7"}, {"big", "12345678901234"},
		{"long", long}, {"bin", "a\x00b\r\n\xff"}, {"empty", ""}, {"ttl", "v"}} {
		c.expect(t, kv[1], "GET", kv[0])
	}
	c.expect(t, "OK", "SELECT", "2")
	c.expect(t, "db2", "GET", "other")
	c.expect(t, "OK", "SELECT", "0")
}

// checkTTL verifies (on Redis, which has PTTL) that the expiry survived.
func checkTTL(t *testing.T, c *client) {
	t.Helper()
	ms, _ := strconv.Atoi(c.must(t, "PTTL", "ttl"))
	if ms < 90000000 || ms > 100000000 {
		t.Fatalf("PTTL ttl = %d", ms)
	}
	c.expect(t, "-1", "PTTL", "s")
}

// TestRDBCompat: an RDB written by Redis loads into Crescent, and the
// RDB Crescent then writes loads back into Redis with the same data and
// expiry.
func TestRDBCompat(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	r := startRedis(t, dir, "--save", "")
	rc := dial(t, r)
	fill(t, rc)
	rc.expect(t, "OK", "SAVE")
	rc.do("SHUTDOWN", "NOSAVE")
	r.wait(t)

	p := startCrescent(t, dir, "--save", "")
	pc := dial(t, p)
	check(t, pc)
	pc.expect(t, "OK", "SET", "fromcrescent", "yes")
	pc.expect(t, "OK", "SAVE")
	pc.do("SHUTDOWN", "NOSAVE")
	p.wait(t)

	r2 := startRedis(t, dir, "--save", "")
	rc2 := dial(t, r2)
	check(t, rc2)
	checkTTL(t, rc2)
	rc2.expect(t, "yes", "GET", "fromcrescent")
	rc2.expect(t, "9", "DBSIZE")
	if out, err := exec.Command("redis-check-rdb", filepath.Join(dir, "dump.rdb")).CombinedOutput(); err == nil {
		if !strings.Contains(string(out), "RDB looks OK") {
			t.Fatalf("redis-check-rdb: %s", out)
		}
	}
}

// TestAOFCompat: the AOF Crescent writes (base and incremental files,
// after a rewrite, with or without the RDB preamble) loads into Redis, and
// the AOF Redis writes loads into Crescent.
func TestAOFCompat(t *testing.T) {
	needRedis(t)
	for _, preamble := range []string{"yes", "no"} {
		t.Run("crescent-to-redis-preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--appendonly", "yes", "--save", "", "--aof-use-rdb-preamble", preamble}
			p := startCrescent(t, dir, args...)
			pc := dial(t, p)
			pc.expect(t, "OK", "SET", "before", "rewrite")
			pc.expect(t, "OK", "SET", "gone", "x")
			pc.expect(t, "Background append only file rewriting started", "BGREWRITEAOF")
			waitRewrite(t, pc)
			fill(t, pc)
			pc.expect(t, "1", "DEL", "gone")
			pc.do("SHUTDOWN", "NOSAVE")
			p.wait(t)
			r := startRedis(t, dir, args...)
			rc := dial(t, r)
			check(t, rc)
			checkTTL(t, rc)
			rc.expect(t, "rewrite", "GET", "before")
			rc.expect(t, "0", "EXISTS", "gone")
		})
	}
	t.Run("redis-to-crescent", func(t *testing.T) {
		dir := t.TempDir()
		args := []string{"--appendonly", "yes", "--save", ""}
		r := startRedis(t, dir, args...)
		rc := dial(t, r)
		rc.expect(t, "OK", "SET", "before", "rewrite")
		rc.expect(t, "Background append only file rewriting started", "BGREWRITEAOF")
		waitRewrite(t, rc)
		fill(t, rc)
		rc.do("SHUTDOWN", "NOSAVE")
		r.wait(t)
		p := startCrescent(t, dir, args...)
		pc := dial(t, p)
		check(t, pc)
		pc.expect(t, "rewrite", "GET", "before")
	})
}

func waitRewrite(t *testing.T, c *client) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if strings.Contains(c.must(t, "INFO", "persistence"), "aof_rewrite_in_progress:0") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("rewrite did not finish")
}

// TestDumpRestoreCompat moves values both ways with DUMP and RESTORE and
// checks that both servers produce the same payloads.
func TestDumpRestoreCompat(t *testing.T) {
	needRedis(t)
	r := startRedis(t, t.TempDir(), "--save", "")
	p := startCrescent(t, t.TempDir(), "--save", "")
	rc, pc := dial(t, r), dial(t, p)
	fill(t, rc)
	fill(t, pc)
	for _, k := range []string{"s", "n", "neg", "big", "long", "bin", "empty"} {
		fromRedis := rc.must(t, "DUMP", k)
		fromCrescent := pc.must(t, "DUMP", k)
		if fromRedis != fromCrescent {
			t.Fatalf("DUMP %s: Redis %q, Crescent %q", k, fromRedis, fromCrescent)
		}
		want := rc.must(t, "GET", k)
		pc.expect(t, "OK", "RESTORE", k+":r", "0", fromRedis)
		pc.expect(t, want, "GET", k+":r")
		rc.expect(t, "OK", "RESTORE", k+":c", "0", fromCrescent)
		rc.expect(t, want, "GET", k+":c")
	}
	// replies that must match Redis exactly
	payload := rc.must(t, "DUMP", "s")
	bad := []byte(payload)
	bad[3] ^= 1
	cases := [][]string{
		{"RESTORE", "s", "0", payload},
		{"RESTORE", "s", "0", payload, "REPLACE"},
		{"RESTORE", "x1", "0", string(bad)},
		{"RESTORE", "x1", "0", "short"},
		{"RESTORE", "x1", "-1", payload},
		{"RESTORE", "x1", "abc", payload},
		{"RESTORE", "x1", "0", payload, "IDLETIME", "-1"},
		{"RESTORE", "x1", "0", payload, "FREQ", "256"},
		{"RESTORE", "x1", "0", payload, "IDLETIME", "1", "FREQ", "1"},
		{"RESTORE", "x1", "0", payload, "BOGUS"},
		{"RESTORE", "x2", "0", payload, "REPLACE", "ABSTTL", "IDLETIME", "10"},
		{"RESTORE", "x3", "1", payload, "ABSTTL"},
		{"EXISTS", "x3"},
		{"RESTORE", "x4", "100000", payload},
		{"GET", "x4"},
		{"DUMP", "nosuchkey"},
		{"BGSAVE", "foo"},
	}
	for _, c := range cases {
		want := rc.must(t, c...)
		if got := pc.must(t, c...); got != want {
			t.Errorf("%q: Crescent %q, Redis %q", c, got, want)
		}
	}
}

// TestConfigSetAppendonly turns the AOF on at run time (a rewrite writes
// the base from the current data) and checks a restart with it.
func TestConfigSetAppendonly(t *testing.T) {
	dir := t.TempDir()
	p := startCrescent(t, dir, "--save", "")
	c := dial(t, p)
	c.expect(t, "OK", "SET", "before", "1")
	c.expect(t, "OK", "CONFIG", "SET", "appendonly", "yes")
	waitRewrite(t, c)
	c.expect(t, "OK", "SET", "after", "2")
	c.expect(t, "OK", "CONFIG", "SET", "appendfsync", "always")
	c.expect(t, "OK", "SET", "after2", "3")
	if _, err := os.Stat(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest")); err != nil {
		t.Fatal(err)
	}
	p.kill()
	p2 := startCrescent(t, dir, "--save", "", "--appendonly", "yes")
	c2 := dial(t, p2)
	c2.expect(t, "1", "GET", "before")
	c2.expect(t, "2", "GET", "after")
	c2.expect(t, "3", "GET", "after2")
	// and off again: no more appends
	c2.expect(t, "OK", "CONFIG", "SET", "appendonly", "no")
	if !strings.Contains(c2.must(t, "INFO", "persistence"), "aof_enabled:0") {
		t.Fatal("aof still enabled")
	}
}

// TestSavePolicyAndLastSave: a save point triggers BGSAVE from the cron;
// LASTSAVE and INFO follow.
func TestSavePolicyAndLastSave(t *testing.T) {
	dir := t.TempDir()
	p := startCrescent(t, dir, "--save", "1 2")
	c := dial(t, p)
	before := c.must(t, "LASTSAVE")
	c.expect(t, "OK", "SET", "a", "1")
	c.expect(t, "OK", "SET", "b", "2")
	if !strings.Contains(c.must(t, "INFO", "persistence"), "rdb_changes_since_last_save:2") {
		t.Fatal("changes not counted")
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.must(t, "LASTSAVE") == before {
		if time.Now().After(deadline) {
			t.Fatal("save policy did not trigger")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatal(err)
	}
	info := c.must(t, "INFO", "persistence")
	if !strings.Contains(info, "rdb_changes_since_last_save:0") || !strings.Contains(info, "rdb_last_bgsave_status:ok") {
		t.Fatalf("INFO after save: %s", info)
	}
	// SHUTDOWN saves when save points exist; SHUTDOWN NOSAVE does not
	c.expect(t, "OK", "SET", "c", "3")
	c.do("SHUTDOWN")
	p.wait(t)
	p2 := startCrescent(t, dir, "--save", "")
	c2 := dial(t, p2)
	c2.expect(t, "3", "GET", "c")
	c2.expect(t, "OK", "SET", "d", "4")
	c2.do("SHUTDOWN", "NOSAVE")
	p2.wait(t)
	p3 := startCrescent(t, dir, "--save", "")
	dial(t, p3).expect(t, "(nil)", "GET", "d")
}

// TestSIGTERMSaves: SIGTERM saves the RDB when save points exist, as Redis
// does.
func TestSIGTERMSaves(t *testing.T) {
	dir := t.TempDir()
	p := startCrescent(t, dir, "--save", "3600 1")
	dial(t, p).expect(t, "OK", "SET", "k", "v")
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(t)
	p2 := startCrescent(t, dir, "--save", "")
	dial(t, p2).expect(t, "v", "GET", "k")
}
