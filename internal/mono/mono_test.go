package mono

import (
	"testing"
	"time"
)

func TestNowIsMonotonicAndMatchesOf(t *testing.T) {
	a := Now()
	if a < 1 {
		t.Fatalf("Now() = %d, want >= 1", a)
	}
	b := Of(time.Now())
	c := Now()
	if !(a <= b && b <= c) {
		t.Fatalf("readings out of order: Now %d, Of(time.Now()) %d, Now %d", a, b, c)
	}
	time.Sleep(2 * time.Millisecond)
	if d := Now() - c; d < int64(2*time.Millisecond) {
		t.Fatalf("2ms sleep measured as %d ns", d)
	}
}
