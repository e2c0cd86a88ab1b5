package lua

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// onThreadCPU runs f on a locked OS thread and returns the CPU time that
// thread spent in it. A library's load cost is measured this way, not by
// the wall clock, so that a busy machine descheduling the loader does not
// make a cheap library look expensive (enableClones). It falls back to the
// wall clock if the thread clock cannot be read.
func onThreadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t0, t1 unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t0) != nil {
		start := time.Now()
		f()
		return time.Since(start)
	}
	f()
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t1) != nil {
		return 0
	}
	return time.Duration(t1.Nano() - t0.Nano())
}
