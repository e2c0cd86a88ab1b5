package keyspace

import (
	"slices"
	"strings"
	"testing"
)

// TestQuicklistLayout checks node layouts redis-server 7.0.15 shows for
// the same sequences (the node counts of its DUMP payloads; the corpus
// quicklist_layout.txt compares the payloads byte for byte).
func TestQuicklistLayout(t *testing.T) {
	elems := func(s string) [][]byte {
		var out [][]byte
		for _, f := range strings.Fields(s) {
			out = append(out, []byte(f))
		}
		return out
	}
	cases := []struct {
		name  string
		fill  int
		depth int
		run   func(l *List)
		want  []int
	}{
		{"rpush", 2, 0, func(l *List) {}, []int{2, 2, 2, 2}},
		{"compress depth kept", -2, 3, func(l *List) {}, []int{8}},
		{"split after, merge", 2, 0, func(l *List) { l.InsertAfter(2, []byte("X")) }, []int{2, 1, 2, 2, 2}},
		{"split before", 2, 0, func(l *List) {
			l.InsertAfter(2, []byte("X"))
			l.InsertBefore(6, []byte("Y"))
		}, []int{2, 1, 2, 2, 1, 2}},
		{"insert into the next node's head", 2, 0, func(l *List) {
			l.InsertAfter(2, []byte("X"))
			l.InsertBefore(6, []byte("Y"))
			l.InsertAfter(1, []byte("Z"))
		}, []int{2, 2, 2, 2, 1, 2}},
		{"deletions do not merge", 2, 0, func(l *List) {
			l.Filter(func(_ int, v []byte) bool { return string(v) != "d" && string(v) != "e" })
		}, []int{2, 1, 1, 2}},
		{"lpush fills the head node", 2, 0, func(l *List) {
			l.PushFront([]byte("x"))
			l.PushFront([]byte("y"))
			l.PushFront([]byte("z"))
		}, []int{1, 2, 2, 2, 2, 2}},
		{"default fill: one node", -2, 0, func(l *List) { l.InsertAfter(3, []byte("X")) }, []int{9}},
		{"lset grows a node in place", -2, 0, func(l *List) {
			l.SetIndex(0, []byte(strings.Repeat("x", 9000)))
			l.PushBack([]byte("tail"))
		}, []int{8, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewListFill(tc.fill, tc.depth)
			for _, e := range elems("a b c d e f g h") {
				l.PushBack(e)
			}
			tc.run(l)
			var got []int
			for _, nd := range l.QuicklistNodes() {
				got = append(got, nd.Count)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("nodes %v want %v", got, tc.want)
			}
			checkLayout(t, l)
			c := l.Clone().(*List)
			if c.Fill() != l.Fill() || c.CompressDepth() != l.CompressDepth() || !slices.Equal(c.QuicklistNodes(), l.QuicklistNodes()) {
				t.Errorf("clone: fill %d nodes %v, want %d %v", c.Fill(), c.QuicklistNodes(), l.Fill(), l.QuicklistNodes())
			}
		})
	}
}
