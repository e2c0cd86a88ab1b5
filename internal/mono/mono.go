// Package mono is the process's monotonic clock for the command path: one
// monotonic read (no wall clock, no time.Time arithmetic), shared by the
// executor's command timing and the script runs' clock, so that a reading
// taken by one serves the other (a script starts at its command's start
// and its end is its command's end: two clock reads fewer per EVAL).
package mono

import "time"

// origin is the clock's zero.
var origin = time.Now()

// Now returns the nanoseconds elapsed since the process started, at
// least 1 (0 stands for no reading).
func Now() int64 { return int64(time.Since(origin)) + 1 }

// Of returns t (a time.Time with a monotonic reading) on this clock.
func Of(t time.Time) int64 { return int64(t.Sub(origin)) + 1 }
