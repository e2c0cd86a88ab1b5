package exec

import (
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/procid"
)

// stripes is how many cache lines a per-command counter is spread over.
const stripes = 4

// Stripe returns the stripe the caller counts in: its processor's
// (procid.Slot), so that two cores counting commands write different
// cache lines. Any connection may be served by any event-loop worker, so
// a client's id says nothing of the core (it did when each loop owned its
// connections); nor does a script's client, whose id is 1 for every
// script (docs/design/concurrency.md, "Shared lines").
func Stripe() int { return procid.Slot() & (stripes - 1) }

// Counter is an int64 counter written by every command: spread over
// stripes cache lines (see Stripe) so that two cores counting commands
// do not pass one line back and forth. Load sums the stripes.
type Counter struct {
	_ [56]byte // no other field shares a stripe's line
	s [stripes]struct {
		n atomic.Int64
		_ [56]byte
	}
}

// Add adds n (to the first stripe).
func (c *Counter) Add(n int64) { c.s[0].n.Add(n) }

// AddAt adds n to stripe i (from Stripe: a caller with several counts to
// make reads its stripe once).
func (c *Counter) AddAt(i int, n int64) { c.s[i&(stripes-1)].n.Add(n) }

// AddHere adds n to the caller's stripe.
func (c *Counter) AddHere(n int64) { c.s[Stripe()].n.Add(n) }

// Load returns the total.
func (c *Counter) Load() int64 {
	var t int64
	for i := range c.s {
		t += c.s[i].n.Load()
	}
	return t
}

// Reset sets the counter to zero (CONFIG RESETSTAT). Adds that race with
// it may survive it.
func (c *Counter) Reset() {
	for i := range c.s {
		c.s[i].n.Store(0)
	}
}
