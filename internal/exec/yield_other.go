//go:build !linux

package exec

// osYield is a no-op where the event loops do not run (they are Linux
// only): its callers then retry after runtime.Gosched alone.
func osYield() {}
