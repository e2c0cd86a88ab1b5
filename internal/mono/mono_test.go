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

// TestOfMatchesNow checks Of against Now over times taken at known
// points: Of(t) lies between the Now readings around t's time.Now, up to
// the clock reads Of itself makes.
func TestOfMatchesNow(t *testing.T) {
	for i := 0; i < 1000; i++ {
		a := Now()
		tm := time.Now()
		b := Now()
		of := Of(tm)
		c := Now()
		if of < a || of > c {
			t.Fatalf("Of(t) = %d outside [%d, %d] (Now after t: %d)", of, a, c, b)
		}
	}
	past := time.Now().Add(-time.Second)
	if d := Now() - Of(past); d < int64(time.Second) || d > int64(time.Second+time.Millisecond*100) {
		t.Fatalf("a time 1s ago is %d ns ago on the clock", d)
	}
}
