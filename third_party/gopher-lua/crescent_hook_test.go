package lua

import (
	"context"
	"reflect"
	"testing"
)

// TestHookLines checks the lines a line hook sees: each new line once, a
// loop's lines again on every iteration, a called function's lines, and
// the caller's next line after it returns.
func TestHookLines(t *testing.T) {
	src := "local x = 0\n" + // 1
		"local function f(a)\n" + // 2
		"  return a + 1\n" + // 3
		"end\n" + // 4
		"for i = 1, 2 do\n" + // 5
		"  x = f(x)\n" + // 6
		"end\n" + // 7
		"return x\n" // 8
	L := NewState()
	defer L.Close()
	L.SetContext(context.Background())
	var lines []int
	counts := 0
	L.SetHook(func(L *LState, ev HookEvent, line int) {
		if ev == HookCount {
			counts++
			return
		}
		lines = append(lines, line)
	}, 5)
	if err := L.DoString(src); err != nil {
		t.Fatal(err)
	}
	want := []int{1, 4, 5, 6, 3, 5, 6, 3, 5, 8} // as C Lua (redis-server 7.0 SCRIPT DEBUG)
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
	if counts == 0 {
		t.Error("no count hook")
	}
	if got := L.Get(-1); got.String() != "2" {
		t.Errorf("result %v", got)
	}
	L.SetHook(nil, 0)
	lines = nil
	if err := L.DoString(src); err != nil || len(lines) != 0 {
		t.Errorf("hook removed: err %v, lines %v", err, lines)
	}
}

// TestHookRunsLuaAndRaises checks that a hook may run Lua code (without
// being called for it) and stop the script with an error.
func TestHookRunsLuaAndRaises(t *testing.T) {
	L := NewState()
	defer L.Close()
	L.SetContext(context.Background())
	calls := 0
	L.SetHook(func(L *LState, ev HookEvent, line int) {
		calls++
		if err := L.DoString("local y = 0 for i = 1, 10 do y = y + i end"); err != nil {
			t.Error(err)
		}
		if line == 3 {
			L.RaiseError("stopped at %d", line)
		}
	}, 0)
	err := L.DoString("local a = 1\na = a + 1\na = a + 2\nreturn a")
	if err == nil || calls != 3 {
		t.Fatalf("err %v, calls %d", err, calls)
	}
	if got := err.(*ApiError).Object.String(); got != "<string>:3: stopped at 3" {
		t.Errorf("error %q", got)
	}
}
