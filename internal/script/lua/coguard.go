package lua

import glua "github.com/yuin/gopher-lua"

// maxCoroutineDepth is Lua 5.1's LUAI_MAXCCALLS. gopher-lua runs a resumed
// coroutine on the Go stack of its resumer, so a script that resumes
// coroutines from inside coroutines without end would grow the Go stack
// and the heap until the process dies, and SCRIPT KILL does not reach the
// innermost coroutine. Past this depth, coroutine.resume returns false,
// "C stack overflow" and a coroutine.wrap function raises it, as in Lua.
const maxCoroutineDepth = 200

const errCStackOverflow = "C stack overflow"

// guardCoroutines bounds the nesting of coroutine.resume and
// coroutine.wrap functions.
func (s *state) guardCoroutines(L *glua.LState, co *glua.LTable) {
	resume := co.RawGetString("resume").(*glua.LFunction)
	co.RawSetString("resume", L.NewFunction(func(L *glua.LState) int {
		if s.coDepth >= maxCoroutineDepth {
			L.Push(glua.LFalse)
			L.Push(glua.LString(errCStackOverflow))
			return 2
		}
		s.coDepth++
		defer func() { s.coDepth-- }()
		return resume.GFunction(L)
	}))
	wrap := co.RawGetString("wrap").(*glua.LFunction)
	co.RawSetString("wrap", L.NewFunction(func(L *glua.LState) int {
		wrap.GFunction(L)
		fn := L.Get(-1).(*glua.LFunction)
		L.Pop(1)
		// The guard runs the wrapped coroutine in its own frame, with the
		// coroutine as its upvalue (not through Call, which would make
		// the Lua caller invisible to luaL_where's position).
		L.Push(L.NewClosure(func(L *glua.LState) int {
			if s.coDepth >= maxCoroutineDepth {
				L.RaiseError(errCStackOverflow)
			}
			s.coDepth++
			defer func() { s.coDepth-- }()
			return glua.CoroutineWrapCall(L)
		}, fn.Upvalues[0].Value()))
		return 1
	}))
}
