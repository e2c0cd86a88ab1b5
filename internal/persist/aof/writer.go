package aof

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/crescent-db/crescent/internal/oserr"
)

// Fsync policies (appendfsync).
const (
	FsyncAlways = iota
	FsyncEverySec
	FsyncNo
)

// ParsePolicy maps appendfsync's value to a policy.
func ParsePolicy(s string) int {
	switch s {
	case "always":
		return FsyncAlways
	case "no":
		return FsyncNo
	}
	return FsyncEverySec
}

// ErrClosed is returned when waiting on a closed writer.
var ErrClosed = errors.New("AOF closed")

// File is what a Writer appends to: an *os.File opened with O_APPEND (a
// test's fault injector in the package's tests).
type File interface {
	Write(p []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Hooks connect a Writer to the server. Every field may be nil.
type Hooks struct {
	// Log receives Redis's warnings about write and fsync errors.
	Log *slog.Logger
	// Fatal is called when a write or an fsync fails under appendfsync
	// always: the changes are in memory and may have been seen, and
	// cannot be made durable, so Redis exits (the server's hook logs msg
	// and exits). If Fatal returns, the writer fails every waiter.
	Fatal func(msg string)
	// StatusChanged is called, without the writer's locks, when Status
	// changes (the server refuses writes while it is not ok).
	StatusChanged func()
}

// retryEvery is how often a failed write or fsync is tried again: Redis
// retries from each event-loop iteration, at least hz (10) times a second.
const retryEvery = 100 * time.Millisecond

// errLogEvery limits the write-error warnings, as Redis's
// AOF_WRITE_LOG_ERROR_RATE.
const errLogEvery = 30 * time.Second

// Writer appends records to the current incremental file.
//
// Append encodes records into a memory buffer; it is called under the
// written keys' shard locks, so records of one key are in command order.
// A background goroutine writes the buffer and, with appendfsync always,
// fsyncs it: while one fsync runs, new records pile up and the next fsync
// covers them all (group commit). Offsets are logical: bytes appended since
// the writer was created, across file switches.
//
// Errors are handled as Redis's flushAppendOnlyFile: a failed write keeps
// its bytes in the buffer (a partial write is truncated away from the
// file, or, if that fails, its written part dropped from the buffer) and
// is retried; Status reports the error (aof_last_write_status) until a
// write succeeds, and the server refuses writes meanwhile (MISCONF). A
// failed everysec fsync is reported the same way until one succeeds.
// Under appendfsync always a failed write or fsync is fatal (Hooks.Fatal).
type Writer struct {
	policy atomic.Int32
	hooks  Hooks

	fileMu     sync.Mutex // held while writing or switching the file; before mu
	f          File
	size       atomic.Int64 // bytes in the current incremental file (written)
	fsynced    int64        // logical offset known fsynced (fileMu)
	lastSync   time.Time    // fileMu
	lastErrLog time.Time    // fileMu

	mu     sync.Mutex
	buf    []byte
	spare  []byte
	end    int64 // logical offset after the last appended byte
	lastDB int

	syncMu   sync.Mutex
	cond     *sync.Cond
	synced   int64 // logical offset known durable (or written, when not always)
	written  int64
	err      error // fatal: every waiter fails
	writeErr error // the last write failed; its bytes wait in buf
	fsyncErr error // the last fsync (not under always) failed
	closed   bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// NewWriter appends to f (opened with O_APPEND, holding size bytes) with
// the given policy, and starts the background goroutine. Logical offsets
// start at start (a previous writer's End, so that offsets recorded by
// clients stay comparable).
func NewWriter(f File, size int64, policy int, start int64, hooks Hooks) *Writer {
	w := &Writer{f: f, hooks: hooks, lastDB: -1, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		end: start, synced: start, written: start, fsynced: start}
	w.size.Store(size)
	w.cond = sync.NewCond(&w.syncMu)
	w.policy.Store(int32(policy))
	go w.loop()
	return w
}

// SetPolicy changes the fsync policy.
func (w *Writer) SetPolicy(p int) { w.policy.Store(int32(p)) }

// Policy returns the fsync policy.
func (w *Writer) Policy() int { return int(w.policy.Load()) }

// Size is the current incremental file's size including buffered bytes.
func (w *Writer) Size() int64 {
	w.mu.Lock()
	n := len(w.buf)
	w.mu.Unlock()
	return w.size.Load() + int64(n)
}

// AppendCommand encodes one command as a RESP multibulk.
func AppendCommand(b []byte, args [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

var (
	cmdMulti = [][]byte{[]byte("MULTI")}
	cmdExec  = [][]byte{[]byte("EXEC")}
)

// AppendUnit encodes the effects of one unit run in database db as the
// AOF records them (and the replication stream carries them): SELECT
// first when db differs from *lastDB (which it then updates, as it
// follows the SELECTs inside the unit: the stream stays in the unit's
// last database, as Redis's), and MULTI/EXEC around units of several
// commands.
func AppendUnit(b []byte, lastDB *int, db int, cmds [][][]byte) []byte {
	if db != *lastDB {
		b = AppendCommand(b, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))})
		*lastDB = db
	}
	// a unit from Executor.PropagateUnit comes wrapped already
	wrap := len(cmds) > 1 && !isMulti(cmds[0])
	if wrap {
		b = AppendCommand(b, cmdMulti)
	}
	for _, c := range cmds {
		b = AppendCommand(b, c)
		if len(c) == 2 && strings.EqualFold(string(c[0]), "select") {
			if n, err := strconv.Atoi(string(c[1])); err == nil {
				*lastDB = n
			}
		}
	}
	if wrap {
		b = AppendCommand(b, cmdExec)
	}
	return b
}

func isMulti(c [][]byte) bool {
	return len(c) == 1 && len(c[0]) == 5 && strings.EqualFold(string(c[0]), "multi")
}

// Append records the effects of one unit in database db: SELECT when the
// database changed, and MULTI/EXEC around units of several commands. It
// returns the logical offset just past the unit.
func (w *Writer) Append(db int, cmds [][][]byte) int64 {
	w.mu.Lock()
	n := len(w.buf)
	w.buf = AppendUnit(w.buf, &w.lastDB, db, cmds)
	w.end += int64(len(w.buf) - n)
	end := w.end
	first := n == 0
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return end
}

// End is the logical offset after the last appended byte.
func (w *Writer) End() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.end
}

// WaitDurable blocks until every byte before off is on disk (with
// appendfsync always; otherwise until it is written to the file). It
// returns the write or fsync error instead while there is one.
func (w *Writer) WaitDurable(off int64) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	for w.synced < off && w.err == nil && w.writeErr == nil && w.fsyncErr == nil && !w.closed {
		w.cond.Wait()
	}
	switch {
	case w.synced >= off:
		return nil
	case w.err != nil:
		return w.err
	case w.writeErr != nil:
		return w.writeErr
	case w.fsyncErr != nil:
		return w.fsyncErr
	}
	return ErrClosed
}

// Status is aof_last_write_status: ok, or the errno text of the last
// failed write or fsync (Redis's MISCONF names it).
func (w *Writer) Status() (ok bool, text string) {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if err := w.statusErr(); err != nil {
		return false, oserr.Text(err)
	}
	return true, ""
}

// statusErr is the error Status reports; requires syncMu.
func (w *Writer) statusErr() error {
	switch {
	case w.writeErr != nil:
		return w.writeErr
	case w.fsyncErr != nil:
		return w.fsyncErr
	}
	return w.err
}

// Flush writes what is buffered and fsyncs the file now (DEBUG LOADAOF
// reads the file back; a rewrite's cut needs everything before it in the
// old file), returning the error if a write or fsync failed.
func (w *Writer) Flush() error {
	w.flush(true)
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	return w.statusErr()
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var retry <-chan time.Time
	for {
		select {
		case <-w.wake:
		case <-t.C:
		case <-retry:
		case <-w.stop:
			w.flush(true)
			return
		}
		retry = nil
		if !w.flush(false) {
			retry = time.After(retryEvery)
		}
	}
}

// flush writes what is buffered and fsyncs per the policy; it reports
// whether the writer is free of write and fsync errors.
func (w *Writer) flush(forceSync bool) bool {
	w.fileMu.Lock()
	ok, changed := w.flushLocked(forceSync)
	w.fileMu.Unlock()
	if changed && w.hooks.StatusChanged != nil {
		w.hooks.StatusChanged()
	}
	return ok
}

func (w *Writer) warn(msg string, args ...any) {
	if w.hooks.Log != nil {
		w.hooks.Log.Warn(msg, args...)
	}
}

// fatal reports an error appendfsync always cannot recover from; if the
// hook returns, every waiter fails with err.
func (w *Writer) fatal(msg string, err error) {
	if w.hooks.Fatal != nil {
		w.hooks.Fatal(msg)
	} else {
		w.warn(msg)
	}
	w.syncMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.syncMu.Unlock()
	w.cond.Broadcast()
}

// FlushSleep is Redis's aof_flush_sleep (DEBUG AOF-FLUSH-SLEEP, for
// tests): microseconds every flush with something to write waits before
// writing it; 0 or less, none.
var FlushSleep atomic.Int64

// flushLocked writes and fsyncs; it returns whether the writer is free of
// errors and whether Status changed. Requires fileMu.
func (w *Writer) flushLocked(forceSync bool) (ok, changed bool) {
	w.mu.Lock()
	data := w.buf
	w.buf = w.spare[:0]
	w.spare = nil
	end := w.end
	w.mu.Unlock()
	policy := w.Policy()
	rest := 0 // bytes of data not in the file
	var werr error
	if len(data) > 0 {
		if us := FlushSleep.Load(); us > 0 {
			time.Sleep(time.Duration(us) * time.Microsecond)
		}
		rest, werr = w.write(data, policy)
	}
	written := end - int64(rest)
	var serr error
	synced := false
	if werr == nil && w.fsynced < written && (forceSync || policy == FsyncAlways ||
		policy == FsyncEverySec && time.Since(w.lastSync) >= time.Second) {
		serr = w.f.Sync()
		w.lastSync = time.Now()
		synced = true
		if serr == nil {
			w.fsynced = written
		} else if policy == FsyncAlways {
			w.fatal(fmt.Sprintf("Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...", oserr.Text(serr)), serr)
		}
	}
	w.mu.Lock()
	if rest > 0 {
		// the unwritten bytes go first, before what was appended since
		nb := make([]byte, 0, rest+len(w.buf))
		nb = append(append(nb, data[len(data)-rest:]...), w.buf...)
		w.spare, w.buf = w.buf[:0], nb
	} else if cap(data) <= 1<<20 {
		w.spare = data[:0]
	}
	w.mu.Unlock()
	w.syncMu.Lock()
	before := w.statusErr()
	if len(data) > 0 {
		if werr == nil && w.writeErr != nil {
			w.warn("AOF write error looks solved, Redis can write again.")
		}
		w.writeErr = werr
	}
	if synced && policy != FsyncAlways {
		if serr != nil && w.fsyncErr == nil {
			w.warn("Fail to fsync the AOF file: " + oserr.Text(serr))
		}
		w.fsyncErr = serr
	}
	w.written = written
	if policy != FsyncAlways {
		w.synced = written
	} else if w.fsynced > w.synced {
		w.synced = w.fsynced
	}
	after := w.statusErr()
	ok = w.writeErr == nil && w.fsyncErr == nil
	w.syncMu.Unlock()
	w.cond.Broadcast()
	changed = (before == nil) != (after == nil) || before != nil && after != nil && oserr.Text(before) != oserr.Text(after)
	return ok, changed
}

// write writes data to the file as Redis's flushAppendOnlyFile: on a
// short write the written part is truncated away again (or, when that
// fails, kept and counted), and the error is reported with ENOSPC. It
// returns how many bytes of data are not in the file, and the error.
// Requires fileMu.
func (w *Writer) write(data []byte, policy int) (int, error) {
	before := w.size.Load()
	n, err := w.f.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err == nil {
		w.size.Add(int64(n))
		return 0, nil
	}
	canLog := time.Since(w.lastErrLog) > errLogEvery
	if canLog {
		w.lastErrLog = time.Now()
	}
	if n <= 0 {
		n = 0
		if canLog {
			w.warn("Error writing to the AOF file: " + oserr.Text(err))
		}
	} else {
		if canLog {
			w.warn(fmt.Sprintf("Short write while writing to the AOF file: (nwritten=%d, expected=%d)", n, len(data)))
		}
		if terr := w.f.Truncate(before); terr != nil {
			if canLog {
				w.warn("Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: " + oserr.Text(terr))
			}
			w.size.Add(int64(n)) // those bytes stay in the file
		} else {
			n = 0
		}
		err = fmt.Errorf("short AOF write: %w", syscall.ENOSPC)
	}
	if policy == FsyncAlways {
		w.fatal("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...", err)
	}
	return len(data) - n, err
}

// Switch makes f (empty) the current incremental file: what is buffered
// is written and fsynced to the old file first. The caller holds the
// whole keyspace, so no Append runs concurrently. It returns the old file,
// for the caller to close. When the old file cannot take what is
// buffered, nothing is switched and the error is returned: those bytes
// belong before the cut.
func (w *Writer) Switch(f File) (File, error) {
	w.fileMu.Lock()
	_, changed := w.flushLocked(true)
	w.syncMu.Lock()
	err := w.statusErr()
	w.syncMu.Unlock()
	var old File
	if err == nil {
		old, w.f = w.f, f
		w.size.Store(0)
		w.mu.Lock()
		w.lastDB = -1
		w.mu.Unlock()
	}
	w.fileMu.Unlock()
	if changed && w.hooks.StatusChanged != nil {
		w.hooks.StatusChanged()
	}
	return old, err
}

// Close writes and fsyncs what is buffered, stops the goroutine and closes
// the file. It returns the write error if the buffer could not be
// written (its bytes are dropped, as Redis's stopAppendOnly drops them).
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	w.syncMu.Lock()
	w.closed = true
	err := w.statusErr()
	w.syncMu.Unlock()
	w.cond.Broadcast()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
