// Package persist keeps the dataset on disk: RDB snapshots (SAVE, BGSAVE,
// save policies, SHUTDOWN) and the append-only file (group commit,
// rewrites, loading at startup). Formats live in the rdb and aof
// subpackages; this package wires them to the keyspace and the executor.
package persist

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/aof"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// Reply texts (Redis 7.0).
const (
	ErrBgsaveInProgress  = "ERR Background save already in progress"
	ErrRewriteInProgress = "ERR Background append only file rewriting already in progress"
	ErrChildActive       = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
)

// Manager owns snapshots and the AOF.
type Manager struct {
	cfg     *config.Config
	log     *slog.Logger
	store   *keyspace.Store
	exec    *exec.Executor
	codecs  *rdb.Codecs
	version string

	aofw atomic.Pointer[aof.Writer] // nil while the AOF is off

	// diskMu orders the updates of the executor's MISCONF state
	// (setDiskError); rdbDiskErr is its snapshot part, set under m.mu.
	diskMu     sync.Mutex
	rdbDiskErr atomic.Bool

	// Exit ends the process after an AOF error appendfsync always cannot
	// recover from (os.Exit unless a test replaces it).
	Exit func(code int)

	mu               sync.Mutex // job state, manifest
	manifest         *aof.Manifest
	aofOn            bool
	aofWaiting       bool  // turning the AOF on failed and is tried again (Redis's AOF_WAIT_REWRITE)
	aofStart         int64 // next writer's first logical offset
	aofPrevSize      int64 // bytes of base + all but the last incr file
	aofRewriteBase   int64 // AOF size after the last rewrite
	incrSeq          int64 // the last incr file's sequence a manifest named (Redis's curr_incr_file_seq; it goes on past incr files moved to the history)
	bgsave           bool
	bgKill           *atomic.Bool // the running BGSAVE's kill switch (KillBgsave); nil: none
	rewrite          bool
	rwKill           *atomic.Bool  // the running background rewrite's kill switch (StopAOF); nil: none
	rwSeq            int           // background rewrites started (their temporary files' names)
	rwDone           chan struct{} // closed when the running background rewrite ends
	rwCut            chan struct{} // closed when the last background rewrite took its cut (or failed before)
	rwStartIncr      string        // the incr file of a background rewrite turning the AOF on (no manifest names it yet)
	rwDying          chan struct{} // a killed rewrite still ending (closed when it has): no snapshot starts meanwhile
	bgsaveScheduled  bool
	rewriteScheduled bool
	lastSave         int64 // Unix s
	lastBgsaveOK     bool
	lastBgsaveTry    time.Time
	lastBgsaveSecs   int64
	bgsaveStart      time.Time
	lastRewriteOK    bool
	lastRewriteSecs  int64
	rewriteStart     time.Time
	rdbSaves         int64
	aofRewrites      int64
	rewriteFailures  int64
	limitDelay       int64 // minutes the automatic rewrites wait after repeated failures (rewriteLimitedLocked)
	limitNext        int64 // Unix s before which they wait; 0: not waiting
	dirtyAtSave      int64
	shutdownDone     bool
	lastPause        atomic.Int64 // ns the last snapshot's cut held the keyspace
	forks            atomic.Int64 // background snapshots started (Forks)
	syncSeq          atomic.Int64 // diskless sync snapshots (their temporary files' names)
	loadedKeys       int64
	loadedExpired    int64
	loading          atomic.Bool
	asyncLoading     atomic.Bool // a swapdb load while the old data serves (diskless.go)

	lzf sync.Pool // *rdb.LZFState, reused by snapshot visits

	// Functions, when set, are the FUNCTION libraries saved with the data.
	Functions FunctionLibraries

	// repl is the master side of replication (repl.go); replOn says that
	// replicas are attached, so that propagation feeds them.
	repl   replication
	replOn atomic.Bool
	// diskWarnAt: when masterDiskError last warned (Unix ms)
	diskWarnAt atomic.Int64
	// link is the replica side (replica.go): the link to the master, nil
	// on a master; linkMu orders REPLICAOF changes; applyMu is held while
	// a master's command (a whole transaction) is applied and counted.
	link    atomic.Pointer[masterLink]
	linkMu  sync.Mutex
	applyMu sync.Mutex
	// ReplicaLimit, when set, returns client-output-buffer-limit's
	// replica class: hard and soft limits in bytes, soft seconds.
	ReplicaLimit func() (hard, soft, softSecs int64)
	// ListenPort, when set, is the port this server listens on, which a
	// replica announces to its master (REPLCONF listening-port).
	ListenPort func() int
	// RoleChanged, when set, runs after the server became a replica
	// (ReplicaOf) or a master again (ReplicaOfNoOne): oom-score-adj's
	// class changes with the role.
	RoleChanged func()
	// NewClientID, when set, numbers the client a replica applies its
	// master's stream as (CLIENT LIST id=).
	NewClientID func() int64
	// FlushTracking, when set, tells client-side caching clients that
	// every key changed (a swapdb diskless load replacing the dataset).
	FlushTracking func()
	// replSnap, set by FullSync at its cut (it holds the snapshot slot),
	// adds the stream's position to the snapshot's aux fields.
	replSnap atomic.Pointer[replSnapInfo]
	// bootRepl collects the stream's position an RDB loaded at startup
	// recorded (its repl-* aux fields); bootFeed makes that load feed a
	// DEL of each key whose time passed to the backlog (load.go)
	bootRepl *replSnapInfo
	bootFeed bool
	// FAILOVER (failover.go)
	foMu    sync.Mutex
	fo      *failover
	foState atomic.Pointer[string]

	wg sync.WaitGroup
}

// FunctionLibraries is what persistence needs from FUNCTION: the code of
// every library (read with the keyspace locked, so it is consistent with
// the data) and loading one library (at startup, or by DEBUG RELOAD, where
// replace lets it replace a library of the same name); Prepare compiles a
// snapshot's libraries aside and returns install, which puts them in place
// of every library at once (a swapdb diskless load).
type FunctionLibraries interface {
	Codes() [][]byte
	LoadCode(code []byte, replace bool) error
	Prepare(codes [][]byte) (install func(), err error)
}

// New returns a manager; call Load, then Start.
func New(cfg *config.Config, log *slog.Logger, store *keyspace.Store, ex *exec.Executor, codecs *rdb.Codecs, version string) *Manager {
	m := &Manager{cfg: cfg, log: log, store: store, exec: ex, codecs: codecs, version: version,
		lastSave: time.Now().Unix(), lastBgsaveOK: true, lastRewriteOK: true, lastBgsaveSecs: -1, lastRewriteSecs: -1, Exit: os.Exit}
	m.repl.id, m.repl.id2, m.repl.off2, m.repl.lastDB, m.repl.stop = newReplID(), zeroReplID, -1, -1, make(chan struct{})
	m.repl.bootDB = -1
	return m
}

func (m *Manager) path(name string) string {
	if d := m.cfg.Get("dir"); d != "" {
		return filepath.Join(d, name)
	}
	return name
}

func (m *Manager) rdbPath() string { return m.path(m.cfg.Get("dbfilename")) }
func (m *Manager) aofDir() string  { return m.path(m.cfg.Get("appenddirname")) }
func (m *Manager) aofPrefix() string {
	return m.cfg.Get("appendfilename")
}

// Start hooks the manager into the executor and the configuration, and
// opens the AOF when appendonly is yes. Call it after Load, before serving.
func (m *Manager) Start() error {
	m.exec.Propagate = m.propagate
	m.exec.PropagateTargets = m.propagateTargets
	m.exec.MasterDiskError = m.masterDiskError
	m.exec.Propagating = func() bool { return m.aofw.Load() != nil || m.replOn.Load() }
	m.exec.Wrote = m.wrote
	m.cfg.OnChange("appendfsync", func(v string) {
		if w := m.aofw.Load(); w != nil {
			w.SetPolicy(aof.ParsePolicy(v))
		}
	})
	m.cfg.OnChange("repl-backlog-size", func(string) { m.resizeBacklog() })
	m.startReplGuards() // min-replicas-to-write, replica-ignore-maxmemory (minreplicas.go)
	for _, name := range []string{"stop-writes-on-bgsave-error", "save"} {
		m.cfg.OnChange(name, func(string) {
			m.mu.Lock()
			m.refreshDiskErrorLocked()
			m.mu.Unlock()
		})
	}
	m.cfg.OnChange("appendonly", func(v string) {
		var err error
		if v == "yes" {
			err = m.StartAOF()
		} else {
			err = m.StopAOF()
		}
		if err != nil {
			m.log.Error("changing appendonly", "err", err)
		}
	})
	if m.cfg.Bool("appendonly") {
		return m.openAOFAtStart()
	}
	return nil
}

// propagate is Executor.Propagate: the AOF and, when replicas are
// attached, the replication stream (one atomic load otherwise). Both are
// fed under the written keys' locks, which a snapshot's cut excludes.
func (m *Manager) propagate(db int, cmds [][][]byte) {
	if w := m.aofw.Load(); w != nil {
		w.Append(db, cmds)
	}
	if m.replOn.Load() && m.link.Load() == nil { // a replica passes its master's stream on
		m.feedReplicas(db, cmds)
	}
}

// propagateTargets is Executor.PropagateTargets: propagate to the AOF
// only, or to the replicas only.
func (m *Manager) propagateTargets(db int, cmds [][][]byte, aof, replicas bool) {
	if w := m.aofw.Load(); aof && w != nil {
		w.Append(db, cmds)
	}
	if replicas && m.replOn.Load() && m.link.Load() == nil {
		m.feedReplicas(db, cmds)
	}
}

func (m *Manager) wrote(cl *command.Client) {
	if m.aofw.Load() != nil || m.replOn.Load() { // inlined: no call with neither
		m.wroteTo(cl)
	}
}

// wroteTo records in cl the AOF offset and the replication offset its
// last write reached (not inlined, so that wrote is).
//
//go:noinline
func (m *Manager) wroteTo(cl *command.Client) {
	if cl == nil {
		return
	}
	if w := m.aofw.Load(); w != nil {
		cl.WriteOffset.Store(w.End())
	}
	if m.replOn.Load() {
		cl.ReplOffset.Store(m.repl.offset.Load())
	}
}

// Durable blocks until cl's last write is on disk when appendfsync is
// always; the server calls it before sending a batch of replies.
func (m *Manager) Durable(cl *command.Client) error {
	off := cl.WriteOffset.Load()
	if off == 0 {
		return nil
	}
	w := m.aofw.Load()
	if w == nil || w.Policy() != aof.FsyncAlways {
		return nil
	}
	return w.WaitDurable(off)
}

// ---- snapshots ----

type snapFormat int

const (
	formatRDB snapFormat = iota
	formatAOF
)

// snapshot writes a point-in-time image of the keyspace to out. atCut runs
// with the keyspace locked, at the instant the image describes. It returns
// the dirty counter at the cut. held says the caller holds the whole
// keyspace (LockAll) for the duration: the shards are then walked
// directly instead of through a keyspace snapshot (which would wait for
// that lock). A kill switch that turns on (a BGSAVE's, KillBgsave) ends
// it with errKilled.
func (m *Manager) snapshot(out *bufio.Writer, format snapFormat, aofBase, held bool, atCut func() error, kill *atomic.Bool) (int64, error) {
	ndb := m.store.NumDBs()
	compress := m.cfg.Bool("rdbcompression")
	chunks := make([][][]byte, keyspace.NumShards)
	errs := make([]error, keyspace.NumShards)
	// rdb-key-save-delay (µs, a hidden directive Redis's tests use to make
	// a save slow): Redis sleeps before each key it writes; here before
	// each shard's keys are written, as long as they add up to
	delay := m.cfg.Int("rdb-key-save-delay")
	var counts [][]int64 // keys per shard and database, with a delay
	if delay > 0 {
		counts = make([][]int64, keyspace.NumShards)
	}
	var now int64
	sizes := make([][2]uint64, ndb)
	var dirty int64
	var libs [][]byte
	// as Redis, the access information of each key under an LRU or LFU
	// policy (rdbSaveKeyValuePair)
	var saveLRU, saveLFU bool
	switch m.cfg.Get("maxmemory-policy") {
	case "allkeys-lru", "volatile-lru":
		saveLRU = true
	case "allkeys-lfu", "volatile-lfu":
		saveLFU = true
	}
	visit := func(sh int) {
		if kill != nil && kill.Load() {
			return // killed: the remaining shards are passed over
		}
		per := make([][]byte, ndb)
		var n []int64
		if counts != nil {
			n = make([]int64, ndb)
			counts[sh] = n
		}
		st, _ := m.lzf.Get().(*rdb.LZFState)
		if st == nil {
			st = rdb.NewLZFState()
		}
		defer m.lzf.Put(st)
		for db := 0; db < ndb; db++ {
			if m.store.ShardLen(sh, db) == 0 {
				continue
			}
			e := rdb.Encoder{Compress: compress, LZF: st}
			m.store.ShardEntries(sh, db, func(key string, ent keyspace.Entry) {
				if errs[sh] != nil {
					return
				}
				if n != nil {
					n[db]++
				}
				if format == formatRDB {
					// expired keys not yet reclaimed are saved, as Redis
					// does: loading skips them (rdb_last_load_keys_expired)
					idle, freq := int64(-1), -1
					switch {
					case saveLRU:
						idle = keyspace.IdleSeconds(ent.Access, now)
					case saveLFU:
						freq = m.store.LFUCounter(ent.Access, now)
					}
					errs[sh] = m.codecs.KeyValueAccess(&e, []byte(key), ent.Value(), ent.Exp, idle, freq)
					return
				}
				if ent.Exp != 0 && ent.Exp <= now {
					return // an AOF rewrite skips them
				}
				cd, err := m.codecs.For(ent.Value())
				if err != nil {
					errs[sh] = err
					return
				}
				for _, c := range cd.Rewrite([]byte(key), ent.Value()) {
					e.Buf = aof.AppendCommand(e.Buf, c)
				}
				if ent.Exp != 0 {
					e.Buf = aof.AppendCommand(e.Buf, [][]byte{[]byte("PEXPIREAT"), []byte(key), []byte(strconv.FormatInt(ent.Exp, 10))})
				}
			})
			per[db] = e.Buf
		}
		chunks[sh] = per
	}
	var cutErr error
	start := time.Now()
	var pause time.Duration
	cut := func() {
		now = m.exec.Now()
		dirty = m.exec.Dirty.Load()
		if m.Functions != nil {
			libs = m.Functions.Codes()
		}
		for db := 0; db < ndb; db++ {
			v := m.store.DB(db, now)
			sizes[db] = [2]uint64{uint64(v.Size()), uint64(v.Volatile())}
		}
		if atCut != nil {
			cutErr = atCut()
		}
		pause = time.Since(start)
	}
	if held {
		cut()
		if cutErr == nil {
			for sh := 0; sh < keyspace.NumShards; sh++ {
				visit(sh)
			}
		}
	} else {
		sp, err := m.store.BeginSnapshot(visit, cut)
		if err != nil {
			return 0, err
		}
		m.lastPause.Store(int64(pause))
		defer sp.Finish()
	}
	if cutErr != nil {
		return 0, cutErr
	}
	var err error
	var rw *rdb.Writer
	if format == formatRDB {
		rw, err = rdb.NewWriter(out)
		if err != nil {
			return 0, err
		}
		rw.Checksum = m.cfg.Bool("rdbchecksum")
		if err := rw.AuxFields(m.version, time.Now().Unix(), 0, aofBase); err != nil {
			return 0, err
		}
		if rs := m.replSnap.Load(); rs != nil {
			// a replica's snapshot (FullSync, which holds the snapshot
			// slot): the stream's database, id and offset, as Redis's
			// rdbSaveInfoAuxFields; its replica's master client starts in
			// that database
			for _, kv := range [][2]string{{"repl-stream-db", strconv.Itoa(rs.db)}, {"repl-id", rs.id},
				{"repl-offset", strconv.FormatInt(rs.off, 10)}} {
				if err := rw.Aux(kv[0], kv[1]); err != nil {
					return 0, err
				}
			}
		}
	}
	noData := false
	if rs := m.replSnap.Load(); rs != nil {
		// REPLCONF rdb-filter-only (redis-cli --functions-rdb)
		if rs.filter.NoFunctions {
			libs = nil
		}
		noData = rs.filter.NoData
	}
	// function libraries come before the data, as Redis writes them
	for _, code := range libs {
		if format == formatRDB {
			var e rdb.Encoder
			e.Byte(rdb.OpFunction2)
			e.String(code)
			err = rw.Write(e.Buf)
		} else {
			_, err = out.Write(aof.AppendCommand(nil, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), code}))
		}
		if err != nil {
			return 0, err
		}
	}
	cur := -1
	seen := make([]bool, ndb)
	for sh := 0; sh < keyspace.NumShards; sh++ {
		if !held {
			m.store.LockShard(sh) // visits sh if no command did
			m.store.UnlockShard(sh)
		}
		if errs[sh] != nil {
			return 0, errs[sh]
		}
		if kill != nil && kill.Load() {
			return 0, errKilled
		}
		if noData {
			chunks[sh] = nil
			continue
		}
		for db, b := range chunks[sh] {
			if len(b) == 0 {
				continue
			}
			if counts != nil {
				time.Sleep(time.Duration(delay*counts[sh][db]) * time.Microsecond)
			}
			if db != cur {
				cur = db
				if format == formatRDB {
					var e rdb.Encoder
					if !seen[db] {
						rdb.SelectDB(&e, db, sizes[db][0], sizes[db][1])
						seen[db] = true
					} else {
						rdb.SelectDB(&e, db, 0, 0)
					}
					err = rw.Write(e.Buf)
				} else {
					_, err = out.Write(aof.AppendCommand(nil, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))}))
				}
				if err != nil {
					return 0, err
				}
			}
			if format == formatRDB {
				err = rw.Write(b)
			} else {
				_, err = out.Write(b)
			}
			if err != nil {
				return 0, err
			}
		}
		chunks[sh] = nil
	}
	if format == formatRDB {
		if err := rw.Close(); err != nil {
			return 0, err
		}
	}
	return dirty, out.Flush()
}

// writeFileSnapshot snapshots into path through a temporary file in dir.
func (m *Manager) writeFileSnapshot(path, tmpName string, format snapFormat, aofBase bool, atCut func() error) (int64, int64, error) {
	dirty, size, _, err := m.writeSnapshotFile(path, tmpName, format, aofBase, false, false, atCut, nil)
	return dirty, size, err
}

// writeSnapshotFile snapshots into path through a temporary file in path's
// directory (held: see snapshot). With reopen the file is returned open
// for reading, at offset 0: a reader then sees what was written even if
// another save replaces path meanwhile. A save with a kill switch (a
// BGSAVE's) stops writing once it is on, and renames its file only if it
// is still off, under m.mu, where KillBgsave turns it on: a BGSAVE killed
// by FLUSHALL never renames its older snapshot over FLUSHALL's.
func (m *Manager) writeSnapshotFile(path, tmpName string, format snapFormat, aofBase, held, reopen bool, atCut func() error, kill *atomic.Bool) (int64, int64, *os.File, error) {
	tmp := filepath.Join(filepath.Dir(path), tmpName)
	f, err := os.Create(tmp)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("failed opening %s for saving: %w", tmp, err)
	}
	var fw io.Writer = f
	if kill != nil {
		fw = killableWriter{f, kill}
	}
	bw := bufio.NewWriterSize(fw, 1<<20)
	dirty, err := m.snapshot(bw, format, aofBase, held, atCut, kill)
	if err == nil {
		err = f.Sync()
	}
	st, _ := f.Stat()
	var rf *os.File
	if err == nil && reopen {
		rf, err = os.Open(tmp)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if kill != nil {
			m.mu.Lock()
			if kill.Load() {
				err = errKilled
			} else {
				err = os.Rename(tmp, path)
			}
			m.mu.Unlock()
		} else {
			err = os.Rename(tmp, path)
		}
	}
	if err == nil {
		err = aof.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		if rf != nil {
			rf.Close()
		}
		os.Remove(tmp)
		return 0, 0, nil, err
	}
	var size int64
	if st != nil {
		size = st.Size()
	}
	return dirty, size, rf, nil
}

// saveRDB writes dump.rdb and records the outcome (SAVE's or SHUTDOWN's,
// counted in rdb_saves).
func (m *Manager) saveRDB() error {
	start := time.Now()
	atCut, done := m.replInfoCut(nil)
	dirty, _, err := m.writeFileSnapshot(m.rdbPath(), fmt.Sprintf("temp-%d.rdb", os.Getpid()), formatRDB, false, atCut)
	done()
	return m.savedRDB(start, dirty, true, false, err)
}

// replInfoCut returns the cut function of a save to dump.rdb, which puts
// the stream's position into the file (saveReplInfo) and then calls next
// (when set), and done, to call when the save ends. On a replica the cut
// falls between two applied commands of the master (applyMu, taken
// before the keyspace as the applier does), so that the offset recorded
// is the data's.
func (m *Manager) replInfoCut(next func() error) (atCut func() error, done func()) {
	applyHeld, withInfo := false, true
	if m.link.Load() != nil {
		// the applier holds applyMu through a master's MULTI..EXEC, which
		// a dead master may never finish: past a bound, the file goes
		// without the position (a full resync after a restart)
		applyHeld = tryLockFor(&m.applyMu, 2*time.Second)
		withInfo = applyHeld
	}
	releaseApply := func() {
		if applyHeld {
			applyHeld = false
			m.applyMu.Unlock()
		}
	}
	atCut = func() error {
		defer releaseApply()
		if withInfo {
			m.replSnap.Store(m.saveReplInfo())
		}
		if next != nil {
			return next()
		}
		return nil
	}
	done = func() {
		m.replSnap.Store(nil)
		releaseApply()
	}
	return atCut, done
}

// errKilled ends a BGSAVE that KillBgsave stopped.
var errKilled = errors.New("background save killed")

// killableWriter is a BGSAVE's file: writes fail once its kill switch is
// on, so that a killed save stops at its next buffer.
type killableWriter struct {
	w    io.Writer
	kill *atomic.Bool
}

func (k killableWriter) Write(p []byte) (int, error) {
	if k.kill.Load() {
		return 0, errKilled
	}
	return k.w.Write(p)
}

// bgSaveRDB is BGSAVE's save: as saveRDB, into its own temporary file
// (FLUSHALL's save may run meanwhile), stopped by kill, calling atCut at
// the snapshot's cut. A killed save changes no status, as Redis's child
// killed with SIGUSR1.
func (m *Manager) bgSaveRDB(kill *atomic.Bool, atCut func() error) error {
	start := time.Now()
	atCut, done := m.replInfoCut(atCut)
	dirty, _, _, err := m.writeSnapshotFile(m.rdbPath(), fmt.Sprintf("temp-bgsave-%d.rdb", os.Getpid()), formatRDB, false, false, false, atCut, kill)
	done()
	if errors.Is(err, errKilled) {
		m.log.Warn("Background saving terminated by FLUSHALL")
		return err
	}
	return m.savedRDB(start, dirty, false, true, err)
}

// dropStartIncrLocked removes the incr file of a rewrite that was turning
// the AOF on and was killed: no manifest names it. Requires m.mu.
func (m *Manager) dropStartIncrLocked() {
	if m.rwStartIncr != "" && m.rwKill == nil && m.rwDying != nil {
		os.Remove(filepath.Join(m.aofDir(), m.rwStartIncr))
		m.rwStartIncr = ""
	}
}

// awaitDyingLocked waits, with m.mu released meanwhile, for a rewrite
// StopAOF killed to end: its snapshot still holds the keyspace's snapshot
// slot for the moment it takes to stop. Requires m.mu; for callers that
// hold no keyspace lock (that rewrite may need one to end).
func (m *Manager) awaitDyingLocked() {
	for m.rwDying != nil {
		d := m.rwDying
		m.mu.Unlock()
		<-d
		m.mu.Lock()
	}
}

// KillBgsave stops a running BGSAVE, as Redis 7.0's FLUSHALL kills its
// RDB child (killRDBChild): its file is not renamed to dump.rdb, so what
// FLUSHALL saves next (with save points) or the older dump.rdb stays.
func (m *Manager) KillBgsave() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bgKill != nil {
		m.bgKill.Store(true)
		m.bgKill = nil
	}
}

// secondsSince is the seconds from t to now as Redis counts a background
// job's time in INFO (time(NULL) - start): whole seconds of the clock, so
// that a job that crosses a second's boundary shows 1.
func secondsSince(t time.Time) int64 {
	return time.Now().Unix() - t.Unix()
}

// tryLockFor takes mu if it becomes free within d.
func tryLockFor(mu *sync.Mutex, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !mu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// saveReplInfo is the stream's position an RDB saved now records
// (repl-stream-db, repl-id, repl-offset), as Redis's rdbPopulateSaveInfo:
// on a master that has a backlog, or a replica whose data follows its
// master's stream (it has a backlog since its first sync); nil otherwise.
// A restarted server continues from it (restoreReplInfo). Runs at a
// snapshot's cut, with applyMu held on a replica.
func (m *Manager) saveReplInfo() *replSnapInfo {
	db := m.masterDB()
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.backlog == nil {
		return nil
	}
	if m.link.Load() == nil {
		db = max(rp.lastDB, 0) // as Redis's slaveseldb, 0 when none
	}
	return &replSnapInfo{id: rp.id, off: rp.offset.Load(), db: db}
}

// savedRDB records the outcome of writing dump.rdb: count adds it to
// rdb_saves (SAVE and BGSAVE do, DEBUG RELOAD and FLUSHALL do not). A
// success makes rdb_last_bgsave_status ok; only a failed background save
// (bg) makes it err, and with it MISCONF, as in Redis, whose rdbSave
// leaves the status alone when it fails (SAVE, SHUTDOWN, DEBUG RELOAD).
func (m *Manager) savedRDB(start time.Time, dirty int64, count, bg bool, err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil && !bg {
		m.log.Error("Failed saving the DB", "err", err)
		return err
	}
	m.lastBgsaveTry = time.Now()
	defer m.refreshDiskErrorLocked()
	if err != nil {
		m.lastBgsaveOK = false
		m.log.Error("Failed saving the DB", "err", err)
		return err
	}
	m.lastBgsaveOK = true
	m.lastSave = time.Now().Unix()
	m.dirtyAtSave = dirty
	if count {
		m.rdbSaves++
	}
	m.log.Info("DB saved on disk", "file", m.rdbPath(), "took", time.Since(start), "pause", time.Duration(m.lastPause.Load()))
	return nil
}

// SaveHeld writes dump.rdb as Redis's FLUSHALL does when save points are
// configured (rdbSave in flushAllDataAndResetRDB), for a caller holding
// the whole keyspace: rdb_changes_since_last_save is then 0, the pending
// changes of the caller's own command included, and rdb_saves is not
// counted, as in Redis.
func (m *Manager) SaveHeld(pending int64) error {
	start := time.Now()
	dirty, _, _, err := m.writeSnapshotFile(m.rdbPath(), fmt.Sprintf("temp-%d.rdb", os.Getpid()), formatRDB, false, true, false, nil, nil)
	return m.savedRDB(start, dirty+pending, false, false, err)
}

// Save runs SAVE: a snapshot written before returning (other clients keep
// running meanwhile).
func (m *Manager) Save() error {
	m.mu.Lock()
	m.awaitDyingLocked()
	if m.bgsave || m.rewrite {
		m.mu.Unlock()
		return errors.New(ErrBgsaveInProgress)
	}
	m.bgsave = true
	m.mu.Unlock()
	err := m.saveRDB()
	m.mu.Lock()
	m.bgsave = false
	m.mu.Unlock()
	return err
}

// BGSave runs BGSAVE [SCHEDULE]; it returns the status reply or an error
// reply text. Called inside MULTI/EXEC (inExec) it is always scheduled,
// started by the cron afterwards, as Redis 7.0 forks no child in EXEC.
func (m *Manager) BGSave(schedule, inExec bool) (string, string) {
	m.mu.Lock()
	if !inExec {
		m.awaitDyingLocked()
	}
	if m.bgsave {
		m.mu.Unlock()
		return "", ErrBgsaveInProgress
	}
	if m.rewrite || inExec {
		defer m.mu.Unlock()
		if schedule || inExec {
			m.bgsaveScheduled = true
			return "Background saving scheduled", ""
		}
		return "", ErrChildActive
	}
	cut := m.startBgsaveLocked()
	m.mu.Unlock()
	// the snapshot's cut is taken before BGSAVE answers, as Redis forks
	// in the command: the commands that follow are not in the file
	<-cut
	return "Background saving started", ""
}

// startBgsaveLocked starts a background save; the channel is closed once
// its snapshot's cut is taken (or the save failed before it). Requires
// m.mu, which must be released before waiting on the channel.
func (m *Manager) startBgsaveLocked() <-chan struct{} {
	m.bgsave = true
	m.bgsaveScheduled = false
	m.bgsaveStart = time.Now()
	m.rdbSaves++ // as Redis, once the save started (a killed one counts)
	m.forks.Add(1)
	kill := new(atomic.Bool)
	m.bgKill = kill
	m.log.Info("Background saving started")
	m.wg.Add(1)
	cut := make(chan struct{})
	var once sync.Once
	cutDone := func() { once.Do(func() { close(cut) }) }
	go func() {
		defer m.wg.Done()
		err := m.bgSaveRDB(kill, func() error { cutDone(); return nil })
		cutDone() // failed before the cut
		m.mu.Lock()
		if m.bgKill == kill {
			m.bgKill = nil
		}
		m.bgsave = false
		m.lastBgsaveSecs = secondsSince(m.bgsaveStart)
		m.mu.Unlock()
		if err == nil {
			m.log.Info("Background saving terminated with success")
		}
	}()
	return cut
}

// Forks is INFO stats' total_forks: the background snapshots started
// where Redis 7.0 forks a child (BGSAVE and the save points, background
// AOF rewrites, a replica's full sync). Crescent forks no process: its
// snapshot is a cut of the keyspace, whose pause is INFO persistence's
// crescent_last_snapshot_pause_usec (latest_fork_usec stays 0).
func (m *Manager) Forks() int64 { return m.forks.Load() }

// LastSave is the Unix time of the last successful save.
func (m *Manager) LastSave() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastSave
}

// ---- AOF ----

func (m *Manager) openFile(name string) (*os.File, int64, error) {
	f, err := os.OpenFile(filepath.Join(m.aofDir(), name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (m *Manager) fileSize(name string) int64 {
	st, err := os.Stat(filepath.Join(m.aofDir(), name))
	if err != nil {
		return 0
	}
	return st.Size()
}

// openAOFAtStart opens the last incremental file after loading, creating
// the AOF (base from the loaded dataset, first incr file, manifest) when
// none exists.
func (m *Manager) openAOFAtStart() error {
	if err := os.MkdirAll(m.aofDir(), 0o755); err != nil {
		return fmt.Errorf("can't create the append only dir %s: %w", m.aofDir(), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.manifest == nil || m.manifest.Base == nil && len(m.manifest.Incrs) == 0 {
		// no AOF yet: write the base synchronously (nobody is connected)
		if err := m.rewriteLocked(true); err != nil {
			return err
		}
		return nil
	}
	var f *os.File
	var size int64
	if len(m.manifest.Incrs) == 0 {
		// the file first, then the manifest naming it (as Redis's
		// aofOpenIfNeededOnServerStart): a file the manifest names exists
		fi := aof.FileInfo{Name: aof.IncrName(m.aofPrefix(), 1), Seq: 1, Type: aof.TypeIncr}
		var err error
		if f, size, err = m.openFile(fi.Name); err != nil {
			return fmt.Errorf("can't open the append-only file %s: %w", fi.Name, err)
		}
		mf := m.manifest.Clone()
		mf.Incrs = append(mf.Incrs, fi)
		if err := aof.WriteFileAtomic(m.aofDir(), aof.ManifestName(m.aofPrefix()), mf.Bytes()); err != nil {
			f.Close()
			return err
		}
		m.manifest = mf
	} else {
		last := m.manifest.Incrs[len(m.manifest.Incrs)-1]
		var err error
		if f, size, err = m.openFile(last.Name); err != nil {
			return fmt.Errorf("can't open the append-only file %s: %w", last.Name, err)
		}
	}
	m.aofPrevSize = 0
	if m.manifest.Base != nil {
		m.aofPrevSize += m.fileSize(m.manifest.Base.Name)
	}
	for _, fi := range m.manifest.Incrs[:len(m.manifest.Incrs)-1] {
		m.aofPrevSize += m.fileSize(fi.Name)
	}
	m.aofRewriteBase = m.aofPrevSize + size
	w := aof.NewWriter(f, size, aof.ParsePolicy(m.cfg.Get("appendfsync")), m.aofStart, m.aofHooks())
	m.aofw.Store(w)
	m.aofOn = true
	m.deleteHistoryAtStart()
	return nil
}

// deleteHistoryAtStart deletes the history files a manifest names at
// startup and drops them from it, as Redis's aofDelHistoryFiles after
// opening the AOF (unless aof-disable-auto-gc). m.mu is held.
func (m *Manager) deleteHistoryAtStart() {
	if len(m.manifest.History) == 0 || m.cfg.Bool("aof-disable-auto-gc") {
		return
	}
	mf := m.manifest.Clone()
	hist := mf.History
	mf.History = nil
	if err := aof.WriteFileAtomic(m.aofDir(), aof.ManifestName(m.aofPrefix()), mf.Bytes()); err != nil {
		m.log.Warn("can't drop the history files from the AOF manifest", "err", err)
		return
	}
	m.manifest = mf
	for _, fi := range hist {
		os.Remove(filepath.Join(m.aofDir(), fi.Name))
	}
}

// rewriteLocked writes a new base. With the AOF on, a new incremental file
// takes the writes from the cut on; when the base is complete the manifest
// names the new base and that incr file, and the older files are deleted.
// sync runs it on the calling goroutine (startup); otherwise the base is
// written in the background and m.mu is released meanwhile.
func (m *Manager) rewriteLocked(sync bool) error {
	dir := m.aofDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	prefix := m.aofPrefix()
	old := m.manifest
	if old == nil {
		old = &aof.Manifest{}
	}
	w := m.aofw.Load()
	starting := sync || w == nil && m.cfg.Bool("appendonly")
	var newIncr *aof.FileInfo
	var newFile *os.File
	if w != nil || starting {
		// as Redis's getNewIncrAofName: after the last incr file used,
		// including one a rewrite with the AOF off moved to the history
		// (aof-disable-auto-gc keeps that file: it must not be reused)
		seq := max(old.LastIncrSeq(), m.incrSeq) + 1
		newIncr = &aof.FileInfo{Name: aof.IncrName(prefix, seq), Seq: seq, Type: aof.TypeIncr}
		f, _, err := m.openFile(newIncr.Name)
		if err != nil {
			return fmt.Errorf("can't open the append-only file %s: %w", newIncr.Name, err)
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return err
		}
		newFile = f
	}
	baseSeq := int64(1)
	if old.Base != nil {
		baseSeq = old.Base.Seq + 1
	}
	preamble := m.cfg.Bool("aof-use-rdb-preamble")
	base := aof.FileInfo{Name: aof.BaseName(prefix, baseSeq, preamble), Seq: baseSeq, Type: aof.TypeBase}
	var oldFile aof.File
	var kill *atomic.Bool // a background rewrite's (StopAOF kills it)
	var done chan struct{}
	cutDone := func() {}
	if !sync {
		kill, done = new(atomic.Bool), make(chan struct{})
		m.rwKill = kill
		m.rwSeq++
		cut := make(chan struct{})
		closed := new(atomic.Bool)
		cutDone = func() {
			if closed.CompareAndSwap(false, true) {
				close(cut)
			}
		}
		m.rwCut = cut
		if starting && newIncr != nil {
			m.rwStartIncr = newIncr.Name
		}
	}
	atCut := func() error {
		defer cutDone() // after m.mu is released (deferred below)
		if newFile == nil {
			return nil
		}
		if !sync {
			m.mu.Lock()
			defer m.mu.Unlock()
			if kill.Load() {
				// killed before its cut: the new incr file was never named
				newFile.Close()
				os.Remove(filepath.Join(dir, newIncr.Name))
				return errKilled
			}
		}
		if w != nil {
			// what is buffered belongs to the old incr file: if it cannot
			// be written there (the disk is full), the rewrite fails here,
			// before the manifest names a new incr file
			if err := w.Flush(); err != nil {
				newFile.Close()
				os.Remove(filepath.Join(dir, newIncr.Name))
				return fmt.Errorf("writing the AOF before the rewrite's cut: %w", err)
			}
			// writes from now on go to the new incr file; the manifest must
			// name it before anything there is acknowledged
			mf := old.Clone()
			mf.Incrs = append(mf.Incrs, *newIncr)
			if err := aof.WriteFileAtomic(dir, aof.ManifestName(prefix), mf.Bytes()); err != nil {
				return err
			}
			var err error
			if oldFile, err = w.Switch(newFile); err != nil {
				// only a write failing between Flush and here: the new
				// file stays empty and last in the manifest
				newFile.Close()
			}
			m.manifest = mf
			m.incrSeq = max(m.incrSeq, newIncr.Seq)
			return err
		}
		nw := aof.NewWriter(newFile, 0, aof.ParsePolicy(m.cfg.Get("appendfsync")), m.aofStart, m.aofHooks())
		m.aofw.Store(nw)
		return nil
	}
	m.rewrite = true
	m.rewriteStart = time.Now()
	if !sync {
		// as Redis's rewriteAppendOnlyFileBackground, a rewrite counts in
		// aof_rewrites once started (a killed or failed one too); the base
		// written at startup is not counted (Redis writes it in the
		// foreground, not as a rewrite)
		m.aofRewrites++
		m.forks.Add(1)
	}
	format := formatRDB
	if !preamble {
		format = formatAOF
	}
	tmpName := fmt.Sprintf("temp-rewriteaof-bg-%d.aof", os.Getpid())
	if !sync {
		// its own name: a killed rewrite may still be ending as the next
		// one starts (Redis's are named by their child's pid)
		tmpName = fmt.Sprintf("temp-rewriteaof-bg-%d-%d.aof", os.Getpid(), m.rwSeq)
	}
	run := func() error {
		_, size, _, err := m.writeSnapshotFile(filepath.Join(dir, base.Name), tmpName, format, true, false, false, atCut, kill)
		cutDone() // failed before its cut
		if oldFile != nil {
			oldFile.Close()
		}
		if !sync {
			m.mu.Lock()
			if kill.Load() {
				// StopAOF killed it (and told INFO): nothing of it stays,
				// not even a base renamed just before the kill, which no
				// manifest names
				if err == nil {
					os.Remove(filepath.Join(dir, base.Name))
				}
				if m.rwDying == done {
					m.rwDying = nil
				}
				close(done)
				m.mu.Unlock()
				return errKilled
			}
			m.rwKill, m.rwDone, m.rwStartIncr = nil, nil, ""
			close(done)
		}
		defer func() {
			m.rewrite = false
			if !sync {
				// as Redis's backgroundRewriteDoneHandler (whose failures
				// set it too); the startup base does not
				m.lastRewriteSecs = secondsSince(m.rewriteStart)
				m.mu.Unlock()
			}
		}()
		if err == nil {
			mf := &aof.Manifest{Base: &base}
			if newIncr != nil {
				mf.Incrs = []aof.FileInfo{*newIncr}
			}
			if m.cfg.Bool("aof-disable-auto-gc") {
				cur := m.manifest
				if cur == nil {
					cur = old
				}
				mf.History = historyAfterRewrite(cur, newIncr)
			}
			err = aof.WriteFileAtomic(dir, aof.ManifestName(prefix), mf.Bytes())
			if err == nil {
				cur := m.manifest
				if cur == nil {
					cur = old
				}
				m.deleteOldFiles(cur, mf)
				m.manifest = mf
				m.incrSeq = max(m.incrSeq, mf.LastIncrSeq())
				m.aofPrevSize = size
				m.aofRewriteBase = size
				if starting {
					m.aofOn, m.aofWaiting = true, false
				}
			}
		}
		if err != nil {
			m.lastRewriteOK = false
			m.rewriteFailures++
			m.log.Error("Background AOF rewrite failed", "err", err)
			if starting {
				// the AOF never became valid: turn it off again
				if nw := m.aofw.Swap(nil); nw != nil {
					m.aofStart = nw.End()
					nw.Close()
				}
				if newIncr != nil {
					os.Remove(filepath.Join(dir, newIncr.Name))
				}
				if !sync {
					// as Redis's AOF_WAIT_REWRITE: the AOF stays on for
					// INFO (aof_enabled) and the cron tries again
					// (rewriteLimitedLocked spaces the tries after 3)
					m.aofWaiting = true
					m.rewriteScheduled = true
				}
			}
			return err
		}
		m.lastRewriteOK = true
		m.rewriteFailures = 0
		if sync {
			m.log.Info(fmt.Sprintf("Creating AOF base file %s on server start", base.Name))
			if newIncr != nil {
				m.log.Info(fmt.Sprintf("Creating AOF incr file %s on server start", newIncr.Name))
			}
		} else {
			m.log.Info("Background AOF rewrite finished successfully", "base", base.Name, "pause", time.Duration(m.lastPause.Load()))
		}
		if m.bgsaveScheduled && !m.bgsave {
			m.startBgsaveLocked()
		}
		return nil
	}
	if sync {
		return run()
	}
	m.rwDone = done
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		run()
	}()
	return nil
}

// historyAfterRewrite is the history a rewrite's manifest keeps with
// aof-disable-auto-gc yes, in Redis 7.0's order (backgroundRewriteDoneHandler):
// the incr files the base replaces (all but cur's, the one the rewrite
// opened, if any), then the replaced base, then the older history.
func historyAfterRewrite(old *aof.Manifest, cur *aof.FileInfo) []aof.FileInfo {
	var h []aof.FileInfo
	for _, fi := range old.Incrs {
		if cur == nil || fi.Name != cur.Name {
			fi.Type = aof.TypeHistory
			h = append(h, fi)
		}
	}
	if old.Base != nil {
		b := *old.Base
		b.Type = aof.TypeHistory
		h = append(h, b)
	}
	return append(h, old.History...)
}

func (m *Manager) deleteOldFiles(old, cur *aof.Manifest) {
	if m.cfg.Bool("aof-disable-auto-gc") {
		return
	}
	keep := map[string]bool{}
	if cur.Base != nil {
		keep[cur.Base.Name] = true
	}
	for _, fi := range cur.Incrs {
		keep[fi.Name] = true
	}
	var names []string
	if old.Base != nil {
		names = append(names, old.Base.Name)
	}
	for _, fi := range old.History {
		names = append(names, fi.Name)
	}
	for _, fi := range old.Incrs {
		names = append(names, fi.Name)
	}
	for _, n := range names {
		if !keep[n] {
			os.Remove(filepath.Join(m.aofDir(), n))
		}
	}
}

// BGRewriteAOF runs BGREWRITEAOF; it returns the status reply or an error
// reply text. Called inside MULTI/EXEC (inExec) it is scheduled, started
// by the cron afterwards, as Redis 7.0 forks no child in EXEC.
func (m *Manager) BGRewriteAOF(inExec bool) (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !inExec {
		m.awaitDyingLocked()
	}
	if m.rewrite {
		return "", ErrRewriteInProgress
	}
	if m.bgsave || inExec {
		m.rewriteScheduled = true
		// as Redis 7.0's bgrewriteaofCommand: asked for by hand, the
		// scheduled rewrite is not held back by earlier failures
		m.rewriteFailures = 0
		return "Background append only file rewriting scheduled", ""
	}
	if err := m.startRewriteLocked(); err != nil {
		return "", "ERR Can't execute an AOF background rewriting. Please check the server logs for more information."
	}
	// the snapshot's cut is taken before BGREWRITEAOF answers, as Redis
	// forks in the command: the commands that follow are not in the base
	// (a DEBUG LOADAOF right after does not change what it holds)
	if cut := m.rwCut; cut != nil {
		m.mu.Unlock()
		<-cut
		m.mu.Lock()
	}
	return "Background append only file rewriting started", ""
}

func (m *Manager) startRewriteLocked() error {
	m.rewriteScheduled = false
	m.log.Info("Background append only file rewriting started")
	if err := m.rewriteLocked(false); err != nil {
		m.log.Error("Can't rewrite append only file in background", "err", err)
		m.lastRewriteOK = false
		return err
	}
	return nil
}

// StartAOF turns the AOF on at run time (CONFIG SET appendonly yes): a
// rewrite writes the base while new writes go to a fresh incr file.
func (m *Manager) StartAOF() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.aofw.Load() != nil || m.rewrite {
		return nil
	}
	if m.bgsave || m.rwDying != nil {
		m.rewriteScheduled = true
		return nil
	}
	return m.startRewriteLocked()
}

// StopAOF turns the AOF off (CONFIG SET appendonly no), dropping a
// scheduled rewrite and killing a running one as Redis's stopAppendOnly
// does.
func (m *Manager) StopAOF() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.aofOn, m.aofWaiting = false, false
	m.rewriteScheduled = false
	if m.rewrite && m.rwKill != nil {
		// as Redis's stopAppendOnly (killAppendOnlyChild): the rewrite
		// stops at its next shard or write, its files are removed, its
		// status is not changed; the next snapshot waits for its end
		m.log.Info("Killing running AOF rewrite child")
		m.rwKill.Store(true)
		m.rwDying, m.rwKill, m.rwDone = m.rwDone, nil, nil
		m.rewrite = false
	}
	w := m.aofw.Swap(nil)
	if w == nil {
		m.dropStartIncrLocked()
		return nil
	}
	m.aofStart = w.End()
	err := w.Close()
	m.dropStartIncrLocked()
	m.setDiskError() // an AOF error no longer refuses writes
	return err
}

// ---- cron, shutdown, info ----

// refreshDiskErrorLocked updates the snapshot part of the MISCONF state:
// as Redis's writeCommandsDeniedByDiskError, writes are refused while the
// last background save failed, with stop-writes-on-bgsave-error yes and
// save points set. It runs after each save, on the cron and when one of
// those options changes. Requires m.mu.
func (m *Manager) refreshDiskErrorLocked() {
	m.rdbDiskErr.Store(!m.lastBgsaveOK && m.cfg.Bool("stop-writes-on-bgsave-error") && strings.TrimSpace(m.cfg.Get("save")) != "")
	m.setDiskError()
}

// setDiskError sets the executor's MISCONF state: the snapshot's error
// first, then the AOF writer's (a failed write, until a retry succeeds,
// or a failed everysec fsync, until one succeeds). The AOF writer calls
// it when its status changes (aof.Hooks.StatusChanged); it needs no m.mu.
func (m *Manager) setDiskError() {
	m.diskMu.Lock()
	defer m.diskMu.Unlock()
	var d *exec.DiskError
	if m.rdbDiskErr.Load() {
		d = &exec.DiskError{}
	} else if w := m.aofw.Load(); w != nil {
		if ok, text := w.Status(); !ok {
			d = &exec.DiskError{AOF: text}
		}
	}
	if d == nil && m.exec.Guard.Load()&exec.GuardDiskError == 0 {
		return // the usual case: nothing to store
	}
	m.exec.SetDiskError(d)
}

// aofHooks connect an AOF writer to the server: its warnings to the log,
// its status to MISCONF, and its fatal errors (appendfsync always) to the
// process's exit, as Redis's flushAppendOnlyFile.
func (m *Manager) aofHooks() aof.Hooks {
	return aof.Hooks{
		Log:           m.log,
		StatusChanged: m.setDiskError,
		Fatal: func(msg string) {
			m.log.Error(msg)
			m.Exit(1)
		},
	}
}

// Cron runs the save policies, automatic AOF rewrites and scheduled jobs.
func (m *Manager) Cron() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bgsave || m.rewrite || m.rwDying != nil {
		return
	}
	now := time.Now()
	if m.rewriteScheduled && !m.rewriteLimitedLocked(now) {
		m.startRewriteLocked()
		return
	}
	if m.bgsaveScheduled {
		m.startBgsaveLocked()
		return
	}
	dirty := m.exec.Dirty.Load() - m.dirtyAtSave
	f := strings.Fields(m.cfg.Get("save"))
	for i := 0; i+1 < len(f); i += 2 {
		secs, _ := strconv.ParseInt(f[i], 10, 64)
		changes, _ := strconv.ParseInt(f[i+1], 10, 64)
		if dirty >= changes && now.Unix()-m.lastSave > secs &&
			(m.lastBgsaveOK || now.Sub(m.lastBgsaveTry) > 5*time.Second) {
			m.log.Info(fmt.Sprintf("%d changes in %d seconds. Saving...", changes, secs))
			m.startBgsaveLocked()
			return
		}
	}
	if w := m.aofw.Load(); w != nil && m.aofOn {
		perc := m.cfg.Int("auto-aof-rewrite-percentage")
		size := m.aofPrevSize + w.Size()
		base := m.aofRewriteBase
		if base == 0 {
			base = 1
		}
		if perc > 0 && size > m.cfg.Int("auto-aof-rewrite-min-size") && (size-base)*100/base >= perc && !m.rewriteLimitedLocked(now) {
			m.log.Info(fmt.Sprintf("Starting automatic rewriting of AOF on %d%% growth", (size-base)*100/base))
			m.startRewriteLocked()
		}
	}
}

// rewriteLimitedLocked is Redis 7.0's aofRewriteLimited: after 3
// consecutive failed rewrites, the ones the cron would start (scheduled or
// automatic) wait 1 minute, then 2, 4... up to 60 after each further
// failure; BGREWRITEAOF still starts one at once. It logs when a wait
// begins. Requires m.mu.
func (m *Manager) rewriteLimitedLocked(now time.Time) bool {
	if m.rewriteFailures < 3 {
		m.limitDelay, m.limitNext = 0, 0
		return false
	}
	if m.limitNext != 0 {
		if now.Unix() < m.limitNext {
			return true
		}
		m.limitNext = 0
		return false
	}
	m.limitDelay = min(max(m.limitDelay*2, 1), 60)
	m.limitNext = now.Unix() + m.limitDelay*60
	m.log.Warn(fmt.Sprintf("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes", m.limitDelay))
	return true
}

// Shutdown saves as SHUTDOWN asks: args are SHUTDOWN's (NOSAVE, SAVE,
// NOW, FORCE); nil means a signal. The AOF is flushed and fsynced. It runs
// once; an error aborts the shutdown (unless FORCE).
func (m *Manager) Shutdown(args [][]byte) error {
	nosave, save, force := false, false, false
	for _, a := range args {
		switch strings.ToLower(string(a)) {
		case "nosave":
			nosave = true
		case "save":
			save = true
		case "force":
			force = true
		}
	}
	m.mu.Lock()
	if m.shutdownDone {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	m.wg.Wait() // let background jobs finish
	if w := m.aofw.Load(); w != nil {
		w.WaitDurable(w.End())
	}
	if !nosave && (save || m.cfg.Get("save") != "") {
		m.log.Info("Saving the final RDB snapshot before exiting.")
		if err := m.Save(); err != nil && !force {
			m.log.Warn("Error trying to save the DB, can't exit.", "err", err)
			return errors.New("Errors trying to SHUTDOWN. Check logs.")
		}
	}
	m.mu.Lock()
	m.shutdownDone = true
	m.mu.Unlock()
	return nil
}

// Close waits for background jobs and closes the AOF.
func (m *Manager) Close() error {
	m.repl.stopOnce.Do(func() { close(m.repl.stop) })
	m.linkMu.Lock()
	m.stopLinkLocked() // a replica's link to its master
	m.linkMu.Unlock()
	m.wg.Wait()
	if w := m.aofw.Swap(nil); w != nil {
		return w.Close()
	}
	return nil
}

// Info returns INFO persistence's lines.
func (m *Manager) Info() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	status := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "err"
	}
	cur := func(on bool, t time.Time) string {
		if !on {
			return "-1"
		}
		return strconv.FormatInt(secondsSince(t), 10)
	}
	writeOK := true
	w := m.aofw.Load()
	if w != nil {
		writeOK, _ = w.Status()
	}
	lines := []string{
		"loading:" + b(m.loading.Load()),
		"async_loading:" + b(m.asyncLoading.Load()),
		"current_cow_peak:0",
		"current_cow_size:0",
		"current_cow_size_age:0",
		"current_fork_perc:0.00",
		"current_save_keys_processed:0",
		"current_save_keys_total:0",
		"rdb_changes_since_last_save:" + strconv.FormatInt(m.exec.Dirty.Load()-m.dirtyAtSave, 10),
		"rdb_bgsave_in_progress:" + b(m.bgsave),
		"rdb_last_save_time:" + strconv.FormatInt(m.lastSave, 10),
		"rdb_last_bgsave_status:" + status(m.lastBgsaveOK),
		"rdb_last_bgsave_time_sec:" + strconv.FormatInt(m.lastBgsaveSecs, 10),
		"rdb_current_bgsave_time_sec:" + cur(m.bgsave, m.bgsaveStart),
		"rdb_saves:" + strconv.FormatInt(m.rdbSaves, 10),
		"rdb_last_cow_size:0",
		"rdb_last_load_keys_expired:" + strconv.FormatInt(m.loadedExpired, 10),
		"rdb_last_load_keys_loaded:" + strconv.FormatInt(m.loadedKeys, 10),
		"aof_enabled:" + b(w != nil || m.aofWaiting),
		"aof_rewrite_in_progress:" + b(m.rewrite),
		"aof_rewrite_scheduled:" + b(m.rewriteScheduled),
		"aof_last_rewrite_time_sec:" + strconv.FormatInt(m.lastRewriteSecs, 10),
		"aof_current_rewrite_time_sec:" + cur(m.rewrite, m.rewriteStart),
		"aof_last_bgrewrite_status:" + status(m.lastRewriteOK),
		"aof_rewrites:" + strconv.FormatInt(m.aofRewrites, 10),
		"aof_rewrites_consecutive_failures:" + strconv.FormatInt(m.rewriteFailures, 10),
		"aof_last_write_status:" + status(writeOK),
		"aof_last_cow_size:0",
		"module_fork_in_progress:0",
		"module_fork_last_cow_size:0",
	}
	if w != nil {
		lines = append(lines,
			"aof_current_size:"+strconv.FormatInt(m.aofPrevSize+w.Size(), 10),
			"aof_base_size:"+strconv.FormatInt(m.aofRewriteBase, 10),
			"aof_pending_rewrite:"+b(m.rewriteScheduled),
			"aof_buffer_length:0",
			"aof_pending_bio_fsync:0",
			"aof_delayed_fsync:0")
	}
	lines = append(lines, "crescent_last_snapshot_pause_usec:"+strconv.FormatInt(m.lastPause.Load()/1000, 10))
	return lines
}
