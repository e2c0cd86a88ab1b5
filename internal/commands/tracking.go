package commands

// Client-side caching: CLIENT TRACKING / CACHING / GETREDIR /
// TRACKINGINFO and the invalidation messages, as Redis 7.0's tracking.c.
// The table maps key names (in every database, as Redis) to the clients
// that read them; a modified key is invalidated once and forgotten.

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// trackState is one tracking client's mode.
type trackState struct {
	cl       *command.Client
	sink     pubsub.Sink
	redirect int64
	bcast    bool
	optin    bool
	optout   bool
	noloop   bool
	prefixes []string
	caching  atomic.Int32 // CLIENT CACHING: 0 unset, 1 yes, 2 no
	broken   atomic.Bool  // redirect client gone
}

type tracker struct {
	mu      sync.Mutex
	clients map[int64]*trackState
	table   map[string]map[int64]struct{}
	items   int
	bcast   map[string]map[int64]*trackState // prefix -> clients
	n       atomic.Int32                     // tracking clients
}

func (t *tracker) init() {
	t.clients = map[int64]*trackState{}
	t.table = map[string]map[int64]struct{}{}
	t.bcast = map[string]map[int64]*trackState{}
}

func (h *Handlers) registerTracking() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("client|tracking", h.clientTracking, none)
	t.Handle("client|trackinginfo", h.clientTrackingInfo, none)
	t.Handle("client|caching", h.clientCaching, none)
	t.Handle("client|getredir", h.clientGetRedir, none)
}

func (h *Handlers) trackingOf(cl *command.Client) *trackState {
	t := &h.ops.tr
	if t.n.Load() == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.clients[cl.ID]
}

// TrackingFlags returns CLIENT LIST's tracking flags of cl (t, B, R) and
// its redir field (-1 when not tracking).
func (h *Handlers) TrackingFlags(cl *command.Client) (string, int64) {
	st := h.trackingOf(cl)
	if st == nil {
		return "", -1
	}
	f := "t"
	if st.broken.Load() {
		f += "R"
	}
	if st.bcast {
		f += "B"
	}
	return f, st.redirect
}

func (h *Handlers) clientTracking(c *command.Ctx) {
	on := false
	switch {
	case EqualFold(c.Args[2], "on"):
		on = true
	case EqualFold(c.Args[2], "off"):
	default:
		c.Error(ErrSyntax)
		return
	}
	st := &trackState{cl: c.Client}
	for i := 3; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		switch {
		case EqualFold(c.Args[i], "redirect") && more >= 1:
			i++
			id, err := strconv.ParseInt(string(c.Args[i]), 10, 64)
			if err != nil {
				c.Error(ErrNotInt)
				return
			}
			if id == c.Client.ID {
				// redirecting to self is allowed in Redis only via 0
				st.redirect = 0
				continue
			}
			if !h.clientExists(id) {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			st.redirect = id
		case EqualFold(c.Args[i], "bcast"):
			st.bcast = true
		case EqualFold(c.Args[i], "optin"):
			st.optin = true
		case EqualFold(c.Args[i], "optout"):
			st.optout = true
		case EqualFold(c.Args[i], "noloop"):
			st.noloop = true
		case EqualFold(c.Args[i], "prefix") && more >= 1:
			i++
			st.prefixes = append(st.prefixes, string(c.Args[i]))
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	t := &h.ops.tr
	if !on {
		h.trackingOff(c.Client)
		c.W.OK()
		return
	}
	t.mu.Lock()
	old := t.clients[c.Client.ID]
	t.mu.Unlock()
	if old != nil && old.bcast != st.bcast {
		c.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	if len(st.prefixes) > 0 && !st.bcast {
		c.Error("ERR PREFIX option requires BCAST mode to be enabled")
		return
	}
	if old != nil && (old.optin != st.optin || old.optout != st.optout) && (old.optin || old.optout) {
		c.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	if st.optin && st.optout {
		c.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
		return
	}
	if (st.optin || st.optout) && st.bcast {
		c.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	}
	if st.bcast {
		all := st.prefixes
		if old != nil {
			all = append(append([]string(nil), old.prefixes...), st.prefixes...)
		}
		if msg := checkPrefixes(st.prefixes, all); msg != "" {
			c.Error(msg)
			return
		}
	}
	if h.ops.sinks != nil {
		st.sink = h.ops.sinks(c.Client.ID)
	}
	t.mu.Lock()
	if old != nil {
		// re-enabling keeps the mode; prefixes accumulate, options update
		st.prefixes = append(append([]string(nil), old.prefixes...), st.prefixes...)
		st.prefixes = uniqStrings(st.prefixes)
		if old.optin || old.optout {
			st.optin, st.optout = old.optin, old.optout
		}
	}
	if st.bcast && len(st.prefixes) == 0 {
		st.prefixes = []string{""}
	}
	t.clients[c.Client.ID] = st
	for _, p := range st.prefixes {
		m := t.bcast[p]
		if m == nil {
			m = map[int64]*trackState{}
			t.bcast[p] = m
		}
		m[c.Client.ID] = st
	}
	t.n.Store(int32(len(t.clients)))
	t.mu.Unlock()
	c.W.OK()
}

func uniqStrings(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// checkPrefixes rejects overlapping prefixes (one a prefix of another) as
// Redis's checkPrefixCollisionsOrReply.
func checkPrefixes(added, all []string) string {
	for i, p := range added {
		for j, q := range all {
			if p == q {
				continue
			}
			if j < len(all)-len(added) || j-(len(all)-len(added)) != i {
				if len(p) <= len(q) && q[:len(p)] == p || len(q) < len(p) && p[:len(q)] == q {
					a, b := p, q
					if j < len(all)-len(added) {
						return "ERR Prefix '" + a + "' overlaps with an existing prefix '" + b + "'. Prefixes for a single client must not overlap."
					}
					return "ERR Prefix '" + a + "' overlaps with another provided prefix '" + b + "'. Prefixes for a single client must not overlap."
				}
			}
		}
	}
	return ""
}

func (h *Handlers) clientExists(id int64) bool {
	for _, cl := range h.Server.ClientList() {
		if cl.ID == id {
			return true
		}
	}
	return false
}

// trackingOff disables tracking for cl (CLIENT TRACKING OFF, RESET, close).
func (h *Handlers) trackingOff(cl *command.Client) {
	t := &h.ops.tr
	if t.n.Load() == 0 {
		return
	}
	t.mu.Lock()
	if st := t.clients[cl.ID]; st != nil {
		delete(t.clients, cl.ID)
		for _, p := range st.prefixes {
			if m := t.bcast[p]; m != nil {
				delete(m, cl.ID)
				if len(m) == 0 {
					delete(t.bcast, p)
				}
			}
		}
	}
	t.n.Store(int32(len(t.clients)))
	t.mu.Unlock()
}

func (h *Handlers) clientTrackingInfo(c *command.Ctx) {
	st := h.trackingOf(c.Client)
	c.W.Map(3)
	c.W.BulkString("flags")
	var flags []string
	redir := int64(-1)
	var prefixes []string
	if st == nil {
		flags = []string{"off"}
	} else {
		flags = append(flags, "on")
		if st.bcast {
			flags = append(flags, "bcast")
		}
		if st.optin {
			flags = append(flags, "optin")
			if st.caching.Load() == 1 {
				flags = append(flags, "caching-yes")
			}
		}
		if st.optout {
			flags = append(flags, "optout")
			if st.caching.Load() == 2 {
				flags = append(flags, "caching-no")
			}
		}
		if st.noloop {
			flags = append(flags, "noloop")
		}
		if st.broken.Load() {
			flags = append(flags, "broken_redirect")
		}
		redir = st.redirect
		if st.bcast {
			for _, p := range st.prefixes {
				prefixes = append(prefixes, p)
			}
		}
	}
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("redirect")
	c.W.Int(redir)
	c.W.BulkString("prefixes")
	c.W.Array(len(prefixes))
	for _, p := range prefixes {
		c.W.BulkString(p)
	}
}

func (h *Handlers) clientCaching(c *command.Ctx) {
	st := h.trackingOf(c.Client)
	if st == nil || !st.optin && !st.optout {
		c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case EqualFold(c.Args[2], "yes"):
		if !st.optin {
			c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
		st.caching.Store(1)
	case EqualFold(c.Args[2], "no"):
		if !st.optout {
			c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
		st.caching.Store(2)
	default:
		c.Error(ErrSyntax)
		return
	}
	c.W.OK()
}

func (h *Handlers) clientGetRedir(c *command.Ctx) {
	st := h.trackingOf(c.Client)
	if st == nil {
		c.W.Int(-1)
		return
	}
	c.W.Int(st.redirect)
}

// trackObserve runs after each command while some client tracks: a read
// command's keys are remembered for its client (for redis.call, the
// script's caller), honouring OPTIN/OPTOUT and CLIENT CACHING.
func (h *Handlers) trackObserve(c *command.Ctx) {
	cl := c.Client
	if c.InScript {
		if cl = cl.Caller; cl == nil {
			return
		}
	}
	st := h.trackingOf(cl)
	if st == nil {
		return
	}
	name := c.Spec.Name
	if c.Spec.Has(command.FlagReadOnly) && !st.bcast && name != "eval_ro" && name != "evalsha_ro" && name != "fcall_ro" {
		caching := st.caching.Load()
		if !(st.optin && caching != 1 || st.optout && caching == 2) {
			var kb [8]int
			t := &h.ops.tr
			keys := c.Spec.KeysInto(c.Args, kb[:0])
			t.mu.Lock()
			for _, k := range keys {
				if k >= len(c.Args) {
					continue
				}
				key := string(c.Args[k])
				m := t.table[key]
				if m == nil {
					m = map[int64]struct{}{}
					t.table[key] = m
				}
				if _, ok := m[cl.ID]; !ok {
					m[cl.ID] = struct{}{}
					t.items++
				}
			}
			t.mu.Unlock()
		}
	}
	// CLIENT CACHING applies to the next command only (all of a MULTI)
	if !c.InScript && cl.Flags&command.ClientMulti == 0 && name != "client|caching" && st.caching.Load() != 0 {
		st.caching.Store(0)
	}
}

// trackTouched is the executor's TouchedBy hook: key was modified by by
// (nil for expiry and eviction). Clients that read it get an invalidation
// (but not by itself with NOLOOP), and so do BCAST clients with a
// matching prefix.
func (h *Handlers) trackTouched(by *command.Client, db int, key []byte) {
	if h.ops.tr.n.Load() != 0 { // small enough to inline: no call when nobody tracks
		h.trackInvalidate(by, key)
	}
}

// trackInvalidate is trackTouched when some client tracks keys.
func (h *Handlers) trackInvalidate(by *command.Client, key []byte) {
	t := &h.ops.tr
	var targets []*trackState
	t.mu.Lock()
	if m := t.table[string(key)]; m != nil {
		for id := range m {
			if st := t.clients[id]; st != nil && !st.bcast {
				targets = append(targets, st)
			}
		}
		t.items -= len(m)
		delete(t.table, string(key))
	}
	for p, m := range t.bcast {
		if bytes.HasPrefix(key, []byte(p)) {
			for _, st := range m {
				targets = append(targets, st)
			}
		}
	}
	t.mu.Unlock()
	for _, st := range targets {
		if st.noloop && by != nil && by.ID == st.cl.ID {
			continue
		}
		h.sendInvalidation(st, key, false)
	}
}

// trackingFlush sends every tracking client the null invalidation of
// FLUSHALL / FLUSHDB and forgets the table.
// TrackingFlush tells every client-side caching client that all keys
// changed, as FLUSHALL does (a replica replacing its dataset).
func (h *Handlers) TrackingFlush() { h.trackingFlush() }

func (h *Handlers) trackingFlush() {
	t := &h.ops.tr
	if t.n.Load() == 0 {
		return
	}
	t.mu.Lock()
	targets := make([]*trackState, 0, len(t.clients))
	for _, st := range t.clients {
		targets = append(targets, st)
	}
	t.table = map[string]map[int64]struct{}{}
	t.items = 0
	t.mu.Unlock()
	for _, st := range targets {
		h.sendInvalidation(st, nil, true)
	}
}

// TrackingStats returns INFO's tracking_clients, tracking_total_keys,
// tracking_total_items and tracking_total_prefixes.
func (h *Handlers) TrackingStats() (clients, keys, items, prefixes int) {
	t := &h.ops.tr
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients), len(t.table), t.items, len(t.bcast)
}

const trackingChannel = "__redis__:invalidate"

// sendInvalidation delivers an invalidation of key (null: a flush) to st's
// client, or to its redirection: a RESP3 push "invalidate", or in RESP2 a
// message on __redis__:invalidate when the redirection target is
// subscribed. A RESP2 client without redirection gets nothing, as in
// Redis.
func (h *Handlers) sendInvalidation(st *trackState, key []byte, null bool) {
	sink := st.sink
	redirected := st.redirect > 0
	if redirected {
		sink = nil
		if h.ops.sinks != nil {
			sink = h.ops.sinks(st.redirect)
		}
		if sink == nil {
			st.broken.Store(true)
			var b []byte
			b = append(b, ">2\r\n$21\r\ntracking-redir-broken\r\n:"...)
			b = strconv.AppendInt(b, st.redirect, 10)
			b = append(b, '\r', '\n')
			if st.sink != nil {
				st.sink.Deliver(pubsub.NewDual(nil, b))
			}
			return
		}
	}
	if sink == nil {
		return
	}
	var r2, r3 []byte
	r3 = append(r3, ">2\r\n$10\r\ninvalidate\r\n"...)
	if null {
		r3 = append(r3, "_\r\n"...)
	} else {
		r3 = appendKeyArray(r3, key)
	}
	if redirected && h.PubSub != nil && h.PubSub.Total(st.redirect) > 0 {
		r2 = append(r2, "*3\r\n$7\r\nmessage\r\n$20\r\n"+trackingChannel+"\r\n"...)
		if null {
			r2 = append(r2, "$-1\r\n"...)
		} else {
			r2 = appendKeyArray(r2, key)
		}
	}
	sink.Deliver(pubsub.NewDual(r2, r3))
}

func appendKeyArray(b, key []byte) []byte {
	b = append(b, "*1\r\n$"...)
	b = strconv.AppendInt(b, int64(len(key)), 10)
	b = append(b, '\r', '\n')
	b = append(b, key...)
	return append(b, '\r', '\n')
}
