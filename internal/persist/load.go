package persist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/persist/aof"
	"github.com/crescent-db/crescent/internal/persist/rdb"
	"github.com/crescent-db/crescent/internal/resp"
)

// Load reads the dataset at startup: the AOF when appendonly is yes and
// one exists, else the RDB file. With appendonly yes and no AOF yet, the
// RDB is loaded (unlike Redis, which would start empty) and becomes the
// AOF's base in Start.
func (m *Manager) Load() error {
	m.loading.Store(true)
	defer m.loading.Store(false)
	start := time.Now()
	if m.cfg.Bool("appendonly") {
		if err := m.migrateLegacyAOF(); err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(m.aofDir(), aof.ManifestName(m.aofPrefix())))
		switch {
		case err == nil:
			mf, err := aof.ParseManifest(data)
			if err != nil {
				return fmt.Errorf("%s: %w", aof.ManifestName(m.aofPrefix()), err)
			}
			m.manifest = mf
			// the replayed commands count as changes since the last
			// save, as in Redis (rdb_changes_since_last_save)
			m.store.LockAll()
			err = m.loadAOFHeld(mf, nil)
			m.store.UnlockAll()
			if err != nil {
				return err
			}
			m.log.Info("DB loaded from append only file", "seconds", time.Since(start).Seconds(), "keys", m.loadedKeys)
			return nil
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
		if _, err := os.Stat(m.rdbPath()); err == nil {
			m.log.Warn("appendonly is yes but no AOF exists: loading the RDB file, which becomes the AOF base", "file", m.rdbPath())
		}
	}
	// as Redis's loadDataFromDisk: a master puts a DEL of each key whose
	// time passed into a backlog created for it, and continues the
	// stream the file recorded (restoreReplInfo)
	replica := m.cfg.Get("replicaof") != ""
	if !replica {
		rp := &m.repl
		rp.mu.Lock()
		rp.backlog = newBacklog(m.cfg.Int("repl-backlog-size"), 0)
		rp.mu.Unlock()
		m.bootFeed = true
	}
	m.bootRepl = &replSnapInfo{off: -1, db: -1}
	n, err := m.loadRDBFile(m.rdbPath())
	m.bootFeed = false
	ri := m.bootRepl
	m.bootRepl = nil
	if err != nil {
		ri = nil
	}
	m.restoreReplInfo(ri, replica)
	m.dirtyAtSave = m.exec.Dirty.Load() // loading a snapshot is not a change
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	m.log.Info("DB loaded from disk", "seconds", time.Since(start).Seconds(), "keys", n)
	return nil
}

// migrateLegacyAOF moves an old-style AOF (a single file named by
// appendfilename in dir, as Redis before 7.0 wrote it) into the AOF
// directory as its base, with a manifest naming it, as Redis 7.0's
// aofUpgradePrepare does: when the directory does not exist, or its
// manifest is missing or names no file, or names only that base and the
// directory lacks it.
func (m *Manager) migrateLegacyAOF() error {
	legacy := m.path(m.aofPrefix())
	if st, err := os.Stat(legacy); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	dir := m.aofDir()
	data, err := os.ReadFile(filepath.Join(dir, aof.ManifestName(m.aofPrefix())))
	if err == nil {
		mf, err := aof.ParseManifest(data)
		if err != nil {
			return nil // refused by the load that follows
		}
		_, statErr := os.Stat(filepath.Join(dir, m.aofPrefix()))
		onlyLegacyBase := mf.Base != nil && len(mf.Incrs) == 0 && mf.Base.Name == m.aofPrefix() && statErr != nil
		if !(mf.Base == nil && len(mf.Incrs) == 0) && !onlyLegacyBase {
			return nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the AOF directory: %w", err)
	}
	mf := &aof.Manifest{Base: &aof.FileInfo{Name: m.aofPrefix(), Seq: 1, Type: aof.TypeBase}}
	if err := aof.WriteFileAtomic(dir, aof.ManifestName(m.aofPrefix()), mf.Bytes()); err != nil {
		return fmt.Errorf("writing the AOF manifest: %w", err)
	}
	if err := os.Rename(legacy, filepath.Join(dir, m.aofPrefix())); err != nil {
		return fmt.Errorf("moving the old-style AOF into %s: %w", dir, err)
	}
	m.log.Info("Successfully migrated an old-style AOF file into the AOF directory", "file", m.aofPrefix(), "dir", m.cfg.Get("appenddirname"))
	return nil
}

// loadRDBFile loads an RDB file into the keyspace.
func (m *Manager) loadRDBFile(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	d := rdb.NewDecoder(f)
	if err := m.loadRDB(d); err != nil {
		return 0, fmt.Errorf("loading %s: %w", path, err)
	}
	return m.loadedKeys, nil
}

// loadRDB loads an RDB stream into the keyspace directly (as Redis does:
// snapshots are not replayed as commands).
func (m *Manager) loadRDB(d *rdb.Decoder) error {
	m.store.LockAll()
	defer m.store.UnlockAll()
	return m.loadRDBHeld(d, true)
}

// loadRDBHeld is loadRDB for a caller holding the whole keyspace. replace
// lets a key or function library in the stream replace one already
// present; without it one already present fails the load.
func (m *Manager) loadRDBHeld(d *rdb.Decoder, replace bool) error {
	now := m.exec.Now()
	var ts time.Time
	h := &rdb.LoadHandler{Codecs: m.codecs,
		Key: func(db int, key []byte, val any, exp int64) error {
			if db >= m.store.NumDBs() {
				return fmt.Errorf("FATAL: Data file was created with a Redis server configured to handle more than %d databases. Exiting", m.store.NumDBs())
			}
			if exp != 0 && exp <= now {
				m.loadedExpired++
				if m.bootFeed {
					del := "DEL"
					if m.cfg.Bool("lazyfree-lazy-expire") {
						del = "UNLINK"
					}
					m.feedReplicas(db, [][][]byte{{[]byte(del), key}})
				}
				return nil
			}
			v := m.store.DB(db, now).Loading()
			if !replace {
				if _, dup := v.Peek(key); dup {
					return fmt.Errorf("RDB has duplicated key '%s' in DB %d", key, db)
				}
			}
			v.Set(key, val, exp)
			m.loadedKeys++
			if m.loadedKeys%1000000 == 0 {
				m.log.Info("loading", "keys", m.loadedKeys, "elapsed", time.Since(ts))
			}
			return nil
		},
		Access: func(db int, key []byte, idle, freq int64) {
			if a, ok := m.store.AccessFrom(idle, freq, now); ok && db < m.store.NumDBs() {
				m.store.DB(db, now).SetAccess(key, a)
			}
		},
		Aux: func(k, v []byte) {
			switch ri := m.bootRepl; string(k) {
			case "redis-ver":
				m.log.Info("Loading RDB produced by version " + string(v))
			case "repl-id":
				if ri != nil && len(v) == 40 {
					ri.id = string(v)
				}
			case "repl-offset":
				if n, err := strconv.ParseInt(string(v), 10, 64); ri != nil && err == nil {
					ri.off = n
				}
			case "repl-stream-db":
				if n, err := strconv.Atoi(string(v)); ri != nil && err == nil {
					ri.db = n
				}
			}
		},
		Function: func(code []byte) error {
			if m.Functions == nil {
				m.log.Warn("RDB holds function libraries: skipped")
				return nil
			}
			return m.Functions.LoadCode(code, replace)
		},
	}
	ts = time.Now()
	return rdb.Load(d, h)
}

// Reload runs DEBUG RELOAD for a caller holding the whole keyspace
// (LockAll). Unless !save it writes the RDB file as SAVE does; then it
// calls flush (when not nil) to empty the dataset, and loads the file
// back. merge lets loaded keys and function libraries replace ones present
// (DEBUG RELOAD MERGE); without it a key or library already present fails
// the load, where Redis would stop the server for a key. saveErr reports a
// failed save (nothing else was done), loadErr a failed load (what was
// loaded before the failure stays).
func (m *Manager) Reload(save, merge bool, flush func()) (saveErr, loadErr error) {
	var f *os.File
	if save {
		start := time.Now()
		var dirty int64
		var err error
		dirty, _, f, err = m.writeSnapshotFile(m.rdbPath(), fmt.Sprintf("temp-reload-%d.rdb", os.Getpid()), formatRDB, false, true, true, nil, nil)
		if err := m.savedRDB(start, dirty, false, false, err); err != nil {
			return err, nil
		}
	} else {
		var err error
		if f, err = os.Open(m.rdbPath()); err != nil {
			if flush != nil {
				flush()
			}
			m.log.Warn("DEBUG RELOAD: can't open the RDB file", "file", m.rdbPath(), "err", err)
			return nil, err
		}
	}
	defer f.Close()
	if flush != nil {
		flush()
	}
	m.loadedKeys, m.loadedExpired = 0, 0
	m.loading.Store(true)
	defer m.loading.Store(false)
	start := time.Now()
	if err := m.loadRDBHeld(rdb.NewDecoder(bufio.NewReaderSize(f, 1<<20)), merge); err != nil {
		m.log.Warn("DEBUG RELOAD: error loading the RDB file", "file", m.rdbPath(), "err", err)
		return nil, err
	}
	m.log.Info("DB reloaded by DEBUG RELOAD", "seconds", time.Since(start).Seconds(), "keys", m.loadedKeys)
	return nil, nil
}

// ErrNoAOF is DEBUG LOADAOF's error when there is no append-only file to
// load (redis-server 7.0 exits there).
var ErrNoAOF = errors.New("no append only file to load")

// ReloadAOF runs DEBUG LOADAOF for a caller holding the whole keyspace
// (LockAll): what the AOF buffers is written and fsynced, flush empties
// the dataset, and the files the manifest on disk names are replayed (as
// Redis does, also with appendonly no when the files exist). Without a
// manifest it returns ErrNoAOF before emptying anything. During a
// background rewrite it loads too, as Redis 7.0 does: the manifest is read
// and its files opened under m.mu, where the rewrite's end replaces the
// manifest and deletes the older files, so the files loaded are the ones
// that manifest names even if the rewrite ends meanwhile (both manifests
// describe the same data); a file that cannot be opened fails it before
// anything is emptied. Replayed commands are not counted as changes since
// the last save (Redis resets its dirty counter).
func (m *Manager) ReloadAOF(flush func()) error {
	if w := m.aofw.Load(); w != nil {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("writing the AOF: %w", err)
		}
	}
	mf, opened, err := m.openAOFFiles()
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	if flush != nil {
		flush()
	}
	m.loadedKeys, m.loadedExpired = 0, 0
	m.loading.Store(true)
	defer m.loading.Store(false)
	err = m.loadAOFHeld(mf, opened)
	m.mu.Lock()
	m.dirtyAtSave = m.exec.Dirty.Load()
	m.mu.Unlock()
	if err != nil {
		m.log.Warn("DEBUG LOADAOF: error loading the append only file", "err", err)
		return err
	}
	m.log.Info("Append Only File loaded by DEBUG LOADAOF")
	return nil
}

// openAOFFiles reads the manifest on disk and opens the files it names,
// under m.mu (see ReloadAOF).
func (m *Manager) openAOFFiles() (*aof.Manifest, map[string]*os.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, err := os.ReadFile(filepath.Join(m.aofDir(), aof.ManifestName(m.aofPrefix())))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, ErrNoAOF
	}
	if err != nil {
		return nil, nil, err
	}
	mf, err := aof.ParseManifest(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", aof.ManifestName(m.aofPrefix()), err)
	}
	files := mf.Incrs
	if mf.Base != nil {
		files = append([]aof.FileInfo{*mf.Base}, files...)
	}
	opened := make(map[string]*os.File, len(files))
	for _, fi := range files {
		f, err := os.Open(filepath.Join(m.aofDir(), fi.Name))
		if err != nil {
			for _, f := range opened {
				f.Close()
			}
			return nil, nil, fmt.Errorf("the AOF file %s doesn't exist: %w", fi.Name, err)
		}
		opened[fi.Name] = f
	}
	return mf, opened, nil
}

// loadAOFHeld replays the manifest's files, for a caller holding the
// whole keyspace: the base, then each incremental file. Commands run as
// Redis's loading client runs them (exec.Replay). opened holds the files
// already open by name (nil: each is opened here).
func (m *Manager) loadAOFHeld(mf *aof.Manifest, opened map[string]*os.File) error {
	m.store.SetReplaying(true) // no key expires while the file replays
	defer m.store.SetReplaying(false)
	var files []aof.FileInfo
	if mf.Base != nil {
		files = append(files, *mf.Base)
	}
	files = append(files, mf.Incrs...)
	cl := command.NewClient(-1)
	cl.User = "default"
	cl.Flags |= command.ClientLoading
	w := resp.NewWriter()
	for i, fi := range files {
		last := i == len(files)-1
		if err := m.loadAOFFile(fi, opened[fi.Name], last, cl, w); err != nil {
			return err
		}
	}
	return nil
}

// loadAOFFile replays one file of the AOF, f when it is open already
// (closed here either way).
func (m *Manager) loadAOFFile(fi aof.FileInfo, f *os.File, last bool, cl *command.Client, w *resp.Writer) error {
	path := filepath.Join(m.aofDir(), fi.Name)
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			// every file the manifest names must exist, the last incremental
			// one too (Redis: "Unable to obtain the AOF file ... length")
			return fmt.Errorf("the AOF file %s doesn't exist: %w", fi.Name, err)
		}
	}
	defer f.Close()
	start := time.Now()
	br := bufio.NewReaderSize(f, 1<<20)
	var off int64
	if p, _ := br.Peek(5); bytes.Equal(p, []byte("REDIS")) {
		d := rdb.NewDecoder(br)
		if err := m.loadRDBHeld(d, true); err != nil {
			return &aof.PositionError{File: fi.Name, Offset: d.Offset(), Err: err}
		}
		off = d.Offset()
		br = d.Reader()
	}
	r := aof.NewReader(br, off)
	var queue [][][]byte
	inMulti := false
	var multiOff int64
	n := 0
	for {
		before := r.Offset()
		args, err := r.Next()
		if err == io.EOF {
			if inMulti {
				err = aof.ErrTruncated
				before = multiOff
			} else {
				break
			}
		}
		if err != nil {
			if errors.Is(err, aof.ErrTruncated) && inMulti {
				before = multiOff
			}
			if errors.Is(err, aof.ErrTruncated) && last && m.cfg.Bool("aof-load-truncated") {
				m.log.Warn("!!! Warning: short read while loading the AOF file !!!", "file", fi.Name, "offset", before)
				m.log.Warn("AOF loaded anyway because aof-load-truncated is enabled: truncating the file", "file", fi.Name, "size", before)
				f.Close()
				if terr := os.Truncate(path, before); terr != nil {
					return fmt.Errorf("error truncating the AOF file %s: %w", fi.Name, terr)
				}
				break
			}
			if errors.Is(err, aof.ErrTruncated) {
				return &aof.PositionError{File: fi.Name, Offset: before, Err: fmt.Errorf("%w: unexpected end of file (aof-load-truncated is no, or it is not the last file)", err)}
			}
			return &aof.PositionError{File: fi.Name, Offset: before, Err: fmt.Errorf("%w: bad file format reading the append only file", err)}
		}
		switch {
		case strings.EqualFold(string(args[0]), "multi"):
			inMulti, queue, multiOff = true, queue[:0], before
			continue
		case strings.EqualFold(string(args[0]), "exec") && inMulti:
			for _, q := range queue {
				m.exec.Replay(cl, q, w, true)
				if b := w.Buf; len(b) > 0 && b[0] == '-' {
					// named as the EXEC, Redis's lastcmd in a transaction
					m.unexpectedError(false, args, b)
				}
				w.Reset()
			}
			inMulti = false
			w.Reset()
			continue
		}
		if spec, msg := m.exec.Lookup(args); spec == nil {
			return &aof.PositionError{File: fi.Name, Offset: before, Err: fmt.Errorf("unknown command '%s' reading the append only file: %s", args[0], msg)}
		}
		if inMulti {
			queue = append(queue, args)
			continue
		}
		m.exec.Replay(cl, args, w, false)
		if b := w.Buf; len(b) > 0 && b[0] == '-' {
			m.unexpectedError(false, args, b)
		}
		w.Reset()
		n++
	}
	m.log.Info("DB loaded from AOF file", "file", fi.Name, "commands", n, "seconds", time.Since(start).Seconds())
	return nil
}

// restoreReplInfo continues, after the RDB loaded at startup, the stream
// it recorded (ri: its repl-* aux fields, nil when the load failed), as
// Redis 7.0's loadDataFromDisk. A master keeps the recorded id as
// master_replid2 up to the recorded offset, its offset moves on from
// there (past the DELs of keys whose time passed, already in the
// backlog), so that its replicas continue with a partial resync; without
// a recorded position the backlog goes unless those DELs are in it. A
// replica (the replicaof directive) takes the recorded id and offset as
// its master's: its first PSYNC asks to continue from there.
func (m *Manager) restoreReplInfo(ri *replSnapInfo, replica bool) {
	valid := ri != nil && ri.id != "" && ri.off >= 0 && ri.db >= 0
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	switch {
	case replica && !valid:
		return
	case replica:
		rp.id, rp.id2, rp.off2 = ri.id, zeroReplID, -1
		rp.offset.Store(ri.off)
		rp.backlog = newBacklog(m.cfg.Int("repl-backlog-size"), ri.off)
		rp.bootDB = ri.db
	default:
		if valid {
			rp.id2, rp.off2 = ri.id, ri.off+1
			rp.offset.Add(ri.off)
			rp.backlog.end += ri.off
		}
		if rp.offset.Load() == 0 {
			rp.backlog = nil
			return
		}
		m.log.Info("Replication backlog restored from the RDB file", "replid2", rp.id2, "offset", rp.offset.Load())
	}
	rp.idleFrom = time.Now()
	m.replOn.Store(true)
	if !rp.pinging {
		rp.pinging = true
		go m.pingReplicas()
	}
}
