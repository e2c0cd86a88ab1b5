package commands

import (
	"fmt"
	"math"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

func (h *Handlers) registerExpire() {
	t := h.Table
	t.Handle("expire", func(c *command.Ctx) { h.expireGeneric(c, c.Now(), 1000) })
	t.Handle("pexpire", func(c *command.Ctx) { h.expireGeneric(c, c.Now(), 1) })
	t.Handle("expireat", func(c *command.Ctx) { h.expireGeneric(c, 0, 1000) })
	t.Handle("pexpireat", func(c *command.Ctx) { h.expireGeneric(c, 0, 1) })
	t.Handle("ttl", func(c *command.Ctx) { h.ttlGeneric(c, false, false) })
	t.Handle("pttl", func(c *command.Ctx) { h.ttlGeneric(c, true, false) })
	t.Handle("expiretime", func(c *command.Ctx) { h.ttlGeneric(c, false, true) })
	t.Handle("pexpiretime", func(c *command.Ctx) { h.ttlGeneric(c, true, true) })
	t.Handle("persist", h.persist)
}

// Expire option errors.
const (
	errExpireNXXX = "ERR NX and XX, GT or LT options at the same time are not compatible"
	errExpireGTLT = "ERR GT and LT options at the same time are not compatible"
)

// expireGeneric is Redis's expireGenericCommand: basetime is added to the
// argument (0 for the *AT forms), scale converts it to milliseconds.
func (h *Handlers) expireGeneric(c *command.Ctx, basetime int64, scale int64) {
	key := c.Args[1]
	var nx, xx, gt, lt bool
	for _, opt := range c.Args[3:] {
		switch {
		case EqualFold(opt, "nx"):
			nx = true
		case EqualFold(opt, "xx"):
			xx = true
		case EqualFold(opt, "gt"):
			gt = true
		case EqualFold(opt, "lt"):
			lt = true
		default:
			c.Error("ERR Unsupported option " + string(opt))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.Error(errExpireNXXX)
		return
	}
	if gt && lt {
		c.Error(errExpireGTLT)
		return
	}
	when, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	badTime := func() { c.Error(fmt.Sprintf(ErrInvalidExp, c.Spec.Name)) }
	if scale == 1000 {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			badTime()
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-basetime {
		badTime()
		return
	}
	when += basetime
	cur, slot, found := c.DB.ExpirySlot(key) // cur 0: no expiry (Redis's -1)
	if !found {
		c.W.Int(0)
		return
	}
	switch {
	case nx && cur != 0,
		xx && cur == 0,
		gt && (cur == 0 || when <= cur),
		lt && cur != 0 && when >= cur:
		c.W.Int(0)
		return
	}
	// a time already passed deletes the key, except for the client
	// replaying an AOF (Redis's checkAlreadyExpired while loading): the
	// key keeps its time, and no key expires until the load ends
	if when <= c.Now() && (c.Client == nil || c.Client.Flags&command.ClientLoading == 0) {
		c.DB.DeleteLazy(key, keyspace.LazyExpire)
		c.Modified(key)
		c.Propagate = [][][]byte{{c.DB.Store().PropagatedDel(keyspace.LazyExpire), key}}
		c.Event('g', "del", key)
		c.W.Int(1)
		return
	}
	c.DB.SetExpireAt(slot, key, when)
	// Redis replies before it signals the key (expireGenericCommand): a
	// tracking invalidation for this client's output follows the reply
	c.W.Int(1)
	c.Modified(key)
	// propagate as PEXPIREAT with the absolute time, options kept
	c.Propagate = pexpireAt(c.Args, when)
	c.Event('g', "expire", key)
}

// pexpireProp is what EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT without
// options propagate (PEXPIREAT key ms), built in one allocation.
type pexpireProp struct {
	cmds [1][][]byte
	args [3][]byte
	name [9]byte
	when [20]byte // an int64 in decimal
}

// pexpireAt returns the effect of an expire command with arguments args
// that set the absolute expiry when (ms): PEXPIREAT with args' key and
// options. The result shares only the key and options with args.
func pexpireAt(args [][]byte, when int64) [][][]byte {
	if len(args) == 3 {
		p := new(pexpireProp)
		copy(p.name[:], "PEXPIREAT")
		p.args = [3][]byte{p.name[:], args[1], strconv.AppendInt(p.when[:0], when, 10)}
		p.cmds[0] = p.args[:]
		return p.cmds[:]
	}
	p := make([][]byte, len(args))
	copy(p, args)
	p[0] = []byte("PEXPIREAT")
	p[2] = strconv.AppendInt(nil, when, 10)
	return [][][]byte{p}
}

// ttlGeneric serves TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func (h *Handlers) ttlGeneric(c *command.Ctx, ms, abs bool) {
	e, found := c.DB.LookupNoTouch(c.Args[1]) // Redis's LOOKUP_NOTOUCH
	if !found {
		c.W.Int(-2)
		return
	}
	if e.Exp == 0 {
		c.W.Int(-1)
		return
	}
	ttl := e.Exp
	if !abs {
		// the clock now, as Redis's mstime(): inside a script too, where
		// the key's existence follows the script's frozen time (so a key
		// that expired meanwhile shows 0)
		ttl -= h.Exec.Now()
	}
	if ttl < 0 {
		ttl = 0
	}
	if !ms {
		// unsigned, so that the rounding cannot overflow (ttl >= 0)
		ttl = int64((uint64(ttl) + 500) / 1000)
	}
	c.W.Int(ttl)
}

func (h *Handlers) persist(c *command.Ctx) {
	key := c.Args[1]
	e, found := c.DB.Lookup(key)
	if !found || e.Exp == 0 {
		c.W.Int(0)
		return
	}
	c.DB.SetExpire(key, 0)
	c.Modified(key)
	c.Event('g', "persist", key)
	c.W.Int(1)
}
