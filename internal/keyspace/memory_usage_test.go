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
