package keyspace

import (
	"runtime/metrics"
	"testing"
)

// BenchmarkListPushFront is LPUSH into one growing list (redis-benchmark's
// lpush test; 1M pushes with -benchtime 1000000x): time, bytes and
// allocations per push.
func BenchmarkListPushFront(b *testing.B) {
	v := []byte("xxx")
	b.ReportAllocs()
	l := NewList()
	for i := 0; i < b.N; i++ {
		l.PushFront(v)
	}
}

// BenchmarkListPushFrontMaxAlloc is BenchmarkListPushFront reporting
// "max-KB", the most heap that one push allocated (read
// from the runtime's allocation counter around each push, which sees a
// large allocation at once and small ones when their span is taken). A
// push that copies the whole list into a new array shows there, as a
// stop of its shard that grows with the list.
func BenchmarkListPushFrontMaxAlloc(b *testing.B) {
	v := []byte("xxx")
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	b.ReportAllocs()
	l := NewList()
	var worst uint64
	for i := 0; i < b.N; i++ {
		a0 := allocated()
		l.PushFront(v)
		if d := allocated() - a0; d > worst {
			worst = d
		}
	}
	b.ReportMetric(float64(worst)/1024, "max-KB")
}

// BenchmarkListSmall3 builds a 3-element list (RPUSH of 3 into a new
// key): B/op is the memory of a small list (a 48-byte header and a ring
// buffer of 4 slice headers, 144 bytes; a 3 KiB block when every list
// had blocks).
func BenchmarkListSmall3(b *testing.B) {
	v := []byte("x")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l := NewList()
		l.PushBack(v)
		l.PushBack(v)
		l.PushBack(v)
		listSink = l
	}
}

// listSink keeps BenchmarkListSmall3's lists on the heap, as a keyspace
// keeps them.
var listSink *List
