package commands_test

import (
	"strings"
	"testing"
	"time"
)

// busyStep is one step of a busy-script scenario: a command sent by the
// second client while the first runs a script, or the first client's
// reply.
type busyStep struct {
	args  []string // nil: read the script client's reply
	sleep time.Duration
}

// runBusy runs a scenario against addr and returns the replies.
func runBusy(t *testing.T, addr string, script string, steps []busyStep) []string {
	t.Helper()
	c1, c2 := scriptDial(t, addr), scriptDial(t, addr)
	if r, err := c2.do("CONFIG", "SET", "busy-reply-threshold", "100"); err != nil || r != "+OK\r\n" {
		t.Fatalf("config set: %q %v", r, err)
	}
	if err := c1.send("EVAL", script, "0"); err != nil {
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
		out = append(out, r)
	}
	return out
}

// TestBusyScripts compares BUSY, SCRIPT KILL (also for a script looping
// inside pcall), NOTBUSY and SHUTDOWN-while-busy with a real redis-server.
func TestBusyScripts(t *testing.T) {
	read := busyStep{}
	cases := []struct {
		name   string
		script string
		steps  []busyStep
	}{
		{"kill loop", "local i = 0 while true do i = i + 1 end", []busyStep{
			{args: []string{"PING"}},
			{args: []string{"GET", "k"}},
			{args: []string{"SET", "k", "v"}},
			{args: []string{"EVAL", "return 1", "0"}},
			{args: []string{"SHUTDOWN"}},
			{args: []string{"SCRIPT", "KILL"}},
			read,
			{args: []string{"PING"}},
			{args: []string{"SCRIPT", "KILL"}},
		}},
		{"kill inside pcall", "while true do pcall(function() while true do end end) end", []busyStep{
			{args: []string{"PING"}},
			{args: []string{"SCRIPT", "KILL"}},
			read,
			{args: []string{"PING"}},
		}},
		{"kill pcall loop catching", "local n = 0 while true do local ok, e = pcall(function() local x = 0 for i = 1, 1e12 do x = x + i end end) n = n + 1 end", []busyStep{
			{args: []string{"SCRIPT", "KILL"}},
			read,
		}},
		{"kill after reads", "redis.call('get', 'k') while true do end", []busyStep{
			{args: []string{"SCRIPT", "KILL"}},
			read,
			{args: []string{"GET", "k"}},
		}},
	}
	redisAddr := scriptStartRedis(t)
	crescentAddr, _ := startScriptCrescent(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := runBusy(t, redisAddr, c.script, c.steps)
			got := runBusy(t, crescentAddr, c.script, c.steps)
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("step %d %q:\n redis:    %q\n crescent: %q", i, c.steps[i].args, want[i], got[i])
				}
			}
		})
	}
}

// TestUnkillableAndShutdownNosave: a script that wrote cannot be killed;
// SHUTDOWN NOSAVE still stops the server. Both servers exit, so each gets
// its own instance.
func TestUnkillableAndShutdownNosave(t *testing.T) {
	script := "redis.call('set', 'k', 'v') while true do end"
	steps := []busyStep{
		{args: []string{"PING"}},
		{args: []string{"SCRIPT", "KILL"}},
	}
	want := runBusy(t, scriptStartRedis(t), script, steps)
	addr, _ := startScriptCrescent(t)
	got := runBusy(t, addr, script, steps)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d %q:\n redis:    %q\n crescent: %q", i, steps[i].args, want[i], got[i])
		}
	}
	if !strings.HasPrefix(got[1], "-UNKILLABLE") {
		t.Fatalf("SCRIPT KILL after a write: %q", got[1])
	}
	// SHUTDOWN NOSAVE stops Crescent although the script never ends.
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

// TestScriptBombs: scripts that would exhaust memory or the stack fail
// with errors instead of crashing the server.
func TestScriptBombs(t *testing.T) {
	addr, _ := startScriptCrescent(t)
	c := scriptDial(t, addr)
	cases := []struct{ script, want string }{
		// LUA_ERRMEM skips the error handler: Redis replies "Error running
		// script <sha>, not enough memory" (docs/design/lua-engine.md).
		// (string.rep('x', 1e10) is 1.4 GB, built as Redis builds it when
		// the budget allows: memlimit.go; 16 GB is beyond any budget)
		{"return #string.rep('xxxxxxxx', 2^31 - 1)", "-ERR Error running script 2166f2f89555e161a01c6a87aee8ae46307bdbd0, not enough memory"},
		{"return #string.rep('abc', 2^30)", "-ERR Error running script 50b5455d12ecf3335139072339a719a6f6355b84, not enough memory"},
		{"local s = 'x' while true do s = s .. s end", "-ERR Error running script"},
		{"local function f() return 1 + f() end return f()", "-ERR user_script:1: stack overflow"},
		{"local function f(t) return f({t}) + 1 end return f({})", "-ERR user_script:1: stack overflow"},
		{"return unpack({}, 1, 2^31 - 1)", "-ERR user_script:1: too many results to unpack"},
		{"return unpack({}, -2^31, 2^31 - 1)", "-ERR user_script:1: too many results to unpack"},
		{"local t = {} t[1] = t return t", "*1\r\n*1\r\n"},
		{"local co = coroutine.wrap(function() local function f() return 1 + f() end return f() end) return co()", "-ERR"},
		{"return string.format('%099999d', 1)", ""},
	}
	for _, tc := range cases {
		r, err := c.do("EVAL", tc.script, "0")
		if err != nil {
			t.Fatalf("%s: %v", tc.script, err)
		}
		if !strings.HasPrefix(r, tc.want) {
			t.Errorf("%s: got %.200q, want prefix %q", tc.script, r, tc.want)
		}
		if p, _ := c.do("PING"); p != "+PONG\r\n" {
			t.Fatalf("server unhealthy after %s: %q", tc.script, p)
		}
	}
}
