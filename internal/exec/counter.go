package exec

import (
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
)

// stripes is how many cache lines a per-command counter is spread over.
const stripes = 4

// stripeOf is the stripe a client's commands count in: clients served on
// different cores (event loops) mostly write different cache lines, and a
// pipelined batch writes one line per counter, however many commands it
// holds.
func stripeOf(cl *command.Client) int {
	if cl == nil {
		return 0
	}
	return int(cl.ID) & (stripes - 1)
}

// Counter is an int64 counter written by every command: spread over
// stripes cache lines (see stripeOf) so that two cores counting commands
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

// AddFor adds n to cl's stripe.
func (c *Counter) AddFor(cl *command.Client, n int64) { c.s[stripeOf(cl)].n.Add(n) }

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
