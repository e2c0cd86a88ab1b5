package persist_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	_ = os.Getpid
}
