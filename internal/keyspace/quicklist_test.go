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

// TestPackedThreshold: SetPackedThreshold takes 1 byte to 4 GB - 1 MB, 0
// restores 1 GB, and a push of an element of at least the threshold gets
// a PLAIN node of its own.
func TestPackedThreshold(t *testing.T) {
	defer SetPackedThreshold(0)
	for _, c := range []struct {
		sz   uint64
		ok   bool
		want int64
	}{
		{5, true, 5}, {1 << 32, false, 5}, {1<<32 - 1<<20, true, 1<<32 - 1<<20},
		{1<<32 - 1<<20 + 1, false, 1<<32 - 1<<20}, {0, true, 1 << 30}, {1, true, 1},
	} {
		if ok := SetPackedThreshold(c.sz); ok != c.ok || packedThreshold.Load() != c.want {
			t.Errorf("SetPackedThreshold(%d) = %v, threshold %d; want %v, %d", c.sz, ok, packedThreshold.Load(), c.ok, c.want)
		}
	}
	SetPackedThreshold(5)
	l := NewList()
	for _, v := range []string{"a", "bbbbb", "c", "dddd"} {
		l.PushBack([]byte(v))
	}
	var got []string
	for _, nd := range l.QuicklistNodes() {
		got = append(got, strings.Repeat("P", btoi(nd.Plain))+strings.Repeat("n", nd.Count))
	}
	if want := []string{"n", "Pn", "nn"}; !slices.Equal(got, want) {
		t.Errorf("nodes %q, want %q (n: an element, P: a PLAIN node)", got, want)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
