package lua

import (
	"context"
	"strings"
	"testing"
	"time"
)

// evalList runs "return <expr>" and renders its results as Lua values
// joined by '|' (strings quoted), or the error message. CRESCENT
func evalList(L *LState, expr string) string {
	fn, err := L.LoadString("return " + expr)
	if err != nil {
		return "compile: " + err.Error()
	}
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, MultRet, nil); err != nil {
		msg := err.Error()
		if ae, ok := err.(*ApiError); ok {
			msg = ae.Object.String()
		}
		return "error: " + msg
	}
	var parts []string
	for i := top + 1; i <= L.GetTop(); i++ {
		v := L.Get(i)
		if s, ok := v.(LString); ok {
			parts = append(parts, "'"+string(s)+"'")
		} else {
			parts = append(parts, v.String())
		}
	}
	L.SetTop(top)
	return strings.Join(parts, "|")
}

// TestLstrlib checks the port of Lua 5.1.5's matcher and the library
// functions built on it against the answers of Redis 7.0's Lua (also in
// internal/difftest/testdata/lua_stdlib.txt, which compares them live).
func TestLstrlib(t *testing.T) {
	L := NewState()
	defer L.Close()
	for _, c := range []struct{ expr, want string }{
		// results
		{`string.find('abc', '[%a-z]')`, `1|1`},
		{`string.find('abc', ')')`, `nil`},
		{`string.find('a.b', '.', 1, true)`, `2|2`},
		{`string.find('abc', '', 10)`, `4|3`},
		{`string.find('abc', '', -10)`, `1|0`},
		{`string.find('abc', 'c', 10)`, `nil`},
		{`string.find('abc', 'b\0.')`, `nil`},
		{`string.match('a\0b', 'a\0x')`, `'a'`},
		{`string.find('a\0b', '%z')`, `2|2`},
		{`string.find('THE (quick) fox', '%f[%a]%a+', 5)`, `6|10`},
		{`string.find('x(a(b)c)d', '%b()')`, `2|8`},
		{`string.find('hello', '(l)(l)')`, `3|4|'l'|'l'`},
		{`string.match('hello', '()ll()')`, `3|5`},
		{`string.match('  x  ', '^%s*(.-)%s*$')`, `'x'`},
		{`string.match('abcabc', '(abc)%1')`, `'abc'`},
		{`string.match('a-b', '[a-]')`, `'a'`},
		{`string.match('-', '[a-]')`, `'-'`},
		{`string.match(']', '[]]')`, `']'`},
		{`string.match('a$', 'a$b')`, `nil`},
		{`string.match('$', '$')`, `''`},
		{`string.match('abc', 'x-c')`, `'c'`},
		{`string.match('ab', '%Ab')`, `nil`},
		{`string.gsub('abc', '(', 'x')`, `'xaxbxcx'|4`},
		{`string.gsub('abc', 'x*', '-')`, `'-a-b-c-'|4`},
		{`string.gsub('aaa', '^a', 'X')`, `'Xaa'|1`},
		{`string.gsub('abc', '.', 'x', 1.9)`, `'xbc'|1`},
		{`string.gsub('abc', '.', 'x', '2')`, `'xxc'|2`},
		{`string.gsub('abc', 'b', 5)`, `'a5c'|1`},
		{`string.gsub('abc', '()', '%1')`, `'1a2b3c4'|4`},
		{`string.gsub('abc', '%w', '%0%0')`, `'aabbcc'|3`},
		{`string.gsub('hello world', 'o', {o = '0'})`, `'hell0 w0rld'|2`},
		{`string.gsub('abc', '(a)(b)', function(a, b) return b .. a end)`, `'bac'|1`},
		{`select('#', string.gmatch('a', 'a'))`, `1`},
		{`(function() local t = {} for w in string.gmatch('^a^a', '^a') do t[#t+1] = w end return #t end)()`, `2`},
		{`(function() local t = {} for p in string.gmatch('abc', '()') do t[#t+1] = p end return table.concat(t, ',') end)()`, `'1,2,3,4'`},
		{`(function() local t = {} for w in string.gmatch('abc', 'x*') do t[#t+1] = w end return #t end)()`, `4`},
		{`string.find(string.rep('a', 3000), string.rep('a?', 3000))`, `1|3000`},
		{`string.find('abc', string.rep('()', 32))`, `1|0|` + strings.TrimSuffix(strings.Repeat("1|", 32), "|")},
		// errors
		{`string.find('abc', '[a')`, `error: <string>:1: malformed pattern (missing ']')`},
		{`string.find('abc', '[]')`, `error: <string>:1: malformed pattern (missing ']')`},
		{`string.find('abc', '[^]')`, `error: <string>:1: malformed pattern (missing ']')`},
		{`string.find('abc', '[a%')`, `error: <string>:1: malformed pattern (missing ']')`},
		{`string.find('abc', 'a%')`, `error: <string>:1: malformed pattern (ends with '%')`},
		{`string.find('abc', '%f')`, `error: <string>:1: missing '[' after '%f' in pattern`},
		{`string.find('abc', '%ba')`, `error: <string>:1: unbalanced pattern`},
		{`string.find('abc', '(()')`, `error: <string>:1: unfinished capture`},
		{`string.match('abc', ')')`, `error: <string>:1: invalid pattern capture`},
		{`string.match('abc', '%1')`, `error: <string>:1: invalid capture index`},
		{`string.gsub('abc', '(.)', '%2')`, `error: <string>:1: invalid capture index`},
		{`string.find('abc', string.rep('()', 33))`, `error: <string>:1: too many captures`},
		{`string.gsub('abc', 'b', true)`, `error: <string>:1: bad argument #3 to 'gsub' (string/function/table expected)`},
		{`string.gsub('abc', 'b', {b = {}})`, `error: <string>:1: invalid replacement value (a table)`},
		{`string.find(string.rep('a', 130000), string.rep('a?', 130000))`, `error: <string>:1: pattern too complex`},
		{`pcall(string.match, 'abc', ')')`, `false|'invalid pattern capture'`},
		// argument errors and builtins
		{`pcall(string.rep)`, `false|'bad argument #1 to '?' (string expected, got no value)'`},
		{`pcall(string.char, 256)`, `false|'bad argument #1 to '?' (invalid value)'`},
		{`pcall(math.max)`, `false|'bad argument #1 to '?' (number expected, got no value)'`},
		{`pcall(select, 'x')`, `false|'bad argument #1 to '?' (number expected, got string)'`},
		{`pcall(table.insert, {}, 1, 2, 3)`, `false|'wrong number of arguments to 'insert''`},
		{`pcall(table.sort, {3, 1, 'a'})`, `false|'attempt to compare string with number'`},
		{`pcall(rawset, {}, nil, 1)`, `false|'table index is nil'`},
		{`pcall(assert)`, `false|'bad argument #1 to '?' (value expected)'`},
		{`string.upper('a\195\169')`, "'A\xc3\xa9'"},
		{`select('#x', 1, 2)`, `2`},
		{`string.rep('x', '3')`, `'xxx'`},
		{`pcall(function() return ('x'):rep() end)`, `false|'<string>:1: bad argument #1 to 'rep' (number expected, got no value)'`},
		{`pcall(function() return ('x').char('y') end)`, `false|'<string>:1: bad argument #1 to 'char' (number expected, got string)'`},
		{`pcall(math.fmod, 'x', {})`, `false|'bad argument #2 to '?' (number expected, got table)'`},
		{`xpcall(function() error('a') end, function(e) error('b') end)`, `false|'error in error handling'`},
		{`xpcall(function() return 1, 2 end, 1, 5)`, `true|1|2`},
		// table.sort is ltablib.c's quicksort: ties come out in its order
		{`(function() local t = {} for i=1,20 do t[i] = {k = i % 3, v = i} end table.sort(t, function(a,b) return a.k < b.k end) local r = {} for i=1,20 do r[i]=t[i].v end return table.concat(r, ',') end)()`, `'15,9,6,12,18,3,13,1,16,19,10,4,7,17,2,11,8,14,5,20'`},
		{`pcall(table.sort, {5,4,3,2,1,6,7,8,9,10,11,12}, function(a, b) return true end)`, `false|'invalid order function for sorting'`},
		{`(function() local t = {5, 1, 4} table.sort(t, nil) return table.concat(t, ',') end)()`, `'1,4,5'`},
	} {
		if got := evalList(L, c.expr); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.expr, got, c.want)
		}
	}
}

// TestLstrlibInterrupt checks that a backtracking match stops when the
// script's context ends.
func TestLstrlibInterrupt(t *testing.T) {
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	start := time.Now()
	got := evalList(L, `string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')`)
	if !strings.HasPrefix(got, "error: ") || time.Since(start) > 5*time.Second {
		t.Fatalf("got %q after %v", got, time.Since(start))
	}
}

// FuzzLstrlib runs find, match, gsub and gmatch on random patterns and
// subjects: no Go panic, no hang (the script has a deadline, which the
// matcher checks), the recursion guard holds, and the four functions
// agree on whether there is a match (there is no C Lua here to compare
// the results with; the corpus does that against Redis).
func FuzzLstrlib(f *testing.F) {
	for _, s := range [][2]string{
		{"hello world", "(%w+)"}, {"abc", "[%a-z]"}, {"x(a(b)c)d", "%b()"},
		{"THE (quick) fox", "%f[%a]%a+"}, {"abcabc", "(abc)%1"}, {"a", "[a"},
		{"a", "%"}, {"aaa", "a-()b?"}, {"", ""}, {"a\x00b", "%z"}, {"ab", "^(a)(b)$"},
		{"aaaaaaaaaaaaaaaaaaaa", "a*a*a*a*a*a*a*a*a*a*a*b"},
	} {
		f.Add(s[0], s[1])
	}
	L := NewState()
	defer L.Close()
	f.Fuzz(func(t *testing.T, subj, pat string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		L.SetContext(ctx)
		L.SetGlobal("s", LString(subj))
		L.SetGlobal("p", LString(pat))
		find := evalList(L, "string.find(s, p)")
		match := evalList(L, "string.match(s, p)")
		gsub := evalList(L, "select(2, string.gsub(s, p, ''))")
		gmatch := evalList(L, "string.gmatch(s, p)()")
		if ctx.Err() != nil {
			return // stopped by the deadline: fine, as long as it stopped
		}
		if strings.IndexByte(pat, 0) >= 0 {
			return // find searches for all of it as plain text, the matcher up to the NUL (as Lua 5.1)
		}
		ok := func(r string) bool { return !strings.HasPrefix(r, "error: ") }
		found := func(r string) bool { return r != "nil" && r != "" }
		if ok(find) && ok(match) && found(find) != found(match) {
			t.Fatalf("find %q vs match %q", find, match)
		}
		if ok(find) && ok(gsub) && found(find) != (gsub != "0") {
			t.Fatalf("find %q vs gsub count %q", find, gsub)
		}
		if ok(find) && ok(gmatch) && !strings.HasPrefix(pat, "^") && found(find) != found(gmatch) {
			t.Fatalf("find %q vs gmatch %q", find, gmatch)
		}
	})
}
