package keyspace

import (
	"runtime"
	"strconv"
	"testing"
)

// heapPerKey loads n small string keys ("key:N" -> "value:N", as
// bench/compare.sh -m does) and returns the live heap bytes per key.
func heapPerKey(n int, exp int64) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := New(16, Hooks{})
	db := s.DB(0, 1000)
	var kb, vb []byte
	for i := 0; i < n; i++ {
		kb = strconv.AppendInt(append(kb[:0], "key:"...), int64(i), 10)
		vb = strconv.AppendInt(append(vb[:0], "value:"...), int64(i), 10)
		db.SetString(kb, vb, exp)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// BenchmarkHeapPerKey reports the live heap per small string key in a
// store of 1M keys (B/key): the figure behind the RSS comparison with Redis
// in docs/design/memory.md.
func BenchmarkHeapPerKey(b *testing.B) {
	for _, c := range []struct {
		name string
		exp  int64
	}{{"persistent", 0}, {"ttl", 1 << 50}} {
		b.Run(c.name, func(b *testing.B) {
			var per float64
			for i := 0; i < b.N; i++ {
				per = heapPerKey(1_000_000, c.exp)
			}
			b.ReportMetric(per, "B/key")
		})
	}
}
