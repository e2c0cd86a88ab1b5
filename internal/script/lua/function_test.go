package lua

import (
	"fmt"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
	glua "github.com/yuin/gopher-lua"
)

func load(t *testing.T, e *Engine, code string) []*script.FunctionInfo {
	t.Helper()
	fns, err := e.LoadLibrary([]byte(code), time.Second, nil)
	if err != nil {
		t.Fatalf("load %q: %v", code, err)
	}
	return fns
}

func fcall(e *Engine, f *script.FunctionInfo, keys ...string) string {
	w := resp.NewWriter()
	r := &script.Run{W: w, Host: &fakeHost{}, Name: f.Name, Function: true, Resp: 2}
	var kb [][]byte
	for _, k := range keys {
		kb = append(kb, []byte(k))
	}
	e.Call(r, f.Fn, kb, [][]byte{[]byte("arg")})
	return string(w.Buf)
}

// TestLoadLibrary: registration in both forms, flags and descriptions,
// the keys/args parameters, upvalues kept between calls, and the load
// environment restored afterwards.
func TestLoadLibrary(t *testing.T) {
	e := New(Options{})
	fns := load(t, e, "\nlocal n = 0\n"+
		"redis.register_function('count', function(keys, args) n = n + 1 return n end)\n"+
		"redis.register_function{function_name='echo', callback=function(keys, args) return {keys[1], args[1], redis.call('int')} end,"+
		" flags={'no-writes', 'ALLOW-OOM'}, description='echoes'}\n")
	if len(fns) != 2 || fns[0].Name != "count" || fns[1].Name != "echo" {
		t.Fatalf("functions %+v", fns)
	}
	if f := fns[1]; f.Flags != script.FlagNoWrites|script.FlagAllowOOM || !f.HasDesc || f.Desc != "echoes" || fns[0].HasDesc {
		t.Fatalf("echo: %+v", f)
	}
	for i, want := range []string{":1\r\n", ":2\r\n", ":3\r\n"} {
		if got := fcall(e, fns[0]); got != want {
			t.Fatalf("call %d: %q", i, got)
		}
	}
	if got := fcall(e, fns[1], "k"); got != "*3\r\n$1\r\nk\r\n$3\r\narg\r\n:42\r\n" {
		t.Fatalf("echo: %q", got)
	}
	// A failing load changes nothing, and the next load sees the load
	// environment again; functions see the full API.
	if _, err := e.LoadLibrary([]byte("\nlocal x = string.len('a')"), time.Second, nil); err == nil ||
		err.Error() != "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'" {
		t.Fatalf("load env: %v", err)
	}
	fns = load(t, e, "\nredis.register_function('api', function() return {type(string.len), type(redis.call), type(redis.register_function)} end)\n"+
		"redis.register_function('keys', function() return KEYS end)")
	if got := fcall(e, fns[0]); got != "*3\r\n$8\r\nfunction\r\n$8\r\nfunction\r\n$3\r\nnil\r\n" {
		t.Fatalf("runtime env: %q", got)
	}
	if got := fcall(e, fns[1]); got != "-ERR user_function:3: Script attempted to access nonexistent global variable 'KEYS' script: keys, on @user_function:3.\r\n" {
		t.Fatalf("KEYS global: %q", got)
	}
	// EVAL's states know nothing of register_function.
	if got := run(t, e, 2, "return type(redis.register_function)"); got != "$3\r\nnil\r\n" {
		t.Fatalf("EVAL sees register_function: %q", got)
	}
}

func TestLoadLibraryErrors(t *testing.T) {
	e := New(Options{})
	for _, tc := range []struct{ code, want string }{
		{"\nreturn 1 +", "Error compiling function: user_function:2: unexpected symbol near '<eof>'"},
		{"\nredis.register_function()", "Error registering functions: ERR wrong number of arguments to redis.register_function"},
		{"\nredis.register_function('a-b', function() end)", "Error registering functions: ERR " + script.ErrBadName},
		{"\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)", "Error registering functions: ERR Function already exists in the library"},
		{"\nredis.call('ping')", "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"},
		{"\nx = 1", "Error registering functions: ERR user_function:2: Attempt to modify a readonly table"},
	} {
		_, err := e.LoadLibrary([]byte(tc.code), time.Second, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %q", tc.code, err, tc.want)
		}
	}
	start := time.Now()
	_, err := e.LoadLibrary([]byte("\nwhile true do end"), 50*time.Millisecond, nil)
	if err == nil || err.Error() != "Error registering functions: ERR FUNCTION LOAD timeout" || time.Since(start) > 2*time.Second {
		t.Fatalf("timeout: %v", err)
	}
}

func BenchmarkFcall(b *testing.B) {
	e := New(Options{})
	fns, err := e.LoadLibrary([]byte("\nredis.register_function('f', function(keys, args) return {keys[1], args[1]} end)"), 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	w := resp.NewWriter()
	keys, args := [][]byte{[]byte("k")}, [][]byte{[]byte("a")}
	host := &fakeHost{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Reset()
		r := &script.Run{W: w, Host: host, Name: "f", Function: true, Resp: 2}
		e.Call(r, fns[0].Fn, keys, args)
	}
}

// TestFrozenArgTables: a stateless function's keys and args tables are
// reused between calls, but a call never sees what an earlier one left in
// them: more elements, extra fields, a metatable.
func TestFrozenArgTables(t *testing.T) {
	e := New(Options{})
	fns := load(t, e, "\nredis.register_function('f', function(keys, args)\n"+
		"  local n = 0 for _ in pairs(keys) do n = n + 1 end\n"+
		"  local m = getmetatable(keys) and 1 or 0\n"+
		"  keys[#keys + 1] = 'more' args[1] = 'changed'\n"+
		"  if n == 1 then keys.extra = 1 end\n"+
		"  if n == 2 then setmetatable(keys, {}) end\n"+
		"  return {n, #keys, m, args[1], #args}\n"+
		"end)")
	lf := fns[0].Fn.(*libFunc)
	if !fns[0].Rerunnable || !lf.frozen {
		t.Fatal("f is not frozen")
	}
	var prev *glua.LTable
	for i, tc := range []struct {
		keys   []string
		reused bool // the keys table of the call before
	}{
		{[]string{"a", "b", "c"}, false},
		{nil, true},
		{[]string{"a"}, true},
		{[]string{"a", "b"}, false}, // the last call left a field
		{[]string{"a", "b"}, false}, // and this one a metatable
		{[]string{"a", "b", "c"}, false},
		{[]string{"a", "b"}, true},
		{[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, false}, // more than it holds
	} {
		want := fmt.Sprintf("*5\r\n:%d\r\n:%d\r\n:0\r\n$7\r\nchanged\r\n:1\r\n", len(tc.keys), len(tc.keys)+1)
		if got := fcall(e, fns[0], tc.keys...); got != want {
			t.Fatalf("call %d with keys %q: %q, want %q", i, tc.keys, got, want)
		}
		st := calledIn(t, lf)
		if reused := st.fnKeys == prev; reused != tc.reused {
			t.Errorf("call %d: keys table reused %v, want %v", i, reused, tc.reused)
		}
		prev = st.fnKeys
	}
}

// calledIn is the state a stateless function's last call ran in, called
// from one goroutine: its library's only clone (the clones run such
// functions first).
func calledIn(t *testing.T, lf *libFunc) *state {
	t.Helper()
	var found []*clone
	lf.clones.free.Each(func(c *clone) { found = append(found, c) })
	if len(found) != 1 {
		t.Fatalf("%d idle clones after calls from one goroutine, want 1", len(found))
	}
	return found[0].s
}

// TestClonesEnabled: the functions of a library without state may run in
// clones, those of a library that assigns an upvalue may not; the first
// load, which also creates the functions' state, qualifies like the rest.
func TestClonesEnabled(t *testing.T) {
	e := New(Options{})
	free := load(t, e, "\nlocal k = 'SET'\nredis.register_function('a', function(keys) return k end)\n"+
		"redis.register_function('b', function(keys) return 1 end)")
	held := load(t, e, "\nlocal n = 0\nredis.register_function('c', function(keys) n = n + 1 return n end)")
	for _, f := range free {
		if lf := f.Fn.(*libFunc); lf.clones == nil || lf.name != f.Name {
			t.Errorf("%s: no clones", f.Name)
		}
	}
	if lf := held[0].Fn.(*libFunc); lf.clones != nil {
		t.Error("c, a function with library state, may run in a clone")
	}
	// A library whose load costs more than cloneLoadMax of CPU gets none:
	// its clones would be as slow to load, while the FCALL holds its keys.
	slow := load(t, e, "\nlocal s = 0\nfor i = 1, 10000000 do s = s + i end\n"+
		"redis.register_function('d', function(keys) return 1 end)")
	if lf := slow[0].Fn.(*libFunc); lf.clones != nil {
		t.Error("d, of a library slow to load, may run in a clone")
	}
}
