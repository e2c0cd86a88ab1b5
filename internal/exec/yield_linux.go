package exec

import (
	"runtime"
	"syscall"
	"unsafe"
)

// osYield gives the thread's core up for a moment without giving up its
// P: a raw nanosleep of 1 µs (about 50 µs with the default timer slack).
// A script holding the shard a worker waits for is mostly on the other
// worker's thread, which the kernel took off its core for a busier one;
// an idle core lets the kernel run it at once. runtime.Gosched does not
// leave the core, and a time.Sleep parks the worker for up to a
// millisecond (the netpoller's timeout granularity). With a single P
// the holder cannot be another worker's thread: nothing to wait for.
func osYield() {
	if runtime.GOMAXPROCS(0) == 1 {
		return
	}
	ts := syscall.Timespec{Nsec: 1000}
	syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
