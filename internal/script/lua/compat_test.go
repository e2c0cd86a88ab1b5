package lua

import (
	"strconv"
	"strings"
	"testing"
)

// TestTonumberArgs checks tonumber's argument handling (the fast path for
// base 10 or no base, the original for other bases, the errors) against
// the replies of Redis 7.0.15. Two known differences are left out:
// tonumber('10', '16') (Redis coerces the base; the engine raises) and
// tonumber('10', 1) (Redis raises "base out of range"; the engine returns
// nil); error texts name the function "(anonymous)" with a position
// where Redis says '?'.
func TestTonumberArgs(t *testing.T) {
	e := New(Options{})
	cases := []struct{ code, want string }{
		{`local r = {} local function p(...) local ok, v = pcall(tonumber, ...) r[#r+1] = tostring(ok) .. ':' .. tostring(v) end p('10') p('10', nil) p('10', 10) p('10', 16) p('z', 36) p('7', 8) p(5) p(5, 10) p(true) p({}) p(nil) p('0x10') p('0x10', 10) p(' 12 ', 10) p('1e2', 10) p('12', 2.0) return table.concat(r, ' ')`,
			"true:10 true:10 true:10 true:16 true:35 true:7 true:5 true:5 true:nil true:nil true:nil true:16 true:16 true:12 true:100 true:nil"},
		{`local ok, e = pcall(tonumber) return tostring(ok) .. ' ' .. e`, "bad argument #1 to * (value expected)"},
		{`local ok, e = pcall(tonumber, '1', {}) return tostring(ok) .. ' ' .. e`, "bad argument #2 to * (number expected, got table)"},
		{`return tostring(tonumber('42') + 1) .. ' ' .. tostring(tonumber('1000000000000') + 1)`, "43 1000000000001"},
	}
	for _, c := range cases {
		got := run(t, e, 2, c.code)
		if pre, post, wild := strings.Cut(c.want, "*"); wild {
			if !strings.HasPrefix(got, "$") || !strings.Contains(got, "false ") || !strings.Contains(got, pre) || !strings.HasSuffix(got, post+"\r\n") {
				t.Errorf("%s\n got %q\nwant an error %q", c.code, got, c.want)
			}
			continue
		}
		if want := "$" + itoa(len(c.want)) + "\r\n" + c.want + "\r\n"; got != want {
			t.Errorf("%s\n got %q\nwant %q", c.code, got, want)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestVerbatimFormat checks the three-byte format of a {verbatim_string=}
// reply (addReplyVerbatim).
func TestVerbatimFormat(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"txt", "txt"}, {"markdown", "mar"}, {"mkd", "mkd"}, {"a", "a  "},
		{"", "   "}, {"ab", "ab "}, {"a\x00bc", "a  "}, {"\x00", "   "},
	} {
		if got := verbatimFormat(c.in); got != c.want {
			t.Errorf("verbatimFormat(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCollectgarbage checks luaB_collectgarbage's options and the
// parameters kept across scripts of one engine (and reset by Reset).
func TestCollectgarbage(t *testing.T) {
	e := New(Options{})
	steps := []struct{ code, want string }{
		{`return tostring(collectgarbage('setpause', 150.7))`, "200"},
		{`return tostring(collectgarbage('setpause', '120'))`, "150"},
		{`return tostring(collectgarbage('setpause'))`, "120"},
		{`return tostring(collectgarbage('setstepmul', 300))`, "200"},
		{`return tostring(collectgarbage('setstepmul', 2^31))`, "300"},
		{`return tostring(collectgarbage('setstepmul'))`, "-2147483648"},
		{`return tostring(collectgarbage()) .. tostring(collectgarbage('step'))`, "0false"},
		{`local ok, err = pcall(collectgarbage, 'COUNT') return err`, "bad argument #1 to '?' (invalid option 'COUNT')"},
		{`local ok, err = pcall(collectgarbage, 'collect', {}) return err`, "bad argument #2 to '?' (number expected, got table)"},
	}
	for _, c := range steps {
		want := "$" + strconv.Itoa(len(c.want)) + "\r\n" + c.want + "\r\n"
		if got := run(t, e, 2, c.code); got != want {
			t.Errorf("%s\n got %q\nwant %q", c.code, got, want)
		}
	}
	e.Reset()
	if got := run(t, e, 2, `return tostring(collectgarbage('setpause', 100))`); got != "$3\r\n200\r\n" {
		t.Errorf("after Reset: got %q, want 200", got)
	}
}

// TestCollectgarbageCount checks that collectgarbage('count') follows
// the script's allocations: it grows with a big table and shrinks once
// the table is dropped and collected; gcinfo is its integer part.
func TestCollectgarbageCount(t *testing.T) {
	e := New(Options{})
	for _, c := range []struct{ code, want string }{
		{`local a = collectgarbage('count') local t = {} for i = 1, 1e5 do t[i] = {} end return collectgarbage('count') - a > 2000`, ":1\r\n"},
		{`local t = {} for i = 1, 1e5 do t[i] = {} end local a = collectgarbage('count') t = nil collectgarbage() return a - collectgarbage('count') > 2000`, ":1\r\n"},
		{`local c = collectgarbage('count') return c > 0 and math.floor(c * 1024) == c * 1024`, ":1\r\n"},
		{`local g, c = gcinfo(), collectgarbage('count') return g <= c and c - g < 1024`, ":1\r\n"},
	} {
		if got := run(t, e, 2, c.code); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.code, got, c.want)
		}
	}
}

// TestCString checks the NUL truncation of status and error texts.
func TestCString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc", "abc"}, {"a\x00b", "a"}, {"\x00", ""}, {"", ""}, {"ab\x00\x00", "ab"},
	} {
		if got := cString(c.in); got != c.want {
			t.Errorf("cString(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	e := New(Options{})
	for _, c := range []struct{ code, want string }{
		{`return {err='x\0y'}`, "-x\r\n"},
		{`return {ok='a\0b'}`, "+a\r\n"},
		{`return redis.error_reply('x\0y')`, "-ERR x\r\n"},
		{`return redis.error_reply('x\0y').err`, "$5\r\nERR x\r\n"},
		{`return redis.status_reply('a\0b').ok`, "$3\r\na\x00b\r\n"},
	} {
		if got := run(t, e, 2, c.code); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.code, got, c.want)
		}
	}
}
