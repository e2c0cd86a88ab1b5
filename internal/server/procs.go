package server

import (
	"math"
	"time"
)

// procGovernor adapts the number of Ps (GOMAXPROCS) to the load, between
// 1 and the count the process started with (docs/design/concurrency.md,
// "Adaptive processor count").
//
// A second P costs the event loops CPU and latency whenever one core's
// worth of work is all there is: each readiness wakes a thread instead of
// a goroutine, and the runtime's idle Ps search for work. Measured on the
// 2-core VM with redis-benchmark (50 clients, unpipelined), a server with
// one P served ZADD 13% faster, EVALSHA 5% and GET 4%, and SET -P16
// faster as well; but pipelined scripts ran 35% slower, because there the
// second core has room and the scripts on different keys run in parallel.
// The governor tells the two apart by what the machine has left: it adds
// Ps when the ones it has are busy and the machine has idle CPU, and takes
// them away when the process uses little more than half of them.
//
// next is the decision, a pure function of the samples, so that the
// tests drive it with made-up ones; the sampling (process CPU from
// getrusage, machine idle from the CPUs' cpuidle states or /proc/stat)
// is in procs_linux.go.
type procGovernor struct {
	max int // the Ps the process started with (the upper bound)
	// low counts consecutive windows below the down threshold.
	low int
	// upAt is when the count last went up (ns, any clock the samples
	// share); holdUntil is the earliest time it may go up again, and hold
	// the current back-off: a count that went up and had to come down
	// within flapWindow waits hold (doubling up to maxHold) before it
	// tries again.
	upAt, holdUntil int64
	hold            time.Duration
	// upRun counts consecutive samples that would add Ps (procUpSamples)
	upRun int
}

// procSample is one window's measurement.
type procSample struct {
	now  int64         // end of the window (ns)
	wall time.Duration // the window's length
	cpu  time.Duration // CPU the process used in the window (user + system)
	idle float64       // idle CPU of the machine in the window, in cores
	// exact: idle is from the CPUs' idle states (µs), not 10 ms ticks
	exact bool
}

// procWindow is the governor's sampling period: short, so that a burst of
// scripts gets its cores back within one or two windows; /proc/stat counts
// in 10 ms ticks, which over 50 ms on 2 CPUs measures idle CPU to about
// 0.2 cores, enough for procUpIdle (a wrong guess costs a few windows).
const procWindow = 50 * time.Millisecond

const (
	// procUpBusy: the process uses at least this share of its Ps...
	procUpBusy = 0.85
	// procUpIdle: ...and the machine has at least this many idle cores:
	// then it gets twice the Ps (at most max).
	procUpIdle = 0.5
	// procDownBusy: the process uses less than this share of its Ps for
	// procDownWindows windows in a row (200 ms): then it gets half of them. At 2
	// Ps that is 1.15 cores, above what one P can give (about 1), so a
	// load that fits one P is moved to one, and one that needs two stays.
	procDownBusy    = 0.575
	procDownWindows = 4
	// flapWindow, minHold, maxHold: the back-off when going up did not
	// pay (the count came down again soon after).
	flapWindow = time.Second
	minHold    = time.Second
	maxHold    = 30 * time.Second
	// procIdleBusy: a window where the process used less than this many
	// cores ends a load; the back-off starts again from nothing.
	procIdleBusy = 0.05
	// procPokeMin: the shortest window a loop's request for more Ps is
	// measured over; procPokeIdle: the idle cores it needs. Over 20 ms
	// /proc/stat has two ticks per CPU, so idle comes in half-core steps
	// on 2 CPUs: 0.9 asks for two idle ticks (a client of a steady
	// unpipelined load, busy most of the other core, rarely leaves them;
	// a pipelined burst's leaves them within a few tries).
	// procPokeIdleExact is procPokeIdle when the idle time is exact
	// (cpuidle, procSample.exact): over 20 ms at one P, an unpipelined
	// EVALSHA load left 0.09 idle cores at the median, 0.50 at the 99th
	// percentile; a pipelined one 0.70, 0.56 at the 10th.
	procPokeMin       = 20 * time.Millisecond
	procPokeIdle      = 0.9
	procPokeIdleExact = 0.6
	// procUpSamples: the consecutive samples (windows or looks) that must
	// show busy Ps and idle CPU before Ps are added. An unpipelined load
	// at one P leaves 0.6 idle cores in about one 20 ms window in a
	// hundred, so with one sample the governor tried a second P about
	// once per 2 s benchmark run, and the 200 ms at two Ps that followed
	// (slower there, and the switches' stops) put its p99 above Redis's;
	// a pipelined load leaves that much in most windows, so a second
	// look, 20 ms later, costs it little.
	procUpSamples = 2
)

// next returns the P count for the next window, given the current count
// and the last window's sample.
func (g *procGovernor) next(cur int, s procSample) int {
	if s.wall <= 0 {
		return cur
	}
	busy := float64(s.cpu) / float64(s.wall) // cores used
	if busy < procIdleBusy {
		// the load ended: the next one starts without the back-off
		g.hold, g.holdUntil = 0, 0
	}
	if n := g.upIf(cur, s, procUpIdle); n != cur {
		return n
	}
	if cur > 1 && busy < procDownBusy*float64(cur) {
		g.low++
		if g.low < procDownWindows {
			return cur
		}
		g.low = 0
		if g.upAt != 0 && s.now-g.upAt < int64(flapWindow) {
			g.hold = min(max(2*g.hold, minHold), maxHold)
			g.holdUntil = s.now + int64(g.hold)
		} else {
			g.hold = 0
		}
		return max(1, cur/2)
	}
	g.low = 0
	return cur
}

// up returns twice cur (at most max) when a short sample shows the Ps busy
// and the machine with idle CPU (procPokeIdle, procPokeIdleExact), as the
// sample before it did (procUpSamples), and no back-off holds; else cur. The event loops ask for it between windows (Server.procPoke)
// when a worker at one P takes a whole batch: a burst then gets its Ps
// within a few tens of milliseconds instead of one or two windows.
func (g *procGovernor) up(cur int, s procSample) int {
	if s.exact {
		return g.upIf(cur, s, procPokeIdleExact)
	}
	return g.upIf(cur, s, procPokeIdle)
}

// pokeAt returns from when (ns, the samples' clock) a loop may ask for a
// look (Server.procPokeAt), the count being cur after a sample at now: a
// window of procPokeMin later, and not before the back-off ends; never at
// the most Ps, where a look could not add any.
func (g *procGovernor) pokeAt(cur int, now int64) int64 {
	if cur >= g.max {
		return math.MaxInt64
	}
	return max(now+int64(procPokeMin), g.holdUntil)
}

// upIf is up with idle as the idle cores needed.
func (g *procGovernor) upIf(cur int, s procSample, idle float64) int {
	if s.wall <= 0 || cur >= g.max || s.now < g.holdUntil {
		g.upRun = 0
		return cur
	}
	busy := float64(s.cpu) / float64(s.wall)
	if busy < procUpBusy*float64(cur) || s.idle < idle {
		g.upRun = 0
		return cur
	}
	if g.upRun++; g.upRun < procUpSamples {
		return cur
	}
	g.upRun = 0
	g.low = 0
	g.upAt = s.now
	return min(g.max, cur*2)
}
