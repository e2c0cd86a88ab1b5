package persist_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// waitInfo polls INFO section until field has value want (10 s at most).
func waitInfo(t *testing.T, cl *client, section, field, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for infoField(t, cl, section, field) != want {
		if time.Now().After(deadline) {
			t.Fatalf("INFO %s: %s did not become %s", section, field, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// aofFiles lists the AOF directory's files, temporary ones left out.
func aofFiles(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "appendonlydir"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "temp-") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// TestAOFRewriteKilledByAppendonlyNo: CONFIG SET appendonly no during a
// background rewrite (kept running by rdb-key-save-delay) kills it, as
// Redis's stopAppendOnly: at once no rewrite is in progress, its status
// stays ok, its temporary file goes, the manifest keeps the incr file the
// rewrite opened, and BGREWRITEAOF starts a new one. Before, Crescent's
// rewrite went on and failed ("file already closed"), and BGREWRITEAOF
// answered that one was in progress.
func TestAOFRewriteKilledByAppendonlyNo(t *testing.T) {
	var got [2][]string
	var logs [2]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		logs[i] = filepath.Join(dir, "log")
		p := start(t, dir, "--appendonly", "yes", "--save", "", "--enable-debug-command", "yes", "--logfile", logs[i])
		cl := dial(t, p)
		rec := func(args ...string) {
			got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
		}
		info := func(fields ...string) {
			for _, f := range fields {
				got[i] = append(got[i], f+":"+infoField(t, cl, "persistence", f))
			}
		}
		rec("DEBUG", "POPULATE", "100")
		rec("CONFIG", "SET", "rdb-key-save-delay", "100000") // 10 s of rewrite
		rec("BGREWRITEAOF")
		info("aof_rewrite_in_progress")
		rec("CONFIG", "SET", "appendonly", "no")
		info("aof_enabled", "aof_rewrite_in_progress", "aof_last_bgrewrite_status")
		got[i] = append(got[i], "files: "+aofFiles(t, dir))
		rec("SET", "after", "1")
		rec("CONFIG", "SET", "rdb-key-save-delay", "0")
		rec("BGREWRITEAOF")
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info("aof_last_bgrewrite_status")
		rec("CONFIG", "SET", "appendonly", "yes")
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		info("aof_enabled", "aof_last_bgrewrite_status")
		rec("DEBUG", "LOADAOF")
		rec("DBSIZE")
		rec("GET", "after")
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
	b, _ := os.ReadFile(logs[1])
	for _, bad := range []string{"already closed", "rewrite failed"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("Crescent's log has %q:\n%s", bad, b)
		}
	}
}

// TestDebugLoadAOFDuringRewrite: DEBUG LOADAOF during a background
// rewrite loads the files the manifest names, as Redis 7.0 does (Crescent
// refused it), and the rewrite then ends well: a second DEBUG LOADAOF
// loads its base. DEBUG POPULATE's keys are not in the AOF, so the first
// load drops them and the rewrite's base (cut before it) brings them back.
func TestDebugLoadAOFDuringRewrite(t *testing.T) {
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		p := start(t, dir, "--appendonly", "yes", "--save", "", "--enable-debug-command", "yes")
		cl := dial(t, p)
		rec := func(args ...string) {
			got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
		}
		rec("DEBUG", "POPULATE", "20")
		rec("SET", "a", "1")
		rec("CONFIG", "SET", "rdb-key-save-delay", "100000") // 2 s of rewrite
		rec("BGREWRITEAOF")
		rec("SET", "during", "1")
		rec("DEBUG", "LOADAOF")
		rec("DBSIZE")
		rec("MGET", "a", "during")
		rec("CONFIG", "SET", "rdb-key-save-delay", "0")
		waitInfo(t, cl, "persistence", "aof_rewrite_in_progress", "0")
		got[i] = append(got[i], "aof_last_bgrewrite_status:"+infoField(t, cl, "persistence", "aof_last_bgrewrite_status"))
		rec("SET", "after", "1")
		rec("DEBUG", "LOADAOF")
		rec("DBSIZE")
		rec("MGET", "a", "during", "after")
		got[i] = append(got[i], "files: "+aofFiles(t, dir))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestAOFTurnOnKilledByAppendonlyNo: CONFIG SET appendonly yes starts the
// rewrite that creates the AOF; CONFIG SET appendonly no while it runs
// kills it as well, leaving no AOF file behind (Redis leaves only a
// temporary one).
func TestAOFTurnOnKilledByAppendonlyNo(t *testing.T) {
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		p := start(t, dir, "--appendonly", "no", "--save", "", "--enable-debug-command", "yes")
		cl := dial(t, p)
		rec := func(args ...string) {
			got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
		}
		rec("DEBUG", "POPULATE", "100")
		rec("CONFIG", "SET", "rdb-key-save-delay", "100000") // 10 s of rewrite
		rec("CONFIG", "SET", "appendonly", "yes")
		rec("CONFIG", "SET", "appendonly", "no")
		for _, f := range []string{"aof_enabled", "aof_rewrite_in_progress", "aof_last_bgrewrite_status"} {
			got[i] = append(got[i], f+":"+infoField(t, cl, "persistence", f))
		}
		rec("CONFIG", "SET", "rdb-key-save-delay", "0")
		got[i] = append(got[i], "files: "+aofFiles(t, dir))
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestDebugLoadAOFFlushesFunctions: DEBUG LOADAOF empties the function
// libraries with the keys, as Redis 7.0's emptyData: a library the files
// do not hold is gone afterwards (the incr file is replaced by one that
// only sets a key). Crescent kept it, and the replay of an AOF's own
// FUNCTION LOAD then failed ("already exists").
func TestDebugLoadAOFFlushesFunctions(t *testing.T) {
	var got [2][]string
	for i, start := range []func(testing.TB, string, ...string) *proc{startRedis, startCrescent} {
		dir := t.TempDir()
		p := start(t, dir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--save", "", "--enable-debug-command", "yes")
		cl := dial(t, p)
		rec := func(args ...string) {
			got[i] = append(got[i], strings.Join(args, " ")+" -> "+cl.must(t, args...))
		}
		rec("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 7 end)")
		rec("DEBUG", "LOADAOF") // the incr file's FUNCTION LOAD loads it again
		rec("FCALL", "f", "0")
		got[i] = append(got[i], "total_error_replies:"+infoField(t, cl, "stats", "total_error_replies"))
		if err := os.WriteFile(incrFile(dir), []byte("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rec("DEBUG", "LOADAOF")
		rec("FUNCTION", "LIST")
		rec("GET", "a")
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Fatalf("redis-server:\n%s\n\ncrescent:\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}
