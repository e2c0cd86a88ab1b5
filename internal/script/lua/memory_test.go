package lua

import (
	"testing"

	"github.com/crescent-db/crescent/internal/script"
)

// TestMemoryLimits checks that scripts allocating without end fail with
// C Lua's memory error and leave the engine usable.
func TestMemoryLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates tens of MB")
	}
	e := New(Options{MaxString: 8 << 20, MaxMemory: 64 << 20})
	sha := func(code string) string {
		return "-ERR Error running script " + shaOf(code) + ", not enough memory\r\n"
	}
	cases := []struct{ name, code, want string }{
		{"string doubling", "local s = 'x' while true do s = s .. s end", ""},
		{"concat chain", "local s = string.rep('x', 1024) local t = {} for i = 1, 1e9 do t[#t+1] = s .. i end", ""},
		{"table growth", "local t = {} local i = 0 while true do i = i + 1 t[i] = {i} end", ""},
		{"table.concat", "local t = {} for i = 1, 9000 do t[i] = string.rep('y', 1024) end return #table.concat(t)", ""},
		{"string.rep", "return #string.rep('ab', 1e8)", ""},
		{"gsub result", "return #string.gsub(string.rep('x', 1e5), 'x', string.rep('y', 100))", ""},
		// fewer instructions than the periodic check's interval: the
		// budget is asked before each big string is built
		{"string.rep loop", "local t = {} for i = 1, 100 do t[i] = string.rep('x', 4e6) end return #t", ""},
		{"concat loop", "local s = string.rep('x', 4e6) local t = {} for i = 1, 100 do t[i] = s .. i end return #t", ""},
		{"gsub loop", "local r = string.rep('y', 4e6) local t = {} for i = 1, 100 do t[i] = ('x' .. i):gsub('^', r) end return #t", ""},
		{"table.concat loop", "local p = {} for i = 1, 4 do p[i] = string.rep('z', 1e6) end local t = {} for i = 1, 100 do t[i] = table.concat(p, i) end return #t", ""},
		{"pcall catches", "local ok, err = pcall(function() local s = 'x' while true do s = s .. s end end) return {tostring(ok), err}",
			"*2\r\n$5\r\nfalse\r\n$17\r\nnot enough memory\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == "" {
				want = sha(c.code)
			}
			if got := run(t, e, 2, c.code); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
	// The engine still works, with fresh states.
	if got := run(t, e, 2, "return #(string.rep('z', 1000) .. 'a')"); got != ":1001\r\n" {
		t.Fatalf("after: %q", got)
	}
}

func shaOf(code string) string { return script.SHA1Hex([]byte(code)) }

// TestMemoryBudget checks the default budget's bounds and that strings up
// to half the budget are built, as Redis builds them, while bigger ones
// fail with the memory error.
func TestMemoryBudget(t *testing.T) {
	if m := defaultMaxMemory(); m < minMaxMemory || m > maxMaxMemory {
		t.Fatalf("defaultMaxMemory() = %d, want within [%d, %d]", m, minMaxMemory, maxMaxMemory)
	}
	if testing.Short() {
		t.Skip("allocates tens of MB")
	}
	e := New(Options{MaxMemory: 64 << 20})
	for _, c := range []struct{ code, want string }{
		{"return #string.rep('x', 30 * 2^20)", ":31457280\r\n"},
		{"return #(string.rep('x', 15 * 2^20) .. string.rep('y', 15 * 2^20))", ":31457280\r\n"},
		{"return #string.gsub(string.rep('x', 2^15), 'x', string.rep('y', 900))", ":29491200\r\n"},
		{"return #string.rep('x', 40 * 2^20)", ""},
		{"return #string.rep('xx', 2^31 - 1)", ""},
	} {
		want := c.want
		if want == "" {
			want = "-ERR Error running script " + shaOf(c.code) + ", not enough memory\r\n"
		}
		if got := run(t, e, 2, c.code); got != want {
			t.Errorf("%s: got %q, want %q", c.code, got, want)
		}
	}
}
