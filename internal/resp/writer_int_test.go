package resp

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendLine: integer replies and length headers read as strconv
// writes them, for the edges (one and two digits, the int64 limits) and
// random values of every length.
func TestAppendLine(t *testing.T) {
	ns := []int64{0, 1, 9, 10, 11, 99, 100, -1, -9, -10, 12345, -12345,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := r.Int64() >> r.UintN(64)
		ns = append(ns, n, -n)
	}
	for _, n := range ns {
		want := ":" + strconv.FormatInt(n, 10) + "\r\n"
		w := &Writer{Buf: []byte("x")}
		w.Int(n)
		if got := string(w.Buf[1:]); got != want {
			t.Fatalf("Int(%d) = %q, want %q", n, got, want)
		}
		if n >= 0 && n <= math.MaxInt32 {
			w.Buf = w.Buf[:0]
			w.Array(int(n))
			if got, want := string(w.Buf), "*"+strconv.FormatInt(n, 10)+"\r\n"; got != want {
				t.Fatalf("Array(%d) = %q, want %q", n, got, want)
			}
		}
	}
	w := NewWriter()
	w.Bulk([]byte("hello world"))
	if got := string(w.Buf); got != "$11\r\nhello world\r\n" {
		t.Fatalf("Bulk: %q", got)
	}
}

// BenchmarkWriterInt is an LPUSH reply (a 5-digit length), then a 1-digit
// one (SADD).
func BenchmarkWriterInt(b *testing.B) {
	w := NewWriter()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Buf = w.Buf[:0]
		w.Int(int64(10000 + i&0xffff))
		w.Int(1)
	}
}
