package exec

import "testing"

func TestHistogramBuckets(t *testing.T) {
	// Redis's LATENCY HISTOGRAM labels: 1024<<i ns rounded up to the hdr
	// (2 significant figures) equivalence range, in µs.
	wantLabels := []int64{1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113}
	for i, w := range wantLabels {
		if got := BoundUsec(i); got != w {
			t.Errorf("BoundUsec(%d) = %d, want %d", i, got, w)
		}
	}
	for _, tc := range []struct {
		usec int64
		want int
	}{{0, 0}, {1, 0}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {8, 3}, {9, 4}, {16, 4}, {17, 5}, {33, 5}, {34, 6}, {1 << 40, HistBuckets - 1}} {
		if got := BucketOf(tc.usec); got != tc.want {
			t.Errorf("BucketOf(%d) = %d, want %d", tc.usec, got, tc.want)
		}
	}
	var h Histogram
	for i := 0; i < 98; i++ {
		h.Record(1)
	}
	h.Record(100)
	h.Record(1000)
	if p := h.Percentile(50); p != 1.031 {
		t.Errorf("p50 = %v", p)
	}
	if p := h.Percentile(99); p != 132.095 {
		t.Errorf("p99 = %v", p)
	}
	if p := h.Percentile(100); p != 1056.767 {
		t.Errorf("p100 = %v", p)
	}
	var empty Histogram
	if empty.Percentile(50) != 0 {
		t.Error("empty histogram percentile")
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	b.ReportAllocs()
	var h Histogram
	for i := 0; i < b.N; i++ {
		h.Record(int64(i & 1023))
	}
}
