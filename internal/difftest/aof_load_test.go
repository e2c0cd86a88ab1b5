package difftest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// aofFiles are the files of one load case, by path under the server's dir.
type aofFiles map[string]string

// cmdsRESP renders commands (space-separated words) in RESP, as an AOF
// holds them.
func cmdsRESP(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, "#") { // an annotation line, verbatim
			b.WriteString(l + "\r\n")
			continue
		}
		f := strings.Fields(l)
		fmt.Fprintf(&b, "*%d\r\n", len(f))
		for _, a := range f {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	return b.String()
}

// manifest is a multi-part AOF manifest of the given lines.
func manifest(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// aofLoadCases are the AOF loading behaviours of Redis's AOF tests
// (tests/integration/aof.tcl, aof-multi-part.tcl): what a user sees is
// whether the server starts and which keys it then has.
var aofLoadCases = []struct {
	name  string
	files aofFiles
	args  []string
}{
	{"legacy file", aofFiles{"appendonly.aof": cmdsRESP("SET foo hello", "RPUSH l a b c")}, nil},
	{"unfinished MULTI", aofFiles{"appendonly.aof": cmdsRESP("SET foo hello", "MULTI", "SET bar world")}, nil},
	{"unfinished MULTI, truncation refused", aofFiles{"appendonly.aof": cmdsRESP("SET foo hello", "MULTI", "SET bar world")}, []string{"--aof-load-truncated", "no"}},
	{"short read", aofFiles{"appendonly.aof": strings.TrimSuffix(cmdsRESP("SET foo hello", "SET bar world"), "\n")}, nil},
	{"short read, truncation refused", aofFiles{"appendonly.aof": strings.TrimSuffix(cmdsRESP("SET foo hello", "SET bar world"), "\n")}, []string{"--aof-load-truncated", "no"}},
	{"garbage inside", aofFiles{"appendonly.aof": cmdsRESP("SET foo hello") + "garbage\r\n" + cmdsRESP("SET bar world")}, nil},
	{"unknown command", aofFiles{"appendonly.aof": cmdsRESP("SET foo hello", "BLA foo", "SET bar world")}, nil},
	{"wrong arity", aofFiles{"appendonly.aof": cmdsRESP("SET foo hello", "SET bar")}, nil},
	{"SPOP", aofFiles{"appendonly.aof": cmdsRESP("SADD set foo", "SADD set bar", "SPOP set 2", "SADD set baz", "SPOP set 0")}, nil},
	{"EXPIREAT in the past", aofFiles{"appendonly.aof": cmdsRESP("RPUSH list foo", "EXPIREAT list 1000", "RPUSH list bar")}, nil},
	{"LMPOP ZMPOP BLMPOP BZMPOP", aofFiles{"appendonly.aof": cmdsRESP("RPUSH l a b c d", "LMPOP 1 l LEFT COUNT 2",
		"ZADD z 1 a 2 b 3 c", "ZMPOP 1 z MIN", "BLMPOP 0 1 l RIGHT", "BZMPOP 0 1 z MAX COUNT 5")}, nil},
	{"timestamp annotations", aofFiles{"appendonly.aof": cmdsRESP("#TS:1628217470", "SET foo hello", "#TS:1628217471", "SET bar world")}, nil},
	{"SELECT and an error reply", aofFiles{"appendonly.aof": cmdsRESP("SELECT 9", "SET a 1", "LPUSH a x", "SELECT 0", "SET b 2")}, nil},
	{"empty legacy file", aofFiles{"appendonly.aof": ""}, nil},
	{"multi part", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET b incr1"),
		"appendonlydir/appendonly.aof.2.incr.aof": cmdsRESP("SET a incr2"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i", "file appendonly.aof.2.incr.aof seq 2 type i")}, nil},
	{"multi part, no base", aofFiles{
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET b incr1"),
		"appendonlydir/appendonly.aof.manifest":   manifest("file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, a file missing", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, truncated middle file", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.1.incr.aof": strings.TrimSuffix(cmdsRESP("SET b incr1"), "\n"),
		"appendonlydir/appendonly.aof.2.incr.aof": cmdsRESP("SET c incr2"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i", "file appendonly.aof.2.incr.aof seq 2 type i")}, nil},
	{"multi part, truncated last file", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.1.incr.aof": strings.TrimSuffix(cmdsRESP("SET b incr1"), "\n"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, empty manifest", aofFiles{"appendonlydir/appendonly.aof.manifest": ""}, nil},
	{"multi part, invalid manifest line", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.manifest":   manifest("file appendonly.aof.1.base.aof seq 1 type b", "not a manifest line")}, nil},
	{"multi part, two bases", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.2.base.aof": cmdsRESP("SET a base2"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.2.base.aof seq 2 type b")}, nil},
	{"multi part, history file", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.2.base.aof": cmdsRESP("SET a base2"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type h",
			"file appendonly.aof.2.base.aof seq 2 type b")}, nil},
	{"multi part, comment and blank lines", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.manifest":   "# comment\n\nfile appendonly.aof.1.base.aof seq 1 type b\n"}, nil},
	{"multi part, unknown manifest key", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base"),
		"appendonlydir/appendonly.aof.manifest":   manifest("file appendonly.aof.1.base.aof seq 1 type b newkey unknown")}, nil},
	{"multi part, sequence not increasing", aofFiles{
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.2.incr.aof": cmdsRESP("SET k2 v2"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.2.incr.aof seq 2 type i",
			"file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, sequence with a gap", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k2 v2"),
		"appendonlydir/appendonly.aof.3.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i", "file appendonly.aof.3.incr.aof seq 3 type i")}, nil},
	{"multi part, unknown type", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type x",
			"file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, misspelt key", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest("filx appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, line without seq", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof type i")}, nil},
	{"multi part, line too long", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest(strings.Repeat("file appendonly.aof.1.base.aof seq 1 type b ", 40),
			"file appendonly.aof.1.incr.aof seq 1 type i")}, nil},
	{"multi part, odd parameter", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i newkey")}, nil},
	{"multi part, empty directory", aofFiles{"appendonlydir/.keep": ""}, nil},
	{"old-style file and a directory without manifest", aofFiles{
		"appendonly.aof": cmdsRESP("SET old 1"), "appendonlydir/.keep": ""}, nil},
	{"old-style file and a manifest naming other files", aofFiles{
		"appendonly.aof": cmdsRESP("SET old 1"),
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET new 1"),
		"appendonlydir/appendonly.aof.manifest":   manifest("file appendonly.aof.1.base.aof seq 1 type b")}, nil},
	{"old-style file named by the manifest, not yet moved", aofFiles{
		"appendonly.aof":                        cmdsRESP("SET old 1"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof seq 1 type b")}, nil},
	{"old-style file with an RDB preamble", aofFiles{"appendonly.aof": "RDBFILE"}, nil},
	{"multi part, an empty incr file", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof.1.incr.aof": "",
		"appendonlydir/appendonly.aof.3.incr.aof": cmdsRESP("SET k3 v3"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof.1.base.aof seq 1 type b",
			"file appendonly.aof.1.incr.aof seq 1 type i", "file appendonly.aof.3.incr.aof seq 3 type i")}, nil},
	{"old-style file in both directories", aofFiles{
		"appendonly.aof":                        cmdsRESP("SET k1 v1"),
		"appendonlydir/appendonly.aof":          cmdsRESP("SET k4 v4"),
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof seq 1 type b")}, nil},
	{"manifest naming the old-style file, in neither directory", aofFiles{
		"appendonlydir/appendonly.aof.manifest": manifest("file appendonly.aof seq 1 type b")}, nil},
	{"multi part, no manifest but files", aofFiles{
		"appendonlydir/appendonly.aof.1.base.aof": cmdsRESP("SET a base")}, nil},
}

// loadOutcome is what a user sees of one start: "refused" or the keys.
func loadOutcome(t *testing.T, addr string) string {
	t.Helper()
	c, err := DialAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []string
	info, _ := c.Do("INFO", "persistence")
	for _, l := range strings.Split(string(info), "\r\n") {
		if strings.HasPrefix(l, "rdb_last_load_keys_") || strings.HasPrefix(l, "aof_enabled:") {
			out = append(out, l)
		}
	}
	for db := 0; db < 16; db++ {
		c.Do("SELECT", strconv.Itoa(db))
		keys, _ := c.Do("KEYS", "*")
		if string(keys) == "*0\r\n" {
			continue
		}
		v, _, _ := Parse(keys)
		var names []string
		for _, k := range v.Elems {
			names = append(names, string(k.Str))
		}
		sort.Strings(names)
		out = append(out, fmt.Sprintf("db%d:", db))
		for _, k := range names {
			d, _ := c.Do("DEBUG", "DIGEST-VALUE", k)
			ttl, _ := c.Do("PTTL", k)
			out = append(out, fmt.Sprintf("  %s %q ttl>0=%v", k, d, !bytes.HasPrefix(ttl, []byte(":-"))))
		}
	}
	return strings.Join(out, "\n")
}

// startRedisDir starts redis-server on dir; ok is false when it exits
// instead of serving (its log returned).
func startRedisDir(t *testing.T, dir string, args ...string) (addr string, log string, ok bool) {
	port := FreePort(t)
	argv := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--daemonize", "no", "--dir", dir, "--logfile", "", "--enable-debug-command", "yes"}, args...)
	cmd := exec.Command(RedisBinary(), argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitReady(addr, done); err != nil {
		cmd.Process.Kill()
		<-done
		return "", out.String(), false
	}
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	return addr, "", true
}

// startCrescentDir starts Crescent in-process on dir; ok is false when it
// refuses to start (the error returned as log).
func startCrescentDir(t *testing.T, dir string, args ...string) (addr string, log string, ok bool) {
	cfg := config.New()
	server.DeclareConfig(cfg)
	argv := append([]string{"--bind", "127.0.0.1", "--port", "0", "--save", "", "--dir", dir,
		"--enable-debug-command", "yes"}, args...)
	if err := cfg.Load("", argv); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, Logger(), "")
	if err != nil {
		return "", err.Error(), false
	}
	if err := srv.Listen(); err != nil {
		return "", err.Error(), false
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-errc:
		case <-time.After(10 * time.Second):
			t.Errorf("crescent did not stop")
		}
	})
	return srv.Addr().String(), "", true
}

// TestAOFLoadEdges: an AOF of each edge case of Redis's AOF tests (an
// unfinished MULTI, a short read, garbage, an unknown command, timestamp
// annotations, multi-part manifests with missing, truncated or extra
// files) makes Crescent start, or refuse to start, as redis-server 7.0.15
// does, with the same keys and values.
func TestAOFLoadEdges(t *testing.T) {
	if RedisBinary() == "" {
		t.Skip("redis-server not found")
	}
	// an RDB file of no keys, for the RDB-preamble case
	emptyRDB := []byte("REDIS0009\xff")
	emptyRDB = append(emptyRDB, make([]byte, 8)...) // a checksum of 0: not checked
	for _, tc := range aofLoadCases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			var outcome [2]string
			var logs [2]string
			for i, start := range []func(*testing.T, string, ...string) (string, string, bool){startRedisDir, startCrescentDir} {
				dir := t.TempDir()
				for name, content := range tc.files {
					if content == "RDBFILE" {
						content = string(emptyRDB) + cmdsRESP("SET after preamble")
					}
					p := filepath.Join(dir, name)
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				args := append([]string{"--appendonly", "yes"}, tc.args...)
				addr, log, ok := start(t, dir, args...)
				if !ok {
					outcome[i] = "refused to start"
					logs[i] = lastLines(log, 3)
					continue
				}
				outcome[i] = "started\n" + loadOutcome(t, addr) + "\n" + aofLayout(dir)
			}
			if outcome[0] != outcome[1] {
				t.Errorf("redis: %s\n(%s)\ncrescent: %s\n(%s)", outcome[0], logs[0], outcome[1], logs[1])
			}
		})
	}
}

// aofLayout lists the files of dir and its AOF directory, with the
// manifest's content, once the server started.
func aofLayout(dir string) string {
	var out []string
	for _, sub := range []string{".", "appendonlydir"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			if e.IsDir() || e.Name() == ".keep" || strings.HasSuffix(e.Name(), ".rdb") && sub == "." {
				continue
			}
			out = append(out, filepath.Join(sub, e.Name()))
		}
	}
	sort.Strings(out)
	mf, _ := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.manifest"))
	return "files " + strings.Join(out, " ") + "\nmanifest:\n" + string(mf)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
