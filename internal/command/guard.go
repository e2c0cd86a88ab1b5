package command

import "github.com/crescent-db/crescent/internal/resp"

// ReplyGuard stops a loop whose reply grows with a count (a negative
// count of SRANDMEMBER, HRANDFIELD or ZRANDMEMBER, KEYS, and arguments
// that repeat a value: MGET, HMGET, SORT's GET, XREAD, COMMAND INFO)
// before the reply exhausts memory: as Redis's loops break once their
// client is marked CLIENT_CLOSE_ASAP, Stop reports a client that passed
// its output buffer limit (the server closes it after the command, as for
// any reply over the limit) or whose reply is dropped (CLIENT REPLY OFF),
// and, with a bound, a reply that grew past it (no limit set: the reply is
// cut and replaced by an error). It costs a length compare per element;
// the server is asked only as the reply grows by a step
// (resp.Writer.Check).
type ReplyGuard struct {
	w     *resp.Writer // nil: not the connection's writer (a script's)
	start int          // where the reply begins in w.Buf
	max   int64        // bound of the reply's bytes; 0: none
}

// ReplyGuard returns a guard for the reply about to be written, bounded by
// max bytes (0: only the client's output limit stops it). For a reply that
// is not the connection's (redis.call's, converted to Lua values) only
// Refuse applies the bound: the script's memory budget covers the rest.
func (c *Ctx) ReplyGuard(max int) ReplyGuard {
	w, _ := c.W.(*resp.Writer)
	if w == nil {
		return ReplyGuard{max: int64(max)}
	}
	return ReplyGuard{w: w, start: w.Arm(), max: int64(max)}
}

// Stop reports whether the loop must stop: the client is over its output
// limit, or the reply passed the guard's bound, in which case the reply
// written so far is replaced by the error msg.
func (g *ReplyGuard) Stop(c *Ctx, msg string) bool {
	if g.w == nil || !g.w.Due() {
		return false
	}
	if g.w.Check() {
		return true
	}
	if g.max > 0 && int64(g.w.Len()-g.start) > g.max {
		g.w.Truncate(g.start)
		c.Error(msg)
		return true
	}
	return false
}

// Over reports whether a loop whose reply is bounded by the data (LRANGE,
// HGETALL, SMEMBERS, ZRANGE, XRANGE, SCAN...) must stop: the client passed
// its output limit (it is closed after the command) or its reply is
// dropped, as Redis adds nothing to a reply once its client is to be
// closed. Such a loop has no bound of its own; it costs a length compare
// per element. A nil guard never stops.
func (g *ReplyGuard) Over() bool {
	return g != nil && g.w != nil && g.w.Due() && g.check()
}

// check is Over's step past a check point, kept out of line so that Over
// inlines into the loops.
//
//go:noinline
func (g *ReplyGuard) check() bool { return g.w.Check() }

// Refuse writes the error msg at once, and reports it, when a reply of at
// least least bytes must pass the guard's bound before anything else
// stops it: the client has no output limit under the bound (a lower one
// closes the client first, as in Redis, so the loop runs to it). Stop
// would give the same error after building the bound's bytes. A script's
// call is refused by the bound alone: its reply becomes a Lua table
// (redis.call('HRANDFIELD', k, -2^31+1) built one of 2^31 entries).
func (g *ReplyGuard) Refuse(c *Ctx, least int64, msg string) bool {
	if g.max == 0 || least <= g.max {
		return false
	}
	if g.w != nil && g.w.Limit != nil {
		if l := g.w.Limit(); l > 0 && l < g.max {
			return false
		}
	}
	c.Error(msg)
	return true
}
