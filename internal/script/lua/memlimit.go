package lua

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Memory budget of a script run. Redis's Lua has no limit of its own: a
// script builds whatever malloc gives it (string.rep('x', 1e10) is a
// 1.4 GB string there: luaL_checkint truncates 1e10 to 1410065408) and the
// server aborts when malloc fails. Crescent refuses instead, with C Lua's
// "not enough memory": the budget is a quarter of the memory the process
// may use (the machine's, or its cgroup's limit when lower), at most 1 GB
// and at least 64 MB, and one string may take half of it (it and one copy
// fit). Scripts run in parallel on disjoint keys, each with its own
// budget, so the cap keeps a few hostile scripts from taking the machine;
// and a script that does run into it (a table grown until it fails) costs
// seconds, not tens of seconds. An eighth of the machine's memory, up to
// 4 GB, was tried: it built Redis's 1.4 GB string.rep, but a hostile
// table-growth script then took over 30 s under the race detector, and
// two such scripts 8 GB.
const (
	minMaxMemory = 64 << 20
	maxMaxMemory = 1 << 30
)

// defaultMaxMemory is Options.MaxMemory's default: the budget above.
func defaultMaxMemory() int64 {
	return min(max(memoryLimit()/4, minMaxMemory), maxMaxMemory)
}

// memoryLimit is the memory the process may use: MemTotal of
// /proc/meminfo, or the cgroup's memory limit when lower; 0 when neither
// can be read.
func memoryLimit() int64 {
	var limit int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					limit = kb << 10
				}
				break
			}
		}
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(p); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (limit == 0 || n < limit) {
				limit = n
			}
		}
	}
	return limit
}

// reserve is the VM's MemoryLimits.Reserve: whether the run's heap growth
// plus n more bytes stays within MaxMemory, confirmed after a collection
// when it does not (the script's garbage does not count). It is asked
// before strings of 1 MB or more are built, so that a loop of big
// string.rep calls stops at the budget rather than between two periodic
// checks (outOfMemory), which could be gigabytes later.
func (s *state) reserve(n int) bool {
	now := s.memBaseline()
	if now-s.memBase+int64(n) <= s.e.opts.MaxMemory {
		return true
	}
	runtime.GC()
	return heapBytes(s.memSample)-s.memBase+int64(n) <= s.e.opts.MaxMemory
}
