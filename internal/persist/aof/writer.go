package aof

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// Writer appends records to the current incremental file.
//
// Append encodes records into a memory buffer; it is called under the
// written keys' shard locks, so records of one key are in command order.
// A background goroutine writes the buffer and, with appendfsync always,
// fsyncs it: while one fsync runs, new records pile up and the next fsync
// covers them all (group commit). Offsets are logical: bytes appended since
// the writer was created, across file switches.
type Writer struct {
	policy atomic.Int32

	fileMu sync.Mutex // held while writing or switching the file; before mu
	f      *os.File
	size   atomic.Int64 // bytes in the current incremental file (written)

	mu     sync.Mutex
	buf    []byte
	spare  []byte
	end    int64 // logical offset after the last appended byte
	lastDB int

	syncMu  sync.Mutex
	cond    *sync.Cond
	synced  int64 // logical offset known durable (or written, when not always)
	written int64
	err     error
	closed  bool

	// LastWriteErr holds the last write or fsync error (aof_last_write_status).
	LastWriteErr atomic.Pointer[error]

	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	lastSync time.Time
}

// NewWriter appends to f (already positioned at its end, holding size
// bytes) with the given policy, and starts the background goroutine.
// Logical offsets start at start (a previous writer's End, so that offsets
// recorded by clients stay comparable).
func NewWriter(f *os.File, size int64, policy int, start int64) *Writer {
	w := &Writer{f: f, lastDB: -1, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		end: start, synced: start, written: start}
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
// appendfsync always; otherwise until it is written to the file).
func (w *Writer) WaitDurable(off int64) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	for w.synced < off && w.err == nil && !w.closed {
		w.cond.Wait()
	}
	if w.synced >= off {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	return ErrClosed
}

// Flush writes what is buffered and fsyncs the file now (DEBUG LOADAOF
// reads the file back), returning the writer's error if it has one.
func (w *Writer) Flush() error {
	w.flush(true)
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	return w.err
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-w.wake:
		case <-t.C:
		case <-w.stop:
			w.flush(true)
			return
		}
		w.flush(false)
	}
}

// flush writes what is buffered and fsyncs per the policy.
func (w *Writer) flush(forceSync bool) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	w.flushLocked(forceSync)
}

func (w *Writer) flushLocked(forceSync bool) {
	w.mu.Lock()
	data := w.buf
	w.buf = w.spare[:0]
	end := w.end
	w.mu.Unlock()
	var err error
	if len(data) > 0 {
		var n int
		n, err = w.f.Write(data)
		w.size.Add(int64(n))
	}
	policy := w.Policy()
	synced := false
	if err == nil && (forceSync || policy == FsyncAlways && len(data) > 0 ||
		policy == FsyncEverySec && time.Since(w.lastSync) >= time.Second && w.written < end) {
		err = w.f.Sync()
		w.lastSync = time.Now()
		synced = true
	}
	w.mu.Lock()
	if cap(data) <= 1<<20 {
		w.spare = data[:0]
	}
	w.mu.Unlock()
	if err != nil {
		w.LastWriteErr.Store(&err)
	} else if len(data) > 0 || synced {
		w.LastWriteErr.Store(nil)
	}
	w.syncMu.Lock()
	if err != nil {
		w.err = err
	} else {
		w.written = end
		if policy != FsyncAlways || synced {
			w.synced = end
		}
	}
	w.syncMu.Unlock()
	w.cond.Broadcast()
}

// Switch makes f (empty) the current incremental file: what is buffered
// is written and fsynced to the old file first. The caller holds the
// whole keyspace, so no Append runs concurrently. It returns the old file,
// for the caller to close.
func (w *Writer) Switch(f *os.File) (*os.File, error) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	w.flushLocked(true)
	w.syncMu.Lock()
	err := w.err
	w.syncMu.Unlock()
	old := w.f
	w.f = f
	w.size.Store(0)
	w.mu.Lock()
	w.lastDB = -1
	w.mu.Unlock()
	return old, err
}

// Close writes and fsyncs what is buffered, stops the goroutine and closes
// the file.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	w.syncMu.Lock()
	w.closed = true
	err := w.err
	w.syncMu.Unlock()
	w.cond.Broadcast()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
