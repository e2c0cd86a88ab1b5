package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"
)

func none(c int) step { return step{c: c, none: true} }

// TestTrackingDiff compares client-side caching invalidations (RESP3
// pushes on the tracking connection) with redis-server, for changes made
// by other clients, MULTI, scripts, expiry and flushes.
func TestTrackingDiff(t *testing.T) {
	runDiff(t, []scenario{
		{name: "resp3-other-clients", conns: 2, steps: []step{
			hello3(0),
			cmd(0, "CLIENT", "TRACKING", "ON"),
			cmd(0, "GET", "k"),
			cmd(1, "SET", "k", "1"),
			recv(0, 1),
			cmd(1, "SET", "k", "2"), // invalidated once: no longer tracked
			none(0),
			cmd(0, "MGET", "k", "k2"),
			cmd(1, "MULTI"), cmd(1, "SET", "k2", "x"), cmd(1, "INCR", "k"), cmd(1, "EXEC"),
			recv(0, 2),
			cmd(0, "GET", "k"),
			cmd(1, "EVAL", "redis.call('set', KEYS[1], 'fromscript')", "1", "k"),
			recv(0, 1),
			cmd(0, "GET", "k"),
			cmdN(0, 2, "SET", "k", "own"), // reply, then the invalidation
			cmd(0, "GET", "k"),
			cmd(1, "FLUSHALL"),
			recv(0, 1), // null: everything
			cmd(0, "CLIENT", "TRACKING", "OFF"),
			cmd(0, "GET", "k"),
			cmd(1, "SET", "k", "3"),
			none(0),
		}},
		{name: "noloop", conns: 2, steps: []step{
			hello3(0),
			cmd(0, "CLIENT", "TRACKING", "ON", "NOLOOP"),
			cmd(0, "GET", "k"),
			cmd(0, "SET", "k", "mine"),
			none(0),
			cmd(0, "GET", "k"),
			cmd(1, "DEL", "k"),
			recv(0, 1),
		}},
		{name: "bcast", conns: 2, steps: []step{
			hello3(0),
			cmd(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:"),
			cmd(1, "SET", "user:1", "a"),
			recv(0, 1),
			cmd(1, "SET", "other", "b"),
			none(0),
			cmd(0, "CLIENT", "TRACKINGINFO"),
		}},
		{name: "optin-optout", conns: 2, steps: []step{
			hello3(0),
			cmd(0, "CLIENT", "TRACKING", "ON", "OPTIN"),
			cmd(0, "GET", "a"),
			cmd(1, "SET", "a", "1"),
			none(0),
			cmd(0, "CLIENT", "CACHING", "YES"),
			cmd(0, "GET", "a"),
			cmd(0, "GET", "b"), // CACHING applies to one command
			cmd(1, "SET", "b", "1"),
			none(0),
			cmd(1, "SET", "a", "2"),
			recv(0, 1),
			cmd(0, "CLIENT", "TRACKING", "OFF"),
			cmd(0, "CLIENT", "TRACKING", "ON", "OPTOUT"),
			cmd(0, "CLIENT", "CACHING", "NO"),
			cmd(0, "GET", "c"),
			cmd(0, "GET", "d"),
			cmd(1, "MSET", "c", "1", "d", "1"),
			recv(0, 1),
			none(0),
		}},
		{name: "script-reads", conns: 2, steps: []step{
			hello3(0),
			cmd(0, "CLIENT", "TRACKING", "ON"),
			cmd(0, "EVAL", "return redis.call('get', KEYS[1])", "1", "s"),
			cmd(1, "SET", "s", "1"),
			recv(0, 1),
		}},
		{name: "expiry", conns: 2, steps: []step{
			hello3(0),
			cmd(0, "CLIENT", "TRACKING", "ON"),
			cmd(1, "SET", "e", "v", "PX", "30"),
			cmd(0, "GET", "e"),
			{c: 0, read: 1, sleep: 50 * time.Millisecond}, // active expiry
		}},
		{name: "resp2-no-redirect-gets-nothing", conns: 2, steps: []step{
			cmd(0, "CLIENT", "TRACKING", "ON"),
			cmd(0, "GET", "r"),
			cmd(1, "SET", "r", "1"),
			none(0),
			cmd(0, "CLIENT", "TRACKINGINFO"),
			cmd(0, "CLIENT", "GETREDIR"),
		}},
	})
}

// TestWatchFlushSwapMove: FLUSHALL, FLUSHDB and SWAPDB signal WATCH for
// the keys that exist in the affected databases; MOVE signals the key in
// the destination database.
func TestWatchFlushSwapMove(t *testing.T) {
	runDiff(t, []scenario{
		{name: "flushall", conns: 2, steps: []step{
			cmd(0, "SET", "k", "v"), cmd(0, "WATCH", "k"),
			cmd(1, "FLUSHALL"),
			cmd(0, "MULTI"), cmd(0, "PING"), cmd(0, "EXEC"),
		}},
		{name: "flushall-missing-key", conns: 2, steps: []step{
			cmd(0, "WATCH", "nokey"),
			cmd(1, "FLUSHALL"),
			cmd(0, "MULTI"), cmd(0, "PING"), cmd(0, "EXEC"),
		}},
		{name: "flushdb-other-db", conns: 2, steps: []step{
			cmd(0, "SET", "k", "v"), cmd(0, "WATCH", "k"),
			cmd(1, "SELECT", "1"), cmd(1, "FLUSHDB"),
			cmd(0, "MULTI"), cmd(0, "PING"), cmd(0, "EXEC"),
			cmd(0, "WATCH", "k"),
			cmd(1, "SELECT", "0"), cmd(1, "FLUSHDB", "ASYNC"),
			cmd(0, "MULTI"), cmd(0, "PING"), cmd(0, "EXEC"),
			cmd(1, "DBSIZE"),
		}},
		{name: "swapdb", conns: 2, steps: []step{
			cmd(0, "FLUSHALL"),
			cmd(0, "SELECT", "1"), cmd(0, "SET", "k", "in1"), cmd(0, "SELECT", "0"),
			cmd(0, "WATCH", "k"), // absent in 0, present in 1
			cmd(1, "SWAPDB", "0", "1"),
			cmd(0, "MULTI"), cmd(0, "GET", "k"), cmd(0, "EXEC"),
		}},
		{name: "move", conns: 2, steps: []step{
			cmd(0, "FLUSHALL"),
			cmd(0, "SELECT", "1"), cmd(0, "WATCH", "m"),
			cmd(1, "SET", "m", "v"), cmd(1, "MOVE", "m", "1"),
			cmd(0, "MULTI"), cmd(0, "GET", "m"), cmd(0, "EXEC"),
		}},
	})
}

// TestTrackingRedirectGoRedis: a RESP2 go-redis connection tracks with
// REDIRECT to a subscriber of __redis__:invalidate; writes from other
// go-redis clients and from scripts arrive there as messages.
func TestTrackingRedirectGoRedis(t *testing.T) {
	addr, _ := startCrescent(t)
	ctx := context.Background()
	sub := dialRaw(t, addr)
	idReply := sub.do("CLIENT", "ID")
	id := strings.TrimSpace(strings.TrimPrefix(idReply, ":"))
	if got := sub.do("SUBSCRIBE", "__redis__:invalidate"); !strings.Contains(got, "subscribe") {
		t.Fatalf("subscribe: %q", got)
	}
	rdb := goRedis(t, addr)
	conn := rdb.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "CLIENT", "TRACKING", "on", "REDIRECT", id).Err(); err != nil {
		t.Fatal(err)
	}
	if r := conn.Do(ctx, "CLIENT", "GETREDIR").Val(); fmt.Sprint(r) != id {
		t.Fatalf("GETREDIR = %v, want %s", r, id)
	}
	other := goRedis(t, addr)
	want := func(key string) {
		t.Helper()
		exp := fmt.Sprintf("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$%d\r\n%s\r\n", len(key), key)
		if got := sub.read(2 * time.Second); got != exp {
			t.Fatalf("invalidation of %s: got %q, want %q", key, got, exp)
		}
	}
	conn.Get(ctx, "k1")
	other.Set(ctx, "k1", "v", 0)
	want("k1")
	conn.Get(ctx, "k2")
	other.Eval(ctx, "return redis.call('incr', KEYS[1])", []string{"k2"})
	want("k2")
	conn.HGetAll(ctx, "h")
	other.HSet(ctx, "h", "f", "v")
	want("h")
	conn.Get(ctx, "e")
	other.Set(ctx, "e", "v", 20*time.Millisecond)
	want("e") // the SET itself
	conn.Get(ctx, "e")
	want("e") // the expiry
	conn.Get(ctx, "k1")
	other.FlushAll(ctx)
	if got, exp := sub.read(2*time.Second), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"; got != exp {
		t.Fatalf("flush invalidation: got %q, want %q", got, exp)
	}
	list := conn.ClientList(ctx).Val()
	if !strings.Contains(list, "flags=t") || !strings.Contains(list, "redir="+id) {
		t.Fatalf("CLIENT LIST lacks tracking fields: %s", list)
	}
	// the redirection target goes away: the client's redirect is broken
	sub.nc.Close()
	time.Sleep(50 * time.Millisecond)
	conn.Get(ctx, "k9")
	other.Set(ctx, "k9", "v", 0)
	time.Sleep(20 * time.Millisecond)
	info := conn.Do(ctx, "CLIENT", "TRACKINGINFO").String()
	if !strings.Contains(info, "broken_redirect") {
		t.Fatalf("TRACKINGINFO after redirect loss: %s", info)
	}
}

// TestTrackingResp3GoRedis checks RESP3 invalidation pushes read raw while
// go-redis clients write.
func TestTrackingResp3GoRedis(t *testing.T) {
	addr, _ := startCrescent(t)
	ctx := context.Background()
	c := dialRaw(t, addr)
	c.do("HELLO", "3")
	c.do("CLIENT", "TRACKING", "ON")
	c.do("GET", "x")
	other := goRedis(t, addr, func(o *redis.Options) { o.Protocol = 3 })
	other.Set(ctx, "x", "1", 0)
	if got, exp := c.read(2*time.Second), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nx\r\n"; got != exp {
		t.Fatalf("push: got %q, want %q", got, exp)
	}
}

var monitorLine = regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) ([^\]]+)\] (.*)\r\n$`)

// TestMonitor checks MONITOR's lines: client commands, script commands
// shown as [0 lua] after their EVAL, MULTI's commands before EXEC, admin
// commands hidden, and RESET leaving the mode.
func TestMonitor(t *testing.T) {
	addr, _ := startCrescent(t)
	m := dialRaw(t, addr)
	if got := m.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", got)
	}
	c := dialRaw(t, addr)
	c.do("SET", "k", "a\nb\x01")
	c.do("CONFIG", "GET", "hz") // admin: not shown
	c.do("EVAL", "return redis.call('get', KEYS[1])", "1", "k")
	c.do("MULTI")
	c.do("INCR", "n")
	c.do("EXEC")
	c.do("SELECT", "2")
	want := []struct{ db, who, args string }{
		{"0", "client", `"SET" "k" "a\nb\x01"`},
		{"0", "client", `"EVAL" "return redis.call('get', KEYS[1])" "1" "k"`},
		{"0", "lua", `"get" "k"`},
		{"0", "client", `"MULTI"`},
		{"0", "client", `"INCR" "n"`},
		{"0", "client", `"EXEC"`},
		{"2", "client", `"SELECT" "2"`},
	}
	for i, w := range want {
		line := m.read(2 * time.Second)
		sm := monitorLine.FindStringSubmatch(line)
		if sm == nil {
			t.Fatalf("line %d: %q does not look like a MONITOR line", i, line)
		}
		who := sm[2]
		if who != "lua" {
			who = "client"
		}
		if sm[1] != w.db || who != w.who || sm[3] != w.args {
			t.Fatalf("line %d: %q, want db %s %s %s", i, line, w.db, w.who, w.args)
		}
	}
	if got := m.do("RESET"); got != "+RESET\r\n" {
		t.Fatalf("RESET: %q", got)
	}
	c.do("PING")
	if got := m.read(150 * time.Millisecond); got != "<timeout>" {
		t.Fatalf("after RESET the monitor still gets %q", got)
	}
}

// TestClientPause: writes wait during CLIENT PAUSE WRITE, reads do not,
// and CLIENT UNPAUSE releases them.
func TestClientPause(t *testing.T) {
	addr, _ := startCrescent(t)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	if got := a.do("CLIENT", "PAUSE", "5000", "WRITE"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	b.send("SET", "k", "v")
	if got := b.read(150 * time.Millisecond); got != "<timeout>" {
		t.Fatalf("write ran during pause: %q", got)
	}
	if got := a.do("GET", "nokey"); got != "$-1\r\n" {
		t.Fatalf("read during WRITE pause: %q", got)
	}
	a.do("CLIENT", "UNPAUSE")
	if got := b.read(2 * time.Second); got != "+OK\r\n" {
		t.Fatalf("write after unpause: %q", got)
	}
	// the pause ends by itself
	a.do("CLIENT", "PAUSE", "100", "ALL")
	start := time.Now()
	if got := b.do("PING"); got != "+PONG\r\n" || time.Since(start) < 80*time.Millisecond {
		t.Fatalf("PING during ALL pause: %q after %v", got, time.Since(start))
	}
}

func startCrescentCfg(t *testing.T, file string, set func(cfg *config.Config)) (string, *server.Server) {
	t.Helper()
	cfg := config.New()
	server.DeclareConfig(cfg)
	text := ""
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text = string(b)
	}
	if err := cfg.Load(text, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Set("port", "0")
	if set != nil {
		set(cfg)
	}
	s, err := server.New(cfg, testLogger(), file)
	if err != nil {
		t.Fatal(err)
	}
	return difftest.ServeCrescent(t, s, nil).Addr, s
}

// TestMetricsEndpoint scrapes /metrics and parses it with Prometheus's
// text-format parser.
func TestMetricsEndpoint(t *testing.T) {
	port := freePort(t)
	addr, _ := startCrescentCfg(t, "", func(cfg *config.Config) {
		if err := cfg.Load("", []string{"--metrics-port", strconv.Itoa(port)}); err != nil {
			t.Fatal(err)
		}
	})
	ctx := context.Background()
	rdb := goRedis(t, addr)
	for i := 0; i < 5; i++ {
		rdb.Set(ctx, "k", i, 0)
	}
	rdb.Get(ctx, "k")
	rdb.Eval(ctx, "return 1", nil)
	rdb.Eval(ctx, "return redis.error_reply('boom')", nil)
	var resp *http.Response
	var err error
	for i := 0; i < 50; i++ {
		resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing metrics: %v", err)
	}
	calls := fams["crescent_command_calls_total"]
	if calls == nil {
		t.Fatal("no crescent_command_calls_total")
	}
	found := false
	for _, m := range calls.Metric {
		if m.Label[0].GetValue() == "set" {
			found = m.Counter.GetValue() == 5
		}
	}
	if !found {
		t.Fatal("set calls not 5")
	}
	h := fams["crescent_command_duration_seconds"]
	if h == nil || len(h.Metric) == 0 || h.Metric[0].Histogram.GetSampleCount() == 0 {
		t.Fatalf("no command latency histogram: %v", h)
	}
	se := fams["crescent_script_errors_total"]
	sc := fams["crescent_script_calls_total"]
	if se == nil || sc == nil || len(sc.Metric) != 2 {
		t.Fatalf("script metrics missing: %v %v", sc, se)
	}
	var errs float64
	for _, m := range se.Metric {
		errs += m.Counter.GetValue()
	}
	if errs != 1 {
		t.Fatalf("script errors = %v, want 1", errs)
	}
	if fams["crescent_script_duration_seconds"] == nil {
		t.Fatal("no script histogram")
	}
	for _, name := range []string{"crescent_loop_moves_total", "crescent_lock_conflicts_total", "crescent_lock_declines_total"} {
		if f := fams[name]; f == nil || len(f.Metric) != 1 || f.Metric[0].Counter == nil {
			t.Fatalf("no counter %s: %v", name, f)
		}
	}
}

// TestConfigRewriteDiff: the same config file rewritten by redis-server
// and by Crescent after the same CONFIG SETs. Lines kept in place are
// compared in order; the appended block is compared as a set, since
// Redis writes it in hash-table order. port and dir lines differ by
// nature and are left out.
func TestConfigRewriteDiff(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found; skipping CONFIG REWRITE differential test")
	}
	dir := t.TempDir()
	base := "# my comment\n\n# another\nmaxmemory-policy allkeys-lru\nhz 10\nhz 20\nsave \"\"\nappendonly no\n"
	rfile, cfile := filepath.Join(dir, "redis.conf"), filepath.Join(dir, "crescent.conf")
	rport := freePort(t)
	os.WriteFile(rfile, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n", rport, dir)+base), 0o644)
	os.WriteFile(cfile, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n", 0, dir)+base), 0o644)
	cmd := exec.Command(bin, rfile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	raddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(rport))
	var rc *rawConn
	for i := 0; i < 100; i++ {
		if nc, err := net.Dial("tcp", raddr); err == nil {
			nc.Close()
			rc = dialRaw(t, raddr)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rc == nil {
		t.Fatal("redis-server did not start")
	}
	caddr, _ := startCrescentCfg(t, cfile, nil)
	cc := dialRaw(t, caddr)
	for _, c := range []*rawConn{rc, cc} {
		for _, args := range [][]string{
			{"CONFIG", "SET", "maxmemory", "100mb"},
			{"CONFIG", "SET", "hz", "15", "slowlog-max-len", "50"},
			{"CONFIG", "SET", "notify-keyspace-events", "KEA"},
			{"CONFIG", "SET", "maxmemory-policy", "noeviction"},
			{"CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 90"},
			{"CONFIG", "SET", "timeout", "300"},
			{"CONFIG", "REWRITE"},
		} {
			if got := c.do(args...); got != "+OK\r\n" {
				t.Fatalf("%v: %q", args, got)
			}
		}
	}
	split := func(path string) (kept []string, added []string) {
		b, _ := os.ReadFile(path)
		tail := false
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if strings.HasPrefix(l, "port ") || strings.HasPrefix(l, "dir ") {
				continue
			}
			if l == "# Generated by CONFIG REWRITE" {
				tail = true
				continue
			}
			if tail {
				added = append(added, l)
			} else {
				kept = append(kept, l)
			}
		}
		sort.Strings(added)
		return
	}
	rk, ra := split(rfile)
	ck, ca := split(cfile)
	if strings.Join(rk, "\n") != strings.Join(ck, "\n") {
		t.Errorf("rewritten lines differ\nredis:\n%s\ncrescent:\n%s", strings.Join(rk, "\n"), strings.Join(ck, "\n"))
	}
	if strings.Join(ra, "\n") != strings.Join(ca, "\n") {
		t.Errorf("appended lines differ\nredis:\n%s\ncrescent:\n%s", strings.Join(ra, "\n"), strings.Join(ca, "\n"))
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSlowScriptLog: a script slower than slowlog-log-slower-than is
// logged at WARN with its sha.
func TestSlowScriptLog(t *testing.T) {
	var buf syncBuf
	cfg := config.New()
	cfg.Set("port", "0")
	// 20 ms: far above "return 1" even under the race detector on a
	// loaded machine, far below the loop below (a table store per
	// iteration keeps it off the VM's arithmetic-only fast path)
	cfg.Set("slowlog-log-slower-than", "20000")
	s, err := server.New(cfg, slog.New(slog.NewJSONHandler(&buf, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	c := dialRaw(t, s.Addr().String())
	body := "local t = {} for i = 1, 1000000 do t[1] = i end return 1"
	c.do("EVAL", body, "0")
	c.do("EVAL", "return 1", "0")
	sha := c.do("SCRIPT", "LOAD", body)
	sha = strings.Split(sha, "\r\n")[1]
	out := buf.String()
	if !strings.Contains(out, `"msg":"slow script"`) || !strings.Contains(out, sha) || !strings.Contains(out, `"level":"WARN"`) {
		t.Fatalf("no slow script warning naming %s in:\n%s", sha, out)
	}
	if strings.Count(out, "slow script") != 1 {
		t.Fatalf("fast script logged too:\n%s", out)
	}
}

// TestKeyspaceHitsDiff: keyspace_hits / keyspace_misses count the lookups
// of every read command, as Redis's lookupKeyRead.
func TestKeyspaceHitsDiff(t *testing.T) {
	redisAddr := startRedis(t)
	crAddr, _ := startCrescent(t)
	stats := func(addr string) string {
		c := dialRaw(t, addr)
		for _, args := range [][]string{
			{"FLUSHALL"}, {"SET", "s", "v"}, {"HSET", "h", "f", "v"}, {"RPUSH", "l", "a"},
			{"CONFIG", "RESETSTAT"},
			{"GET", "s"}, {"GET", "nos"}, {"HGET", "h", "f"}, {"HGET", "noh", "f"},
			{"LRANGE", "l", "0", "-1"}, {"EXISTS", "s", "nos"}, {"MGET", "s", "nos", "s"},
			{"STRLEN", "s"}, {"TYPE", "s"}, {"SET", "s", "w"}, {"LPUSH", "l", "b"},
		} {
			c.do(args...)
		}
		info := c.do("INFO", "stats")
		var out []string
		for _, l := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(l, "keyspace_") {
				out = append(out, l)
			}
		}
		return strings.Join(out, " ")
	}
	if want, got := stats(redisAddr), stats(crAddr); want != got {
		t.Fatalf("redis %q, crescent %q", want, got)
	}
}

// TestOpsMiscDiff: a script's LPUSH wakes a blocked client (the script's
// writes go through the same modification hook).
func TestOpsMiscDiff(t *testing.T) {
	runDiff(t, []scenario{
		{name: "script-wakes-blpop", conns: 2, steps: []step{
			{c: 0, cmd: []string{"BLPOP", "q", "2"}, read: -1},
			{c: 1, cmd: []string{"EVAL", "return redis.call('lpush', KEYS[1], 'x')", "1", "q"}, sleep: 50 * time.Millisecond},
			recv(0, 1),
		}},
	})
}

// TestResetStatDiff: CONFIG RESETSTAT resets what Redis's resetServerStats
// does (commands, connections, network bytes, command statistics), and
// counts itself afterwards.
func TestResetStatDiff(t *testing.T) {
	redisAddr := startRedis(t)
	crAddr, _ := startCrescent(t)
	stats := func(addr string) string {
		c := dialRaw(t, addr)
		for _, args := range [][]string{
			{"SET", "a", "b"}, {"GET", "a"}, {"CONFIG", "RESETSTAT"}, {"GET", "a"},
		} {
			c.do(args...)
		}
		var out []string
		for _, l := range strings.Split(c.do("INFO", "stats")+c.do("INFO", "commandstats"), "\r\n") {
			for _, p := range []string{"total_connections_received:", "total_commands_processed:",
				"total_net_input_bytes:", "rejected_connections:", "expired_keys:", "evicted_keys:", "cmdstat_"} {
				if strings.HasPrefix(l, p) {
					if i := strings.Index(l, ",usec="); i >= 0 { // timings vary
						l = l[:i]
					}
					out = append(out, l)
				}
			}
		}
		sort.Strings(out) // Redis lists commandstats in its dict's order
		return strings.Join(out, " ")
	}
	if want, got := stats(redisAddr), stats(crAddr); want != got {
		t.Fatalf("redis %q\ncrescent %q", want, got)
	}
}
