package lua

import (
	"fmt"
	"strings"
	"testing"
)

// stackTraceReference is upstream's stackTrace, the reference for the
// single-walk one. CRESCENT
func (ls *LState) stackTraceReference(level int) string {
	buf := []string{}
	header := "stack traceback:"
	if ls.currentFrame != nil {
		i := 0
		for dbg, ok := ls.GetStack(i); ok; dbg, ok = ls.GetStack(i) {
			cf := dbg.frame
			buf = append(buf, fmt.Sprintf("\t%v in %v", ls.Where(i), ls.formattedFrameFuncName(cf)))
			if !cf.Fn.IsG && cf.TailCall > 0 {
				for tc := cf.TailCall; tc > 0; tc-- {
					buf = append(buf, "\t(tailcall): ?")
					i++
				}
			}
			i++
		}
	}
	buf = append(buf, fmt.Sprintf("\t%v: %v", "[G]", "?"))
	buf = buf[intMax(0, intMin(level, len(buf))):len(buf)]
	if len(buf) > 20 {
		newbuf := make([]string, 0, 20)
		newbuf = append(newbuf, buf[0:7]...)
		newbuf = append(newbuf, "\t...")
		newbuf = append(newbuf, buf[len(buf)-7:len(buf)]...)
		buf = newbuf
	}
	return fmt.Sprintf("%s\n%s", header, strings.Join(buf, "\n"))
}

// TestStackTraceMatchesUpstream compares stackTrace with upstream's at
// every level, for shallow and deep stacks, tail calls, Go functions and
// coroutines.
func TestStackTraceMatchesUpstream(t *testing.T) {
	scripts := []string{
		`probe()`,
		`local function f() probe() end f()`,
		`local function f(n) if n == 0 then probe() return end f(n - 1) end f(5)`,
		`local function f(n) if n == 0 then probe() return end f(n - 1) end f(40)`,
		`local function g() probe() end local function f(n) if n == 0 then return g() end return f(n - 1) end f(30)`,
		`local function f(n) if n == 0 then return probe() end return f(n - 1) end f(3)`,
		`pcall(function() probe() end)`,
		`local co = coroutine.create(function() local function f(n) if n == 0 then probe() return end f(n - 1) end f(25) end) coroutine.resume(co)`,
		`table.sort({3, 2, 1}, function(a, b) probe() return a < b end)`,
		`string.gsub("abc", "%w", function(c) probe() end)`,
	}
	for _, src := range scripts {
		L := NewState()
		probes := 0
		L.SetGlobal("probe", L.NewFunction(func(L *LState) int {
			probes++
			for level := 0; level < 50; level++ {
				if got, want := L.stackTrace(level), L.stackTraceReference(level); got != want {
					t.Errorf("%s, level %d:\ngot  %q\nwant %q", src, level, got, want)
					return 0
				}
			}
			return 0
		}))
		if err := L.DoString(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
		if probes == 0 {
			t.Errorf("%s: probe not called", src)
		}
		L.Close()
	}
}

// TestStackTraceDeep: the traceback of a 100k-deep stack keeps 7 lines
// from each end (it is built in one walk; upstream's was quadratic in the
// depth).
func TestStackTraceDeep(t *testing.T) {
	L := NewState(Options{CallStackSize: 200000, RegistrySize: 1024 * 1024, RegistryMaxSize: 8 * 1024 * 1024})
	defer L.Close()
	var trace string
	L.SetGlobal("probe", L.NewFunction(func(L *LState) int {
		trace = L.stackTrace(0)
		return 0
	}))
	if err := L.DoString(`local function f(n) if n == 0 then probe() return end f(n - 1) end f(100000)`); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(trace, "\n"); lines != 15 {
		t.Fatalf("%d lines:\n%s", lines, trace)
	}
}
