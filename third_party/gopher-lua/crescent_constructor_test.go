package lua

import (
	"strconv"
	"strings"
	"testing"
)

// TestTableConstructor checks table constructors against Lua 5.1
// (lparser.c's constructor, closelistfield, lastlistfield): a keyed last
// field whose value is a call is one value, keyed fields after a full
// flush of 50 items do not store those items again, a call after a
// multiple of 50 items lands after them, and SETLIST's C past 511 flushes
// (its extra code word).
func TestTableConstructor(t *testing.T) {
	seq := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			if i > from {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(i))
		}
		return b.String()
	}
	pre := "local function f() return 'a', 'b' end local a = 5 "
	cases := []struct{ code, want string }{
		{"local t = {1, j = string.rep('y', 2)} return #t .. ' ' .. t.j", "1 yy"},
		{"local t = {1, x = f()} return #t .. ' ' .. tostring(t[2]) .. ' ' .. t.x", "1 nil a"},
		{"local t = {x = f(), 1} return #t .. ' ' .. t.x", "1 a"},
		{"local t = {1, f()} return #t .. t[2] .. t[3]", "3ab"},
		{"local t = {1, (f())} return #t .. t[2]", "2a"},
		{"local function g(...) local t = {1, x = ...} return #t .. ' ' .. t.x end return g(7, 8)", "1 7"},
		{"local function g(...) local t = {1, ...} return #t .. t[3] end return g(7, 8)", "38"},
		{"local t = {" + seq(1, 50) + ", x = {}} return type(t[1]) .. #t", "number50"},
		{"local t = {" + seq(1, 50) + ", x = a + 1} return t[1] .. ' ' .. t.x", "1 6"},
		{"local t = {" + seq(1, 50) + ", [1] = 99, [2] = 98} return t[1] .. ' ' .. t[2] .. ' ' .. #t", "99 98 50"},
		{"local t = {" + seq(1, 49) + ", [1] = 99, 50} return t[1] .. ' ' .. #t", "1 50"},
		{"local t = {" + seq(1, 50) + ", f()} return t[1] .. t[51] .. t[52] .. #t", "1ab52"},
		{"local t = {" + seq(1, 100) + ", f()} return t[1] .. t[100] .. t[101] .. #t", "1100a102"},
		{"local t = {" + seq(1, 51) + ", y = 1, f()} return t[51] .. t[52] .. t[53] .. #t", "51ab53"},
		{"local t = {" + seq(1, 26000) + "} return #t .. ' ' .. t[25550] .. ' ' .. t[25551] .. ' ' .. t[26000]", "26000 25550 25551 26000"},
		{"local t = {" + seq(1, 26000) + ", f()} return #t .. t[26001] .. t[1]", "26002a1"},
		{"local x, y = 1, 2 local t = {" + seq(1, 25600) + ", x, y} return #t .. ' ' .. t[25601] .. t[25602]", "25602 12"},
	}
	for _, c := range cases {
		L := NewState()
		if err := L.DoString(pre + c.code); err != nil {
			t.Errorf("%.80s: %v", c.code, err)
			L.Close()
			continue
		}
		if got := L.Get(-1).String(); got != c.want {
			t.Errorf("%.80s: got %q, want %q", c.code, got, c.want)
		}
		L.Close()
	}
}

// BenchmarkCompileConstants compiles a constructor of 2,000 numbers
// (ConstIndex: one map probe per constant, not a scan of the constants).
func BenchmarkCompileConstants(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("return {")
	for i := 1; i <= 2000; i++ {
		sb.WriteString(strconv.Itoa(i))
		sb.WriteByte(',')
	}
	sb.WriteString("}")
	src := sb.String()
	L := NewState()
	defer L.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := L.LoadString(src); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMultipleAssignment checks lparser.c's restassign: values first,
// stores from the last target to the first, check_conflict's copies.
func TestMultipleAssignment(t *testing.T) {
	cases := []struct{ code, want string }{
		{"local a, b = 1, 2 a, b = b, a return a .. b", "21"},
		{"local a, b, c = 1, 2, 3 a, b, c = c, a, b return a .. b .. c", "312"},
		{"local a, b = 1, 2 local function f() return a end a, b = b, a return a .. b .. f()", "212"},
		{"local function g() return 10, 20 end local a, b, c = 1, 2, 3 a, b, c = c, g() return a .. ' ' .. b .. ' ' .. c", "3 10 20"},
		{"local a = 1 local t = {} a, t.x = 2, a return a .. t.x", "21"},
		{"local a = 1 local t = {} t.x, a = a, 2 return a .. t.x", "21"},
		{"local t = {} local i = 1 t[i], i = 5, 2 return tostring(t[1]) .. tostring(t[2]) .. i", "5nil2"},
		{"local t = {} local i = 1 i, t[i] = 2, 5 return tostring(t[1]) .. tostring(t[2]) .. i", "5nil2"},
		{"local t, u = {}, {} local old = t t.x, t = 1, u return tostring(old.x) .. tostring(u.x)", "1nil"},
		{"local a, b = 1, 2 local t = {} t[a], a, t[b], b = 'x', 10, 'y', 20 return t[1] .. t[2] .. a .. b", "xy1020"},
		{"local a, b = 1, 2 a, b = b return tostring(a) .. tostring(b)", "2nil"},
		{"g1, g2 = 1, 2 g1, g2 = g2, g1 return g1 .. g2", "21"},
	}
	for _, c := range cases {
		L := NewState()
		if err := L.DoString(c.code); err != nil {
			t.Errorf("%s: %v", c.code, err)
		} else if got := L.Get(-1).String(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.code, got, c.want)
		}
		L.Close()
	}
}
