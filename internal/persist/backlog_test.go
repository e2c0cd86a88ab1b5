package persist

import (
	"bytes"
	"testing"
)

// TestBacklog checks the ring against the stream it was fed: first byte
// offset, history length and every suffix, across wraps and writes
// larger than the ring.
func TestBacklog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int64
		start  int64
		writes []int
	}{
		{"empty", 16 << 10, 0, nil},
		{"fits", 16 << 10, 0, []int{10, 20, 30}},
		{"starts at an offset", 16 << 10, 1000, []int{5, 5}},
		{"wraps", 16 << 10, 7, []int{10000, 10000, 3000}},
		{"exactly full", 16 << 10, 0, []int{8 << 10, 8 << 10}},
		{"one write larger than the ring", 16 << 10, 3, []int{100, 40000, 7}},
		{"minimum size", 10, 0, []int{20000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkBacklog(t, tc.size, tc.start, tc.writes)
		})
	}
}

func checkBacklog(t *testing.T, size, start int64, writes []int) {
	t.Helper()
	b := newBacklog(size, start)
	var stream []byte
	for i, n := range writes {
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i*31 + j*7)
		}
		b.add(p)
		stream = append(stream, p...)
	}
	ring := int64(len(b.buf))
	hist := min(int64(len(stream)), ring)
	end := start + int64(len(stream))
	if int64(b.histlen) != hist || b.end != end || b.first() != end-hist+1 {
		t.Fatalf("histlen %d end %d first %d, want %d %d %d", b.histlen, b.end, b.first(), hist, end, end-hist+1)
	}
	for off := b.first(); off <= end+1; off += max(1, hist/97) {
		want := stream[off-1-start:]
		if got := b.since(off); !bytes.Equal(got, want) {
			t.Fatalf("since(%d): %d bytes, want %d (equal prefix: %v)", off, len(got), len(want), bytes.HasPrefix(want, got))
		}
	}
	if got := b.since(end + 1); len(got) != 0 {
		t.Fatalf("since(end+1) = %d bytes", len(got))
	}
}

// FuzzBacklog feeds random write sizes to a small ring.
func FuzzBacklog(f *testing.F) {
	f.Add(int64(0), []byte{1, 2, 3})
	f.Add(int64(99), []byte{255, 255, 255, 255, 0, 7})
	f.Fuzz(func(t *testing.T, start int64, sizes []byte) {
		if start < 0 || start > 1<<40 || len(sizes) > 64 {
			return
		}
		writes := make([]int, len(sizes))
		for i, s := range sizes {
			writes[i] = int(s) * 97 // up to ~24 KB: past the 16 KB ring
		}
		checkBacklog(t, 0, start, writes)
	})
}

// BenchmarkBacklogAdd is the per-write cost of the backlog once a
// replica attached (a small command).
func BenchmarkBacklogAdd(b *testing.B) {
	bl := newBacklog(1<<20, 0)
	p := []byte("*3\r\n$3\r\nSET\r\n$6\r\nkey:42\r\n$5\r\nvalue\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		bl.add(p)
	}
}
