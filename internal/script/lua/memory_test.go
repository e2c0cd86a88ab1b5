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
