// Package server accepts connections and runs each client's commands
// through the executor.
package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/commands"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/gctune"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/mono"
	"github.com/crescent-db/crescent/internal/persist"
	"github.com/crescent-db/crescent/internal/persist/codec"
	"github.com/crescent-db/crescent/internal/persist/rdb"
	"github.com/crescent-db/crescent/internal/pubsub"
	"github.com/crescent-db/crescent/internal/resp"
)

// Server is a running Crescent instance.
type Server struct {
	cfg   *config.Config
	log   *slog.Logger
	store *keyspace.Store
	exec  *exec.Executor
	table *command.Table
	cmds  *commands.Handlers

	mu        sync.Mutex
	clients   map[int64]*conn
	lnMu      sync.Mutex // guards listeners (CONFIG SET port and bind replace them: listen.go)
	listeners []net.Listener
	serving   bool // Run accepts on listeners (guarded by lnMu)
	nextID    atomic.Int64
	wg        sync.WaitGroup
	started   time.Time

	// clockMs is the time in Unix ms as of the last cron tick (1/hz s):
	// cheap enough to read per command where seconds are all that count.
	clockMs atomic.Int64

	shutdownOnce sync.Once
	shutdownCh   chan struct{}

	stats commands.NetStats
	gc    *gctune.Tuner // GC headroom for a large keyspace (cron)

	pubsub *pubsub.Hub
	limits limits         // client-output-buffer-limit (output.go)
	evict  clientEviction // maxmemory-clients (client_evict.go)
	// persistence (internal/persist): snapshots and the AOF. Durable, when
	// set, blocks a connection's flush until the client's last write is on
	// disk (appendfsync always: group commit).
	persist *persist.Manager
	Durable func(cl *command.Client) error

	metricsLn net.Listener // Prometheus endpoint (ops.go)

	// Security and limits (tls.go, limits.go).
	tls          tlsState
	tlsListeners []net.Listener
	clientLimits clientLimits

	loops *eventLoops // event-loop front end (loop.go); nil when off
	// procs is GOMAXPROCS as the P-count governor last set it (procs.go;
	// the loops read it to choose how to wait), procChanges how many times
	// it changed it.
	procs       atomic.Int32
	procChanges atomic.Int64
	procSrc     procSource // nil: the machine's statistics (tests set it)
	// procPoke: a loop worker at one P that took a whole batch asks the
	// governor to look now (procGovernor.up).
	procPoke chan struct{}
	// procPokeAt: the loops send on procPoke only from this time (mono
	// ns): the governor sets it to when a look could change the count (a
	// window of procPokeMin since its last sample, and no back-off), or
	// to never (already at every P, adaptive-procs no).
	procPokeAt atomic.Int64
	// loopRawWait overrides eventLoops.rawWait when not 0 (tests;
	// negative: no raw waits).
	loopRawWait time.Duration
	loopMoves   atomic.Int64 // connections moved from a loop to a goroutine
	// loopDelay: for each connection a loop worker served, the time from
	// the epoll_wait that reported it to its replies' write (µs; the
	// tail-latency metric of docs/design/concurrency.md, "seventh
	// session"); loopDelayUsec is their sum.
	loopDelay     exec.Histogram
	loopDelayUsec exec.Counter
	// loopTicks counts the cron's ticks (tickLoops; the cron's goroutine
	// only); idleReleases the read buffers idle loop connections released
	// (eventLoop.releaseIdle).
	loopTicks    int
	idleReleases atomic.Int64
	loopSteals   atomic.Int64 // ready connections taken from another worker's batch
	loopHooks    loopHooks    // tests only (export_test.go)
	// expireLocked is the shard the cron's active expiry holds, else -1
	// (cron goroutine only; cronTick releases it after a panic).
	expireLocked int
	// Tests only (export_test.go), set before Run: cronHook runs at the
	// start of each cron tick's work, connHook on each new connection.
	cronHook func()
	connHook func(c *conn)
	oom      oomScore // oom-score-adj (oom.go)
}

// maxBaseMemory caps the start-up heap counted in used_memory.
const maxBaseMemory = 2 << 20

// New builds a server from its configuration.
func New(cfg *config.Config, logger *slog.Logger, configFile string) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	table, err := command.NewTable()
	if err != nil {
		return nil, err
	}
	DeclareConfig(cfg) // metrics-port, log-format (ops.go)
	s := &Server{cfg: cfg, log: logger, table: table, clients: map[int64]*conn{},
		shutdownCh: make(chan struct{}), started: time.Now(), procPoke: make(chan struct{}, 1)}
	s.clockMs.Store(s.started.UnixMilli())
	s.expireLocked = -1
	// ids 1 and 2 are the scripts' fake clients (commands.LuaClientID,
	// FunctionClientID): connections start at 3, as in Redis
	s.nextID.Store(commands.FunctionClientID)
	s.store = keyspace.New(int(cfg.Int("databases")), keyspace.Hooks{
		Expired: func(db int, key string, by unsafe.Pointer) {
			s.stats.ExpiredKeys.Add(1)
			// a command's lookup (by: its *command.Ctx) or the active expiry
			var cur *command.Client
			c := (*command.Ctx)(by)
			if c != nil {
				cur = c.Client
			}
			s.exec.KeyExpired(db, key, cur, c) // WATCH and the "expired" event
		},
		New: func(db int, key []byte, by unsafe.Pointer) {
			// a command's: where its other events go (keyspace.DB.WithEvents,
			// given the *command.Ctx by exec and commands)
			if c := (*command.Ctx)(by); c != nil && c.Notify != nil {
				c.Notify('n', "new", db, key, c.Client)
				return
			}
			s.pubsub.Notify('n', "new", db, key)
		},
		Miss: func(db int, key []byte, by unsafe.Pointer) {
			// as New: a script's miss waits with its other events
			// (exec's partial mode), and a stopped attempt's is dropped
			if c := (*command.Ctx)(by); c != nil && c.Notify != nil {
				c.Notify('m', "keymiss", db, key, c.Client)
				return
			}
			s.pubsub.Notify('m', "keymiss", db, key)
		},
		// lazyfreed_objects of overwrites, expiries and evictions under
		// the lazyfree-lazy-* directives (setupLazyFree)
		LazyFree: func(val any) { s.cmds.LazyFreed(val) },
	})
	if cfg.Bool("cluster-enabled") {
		// the slot→keys index (keyspace/slots.go), before any key is loaded
		s.store.IndexSlots(cluster.KeySlot)
	}
	s.exec = exec.New(table, s.store)
	s.exec.OnPanic = func(cmd string, v any, stack []byte) {
		logger.Warn("a command's handler panicked: the client got an internal error",
			"cmd", cmd, "panic", fmt.Sprint(v), "stack", string(stack))
	}
	codecs := rdb.NewCodecs()
	codec.Register(codecs, codec.ConfigLimits(cfg)) // lists, hashes, sets, zsets, streams
	if err := s.setupPubSub(cfg); err != nil {
		return nil, err
	}
	if err := s.setupTLS(cfg); err != nil {
		return nil, err
	}
	s.setupClientLimits(cfg)
	s.setupClientEviction(cfg)
	s.cmds = commands.New(commands.Deps{
		Config: cfg, Store: s.store, Exec: s.exec, Table: table, Log: logger,
		Server: s, Net: &s.stats, Started: s.started, ConfigFile: configFile,
		PubSub: s.pubsub, Codecs: codecs,
	})
	// Security and limits: ACL users, maxmemory.
	s.exec.ACL = s.cmds.ACL
	s.exec.AuthRequired = s.cmds.ACL.DefaultNeedsAuth
	s.exec.ClientInfo = s.cmds.ClientInfoLine
	s.setupOps() // operating hooks (ops.go)
	if err := s.cmds.LoadACL(); err != nil {
		return nil, err
	}
	// used_memory counts the server's own heap at start (about 1.8 MB),
	// as Redis's counts its empty instance. A larger heap at this point
	// belongs to the process embedding the server (tests run many
	// servers in one process), not to this server.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.exec.BaseMemory = min(int64(ms.HeapAlloc), maxBaseMemory)
	maxmem, policy, samples := cfg.Var("maxmemory"), cfg.Var("maxmemory-policy"), cfg.Var("maxmemory-samples")
	s.exec.Memory = func() (int64, string, int) {
		return maxmem.Int(), policy.String(), int(samples.Int())
	}
	s.gc = gctune.New()
	s.gc.MaxMemory = maxmem.Int
	setLFU := func(p string) { s.store.SetLFU(strings.HasSuffix(p, "-lfu")) }
	setLFU(cfg.Get("maxmemory-policy"))
	cfg.OnChange("maxmemory-policy", setLFU)
	// Redis makes no shared integers under maxmemory with an LRU/LFU
	// policy; a value keeps what it got when made (OBJECT REFCOUNT)
	setShared := func(string) { s.store.SetNoSharedIntegers(commands.NoSharedIntegers(maxmem.Int(), policy.String())) }
	setShared("")
	cfg.OnChange("maxmemory-policy", setShared)
	cfg.OnChange("maxmemory", setShared)
	setupLazyFree(cfg, s.store)
	lfuLog, lfuDecay := cfg.Var("lfu-log-factor"), cfg.Var("lfu-decay-time")
	setLFUParams := func(string) { s.store.SetLFUParams(lfuLog.Int(), lfuDecay.Int()) }
	setLFUParams("")
	cfg.OnChange("lfu-log-factor", setLFUParams)
	cfg.OnChange("lfu-decay-time", setLFUParams)
	// persistence: load the dataset, then hook the AOF in
	s.persist = persist.New(cfg, logger, s.store, s.exec, codecs, commands.RedisVersion)
	s.persist.Functions = commands.FunctionStore{Libs: s.cmds.Functions()}
	s.cmds.Persist = s.persist
	s.cmds.Repl = s.persist
	s.cmds.ReplicaConn = s.replicaConn
	s.persist.ReplicaLimit = s.clientLimits.replicaLimit
	s.persist.ListenPort = s.Port
	s.persist.NewClientID = func() int64 { return s.nextID.Add(1) }
	s.persist.FlushTracking = s.cmds.TrackingFlush // a swapdb diskless load (persist/diskless.go)
	s.cmds.PersistenceInfo = s.persist.Info
	s.cmds.BeforeShutdown = s.persist.Shutdown
	if err := s.persist.Load(); err != nil {
		return nil, fmt.Errorf("loading the dataset: %w", err)
	}
	if err := s.persist.Start(); err != nil {
		s.persist.Close()
		return nil, err
	}
	s.Durable = s.persist.Durable
	s.setupOOMScore()
	cfg.OnChange("replica-read-only", func(string) { s.persist.ReadOnlyChanged() })
	cfg.OnChange("replica-serve-stale-data", func(string) { s.persist.ReadOnlyChanged() })
	if _, _, err := s.replicaOfDirective(); err != nil { // started by Run
		s.persist.Close()
		return nil, err
	}
	return s, nil
}

// replicaOfDirective parses the replicaof directive ("": none).
func (s *Server) replicaOfDirective() (string, int, error) {
	v := s.cfg.Get("replicaof")
	if v == "" {
		return "", 0, nil
	}
	f := strings.Fields(v)
	if len(f) != 2 {
		return "", 0, fmt.Errorf("replicaof %q: expected <host> <port>", v)
	}
	port, err := strconv.Atoi(f[1])
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("replicaof %q: invalid master port", v)
	}
	return f[0], port, nil
}

// Exec returns the server's executor.
func (s *Server) Exec() *exec.Executor { return s.exec }

// Listen opens the listening sockets from the bind, port and tls-port
// directives. Port 0 disables the plain port when tls-port is set; with
// neither set it picks a free port (Redis refuses to start; tests use it).
func (s *Server) Listen() error {
	if tp := s.cfg.Get("tls-port"); tp != "0" {
		lns, err := s.listenAll(s.cfg.Get("bind"), tp)
		if err != nil {
			return err
		}
		s.tlsListeners = lns
		if s.cfg.Get("port") == "0" {
			return nil
		}
	}
	lns, err := s.listenAll(s.cfg.Get("bind"), s.cfg.Get("port"))
	s.lnMu.Lock()
	s.listeners = lns
	s.lnMu.Unlock()
	return err
}

// listenAll listens on port at every address of bind.
func (s *Server) listenAll(bind, port string) ([]net.Listener, error) {
	var out []net.Listener
	for _, addr := range strings.Fields(bind) {
		optional := strings.HasPrefix(addr, "-")
		addr = strings.TrimPrefix(addr, "-")
		if addr == "*" {
			addr = "0.0.0.0"
		}
		// KeepAlive -1: the runtime sets no keep-alive options of its own on
		// accepted connections; setKeepAlive sets tcp-keepalive's (the
		// runtime's default 15 s ones were set, then set again: 9 socket
		// options per connection where Redis sets 5)
		ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", net.JoinHostPort(addr, port))
		if err != nil {
			if optional {
				continue
			}
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s port %s: %w", addr, port, err)
		}
		out = append(out, ln)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address to listen on")
	}
	return out, nil
}

// Addr returns the first listening address (the first TLS one when the
// plain port is disabled).
func (s *Server) Addr() net.Addr {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if len(s.listeners) == 0 {
		return s.TLSAddr()
	}
	return s.listeners[0].Addr()
}

// TLSAddr returns the first TLS listening address, or nil.
func (s *Server) TLSAddr() net.Addr {
	if len(s.tlsListeners) == 0 {
		return nil
	}
	return s.tlsListeners[0].Addr()
}

// Run serves until ctx is done or SHUTDOWN, then stops gracefully: it stops
// accepting, closes clients after their current command, and returns once
// every goroutine it started has exited.
func (s *Server) Run(ctx context.Context) error {
	if len(s.listeners) == 0 && len(s.tlsListeners) == 0 {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	stopMetrics, err := s.startMetrics() // ops.go
	if err != nil {
		return err
	}
	defer stopMetrics()
	if s.cfg.Bool("cluster-enabled") { // cluster.go
		stopCluster, err := s.startCluster()
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		defer stopCluster()
	}
	if s.cfg.Bool("event-loop") {
		if err := s.startLoops(); err != nil {
			return fmt.Errorf("event loops: %w", err)
		}
	}
	stopGovernor := s.startProcGovernor() // procs.go
	s.log.Info("Ready to accept connections", "addr", s.Addr().String())
	if host, port, _ := s.replicaOfDirective(); host != "" {
		s.persist.ReplicaOf(host, port) // the link announces the port just opened
	}
	s.lnMu.Lock()
	for _, ln := range s.listeners {
		s.wg.Add(1)
		go s.accept(ln, false)
	}
	s.serving = true
	s.lnMu.Unlock()
	s.watchListenConfig() // listen.go
	for _, ln := range s.tlsListeners {
		s.wg.Add(1)
		go s.accept(ln, true)
	}
	cronCtx, stopCron := context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.cron(cronCtx)
	select {
	case <-ctx.Done():
	case <-s.shutdownCh:
	}
	s.log.Info("Shutting down")
	s.lnMu.Lock()
	for _, ln := range append(s.listeners, s.tlsListeners...) {
		ln.Close()
	}
	s.serving = false
	s.lnMu.Unlock()
	stopCron()
	stopMetrics()
	s.cmds.Close()
	s.mu.Lock()
	for _, c := range s.clients {
		c.close()
	}
	s.mu.Unlock()
	stopGovernor() // before the loops close their epoll descriptor
	s.stopLoops()
	s.wg.Wait()
	if err := s.persist.Close(); err != nil {
		s.log.Error("closing the AOF", "err", err)
	}
	s.log.Info("Crescent is now ready to exit, bye bye...")
	return nil
}

// Shutdown asks Run to return.
func (s *Server) Shutdown() { s.shutdownOnce.Do(func() { close(s.shutdownCh) }) }

// SignalShutdown is SIGTERM's or SIGINT's shutdown (sig names the
// signal), as in Redis 7.0: with the flags of shutdown-on-sigterm or
// shutdown-on-sigint it waits for lagging replicas (shutdown-timeout),
// saves when save points are configured, and stops. It reports false when
// the save failed: the server then goes on serving, as Redis does.
// (Cancelling Run's context stops without saving.)
func (s *Server) SignalShutdown(sig string) bool { return s.cmds.SignalShutdown(sig) }

// ShutdownPending reports whether a SHUTDOWN (or a signal) waits for
// lagging replicas before the server stops.
func (s *Server) ShutdownPending() bool { return s.cmds.ShutdownPending() }

func (s *Server) accept(ln net.Listener, isTLS bool) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.setKeepAlive(nc)
		if isTLS {
			nc = tls.Server(nc, s.serverTLSConfig())
		}
		maxc := int(s.cfg.Int("maxclients"))
		s.mu.Lock()
		n := len(s.clients)
		s.mu.Unlock()
		if n >= maxc {
			s.reject(nc, "-ERR max number of clients reached\r\n")
			continue
		}
		if commands.ProtectedModeDenied(s.cfg.Bool("protected-mode"), s.cmds.ACL.Default().NoPass(), isLocal(nc.RemoteAddr())) {
			s.reject(nc, commands.ProtectedModeMessage)
			continue
		}
		c := s.newConn(nc)
		if !isTLS && s.adopt(c) { // event loop (loop.go)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.recoverConn("connection")
			c.serve()
		}()
	}
}

// cron runs periodic work: active expiry of keys nobody reads.
func (s *Server) cron(ctx context.Context) {
	defer s.wg.Done()
	hz := s.cfg.Int("hz")
	if hz <= 0 {
		hz = 10
	}
	t := time.NewTicker(time.Second / time.Duration(hz))
	defer t.Stop()
	next := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.clockMs.Store(time.Now().UnixMilli())
		if s.cmds.CronPaused() {
			continue // DEBUG PAUSE-CRON 1
		}
		s.cronTick(func() { next = s.cronWork(next, hz) }) // recover.go
	}
}

// cronWork is one tick of the cron's work after the clock; next is the
// shard where active expiry goes on, returned for the next tick.
func (s *Server) cronWork(next int, hz int64) int {
	if s.cronHook != nil {
		s.cronHook() // tests only
	}
	// DEBUG SET-ACTIVE-EXPIRE, CLIENT PAUSE (ops); a replica's keys
	// are deleted by its master's DELs
	if s.cmds.ActiveExpireEnabled() && !s.store.Replica() {
		next = s.activeExpire(next, 25*time.Millisecond/time.Duration(hz)*10/10)
		// an expired stream unblocks its XREADGROUP clients, as
		// Redis's beforeSleep serves them after the cycle
		s.exec.ServeReady()
	}
	if s.exec.Cluster != nil && s.exec.BlockedClients() > 0 {
		// blocked on a slot served elsewhere now, or the cluster
		// is down: MOVED / CLUSTERDOWN (Redis's clientsCron)
		s.exec.RedirectBlocked()
	}
	s.cmds.Cron()
	s.evictionCron() // maxmemory-clients (client_evict.go)
	s.gc.Tick()
	s.tickLoops() // idle timeout (loop.go)
	return next
}

// activeExpire samples volatile keys shard by shard, as Redis's active
// expire cycle does: keep going in a shard while more than a quarter of
// the sample was expired, within a time budget.
func (s *Server) activeExpire(start int, budget time.Duration) int {
	begin := mono.Now()
	sh := start
	clean := 0 // shards in a row whose sample was at most 10% expired
	for i := 0; i < keyspace.NumShards; i++ {
		sh = (start + i) % keyspace.NumShards
		if !s.store.HasVolatile(sh) {
			// nothing to sample: no lock taken, no clock read (a read
			// costs 0.1-0.3 µs on this kind of VM, and most shards of
			// most servers hold no volatile keys)
			continue
		}
		s.store.LockShard(sh)
		s.expireLocked = sh // for cronTick's recovery
		now := s.exec.Now()
		sampled, expired := 0, 0
		for db := 0; db < s.store.NumDBs(); db++ {
			for {
				n, x := s.store.ActiveExpire(sh, db, now, 20)
				sampled, expired = sampled+n, expired+x
				if n == 0 || x*4 <= n {
					break
				}
			}
		}
		s.expireLocked = -1
		s.store.UnlockShard(sh)
		if expired*10 <= sampled {
			clean++
		} else {
			clean = 0
		}
		// Keys spread evenly over the shards: when expiredCleanShards
		// shards in a row had little to expire, the others are likely
		// the same, and the next tick goes on from here. (Sampling all
		// 256 shards per tick took 256 times Redis's 20 keys per
		// database: 1-3% of a core at 100k volatile keys.)
		if clean >= expireCleanShards || time.Duration(mono.Now()-begin) > budget {
			return (sh + 1) % keyspace.NumShards
		}
	}
	return (sh + 1) % keyspace.NumShards
}

// expireCleanShards is how many shards in a row with at most 10% of their
// sample expired end an active expiry tick (Redis's cycle stops when its
// sample is under 10% expired).
const expireCleanShards = 16

type conn struct {
	s      *Server
	nc     net.Conn
	cl     *command.Client
	rd     *resp.Reader
	w      *resp.Writer
	closed atomic.Bool
	// ncMu guards nc against the move from an event loop to a goroutine
	// (loop_linux.go) for the goroutines that close the connection.
	ncMu sync.Mutex
	lp   *loopState      // event loop state; nil once on a goroutine
	pf   exec.Prefetcher // a pipelined batch's keys (prefetch)
	// Going back to a loop (loop.go, canRejoin): fromLoop, the
	// connection left one; streak, commands run since on its goroutine
	// without one that may wait.
	fromLoop bool
	streak   int
	qbuf     atomic.Int64 // query buffer length, for CLIENT LIST from other clients
	qcap     atomic.Int64 // the read buffer's size, for the same (Reader.Cap)
	// the reply buffer's size and peak (CLIENT LIST rbs, rbp), published
	// after each batch (noteReplyBuffer); rpeakAt: when the peak started
	rcap, rpeak atomic.Int64
	rpeakAt     int64
	outbox      // pushes from other goroutines (output.go)
	connMem     // maxmemory-clients accounting (client_evict.go)

	connLimits           // output limit and idle timeout state (limits.go)
	gate       replyGate // CLIENT REPLY OFF/SKIP (reply.go)
}

func (s *Server) newConn(nc net.Conn) *conn {
	id := s.nextID.Add(1)
	cl := command.NewClient(id)
	cl.Addr = nc.RemoteAddr().String()
	cl.LAddr = nc.LocalAddr().String()
	cl.Created = time.Now().UnixMilli()
	cl.LastTime.Store(cl.Created)
	cl.Authed = !s.cmds.ACL.DefaultNeedsAuth()
	cl.Publish()
	c := &conn{s: s, nc: nc, cl: cl, w: resp.NewWriter()}
	c.w.Guard = c.replyGuard // a growing reply's output limit (limits.go)
	c.w.Limit = c.replyLimit
	c.bucket = -1
	cl.Out = &c.w.Buf // the client's own pushes (commands.PushSelf)
	c.proto.Store(int32(cl.Proto))
	c.rd = resp.NewReader(countingReader{connReader{c}, &s.stats.NetInput}, resp.Limits{
		MaxBulkLen:  s.cfg.Int("proto-max-bulk-len"),
		MaxQueryBuf: int(s.cfg.Int("client-query-buffer-limit")),
	})
	c.rd.BeforeRead = c.beforeRead // flush, then arm the idle timeout (limits.go)
	cl.Flush = func() { c.flush() }
	cl.ReplyBoundary = c.replyBoundary
	cl.WatchClose = c.watchClose
	cl.DebugConn = debugConn{c}
	cl.OnKill = func() { go c.killed() }
	c.noteFD(nc)
	if s.connHook != nil {
		s.connHook(c) // tests only
	}
	s.mu.Lock()
	s.clients[id] = c
	s.mu.Unlock()
	s.stats.TotalConns.Add(1)
	return c
}

func (c *conn) close() {
	if c.closed.CompareAndSwap(false, true) {
		c.cl.Close()
		c.netConn().Close()
	}
}

// netConn returns the connection's socket: an event loop's descriptor
// (loop_linux.go) until the connection moves to a goroutine.
func (c *conn) netConn() net.Conn {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	return c.nc
}

func (c *conn) flush() error {
	c.cl.ClockMark = 0 // a write takes time (Client.ClockMark)
	if len(c.w.Buf) == 0 && !c.inBatch {
		return nil
	}
	if len(c.w.Buf) > 0 && c.s.Durable != nil {
		// replies to writes leave only once the writes are durable
		if err := c.s.Durable(c.cl); err != nil {
			c.s.log.Warn("AOF write failed: closing client", "addr", c.cl.Addr, "err", err)
			return err
		}
	}
	err := c.writeOut(true) // also ends the batch (output.go)
	c.inBatch = false
	used := len(c.w.Buf)
	if cap(c.w.Buf) > 1<<20 {
		c.w.Buf = nil // the next reply starts small again
	}
	c.w.Reset()
	c.noteReplyBuffer(used)
	return err
}

// noteReplyBuffer publishes, after a batch's replies were written, the
// reply buffer's size (CLIENT LIST rbs) and its peak (rbp: the most one
// batch put in it, over the last DEBUG REPLYBUFFER PEAK-RESET-TIME, 5 s
// by default) for the other clients' CLIENT LIST; used is what the batch
// put in it.
func (c *conn) noteReplyBuffer(used int) {
	if n := int64(cap(c.w.Buf)); n != c.rcap.Load() {
		c.rcap.Store(n)
	}
	u := int64(used)
	if now, reset := c.s.clockMs.Load(), c.s.cmds.ReplyPeakReset(); reset >= 0 && now-c.rpeakAt >= reset {
		c.rpeakAt = now
		c.rpeak.Store(u)
	} else if u > c.rpeak.Load() {
		c.rpeak.Store(u)
	}
}

// debugConn is a connection's command.DebugIO: a script under the Lua
// debugger (SCRIPT DEBUG) reads the client's debugger commands and writes
// its output itself, on the connection's goroutine, while it runs.
type debugConn struct{ c *conn }

// ReadCommand reads the client's next command (copied: the script's
// call still refers to the read buffer).
func (d debugConn) ReadCommand() ([][]byte, error) {
	c := d.c
	c.streak = 0 // no going back to an event loop in the middle of a command
	c.prepareRead()
	args, err := c.readCommand(false) // the script's arguments alias the buffer: kept
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = bytes.Clone(a)
	}
	return out, nil
}

// Write sends p now, after any reply still buffered.
func (d debugConn) Write(p []byte) error {
	d.c.w.Buf = append(d.c.w.Buf, p...)
	return d.c.flush()
}

// finish removes a connection that is done.
func (c *conn) finish() {
	c.close()
	c.s.mu.Lock()
	delete(c.s.clients, c.cl.ID)
	c.s.mu.Unlock()
	c.s.forget(c)
	c.s.cmds.ClientGone(c.cl)
}

// noteFD records the descriptor of nc, c's socket, for CLIENT LIST.
func (c *conn) noteFD(nc net.Conn) {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { c.cl.FD.Store(int32(fd)) })
		}
	}
}

// killed closes the socket (or wakes the goroutine blocked on it) of a
// client that was killed: Client.OnKill starts it, so that no goroutine
// waits for it meanwhile (one per connection was 2 KiB of stack each).
func (c *conn) killed() {
	c.ncMu.Lock()
	nc := c.nc
	c.ncMu.Unlock()
	if lf, ok := nc.(*loopFD); ok {
		lf.Close() // the event loop sees the hang-up
		return
	}
	// wake a blocked read or write; the serving loop then exits
	nc.SetDeadline(time.Now())
}

func (c *conn) serve() {
	if !c.handshake() || !c.runOwn() {
		c.finish()
	}
}

// runOwn serves c on its own goroutine until it is to be closed (false)
// or has gone back to an event loop (true): the goroutine then lets go.
func (c *conn) runOwn() bool {
	for c.run() { // on a goroutine, run returns true only to rejoin
		if c.s.rejoin(c) {
			return true
		}
		c.streak = 0
	}
	return false
}

// run reads and executes commands until the connection is to be closed
// (false). Served by an event loop (c.lp != nil), it also returns true
// when the input is drained, and when the connection must move to a
// goroutine of its own (c.lp.leave; the command that made it move, not
// yet run, in c.lp.args).
func (c *conn) run() bool {
	for {
		c.prepareRead() // live reader limits (limits.go)
		// an idle client's buffers are released meanwhile (idle.go)
		args, err := c.readCommand(true)
		if err != nil {
			if err == errWouldBlock {
				return true // event loop: wait for input
			}
			if err == errRejoin {
				return true // back to an event loop (runOwn)
			}
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				c.w.Error("ERR " + pe.Error())
				c.flush()
			} else if errors.Is(err, resp.ErrBufferLimit) {
				c.s.log.Warn("closing client that reached max query buffer length", "addr", c.cl.Addr)
			}
			return false
		}
		if len(args) == 0 {
			continue
		}
		if c.rd.Fresh() && c.rd.Buffered() > 0 && c.s.store.PrefetchPays() {
			c.prefetch(args) // a pipelined batch arrived
		}
		if c.lp != nil && c.lp.mustLeave(c) {
			c.lp.args = args
			return true
		}
		if !c.execute(args) {
			return false
		}
		if c.lp != nil && c.lp.leave {
			return true
		}
	}
}

// prefetch warms the CPU caches for the keys of the command just read
// (args) and of those buffered behind it (exec.Prefetcher,
// keyspace.Store.Prefetch).
func (c *conn) prefetch(args [][]byte) {
	p, e := &c.pf, c.s.exec
	if p.Add(e, args) {
		c.rd.Ahead(8, func(a [][]byte) bool { return p.Add(e, a) })
	}
	p.Run(e, c.cl)
}

// execute runs one command; false means the connection is to be closed.
func (c *conn) execute(args [][]byte) bool {
	if c.cl.Killed() {
		c.flush()
		return false
	}
	if c.cl.Flags&command.ClientReplica != 0 && !replicaCommandWithoutReply(args) {
		// as Redis 7.0: a replica must not get replies on its link (they
		// would mix with the stream), so one whose command would have one
		// is disconnected
		c.s.log.Warn(fmt.Sprintf("Replica generated a reply to command '%s', disconnecting it", strings.ToLower(string(args[0]))),
			"addr", c.cl.Addr)
		c.flush()
		return false
	}
	fat := 0
	if c.rd.TookRead() {
		c.cl.ClockMark = 0   // time passed: not a pipeline's next command
		fat = c.rd.TakeBig() // an argument of 32 kB or more came in pieces
	}
	c.cl.LastTime.Store(c.s.clockMs.Load()) // a cron-updated clock: CLIENT LIST idle is in seconds
	c.w.Proto = c.cl.Proto
	c.qbuf.Store(int64(c.rd.Buffered()))
	if n := int64(c.rd.Cap()); n != c.qcap.Load() {
		c.qcap.Store(n)
	}
	if limit := c.s.evict.limit.Load(); limit > 0 && !c.beforeCommand(limit, args) {
		return false // evicted before its command (client_evict.go): no flush
	}
	if fat > 0 {
		c.noteFat(fat)
	}
	c.beginCommand()
	c.muteStart() // CLIENT REPLY OFF/SKIP (reply.go)
	c.s.exec.Execute(c.cl, args, c.w)
	c.cl.Publish()      // what CLIENT LIST and others read of it
	if c.cl.WouldWait { // event loop: not run, it moves to a goroutine
		c.muteEnd(false)
		c.cl.WouldWait = false
		c.lp.args, c.lp.leave, c.lp.lockBusy = args, true, c.cl.LockBusy
		c.cl.LockBusy = false
		return true
	}
	if c.fromLoop && c.lp == nil {
		if c.cl.MayWait {
			c.streak = 0
		} else {
			c.streak++
		}
	}
	c.muteEnd(true)
	c.commandDone()
	c.endCommand()
	c.w.Proto = c.cl.Proto
	if c.cl.Flags&command.ClientCloseAfterReply != 0 {
		c.flush()
		return false
	}
	if c.overOutputLimit() { // client-output-buffer-limit normal (limits.go)
		return false
	}
	if len(c.w.Buf) > 64*1024 {
		if c.rd.Buffered() == 0 {
			// the read's last command: Redis's batch ends with it and
			// its replies are written; what the socket does not take
			// counts as Redis would hold it (outmodel.go)
			c.batchOut = 0
			c.heldOut.Store(0)
			c.dropHeld()
			return c.flush() == nil
		}
		out := c.batchOut + int64(len(c.w.Buf)) // Redis would still hold them (client_evict.go)
		c.holdMarks(c.batchOut, c.w.Marks)
		c.heldOut.Store(out)
		if err := c.flush(); err != nil {
			return false
		}
		c.batchOut = out
	}
	return true
}

// ClientList implements commands.Server.
func (s *Server) ClientList() []*command.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*command.Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c.cl)
	}
	return out
}

// ClientMemory implements commands.Server: a client's buffers for CLIENT
// LIST, as eviction counts them (client_evict.go). self is the client
// running the command, on its serving goroutine: it sees its own batch's
// replies, and its query buffer since the last read began, with the
// commands of that read already run (Redis trims them from its query
// buffer only after the read's last command).
func (s *Server) ClientMemory(id int64, self bool) commands.ClientMem {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c == nil {
		return commands.ClientMem{}
	}
	var m commands.ClientMem
	var f outFigures
	if self {
		m.Qbuf, m.Cap = int64(c.rd.Held()), int64(c.rd.Cap())
		f = c.ownFigures()
		m.Rbs, m.Rbp = int64(cap(c.w.Buf)), max(c.rpeak.Load(), int64(len(c.w.Buf)))
	} else {
		m.Qbuf, m.Room, m.Argv, m.Cap = c.qbuf.Load(), c.qroom.Load(), c.qargv.Load(), c.qcap.Load()
		m.Rbs, m.Rbp = c.rcap.Load(), c.rpeak.Load()
		f, _ = c.otherFigures()
	}
	m.Out, m.Obl, m.Oll, m.Omem = f.total(), f.obl, f.oll, f.omem
	m.Fat = c.fatQbuf.Load()
	m.Base = clientStructMemory
	return m
}

// ClientsMemory implements commands.Server: the memory of the normal and
// pub/sub clients as last measured (INFO's mem_clients_normal).
func (s *Server) ClientsMemory() int64 { return s.evict.total.Load() }

// RequestShutdown implements commands.Server.
func (s *Server) RequestShutdown() { s.Shutdown() }

// Port implements commands.Server.
func (s *Server) Port() int {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if len(s.listeners) == 0 {
		return 0
	}
	_, p, _ := net.SplitHostPort(s.listeners[0].Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

// isLocal reports whether a client address is loopback or a unix socket
// (protected mode accepts those).
func isLocal(a net.Addr) bool {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// setupLazyFree keeps the store's lazy-free classes in step with the
// lazyfree-lazy-* directives the keyspace and DEL read
// (keyspace.Store.SetLazyFree).
func setupLazyFree(cfg *config.Config, st *keyspace.Store) {
	classes := [...]struct {
		name  string
		class uint32
	}{
		{"lazyfree-lazy-server-del", keyspace.LazyServerDel},
		{"lazyfree-lazy-expire", keyspace.LazyExpire},
		{"lazyfree-lazy-eviction", keyspace.LazyEviction},
		{"lazyfree-lazy-user-del", keyspace.LazyUserDel},
	}
	apply := func(string) {
		var on uint32
		for _, d := range classes {
			if cfg.Bool(d.name) {
				on |= d.class
			}
		}
		st.SetLazyFree(on)
	}
	apply("")
	for _, d := range classes {
		cfg.OnChange(d.name, apply)
	}
}

// replicaCommandWithoutReply reports whether args, sent by a replica on
// its link, is one that has no reply: REPLCONF ACK and REPLCONF GETACK.
func replicaCommandWithoutReply(args [][]byte) bool {
	return len(args) >= 2 && strings.EqualFold(string(args[0]), "replconf") &&
		(strings.EqualFold(string(args[1]), "ack") || strings.EqualFold(string(args[1]), "getack"))
}
