package lua

import (
	"fmt"
	"strings"
	"testing"
)

// TestVMFastPaths runs scripts through the VM's fast paths (arithmetic,
// comparisons, numeric for, table reads) and their fallbacks (coercions,
// metamethods, errors) and compares with the replies of Redis 7.0.15.
func TestVMFastPaths(t *testing.T) {
	e := New(Options{})
	cases := []struct{ code, want string }{
		{`local a = 0 local z = a * -1 return tostring(z) .. ' ' .. tostring(a - 0) .. ' ' .. tostring(-a)`, "-0 0 -0"},
		{`local a, b = -7, 3 return tostring(a % b) .. ' ' .. tostring(7 % -3) .. ' ' .. tostring(5.5 % 2) .. ' ' .. tostring(-5.5 % 2) .. ' ' .. tostring(a % 0)`, "2 -2 1.5 0.5 -nan"},
		{`local s = 0 for i = 1, 3, 0.5 do s = s + i end return tostring(s)`, "10"},
		{`local s = '' for i = 10, 1, -3 do s = s .. i .. ',' end return s`, "10,7,4,1,"},
		{`local s = 0 for i = 16380, 16390 do s = s + i end return tostring(s)`, "180235"},
		{`local x = 1e15 for i = 1, 10 do x = x + i end return tostring(x)`, "1.0000000000001e+15"},
		{`local x = 0 for i = 1, 100 do x = x + i / 3 end return tostring(x)`, "1683.3333333333"},
		{`local a = '10' local b = a + 5 return tostring(b) .. type(b)`, "15number"},
		{`local a = '0x10' return tostring(a * 2)`, "32"},
		{`local n = 0/0 local r = {} r[1] = tostring(n == n) r[2] = tostring(n < n) r[3] = tostring(n <= n) r[4] = tostring(1 < 2) r[5] = tostring(2 <= 2) r[6] = tostring(3 == 3.0) return table.concat(r, ',')`, "false,false,false,true,true,true"},
		{`local t = setmetatable({}, {__index = function(t, k) return k .. '!' end}) local u = {a = 1} return t.x .. t[5] .. u.a .. tostring(u.b)`, "x!5!1nil"},
		{`local mt = {__add = function(a, b) return 'added' end, __lt = function(a, b) return true end, __eq = function(a, b) return true end} local a = setmetatable({}, mt) local b = setmetatable({}, mt) return (a + 1) .. tostring(a < b) .. tostring(a == b)`, "addedtruetrue"},
		{`local t = {} for i = 1, 20 do t[i] = i * i end local s = 0 for i = 1, #t do s = s + t[i] end return tostring(s)`, "2870"},
		{`local x = 2^53 return tostring(x + 1) .. ' ' .. tostring(-1024 - 1) .. ' ' .. tostring(-1024 + 0) .. ' ' .. tostring(16383 + 1)`, "9.007199254741e+15 -1025 -1024 16384"},
		{`local x = 1/0 return tostring(x) .. ' ' .. tostring(-x) .. ' ' .. tostring(x - x)`, "inf -inf -nan"},
		{`local i = 0 while i < 5000 do i = i + 1 end return tostring(i)`, "5000"},
		{`local ok, err = pcall(function() local t = nil return t + 1 end) return err`, "user_script:1: attempt to perform arithmetic on local 't' (a nil value)"},
		{`local ok, err = pcall(function() local t = {} return t.x.y end) return err`, "user_script:1: attempt to index field 'x' (a nil value)"},
		{`local ok, err = pcall(function() for i = 1, 'x' do end end) return err`, "user_script:1: 'for' limit must be a number"},
		{`local ok, err = pcall(function() local a = {} return a < 1 end) return err`, "user_script:1: attempt to compare table with number"},
		{`local r = {} for _, s in ipairs({'-0', '+5', '007', '123456789012345', '1234567890123456', ' 5', '5 ', '', '-', '+-1', '1e3', '0x10', '12a', '99999999999999999999', '-123456789012345'}) do r[#r+1] = tostring(tonumber(s)) end return table.concat(r, ',')`, "-0,5,7,1.2345678901234e+14,1.2345678901235e+15,5,5,nil,nil,nil,1000,16,nil,1e+20,-1.2345678901234e+14"},
		{`local t = {} for i = 1, 5 do t[i] = '' .. (i * 1000) end local s = 0 for i = 1, #t do s = s + t[i] end return tostring(s) .. ' ' .. tostring(-0 + tonumber('-0'))`, "15000 0"},
	}
	for _, c := range cases {
		want := fmt.Sprintf("$%d\r\n%s\r\n", len(c.want), c.want)
		if got := run(t, e, 2, c.code); got != want {
			t.Errorf("%s\n got %q\nwant %q", c.code, got, want)
		}
	}
}

// TestVMManyConstants checks field reads in a function with more than 256
// constants, where the compiler puts constant keys in registers.
func TestVMManyConstants(t *testing.T) {
	e := New(Options{})
	var b strings.Builder
	b.WriteString("local t = {")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "k%d = %d,", i, i)
	}
	b.WriteString("} return tostring(t.k299 + t.k0 + t.k150)")
	if got := run(t, e, 2, b.String()); got != "$3\r\n449\r\n" {
		t.Errorf("got %q, want 449 (Redis 7.0.15's reply)", got)
	}
}
