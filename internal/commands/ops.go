package commands

// Operating the server: MONITOR, SLOWLOG, LATENCY, CLIENT PAUSE and the
// per-command observation hook they share (exec.Executor.Observe).

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/pubsub"
	"github.com/crescent-db/crescent/internal/resp"
)

// opsState is the state of the operating commands.
type opsState struct {
	sinks func(id int64) pubsub.Sink // client id -> push sink (server)

	monMu    sync.RWMutex
	monitors map[int64]pubsub.Sink
	nmon     atomic.Int32

	slowMu   sync.Mutex
	slow     []slowEntry // newest first
	slowNext int64
	slowThr  *config.Var
	slowMax  *config.Var

	latMu  sync.Mutex
	events map[string]*latencySeries
	latThr *config.Var

	tr tracker

	pauseMu  sync.Mutex
	pause    atomic.Pointer[pauseState]     // the pause in force (nil: none)
	purposes [numPausePurposes]pauseRequest // why (pauseMu)
	// held is the set of clients a pause holds back now: Redis 7.0
	// blocks them (BLOCKED_POSTPONE), so CLIENT LIST shows them with the
	// b flag and INFO counts them in blocked_clients.
	heldMu sync.Mutex
	held   map[int64]struct{}
	// ackPending: a WAIT asked for acknowledgements during a pause; the
	// REPLCONF GETACK goes once the pause ends (flushPendingAcks), as
	// Redis's beforeSleep asks for them only when clients are not paused
	ackPending atomic.Bool

	activeExpireOff atomic.Bool  // DEBUG SET-ACTIVE-EXPIRE 0
	cronPaused      atomic.Bool  // DEBUG PAUSE-CRON 1
	replyPeakReset  atomic.Int64 // DEBUG REPLYBUFFER PEAK-RESET-TIME (ms; -1: never)
	lazyPending     atomic.Int64
	lazyFreed       atomic.Int64

	ops opsSampler

	metrics scriptMetrics
	// SlowScript, when set, is called for a script that ran past
	// slowlog-log-slower-than (the server logs a warning naming its sha).
}

// SetSinks tells the handlers how to reach a client's connection for
// pushes (MONITOR lines, invalidation messages). The server calls it once.
func (h *Handlers) SetSinks(f func(id int64) pubsub.Sink) { h.ops.sinks = f }

// ActiveExpireEnabled reports whether the server's cron should expire keys
// (DEBUG SET-ACTIVE-EXPIRE, and not during a CLIENT PAUSE).
func (h *Handlers) ActiveExpireEnabled() bool {
	if h.ops.activeExpireOff.Load() {
		return false
	}
	return h.ops.pause.Load() == nil || h.pauseExpired()
}

// DefaultReplyPeakReset is how long (ms) a client's reply buffer peak
// (CLIENT LIST rbp) is kept before it restarts from the current use,
// Redis's REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME.
const DefaultReplyPeakReset = 5000

// CronPaused reports whether DEBUG PAUSE-CRON 1 stopped the server's
// periodic work (active expiry, client eviction, timeouts).
func (h *Handlers) CronPaused() bool { return h.ops.cronPaused.Load() }

// ReplyPeakReset is how long (ms) a reply buffer peak is kept; -1: never
// reset (DEBUG REPLYBUFFER PEAK-RESET-TIME).
func (h *Handlers) ReplyPeakReset() int64 { return h.ops.replyPeakReset.Load() }

func (h *Handlers) registerOps() {
	o := &opsState{monitors: map[int64]pubsub.Sink{}, events: map[string]*latencySeries{}}
	o.replyPeakReset.Store(DefaultReplyPeakReset)
	h.ops = o
	o.slowThr = h.Config.Var("slowlog-log-slower-than")
	o.slowMax = h.Config.Var("slowlog-max-len")
	o.latThr = h.Config.Var("latency-monitor-threshold")
	o.tr.init(h.Config)
	h.Config.OnChange("slowlog-max-len", func(string) { h.slowTrim() })
	h.Exec.Observe = h.observe
	h.Exec.TouchedBy = h.trackTouched
	h.Exec.ServerTouched = h.trackServerTouched
	h.Exec.TrackLimit = h.trackLimit
	h.Exec.Pause = h.pauseWait
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("monitor", h.monitor, none)
	t.Handle("slowlog|get", h.slowlogGet, none)
	t.Handle("slowlog|len", h.slowlogLen, none)
	t.Handle("slowlog|reset", h.slowlogReset, none)
	t.Handle("slowlog|help", func(c *command.Ctx) { writeHelp(c, slowlogHelp) }, none)
	t.Handle("latency|latest", h.latencyLatest, none)
	t.Handle("latency|history", h.latencyHistory, none)
	t.Handle("latency|reset", h.latencyReset, none)
	t.Handle("latency|graph", h.latencyGraph, none)
	t.Handle("latency|doctor", h.latencyDoctor, none)
	t.Handle("latency|histogram", h.latencyHistogram, none)
	t.Handle("latency|help", func(c *command.Ctx) { writeHelp(c, latencyHelp) }, none)
	t.Handle("client|pause", h.clientPause, none)
	t.Handle("client|unpause", h.clientUnpause, none)
	t.Handle("config|rewrite", h.configRewrite, none)
	h.registerTracking()
	h.registerMemoryOps()
	h.chainReset(h.opsReset)
}

// opsReset is RESET's part: leave MONITOR mode and turn tracking off.
func (h *Handlers) opsReset(cl *command.Client) {
	h.monitorRemove(cl.ID)
	h.trackingOff(cl)
}

// opsGone releases a closed client's operating state.
func (h *Handlers) opsGone(cl *command.Client) {
	h.monitorRemove(cl.ID)
	h.trackingOff(cl)
	h.trackingGone(cl)
}

// observe is the executor's Observe hook: it runs after every command.
func (h *Handlers) observe(c *command.Ctx, d time.Duration) {
	o := h.ops
	if o.nmon.Load() > 0 && !c.Retry && !c.Spec.Has(command.FlagAdmin|command.FlagSkipMonitor) {
		h.monitorFeed(c)
	}
	if c.Block != nil {
		// blocked (or woken and blocked again): as Redis's call(), which
		// leaves a blocked client's SLOWLOG entry and latency sample to
		// its unblocking (updateStatsOnUnblock); a read that blocks
		// tracks its keys (call()'s trackingRememberKeys), a woken one
		// does not (below)
		if o.tr.n.Load() > 0 && !c.Retry {
			h.trackObserve(c)
		}
		return
	}
	usec := int64(d / time.Microsecond)
	if thr := o.slowThr.Int(); thr >= 0 && usec >= thr && !c.Spec.Has(command.FlagSkipSlowlog) && o.slowMax.Int() > 0 {
		h.slowPush(c, usec)
	}
	if thr := o.latThr.Int(); thr > 0 {
		if ms := usec / 1000; ms >= thr {
			ev := "command"
			if c.Spec.Has(command.FlagFast) {
				ev = "fast-command"
			}
			h.latencyAdd(ev, ms)
		}
	}
	// a woken command is served outside call() in Redis 7.0: a served
	// XREAD does not track its keys again
	if (o.tr.n.Load() > 0 || o.tr.nlater.Load() > 0) && !c.Retry {
		h.trackObserve(c)
	} else if c.Retry && o.tr.nlater.Load() > 0 && c.Client.Flags&command.ClientMulti == 0 {
		// ... but the invalidations its write caused for its own client
		// (BLMOVE's destination) follow its reply at once, as in Redis,
		// not the client's next command
		h.trackSendLater(c.Client)
	}
}

// --- MONITOR

func (h *Handlers) monitor(c *command.Ctx) {
	cl := c.Client
	if cl.Flags&command.ClientMulti != 0 {
		c.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	o := h.ops
	o.monMu.Lock()
	_, already := o.monitors[cl.ID]
	o.monMu.Unlock()
	if already {
		return // Redis replies nothing
	}
	var sink pubsub.Sink
	if o.sinks != nil {
		sink = o.sinks(cl.ID)
	}
	if sink == nil {
		c.W.OK()
		return
	}
	o.monMu.Lock()
	o.monitors[cl.ID] = sink
	o.nmon.Store(int32(len(o.monitors)))
	o.monMu.Unlock()
	c.W.OK()
}

// IsMonitor reports whether cl is in MONITOR mode (CLIENT LIST flag O).
func (h *Handlers) IsMonitor(cl *command.Client) bool {
	o := h.ops
	if o.nmon.Load() == 0 {
		return false
	}
	o.monMu.RLock()
	defer o.monMu.RUnlock()
	_, ok := o.monitors[cl.ID]
	return ok
}

func (h *Handlers) monitorRemove(id int64) {
	o := h.ops
	if o.nmon.Load() == 0 {
		return
	}
	o.monMu.Lock()
	delete(o.monitors, id)
	o.nmon.Store(int32(len(o.monitors)))
	o.monMu.Unlock()
}

// MonitorFeed sends c's command to the monitors now: the script commands
// (EVAL, FCALL: skip_monitor) call it before they run, as Redis shows the
// script before the commands it calls.
func (h *Handlers) MonitorFeed(c *command.Ctx) {
	if h.ops.nmon.Load() > 0 {
		h.monitorFeed(c)
	}
}

func (h *Handlers) monitorFeed(c *command.Ctx) {
	now := time.Now()
	b := make([]byte, 0, 64+16*len(c.Args))
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	b = append(b, fmt.Sprintf("%06d", now.Nanosecond()/1000)...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.DB.Index()), 10)
	b = append(b, ' ')
	if c.InScript {
		b = append(b, "lua"...)
	} else {
		b = append(b, c.Client.Addr...)
	}
	b = append(b, ']')
	for _, a := range c.Args {
		b = append(b, ' ')
		b = resp.AppendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	m := pubsub.NewRaw(b)
	o := h.ops
	o.monMu.RLock()
	for _, s := range o.monitors {
		s.Deliver(m)
	}
	o.monMu.RUnlock()
}

// --- SLOWLOG

type slowEntry struct {
	id, ts, usec int64
	args         []string
	peer, name   string
}

// Slowlog argument limits (Redis's SLOWLOG_ENTRY_MAX_ARGC / _MAX_STRING).
const (
	slowMaxArgc = 32
	slowMaxStr  = 128
)

func (h *Handlers) slowPush(c *command.Ctx, usec int64) {
	argc := len(c.Args)
	n := min(argc, slowMaxArgc)
	args := make([]string, n)
	for i := 0; i < n; i++ {
		if n != argc && i == n-1 {
			args[i] = fmt.Sprintf("... (%d more arguments)", argc-n+1)
			break
		}
		a := c.Args[i]
		if len(a) > slowMaxStr {
			args[i] = fmt.Sprintf("%s... (%d more bytes)", a[:slowMaxStr], len(a)-slowMaxStr)
		} else {
			args[i] = string(a)
		}
	}
	peer, name := c.Client.Addr, c.Client.Name()
	if c.InScript {
		peer, name = "?:0", ""
	}
	o := h.ops
	o.slowMu.Lock()
	e := slowEntry{id: o.slowNext, ts: time.Now().Unix(), usec: usec, args: args, peer: peer, name: name}
	o.slowNext++
	o.slow = append(o.slow, slowEntry{})
	copy(o.slow[1:], o.slow)
	o.slow[0] = e
	if max := int(o.slowMax.Int()); max >= 0 && len(o.slow) > max {
		o.slow = o.slow[:max]
	}
	o.slowMu.Unlock()
}

func (h *Handlers) slowTrim() {
	o := h.ops
	o.slowMu.Lock()
	if max := int(o.slowMax.Int()); max >= 0 && len(o.slow) > max {
		o.slow = o.slow[:max]
	}
	o.slowMu.Unlock()
}

func (h *Handlers) slowlogGet(c *command.Ctx) {
	count := int64(10)
	if len(c.Args) > 3 {
		c.Error(subArityError(c, "SLOWLOG"))
		return
	}
	if len(c.Args) == 3 {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < -1 {
			c.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	o := h.ops
	o.slowMu.Lock()
	entries := o.slow
	if count >= 0 && int64(len(entries)) > count {
		entries = entries[:count]
	}
	entries = append([]slowEntry(nil), entries...)
	o.slowMu.Unlock()
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.ts)
		c.W.Int(e.usec)
		c.W.Array(len(e.args))
		for _, a := range e.args {
			c.W.BulkString(a)
		}
		c.W.BulkString(e.peer)
		c.W.BulkString(e.name)
	}
}

// subArityError is Redis's error for a subcommand given the wrong number
// of arguments by its own parser.
func subArityError(c *command.Ctx, cmd string) string {
	return fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.", c.Args[1], cmd)
}

func (h *Handlers) slowlogLen(c *command.Ctx) {
	h.ops.slowMu.Lock()
	n := len(h.ops.slow)
	h.ops.slowMu.Unlock()
	c.W.Int(int64(n))
}

func (h *Handlers) slowlogReset(c *command.Ctx) {
	h.ops.slowMu.Lock()
	h.ops.slow = nil
	h.ops.slowMu.Unlock()
	c.W.OK()
}

var slowlogHelp = []string{
	"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
	"HELP",
	"    Prints this help.",
}

// --- LATENCY

// latencySeriesLen is Redis's LATENCY_TS_LEN.
const latencySeriesLen = 160

type latencySample struct {
	time    int64 // Unix seconds; 0 = empty
	latency int64 // ms
}

type latencySeries struct {
	idx     int
	max     int64
	samples [latencySeriesLen]latencySample
}

// latencyAdd records a latency event sample of ms milliseconds, one per
// second per event (the highest), as Redis's latencyAddSample.
func (h *Handlers) latencyAdd(event string, ms int64) {
	o := h.ops
	now := time.Now().Unix()
	o.latMu.Lock()
	defer o.latMu.Unlock()
	ts := o.events[event]
	if ts == nil {
		ts = &latencySeries{}
		o.events[event] = ts
	}
	if ms > ts.max {
		ts.max = ms
	}
	prev := (ts.idx + latencySeriesLen - 1) % latencySeriesLen
	if ts.samples[prev].time == now {
		if ms > ts.samples[prev].latency {
			ts.samples[prev].latency = ms
		}
		return
	}
	ts.samples[ts.idx] = latencySample{now, ms}
	ts.idx = (ts.idx + 1) % latencySeriesLen
}

// LatencyEvent records a latency sample for a named event (expire-cycle,
// eviction-cycle...) when it reaches latency-monitor-threshold.
func (h *Handlers) LatencyEvent(event string, d time.Duration) {
	if thr := h.ops.latThr.Int(); thr > 0 {
		if ms := int64(d / time.Millisecond); ms >= thr {
			h.latencyAdd(event, ms)
		}
	}
}

func (h *Handlers) latencyEventNames() []string {
	o := h.ops
	names := make([]string, 0, len(o.events))
	for n := range o.events {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (h *Handlers) latencyLatest(c *command.Ctx) {
	o := h.ops
	o.latMu.Lock()
	defer o.latMu.Unlock()
	names := h.latencyEventNames()
	c.W.Array(len(names))
	for _, n := range names {
		ts := o.events[n]
		last := ts.samples[(ts.idx+latencySeriesLen-1)%latencySeriesLen]
		c.W.Array(4)
		c.W.BulkString(n)
		c.W.Int(last.time)
		c.W.Int(last.latency)
		c.W.Int(ts.max)
	}
}

func (h *Handlers) latencyHistory(c *command.Ctx) {
	o := h.ops
	o.latMu.Lock()
	defer o.latMu.Unlock()
	ts := o.events[string(c.Args[2])]
	if ts == nil {
		c.W.Array(0)
		return
	}
	var samples []latencySample
	for j := 0; j < latencySeriesLen; j++ {
		s := ts.samples[(ts.idx+j)%latencySeriesLen]
		if s.time != 0 {
			samples = append(samples, s)
		}
	}
	c.W.Array(len(samples))
	for _, s := range samples {
		c.W.Array(2)
		c.W.Int(s.time)
		c.W.Int(s.latency)
	}
}

func (h *Handlers) latencyReset(c *command.Ctx) {
	o := h.ops
	o.latMu.Lock()
	defer o.latMu.Unlock()
	n := 0
	if len(c.Args) == 2 {
		n = len(o.events)
		o.events = map[string]*latencySeries{}
	} else {
		for _, a := range c.Args[2:] {
			if _, ok := o.events[string(a)]; ok {
				delete(o.events, string(a))
				n++
			}
		}
	}
	c.W.Int(int64(n))
}

func (h *Handlers) latencyGraph(c *command.Ctx) {
	o := h.ops
	o.latMu.Lock()
	defer o.latMu.Unlock()
	event := string(c.Args[2])
	ts := o.events[event]
	if ts == nil {
		c.W.Error(fmt.Sprintf("ERR No samples available for event '%s'", event))
		return
	}
	c.W.Verbatim("txt", latencyGraph(event, ts, time.Now().Unix()))
}

// latencyGraph renders Redis's LATENCY GRAPH: a header and a sparkline of
// the samples, 4 rows high, labelled with how long ago each happened.
func latencyGraph(event string, ts *latencySeries, now int64) string {
	var vals []float64
	var labels []string
	var lo, hi int64
	for j := 0; j < latencySeriesLen; j++ {
		s := ts.samples[(ts.idx+j)%latencySeriesLen]
		if s.time == 0 {
			continue
		}
		if len(vals) == 0 {
			lo, hi = s.latency, s.latency
		} else {
			lo, hi = min(lo, s.latency), max(hi, s.latency)
		}
		el := now - s.time
		var l string
		switch {
		case el < 60:
			l = fmt.Sprintf("%ds", el)
		case el < 3600:
			l = fmt.Sprintf("%dm", el/60)
		case el < 86400:
			l = fmt.Sprintf("%dh", el/3600)
		default:
			l = fmt.Sprintf("%dd", el/86400)
		}
		vals = append(vals, float64(s.latency))
		labels = append(labels, l)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, ts.max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	for off := 0; off < len(vals); off += 80 {
		n := min(80, len(vals)-off)
		sparkline(&b, vals, labels, float64(lo), float64(hi), off, n, 4)
	}
	return b.String()
}

// sparkline renders vals[off:off+n] as rows of fill characters, then the
// labels written vertically below (one blank line between), as Redis's
// sparklineRenderRange with SPARKLINE_FILL.
func sparkline(b *strings.Builder, vals []float64, labels []string, lo, hi float64, off, n, rows int) {
	const fill = "_o#"
	rel := hi - lo
	if rel == 0 {
		rel = 1
	}
	steps := len(fill) * rows
	chars := make([]byte, n)
	for row := 0; ; row++ {
		loop := false
		for i := range chars {
			chars[i] = ' '
		}
		for i := 0; i < n; i++ {
			v := vals[off+i] - lo
			step := int(v * float64(steps) / rel)
			step = max(0, min(step, steps-1))
			if row < rows {
				loop = true
				idx := step - (rows-row-1)*len(fill)
				if idx >= 0 && idx < len(fill) {
					chars[i] = fill[idx]
				} else if idx >= len(fill) {
					chars[i] = '|'
				}
			} else {
				if row-rows < 1 {
					loop = true
					break
				}
				l := labels[off+i]
				if k := row - rows - 1; k < len(l) {
					loop = true
					chars[i] = l[k]
				}
			}
		}
		if !loop {
			return
		}
		b.Write(chars)
		b.WriteByte('\n')
	}
}

func (h *Handlers) latencyDoctor(c *command.Ctx) {
	o := h.ops
	if o.latThr.Int() == 0 {
		c.W.Verbatim("txt", "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
		return
	}
	o.latMu.Lock()
	defer o.latMu.Unlock()
	if len(o.events) == 0 {
		c.W.Verbatim("txt", "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
		return
	}
	var b strings.Builder
	b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	for i, n := range h.latencyEventNames() {
		ts := o.events[n]
		var sum, cnt, first int64
		for _, s := range ts.samples {
			if s.time == 0 {
				continue
			}
			if first == 0 || s.time < first {
				first = s.time
			}
			sum += s.latency
			cnt++
		}
		avg := sum / max(cnt, 1)
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation 0ms, period %d sec). Worst all time event %dms.\n",
			i+1, n, cnt, avg, max(time.Now().Unix()-first, 1)/max(cnt, 1), ts.max)
	}
	b.WriteString("\nI have a few advices for you:\n\n")
	b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
	b.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to: 1) Lower the system load. 2) Use a computer / VM just for Redis if you are running other software in the same system. 3) Check if you have a \"noisy neighbour\" problem.\n")
	c.W.Verbatim("txt", b.String())
}

func (h *Handlers) latencyHistogram(c *command.Ctx) {
	type item struct {
		name  string
		calls int64
		hist  [exec.HistBuckets]int64
	}
	var items []item
	seen := map[string]bool{}
	add := func(s *command.Spec) {
		if seen[s.Name] {
			return
		}
		seen[s.Name] = true
		st := h.Exec.StatFor(s)
		calls := st.Calls.Load()
		if calls == 0 {
			return
		}
		items = append(items, item{s.Name, calls, st.Hist.Counts()})
	}
	if len(c.Args) == 2 {
		for _, s := range h.Table.All() {
			add(s)
			for _, sub := range servedSubs(s) {
				add(sub)
			}
		}
	} else {
		for _, a := range c.Args[2:] {
			s := h.lookupAny([]byte(strings.ToLower(string(a))))
			if s == nil {
				continue
			}
			if len(servedSubs(s)) > 0 {
				for _, sub := range servedSubs(s) {
					add(sub)
				}
				continue
			}
			add(s)
		}
	}
	c.W.Map(len(items))
	for _, it := range items {
		c.W.BulkString(it.name)
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(it.calls)
		c.W.BulkString("histogram_usec")
		n := 0
		for _, v := range it.hist {
			if v > 0 {
				n++
			}
		}
		c.W.Map(n)
		var acc int64
		for i, v := range it.hist {
			if v == 0 {
				continue
			}
			acc += v
			c.W.Int(exec.BoundUsec(i))
			c.W.Int(acc)
		}
	}
}

var latencyHelp = []string{
	"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
	"HELP",
	"    Prints this help.",
}

// --- CLIENT PAUSE

// pauseState is the pause in force: the union of the active purposes'
// requests (ALL if any is ALL) until the first of them ends (until), when
// it is computed again (pauseHold); end is the last one's end (INFO).
// done is closed when it is replaced.
type pauseState struct {
	until, end time.Time
	all        bool
	done       chan struct{}
}

// pausePurpose is why clients are paused, as Redis's pause_purpose: each
// purpose keeps its own mode and deadline, and ending one (CLIENT
// UNPAUSE, the end of a FAILOVER or of a shutdown's wait for replicas)
// leaves the others in force.
type pausePurpose int

const (
	pauseByCommand  pausePurpose = iota // CLIENT PAUSE
	pauseByFailover                     // FAILOVER, CLUSTER FAILOVER
	pauseByShutdown                     // SHUTDOWN waiting for replicas
	numPausePurposes
)

// pauseRequest is one purpose's pause (on: in force until until).
type pauseRequest struct {
	on    bool
	all   bool
	until time.Time
}

// pauseFor pauses clients for purpose until until (writes only unless
// all), keeping an earlier request's longer deadline and stricter mode,
// as Redis's pauseClients.
func (h *Handlers) pauseFor(purpose pausePurpose, until time.Time, all bool) {
	o := h.ops
	o.pauseMu.Lock()
	defer o.pauseMu.Unlock()
	now := time.Now()
	r := &o.purposes[purpose]
	if r.on && now.Before(r.until) {
		all = all || r.all
		if r.until.After(until) {
			until = r.until
		}
	}
	*r = pauseRequest{on: true, all: all, until: until}
	h.publishPauseLocked(now)
}

// unpauseFor ends purpose's pause (Redis's unpauseClients).
func (h *Handlers) unpauseFor(purpose pausePurpose) {
	o := h.ops
	o.pauseMu.Lock()
	o.purposes[purpose].on = false
	h.publishPauseLocked(time.Now())
	o.pauseMu.Unlock()
	h.flushPendingAcks()
}

// requestAcks asks the replicas for an acknowledgement (WAIT): at once,
// or during a pause when it ends.
func (h *Handlers) requestAcks() {
	if h.Exec.Store.Paused() {
		h.ops.ackPending.Store(true)
		return
	}
	h.Repl.RequestAcks()
}

// flushPendingAcks sends the acknowledgement request a WAIT made during a
// pause, once clients are no longer paused (called by UNPAUSE and the
// cron).
func (h *Handlers) flushPendingAcks() {
	if h.ops.ackPending.Load() && !h.Exec.Store.Paused() && h.ops.ackPending.Swap(false) && h.Repl != nil {
		h.Repl.RequestAcks()
	}
}

// publishPauseLocked computes the pause in force at now from the
// purposes' requests, drops the ended ones and replaces the published
// state (closing its done, so that held commands look again). Requires
// pauseMu.
func (h *Handlers) publishPauseLocked(now time.Time) {
	o := h.ops
	var next *pauseState
	for i := range o.purposes {
		r := &o.purposes[i]
		if !r.on {
			continue
		}
		if !now.Before(r.until) {
			r.on = false
			continue
		}
		if next == nil {
			next = &pauseState{until: r.until, end: r.until, done: make(chan struct{})}
		}
		next.all = next.all || r.all
		if r.until.Before(next.until) {
			next.until = r.until
		}
		if r.until.After(next.end) {
			next.end = r.until
		}
	}
	var old *pauseState
	if next == nil {
		h.Exec.Store.SetPaused(0)
		old = o.pause.Swap(nil)
	} else {
		h.Exec.Store.SetPaused(next.end.UnixMilli())
		old = o.pause.Swap(next)
	}
	if old != nil {
		close(old.done)
	}
}

func (h *Handlers) pauseExpired() bool {
	p := h.ops.pause.Load()
	return p == nil || !time.Now().Before(p.end)
}

func (h *Handlers) clientPause(c *command.Ctx) {
	if len(c.Args) > 4 {
		c.Error(subArityError(c, "CLIENT"))
		return
	}
	ms, err := strconv.ParseInt(string(c.Args[2]), 10, 64)
	if err != nil || !validIntArg(c.Args[2]) {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error("ERR timeout is negative")
		return
	}
	all := true
	if len(c.Args) == 4 {
		switch {
		case EqualFold(c.Args[3], "write"):
			all = false
		case EqualFold(c.Args[3], "all"):
		default:
			c.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	h.pauseFor(pauseByCommand, time.Now().Add(time.Duration(ms)*time.Millisecond), all)
	c.W.OK()
}

func validIntArg(b []byte) bool { _, ok := ParseInt(b); return ok }

func (h *Handlers) clientUnpause(c *command.Ctx) {
	h.unpauseFor(pauseByCommand)
	c.W.OK()
}

// pauseWait is the executor's Pause hook: it holds a command back while
// clients are paused (all commands, or with WRITE the ones that may write:
// write and may_replicate commands, scripts by their flags, EXEC of a
// transaction with such commands).
func (h *Handlers) pauseWait(cl *command.Client, spec *command.Spec, args [][]byte) (waited bool) {
	if h.ops.pause.Load() == nil { // small enough to inline: no call when not paused
		return false
	}
	return h.pauseHold(cl, spec, args)
}

// pauseHold is pauseWait while a CLIENT PAUSE may be in force.
func (h *Handlers) pauseHold(cl *command.Client, spec *command.Spec, args [][]byte) (waited bool) {
	for {
		p := h.ops.pause.Load()
		if p == nil {
			return waited
		}
		if !p.all && !h.mayWrite(cl, spec, args) {
			return waited
		}
		d := time.Until(p.until)
		if d <= 0 { // a purpose's pause ended: compute the rest
			h.ops.pauseMu.Lock()
			if h.ops.pause.Load() == p {
				h.publishPauseLocked(time.Now())
			}
			h.ops.pauseMu.Unlock()
			continue
		}
		if !waited {
			waited = true
			h.holdClient(cl.ID, true)
			defer h.holdClient(cl.ID, false)
		}
		t := time.NewTimer(d)
		select {
		case <-p.done:
		case <-t.C:
		case <-cl.Kill:
			t.Stop()
			return waited
		}
		t.Stop()
	}
}

// holdClient adds the client id to the set of clients a pause holds back
// (on) or takes it out.
func (h *Handlers) holdClient(id int64, on bool) {
	o := h.ops
	o.heldMu.Lock()
	if on {
		if o.held == nil {
			o.held = map[int64]struct{}{}
		}
		o.held[id] = struct{}{}
	} else {
		delete(o.held, id)
	}
	o.heldMu.Unlock()
}

// pauseHeld reports whether a pause holds back the client id now.
func (h *Handlers) pauseHeld(id int64) bool {
	o := h.ops
	o.heldMu.Lock()
	defer o.heldMu.Unlock()
	_, ok := o.held[id]
	return ok
}

// pauseHeldCount is the number of clients a pause holds back now.
func (h *Handlers) pauseHeldCount() int {
	o := h.ops
	o.heldMu.Lock()
	defer o.heldMu.Unlock()
	return len(o.held)
}

// mayWrite reports whether a WRITE pause holds the command back, as
// Redis 7.0's is_may_replicate_command: a write or may_replicate command,
// a script whose flags allow writes (Redis's scriptFlagsToCmdFlags; a
// script without a shebang keeps EVAL's may_replicate), EXEC of a
// transaction holding one of those.
func (h *Handlers) mayWrite(cl *command.Client, spec *command.Spec, args [][]byte) bool {
	if spec.Name == "exec" {
		for _, q := range cl.Queue {
			if s, _ := h.Exec.Lookup(q); s != nil && h.cmdMayWrite(s, q) {
				return true
			}
		}
		return false
	}
	return h.cmdMayWrite(spec, args)
}

func (h *Handlers) cmdMayWrite(spec *command.Spec, args [][]byte) bool {
	if spec.Lock == command.LockScript {
		if f, ok := h.scriptCmdFlags(spec, args); ok {
			return f.Write
		}
	}
	return spec.Has(command.FlagWrite | command.FlagMayReplicate)
}

// PauseInfo returns the pause for INFO (paused_reason...): whether
// clients are paused and until when.
func (h *Handlers) PauseInfo() (bool, time.Time) {
	p := h.ops.pause.Load()
	if p == nil || !time.Now().Before(p.end) {
		return false, time.Time{}
	}
	return true, p.end
}
