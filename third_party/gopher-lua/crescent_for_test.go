package lua

import (
	"strings"
	"testing"
)

// TestForLoops checks the loops against Lua 5.1: a generic for's
// expression list is adjusted to its three hidden variables whatever the
// number of names (the control variable starts nil after `next, {1}`),
// its iterator is named '(for generator)' in argument errors, a numeric
// for converts numeric strings and checks initial value, limit and step in
// that order, and libm NaNs carry C's sign.
func TestForLoops(t *testing.T) {
	cases := []struct{ code, want string }{
		{"local r = '' for k, v in next, {1, 2, 3} do r = r .. v end return r", "123"},
		{"local r = '' for k in next, {5, 6} do r = r .. k end return r", "12"},
		{"local r = '' for k, v in next, {a = 1} do r = r .. k end return r", "a"},
		{"local r = '' for a, b, c, d in next, {5} do r = r .. tostring(c) .. tostring(d) end return r", "nilnil"},
		{"local r = '' for k, v in next, {7}, nil, 'x' do r = r .. v end return r", "7"},
		{"local r = '' for i = '1', '3' do r = r .. type(i) .. i end return r", "number1number2number3"},
		{"local r = '' for i = 1, 5, '2' do r = r .. i end return r", "135"},
		{"return tostring(math.fmod(1, 0)) .. tostring(math.log(-1)) .. tostring((-8)^(1/3)) .. tostring(math.acos(2)) .. tostring(math.fmod(-(0/0), 1))", "-nan-nan-nannannan"},
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
	errs := []struct{ code, want string }{
		{"for i = 1, nil, 'x' do end", "'for' limit must be a number"},
		{"for i = {}, nil, 'x' do end", "'for' initial value must be a number"},
		{"for i = 1, 2, 'x' do end", "'for' step must be a number"},
		{"for k, v in pairs({}), nil do end", "bad argument #1 to '(for generator)' (table expected, got nil)"},
	}
	for _, c := range errs {
		L := NewState()
		err := L.DoString(c.code)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.code, err, c.want)
		}
		L.Close()
	}
}
