package commands

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPqsort checks that the requested window of a partial sort holds what
// a full sort puts there, for random sizes (both sides of the insertion
// sort and median-of-nine thresholds), windows and many equal keys.
func TestPqsort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		n := 1 + rng.IntN(120)
		a := make([]int, n)
		for j := range a {
			a[j] = rng.IntN(1 + rng.IntN(50))
		}
		want := slices.Clone(a)
		slices.Sort(want)
		lo := rng.IntN(n)
		hi := lo + rng.IntN(n-lo)
		if rng.IntN(3) == 0 {
			lo = 0
		}
		got := slices.Clone(a)
		pqsort(got, cmp.Compare[int], lo, hi)
		if !slices.Equal(got[lo:hi+1], want[lo:hi+1]) {
			t.Fatalf("n=%d [%d,%d]: got %v want %v (input %v)", n, lo, hi, got[lo:hi+1], want[lo:hi+1], a)
		}
		full := slices.Clone(a)
		pqsort(full, cmp.Compare[int], 0, n-1)
		if !slices.Equal(full, want) {
			t.Fatalf("full sort of %v: %v", a, full)
		}
	}
}
