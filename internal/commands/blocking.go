package commands

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// Blocking-command helpers shared by lists, sorted sets and streams.

const (
	errTimeoutNotFloat = "ERR timeout is not a float or out of range"
	errTimeoutNotInt   = "ERR timeout is not an integer or out of range"
	errTimeoutNegative = "ERR timeout is negative"
	errTimeoutRange    = "ERR timeout is out of range"
)

// parseTimeout parses a blocking command's timeout in seconds (fractional;
// 0 waits forever) as Redis's getTimeoutFromObjectOrReply does, writing the
// error reply on failure. It returns the deadline (zero: forever).
func parseTimeout(c *command.Ctx, arg []byte) (time.Time, bool) {
	f, ok := parseLongDoubleArg(arg)
	if !ok {
		c.Error(errTimeoutNotFloat)
		return time.Time{}, false
	}
	ms := f * 1000
	if ms < 0 && ms > -1 {
		ms = 0 // (long long) truncates towards zero
	}
	// (long long) of a value out of range is LLONG_MIN on x86: negative
	if ms < 0 || ms >= math.MaxInt64 || math.IsInf(ms, 0) {
		c.Error(errTimeoutNegative)
		return time.Time{}, false
	}
	n := int64(ms)
	if n == 0 {
		return time.Time{}, true
	}
	if n > math.MaxInt64-c.Now() {
		c.Error(errTimeoutRange)
		return time.Time{}, false
	}
	return time.UnixMilli(c.Now() + n), true
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
	if n == 0 {
		return time.Time{}, true
	}
	if n > math.MaxInt64-c.Now() {
		c.Error(errTimeoutRange)
		return time.Time{}, false
	}
	return time.UnixMilli(c.Now() + n), true
}

// parseLongDoubleArg parses a float argument as strtold does in
// string2ld: no spaces, no NaN.
func parseLongDoubleArg(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' || b[0] == '\t' {
		return 0, false
	}
	s := string(b)
	if strings.ContainsAny(s, "_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// canBlock reports whether the command may park its client: not from a
// script and not inside MULTI/EXEC, where blocking commands answer as on
// timeout.
func canBlock(c *command.Ctx) bool {
	return !c.InScript && c.Client != nil &&
		c.Client.Flags&(command.ClientMulti|command.ClientScript) == 0
}

// block asks the executor to park the client on keys (copied here) until
// deadline; onTimeout writes the reply sent when it passes.
func block(c *command.Ctx, keys [][]byte, deadline time.Time, onTimeout func(w resp.ReplyWriter)) {
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		ks[i] = Copy(k)
	}
	c.Block = &command.BlockRequest{Keys: ks, Deadline: deadline, OnTimeout: onTimeout}
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
