package keyspace

import (
	"fmt"
	"testing"
)

// TestCollectionMemoryUsage: the estimates of the collection types grow
// with what they hold, between the bytes of their elements and those
// plus a bounded overhead per element.
func TestCollectionMemoryUsage(t *testing.T) {
	const n, size = 5000, 100
	elem := func(i int) []byte { return []byte(fmt.Sprintf("%0*d", size, i)) }
	lim := HashLimits{}
	for _, tc := range []struct {
		name string
		fill func(i int) Sizer
	}{
		{"list", func(k int) Sizer {
			l := NewList()
			for i := range k {
				l.PushBack(elem(i))
			}
			return l
		}},
		{"hash", func(k int) Sizer {
			h := NewHash()
			for i := range k {
				h.Set(elem(i)[size/2:], elem(i)[:size/2], lim)
			}
			return h
		}},
		{"set", func(k int) Sizer {
			s := NewSet()
			for i := range k {
				s.Add(elem(i), 512)
			}
			return s
		}},
		{"zset", func(k int) Sizer {
			z := NewZSet(false)
			for i := range k {
				z.Set(string(elem(i)), float64(i))
			}
			return z
		}},
		{"stream", func(k int) Sizer {
			s := NewStream()
			for i := range k {
				s.Append(StreamID{Ms: uint64(i + 1)}, [][]byte{[]byte("f"), elem(i)}, 100, 4096)
			}
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small, big := tc.fill(10).MemoryUsage(), tc.fill(n).MemoryUsage()
			if big < n*size || big > n*(size+250)+4096 {
				t.Fatalf("%d elements of %d bytes: estimate %d", n, size, big)
			}
			if small >= big/100 {
				t.Fatalf("10 elements: %d, %d elements: %d", small, n, big)
			}
		})
	}
}

// TestSampledEstimates: the list, hash and set estimates sum their first
// memSamples elements in loops of their own; they give exactly what
// sampleBytes gives over Index/Field/Value/Member, whatever the mode (a
// small list's ring buffer wrapped around or not, block mode, listpack
// or hashtable hash, intset or hashtable set).
func TestSampledEstimates(t *testing.T) {
	elem := func(i int) []byte { return []byte(fmt.Sprintf("e%0*d", i%13, i)) }
	for _, n := range []int{0, 1, 3, 7, 8, 9, 31, 127, 128, 129, 135, 300, 1000} {
		for _, front := range []int{0, 1, 2, 5, 123, 125, 127, 128} {
			l := NewList()
			for i := range n {
				l.PushBack(elem(i))
			}
			for i := range front { // wraps the ring buffer around
				l.PushFront(elem(1000 + i))
				l.PopBack()
			}
			want := int64(64)
			if l.q != nil {
				want += 48 + int64(len(l.q.ring))*16
			}
			if l.d != nil {
				want += int64(len(l.d.dir))*8 + int64(l.blocks())*listBlock*sliceHdr
			} else {
				want += int64(cap(l.buf)) * sliceHdr
			}
			want += sampleBytes(l.Len(), func(i int) int { return len(l.Index(i)) })
			if got := l.MemoryUsage(); got != want {
				t.Errorf("list n=%d front=%d: %d, sampled %d", n, front, got, want)
			}
		}
		h := NewHash()
		s := NewSet()
		for i := range n {
			h.Set(elem(i), elem(i*7), HashLimits{Entries: 128, Value: 64})
			s.Add(elem(i), 512)
		}
		per := strHdr + sliceHdr
		if h.idx != nil {
			per += mapEntry
		}
		want := 48 + int64(per*h.Len()) + sampleBytes(h.Len(), func(i int) int { return len(h.Field(i)) + len(h.Value(i)) })
		if got := h.MemoryUsage(); got != want {
			t.Errorf("hash n=%d: %d, sampled %d", n, got, want)
		}
		want = 48 + int64((strHdr+mapEntry)*len(s.members)) + sampleBytes(len(s.members), func(i int) int { return len(s.members[i]) })
		if s.idx == nil {
			want = 48 + int64(cap(s.ints))*8
		}
		if got := s.MemoryUsage(); got != want {
			t.Errorf("set n=%d: %d, sampled %d", n, got, want)
		}
	}
}
