package commands

import (
	"bytes"
	"math"
	"math/big"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Blocking-command helpers shared by lists, sorted sets and streams.

const (
	errTimeoutNotFloat = "ERR timeout is not a float or out of range"
	errTimeoutNotInt   = "ERR timeout is not an integer or out of range"
	errTimeoutNegative = "ERR timeout is negative"
)

// parseTimeout parses a blocking command's timeout in seconds (fractional;
// 0 waits forever) as Redis 7.0's getTimeoutFromObjectOrReply does,
// writing the error reply on failure. It returns the deadline (zero:
// forever).
func parseTimeout(c *command.Ctx, arg []byte) (time.Time, bool) {
	ms, errText := timeoutMs(arg)
	if errText != "" {
		c.Error(errText)
		return time.Time{}, false
	}
	return timeoutDeadline(c, ms), true
}

// timeoutMs is getTimeoutFromObjectOrReply's arithmetic for a timeout in
// seconds: strtold, times 1000 and ceill in x87 long double (64-bit
// mantissa), then the cast to long long, whose overflow gives LLONG_MIN,
// reported as a negative timeout. It returns the milliseconds, or the
// error text.
func timeoutMs(arg []byte) (int64, string) {
	if n, ok := ParseInt(arg); ok && n >= 0 && n <= math.MaxInt64/1000 {
		return n * 1000, "" // the common case, exact
	}
	f, ok := parseRedisLongDouble(arg)
	if !ok || len(arg) >= 5*1024 { // string2ld's MAX_LONG_DOUBLE_CHARS
		return 0, errTimeoutNotFloat
	}
	var ms float64
	switch {
	case math.IsInf(f, 0) && bytes.ContainsAny(arg, "iI"): // inf, infinity
		ms = f
	case bytes.ContainsAny(arg, "xX"): // hexadecimal: exact in a double when it fits
		ms = math.Ceil(f * 1000)
	default:
		x, _, err := big.ParseFloat(string(arg), 10, 64, big.ToNearestEven)
		if err != nil {
			return 0, errTimeoutNotFloat
		}
		if x.Sign() != 0 {
			// strtold's ERANGE: past long double's range, or below its
			// smallest denormal (a result of 0)
			if e := x.MantExp(nil); e > 16384 || e < -16444 {
				return 0, errTimeoutNotFloat
			}
		}
		x.Mul(x, big.NewFloat(1000).SetPrec(64))
		if x.Sign() >= 0 || x.Cmp(big.NewFloat(-1)) > 0 {
			// ceill: a value in (-1, 0] becomes 0 (forever); a negative
			// one stays negative
			i, acc := x.Int(nil)
			if x.Sign() > 0 && acc == big.Below {
				i.Add(i, big.NewInt(1))
			}
			if !i.IsInt64() {
				return 0, errTimeoutNegative
			}
			return max(i.Int64(), 0), ""
		}
		return 0, errTimeoutNegative
	}
	if ms < 0 && ms > -1 {
		ms = 0
	}
	if ms < 0 || ms >= math.MaxInt64 || math.IsNaN(ms) {
		return 0, errTimeoutNegative
	}
	return int64(ms), ""
}

// timeoutDeadline is the deadline ms milliseconds from now (zero: forever,
// for 0). Redis 7.0 adds ms to the clock without an overflow check, and a
// client whose deadline overflows blocks until it is unblocked: so does
// one here, with a deadline that never comes (not zero: Redis counts it
// in clients_in_timeout_table).
func timeoutDeadline(c *command.Ctx, ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	if ms > math.MaxInt64-c.Now() {
		return time.UnixMilli(math.MaxInt64)
	}
	return time.UnixMilli(c.Now() + ms)
}

// parseTimeoutMs parses a timeout in milliseconds (XREAD BLOCK style).
func parseTimeoutMs(c *command.Ctx, arg []byte) (time.Time, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Error(errTimeoutNotInt)
		return time.Time{}, false
	}
	if n < 0 {
		c.Error(errTimeoutNegative)
		return time.Time{}, false
	}
	return timeoutDeadline(c, n), true
}

// canBlock reports whether the command may park its client: not from a
// script and not inside MULTI/EXEC, where blocking commands answer as on
// timeout.
func canBlock(c *command.Ctx) bool {
	return !c.InScript && c.Client != nil &&
		c.Client.Flags&(command.ClientMulti|command.ClientScript) == 0
}

// block asks the executor to park the client on keys (copied here),
// waiting for a value of type typ, until deadline; onTimeout writes the
// reply sent when it passes.
func block(c *command.Ctx, typ command.BlockType, keys [][]byte, deadline time.Time, onTimeout func(w resp.ReplyWriter)) {
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		ks[i] = Copy(k)
	}
	c.Block = &command.BlockRequest{Keys: ks, Deadline: deadline, OnTimeout: onTimeout, Type: typ}
}

func replyNullArray(w resp.ReplyWriter) { w.NullArray() }

// clientUnblock implements CLIENT UNBLOCK id [TIMEOUT|ERROR].
func (h *Handlers) clientUnblock(c *command.Ctx) {
	if len(c.Args) > 4 {
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try CLIENT HELP.")
		return
	}
	withErr := false
	if len(c.Args) == 4 {
		switch {
		case EqualFold(c.Args[3], "timeout"):
		case EqualFold(c.Args[3], "error"):
			withErr = true
		default:
			c.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if h.Exec.Unblock(id, withErr) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

// added wakes the clients blocked on key in c's database although it
// existed before, as XADD and XGROUP DESTROY signal them in Redis (a key
// added wakes them by itself: exec's keyAdded).
func (h *Handlers) added(c *command.Ctx, key []byte) {
	if h.Exec != nil {
		h.Exec.Wake(c, c.DB.Index(), key)
	}
}

// blockedStreams returns the keys of database db that clients wait on and
// that hold a stream, except those that hold a stream in database other
// too (-1: none). FLUSHDB, FLUSHALL and SWAPDB (other: the database
// swapped in) signal them as streams gone (Redis 7.0.15's
// scanDatabaseForDeletedStreams): an XREADGROUP blocked on one is
// unblocked with an error, and the waiters of whatever the key holds
// afterwards are served.
func (h *Handlers) blockedStreams(st *keyspace.Store, db, other int, now int64) []string {
	isStream := func(db int, k string) bool {
		if db < 0 {
			return false
		}
		e, ok := st.DB(db, now).Peek([]byte(k))
		if !ok {
			return false
		}
		_, s := e.Value().(*keyspace.Stream)
		return s
	}
	var out []string
	for _, k := range h.Exec.BlockedKeys(db) {
		if isStream(db, k) && !isStream(other, k) {
			out = append(out, k)
		}
	}
	return out
}
