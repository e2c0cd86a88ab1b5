//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package commands

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTimes is the process's system and user CPU time (getrusage).
func cpuTimes() (sys, user time.Duration) {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return time.Duration(ru.Stime.Nano()), time.Duration(ru.Utime.Nano())
}

// sysTotalMemory reads the physical memory size from sysctl.
func sysTotalMemory() int64 {
	name := "hw.physmem"
	switch runtime.GOOS {
	case "darwin":
		name = "hw.memsize"
	case "netbsd":
		name = "hw.physmem64"
	}
	if n, err := unix.SysctlUint64(name); err == nil {
		return int64(n)
	}
	if n, err := unix.SysctlUint32(name); err == nil { // 32-bit systems
		return int64(n)
	}
	return 0
}
