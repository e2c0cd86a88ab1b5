package lua

import (
	"math"
	"testing"
)

// refSharedIndex is the plain definition of sharedIndex: the index of an
// integral f of [sharedMin, sharedMax] other than -0.
func refSharedIndex(f float64) (uint64, bool) {
	if f != math.Trunc(f) || f < sharedMin || f > sharedMax || (f == 0 && math.Signbit(f)) {
		return 0, false
	}
	return uint64(int64(f) - sharedMin), true
}

func checkSharedIndex(t *testing.T, f float64) {
	t.Helper()
	u := sharedIndex(f)
	want, ok := refSharedIndex(f)
	if ok != (u < uint64(len(sharedNumbers))) || (ok && u != want) {
		t.Fatalf("sharedIndex(%v [%#x]) = %d, want %d (shared %v)", f, math.Float64bits(f), u, want, ok)
	}
	lv := sharedNumber(LNumber(f))
	if ok != (lv != nil) {
		t.Fatalf("sharedNumber(%v) = %v", f, lv)
	}
	if ok {
		if n, isNum := lv.(LNumber); !isNum || math.Float64bits(float64(n)) != math.Float64bits(f) {
			t.Fatalf("sharedNumber(%v) = %v", f, lv)
		}
	}
}

// TestSharedIndex compares sharedIndex with its plain definition on the
// range's edges, signed zeros, fractions, huge values, infinities and NaNs.
// CRESCENT
func TestSharedIndex(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 1.5, 2.5, -1.5,
		sharedMin, sharedMin - 1, sharedMin + 1, sharedMax, sharedMax + 1, sharedMax - 1,
		sharedMin - 0.5, sharedMax + 0.5, sharedMax - 0.5, sharedMin + 0.5,
		1 << 51, -(1 << 51), 1<<51 - 1, 1<<51 + 1, 1 << 52, 1 << 53, 1<<53 + 2, -(1 << 53),
		1 << 60, -(1 << 60), 1e300, -1e300, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e-300,
		math.Inf(1), math.Inf(-1), math.NaN(), -math.NaN(),
		math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff8000000000000),
		math.Float64frombits(0x7ff8000000000400), roundMagic, -roundMagic, roundMagic + 5, roundMagic - 5}
	for i := sharedMin - 100; i <= sharedMax+100; i++ {
		vals = append(vals, float64(i), float64(i)+0.25, float64(i)-1e-9, math.Nextafter(float64(i), math.Inf(1)))
	}
	for _, f := range vals {
		checkSharedIndex(t, f)
	}
}

// FuzzSharedIndex checks sharedIndex against its definition on any bits.
func FuzzSharedIndex(f *testing.F) {
	for _, b := range []uint64{0, 1 << 63, 0x4338000000000000, 0x7ff8000000000000, 0x40c0000000000000} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b uint64) {
		checkSharedIndex(t, math.Float64frombits(b))
	})
}

func checkFloor(t *testing.T, q float64) {
	t.Helper()
	got, want := floor(q), math.Floor(q)
	if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Fatalf("floor(%v [%#x]) = %v, want %v", q, math.Float64bits(q), got, want)
	}
}

// TestFloor compares the VM's floor with math.Floor, signed zeros
// included. CRESCENT
func TestFloor(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1, -1, 1.5, -1.5, 2.5, -2.5,
		1e-300, -1e-300, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		1 << 52, -(1 << 52), 1<<52 - 0.5, -(1<<52 - 0.5), 1<<52 + 1, 1 << 53, 1 << 63, -(1 << 63), 1e300, -1e300,
		math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, -math.MaxFloat64}
	for i := -3000; i <= 3000; i++ {
		f := float64(i) / 7
		vals = append(vals, f, math.Nextafter(float64(i), 0), math.Nextafter(float64(i), math.Inf(1)))
	}
	for _, q := range vals {
		checkFloor(t, q)
	}
}

// FuzzFloor checks floor against math.Floor on any bits.
func FuzzFloor(f *testing.F) {
	for _, b := range []uint64{0, 1 << 63, 0x4330000000000000, 0xc330000000000000, 0x3fe0000000000000} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b uint64) {
		checkFloor(t, math.Float64frombits(b))
	})
}
