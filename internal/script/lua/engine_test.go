package lua

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
)

// fakeHost answers redis.call with canned replies: the command name picks
// the reply shape, so conversions can be tested without a server.
type fakeHost struct {
	resp  int
	wrote atomic.Bool
	calls int
}

func (h *fakeHost) Call(args [][]byte, w resp.ReplyWriter) {
	h.calls++
	switch strings.ToLower(string(args[0])) {
	case "int":
		w.Int(42)
	case "bulk":
		w.BulkString("hello")
	case "null":
		w.Null()
	case "nullarray":
		w.NullArray()
	case "status":
		w.Simple("FINE")
	case "ok":
		w.OK()
	case "err":
		w.Error("WRONGTYPE Operation against a key holding the wrong kind of value")
	case "errnospace":
		w.Error("OOPS")
	case "array":
		w.Array(3)
		w.Int(1)
		w.BulkString("two")
		w.Array(2)
		w.Null()
		w.Int(3)
	case "map":
		w.Map(2)
		w.BulkString("a")
		w.Int(1)
		w.BulkString("b")
		w.Array(1)
		w.BulkString("x")
	case "set":
		w.Set(2)
		w.BulkString("m1")
		w.BulkString("m2")
	case "double":
		w.Double(1.5)
	case "bool":
		w.Bool(true)
	case "boolf":
		w.Bool(false)
	case "big":
		w.BigNumber("123456789012345678901234567890")
	case "verbatim":
		w.Verbatim("txt", "some text")
	case "emptyarray":
		w.Array(0)
	case "nestederr":
		w.Array(2)
		w.Error("ERR inner")
		w.Int(1)
	case "echo": // the arguments after the name, as redis.call passed them
		w.Array(len(args) - 1)
		for _, a := range args[1:] {
			w.Bulk(a)
		}
	case "write":
		h.wrote.Store(true)
		w.OK()
	default:
		w.Error("ERR Unknown Redis command called from script")
	}
}

func (h *fakeHost) SetResp(p int)                         { h.resp = p }
func (h *fakeHost) Wrote() bool                           { return h.wrote.Load() }
func (h *fakeHost) CheckACL(args [][]byte) (bool, string) { return true, "" }

func run(t *testing.T, e *Engine, proto int, code string, keys ...string) string {
	t.Helper()
	fn, err := e.Compile("user_script", []byte(code))
	if err != nil {
		t.Fatalf("compile %q: %v", code, err)
	}
	w := resp.NewWriter()
	w.Proto = proto
	r := &script.Run{W: w, Host: &fakeHost{}, Name: script.SHA1Hex([]byte(code)), Resp: 2}
	var kb [][]byte
	for _, k := range keys {
		kb = append(kb, []byte(k))
	}
	e.Call(r, fn, kb, nil)
	return string(w.Buf)
}

// TestReplyToLua checks the Lua value each reply type becomes, in the
// script's RESP2 and RESP3 modes (Redis's redisProtocolToLuaType).
func TestReplyToLua(t *testing.T) {
	e := New(Options{})
	cases := []struct {
		name, code, want string
	}{
		{"int", "return type(redis.call('int'))", "$6\r\nnumber\r\n"},
		{"bulk", "return redis.call('bulk')", "$5\r\nhello\r\n"},
		{"null resp2", "return type(redis.call('null'))", "$7\r\nboolean\r\n"},
		{"null resp3", "redis.setresp(3) return type(redis.call('null'))", "$3\r\nnil\r\n"},
		{"nullarray resp2", "return tostring(redis.call('nullarray'))", "$5\r\nfalse\r\n"},
		{"nullarray resp3", "redis.setresp(3) return tostring(redis.call('nullarray'))", "$3\r\nnil\r\n"},
		{"status", "return redis.call('status').ok", "$4\r\nFINE\r\n"},
		{"status passthrough", "return redis.call('status')", "+FINE\r\n"},
		{"ok", "return redis.call('ok')", "+OK\r\n"},
		{"error raises", "return redis.call('err')", "-WRONGTYPE Operation against a key holding the wrong kind of value script: "},
		{"pcall error table", "local r = redis.pcall('err') return {r.err, tostring(r.ignore_error_stats_update)}", "*2\r\n$65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n$4\r\ntrue\r\n"},
		{"error without space gets ERR", "return redis.pcall('errnospace').err", "$8\r\nERR OOPS\r\n"},
		{"array", "local r = redis.call('array') return {#r, r[1], r[2], type(r[3][1]), r[3][2]}", "*5\r\n:3\r\n:1\r\n$3\r\ntwo\r\n$7\r\nboolean\r\n:3\r\n"},
		{"array resp3 null", "redis.setresp(3) local r = redis.call('array') return {type(r[3][1]), r[3][2]}", "*2\r\n$3\r\nnil\r\n:3\r\n"},
		{"empty array", "return #redis.call('emptyarray')", ":0\r\n"},
		{"map resp2 flat", "local r = redis.call('map') return {#r, r[1], r[2], r[3], r[4][1]}", "*5\r\n:4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$1\r\nx\r\n"},
		{"map resp3", "redis.setresp(3) local r = redis.call('map') return {r.map.a, r.map.b[1]}", "*2\r\n:1\r\n$1\r\nx\r\n"},
		{"set resp2", "local r = redis.call('set') return r", "*2\r\n$2\r\nm1\r\n$2\r\nm2\r\n"},
		{"set resp3", "redis.setresp(3) local r = redis.call('set') return {tostring(r.set.m1), tostring(r.set.m2)}", "*2\r\n$4\r\ntrue\r\n$4\r\ntrue\r\n"},
		{"double resp2", "return redis.call('double')", "$3\r\n1.5\r\n"},
		{"double resp3", "redis.setresp(3) local r = redis.call('double') return tostring(r.double)", "$3\r\n1.5\r\n"},
		{"double resp3 passthrough", "redis.setresp(3) return redis.call('double')", "$3\r\n1.5\r\n"},
		{"bool resp2", "return redis.call('bool')", ":1\r\n"},
		{"bool false resp2", "return redis.call('boolf')", ":0\r\n"},
		{"bool resp3", "redis.setresp(3) return type(redis.call('bool'))", "$7\r\nboolean\r\n"},
		{"big resp2", "return redis.call('big')", "$30\r\n123456789012345678901234567890\r\n"},
		{"big resp3", "redis.setresp(3) return redis.call('big').big_number", "$30\r\n123456789012345678901234567890\r\n"},
		{"verbatim resp2", "return redis.call('verbatim')", "$9\r\nsome text\r\n"},
		{"verbatim resp3", "redis.setresp(3) local v = redis.call('verbatim').verbatim_string return {v.format, v.string}", "*2\r\n$3\r\ntxt\r\n$9\r\nsome text\r\n"},
		{"nested error", "local r = redis.call('nestederr') return {r[1].err, r[2]}", "*2\r\n$9\r\nERR inner\r\n:1\r\n"},
		{"keys", "return KEYS", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys := []string(nil)
			if c.name == "keys" {
				keys = []string{"a", "b"}
			}
			got := run(t, e, 2, c.code, keys...)
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestLuaToReplyRESP3 checks the final reply encoding for a RESP3 client.
func TestLuaToReplyRESP3(t *testing.T) {
	e := New(Options{})
	cases := []struct{ code, want string }{
		{"redis.setresp(3) return redis.call('map')", "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n$1\r\nx\r\n"},
		{"redis.setresp(3) return redis.call('double')", ",1.5\r\n"},
		{"redis.setresp(3) return redis.call('bool')", "#t\r\n"},
		{"redis.setresp(3) return redis.call('boolf')", "#f\r\n"},
		{"redis.setresp(3) return redis.call('big')", "(123456789012345678901234567890\r\n"},
		{"redis.setresp(3) return redis.call('verbatim')", "=13\r\ntxt:some text\r\n"},
		{"redis.setresp(3) return redis.call('null')", "_\r\n"},
		{"return redis.call('null')", "_\r\n"},
		{"redis.setresp(3) return redis.call('set')", "~2\r\n"},
		{"return {double=0.1}", ",0.10000000000000001\r\n"},
	}
	for _, c := range cases {
		got := run(t, e, 3, c.code)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.code, got, c.want)
		}
	}
}

// TestStatesReused checks that Lua states are pooled and that a script's
// protos are shared, not rebuilt per call.
func TestStatesReused(t *testing.T) {
	e := New(Options{})
	for i := 0; i < 50; i++ {
		if got := run(t, e, 2, "return 1"); got != ":1\r\n" {
			t.Fatal(got)
		}
	}
	if n := e.all.Load(); n != 1 {
		t.Fatalf("%d states created for sequential calls, want 1", n)
	}
}

// runAndKill runs code on e in the background, kills it with SCRIPT
// KILL's path once it has run for a moment, and returns its reply and the
// monitor (for further KILLs). It fails the test if the script does not
// stop within 5 s.
func runAndKill(t *testing.T, e *Engine, code string) (string, *script.Monitor) {
	t.Helper()
	fn, err := e.Compile("user_script", []byte(code))
	if err != nil {
		t.Fatal(err)
	}
	w := resp.NewWriter()
	r := &script.Run{W: w, Host: &fakeHost{}, Name: "x", Resp: 2}
	m := &script.Monitor{}
	done := make(chan struct{})
	go func() {
		m.Begin(r)
		e.Call(r, fn, nil, nil)
		m.End(r)
		close(done)
	}()
	for m.Current() == nil {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if msg := m.Kill(false); msg != "" {
		t.Fatal(msg)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("script not killed")
	}
	return string(w.Buf), m
}

// TestKillUncatchable kills a script that keeps catching errors with pcall.
func TestKillUncatchable(t *testing.T) {
	e := New(Options{})
	got, m := runAndKill(t, e, "while true do pcall(function() while true do end end) end")
	if want := "-ERR Script killed by user with SCRIPT KILL... script: x, on @user_script:1.\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if msg := m.Kill(false); msg != script.ErrNotBusy {
		t.Fatalf("kill with nothing running: %q", msg)
	}
	// The state is reusable after a kill.
	if got := run(t, e, 2, "return 7"); got != ":7\r\n" {
		t.Fatalf("after kill: %q", got)
	}
}

// TestKillFastLoop kills scripts whose loops run only the VM's call-free
// fast paths (fastLoop in the gopher-lua fork), which return to the
// interrupt check every ctxCheckEvery instructions.
func TestKillFastLoop(t *testing.T) {
	for name, code := range map[string]string{
		"for":   "local x = 0 for i = 1, 1e300 do x = x + i % 7 end return x",
		"float": "local x = 0.5 for i = 1, 1e300 do x = x * 1.0000001 - i / 3 end return x",
		"while": "local i, x = 0, 0 while i >= 0 do i = i + 1 if i > 5 then x = x - 1 end end return x",
	} {
		t.Run(name, func(t *testing.T) {
			if got, _ := runAndKill(t, New(Options{}), code); !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL") {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestKillPatternMatch checks that SCRIPT KILL stops a script stuck inside
// one pattern match (C Lua, and so Redis, cannot interrupt those).
func TestKillPatternMatch(t *testing.T) {
	for name, code := range map[string]string{
		"backtracking": "return string.find(string.rep('a', 30000), '.-.-.-.-.-b')",
		"gmatch":       "local n = 0 for w in string.gmatch(string.rep('a', 30000), '.-.-.-.-b') do n = n + 1 end return n",
		"gsub":         "return string.gsub(string.rep('a', 30000), '.-.-.-.-b', '')",
	} {
		t.Run(name, func(t *testing.T) {
			if got, _ := runAndKill(t, New(Options{}), code); !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL") {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestGsubLinear checks gsub over many matches (quadratic upstream).
func TestGsubLinear(t *testing.T) {
	e := New(Options{})
	code := "local s, n = string.gsub(string.rep('ab', 200000), 'a', 'xy') return {#s, n, string.sub(s, 1, 7)}"
	if got, want := run(t, e, 2, code), "*3\r\n:600000\r\n:200000\r\n$7\r\nxybxybx\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	code = "return {string.gsub('hello world', '(o)', '[%1]', 1), string.gsub('abc', '%w', {a = 1, b = false})}"
	if got, want := run(t, e, 2, code), "*3\r\n$13\r\nhell[o] world\r\n$3\r\n1bc\r\n:3\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestShebang covers ParseShebang's outcomes.
func TestShebang(t *testing.T) {
	cases := []struct {
		body  string
		flags script.Flags
		n     int
		err   string
	}{
		{"return 1", script.FlagEvalCompat, 0, ""},
		{"#!lua\nreturn 1", 0, 5, ""},
		{"#!lua flags=no-writes,allow-oom\nx", script.FlagNoWrites | script.FlagAllowOOM, 31, ""},
		{"#!lua", 0, 0, "Invalid script shebang"},
		{"#!lua flags=x\n", 0, 0, "Unexpected flag in script shebang: x"},
		{"#!lua foo\n", 0, 0, "Unknown lua shebang option: foo"},
		{"#!js\n", 0, 0, "Unexpected engine in script shebang: #!js"},
	}
	for _, c := range cases {
		f, n, err := script.ParseShebang([]byte(c.body))
		if err != c.err || (err == "" && (f != c.flags || n != c.n)) {
			t.Errorf("%q: got (%v, %d, %q), want (%v, %d, %q)", c.body, f, n, err, c.flags, c.n, c.err)
		}
	}
}

func BenchmarkCallReturnArray(b *testing.B) {
	e := New(Options{})
	fn, _ := e.Compile("user_script", []byte("return {KEYS[1], ARGV[1], 1}"))
	w := resp.NewWriter()
	r := &script.Run{W: w, Host: &fakeHost{}, Name: "x", Resp: 2}
	keys, args := [][]byte{[]byte("k")}, [][]byte{[]byte("v")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Reset()
		e.Call(r, fn, keys, args)
	}
}

// TestArgTablesFresh checks that each call sees KEYS and ARGV as new
// tables, whatever the previous call on the same state did to them (the
// engine reuses plain array tables between calls).
func TestArgTablesFresh(t *testing.T) {
	e := New(Options{})
	// One pooled state: every call below reuses it.
	probe := "local n = 0 for _ in pairs(KEYS) do n = n + 1 end " +
		"return {#KEYS, n, tostring(getmetatable(KEYS)), tostring(rawget(KEYS, 3)), KEYS[1], KEYS[2]}"
	want := "*6\r\n:2\r\n:2\r\n$3\r\nnil\r\n$3\r\nnil\r\n$1\r\na\r\n$1\r\nb\r\n"
	for _, dirty := range []string{
		"return 1",
		"KEYS[1] = nil return 1",
		"table.insert(KEYS, 'x') table.insert(KEYS, 'y') return 1",
		"KEYS.foo = 1 return 1",
		"KEYS[10] = 1 return 1",
		"setmetatable(KEYS, {__index = function() return 'z' end}) return 1",
		"for i = 1, 100 do KEYS[i] = i end for i = 1, 100 do KEYS[i] = nil end return 1",
	} {
		if got := run(t, e, 2, dirty, "p", "q", "r", "s"); got != ":1\r\n" {
			t.Fatalf("%q: %q", dirty, got)
		}
		if got := run(t, e, 2, probe, "a", "b"); got != want {
			t.Errorf("after %q: KEYS gives %q, want %q", dirty, got, want)
		}
		if got := run(t, e, 2, "return {#KEYS, KEYS[1]}", "k"); got != "*2\r\n:1\r\n$1\r\nk\r\n" {
			t.Errorf("after %q: one key gives %q", dirty, got)
		}
	}
	if got := run(t, e, 2, "return #KEYS"); got != ":0\r\n" {
		t.Errorf("no keys: %q", got)
	}
}

// TestReadThroughProxies: reads of globals and library fields take the
// VM's read-through fast path (LTable.SetReadThrough); they must see what
// the proxy's metatable would give, absent names must still reach the
// nonexistent-global error, and writes must still be refused (the answers
// of Redis 7.0.15).
func TestReadThroughProxies(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct{ code, want string }{
		{"return type(redis.call)", "$8\r\nfunction\r\n"},
		{"return string.format('%d', 7)", "$1\r\n7\r\n"},
		{"return _G.tostring(12)", "$2\r\n12\r\n"},
		{"return type(_G._G.redis.sha1hex)", "$8\r\nfunction\r\n"},
		{"return tostring(rawget(string, 'nope'))", "$3\r\nnil\r\n"},
		{"return tostring(string.nope)", "$3\r\nnil\r\n"},
		{"return tostring(getmetatable(string))", "$3\r\nnil\r\n"},
		{"return KEYS[1]", "$1\r\nk\r\n"},
		{"return nope", "-ERR user_script:1: Script attempted to access nonexistent global variable 'nope' script: "},
		{"string.format = 1", "-ERR user_script:1: Attempt to modify a readonly table script: "},
		{"x = 1", "-ERR user_script:1: Attempt to modify a readonly table script: "},
	} {
		got := run(t, e, 2, tc.code, "k")
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: got %q, want prefix %q", tc.code, got, tc.want)
		}
	}
}

// TestCallArgs checks redis.call's argument conversion (luaRedisGenericCommand):
// strings as they are, numbers with %.17g, anything else an error; the
// reused buffers must not mix one call's arguments with the next's.
func TestCallArgs(t *testing.T) {
	e := New(Options{})
	long := strings.Repeat("x", 300)
	cases := []struct {
		name, code, want string
	}{
		{"none", "return redis.call('echo')", "*0\r\n"},
		{"strings", "return redis.call('echo', 'a', '', 'bc')", "*3\r\n$1\r\na\r\n$0\r\n\r\n$2\r\nbc\r\n"},
		{"numbers", "return redis.call('echo', 1, -2, 0.5, 1e20, 1/3)",
			"*5\r\n$1\r\n1\r\n$2\r\n-2\r\n$3\r\n0.5\r\n$5\r\n1e+20\r\n$19\r\n0.33333333333333331\r\n"},
		{"inf nan", "return redis.call('echo', 1/0, -1/0)", "*2\r\n$3\r\ninf\r\n$4\r\n-inf\r\n"},
		{"growing buffer", "redis.call('echo', 'x') return redis.call('echo', 'a', '" + long + "', 7)",
			"*3\r\n$1\r\na\r\n$300\r\n" + long + "\r\n$1\r\n7\r\n"},
		{"two calls", "local a = redis.call('echo', 'first', 'x') local b = redis.call('echo', 'y') return {a[1], a[2], b[1]}",
			"*3\r\n$5\r\nfirst\r\n$1\r\nx\r\n$1\r\ny\r\n"},
		{"table arg", "return redis.pcall('echo', {})", "-ERR Lua redis lib command arguments must be strings or integers\r\n"},
		{"bool arg", "return redis.pcall('echo', 'a', true)", "-ERR Lua redis lib command arguments must be strings or integers\r\n"},
		{"nil arg", "return redis.pcall('echo', 'a', nil, 'b')", "-ERR Lua redis lib command arguments must be strings or integers\r\n"},
		{"no args", "return redis.pcall()", "-ERR Please specify at least one argument for this redis lib call\r\n"},
	}
	for _, c := range cases {
		got := run(t, e, 2, c.code)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDeprecatedAPI: getfenv, setfenv and newproxy exist only with
// lua-enable-deprecated-api yes (Options.DeprecatedAPI), and a script's
// setfenv, even of the whole state (level 0), does not outlive its run.
func TestDeprecatedAPI(t *testing.T) {
	off := New(Options{})
	for _, name := range []string{"getfenv", "setfenv", "newproxy"} {
		if got := run(t, off, 2, "return type("+name+")"); !strings.Contains(got, "nonexistent global variable '"+name+"'") {
			t.Errorf("%s without the option: %q", name, got)
		}
	}
	on := New(Options{DeprecatedAPI: true})
	for _, tc := range []struct{ code, want string }{
		{"return type(getfenv)", "$8\r\nfunction\r\n"},
		{"return getfenv(1) == _G", ":1\r\n"},
		{"return type(getmetatable(newproxy(true)))", "$5\r\ntable\r\n"},
		{"local f = function() return x end setfenv(f, {x=5}) return f()", ":5\r\n"},
		{"setfenv(0, {})", "$-1\r\n"},
		{"return type(redis.call)", "$8\r\nfunction\r\n"}, // the state's environment is back
		{"setfenv(1, {})", "$-1\r\n"},
		{"setfenv(1, {})", "$-1\r\n"}, // the script's own too
		{"return type(redis)", "$5\r\ntable\r\n"},
		{"getfenv(1).x = 1", "Attempt to modify a readonly table"},
	} {
		if got := run(t, on, 2, tc.code); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.code, got, tc.want)
		}
	}
}

// TestStringDump checks string.dump's errors (lua21): Redis's own text for
// a C function, the same text with the reason for a Lua function (Redis
// returns Lua 5.1 bytecode there, which Crescent cannot produce).
func TestStringDump(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct{ code, want string }{
		{"return {pcall(string.dump, tostring)}", "*2\r\n$-1\r\n$29\r\nunable to dump given function\r\n"},
		{"return {pcall(string.dump, function() return 1 end)}",
			"unable to dump given function (Lua bytecode is not supported by this server)\r\n"},
		{"local u = 1 return {pcall(string.dump, function() return u end)}",
			"unable to dump given function (Lua bytecode is not supported by this server)\r\n"},
		{"return string.dump(function() end)",
			"-ERR user_script:1: unable to dump given function (Lua bytecode is not supported by this server)"},
	} {
		if got := run(t, e, 2, tc.code); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.code, got, tc.want)
		}
	}
}

// TestMathRandomConcurrent: scripts on two cores at once draw from the one
// server-wide math.random sequence, each number once. Before the generator
// was atomic, two calls could read the same state and draw the same number
// (and the race detector flagged the generator).
func TestMathRandomConcurrent(t *testing.T) {
	const code = "local t = {} for i = 1, 200 do t[i] = math.random(1000000000) end return t"
	ints := func(reply string) []string {
		var out []string
		for _, l := range strings.Split(reply, "\r\n") {
			if strings.HasPrefix(l, ":") {
				out = append(out, l[1:])
			}
		}
		return out
	}
	const goroutines, calls = 4, 5
	e := New(Options{})
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < calls; c++ {
				vals := ints(run(t, e, 2, code))
				mu.Lock()
				got = append(got, vals...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var want []string
	ref := New(Options{})
	for c := 0; c < goroutines*calls; c++ {
		want = append(want, ints(run(t, ref, 2, code))...)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("concurrent scripts drew %d numbers that are not the sequence's first %d", len(got), len(want))
	}
}
