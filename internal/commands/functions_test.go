package commands_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/persist/rdb"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

const busyLib = "#!lua name=busy\n" +
	"redis.register_function('spin', function() while true do end end)\n" +
	"redis.register_function('pspin', function() while true do pcall(function() while true do end end) end end)\n" +
	"redis.register_function('wspin', function() redis.call('set', 'x', 'y') while true do end end)\n" +
	"redis.register_function{function_name='rospin', callback=function() redis.call('get', 'x') while true do end end, flags={'no-writes'}}"

var reDuration = regexp.MustCompile(`duration_ms\r\n:\d+`)

// runBusyCall is runBusy for any command: c1 sends cmd after the library is
// loaded, the steps run on c2 (or read c1's reply).
func runBusyCall(t *testing.T, addr string, cmd []string, steps []busyStep) []string {
	t.Helper()
	c1, c2 := scriptDial(t, addr), scriptDial(t, addr)
	for _, args := range [][]string{
		{"CONFIG", "SET", "busy-reply-threshold", "100"},
		{"FUNCTION", "LOAD", "REPLACE", busyLib},
	} {
		if r, err := c2.do(args...); err != nil || strings.HasPrefix(r, "-") {
			t.Fatalf("%q: %q %v", args, r, err)
		}
	}
	if err := c1.send(cmd...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	var out []string
	for _, s := range steps {
		time.Sleep(s.sleep)
		var r string
		var err error
		if s.args == nil {
			r, err = c1.read()
		} else {
			r, err = c2.do(s.args...)
		}
		if err != nil {
			t.Fatalf("step %q: %v", s.args, err)
		}
		out = append(out, reDuration.ReplaceAllString(r, "duration_ms\r\n:N"))
	}
	return out
}

// TestBusyFunctions compares BUSY, FUNCTION KILL, SCRIPT KILL / FUNCTION
// KILL of the wrong kind, FUNCTION STATS while a function or a script runs,
// and the killed function's reply with a real redis-server.
func TestBusyFunctions(t *testing.T) {
	read := busyStep{}
	cases := []struct {
		name  string
		cmd   []string
		steps []busyStep
	}{
		{"kill function", []string{"FCALL", "spin", "0"}, []busyStep{
			{args: []string{"PING"}},
			{args: []string{"FCALL", "spin", "0"}},
			{args: []string{"EVAL", "return 1", "0"}},
			{args: []string{"SCRIPT", "KILL"}},
			{args: []string{"FUNCTION", "STATS"}},
			{args: []string{"FUNCTION", "LOAD", "REPLACE", busyLib}},
			{args: []string{"FUNCTION", "DELETE", "busy"}},
			{args: []string{"FUNCTION", "FLUSH"}},
			{args: []string{"FUNCTION", "LIST"}},
			{args: []string{"FUNCTION", "DUMP"}},
			{args: []string{"FUNCTION", "KILL"}},
			read,
			{args: []string{"FUNCTION", "KILL"}},
			{args: []string{"FUNCTION", "STATS"}},
			{args: []string{"PING"}},
		}},
		{"kill function in pcall", []string{"FCALL", "pspin", "0"}, []busyStep{
			{args: []string{"FUNCTION", "KILL"}},
			read,
			{args: []string{"PING"}},
		}},
		{"kill read-only function", []string{"FCALL_RO", "rospin", "0"}, []busyStep{
			{args: []string{"FUNCTION", "STATS"}},
			{args: []string{"FUNCTION", "KILL"}},
			read,
		}},
		{"script running", []string{"EVAL", "while true do end", "0"}, []busyStep{
			{args: []string{"FUNCTION", "STATS"}},
			{args: []string{"FUNCTION", "KILL"}},
			{args: []string{"FCALL", "spin", "0"}},
			{args: []string{"SCRIPT", "KILL"}},
			read,
		}},
	}
	redisAddr := scriptStartRedis(t)
	crescentAddr, _ := startScriptCrescent(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := runBusyCall(t, redisAddr, c.cmd, c.steps)
			got := runBusyCall(t, crescentAddr, c.cmd, c.steps)
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("step %d %q:\n redis:    %q\n crescent: %q", i, c.steps[i].args, want[i], got[i])
				}
			}
		})
	}
}

// TestUnkillableFunction: a function that wrote cannot be killed; SHUTDOWN
// NOSAVE still stops the server.
func TestUnkillableFunction(t *testing.T) {
	steps := []busyStep{
		{args: []string{"PING"}},
		{args: []string{"FUNCTION", "KILL"}},
		{args: []string{"SCRIPT", "KILL"}},
	}
	cmd := []string{"FCALL", "wspin", "0"}
	want := runBusyCall(t, scriptStartRedis(t), cmd, steps)
	addr, _ := startScriptCrescent(t)
	got := runBusyCall(t, addr, cmd, steps)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d %q:\n redis:    %q\n crescent: %q", i, steps[i].args, want[i], got[i])
		}
	}
	c := scriptDial(t, addr)
	c.send("SHUTDOWN", "NOSAVE")
	done := make(chan struct{})
	go func() {
		c.read()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("SHUTDOWN NOSAVE did not stop the server")
	}
}

// TestFunctionLoadTimeout: a library whose code runs past 500ms fails to
// load, as in Redis.
func TestFunctionLoadTimeout(t *testing.T) {
	addr, _ := startScriptCrescent(t)
	c := scriptDial(t, addr)
	start := time.Now()
	r, err := c.do("FUNCTION", "LOAD", "#!lua name=slow\nwhile true do end")
	if err != nil {
		t.Fatal(err)
	}
	if want := "-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n"; r != want {
		t.Fatalf("got %q, want %q", r, want)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("load took %v", d)
	}
	// The function state still works.
	c.do("FUNCTION", "LOAD", "#!lua name=ok\nredis.register_function('ok', function() return 'fine' end)")
	if r, _ := c.do("FCALL", "ok", "0"); r != "$4\r\nfine\r\n" {
		t.Fatalf("FCALL after timeout: %q", r)
	}
}

const (
	dumpLibA  = "#!lua name=liba\nredis.register_function{function_name='fa', callback=function(keys, args) return 'a' end, flags={'no-writes'}, description='the first library, with a body long enough for LZF to compress it: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}"
	dumpLibB  = "#!lua name=libb\nredis.register_function('fb', function(keys, args) return 'b' end)"
	dumpLibC  = "#!lua name=libc\nredis.register_function('fa', function(keys, args) return 'c' end)"
	preGACode = "\nredis.register_function('pf', function() return 'pre' end)"
	dumpLibB2 = "#!lua name=libb\nredis.register_function('fb2', function(keys, args) return 'b2' end)"
)

// mkPayload appends the RDB version and Redis's CRC64 to body.
func mkPayload(body string) string {
	b := append([]byte(body), rdb.Version, 0)
	return string(binary.LittleEndian.AppendUint64(b, rdb.NewCRCTable().Update(0, b)))
}

// TestFunctionDumpRestore: FUNCTION DUMP payloads are Redis's format: a
// payload dumped by Redis (LZF-compressed) restores into Crescent and one
// dumped by Crescent restores into Redis; then every RESTORE policy and
// error runs on both servers with the same payloads.
func TestFunctionDumpRestore(t *testing.T) {
	r := scriptDial(t, scriptStartRedis(t))
	caddr, _ := startScriptCrescent(t)
	c := scriptDial(t, caddr)
	must := func(cl *rawClient, args ...string) string {
		t.Helper()
		out, err := cl.do(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	bulk := func(raw string) string {
		t.Helper()
		if !strings.HasPrefix(raw, "$") {
			t.Fatalf("not a bulk: %q", raw)
		}
		_, body, _ := strings.Cut(raw, "\r\n")
		return strings.TrimSuffix(body, "\r\n")
	}
	for _, cl := range []*rawClient{r, c} {
		must(cl, "FUNCTION", "FLUSH")
		must(cl, "FUNCTION", "LOAD", dumpLibA)
		must(cl, "FUNCTION", "LOAD", dumpLibB)
	}
	redisDump := bulk(must(r, "FUNCTION", "DUMP"))
	crescentDump := bulk(must(c, "FUNCTION", "DUMP"))

	// Redis -> Crescent and Crescent -> Redis.
	for _, x := range []struct {
		name    string
		payload string
	}{{"redis payload", redisDump}, {"crescent payload", crescentDump}} {
		for _, cl := range []*rawClient{r, c} {
			must(cl, "FUNCTION", "FLUSH")
			if out := must(cl, "FUNCTION", "RESTORE", x.payload); out != "+OK\r\n" {
				t.Fatalf("%s: RESTORE: %q", x.name, out)
			}
		}
		want := must(r, "FUNCTION", "LIST", "LIBRARYNAME", "liba", "WITHCODE")
		got := must(c, "FUNCTION", "LIST", "LIBRARYNAME", "liba", "WITHCODE")
		if want != got || !strings.Contains(got, "the first library") {
			t.Errorf("%s: liba after RESTORE:\n redis:    %q\n crescent: %q", x.name, want, got)
		}
		if a, b := must(r, "FCALL", "fb", "0"), must(c, "FCALL", "fb", "0"); a != b || a != "$1\r\nb\r\n" {
			t.Errorf("%s: FCALL fb: %q %q", x.name, a, b)
		}
	}

	// Payloads with one library each, taken from Redis.
	payload := func(code string) string {
		must(r, "FUNCTION", "FLUSH")
		must(r, "FUNCTION", "LOAD", code)
		return bulk(must(r, "FUNCTION", "DUMP"))
	}
	pb2, pc := payload(dumpLibB2), payload(dumpLibC)
	must(r, "FUNCTION", "FLUSH")
	empty := bulk(must(r, "FUNCTION", "DUMP"))
	corrupt := []byte(redisDump)
	corrupt[5] ^= 0xff
	truncated := redisDump[:len(redisDump)-11] + redisDump[len(redisDump)-10:]
	preGA := "\xf6\x04plib\x03lua\x01\x04desc" + string(rune(len(preGACode))) + preGACode
	steps := [][]string{
		{"FUNCTION", "FLUSH"},
		{"FUNCTION", "RESTORE", redisDump},
		{"FUNCTION", "RESTORE", redisDump},
		{"FUNCTION", "RESTORE", redisDump, "APPEND"},
		{"FUNCTION", "RESTORE", pb2},
		{"FUNCTION", "RESTORE", pb2, "REPLACE"},
		{"FCALL", "fb", "0"},
		{"FCALL", "fb2", "0"},
		{"FUNCTION", "RESTORE", pc, "REPLACE"},
		{"FUNCTION", "RESTORE", pc},
		{"FCALL", "fa", "0"},
		{"FUNCTION", "RESTORE", pc, "FLUSH"},
		{"FCALL", "fa", "0"},
		{"FCALL", "fb2", "0"},
		{"FUNCTION", "RESTORE", empty},
		{"FUNCTION", "RESTORE", empty, "flush"},
		{"FUNCTION", "LIST"},
		{"FUNCTION", "RESTORE", string(corrupt)},
		{"FUNCTION", "RESTORE", truncated},
		{"FUNCTION", "RESTORE", mkPayload("\x01")},
		{"FUNCTION", "RESTORE", mkPayload("\xf6\x03abc")},
		{"FUNCTION", "RESTORE", mkPayload("\xf5\x3fabc")},
		{"FUNCTION", "RESTORE", mkPayload("\xf5\x03abc")},
		{"FUNCTION", "RESTORE", mkPayload("\xf5\x0a#!lua name")},
		{"FUNCTION", "RESTORE", mkPayload("\xf5" + string(rune(len(dumpLibB))) + dumpLibB + "\xf5" + string(rune(len(dumpLibB))) + dumpLibB)},
		{"FUNCTION", "RESTORE", mkPayload(preGA), "FLUSH"},
		{"FUNCTION", "LIST", "WITHCODE"},
		{"FCALL", "pf", "0"},
		{"FUNCTION", "RESTORE", redisDump, "bad"},
		{"FUNCTION", "RESTORE", redisDump, "FLUSH", "extra"},
	}
	// Which of several colliding libraries Redis names depends on its
	// dict's random order: any library name is an acceptable answer there.
	collision := regexp.MustCompile(`^-ERR Library \S+ already exists\r\n$`)
	for _, s := range steps {
		want, got := must(r, s...), must(c, s...)
		if want != got && !(collision.MatchString(want) && collision.MatchString(got)) {
			t.Errorf("%.80q:\n redis:    %q\n crescent: %q", s, want, got)
		}
	}
}

// TestScriptFlagsOOM: over maxmemory, scripts and functions that declare
// flags run only when allow-oom or no-writes; scripts without flags fail
// at their first denyoom command. Compared with a real redis-server.
func TestScriptFlagsOOM(t *testing.T) {
	lib := "#!lua name=m\n" +
		"redis.register_function('w', function(keys, args) return redis.call('set', 'a', 'b') end)\n" +
		"redis.register_function{function_name='nw', callback=function(keys, args) return redis.call('get', 'a') end, flags={'no-writes'}}\n" +
		"redis.register_function{function_name='oom', callback=function(keys, args) return redis.call('set', 'a', 'b') end, flags={'allow-oom'}}\n" +
		"redis.register_function{function_name='none', callback=function(keys, args) return 1 end, flags={}}"
	steps := [][]string{
		{"FUNCTION", "FLUSH"},
		{"FUNCTION", "LOAD", lib},
		{"SET", "big", strings.Repeat("x", 1000)},
		{"CONFIG", "SET", "maxmemory", "1"},
		{"FCALL", "w", "0"},
		{"FCALL", "nw", "0"},
		{"FCALL", "oom", "0"},
		{"FCALL", "none", "0"},
		{"FCALL_RO", "nw", "0"},
		{"EVAL", "#!lua\nreturn 1", "0"},
		{"EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'a')", "0"},
		{"EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'a', 'c')", "0"},
		{"EVAL", "return redis.call('set', 'a', 'd')", "0"},
		{"EVAL", "return redis.pcall('set', 'a', 'd')", "0"},
		{"EVAL", "return redis.call('get', 'a')", "0"},
		{"EVAL", "redis.call('del', 'nokey') return redis.call('set', 'a', 'e')", "0"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"FCALL", "w", "0"},
		{"FUNCTION", "FLUSH"},
	}
	r := scriptDial(t, scriptStartRedis(t))
	caddr, _ := startScriptCrescent(t)
	c := scriptDial(t, caddr)
	for _, s := range steps {
		want, err := r.do(s...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.do(s...)
		if err != nil {
			t.Fatal(err)
		}
		if want != got {
			t.Errorf("%.80q:\n redis:    %q\n crescent: %q", s, want, got)
		}
	}
}

// TestFunctionPropagation: FUNCTION LOAD, DELETE, FLUSH and RESTORE are
// propagated as themselves (AOF, replicas); FCALL propagates its effects,
// like EVAL; reads and failed changes propagate nothing.
func TestFunctionPropagation(t *testing.T) {
	var mu sync.Mutex
	var got []string
	record := func(db int, cmds [][][]byte) {
		var parts []string
		for _, c := range cmds {
			var a []string
			for _, x := range c {
				a = append(a, string(x))
			}
			parts = append(parts, strings.Join(a, " "))
		}
		mu.Lock()
		got = append(got, strings.Join(parts, " | "))
		mu.Unlock()
	}
	var on atomic.Bool
	addr := startHookedCrescent(t, func(s *server.Server) {
		s.Exec().Propagating = nil // record with the AOF off
		s.Exec().Propagate = func(db int, cmds [][][]byte) {
			if on.Load() {
				record(db, cmds)
			}
		}
	})
	c := scriptDial(t, addr)
	lib := "#!lua name=p\nredis.register_function('w', function(keys, args) redis.call('set', keys[1], 'v') return redis.call('incr', 'n') end)"
	c.do("FUNCTION", "LOAD", "#!lua name=q\nredis.register_function('q', function() return 1 end)")
	dump, _ := c.do("FUNCTION", "DUMP")
	_, payload, _ := strings.Cut(strings.TrimSuffix(dump, "\r\n"), "\r\n")
	on.Store(true)
	tests := []struct {
		cmd  []string
		want []string
	}{
		{[]string{"FUNCTION", "LOAD", lib}, []string{"FUNCTION LOAD " + lib}},
		{[]string{"FUNCTION", "LOAD", lib}, nil},
		{[]string{"FCALL", "w", "1", "k"}, []string{"MULTI | set k v | incr n | EXEC"}},
		{[]string{"FUNCTION", "LIST"}, nil},
		{[]string{"FUNCTION", "DUMP"}, nil},
		{[]string{"FUNCTION", "DELETE", "p"}, []string{"FUNCTION DELETE p"}},
		{[]string{"FUNCTION", "DELETE", "p"}, nil},
		{[]string{"FUNCTION", "FLUSH"}, []string{"FUNCTION FLUSH"}},
		{[]string{"FUNCTION", "RESTORE", payload}, []string{"FUNCTION RESTORE " + payload}},
		{[]string{"FUNCTION", "RESTORE", payload}, nil},
	}
	for _, tt := range tests {
		mu.Lock()
		got = nil
		mu.Unlock()
		c.do(tt.cmd...)
		mu.Lock()
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("%.60q: propagated %q, want %q", tt.cmd, got, tt.want)
		}
		mu.Unlock()
	}
}

// startHookedCrescent is startScriptCrescent with hook run on the server
// before it starts serving.
func startHookedCrescent(t *testing.T, hook func(*server.Server)) string {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--port", "0", "--bind", "127.0.0.1", "--save", ""}); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	hook(srv)
	return serveInProcess(t, srv)
}

// serveInProcess makes srv listen on its loopback port and serve until
// the test ends; it returns the address.
func serveInProcess(t *testing.T, srv *server.Server) string {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return srv.Addr().String()
}

// BenchmarkFcallGetSet measures FCALL of a small read-modify-write function
// through the executor, without the network (compare BenchmarkEvalshaGetSet).
func BenchmarkFcallGetSet(b *testing.B) {
	srv := newInProcess(b)
	ex := srv.Exec()
	cl := command.NewClient(1)
	w := resp.NewWriter()
	ex.Execute(cl, strArgs("FUNCTION", "LOAD", "#!lua name=bench\nredis.register_function('getset', function(keys, args) local v = redis.call('GET', keys[1]) redis.call('SET', keys[1], args[1]) return v end)"), w)
	argv := strArgs("FCALL", "getset", "1", "k", "value")
	w.Reset()
	ex.Execute(cl, argv, w)
	if w.Buf[0] == '-' {
		b.Fatalf("FCALL: %s", w.Buf)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Reset()
		ex.Execute(cl, argv, w)
	}
}
