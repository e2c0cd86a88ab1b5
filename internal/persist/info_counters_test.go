package persist_test

import (
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// persistSeq runs one sequence against redis-server and Crescent and
// compares what it records. Each run gets a fresh directory.
func persistSeq(t *testing.T, args []string, seq func(t *testing.T, cl *client, rec func(...string), info func(string, ...string), nonNeg func(string, string))) {
	t.Helper()
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		p := start(t, t.TempDir(), append([]string{"--save", "", "--enable-debug-command", "yes"}, args...)...)
		cl := dial(t, p)
		rec := func(a ...string) {
			got[i] = append(got[i], strings.Join(a, " ")+" -> "+cl.must(t, a...))
		}
		info := func(section string, fields ...string) {
			for _, f := range fields {
				got[i] = append(got[i], f+":"+infoField(t, cl, section, f))
			}
		}
		// a time in seconds: only whether it is -1 (never) or not is
		// compared, the seconds themselves depend on the machine
		nonNeg := func(section, f string) {
			n, err := strconv.Atoi(infoField(t, cl, section, f))
			got[i] = append(got[i], f+" >= 0: "+strconv.FormatBool(err == nil && n >= 0))
		}
		seq(t, cl, rec, info, nonNeg)
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestAOFRewriteCounters: aof_rewrites counts a background rewrite when it
// starts, as Redis's rewriteAppendOnlyFileBackground (a rewrite killed by
// CONFIG SET appendonly no counts), and not the base written at startup;
// aof_last_rewrite_time_sec is -1 until a background rewrite ends (a
// killed one does not set it). Crescent counted finished rewrites, the
// startup's included, and showed 0 seconds from the start.
func TestAOFRewriteCounters(t *testing.T) {
	persistSeq(t, []string{"--appendonly", "yes"}, func(t *testing.T, cl *client, rec func(...string), info func(string, ...string), nonNeg func(string, string)) {
		fields := []string{"aof_rewrites", "aof_rewrite_in_progress", "aof_last_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrite_scheduled", "aof_rewrites_consecutive_failures"}
		info("persistence", fields...)
		rec("DEBUG", "POPULATE", "100")
		rec("CONFIG", "SET", "rdb-key-save-delay", "100000") // 10 s of rewrite
		rec("BGREWRITEAOF")
		info("persistence", fields...)
		rec("CONFIG", "SET", "appendonly", "no") // kills it
		info("persistence", fields...)
		rec("CONFIG", "SET", "rdb-key-save-delay", "0")
		rec("BGREWRITEAOF") // with the AOF off
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info("persistence", "aof_rewrites", "aof_last_bgrewrite_status", "aof_rewrite_scheduled")
		nonNeg("persistence", "aof_last_rewrite_time_sec")
		rec("CONFIG", "SET", "appendonly", "yes") // a rewrite as well
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info("persistence", "aof_rewrites", "aof_enabled", "aof_last_bgrewrite_status")
		info("stats", "total_forks") // 3 background rewrites (one killed), not the startup's base
	})
}

// TestBgsaveRewriteCounters: a BGREWRITEAOF during a BGSAVE is scheduled,
// FLUSHALL kills the BGSAVE (still counted in rdb_saves, its time set),
// and the scheduled rewrite then runs and is counted.
func TestBgsaveRewriteCounters(t *testing.T) {
	persistSeq(t, nil, func(t *testing.T, cl *client, rec func(...string), info func(string, ...string), nonNeg func(string, string)) {
		fields := []string{"rdb_saves", "rdb_bgsave_in_progress", "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "aof_rewrites", "aof_rewrite_scheduled", "aof_rewrite_in_progress"}
		info("persistence", fields...)
		rec("DEBUG", "POPULATE", "100")
		rec("SAVE")
		info("persistence", "rdb_saves", "rdb_changes_since_last_save")
		rec("CONFIG", "SET", "rdb-key-save-delay", "100000") // 10 s of save
		rec("SET", "x", "1")
		rec("BGSAVE")
		info("persistence", fields...)
		info("persistence", "rdb_changes_since_last_save")
		rec("BGREWRITEAOF")
		info("persistence", fields...)
		rec("FLUSHALL") // kills the BGSAVE
		waitInfo(t, cl, "persistence", "rdb_bgsave_in_progress", "0")
		waitInfo(t, cl, "persistence", "aof_rewrite_scheduled", "0")
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info("persistence", "rdb_saves", "rdb_last_bgsave_status", "aof_rewrites", "aof_last_bgrewrite_status", "rdb_changes_since_last_save")
		nonNeg("persistence", "rdb_last_bgsave_time_sec")
		nonNeg("persistence", "aof_last_rewrite_time_sec")
		info("stats", "total_forks") // the BGSAVE and the rewrite, not SAVE
	})
}

// aofDirState is the AOF directory's file names (temporary ones left out)
// and the manifest's lines.
func aofDirState(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	return "files: " + aofFiles(t, dir) + "\nmanifest:\n" + strings.TrimSpace(string(b))
}

// TestAOFRewriteWithAppendonlyOff: BGREWRITEAOF with the AOF off (turned
// off at run time, or never on) writes a new base and a manifest naming
// only it, the incr files becoming history; with aof-disable-auto-gc yes
// the manifest keeps the history files in Redis 7.0's order, and a later
// incr file takes the next sequence after the last one used, not 1
// again (Crescent dropped the history from the manifest and truncated
// the history's appendonly.aof.1.incr.aof to reuse it). A restart with
// appendonly yes loads the base.
func TestAOFRewriteWithAppendonlyOff(t *testing.T) {
	for _, gc := range []string{"no", "yes"} {
		t.Run("aof-disable-auto-gc="+gc, func(t *testing.T) {
			var got [2][]string
			for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
				dir := t.TempDir()
				args := []string{"--save", "", "--aof-disable-auto-gc", gc}
				p := start(t, dir, append(args, "--appendonly", "yes")...)
				cl := dial(t, p)
				rec := func(a ...string) {
					got[i] = append(got[i], strings.Join(a, " ")+" -> "+cl.must(t, a...))
				}
				keys := func(cl *client) {
					k := strings.Fields(cl.must(t, "KEYS", "*"))
					sort.Strings(k)
					got[i] = append(got[i], "keys: "+strings.Join(k, " "))
				}
				rewrite := func(a ...string) {
					rec(a...)
					waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
					got[i] = append(got[i], "aof_last_bgrewrite_status:"+infoField(t, cl, "persistence", "aof_last_bgrewrite_status"))
				}
				rec("SET", "a", "1")
				rewrite("BGREWRITEAOF")
				rec("SET", "c", "1")
				rec("CONFIG", "SET", "appendonly", "no")
				rec("SET", "e", "1")
				rewrite("BGREWRITEAOF")
				got[i] = append(got[i], aofDirState(t, dir), "aof_enabled:"+infoField(t, cl, "persistence", "aof_enabled"))
				rewrite("CONFIG", "SET", "appendonly", "yes")
				rec("SET", "b", "1")
				rewrite("BGREWRITEAOF")
				rec("SET", "d", "1")
				got[i] = append(got[i], aofDirState(t, dir))
				cl.do("SHUTDOWN", "NOSAVE")
				p.wait(t)
				p = start(t, dir, append(args, "--appendonly", "yes")...)
				cl = dial(t, p)
				keys(cl)
				got[i] = append(got[i], aofDirState(t, dir))
				// never on: the first rewrite with the AOF off
				dir = t.TempDir()
				p = start(t, dir, append(args, "--appendonly", "no")...)
				cl = dial(t, p)
				rec("SET", "x", "1")
				rewrite("BGREWRITEAOF")
				got[i] = append(got[i], aofDirState(t, dir))
				cl.do("SHUTDOWN", "NOSAVE")
				p.wait(t)
				p = start(t, dir, append(args, "--appendonly", "yes")...)
				cl = dial(t, p)
				keys(cl)
				got[i] = append(got[i], aofDirState(t, dir))
			}
			if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
				t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
			}
		})
	}
}

// TestAOFRewriteLimit: after 3 consecutive failed rewrites (the base
// cannot be written: RLIMIT_FSIZE), Redis 7.0's aofRewriteLimited holds
// the automatic rewrite back ("triggered the limit, will retry in 1
// minutes") where Crescent started it and failed a fourth time; a
// BGREWRITEAOF scheduled by hand resets the failures, and the scheduled
// rewrite then runs (Crescent kept the count).
func TestAOFRewriteLimit(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ)
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		log := filepath.Join(dir, "log")
		p := start(t, dir, "--appendonly", "yes", "--save", "", "--enable-debug-command", "yes", "--logfile", log)
		cl := dial(t, p)
		rec := func(a ...string) {
			got[i] = append(got[i], strings.Join(a, " ")+" -> "+cl.must(t, a...))
		}
		fields := []string{"aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_bgrewrite_status", "aof_rewrite_scheduled"}
		info := func() {
			for _, f := range fields {
				got[i] = append(got[i], f+":"+infoField(t, cl, "persistence", f))
			}
		}
		rec("DEBUG", "POPULATE", "200") // a base of some 4 KB
		setFileLimit(t, p.cmd.Process.Pid, 3000)
		for range 3 {
			rec("BGREWRITEAOF")
			waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		}
		info()
		rec("CONFIG", "SET", "auto-aof-rewrite-min-size", "1")
		rec("CONFIG", "SET", "auto-aof-rewrite-percentage", "1")
		rec("SET", "foo", "bar") // the AOF grew: the cron would rewrite
		deadline := time.Now().Add(10 * time.Second)
		for logCount(t, log, "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in 1 minutes") == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("server %d: no limit in the log", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info()
		setFileLimit(t, p.cmd.Process.Pid, -1)
		rec("CONFIG", "SET", "rdb-key-save-delay", "100000") // 20 s of BGSAVE
		rec("BGSAVE")
		rec("BGREWRITEAOF") // scheduled: the failures are reset
		info()
		rec("FLUSHALL") // kills the BGSAVE: the scheduled rewrite runs
		waitInfo(t, cl, "persistence", "aof_rewrite_scheduled", "0")
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info()
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestAOFTurnOnRetried: CONFIG SET appendonly yes whose rewrite fails
// leaves the AOF waiting, as Redis 7.0's AOF_WAIT_REWRITE: aof_enabled
// stays 1 and the cron tries again, until the limit after 3 failures;
// BGREWRITEAOF then turns it on. Crescent turned the AOF off after the
// first failure (aof_enabled 0 with appendonly yes) and never retried.
func TestAOFTurnOnRetried(t *testing.T) {
	signal.Ignore(syscall.SIGXFSZ)
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		log := filepath.Join(dir, "log")
		p := start(t, dir, "--appendonly", "no", "--save", "", "--enable-debug-command", "yes", "--logfile", log)
		cl := dial(t, p)
		rec := func(a ...string) {
			got[i] = append(got[i], strings.Join(a, " ")+" -> "+cl.must(t, a...))
		}
		info := func() {
			for _, f := range []string{"aof_enabled", "aof_rewrites", "aof_rewrites_consecutive_failures", "aof_last_bgrewrite_status", "aof_rewrite_scheduled"} {
				got[i] = append(got[i], f+":"+infoField(t, cl, "persistence", f))
			}
		}
		rec("DEBUG", "POPULATE", "200") // a base of some 4 KB
		setFileLimit(t, p.cmd.Process.Pid, 3000)
		rec("CONFIG", "SET", "appendonly", "yes")
		deadline := time.Now().Add(10 * time.Second)
		for logCount(t, log, "triggered the limit, will retry in 1 minutes") == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("server %d: no limit in the log", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info()
		setFileLimit(t, p.cmd.Process.Pid, -1)
		rec("BGREWRITEAOF")
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info()
		rec("SET", "x", "1")
		rec("DEBUG", "LOADAOF")
		rec("DBSIZE")
		got[i] = append(got[i], aofDirState(t, dir))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}
