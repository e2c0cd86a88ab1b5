//go:build !linux

package lua

import "time"

// onThreadCPU runs f and returns the wall-clock time it took (the thread
// CPU clock is read on Linux only).
func onThreadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
