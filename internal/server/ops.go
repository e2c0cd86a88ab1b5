package server

// Operating the server: wiring of the operating hooks, byte counting for
// total_net_input_bytes and the Prometheus metrics endpoint
// (--metrics-port, off by default).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/commands"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
)

// DeclareConfig declares Crescent's own operating directives
// (metrics-port, log-format) unless already known. main calls it before
// loading the configuration; New calls it too.
func DeclareConfig(cfg *config.Config) {
	if !cfg.Known("metrics-port") {
		cfg.Declare("metrics-port", "0", false)
	}
	if !cfg.Known("log-format") {
		cfg.Declare("log-format", "text", false)
	}
	if !cfg.Known("event-loop") {
		cfg.Declare("event-loop", eventLoopDefault(), false) // loop.go
	}
	if !cfg.Known("event-loops") {
		cfg.Declare("event-loops", "0", false) // how many; 0: GOMAXPROCS
	}
	if !cfg.Known("adaptive-procs") {
		// GOMAXPROCS is the process's: only the server binary, which owns
		// its process, adapts it by default (DeclareProcessConfig)
		cfg.Declare("adaptive-procs", "no", true)
	}
}

// DeclareProcessConfig declares the directives whose defaults differ when
// the server owns its process (the crescent binary): adaptive-procs, which
// changes GOMAXPROCS (procs.go), is on. Call it before DeclareConfig.
func DeclareProcessConfig(cfg *config.Config) {
	if !cfg.Known("adaptive-procs") {
		cfg.Declare("adaptive-procs", "yes", true)
	}
}

// setupOps wires the operating features after the handlers exist.
func (s *Server) setupOps() {
	s.cmds.SetSinks(s.sinkFor)
}

// countingReader counts the bytes read from a client connection.
type countingReader struct {
	r io.Reader
	n *exec.Counter
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.AddHere(int64(n))
	return n, err
}

// connReader reads a connection's current socket (it changes when a
// connection leaves an event loop).
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	var n int
	var err error
	switch c := r.c; {
	case c.held: // the byte an idle wait read (idle.go)
		p[0], c.held, n = c.heldByte[0], false, 1
	case len(c.early) > 0: // read while the client was blocked (watch_linux.go)
		n = copy(p, c.early)
		if c.early = c.early[n:]; len(c.early) == 0 {
			c.early = nil
		}
	case c.earlyEOF:
		return 0, io.EOF
	default:
		n, err = r.c.readArmed(p)
	}
	if n > 0 {
		// the buffered input grows by n (client_evict.go)
		q := int64(r.c.rd.Buffered() + n + len(r.c.early))
		var room, skip, argv int64
		if w := r.c.rd.Room() - n; w > 0 { // a big argument still coming
			s, a := r.c.rd.Partial()
			room, skip, argv = int64(w), int64(s), int64(a)
		}
		if e := r.c.afterRead(q-skip, room, argv); e != nil {
			return 0, e
		}
	}
	return n, err
}

// startMetrics serves /metrics on metrics-port (0: off). It returns a
// function that stops the listener.
func (s *Server) startMetrics() (stop func(), err error) {
	port := s.cfg.Int("metrics-port")
	if port <= 0 {
		return func() {}, nil
	}
	host := "127.0.0.1"
	if f := strings.Fields(s.cfg.Get("bind")); len(f) > 0 {
		host = strings.TrimPrefix(f[0], "-")
		if host == "*" {
			host = "0.0.0.0"
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.FormatInt(port, 10)))
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	s.metricsLn = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		io.WriteString(w, s.Metrics())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("metrics server", "err", err)
		}
	}()
	s.log.Info("Serving metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// MetricsAddr returns the metrics listener's address (nil when off).
func (s *Server) MetricsAddr() net.Addr {
	if s.metricsLn == nil {
		return nil
	}
	return s.metricsLn.Addr()
}

// Metrics renders the Prometheus text exposition format: server gauges
// and counters, per-command calls and latency histograms, per-script
// (sha or function) calls, errors and latency histograms.
func (s *Server) Metrics() string {
	var b strings.Builder
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", name, help, name, name, fmtFloat(v))
	}
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	s.mu.Lock()
	nclients := len(s.clients)
	s.mu.Unlock()
	gauge("crescent_uptime_seconds", "Seconds since the server started.", time.Since(s.started).Seconds())
	gauge("crescent_connected_clients", "Client connections open.", float64(nclients))
	gauge("crescent_blocked_clients", "Clients waiting in a blocking command.", float64(s.exec.BlockedClients()))
	gauge("crescent_memory_used_bytes", "Memory compared with maxmemory.", float64(s.exec.UsedMemory()))
	counter("crescent_commands_processed_total", "Commands run.", s.exec.TotalCmds.Load())
	counter("crescent_connections_received_total", "Connections accepted.", s.stats.TotalConns.Load())
	counter("crescent_net_input_bytes_total", "Bytes read from clients.", s.stats.NetInput.Load())
	counter("crescent_net_output_bytes_total", "Bytes written to clients.", s.stats.NetOutput.Load())
	counter("crescent_expired_keys_total", "Keys removed because their time passed.", s.stats.ExpiredKeys.Load())
	counter("crescent_evicted_keys_total", "Keys removed by maxmemory.", s.exec.EvictedKeys.Load())
	hits, misses := s.store.KeyspaceStats()
	counter("crescent_keyspace_hits_total", "Read lookups that found their key.", hits+s.stats.Hits.Load())
	counter("crescent_keyspace_misses_total", "Read lookups that did not find their key.", misses+s.stats.Misses.Load())
	gauge("crescent_db_keys", "Keys in all databases (including expired ones not yet reclaimed).", float64(s.keyCount()))

	b.WriteString("# HELP crescent_command_calls_total Calls per command.\n# TYPE crescent_command_calls_total counter\n")
	type cmdHist struct {
		name string
		st   *exec.Stat
	}
	var hs []cmdHist
	s.exec.Stats(func(sp *command.Spec, st *exec.Stat) {
		fmt.Fprintf(&b, "crescent_command_calls_total{cmd=%q} %d\n", sp.Name, st.Calls.Load())
		hs = append(hs, cmdHist{sp.Name, st})
	})
	b.WriteString("# HELP crescent_command_rejected_calls_total Calls rejected before running.\n# TYPE crescent_command_rejected_calls_total counter\n")
	for _, h := range hs {
		fmt.Fprintf(&b, "crescent_command_rejected_calls_total{cmd=%q} %d\n", h.name, h.st.RejectedCalls.Load())
	}
	b.WriteString("# HELP crescent_command_duration_seconds Command latency.\n# TYPE crescent_command_duration_seconds histogram\n")
	for _, h := range hs {
		writeHist(&b, "crescent_command_duration_seconds", fmt.Sprintf("cmd=%q", h.name), &h.st.Hist, h.st.Usec.Load())
	}
	b.WriteString("# HELP crescent_loop_reply_delay_seconds Event-loop connections: time from the epoll_wait that reported one to its replies' write.\n# TYPE crescent_loop_reply_delay_seconds histogram\n")
	writeHist(&b, "crescent_loop_reply_delay_seconds", `loop="all"`, &s.loopDelay, s.loopDelayUsec.Load())
	counter("crescent_loop_steals_total", "Ready connections an event-loop worker took from another worker's batch.", s.loopSteals.Load())
	counter("crescent_loop_moves_total", "Connections that moved from an event loop to a goroutine of their own.", s.loopMoves.Load())
	counter("crescent_lock_conflicts_total", "Event-loop commands whose shards were held at the first try while a script ran.", s.exec.LockConflicts.Load())
	b.WriteString("# HELP crescent_lock_conflict_wait_seconds_total Time those commands waited for their shards on the loop.\n# TYPE crescent_lock_conflict_wait_seconds_total counter\n")
	fmt.Fprintf(&b, "crescent_lock_conflict_wait_seconds_total %s\n", fmtFloat(float64(s.exec.LockConflictWait.Load())/1e9))
	gauge("crescent_gomaxprocs", "Ps the Go runtime runs goroutines on (adaptive-procs changes it with the load).", float64(runtime.GOMAXPROCS(0)))
	counter("crescent_procs_changes_total", "Times the P-count governor changed GOMAXPROCS (adaptive-procs).", s.procChanges.Load())
	counter("crescent_script_lazy_reruns_total", "Event-loop scripts that found a shard busy at a key's first access and ran again holding their declared shards.", s.exec.LazyReruns.Load())
	counter("crescent_lock_declines_total", "Of those, commands that did not get their shards within the spin and moved to a goroutine.", s.exec.LockDeclines.Load())
	b.WriteString("# HELP crescent_errors_total Error replies by prefix.\n# TYPE crescent_errors_total counter\n")
	for p, n := range s.exec.ErrorStats() {
		fmt.Fprintf(&b, "crescent_errors_total{prefix=%q} %d\n", p, n)
	}
	type scr struct {
		name string
		st   *commands.ScriptStat
	}
	var ss []scr
	s.cmds.ScriptStats(func(name string, st *commands.ScriptStat) { ss = append(ss, scr{name, st}) })
	b.WriteString("# HELP crescent_script_calls_total Script runs by sha (EVAL) or function:<name>.\n# TYPE crescent_script_calls_total counter\n")
	for _, x := range ss {
		fmt.Fprintf(&b, "crescent_script_calls_total{script=%q} %d\n", x.name, x.st.Calls.Load())
	}
	b.WriteString("# HELP crescent_script_errors_total Script runs that replied with an error.\n# TYPE crescent_script_errors_total counter\n")
	for _, x := range ss {
		fmt.Fprintf(&b, "crescent_script_errors_total{script=%q} %d\n", x.name, x.st.Errors.Load())
	}
	b.WriteString("# HELP crescent_script_duration_seconds Script latency.\n# TYPE crescent_script_duration_seconds histogram\n")
	for _, x := range ss {
		writeHist(&b, "crescent_script_duration_seconds", fmt.Sprintf("script=%q", x.name), &x.st.Hist, x.st.UsecTotal.Load())
	}
	return b.String()
}

// writeHist writes a histogram's cumulative buckets (le in seconds), sum
// and count.
func writeHist(b *strings.Builder, name, labels string, h *exec.Histogram, sumUsec int64) {
	counts := h.Counts()
	last := 0
	for i, n := range counts {
		if n > 0 {
			last = i
		}
	}
	var acc int64
	for i := 0; i <= last; i++ {
		acc += counts[i]
		fmt.Fprintf(b, "%s_bucket{%s,le=\"%s\"} %d\n", name, labels, fmtFloat(float64(exec.BoundNS(i))/1e9), acc)
	}
	fmt.Fprintf(b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, acc)
	fmt.Fprintf(b, "%s_sum{%s} %s\n", name, labels, fmtFloat(float64(sumUsec)/1e6))
	fmt.Fprintf(b, "%s_count{%s} %d\n", name, labels, acc)
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (s *Server) keyCount() int {
	s.store.LockAll()
	defer s.store.UnlockAll()
	n := 0
	for i := 0; i < s.store.NumDBs(); i++ {
		n += s.store.DB(i, 0).Size()
	}
	return n
}
