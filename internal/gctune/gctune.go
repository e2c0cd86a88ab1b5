// Package gctune keeps the Go heap's GC headroom proportionate for a
// server holding a large, long-lived dataset.
//
// With the default GOGC=100 the heap may grow to twice the live data
// before a collection, so a 1 GB keyspace costs 2 GB of RSS. A Tuner,
// ticked by the server's cron, sets the GC percent so that the heap goal
// is the live heap plus max(Ratio*live, Floor): a small heap may grow by
// Floor before a collection (with GOGC=100 a server holding a few MB
// collected every few MB of garbage: a busy script workload ran a GC cycle
// every few tens of milliseconds, which doubled its p99 latency), a large
// one by Ratio of itself. When maxmemory is set the goal is also kept under it while the
// live heap fits, since growing past it buys nothing. See
// docs/design/memory.md.
package gctune

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// Defaults measured in docs/design/memory.md.
const (
	DefaultRatio = 0.20     // headroom as a fraction of the live heap
	DefaultFloor = 32 << 20 // never less headroom than this
	minHeadroom  = 4 << 20  // under maxmemory pressure
	maxPercent   = 10000    // a bound for tiny heaps (the floor decides)
)

// Tuner adjusts the GC percent from the live heap. It is not safe for
// concurrent use; one goroutine (the cron) ticks it.
type Tuner struct {
	// Ratio and Floor define the headroom, see the package doc.
	Ratio float64
	Floor uint64
	// MaxMemory returns maxmemory in bytes (0: none); nil means none.
	MaxMemory func() int64

	off     bool
	last    int
	samples []metrics.Sample
}

// New returns a Tuner with the default ratio and floor. It does nothing
// when the GOGC or GOMEMLIMIT environment variables are set: the operator
// chose.
func New() *Tuner {
	return &Tuner{
		Ratio:   DefaultRatio,
		Floor:   DefaultFloor,
		off:     os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "",
		last:    maxPercent,
		samples: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
}

// Tick reads the live heap and updates the GC percent if it changed.
func (t *Tuner) Tick() {
	if t.off {
		return
	}
	metrics.Read(t.samples)
	if t.samples[0].Value.Kind() != metrics.KindUint64 {
		t.off = true
		return
	}
	live := t.samples[0].Value.Uint64()
	var maxmem uint64
	if t.MaxMemory != nil {
		if m := t.MaxMemory(); m > 0 {
			maxmem = uint64(m)
		}
	}
	p := Percent(live, t.Ratio, t.Floor, maxmem)
	if p != t.last {
		debug.SetGCPercent(p)
		t.last = p
	}
}

// Percent returns the GC percent that puts the heap goal at live +
// max(ratio*live, floor), and no higher than maxmem (if not 0) as long as
// that leaves a few MB of headroom.
func Percent(live uint64, ratio float64, floor, maxmem uint64) int {
	if live == 0 {
		return 100 // nothing measured yet: Go's default
	}
	head := uint64(float64(live) * ratio)
	if head < floor {
		head = floor
	}
	if maxmem > 0 && live+head > maxmem {
		head = minHeadroom
		if maxmem > live+head {
			head = maxmem - live
		}
	}
	p := int((head*100 + live - 1) / live)
	if p > maxPercent {
		p = maxPercent
	}
	if p < 1 {
		p = 1
	}
	return p
}
