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
		// CRESCENT: fastLoop (modulo and floor, signed zeros, truthiness, number boxing across blocks, the shared range's edges)
		{`local z = 0 * -1 local r = {} r[1] = tostring(z % 5) r[2] = tostring(z % -5) r[3] = tostring(5 % z) r[4] = tostring(-7.5 % 2) r[5] = tostring(7 % -0.5) r[6] = tostring(1e300 % 7) r[7] = tostring(-1e-310 % 3) r[8] = tostring(2^53 % 3) r[9] = tostring(-(2^60) % 7) r[10] = tostring(1/0 % 2) r[11] = tostring(5 % (1/0)) r[12] = tostring(-5 % 3) return table.concat(r, ',')`, "0,0,-nan,0.5,-0,-0,3,2,-0,-nan,-nan,1"},
		{`local a, b, c, d, e, f = nil, false, 0, '', true, {} local s = '' if a then s = s .. 'a' end if b then s = s .. 'b' end if c then s = s .. 'c' end if d then s = s .. 'd' end if e then s = s .. 'e' end if f then s = s .. 'f' end if not a then s = s .. 'A' end if not b then s = s .. 'B' end if not c then s = s .. 'C' end if a or b then s = s .. 'X' end if c and e then s = s .. 'Y' end return s`, "cdefABY"},
		{`local x = 0.25 for i = 1, 5000 do x = x + 0.5 end local y = 0 for i = 1, 3000 do y = y - 0.75 * i end return tostring(x) .. ' ' .. tostring(y)`, "2500.25 -3376125"},
		{`local s = 0 for i = -2000, 20000, 7 do s = s + i % 13 - i / 4 end return tostring(s)`, "-7050532.75"},
		{`local s = 0 for i = 1, 10 do local k = i * 3000 s = s + k - 16383 end return tostring(s) .. ' ' .. tostring(16383 * 1 + 1) .. ' ' .. tostring(-1024 * 1 - 1) .. ' ' .. tostring(0.5 + 0.5) .. ' ' .. tostring(2^51 + 0.5) .. ' ' .. tostring(-(2^51) - 1)`, "1170 16384 -1025 1 2.2517998136852e+15 -2.2517998136852e+15"},
		{`local function m(a, b) return tostring(a % b) end local z = 0 * -1 return table.concat({m(z, 5), m(z, -5), m(5, z), m(-7.5, 2), m(7, -0.5), m(1e300, 7), m(-1e-310, 3), m(2^53, 3), m(-(2^60), 7), m(1/0, 2), m(5, 1/0), m(-5, 3), m(5, -3), m(-6, 3), m(6, -3), m(0, 3), m(3, 0), m(0/0, 1), m(4.75, 0.5), m(-4.75, 0.5)}, ',')`, "0,0,-nan,0.5,0,0,3,2,0,-nan,-nan,1,-1,0,0,0,-nan,-nan,0.25,0.25"},
		{`local function t(v) if v then return 'T' end return 'F' end local function n(v) if not v then return 'T' end return 'F' end local z = nil return t(nil) .. t(false) .. t(true) .. t(0) .. t('') .. t({}) .. n(nil) .. n(false) .. n(0) .. t(z) .. tostring(nil == false)`, "FFTTTTTTFFfalse"},
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
