package server_test

import (
	"strings"
	"testing"
	"time"
)

// The Lua debugger (SCRIPT DEBUG YES/SYNC, redis-cli --ldb), compared with
// redis-server: every debugger command's output, the session's end
// (<endsession>, the script's reply, the connection closed), and the
// dataset afterwards (kept by SYNC, rolled back by YES).

const ldbScript = "local a = 1\n" +
	"local t = {1,2,\"x\"}\n" +
	"redis.call(\"set\", KEYS[1], \"v\")\n" +
	"redis.debug(\"hi\", a, t)\n" +
	"local r = redis.call(\"get\", KEYS[1])\n" +
	"return r\n"

// ldbSession starts a session of script on connection 0 and runs the
// debugger commands, each answered by one reply.
func ldbSession(mode, script string, cmds ...[]string) []step {
	steps := []step{
		cmd(0, "FLUSHALL"),
		cmd(0, "SET", "k1", "orig"),
		cmd(0, "SCRIPT", "DEBUG", mode),
		cmd(0, "EVAL", script, "1", "k1", "a1"),
	}
	for _, c := range cmds {
		steps = append(steps, cmd(0, c...))
	}
	return steps
}

// ldbEnd continues to the end: the last logs, the reply, the hang-up; then
// connection 1 reads the keys.
func ldbEnd(steps []step, last ...string) []step {
	return append(steps, cmdN(0, 3, last...), cmd(1, "GET", "k1"), cmd(1, "GET", "k2"))
}

func w(s string) []string { return strings.Fields(s) }

func TestLuaDebuggerDiff(t *testing.T) {
	longReply := "redis.call('set', KEYS[1], string.rep('x', 300))\nreturn redis.call('get', KEYS[1])"
	values := "local s = \"a\\n\\\"b\\\\\\1\\255\"\n" +
		"local n = {3.14159265, 1e20, -0, 100000000, 1/0, 7}\n" +
		"local nest = {a = {b = {c = {d = {e = {f = {g = {h = {i = {j = {k = 1}}}}}}}}}}}\n" +
		"local b, z = true, nil\n" +
		"return 1\n"
	nested := "local x = 0\n" +
		"local function f(a)\n" +
		"  return a + 1\n" +
		"end\n" +
		"for i = 1, 2 do\n" +
		"  x = f(x)\n" +
		"end\n" +
		"return x\n"
	runDiff(t, []scenario{
		{"commands", 2, ldbEnd(ldbSession("SYNC", ldbScript,
			w("s"), w("p"), w("p a"), w("p KEYS"), w("p ARGV"), w("b"), w("b 5"), w("b"), w("b 99"),
			w("b x"), w("b -4"), w("b -5"), w("b 5 6"), w("b 0"), w("b 5"),
			w("s"), w("p nope"), []string{"e", "a+1"}, w("e local x = 3"), w("e error('boom')"),
			w("e ("), w("e"), w("eval return KEYS[1]"), w("r ping"), w("r get k1"), w("r mget k1 nokey"), w("redis incr k1"),
			w("r"), w("t"), w("l"), w("l 2 1"), w("l 0"), w("list 5 0"), w("w"), w("whole"),
			w("m"), w("m 10"), w("maxlen 0"), w("m 100"), w("foo"), w("h"), w("help"),
			w("s"), w("n"), w("next"), w("p")), "c")},
		{"continue to a breakpoint", 2, ldbEnd(ldbSession("SYNC", ldbScript, w("b 5"), w("c"), w("p r")), "continue")},
		{"abort keeps writes (sync)", 2, ldbEnd(ldbSession("SYNC", ldbScript, w("s"), w("s"), w("s")), "a")},
		{"abort", 2, ldbEnd(ldbSession("SYNC", ldbScript, w("s")), "abort")},
		{"runtime error", 2, ldbEnd(ldbSession("SYNC", "local x = 1\nerror('bad')\n", w("s")), "s")},
		{"redis.call error while stepping", 2, ldbEnd(ldbSession("SYNC", "local t = {a=1}\nreturn redis.call('incr', KEYS[1])", w("s"), w("p t")), "s")},
		{"redis.pcall error while stepping", 2, ldbEnd(ldbSession("SYNC", "local r = redis.pcall('incr', KEYS[1])\nreturn r", w("s")), "s")},
		{"redis command error keeps the script's values", 2, ldbEnd(ldbSession("SYNC", "local a = {1, 2}\nlocal b = 'x'\nlocal c = 3\nreturn {a[2], b, c}",
			w("s"), w("s"), w("r incr k1"), w("p")), "c")},
		{"commands refused before they run", 2, ldbEnd(ldbSession("SYNC", "#!lua flags=no-writes\nlocal a = 1\nreturn redis.pcall('nosuch')",
			w("r incr"), w("r nosuch x"), w("r subscribe x"), w("r set a b"), w("r"), w("s")), "c")},
		{"redis.breakpoint", 2, ldbEnd(ldbSession("SYNC", "redis.breakpoint()\nlocal x = 1\nx = x + 1\nreturn x", w("c")), "c")},
		{"functions and loops", 2, ldbEnd(ldbSession("SYNC", nested, w("s"), w("s"), w("s"), w("s"), w("t"), w("p"), w("s"), w("s")), "c")},
		{"values", 2, ldbEnd(ldbSession("SYNC", values, w("s"), w("s"), w("s"), w("s"), w("p"), w("p nest"), w("m 0"), w("p nest")), "c")},
		{"long reply trimmed", 2, ldbEnd(ldbSession("SYNC", longReply, w("s"), w("r get k1"), w("m 0"), w("r get k1")), "c")},
		{"yes rolls back", 2, ldbEnd(ldbSession("YES", "redis.call('set', KEYS[1], 'changed')\nredis.call('set', 'k2', 'new')\nlocal r = math.random(10)\nreturn redis.call('get', KEYS[1])",
			w("s"), w("s"), w("s")), "s")},
		{"sync keeps", 2, ldbEnd(ldbSession("SYNC", "redis.call('set', KEYS[1], 'changed')\nredis.call('set', 'k2', 'new')\nreturn redis.call('get', KEYS[1])",
			w("s"), w("s")), "s")},
		{"NULs in debugger commands, a redis command of 100 arguments", 2, ldbEnd(ldbSession("SYNC", "return 'hello'",
			[]string{"hello\x00world"}, []string{"hello\x00"}, []string{"\x00hello"}, []string{"\x00hello\x00"},
			append([]string{"redis"}, strings.Fields(strings.Repeat("test ", 100))...)), "c")},
		{"evalsha", 1, []step{
			cmd(0, "SCRIPT", "DEBUG", "YES"),
			cmd(0, "EVALSHA", "aaaa", "0"),
			cmd(0, "EVALSHA", strings.Repeat("a", 40), "0"),
			cmd(0, "FCALL", "nofunc", "0"),
			cmd(0, "SCRIPT", "DEBUG", "NO"),
			cmd(0, "EVAL", "return 1", "0"),
			cmd(0, "MULTI"),
			cmd(0, "SCRIPT", "DEBUG", "YES"),
			cmd(0, "EXEC"),
		}},
	})
}

// TestLuaDebuggerCrescent checks what differs from Redis or cannot be
// compared with it: a command a YES session cannot undo, a debugging
// client that hangs up (the script goes on to its end, and the server
// serves others), and the stop of a script that runs past the busy
// threshold without stopping.
func TestLuaDebuggerCrescent(t *testing.T) {
	addr, _ := startCrescent(t, "busy-reply-threshold", "200")
	c := dialRaw(t, addr)
	c.mustDo("SET", "k", "orig")
	c.mustDo("SCRIPT", "DEBUG", "YES")
	c.mustDo("EVAL", "redis.call('set', 'k', 'x')\nredis.call('flushall')\nreturn 1", "0")
	if got := c.do("c") + c.read(2*time.Second); !strings.Contains(got, "<endsession>") || !strings.Contains(got, "SCRIPT DEBUG YES session cannot undo") {
		t.Fatalf("flushall in a YES session: %q", got)
	}
	o := dialRaw(t, addr)
	if got := o.mustDo("GET", "k"); got != "$4\r\norig\r\n" {
		t.Fatalf("after the undone session: %q", got)
	}

	// The user goes away at the first stop: the script runs to its end.
	c = dialRaw(t, addr)
	c.mustDo("SCRIPT", "DEBUG", "SYNC")
	if got := c.mustDo("EVAL", "redis.call('set', 'k', 'a')\nredis.call('set', 'k', 'b')\nreturn 1", "0"); !strings.Contains(got, "Stopped at 1") {
		t.Fatalf("first stop: %q", got)
	}
	c.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for o.mustDo("GET", "k") != "$1\r\nb\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned script did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// An endless loop stops when it runs past the busy threshold.
	c = dialRaw(t, addr)
	c.mustDo("SCRIPT", "DEBUG", "SYNC")
	c.mustDo("EVAL", "local i = 0\nwhile true do\n  i = i + 1\nend", "0")
	c.send("c")
	if got := c.read(5 * time.Second); !strings.Contains(got, "stop reason = timeout reached, infinite loop?") {
		t.Fatalf("timeout stop: %q", got)
	}
	if got := c.mustDo("p", "i"); !strings.HasPrefix(got, "*1\r\n+<value> ") {
		t.Fatalf("p i: %q", got)
	}
	if got := c.do("a") + c.read(2*time.Second); !strings.Contains(got, "script aborted for user request") {
		t.Fatalf("abort: %q", got)
	}
	if got := o.mustDo("PING"); got != "+PONG\r\n" {
		t.Fatalf("after the session: %q", got)
	}
}
