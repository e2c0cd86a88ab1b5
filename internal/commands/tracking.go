package commands

// Client-side caching: CLIENT TRACKING / CACHING / GETREDIR /
// TRACKINGINFO and the invalidation messages, as Redis 7.0's tracking.c.
// The table maps key names (in every database, as Redis) to the clients
// that read them; a modified key is invalidated once and forgotten. BCAST
// clients get the keys modified under their prefixes once the command
// that modified them is over (Redis: before the event loop sleeps), one
// array per prefix.
//
// Locks: the table is sharded as the keyspace (a key's tracking shard is
// its keyspace shard), each shard with its own lock and an atomic count
// of its keys; the clients, the BCAST prefixes and the pending messages
// are under tracker.mu. A command of a client that does not track, on
// keys nobody tracks and under no BCAST prefix, reads atomics only (the
// client's Tracking flag, the shard's count, the prefix snapshot): no
// process-wide lock (docs/design/concurrency.md, "Client tracking off the
// hot path").

import (
	"maps"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// trackState is one tracking client's mode. Its fields change under
// tracker.mu (CLIENT TRACKING on again changes them in place, as Redis's
// flags), only in the client's own commands: these read them without
// the lock (trackObserveClient), the other clients' under it.
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
	// script is the client's running EVAL/FCALL (set by runScript, read
	// by the client's own goroutine only): a read of the script's
	// command makes Redis 7.0 remember the keys of the script's own
	// command at once (its trackingRememberKeys reads the caller's argv),
	// so that a later write of the script invalidates them.
	script *command.Ctx
}

// bcastState is one BCAST prefix: its clients and the keys modified
// under it since the last broadcast, each with the client that modified
// it last (0: the server), for NOLOOP.
type bcastState struct {
	clients map[int64]*trackState
	keys    map[string]int64
}

type tracker struct {
	_ cacheLinePad
	// read after every command while some client tracks, written
	// rarely: a line of their own, away from the locks
	n       atomic.Int32 // tracking clients
	pending atomic.Bool  // some bcastState has keys
	nlater  atomic.Int32 // len(later)
	// pfx is the BCAST prefixes (t.prefixes' keys), nil when there are
	// none: a modified key takes mu only when one of them matches it
	pfx     atomic.Pointer[[]string]
	maxKeys *config.Var // tracking-table-max-keys
	_       cacheLinePad
	// live is the number of tracking clients plus the keys in the table
	// (all shards; changed under the shard's lock): a modified key is
	// looked up while it is not 0, also with nobody tracking while the
	// table holds keys (of clients that stopped tracking since, which
	// Redis forgets only when their key is modified). keys is the keys.
	live atomic.Int64
	keys atomic.Int64
	_    cacheLinePad

	mu       sync.Mutex
	clients  map[int64]*trackState
	prefixes map[string]*bcastState
	// cmdKeys: some of them were modified by a command, which sends them
	// when it is over (the cron sends only the server's: expiry)
	cmdKeys bool
	// later holds the invalidations of a client's own command for
	// itself or the client it redirects to, until the command is over
	// (Redis's tracking_pending_keys), by client id.
	later map[int64][]laterMsg

	shards [keyspace.NumShards]trackShard
}

// cacheLinePad keeps what is around it on cache lines of its own.
type cacheLinePad [64]byte

// trackShard is the part of the table whose keys are in one keyspace
// shard: key name (any database, as Redis) to the ids of the clients
// that read it.
type trackShard struct {
	mu    sync.Mutex
	n     atomic.Int32 // len(keys)
	items int          // sum of the clients of each key
	keys  map[string]map[int64]struct{}
	_     [64 - 8 - 4 - 4 - 8 - 8]byte
}

// laterMsg is an invalidation waiting for the end of a command: for the
// client it redirects to (st, proto), or for the client itself (self).
type laterMsg struct {
	st    *trackState
	proto []byte
	self  *pubsub.Message
}

// addKeys counts n keys more (or fewer) in the table.
func (t *tracker) addKeys(n int64) {
	t.keys.Add(n)
	t.live.Add(n)
}

// setPrefixes publishes t.prefixes' keys to pfx. Requires mu.
func (t *tracker) setPrefixes() {
	if len(t.prefixes) == 0 {
		t.pfx.Store(nil)
		return
	}
	ps := slices.Sorted(maps.Keys(t.prefixes))
	t.pfx.Store(&ps)
}

// setLater updates nlater. Requires mu.
func (t *tracker) setLater() { t.nlater.Store(int32(len(t.later))) }

func (t *tracker) init(cfg *config.Config) {
	t.clients = map[int64]*trackState{}
	t.prefixes = map[string]*bcastState{}
	t.later = map[int64][]laterMsg{}
	for i := range t.shards {
		t.shards[i].keys = map[string]map[int64]struct{}{}
	}
	t.maxKeys = cfg.Var("tracking-table-max-keys")
}

// trackShard returns the part of the table key is in.
func (h *Handlers) trackShard(key []byte) *trackShard {
	return &h.ops.tr.shards[h.Store.ShardOf(key)]
}

// add records that client id read key. Requires sh.mu.
func (t *tracker) add(sh *trackShard, key []byte, id int64) {
	m := sh.keys[string(key)]
	if m == nil {
		m = map[int64]struct{}{}
		sh.keys[string(key)] = m
		sh.n.Add(1)
		t.addKeys(1)
	}
	if _, ok := m[id]; !ok {
		m[id] = struct{}{}
		sh.items++
	}
}

// remove forgets key and returns the ids of the clients that read it,
// in Redis's order (trackOrder). Requires sh.mu.
func (t *tracker) remove(sh *trackShard, key []byte) []int64 {
	m := sh.keys[string(key)]
	if m == nil {
		return nil
	}
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	trackOrder(ids)
	sh.items -= len(m)
	delete(sh.keys, string(key))
	sh.n.Add(-1)
	t.addKeys(-1)
	return ids
}

func (h *Handlers) registerTracking() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("client|tracking", h.clientTracking, none)
	t.Handle("client|trackinginfo", h.clientTrackingInfo, none)
	t.Handle("client|caching", h.clientCaching, none)
	t.Handle("client|getredir", h.clientGetRedir, none)
}

// trackingOf returns cl's tracking state, nil when it does not track.
func trackingOf(cl *command.Client) *trackState {
	st, _ := cl.Tracking.Load().(*trackState)
	return st
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
		t.live.Add(1)
		c.Client.Tracking.Store(st)
		// invalidations of this MULTI's earlier commands, held for its
		// end, go where the client's tracking points when they are
		// sent (Redis's sendTrackingMessage reads the redirection
		// then; CLIENT TRACKING off leaves it as it was)
		for i := range t.later[c.Client.ID] {
			t.later[c.Client.ID][i].st = st
		}
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
		t.setPrefixes()
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
		t.live.Add(-1)
		cl.Tracking.Store((*trackState)(nil))
		for _, p := range st.prefixes {
			if bs := t.prefixes[p]; bs != nil {
				delete(bs.clients, cl.ID)
				if len(bs.clients) == 0 {
					delete(t.prefixes, p)
				}
			}
		}
		t.setPrefixes()
	}
	t.n.Store(int32(len(t.clients)))
	t.mu.Unlock()
}

// trackingGone drops what a closed client's command left to send.
func (h *Handlers) trackingGone(cl *command.Client) {
	t := &h.ops.tr
	if t.nlater.Load() == 0 { // entries for cl come from its own commands, over now
		return
	}
	t.mu.Lock()
	delete(t.later, cl.ID)
	t.setLater()
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
	st := trackingOf(c.Client)
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
// script's command, then (a held-back read of a partial-mode script: when
// it is replayed, in order with the script's writes). After a client's command, outside
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
	if st := trackingOf(cl); st != nil {
		h.trackObserveClient(c, cl, st, top)
	}
	if top {
		if t.nlater.Load() != 0 {
			h.trackSendLater(cl)
		}
		if t.pending.Load() {
			h.trackBroadcast(false)
		}
		if max := t.maxKeys.Int(); max > 0 && t.keys.Load() > max {
			h.trackOverLimit()
		}
	}
}

// trackObserveClient is trackObserve's part for a tracking client cl,
// whose state is st: in cl's command, st's mode is read without a lock.
func (h *Handlers) trackObserveClient(c *command.Ctx, cl *command.Client, st *trackState, top bool) {
	name := c.Spec.Name
	caching := st.caching.Load()
	remember := !st.bcast && !(st.optin && !caching || st.optout && caching)
	if remember && c.Spec.Has(command.FlagReadOnly) && name != "eval_ro" && name != "evalsha_ro" && name != "fcall_ro" {
		if !c.InScript {
			h.trackRemember(cl, c.Spec, c.Args)
		} else if sc := st.script; sc != nil {
			h.trackRemember(cl, sc.Spec, sc.Args)
		}
	}
	if top && name != "client" && !strings.HasPrefix(name, "client|") && caching {
		st.caching.Store(false)
	}
}

// trackSendLater sends, after cl's command, the invalidations it caused
// for itself or its redirection (Redis's tracking_pending_keys).
func (h *Handlers) trackSendLater(cl *command.Client) {
	t := &h.ops.tr
	t.mu.Lock()
	later := t.later[cl.ID]
	if later != nil {
		delete(t.later, cl.ID)
		t.setLater()
	}
	t.mu.Unlock()
	for _, m := range later {
		t.mu.Lock()
		redirect := m.st.redirect
		t.mu.Unlock()
		if isNull(m.proto) {
			// a flush's null is the client's protocol's when it is sent
			// (a HELLO may have come later in the MULTI)
			m.proto, m.self = nullFor(cl.Proto), nil
		}
		if redirect > 0 && redirect != cl.ID {
			// Redis's sendTrackingMessage reads the redirection when it
			// sends: one that a later CLIENT TRACKING of the same MULTI
			// set gets the client's own invalidations too
			h.sendInvalidation(m.st, nil, m.proto, false)
			continue
		}
		msg := m.self
		if msg == nil {
			// held while the client redirected elsewhere, or a null: its
			// own now, written after its reply in its protocol of now
			var r2 []byte
			if redirect > 0 && h.PubSub != nil && h.PubSub.Total(redirect) > 0 {
				r2 = append([]byte("*3\r\n$7\r\nmessage\r\n$20\r\n"+trackingChannel+"\r\n"), m.proto...)
			}
			msg = pubsub.NewDual(r2, append([]byte(">2\r\n$10\r\ninvalidate\r\n"), m.proto...))
		}
		if self := PushSelf(cl); self.Buf != nil {
			*self.Buf = msg.AppendTo(*self.Buf, self.Proto) // after the reply
		} else if m.st.sink != nil {
			m.st.sink.Deliver(msg)
		}
	}
}

// isNull reports whether proto is a flush's null rather than keys.
func isNull(proto []byte) bool { return string(proto) == "_\r\n" || string(proto) == "$-1\r\n" }

// nullFor is the null of protocol p.
func nullFor(p int) []byte {
	if p >= 3 {
		return []byte("_\r\n")
	}
	return []byte("$-1\r\n")
}

// trackOverLimit marks the table for eviction before the next command
// (exec.GuardTrackLimit) when it holds more than tracking-table-max-keys
// keys: Redis cuts it in processCommand, before a command, not after.
// trackObserve calls it when its look at the counts says so; under mu,
// as trackLimit clears the mark.
func (h *Handlers) trackOverLimit() {
	t := &h.ops.tr
	t.mu.Lock()
	if max := t.maxKeys.Int(); max > 0 && t.keys.Load() > max && h.Exec.Guard.Load()&exec.GuardTrackLimit == 0 {
		h.Exec.SetGuard(exec.GuardTrackLimit, true)
	}
	t.mu.Unlock()
}

// trackRemember adds the keys of args to cl's entries in the table.
func (h *Handlers) trackRemember(cl *command.Client, spec *command.Spec, args [][]byte) {
	var kb [8]int
	keys := spec.KeysInto(args, kb[:0])
	t := &h.ops.tr
	for _, k := range keys {
		if k >= len(args) {
			continue
		}
		sh := h.trackShard(args[k])
		sh.mu.Lock()
		t.add(sh, args[k], cl.ID)
		sh.mu.Unlock()
	}
}

// randomKey returns a key of the table picked at random (false when
// it is empty): a random shard's, or the next non-empty one's, first in
// Go's (random) map order.
func (t *tracker) randomKey() (string, bool) {
	start := rand.IntN(len(t.shards))
	for i := range t.shards {
		sh := &t.shards[(start+i)%len(t.shards)]
		if sh.n.Load() == 0 {
			continue
		}
		sh.mu.Lock()
		for k := range sh.keys {
			sh.mu.Unlock()
			return k, true
		}
		sh.mu.Unlock()
	}
	return "", false
}

// trackLimit is the executor's TrackLimit hook, run before cur's command
// (nil: from the cron) while the table is marked over its limit: it
// evicts keys, picked at random as Redis's trackingLimitUsedSlots does,
// while the table holds more than tracking-table-max-keys keys; their
// clients get an invalidation, but for a NOLOOP cur, as in Redis (its
// current_client is the client about to run a command), and for cur at
// once, before its reply. Only while some client tracks, as Redis.
func (h *Handlers) trackLimit(cur *command.Client) {
	t := &h.ops.tr
	for {
		max := t.maxKeys.Int()
		t.mu.Lock()
		key, ok := "", false
		if max > 0 && t.keys.Load() > max && t.n.Load() != 0 {
			key, ok = t.randomKey()
		}
		if !ok {
			h.Exec.SetGuard(exec.GuardTrackLimit, false)
			t.mu.Unlock()
			return
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
	if h.ops.tr.live.Load() != 0 { // small enough to inline: no call when nobody tracks
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
	if h.ops.tr.live.Load() != 0 {
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
	if ps := t.pfx.Load(); bcast && ps != nil && anyPrefix(*ps, key) {
		var byID int64
		if by != nil {
			byID = by.ID
		}
		t.mu.Lock()
		for p, bs := range t.prefixes {
			if strings.HasPrefix(string(key), p) {
				bs.keys[string(key)] = byID
				t.pending.Store(true)
				t.cmdKeys = t.cmdKeys || cur != nil
			}
		}
		t.mu.Unlock()
	}
	if t.keys.Load() == 0 {
		return
	}
	sh := h.trackShard(key)
	if sh.n.Load() == 0 {
		return
	}
	sh.mu.Lock()
	ids := t.remove(sh, key)
	sh.mu.Unlock()
	if ids == nil {
		return
	}
	t.mu.Lock()
	for _, id := range ids {
		st := t.clients[id]
		if st == nil || st.bcast || st.noloop && cur != nil && cur.ID == id {
			continue
		}
		targets = append(targets, st)
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

// anyPrefix reports whether key starts with one of ps.
func anyPrefix(ps []string, key []byte) bool {
	for _, p := range ps {
		if len(key) >= len(p) && string(key[:len(p)]) == p {
			return true
		}
	}
	return false
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
	for i := range t.shards {
		sh := &t.shards[i]
		if sh.n.Load() == 0 {
			continue
		}
		sh.mu.Lock()
		t.addKeys(-int64(len(sh.keys)))
		clear(sh.keys)
		sh.items = 0
		sh.n.Store(0)
		sh.mu.Unlock()
	}
	t.mu.Unlock()
	for _, st := range targets {
		h.sendInvalidation(st, by, nil, true)
	}
}

// TrackingStats returns INFO's tracking_clients, tracking_total_keys,
// tracking_total_items and tracking_total_prefixes.
func (h *Handlers) TrackingStats() (clients, keys, items, prefixes int) {
	t := &h.ops.tr
	for i := range t.shards {
		sh := &t.shards[i]
		if sh.n.Load() != 0 {
			sh.mu.Lock()
			keys += len(sh.keys)
			items += sh.items
			sh.mu.Unlock()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients), keys, items, len(t.prefixes)
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
		t.setLater()
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
			t.later[cur.ID] = append(t.later[cur.ID], laterMsg{st: st, proto: proto, self: m})
			t.setLater()
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
