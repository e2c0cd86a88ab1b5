package exec

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
)

// HistBuckets is the number of latency histogram buckets.
const HistBuckets = 36

// Histogram is a per-command latency histogram with the buckets Redis's
// LATENCY HISTOGRAM reports: its hdr histogram (2 significant figures, in
// ns) iterated in powers of two from 1024 ns. Bucket i holds calls of at
// most BoundNS(i) nanoseconds. Recording is one atomic add.
type Histogram struct {
	b [stripes][HistBuckets]atomic.Int64 // by stripe (counter.go), summed when read
}

// BoundNS is the upper bound of bucket i in nanoseconds: the highest value
// equivalent to 1024<<i in an hdr histogram of 2 significant figures.
func BoundNS(i int) int64 { return 1024<<i + 8<<i - 1 }

// BoundUsec is bucket i's bound as LATENCY HISTOGRAM prints it.
func BoundUsec(i int) int64 { return BoundNS(i) / 1000 }

// BucketOf returns the bucket of a call of usec microseconds (Redis
// records at least 1024 ns).
func BucketOf(usec int64) int {
	ns := usec * 1000
	if ns <= 1024 {
		return 0
	}
	i := bits.Len64(uint64(ns-1)) - 10 // smallest i with 1024<<i >= ns
	if i > 0 && ns <= BoundNS(i-1) {
		i--
	}
	if i >= HistBuckets {
		i = HistBuckets - 1
	}
	return i
}

// Record adds one call of usec microseconds, in the caller's stripe.
func (h *Histogram) Record(usec int64) { h.RecordAt(Stripe(), usec) }

// RecordAt is Record in stripe i (see Stripe).
func (h *Histogram) RecordAt(i int, usec int64) {
	h.b[i&(stripes-1)][BucketOf(usec)].Add(1)
}

// Counts returns the per-bucket counts (not cumulative).
func (h *Histogram) Counts() [HistBuckets]int64 {
	var out [HistBuckets]int64
	for s := range h.b {
		for i := range h.b[s] {
			out[i] += h.b[s][i].Load()
		}
	}
	return out
}

// Percentile returns the bound, in microseconds, of the bucket holding
// the p-th percentile (0 when empty): an upper estimate, as hdr's
// highest equivalent value is.
func (h *Histogram) Percentile(p float64) float64 {
	c := h.Counts()
	var total int64
	for _, n := range c {
		total += n
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(p / 100 * float64(total)))
	if want < 1 {
		want = 1
	}
	var acc int64
	for i, n := range c {
		acc += n
		if acc >= want {
			return float64(BoundNS(i)) / 1000
		}
	}
	return float64(BoundNS(HistBuckets-1)) / 1000
}

// recordCall updates c's command statistics after its handler ran and
// hands it to Observe.
func (e *Executor) recordCall(c *command.Ctx, start int64) {
	e.recordDur(c, time.Duration(e.clock.read()-start), nil)
}

// recordDur is recordCall for a call that took d; st is c.Spec's
// statistics record when the caller has it (nil: StatFor).
func (e *Executor) recordDur(c *command.Ctx, d time.Duration, st *Stat) {
	usec := int64(d / time.Microsecond)
	if st == nil {
		st = e.StatFor(c.Spec)
	}
	if c.Retry || c.Block != nil {
		e.recordBlocking(c, usec, st)
	} else {
		sl := Stripe()
		switch {
		case c.Rejected:
			st.RejectedCalls.AddAt(sl, 1)
		case c.Failed:
			st.FailedCalls.AddAt(sl, 1)
			fallthrough
		default:
			st.Calls.AddAt(sl, 1)
		}
		if usec != 0 { // most fast commands take less than a microsecond
			st.Usec.AddAt(sl, usec)
		}
		st.Hist.RecordAt(sl, usec)
		e.TotalCmds.AddAt(sl, 1)
	}
	if f := e.Observe; f != nil {
		f(c, d)
	}
}

// recordBlocking is recordDur for a blocking command that blocks (Block
// set) or runs again when woken (Retry), counted as Redis 7.0 counts it:
// one call and one total_commands_processed when it blocks (call()), its
// failure or rejection and its latency sample when it ends
// (updateStatsOnUnblock); a run that blocks again counts nothing but its
// time.
func (e *Executor) recordBlocking(c *command.Ctx, usec int64, st *Stat) {
	sl := Stripe()
	switch {
	case !c.Retry:
		st.Calls.AddAt(sl, 1)
		e.TotalCmds.AddAt(sl, 1)
	case c.Block != nil: // still blocked
	case c.Rejected:
		st.RejectedCalls.AddAt(sl, 1)
	case c.Failed:
		st.FailedCalls.AddAt(sl, 1)
	}
	if usec != 0 {
		st.Usec.AddAt(sl, usec)
	}
	if c.Retry && c.Block == nil {
		st.Hist.RecordAt(sl, usec)
	}
}

// clientTouch returns cl's modification hook: the WATCH chain (Touched),
// then TouchedBy naming cl as the modifier. It is built
// once per client.
func (e *Executor) clientTouch(cl *command.Client) func(db int, key []byte) {
	if cl.Touch == nil {
		cl.Touch = func(db int, key []byte) {
			// e.touchFn's body, one indirect call less per modified key
			if f := e.Touched; f != nil {
				f(db, key)
			}
			if f := e.TouchedBy; f != nil {
				f(cl, db, key)
			}
		}
	}
	return cl.Touch
}

// touchedNoClient signals a modification made by the server itself
// (eviction, expiry) to ServerTouched: cur is the client whose command
// caused it (nil: none), running whether that command runs already (a
// lookup's expiry) or not yet (maxmemory eviction before it).
func (e *Executor) touchedNoClient(cur *command.Client, running bool, db int, key []byte) {
	if f := e.ServerTouched; f != nil {
		f(cur, running, db, key)
	}
}
