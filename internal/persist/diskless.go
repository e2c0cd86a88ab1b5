package persist

// repl-diskless-load on a replica: the master's RDB is decoded as it
// arrives on the socket, without a temporary file, when the option asks
// for it. See docs/design/persistence.md, "Diskless load".

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// disklessLoad reports whether the next full sync loads from the socket,
// as Redis's useDisklessLoad: always with swapdb, with on-empty-db only
// while the keyspace has no key.
func (m *Manager) disklessLoad() bool {
	switch m.cfg.Get("repl-diskless-load") {
	case "swapdb":
		return true
	case "on-empty-db":
		m.store.LockAll()
		defer m.store.UnlockAll()
		for i := 0; i < m.store.NumDBs(); i++ {
			if m.store.DB(i, 0).Size() > 0 {
				return false
			}
		}
		return true
	}
	return false
}

// receiveDiskless loads the master's snapshot, whose bulk header is head,
// from the socket. on-empty-db: into the (empty) keyspace, with LOADING
// meanwhile; a failure empties it again, as Redis's. swapdb: into a
// sibling store while the old data stays; when the master's replid is the
// one this replica had (the same history, further on) clients keep being
// served from the old data meanwhile (Redis 7.0's async loading), else
// they get LOADING; the new data replaces the old in one step at the end,
// and a failure leaves the old data in place.
func (m *Manager) receiveDiskless(l *masterLink, br *bufio.Reader, timeout func(), head, id string, off int64) error {
	payload, drain, err := syncPayload(l, br, timeout, head)
	if err != nil {
		return err
	}
	start := time.Now()
	streamDB := 0
	dec := rdb.NewDecoder(bufio.NewReaderSize(payload, 1<<20))
	if m.cfg.Get("repl-diskless-load") != "swapdb" {
		m.log.Info("MASTER <-> REPLICA sync: Loading DB in memory from the socket (on-empty-db)")
		l.everUp = false
		m.exec.SetGuard(exec.GuardLoading, true)
		m.loading.Store(true)
		aofOn := m.pauseAOF()
		m.emptyData()
		err := m.loadRDBNoExpire(dec, &streamDB)
		if err == nil {
			err = drain()
		}
		m.loading.Store(false)
		m.exec.SetGuard(exec.GuardLoading, false)
		if err != nil {
			m.emptyData() // the half-loaded data goes
			return fmt.Errorf("failed trying to load the MASTER synchronization DB from socket: %w", err)
		}
		m.log.Info("MASTER <-> REPLICA sync: Finished with success", "seconds", time.Since(start).Seconds(), "bytes", l.syncRead.Load())
		m.syncLoaded(l, id, off, streamDB, aofOn)
		return nil
	}
	async := id == m.ReplID()
	m.log.Info("MASTER <-> REPLICA sync: Loading DB in memory from the socket into a new dataset (swapdb)", "async", async)
	guard := uint32(exec.GuardLoading)
	if async {
		guard = exec.GuardAsyncLoading
		m.asyncLoading.Store(true)
	} else {
		m.loading.Store(true)
	}
	m.exec.SetGuard(guard, true)
	aofOn := m.pauseAOF()
	sib := m.store.Sibling()
	var codes [][]byte
	var keys int64
	sib.LockAll()
	err = m.loadRDBInto(sib, dec, &streamDB, &keys, func(code []byte) error {
		codes = append(codes, bytes.Clone(code))
		return nil
	})
	sib.UnlockAll()
	if err == nil {
		err = drain()
	}
	if err == nil {
		select {
		case <-l.stop:
			err = errLinkStopped
		default:
		}
	}
	install := func() {}
	if err == nil && m.Functions != nil {
		install, err = m.Functions.Prepare(codes)
	}
	loaded := func() {
		m.loading.Store(false)
		m.asyncLoading.Store(false)
		m.exec.SetGuard(guard, false)
	}
	if err == nil {
		l.everUp = false
		m.swapIn(sib, install, keys, loaded)
	}
	loaded()
	if err != nil {
		m.log.Warn("MASTER <-> REPLICA sync: Discarding the half-loaded data, the old data stays", "err", err)
		return fmt.Errorf("failed trying to load the MASTER synchronization DB from socket: %w", err)
	}
	m.log.Info("MASTER <-> REPLICA sync: Finished with success", "seconds", time.Since(start).Seconds(), "bytes", l.syncRead.Load())
	m.syncLoaded(l, id, off, streamDB, aofOn)
	return nil
}

// swapIn replaces the dataset with sib's and the function libraries with
// the ones install puts in place, in one step under the whole keyspace, as
// Redis's swapMainDbWithTempDb and functionsLibCtxSwapWithCurrent: no
// client sees the new data with the old libraries, or no libraries.
// WATCHed keys of the old and the new data are touched, clients blocked
// on keys that exist now are served, tracking clients are told to flush,
// nothing goes to the AOF, which is off meanwhile (pauseAOF; syncLoaded
// turns it on again from the new data). loaded ends the load
// (INFO loading flags, the LOADING guard) before the keyspace is unlocked.
func (m *Manager) swapIn(sib *keyspace.Store, install func(), keys int64, loaded func()) {
	m.store.LockAll()
	n := m.store.NumDBs()
	for i := 0; i < n; i++ {
		m.exec.TouchAllWatched(i, -1) // the old data's keys
	}
	// Redis 7.0's swapMainDbWithTempDb: the waited streams the new data
	// does not have as streams are signalled gone first
	// (scanDatabaseForDeletedStreams), then the waited keys that exist
	gone := make([][]string, n)
	now := m.exec.Now()
	for i := 0; i < n; i++ {
		for _, k := range m.exec.BlockedKeys(i) {
			if isStream(m.store, i, k, now) && !isStream(sib, i, k, now) {
				gone[i] = append(gone[i], k)
			}
		}
	}
	m.store.Replace(sib) // the old data is dropped once unreferenced
	for i := 0; i < n; i++ {
		m.exec.TouchAllWatched(i, -1) // the new data's
		m.exec.StreamsGone(i, gone[i])
		m.exec.TouchBlockedKeys(i) // scanDatabaseForReadyKeys: XREAD BLOCK waiters
	}
	m.loadedKeys, m.loadedExpired = keys, 0
	install()
	// the load ends before anyone sees the new data (INFO async_loading
	// read right after the first command that sees it says 0)
	loaded()
	m.store.UnlockAll()
	m.exec.ServeReady()
	if m.FlushTracking != nil {
		m.FlushTracking()
	}
}

// isStream reports whether key k of database db in st holds a stream.
func isStream(st *keyspace.Store, db int, k string, now int64) bool {
	e, ok := st.DB(db, now).Peek([]byte(k))
	if !ok {
		return false
	}
	_, s := e.Value().(*keyspace.Stream)
	return s
}

// syncPayload returns a reader of the snapshot's bytes as they arrive
// (head is "$<len>" or "$EOF:<40-byte mark>") and drain, which reads what
// is left of them once the RDB is decoded and fails when the payload
// ended early.
func syncPayload(l *masterLink, br *bufio.Reader, timeout func(), head string) (io.Reader, func() error, error) {
	l.syncRead.Store(0)
	src := linkPayload{br: br, timeout: timeout, read: &l.syncRead}
	if mark, ok := strings.CutPrefix(head, "$EOF:"); ok {
		if len(mark) != 40 {
			return nil, nil, fmt.Errorf("bad EOF mark from MASTER: %q", head)
		}
		l.syncTotal.Store(-1)
		r := &eofMarkReader{r: src, mark: []byte(mark), chunk: make([]byte, 64<<10)}
		return r, func() error {
			_, err := io.Copy(io.Discard, r)
			return err
		}, nil
	}
	size, err := strconv.ParseInt(head[1:], 10, 64)
	if err != nil || size < 0 {
		return nil, nil, fmt.Errorf("bad RDB length from MASTER: %q", head)
	}
	l.syncTotal.Store(size)
	lr := &io.LimitedReader{R: src, N: size}
	return lr, func() error {
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return err
		}
		if lr.N > 0 {
			return io.ErrUnexpectedEOF
		}
		return nil
	}, nil
}

// linkPayload reads the link for a snapshot: each read renews the link's
// timeout and counts into INFO's master_sync_read_bytes.
type linkPayload struct {
	br      *bufio.Reader
	timeout func()
	read    *atomic.Int64
}

func (p linkPayload) Read(b []byte) (int, error) {
	p.timeout()
	n, err := p.br.Read(b)
	p.read.Add(int64(n))
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the link closed mid-snapshot
	}
	return n, err
}

// eofMarkReader returns the bytes of r up to mark, which ends the
// payload: the master sends nothing after it until the replica's first
// ACK, so the mark is the last thing read. The last len(mark) bytes read
// are held back until more arrive.
type eofMarkReader struct {
	r     io.Reader
	mark  []byte
	chunk []byte
	pend  []byte // read, not yet returned
	done  bool   // the mark was read: pend is the payload's end
}

func (e *eofMarkReader) Read(p []byte) (int, error) {
	for {
		if e.done {
			if len(e.pend) == 0 {
				return 0, io.EOF
			}
			n := copy(p, e.pend)
			e.pend = e.pend[n:]
			return n, nil
		}
		if safe := len(e.pend) - len(e.mark); safe > 0 {
			n := copy(p, e.pend[:safe])
			e.pend = append(e.pend[:0], e.pend[n:]...)
			return n, nil
		}
		n, err := e.r.Read(e.chunk)
		e.pend = append(e.pend, e.chunk[:n]...)
		if len(e.pend) >= len(e.mark) && bytes.Equal(e.pend[len(e.pend)-len(e.mark):], e.mark) {
			e.pend = e.pend[:len(e.pend)-len(e.mark)]
			e.done = true
			continue
		}
		if err != nil {
			return 0, err
		}
	}
}
