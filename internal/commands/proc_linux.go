package commands

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processRSS reads the resident set size from /proc.
func processRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func cpuLines() []string {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
	return []string{"used_cpu_sys:" + tv(ru.Stime), "used_cpu_user:" + tv(ru.Utime),
		"used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000"}
}
