package commands_test

import (
	"encoding/binary"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/script"
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
	if want := "-ERR Error registering functions: FUNCTION LOAD timeout\r\n"; r != want {
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
	b := append([]byte(body), script.RDBVersion, 0)
	return string(binary.LittleEndian.AppendUint64(b, script.CRC64(0, b)))
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
	for _, s := range steps {
		want, got := must(r, s...), must(c, s...)
		if want != got {
			t.Errorf("%.80q:\n redis:    %q\n crescent: %q", s, want, got)
		}
	}
}
