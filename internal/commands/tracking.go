package commands

// Client-side caching: CLIENT TRACKING / CACHING / GETREDIR /
// TRACKINGINFO and the invalidation messages, as Redis 7.0's tracking.c.
// The table maps key names (in every database, as Redis) to the clients
// that read them; a modified key is invalidated once and forgotten. BCAST
// clients get the keys modified under their prefixes once the command
// that modified them is over (Redis: before the event loop sleeps), one
// array per prefix.

import (
	"maps"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// trackState is one tracking client's mode. Its fields change under
// tracker.mu (CLIENT TRACKING on again changes them in place, as Redis's
// flags).
type trackState struct {
	cl       *command.Client
	sink     pubsub.Sink
	redirect int64
	bcast    bool
	optin    bool
	optout   bool
	noloop   bool
	prefixes []string    // BCAST prefixes, sorted
	caching  atomic.Bool // CLIENT CACHING yes|no given for the next command
	broken   atomic.Bool // redirect client gone
	// scriptRead: a script's command read keys for this client; Redis
	// 7.0 then remembers the keys of the script's own command (its
	// trackingRememberKeys reads the caller's argv).
	scriptRead atomic.Bool
}

// bcastState is one BCAST prefix: its clients and the keys modified
// under it since the last broadcast, each with the client that modified
// it last (0: the server), for NOLOOP.
type bcastState struct {
	clients map[int64]*trackState
	keys    map[string]int64
}

type tracker struct {
	mu       sync.Mutex
	clients  map[int64]*trackState
	table    map[string]map[int64]struct{}
	items    int
	prefixes map[string]*bcastState
	n        atomic.Int32 // tracking clients
	// live: some client tracks or the table holds keys (of clients that
	// stopped tracking since, which Redis forgets only when their key is
	// modified): modified keys must be looked up. Set under mu.
	live    atomic.Bool
	pending atomic.Bool // some bcastState has keys
	// cmdKeys: some of them were modified by a command, which sends them
	// when it is over (the cron sends only the server's: expiry)
	cmdKeys bool
	// later holds the invalidations of a client's own command for
	// itself or the client it redirects to, until the command is over
	// (Redis's tracking_pending_keys), by client id.
	later map[int64][]laterMsg
	// nlater is len(later), for observe: a command that turned its
	// client's tracking off (the last tracking client's: n is 0) still
	// sends what it left in later, as Redis sends its pending keys
	nlater atomic.Int32
}

// laterMsg is an invalidation waiting for the end of a command: for the
// client it redirects to (st, proto), or for the client itself (self).
type laterMsg struct {
	st    *trackState
	proto []byte
	self  *pubsub.Message
}

// setLive updates live. Requires mu.
func (t *tracker) setLive() {
	if live := len(t.clients) > 0 || len(t.table) > 0; live != t.live.Load() {
		t.live.Store(live)
	}
}

func (t *tracker) init() {
	t.clients = map[int64]*trackState{}
	t.table = map[string]map[int64]struct{}{}
	t.prefixes = map[string]*bcastState{}
	t.later = map[int64][]laterMsg{}
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
	t := &h.ops.tr
	if t.n.Load() == 0 {
		return "", -1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.clients[cl.ID]
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

// clientTracking is CLIENT TRACKING, with Redis 7.0's checks in its
// order: the options (REDIRECT's client must exist, even for OFF), then
// ON's compatibility checks against each other and the client's mode.
func (h *Handlers) clientTracking(c *command.Ctx) {
	var redirect int64
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for i := 3; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		switch {
		case EqualFold(c.Args[i], "redirect") && more >= 1:
			i++
			if redirect != 0 {
				c.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, err := strconv.ParseInt(string(c.Args[i]), 10, 64)
			if err != nil {
				c.Error(ErrNotInt)
				return
			}
			if !h.clientExists(id) {
				c.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redirect = id
		case EqualFold(c.Args[i], "bcast"):
			bcast = true
		case EqualFold(c.Args[i], "optin"):
			optin = true
		case EqualFold(c.Args[i], "optout"):
			optout = true
		case EqualFold(c.Args[i], "noloop"):
			noloop = true
		case EqualFold(c.Args[i], "prefix") && more >= 1:
			i++
			prefixes = append(prefixes, string(c.Args[i]))
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	switch {
	case EqualFold(c.Args[2], "on"):
	case EqualFold(c.Args[2], "off"):
		h.trackingOff(c.Client)
		c.W.OK()
		return
	default:
		c.Error(ErrSyntax)
		return
	}
	t := &h.ops.tr
	t.mu.Lock()
	old := t.clients[c.Client.ID]
	msg := ""
	switch {
	case !bcast && len(prefixes) > 0:
		msg = "ERR PREFIX option requires BCAST mode to be enabled"
	case old != nil && old.bcast != bcast:
		msg = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	case bcast && (optin || optout):
		msg = "ERR OPTIN and OPTOUT are not compatible with BCAST"
	case optin && optout:
		msg = "ERR You can't specify both OPTIN mode and OPTOUT mode"
	case old != nil && (optin && old.optout || optout && old.optin):
		msg = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	case bcast:
		var have []string
		if old != nil {
			have = old.prefixes
		}
		msg = checkPrefixes(prefixes, have)
	}
	t.mu.Unlock()
	if msg != "" {
		c.Error(msg)
		return
	}
	// the client's own entry changes only on its own connection
	var sink pubsub.Sink
	if h.ops.sinks != nil && old == nil {
		sink = h.ops.sinks(c.Client.ID)
	}
	t.mu.Lock()
	st := old
	if st == nil {
		st = &trackState{cl: c.Client, sink: sink}
		t.clients[c.Client.ID] = st
		t.n.Store(int32(len(t.clients)))
		t.setLive()
	}
	st.redirect, st.bcast, st.optin, st.optout, st.noloop = redirect, bcast, optin, optout, noloop
	st.broken.Store(false)
	if bcast {
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			bs := t.prefixes[p]
			if bs == nil {
				bs = &bcastState{clients: map[int64]*trackState{}, keys: map[string]int64{}}
				t.prefixes[p] = bs
			}
			if _, ok := bs.clients[c.Client.ID]; !ok {
				bs.clients[c.Client.ID] = st
				st.prefixes = append(st.prefixes, p)
			}
		}
		sort.Strings(st.prefixes)
	}
	t.mu.Unlock()
	c.W.OK()
}

// checkPrefixes rejects prefixes that overlap (one a prefix of the
// other) an existing prefix of the client or a later one of the same
// command, as Redis's checkPrefixCollisionsOrReply.
func checkPrefixes(added, have []string) string {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range added {
		for _, q := range have {
			if overlap(q, p) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
		for _, q := range added[i+1:] {
			if overlap(p, q) {
				// Redis 7.0 then also enables tracking and replies +OK
				// when i > 0 (it returns i as success): one reply here
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
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
// Its keys stay in the table (Redis forgets them lazily).
func (h *Handlers) trackingOff(cl *command.Client) {
	t := &h.ops.tr
	if t.n.Load() == 0 {
		return
	}
	t.mu.Lock()
	if st := t.clients[cl.ID]; st != nil {
		delete(t.clients, cl.ID)
		for _, p := range st.prefixes {
			if bs := t.prefixes[p]; bs != nil {
				delete(bs.clients, cl.ID)
				if len(bs.clients) == 0 {
					delete(t.prefixes, p)
				}
			}
		}
	}
	t.n.Store(int32(len(t.clients)))
	t.setLive()
	t.mu.Unlock()
}

// trackingGone drops what a closed client's command left to send.
func (h *Handlers) trackingGone(cl *command.Client) {
	t := &h.ops.tr
	t.mu.Lock()
	delete(t.later, cl.ID)
	t.nlater.Store(int32(len(t.later)))
	t.mu.Unlock()
}

func (h *Handlers) clientTrackingInfo(c *command.Ctx) {
	t := &h.ops.tr
	flags := []string{"off"}
	redir := int64(-1)
	var prefixes []string
	t.mu.Lock()
	if st := t.clients[c.Client.ID]; st != nil {
		flags = []string{"on"}
		if st.bcast {
			flags = append(flags, "bcast")
		}
		if st.optin {
			flags = append(flags, "optin")
			if st.caching.Load() {
				flags = append(flags, "caching-yes")
			}
		}
		if st.optout {
			flags = append(flags, "optout")
			if st.caching.Load() {
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
		prefixes = slices.Clone(st.prefixes)
	}
	t.mu.Unlock()
	c.W.Map(3)
	c.W.BulkString("flags")
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
	t := &h.ops.tr
	var optin, optout bool
	st := h.trackingOf(c.Client)
	if st == nil {
		c.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	t.mu.Lock()
	optin, optout = st.optin, st.optout
	t.mu.Unlock()
	switch {
	case EqualFold(c.Args[2], "yes"):
		if !optin {
			c.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case EqualFold(c.Args[2], "no"):
		if !optout {
			c.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.Error(ErrSyntax)
		return
	}
	st.caching.Store(true)
	c.W.OK()
}

func (h *Handlers) clientGetRedir(c *command.Ctx) {
	t := &h.ops.tr
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.clients[c.Client.ID]; st != nil {
		c.W.Int(st.redirect)
		return
	}
	c.W.Int(-1)
}

// trackObserve runs after each command while some client tracks. A read
// command's keys are remembered for its client, honouring OPTIN/OPTOUT
// and CLIENT CACHING; a read in a script (EVAL_RO, FCALL_RO and the like
// are not reads themselves) makes Redis 7.0 remember the keys of the
// script's command, once it is over. After a client's command, outside
// MULTI, its CLIENT CACHING is spent unless the command was a CLIENT
// subcommand (Redis's resetClient). After a command of a client (not a
// MULTI's queued one, nor a script's), its own pending invalidations go
// out after its reply, the BCAST clients get the keys modified meanwhile
// and a table over tracking-table-max-keys is marked for a cut before the
// next command.
func (h *Handlers) trackObserve(c *command.Ctx) {
	cl := c.Client
	if c.InScript {
		if cl = cl.Caller; cl == nil {
			return
		}
	}
	t := &h.ops.tr
	top := !c.InScript && cl.Flags&command.ClientMulti == 0
	if st := h.trackingOf(cl); st != nil {
		t.mu.Lock()
		bcast, optin, optout := st.bcast, st.optin, st.optout
		t.mu.Unlock()
		name := c.Spec.Name
		caching := st.caching.Load()
		remember := !bcast && !(optin && !caching || optout && caching)
		if remember && c.Spec.Has(command.FlagReadOnly) && name != "eval_ro" && name != "evalsha_ro" && name != "fcall_ro" {
			if c.InScript {
				st.scriptRead.Store(true)
			} else {
				h.trackRemember(cl, c.Spec, c.Args)
			}
		}
		if !c.InScript && st.scriptRead.Load() {
			st.scriptRead.Store(false)
			if remember {
				h.trackRemember(cl, c.Spec, c.Args)
			}
		}
		if top && name != "client" && !strings.HasPrefix(name, "client|") && caching {
			st.caching.Store(false)
		}
	}
	if top {
		t.mu.Lock()
		later := t.later[cl.ID]
		if later != nil {
			delete(t.later, cl.ID)
			t.nlater.Store(int32(len(t.later)))
		}
		t.mu.Unlock()
		for _, m := range later {
			if m.self == nil {
				h.sendInvalidation(m.st, nil, m.proto, false)
			} else if self := PushSelf(cl); self.Buf != nil {
				*self.Buf = m.self.AppendTo(*self.Buf, self.Proto) // after the reply
			} else if m.st.sink != nil {
				m.st.sink.Deliver(m.self)
			}
		}
		if t.pending.Load() {
			h.trackBroadcast(false)
		}
		h.trackOverLimit()
	}
}

// trackOverLimit marks the table for eviction before the next command
// (exec.GuardTrackLimit) when it holds more than tracking-table-max-keys
// keys: Redis cuts it in processCommand, before a command, not after.
func (h *Handlers) trackOverLimit() {
	max := int(h.Config.Int("tracking-table-max-keys"))
	if max <= 0 {
		return
	}
	t := &h.ops.tr
	t.mu.Lock()
	if len(t.table) > max && h.Exec.Guard.Load()&exec.GuardTrackLimit == 0 {
		h.Exec.SetGuard(exec.GuardTrackLimit, true)
	}
	t.mu.Unlock()
}

// trackRemember adds the keys of args to cl's entries in the table.
func (h *Handlers) trackRemember(cl *command.Client, spec *command.Spec, args [][]byte) {
	var kb [8]int
	keys := spec.KeysInto(args, kb[:0])
	t := &h.ops.tr
	t.mu.Lock()
	for _, k := range keys {
		if k >= len(args) {
			continue
		}
		key := string(args[k])
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
	t.setLive()
	t.mu.Unlock()
}

// trackLimit is the executor's TrackLimit hook, run before cur's command
// (nil: from the cron) while the table is marked over its limit: it
// evicts keys, picked at random as Redis's trackingLimitUsedSlots does,
// while the table holds more than tracking-table-max-keys keys; their
// clients get an invalidation, but for a NOLOOP cur, as in Redis (its
// current_client is the client about to run a command), and for cur at
// once, before its reply. Only while some client tracks, as Redis.
func (h *Handlers) trackLimit(cur *command.Client) {
	max := int(h.Config.Int("tracking-table-max-keys"))
	t := &h.ops.tr
	for {
		t.mu.Lock()
		if max <= 0 || len(t.table) <= max || t.n.Load() == 0 {
			h.Exec.SetGuard(exec.GuardTrackLimit, false)
			t.mu.Unlock()
			return
		}
		var key string
		for k := range t.table { // Go's map order is random
			key = k
			break
		}
		t.mu.Unlock()
		h.trackInvalidate(nil, cur, []byte(key), false, false)
	}
}

// trackTouched is the executor's TouchedBy hook: key was modified by by.
// Clients that read it get an invalidation (but not the client whose
// command runs, with NOLOOP), and so do BCAST clients with a matching
// prefix. While the table holds keys, also with nobody tracking, the key
// is forgotten: a client that read it, stopped and tracks again gets no
// invalidation for it, as in Redis.
func (h *Handlers) trackTouched(by *command.Client, db int, key []byte) {
	if h.ops.tr.live.Load() { // small enough to inline: no call when nobody tracks
		h.trackInvalidate(by, by, key, true, true)
	}
}

// trackServerTouched is the executor's ServerTouched hook: the server
// deleted key (expiry, maxmemory eviction) during or just before cur's
// command (nil: the active expiry). As Redis's trackingInvalidateKey
// with a NULL client, NOLOOP compares the client whose command runs
// (server.current_client): a NOLOOP client whose own read finds a key it
// tracks expired gets no invalidation; BCAST's NOLOOP compares the
// modifier, none here, so BCAST clients always hear of it.
func (h *Handlers) trackServerTouched(cur *command.Client, running bool, db int, key []byte) {
	if h.ops.tr.live.Load() {
		h.trackInvalidate(nil, cur, key, true, running)
	}
}

// trackOrder sorts client ids as Redis's radix tree of ids holds them:
// by the bytes of the id in memory (little-endian).
func trackOrder(ids []int64) {
	slices.SortFunc(ids, func(a, b int64) int {
		x, y := bits.ReverseBytes64(uint64(a)), bits.ReverseBytes64(uint64(b))
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
}

// trackInvalidate is trackTouched when some client tracks keys: by is
// the client that modified key (nil: the server), cur the client whose
// command runs or is about to (nil: none), running whether it runs
// already; bcast says whether BCAST clients hear of it (not for an
// eviction from the table).
func (h *Handlers) trackInvalidate(by, cur *command.Client, key []byte, bcast, running bool) {
	t := &h.ops.tr
	var targets []*trackState
	// cur is Redis's current_client: for a script, its caller. BCAST's
	// NOLOOP compares the modifier itself, which for redis.call is the
	// script's client (id 0), as Redis 7.0.
	if cur != nil && cur.Caller != nil {
		cur = cur.Caller
	}
	t.mu.Lock()
	if bcast {
		var byID int64
		if by != nil {
			byID = by.ID
		}
		for p, bs := range t.prefixes {
			if strings.HasPrefix(string(key), p) {
				bs.keys[string(key)] = byID
				t.pending.Store(true)
				t.cmdKeys = t.cmdKeys || cur != nil
			}
		}
	}
	if m := t.table[string(key)]; m != nil {
		ids := make([]int64, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		trackOrder(ids)
		for _, id := range ids {
			st := t.clients[id]
			if st == nil || st.bcast || st.noloop && cur != nil && cur.ID == id {
				continue
			}
			targets = append(targets, st)
		}
		t.items -= len(m)
		delete(t.table, string(key))
		t.setLive()
	}
	t.mu.Unlock()
	for _, st := range targets {
		h.sendInvalidation(st, cur, appendKeyArray(nil, key), running)
	}
}

// trackBroadcast sends the BCAST clients the keys modified under their
// prefixes since the last time: prefixes and keys in Redis's (byte)
// order, without a NOLOOP client's own keys.
//
// cron is set for the server's cron, which sends only the keys the
// active expiry deleted: keys of a running command wait for its end, as
// Redis never sends them in the middle of a command.
func (h *Handlers) trackBroadcast(cron bool) {
	t := &h.ops.tr
	type send struct {
		st    *trackState
		proto []byte
	}
	var out []send
	t.mu.Lock()
	if cron && t.cmdKeys {
		t.mu.Unlock()
		return
	}
	t.pending.Store(false)
	t.cmdKeys = false
	ps := make([]string, 0, len(t.prefixes))
	for p, bs := range t.prefixes {
		if len(bs.keys) > 0 {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	for _, p := range ps {
		bs := t.prefixes[p]
		keys := slices.Sorted(maps.Keys(bs.keys))
		for _, id := range slices.Sorted(maps.Keys(bs.clients)) {
			st := bs.clients[id]
			var b []byte
			n := 0
			for _, k := range keys {
				if !st.noloop || bs.keys[k] != id {
					n++
				}
			}
			if n == 0 {
				continue
			}
			b = append(b, '*')
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, '\r', '\n')
			for _, k := range keys {
				if !st.noloop || bs.keys[k] != id {
					b = appendBulk(b, k)
				}
			}
			out = append(out, send{st, b})
		}
		bs.keys = map[string]int64{}
	}
	t.mu.Unlock()
	for _, s := range out {
		h.sendInvalidation(s.st, nil, s.proto, false)
	}
}

func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// TrackingFlush tells every client-side caching client that all keys
// changed, as FLUSHALL does (a replica replacing its dataset).
func (h *Handlers) TrackingFlush() { h.trackingFlush(nil) }

// trackingFlush sends every tracking client, in the order they connected,
// the null invalidation of FLUSHALL / FLUSHDB (by is the client that
// flushed) and forgets the table, also when nobody tracks any more.
func (h *Handlers) trackingFlush(by *command.Client) {
	t := &h.ops.tr
	t.mu.Lock()
	ids := slices.Sorted(maps.Keys(t.clients))
	targets := make([]*trackState, len(ids))
	for i, id := range ids {
		targets[i] = t.clients[id]
	}
	t.table = map[string]map[int64]struct{}{}
	t.items = 0
	t.setLive()
	t.mu.Unlock()
	for _, st := range targets {
		h.sendInvalidation(st, by, nil, true)
	}
}

// TrackingStats returns INFO's tracking_clients, tracking_total_keys,
// tracking_total_items and tracking_total_prefixes.
func (h *Handlers) TrackingStats() (clients, keys, items, prefixes int) {
	t := &h.ops.tr
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients), len(t.table), t.items, len(t.prefixes)
}

const trackingChannel = "__redis__:invalidate"

// sendInvalidation delivers an invalidation (proto: the keys' array; nil:
// the null of a flush, in the tracking client's protocol as Redis) to
// st's client, or to its redirection: a RESP3 push "invalidate", or in
// RESP2 a message on __redis__:invalidate when the redirection target is
// subscribed to anything. A RESP2 client without redirection gets
// nothing, as in Redis. cur is the client whose command caused it: a
// message for it that is not its own invalidation goes into its reply
// now, before the reply (Redis writes it at once; its own invalidations
// wait for the end of the command, as Crescent's deliveries to the
// running client do). Before its command runs (running false: maxmemory
// and tracking-table-max-keys evictions), everything for cur goes into
// its output at once, before the reply, as Redis's trackingInvalidateKey
// defers only while the current client executes a command.
func (h *Handlers) sendInvalidation(st *trackState, cur *command.Client, proto []byte, running bool) {
	t := &h.ops.tr
	t.mu.Lock()
	redirect, own := st.redirect, st.sink
	t.mu.Unlock()
	if proto == nil {
		p := st.cl.View().Proto
		if cur != nil && cur.ID == st.cl.ID {
			p = cur.Proto
		}
		if p >= 3 {
			proto = []byte("_\r\n")
		} else {
			proto = []byte("$-1\r\n")
		}
	}
	if running && cur != nil && st.cl.ID == cur.ID && redirect > 0 && redirect != cur.ID {
		// its own command's invalidation goes out once the command is over
		t.mu.Lock()
		t.later[cur.ID] = append(t.later[cur.ID], laterMsg{st: st, proto: proto})
		t.nlater.Store(int32(len(t.later)))
		t.mu.Unlock()
		return
	}
	sink := own
	if redirect > 0 {
		sink = nil
		if h.ops.sinks != nil {
			sink = h.ops.sinks(redirect)
		}
		if sink == nil {
			st.broken.Store(true)
			var b []byte
			b = append(b, ">2\r\n$21\r\ntracking-redir-broken\r\n:"...)
			b = strconv.AppendInt(b, redirect, 10)
			b = append(b, '\r', '\n')
			if own != nil {
				own.Deliver(pubsub.NewDual(nil, b))
			}
			return
		}
	}
	if sink == nil {
		return
	}
	var r2, r3 []byte
	r3 = append(r3, ">2\r\n$10\r\ninvalidate\r\n"...)
	r3 = append(r3, proto...)
	if redirect > 0 && h.PubSub != nil && h.PubSub.Total(redirect) > 0 {
		r2 = append(r2, "*3\r\n$7\r\nmessage\r\n$20\r\n"+trackingChannel+"\r\n"...)
		r2 = append(r2, proto...)
	}
	m := pubsub.NewDual(r2, r3)
	to := st.cl.ID
	if redirect > 0 {
		to = redirect
	}
	if cur != nil && to == cur.ID {
		if st.cl.ID == cur.ID && running {
			// its own invalidation during its own command: after the
			// reply (Redis's tracking_pending_keys)
			t.mu.Lock()
			t.later[cur.ID] = append(t.later[cur.ID], laterMsg{st: st, self: m})
			t.nlater.Store(int32(len(t.later)))
			t.mu.Unlock()
			return
		}
		if self := PushSelf(cur); self.Buf != nil {
			*self.Buf = m.AppendTo(*self.Buf, self.Proto)
			return
		}
	}
	sink.Deliver(m)
}

func appendKeyArray(b, key []byte) []byte {
	b = append(b, "*1\r\n"...)
	return appendBulk(b, string(key))
}
