//go:build !linux

package commands

import (
	"fmt"
	"runtime/metrics"
	"time"
)

// processRSS approximates the resident set size where /proc is missing:
// the memory the Go runtime has mapped and not returned to the system.
func processRSS() int64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	var v [2]int64
	for i, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			v[i] = int64(x.Value.Uint64())
		}
	}
	return v[0] - v[1]
}

// totalMemory is the physical memory of the machine (0 when unknown, as
// Redis reports it).
func totalMemory() int64 { return sysTotalMemory() }

// cpuLines are INFO cpu's process lines.
func cpuLines() []string {
	sys, user := cpuTimes()
	tv := func(d time.Duration) string {
		return fmt.Sprintf("%d.%06d", d/time.Second, d%time.Second/time.Microsecond)
	}
	return []string{"used_cpu_sys:" + tv(sys), "used_cpu_user:" + tv(user),
		"used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000"}
}
