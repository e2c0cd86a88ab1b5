package lua

func OpenCoroutine(L *LState) int {
	// TODO: Tie module name to contents of linit.go?
	mod := L.RegisterModule(CoroutineLibName, coFuncs)
	L.Push(mod)
	return 1
}

var coFuncs = map[string]LGFunction{
	"create":  coCreate,
	"yield":   coYield,
	"resume":  coResume,
	"running": coRunning,
	"status":  coStatus,
	"wrap":    coWrap,
}

func coCreate(L *LState) int {
	fn, ok := L.Get(1).(*LFunction)
	if !ok || fn.IsG { // CRESCENT: Lua 5.1's check and message
		L.ArgError(1, "Lua function expected")
	}
	newthread, _ := L.NewThread()
	base := 0
	newthread.stack.Push(callFrame{
		Fn:         fn,
		Pc:         0,
		Base:       base,
		LocalBase:  base + 1,
		ReturnBase: base,
		NArgs:      0,
		NRet:       MultRet,
		Parent:     nil,
		TailCall:   0,
	})
	L.Push(newthread)
	return 1
}

func coYield(L *LState) int {
	// CRESCENT: lua_yield's check: not from the main thread, nor across a
	// call made from Go (pcall, a sort comparator, a metamethod).
	if L.G.MainThread == L || L.Parent == nil || L.nCcalls > L.baseCcalls {
		L.runError("attempt to yield across metamethod/C-call boundary")
	}
	return -1
}

func coResume(L *LState) int {
	th := coArg(L)
	// CRESCENT: lbaselib.c's auxresume: "cannot resume dead coroutine"
	// CRESCENT: lua_setlevel and lua_resume: the coroutine goes on with
	// its resumer's count of nested C calls, and fails to start past
	// LUAI_MAXCCALLS (each nested resume counts one, as do pcall and
	// metamethods in between), so nested coroutines, which run on the
	// resumer's Go stack, stop at C Lua's depth.
	st := L.Status(th)
	if st == "suspended" && L.nCcalls >= maxCCalls {
		st = ""
	}
	if st != "suspended" {
		msg := "cannot resume " + st + " coroutine"
		if st == "" {
			msg = "C stack overflow"
			if !th.isStarted() {
				// resume_error replaced the coroutine's function
				// with the message: it is dead
				th.Dead = true
			}
		}
		if th.wrapped {
			L.RaiseError("%s", msg)
			return 0
		}
		L.Push(LFalse)
		L.Push(LString(msg))
		return 2
	}
	th.Parent = L
	L.G.CurrentThread = th
	th.nCcalls = L.nCcalls + 1 // CRESCENT: lua_setlevel, ++nCcalls
	th.baseCcalls = th.nCcalls
	if !th.isStarted() {
		cf := th.stack.Last()
		th.currentFrame = cf
		th.SetTop(0)
		nargs := L.GetTop() - 1
		L.XMoveTo(th, nargs)
		cf.NArgs = nargs
		th.initCallFrame(cf)
		th.Panic = panicWithoutTraceback
	} else {
		nargs := L.GetTop() - 1
		L.XMoveTo(th, nargs)
	}
	top := L.GetTop()
	threadRun(th)
	return L.GetTop() - top
}

func coRunning(L *LState) int {
	if L.G.MainThread == L {
		L.Push(LNil)
		return 1
	}
	L.Push(L.G.CurrentThread)
	return 1
}

func coStatus(L *LState) int {
	L.Push(LString(L.Status(coArg(L))))
	return 1
}

// wrapaux is lbaselib.c's luaB_auxwrap. CRESCENT: the coroutine runs as
// for coroutine.resume; an error is raised again in the caller, a string
// prefixed with luaL_where(L, 1) (so a message gets the position twice,
// as in C Lua).
func wrapaux(L *LState) int {
	L.Insert(L.ToThread(UpvalueIndex(1)), 1)
	n := coResume(L)
	first := L.GetTop() - n + 1
	if !LVAsBool(L.Get(first)) {
		e := L.Get(L.GetTop())
		switch e.(type) {
		case LString, LNumber: // lua_isstring
			prefix := L.luaLWhere()
			if prefix != "" {
				prefix += " "
			}
			e = LString(prefix + e.String())
		}
		L.Error(e, 0)
	}
	L.Remove(first)
	return n - 1
}

func coWrap(L *LState) int {
	coCreate(L)
	v := L.Get(L.GetTop())
	L.Pop(1)
	L.Push(L.NewClosure(wrapaux, v))
	return 1
}

//

// coArg is lbaselib.c's getco: argument 1 must be a coroutine. CRESCENT
func coArg(L *LState) *LState {
	th, ok := L.Get(1).(*LState)
	if !ok {
		L.ArgError(1, "coroutine expected")
	}
	return th
}
