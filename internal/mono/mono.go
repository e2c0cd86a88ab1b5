// Package mono is the process's monotonic clock for the command path: one
// monotonic read (no wall clock, no time.Time arithmetic), shared by the
// executor's command timing and the script runs' clock, so that a reading
// taken by one serves the other (a script starts at its command's start
// and its end is its command's end: two clock reads fewer per EVAL).
package mono

import (
	"time"
	_ "unsafe" // go:linkname
)

// nanotime is the runtime's monotonic clock, the one time.Now's monotonic
// reading comes from. time.Since(origin) reads it too but adds ~60
// instructions of time.Time arithmetic around it, and the command path
// reads the clock four to six times per EVALSHA (docs/design/lua-engine.md,
// "eighth pass"). runtime.nanotime is kept linkable on purpose
// (go.dev/issue/67401).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// base is the clock's zero: the runtime's monotonic reading at start.
var base = nanotime()

// Now returns the nanoseconds elapsed since the process started, at
// least 1 (0 stands for no reading).
func Now() int64 { return nanotime() - base + 1 }

// Of returns t (a time.Time with a monotonic reading) on this clock. It
// may exceed t's true reading by the few nanoseconds between its two clock
// reads, but never a Now read after it returns.
func Of(t time.Time) int64 {
	d := time.Since(t)
	return Now() - int64(d)
}
