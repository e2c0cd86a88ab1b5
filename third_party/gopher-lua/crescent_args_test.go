package lua

import (
	"runtime"
	"strings"
	"testing"
)

// TestAppendStringValues checks every allocation class of
// AppendStringValues (one block, and separate headers and bytes) against
// LString conversions, with empty strings, and that the values survive a
// collection and the callers' buffers changing.
func TestAppendStringValues(t *testing.T) {
	mk := func(lens ...int) [][]byte {
		out := make([][]byte, len(lens))
		for i, n := range lens {
			out[i] = []byte(strings.Repeat(string(rune('a'+i)), n))
		}
		return out
	}
	cases := [][][][]byte{
		{mk(3), mk(5)},             // 2 x 16
		{mk(30), mk(5)},            // 2 x 48
		{mk(3), mk(5, 2)},          // 4 x 32
		{mk(3), mk(35, 2)},         // 4 x 48
		{mk(0), mk(0, 0)},          // only empty strings
		{mk(20), mk(30, 10)},       // 4 x 112
		{mk(10, 0, 30), mk(40, 1)}, // 8 x 192
		{mk(1, 1, 1, 1, 1), nil},   // 5 strings
		{mk(100, 100), mk(50)},     // separate
		{mk(1, 1, 1, 1, 1, 1, 1, 1, 1), mk(2)},
		{nil, nil},
	}
	for ci, groups := range cases {
		var want []string
		for _, g := range groups {
			for _, b := range g {
				want = append(want, string(b))
			}
		}
		pre := LValue(LNumber(7))
		got := AppendStringValues([]LValue{pre}, groups...)
		for _, g := range groups { // the values are copies
			for _, b := range g {
				for i := range b {
					b[i] = '!'
				}
			}
		}
		runtime.GC()
		if len(got) != len(want)+1 || got[0] != pre {
			t.Fatalf("case %d: %d values, want %d after the first", ci, len(got), len(want))
		}
		for i, w := range want {
			s, ok := got[i+1].(LString)
			if !ok || string(s) != w || got[i+1] != LValue(LString(w)) {
				t.Fatalf("case %d: value %d = %#v, want %q", ci, i, got[i+1], w)
			}
		}
	}
}

// BenchmarkAppendStringValues measures a rate limiter's KEYS and ARGV.
func BenchmarkAppendStringValues(b *testing.B) {
	keys := [][]byte{[]byte("ratelimit:user:1000:api")}
	argv := [][]byte{[]byte("1000000000000"), []byte("60")}
	dst := make([]LValue, 0, 8)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst = AppendStringValues(dst[:0], keys, argv)
	}
}
