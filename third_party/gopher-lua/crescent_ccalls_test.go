package lua

import "testing"

// TestCoroutineCCalls checks LUAI_MAXCCALLS across coroutines: a resumed
// coroutine goes on with its resumer's count of C calls plus one
// (lua_setlevel, lua_resume), so nested resumes stop at C Lua's depth,
// pcall in between counts, and
// a coroutine that could not start is dead.
func TestCoroutineCCalls(t *testing.T) {
	cases := []struct{ code, want string }{
		{"local function f(n) local co = coroutine.create(function() return f(n+1) end) local ok, e = coroutine.resume(co) if not ok then return n..':'..e end return e end return f(1)", "200:C stack overflow"},
		{"local function f(n) local ok, e = pcall(coroutine.wrap(function() return f(n+1) end)) if not ok then return n..':'..e end return e end return f(1)", "100:C stack overflow"},
		{"local function f(n) local co = coroutine.create(function() coroutine.yield() return f(n+1) end) coroutine.resume(co) local ok, e = coroutine.resume(co) if not ok then return n..':'..e end return e end return f(1)", "200:cannot resume dead coroutine"},
		{"local co = coroutine.create(function() local ok, e = pcall(coroutine.yield, 1) return e end) local _, v = coroutine.resume(co) return v", "attempt to yield across metamethod/C-call boundary"},
	}
	for _, c := range cases {
		L := NewState()
		if err := L.DoString(c.code); err != nil {
			t.Errorf("%.60s: %v", c.code, err)
		} else if got := L.Get(-1).String(); got != c.want {
			t.Errorf("%.60s: got %q, want %q", c.code, got, c.want)
		}
		L.Close()
	}
}
