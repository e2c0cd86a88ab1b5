package exec

import (
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/mono"
)

// reanchor is how long a clock anchor serves before the wall clock is read
// again (see clock).
const reanchor = int64(50 * time.Millisecond)

// clock reads the time for the command path: one monotonic clock read
// (read returns nanoseconds since the executor started) instead of
// time.Now's two (wall and monotonic), and no time.Time arithmetic. On the
// 2-core VM of docs/design/concurrency.md, time.Now costs ~130 ns and a
// monotonic read ~65 ns, against a few hundred ns for a whole pipelined
// GET. The wall time (unixMs) is an anchor's plus the monotonic time
// elapsed since it, and the anchor is renewed every 50 ms: the result
// differs from time.Now only while the system clock is stepped or slewed
// (by at most the step, for at most 50 ms; a slew of 500 ppm is 25 µs).
type clock struct {
	anchor atomic.Pointer[anchor]
}

// anchor pairs a monotonic reading with the wall time it was taken at.
type anchor struct {
	mono   int64 // clock.read
	wallNs int64 // Unix ns
}

// read returns the monotonic time in ns (mono.Now: the clock script runs
// use too), at least 1 (0 stands for no reading).
func (k *clock) read() int64 { return mono.Now() }

// unixMs returns the Unix time in ms of reading mono.
func (k *clock) unixMs(mono int64) int64 {
	a := k.anchor.Load()
	if a == nil || mono-a.mono >= reanchor {
		a = k.renew()
	}
	return (a.wallNs + mono - a.mono) / 1e6
}

func (k *clock) renew() *anchor {
	t := time.Now()
	a := &anchor{mono: mono.Of(t), wallNs: t.UnixNano()}
	k.anchor.Store(a)
	return a
}
