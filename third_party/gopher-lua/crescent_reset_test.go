package lua

import "testing"

// TestResetArray checks when ResetArray may reuse a table (a plain array:
// no metatable, no hash part, enough capacity) and that a reused table is
// what CreateTable(n, 0) returns: n nil slots, nothing left over.
func TestResetArray(t *testing.T) {
	L := NewState()
	defer L.Close()
	mk := func(n int) *LTable {
		tb := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			tb.RawSetInt(i, LString("v"))
		}
		return tb
	}
	cases := []struct {
		name  string
		setup func() *LTable
		n     int
		ok    bool
	}{
		{"plain, fewer", func() *LTable { return mk(4) }, 2, true},
		{"plain, same", func() *LTable { return mk(4) }, 4, true},
		{"plain, more than cap", func() *LTable { return mk(2) }, 9, false},
		{"nil metatable value", func() *LTable { tb := mk(3); tb.Metatable = nil; return tb }, 1, true},
		{"LNil metatable", func() *LTable { tb := mk(3); tb.Metatable = LNil; return tb }, 1, true},
		{"table metatable", func() *LTable { tb := mk(3); tb.Metatable = L.NewTable(); return tb }, 1, false},
		{"hash part", func() *LTable { tb := mk(3); tb.RawSetString("x", LTrue); return tb }, 1, false},
		{"empty", func() *LTable { return mk(0) }, 0, true},
	}
	for _, c := range cases {
		tb := c.setup()
		if got := tb.ResetArray(c.n); got != c.ok {
			t.Errorf("%s: ResetArray(%d) = %v, want %v", c.name, c.n, got, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		if tb.Len() != 0 {
			t.Errorf("%s: Len() = %d after reset, want 0", c.name, tb.Len())
		}
		full := tb.array[:cap(tb.array)]
		for i, v := range full {
			if v != nil && v != LNil {
				t.Errorf("%s: slot %d still holds %v", c.name, i, v)
			}
		}
		if len(tb.array) != c.n {
			t.Errorf("%s: %d slots, want %d", c.name, len(tb.array), c.n)
		}
	}
}

// TestClearValues checks ClearValues on both sides of its short-slice
// threshold.
func TestClearValues(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 40} {
		s := make([]LValue, n)
		for i := range s {
			s[i] = LNumber(i)
		}
		ClearValues(s)
		for i, v := range s {
			if v != nil {
				t.Fatalf("n=%d: s[%d] = %v after ClearValues", n, i, v)
			}
		}
	}
}

// TestArgs checks LState.Args against Get/GetTop inside a Go function
// called with 0 to 3 arguments, also from a nested call frame.
func TestArgs(t *testing.T) {
	L := NewState()
	defer L.Close()
	var got [][]LValue
	L.SetGlobal("f", L.NewFunction(func(L *LState) int {
		a := L.Args()
		if len(a) != L.GetTop() {
			t.Errorf("len(Args()) = %d, GetTop() = %d", len(a), L.GetTop())
		}
		for i, v := range a {
			if v != L.Get(i+1) {
				t.Errorf("Args()[%d] = %v, Get(%d) = %v", i, v, i+1, L.Get(i+1))
			}
		}
		got = append(got, append([]LValue(nil), a...))
		return 0
	}))
	if err := L.DoString(`f() f(1) f("a", 2, true)
		local function g(x) local y = x .. "!" f(y, x) return y end
		g("z")`); err != nil {
		t.Fatal(err)
	}
	want := []string{"[]", "[1]", "[a 2 true]", "[z! z]"}
	if len(got) != len(want) {
		t.Fatalf("%d calls, want %d", len(got), len(want))
	}
	for i, w := range want {
		s := "["
		for j, v := range got[i] {
			if j > 0 {
				s += " "
			}
			s += v.String()
		}
		if s += "]"; s != w {
			t.Errorf("call %d: args %s, want %s", i, s, w)
		}
	}
}
