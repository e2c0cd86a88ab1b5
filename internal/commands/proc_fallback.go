//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package commands

import "time"

// cpuTimes is unknown here: INFO cpu reports zeros.
func cpuTimes() (sys, user time.Duration) { return 0, 0 }

// sysTotalMemory is unknown here: INFO reports 0, as Redis does.
func sysTotalMemory() int64 { return 0 }
