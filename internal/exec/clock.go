package exec

import (
	"sync/atomic"
	"time"
)

// reanchor is how long a clock anchor serves before the wall clock is read
// again (see clock).
const reanchor = 50 * time.Millisecond

// clock reads the time for the command path with one monotonic clock read
// instead of time.Now's two (wall and monotonic). On the 2-core VM of
// docs/design/concurrency.md, time.Now costs ~130 ns and a monotonic read
// ~65 ns, against a few hundred ns for a whole pipelined GET. The wall
// time is the anchor's plus the monotonic time elapsed since it, and the
// anchor is renewed every 50 ms: the result differs from time.Now only
// while the system clock is stepped or slewed (by at most the step, for at
// most 50 ms; a slew of 500 ppm is 25 µs). The returned time carries a
// monotonic reading, so time.Since on it is one monotonic read too.
type clock struct {
	anchor atomic.Pointer[time.Time]
}

// now returns the current time.
func (k *clock) now() time.Time {
	a := k.anchor.Load()
	if a == nil {
		return k.renew()
	}
	d := time.Since(*a)
	if d >= reanchor || d < 0 {
		return k.renew()
	}
	return a.Add(d)
}

func (k *clock) renew() time.Time {
	t := time.Now()
	k.anchor.Store(&t)
	return t
}
