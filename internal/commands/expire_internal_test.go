package commands

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestPexpireAt checks EXPIRE's propagated effect, with and without
// options, over the range of absolute times.
func TestPexpireAt(t *testing.T) {
	for _, tc := range []struct {
		args []string
		when int64
		want string
	}{
		{[]string{"EXPIRE", "k", "60"}, 1700000060000, "PEXPIREAT k 1700000060000"},
		{[]string{"pexpire", "key:1", "5"}, 1, "PEXPIREAT key:1 1"},
		{[]string{"EXPIREAT", "k", "1"}, math.MaxInt64, "PEXPIREAT k " + strconv.FormatInt(math.MaxInt64, 10)},
		{[]string{"PEXPIREAT", "k", "1"}, math.MinInt64, "PEXPIREAT k " + strconv.FormatInt(math.MinInt64, 10)},
		{[]string{"EXPIRE", "k", "60", "NX"}, 123, "PEXPIREAT k 123 NX"},
		{[]string{"EXPIRE", "k", "60", "gt", "xx"}, 456, "PEXPIREAT k 456 gt xx"},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		got := pexpireAt(args, tc.when)
		if len(got) != 1 {
			t.Fatalf("%v: %d effects", tc.args, len(got))
		}
		parts := make([]string, len(got[0]))
		for i, a := range got[0] {
			parts[i] = string(a)
		}
		if s := strings.Join(parts, " "); s != tc.want {
			t.Errorf("%v at %d: %q, want %q", tc.args, tc.when, s, tc.want)
		}
		if string(args[0]) != tc.args[0] || string(args[2]) != tc.args[2] {
			t.Errorf("%v: the command's arguments changed", tc.args)
		}
	}
	args := [][]byte{[]byte("EXPIRE"), []byte("k"), []byte("60")}
	if n := testing.AllocsPerRun(100, func() { _ = pexpireAt(args, 1700000060000) }); n != 1 {
		t.Errorf("pexpireAt: %v allocations, want 1", n)
	}
}
