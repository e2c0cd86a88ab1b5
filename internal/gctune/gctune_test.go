package gctune

import "testing"

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, maxmem uint64
		want         int
	}{
		{0, 0, 100},
		{8 * mb, 0, 400},        // small heap: the floor, 32 MB of 8
		{64 * mb, 0, 50},        // the floor: 32 MB of 64
		{1 << 10, 0, 10000},     // a tiny heap: bounded
		{160 * mb, 0, 20},       // large: the ratio
		{1000 * mb, 0, 20},      // large: the ratio
		{160 * mb, 170 * mb, 7}, // maxmemory: 10 MB left, ceil(10/160)
		{160 * mb, 100 * mb, 3}, // over maxmemory: the minimum headroom
		{100 * mb, 1000 * mb, 32},
	} {
		if got := Percent(c.live, DefaultRatio, DefaultFloor, c.maxmem); got != c.want {
			t.Errorf("Percent(%d MB, max %d MB) = %d, want %d", c.live/mb, c.maxmem/mb, got, c.want)
		}
	}
}

func TestTickAppliesPercent(t *testing.T) {
	tu := New()
	if tu.off {
		t.Skip("GOGC or GOMEMLIMIT set")
	}
	tu.Floor = 1 // force the ratio even for the test's small heap
	tu.Tick()
	if tu.last != Percent(tu.samples[0].Value.Uint64(), tu.Ratio, tu.Floor, 0) || tu.last > maxPercent {
		t.Fatalf("last %d", tu.last)
	}
}
