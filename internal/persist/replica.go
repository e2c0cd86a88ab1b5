package persist

// Replication, replica side: REPLICAOF host port connects to a master in
// the background (handshake, PSYNC), loads its snapshot on +FULLRESYNC,
// then applies its stream as the master client; on +CONTINUE it goes on
// from its offset. See docs/design/persistence.md, "Crescent as a
// replica".

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/aof"
	"github.com/crescent-db/crescent/internal/persist/rdb"
	"github.com/crescent-db/crescent/internal/resp"
)

// Link states, as ROLE names them.
const (
	linkConnect    = "connect"
	linkConnecting = "connecting"
	linkHandshake  = "handshake"
	linkSync       = "sync"
	linkConnected  = "connected"
)

// errLinkStopped ends a link that REPLICAOF replaced or stopped.
var errLinkStopped = errors.New("replication link stopped")

// masterLink is a replica's link to its master (Manager.link, nil on a
// master). One goroutine (run) connects, syncs and applies the stream,
// and reconnects when the connection breaks, until stop is closed.
type masterLink struct {
	host string
	port int
	stop chan struct{}
	done chan struct{}

	state     atomic.Pointer[string]
	lastIO    atomic.Int64 // Unix ms of the last byte from the master
	downSince atomic.Int64 // Unix s the link went down (0: up, or never up)
	readOff   atomic.Int64 // slave_read_repl_offset
	syncTotal atomic.Int64 // RDB bytes of the running sync (-1: unknown)
	syncRead  atomic.Int64
	everUp    bool // the stream was applied once: PSYNC may continue (run's goroutine)
	// failover: the first PSYNC is "PSYNC <replid> <offset> FAILOVER"
	// (FAILOVER); failoverRefused: the target refused it
	failover        bool
	failoverRefused atomic.Bool
	// db is the database the master's stream is in: from the snapshot
	// (repl-stream-db), then the master client's when a connection ends,
	// so that a partial resync goes on in it (run's goroutine, applyMu)
	db int

	mu   sync.Mutex
	conn net.Conn        // the current connection (mu)
	cl   *command.Client // the master client while connected (mu)

	wmu sync.Mutex // writes to conn: ACKs from two goroutines
}

func (l *masterLink) setState(s string) { l.state.Store(&s) }

// staleGuard sets GuardMasterDown for a link that is up or not:
// replica-serve-stale-data no refuses commands while it is down.
func (m *Manager) staleGuard(up bool) {
	m.exec.SetGuard(exec.GuardMasterDown, !up && !m.cfg.Bool("replica-serve-stale-data"))
}

// State is ROLE's link state.
func (l *masterLink) State() string { return *l.state.Load() }

// IsReplica reports whether the server replicates a master (REPLICAOF
// host port), and which.
func (m *Manager) IsReplica() (host string, port int, ok bool) {
	if l := m.link.Load(); l != nil {
		return l.host, l.port, true
	}
	return "", 0, false
}

// ReplicaRole is ROLE's answer on a replica: the link's state and the
// offset applied (-1 while not connected, as Redis).
func (m *Manager) ReplicaRole() (state string, offset int64) {
	l := m.link.Load()
	if l == nil {
		return "", -1
	}
	st := l.State()
	if st == linkConnected {
		return st, m.repl.offset.Load()
	}
	return st, -1
}

// MasterClient returns the client applying the master's stream (CLIENT
// KILL TYPE master), or nil.
func (m *Manager) MasterClient() *command.Client {
	l := m.link.Load()
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cl
}

// masterDB is the database the master's stream is in, on a replica
// (0 on a master). Requires applyMu on a replica.
func (m *Manager) masterDB() int {
	l := m.link.Load()
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cl != nil {
		return l.cl.DB
	}
	return l.db
}

// syncRefused says why a replica of this server cannot sync now ("": it
// can). Requires repl.mu.
func (m *Manager) syncRefused() string {
	if l := m.link.Load(); l != nil && l.State() != linkConnected {
		return "NOMASTERLINK Can't SYNC while not connected with my master"
	}
	return ""
}

// SyncRefused is syncRefused for SYNC and PSYNC.
func (m *Manager) SyncRefused() string {
	m.repl.mu.Lock()
	defer m.repl.mu.Unlock()
	return m.syncRefused()
}

// ReplicaOf makes the server a replica of host:port (REPLICAOF host port,
// the replicaof directive): the link connects in the background. The
// data stays until the master's snapshot replaces it; replicas of this
// server are disconnected (they resync through it).
func (m *Manager) ReplicaOf(host string, port int) { m.replicaOf(host, port, false) }

// replicaOf is ReplicaOf; with failover the link's PSYNC asks the target
// to take the master role over (FAILOVER).
func (m *Manager) replicaOf(host string, port int, failover bool) {
	m.linkMu.Lock()
	defer m.linkMu.Unlock()
	if l := m.link.Load(); l != nil && l.host == host && l.port == port {
		return // already (Redis answers "+OK Already connected to specified master")
	}
	m.stopLinkLocked()
	// clients parked in blocking commands (and WAIT) get -UNBLOCKED and
	// are disconnected, as Redis's disconnectAllBlockedClients
	m.exec.UnblockAll()
	l := &masterLink{host: host, port: port, stop: make(chan struct{}), done: make(chan struct{}), failover: failover}
	l.setState(linkConnect)
	l.syncTotal.Store(-1)
	m.store.SetReplica(true)
	m.exec.SetGuard(exec.GuardReadOnly, m.cfg.Bool("replica-read-only"))
	m.staleGuard(false)
	rp := &m.repl
	rp.mu.Lock()
	if rp.backlog != nil {
		// became a replica while a master: the data so far is the
		// continuation point of the new master's stream, as Redis's
		// replicationCacheMasterUsingMyself (id kept, offset kept)
		l.everUp = true
		if rp.bootDB >= 0 {
			// the position a snapshot loaded at startup recorded
			// (restoreReplInfo): its stream was in that database
			l.db, rp.bootDB = rp.bootDB, -1
		}
	}
	m.link.Store(l)
	m.dropAllReplicasLocked()
	m.refreshGoodLocked() // a replica: no min-replicas-to-write, replica-ignore-maxmemory (minreplicas.go)
	rp.mu.Unlock()
	m.log.Info("Connecting to MASTER", "host", host, "port", port)
	go m.runLink(l)
	if m.RoleChanged != nil {
		m.RoleChanged()
	}
}

// ReplicaOfNoOne turns a replica into a master (REPLICAOF NO ONE): the
// data stays; a new replication id starts, the master's becomes replid2
// up to the offset applied, so that other replicas of the same master can
// continue from this one with a partial resync, as in Redis.
func (m *Manager) ReplicaOfNoOne() {
	m.linkMu.Lock()
	defer m.linkMu.Unlock()
	if m.link.Load() == nil {
		return
	}
	m.stopLinkLocked()
	rp := &m.repl
	rp.mu.Lock()
	rp.id2, rp.off2 = rp.id, rp.offset.Load()+1
	rp.id = newReplID()
	m.dropAllReplicasLocked()
	m.link.Store(nil)
	m.refreshGoodLocked() // a master again (minreplicas.go)
	id, id2 := rp.id, rp.id2
	rp.mu.Unlock()
	m.store.SetReplica(false)
	m.exec.SetGuard(exec.GuardReadOnly|exec.GuardLoading|exec.GuardMasterDown, false)
	m.log.Info("MASTER MODE enabled (user request)", "replid", id, "replid2", id2)
	// an AOF a failed sync left off starts again, as Redis's
	// replicationUnsetMaster (restartAOFAfterSYNC)
	m.resumeAOF(true)
	if m.RoleChanged != nil {
		m.RoleChanged()
	}
}

// ReadOnlyChanged applies CONFIG SET replica-read-only and
// replica-serve-stale-data.
func (m *Manager) ReadOnlyChanged() {
	if l := m.link.Load(); l != nil {
		m.exec.SetGuard(exec.GuardReadOnly, m.cfg.Bool("replica-read-only"))
		m.staleGuard(l.State() == linkConnected)
	}
}

// stopLinkLocked stops the current link and waits for its goroutine.
// Requires linkMu.
func (m *Manager) stopLinkLocked() {
	l := m.link.Load()
	if l == nil {
		return
	}
	close(l.stop)
	l.mu.Lock()
	if l.conn != nil {
		l.conn.Close()
	}
	l.mu.Unlock()
	<-l.done
}

// dropAllReplicasLocked disconnects every replica, those waiting for a
// sync's snapshot included. Requires repl.mu.
func (m *Manager) dropAllReplicasLocked() {
	for _, j := range m.repl.jobs {
		for _, mb := range j.members {
			mb.r.cl.Close() // FullSync sees its Kill and leaves the job
		}
	}
	for len(m.repl.replicas) > 0 {
		r := m.repl.replicas[0]
		m.removeReplicaLocked(r)
		r.cl.Close()
	}
}

// runLink keeps the link up until it is stopped: each connection ends
// with an error, and the next one starts soon after.
func (m *Manager) runLink(l *masterLink) {
	defer close(l.done)
	for {
		err := m.linkOnce(l)
		m.applyMu.Lock()
		l.mu.Lock()
		if l.cl != nil && l.everUp {
			l.db = l.cl.DB // a partial resync goes on in it
		}
		l.mu.Unlock()
		m.applyMu.Unlock()
		l.mu.Lock()
		if l.conn != nil {
			l.conn.Close()
			l.conn = nil
		}
		if l.cl != nil {
			l.cl.Close()
			l.cl = nil
		}
		l.mu.Unlock()
		m.exec.SetGuard(exec.GuardLoading, false)
		m.staleGuard(false)
		// a link that was up retries at once (Redis's cron: within a
		// second), a failed attempt a second later
		retry := time.Second
		if l.State() == linkConnected {
			l.downSince.Store(time.Now().Unix()) // -1 until a link that was up breaks, as Redis
			retry = 50 * time.Millisecond
		}
		l.setState(linkConnect)
		select {
		case <-l.stop:
			return
		default:
		}
		m.log.Warn("Connection with master lost or failed", "host", l.host, "port", l.port, "err", err)
		select {
		case <-l.stop:
			return
		case <-time.After(retry):
		}
	}
}

// linkReader reads the master's replies and stream, recording the time
// of the last byte for master_last_io_seconds_ago.
type linkReader struct {
	c net.Conn
	l *masterLink
}

func (r linkReader) Read(p []byte) (int, error) {
	n, err := r.c.Read(p)
	if n > 0 {
		r.l.lastIO.Store(time.Now().UnixMilli())
	}
	return n, err
}

// linkOnce runs one connection to the master: handshake, PSYNC, the
// snapshot when the master sends one, then the stream until an error.
func (m *Manager) linkOnce(l *masterLink) error {
	l.setState(linkConnecting)
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", net.JoinHostPort(l.host, strconv.Itoa(l.port)))
	if err != nil {
		return err
	}
	l.mu.Lock()
	select {
	case <-l.stop:
		l.mu.Unlock()
		conn.Close()
		return errLinkStopped
	default:
	}
	l.conn = conn
	l.mu.Unlock()
	timeout := func() {
		secs := m.cfg.Int("repl-timeout")
		if secs <= 0 {
			secs = 60
		}
		conn.SetReadDeadline(time.Now().Add(time.Duration(secs) * time.Second))
	}
	timeout()
	br := bufio.NewReaderSize(linkReader{conn, l}, 64<<10)
	l.setState(linkHandshake)
	send := func(args ...string) error {
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		l.wmu.Lock()
		defer l.wmu.Unlock()
		_, err := conn.Write(aof.AppendCommand(nil, b))
		return err
	}
	// reply reads one line, skipping the newlines a master sends to keep
	// the link alive while it prepares a snapshot
	reply := func() (string, error) {
		for {
			s, err := br.ReadString('\n')
			if err != nil {
				return "", err
			}
			s = strings.TrimRight(s, "\r\n")
			if s != "" {
				return s, nil
			}
		}
	}
	if err := send("PING"); err != nil {
		return err
	}
	r, err := reply()
	if err != nil {
		return err
	}
	// as Redis: NOAUTH and NOPERM mean the link must authenticate
	if r[0] == '-' && !strings.HasPrefix(r, "-NOAUTH") && !strings.HasPrefix(r, "-NOPERM") &&
		!strings.HasPrefix(r, "-ERR operation not permitted") {
		return fmt.Errorf("error reply to PING from master: %s", r)
	}
	if pass := m.cfg.Get("masterauth"); pass != "" {
		args := []string{"AUTH", pass}
		if u := m.cfg.Get("masteruser"); u != "" {
			args = []string{"AUTH", u, pass}
		}
		if err := send(args...); err != nil {
			return err
		}
		if r, err = reply(); err != nil {
			return err
		}
		if r[0] == '-' {
			return fmt.Errorf("unable to AUTH to MASTER: %s", r)
		}
	}
	port := m.cfg.Get("replica-announce-port")
	if port == "0" || port == "" {
		port = m.cfg.Get("port")
		if m.ListenPort != nil {
			port = strconv.Itoa(m.ListenPort())
		}
	}
	if err := send("REPLCONF", "listening-port", port); err != nil {
		return err
	}
	if r, err = reply(); err != nil {
		return err
	} else if r[0] == '-' {
		m.log.Info("(Non critical) Master does not understand REPLCONF listening-port", "reply", r)
	}
	if ip := m.cfg.Get("replica-announce-ip"); ip != "" {
		if err := send("REPLCONF", "ip-address", ip); err != nil {
			return err
		}
		if _, err = reply(); err != nil {
			return err
		}
	}
	if err := send("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	}
	if r, err = reply(); err != nil {
		return err
	} else if r[0] == '-' {
		m.log.Info("(Non critical) Master does not understand REPLCONF capa", "reply", r)
	}
	// PSYNC: continue from the offset applied when there is one
	rp := &m.repl
	id, next := "?", "-1"
	if l.everUp {
		rp.mu.Lock()
		id, next = rp.id, strconv.FormatInt(rp.offset.Load()+1, 10)
		rp.mu.Unlock()
	}
	psync := []string{"PSYNC", id, next}
	if l.failover {
		psync = append(psync, "FAILOVER")
	}
	if err := send(psync...); err != nil {
		return err
	}
	if r, err = reply(); err != nil {
		return err
	}
	if l.failover && r[0] == '-' {
		l.failoverRefused.Store(true)
		return fmt.Errorf("the failover target refused PSYNC FAILOVER: %s", r)
	}
	l.failover = false
	switch {
	case strings.HasPrefix(r, "+FULLRESYNC"):
		f := strings.Fields(r)
		if len(f) != 3 {
			return fmt.Errorf("bad FULLRESYNC reply from master: %s", r)
		}
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad FULLRESYNC reply from master: %s", r)
		}
		m.log.Info(fmt.Sprintf("Full resync from master: %s:%d", f[1], off))
		l.setState(linkSync)
		conn.SetReadDeadline(time.Time{}) // the master may prepare a snapshot for long
		if err := m.receiveSnapshot(l, br, timeout, f[1], off); err != nil {
			return err
		}
		// as Redis after a diskless load: an ACK at once puts this
		// replica online on its master
		if err := send("REPLCONF", "ACK", strconv.FormatInt(off, 10)); err != nil {
			return err
		}
	case strings.HasPrefix(r, "+CONTINUE"):
		f := strings.Fields(r)
		rp.mu.Lock()
		if len(f) == 2 && f[1] != rp.id {
			// the master changed its id: the old one stays valid up to here
			rp.id2, rp.off2, rp.id = rp.id, rp.offset.Load()+1, f[1]
			m.dropAllReplicasLocked()
		}
		rp.mu.Unlock()
		m.log.Info("Successful partial resynchronization with master", "offset", rp.offset.Load())
	default:
		return fmt.Errorf("unexpected reply to PSYNC from master: %s", r)
	}
	return m.applyStream(l, conn, br, timeout, send)
}

// receiveSnapshot reads the master's RDB ($<len> or $EOF:<mark>) into a
// file, then replaces the dataset with it; off is the stream's offset at
// the snapshot.
func (m *Manager) receiveSnapshot(l *masterLink, br *bufio.Reader, timeout func(), id string, off int64) error {
	var head string
	for {
		s, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if s = strings.TrimRight(s, "\r\n"); s != "" {
			head = s
			break
		}
	}
	if head[0] == '-' {
		return fmt.Errorf("master aborted the sync: %s", head)
	}
	if head[0] != '$' {
		return fmt.Errorf("bad protocol from MASTER, the first byte is not '$': %q", head)
	}
	timeout()
	if m.disklessLoad() { // repl-diskless-load (diskless.go)
		return m.receiveDiskless(l, br, timeout, head, id, off)
	}
	name := m.path(fmt.Sprintf("temp-%d.%d.rdb", time.Now().Unix(), os.Getpid()))
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("opening the temp file needed for MASTER <-> REPLICA synchronization: %w", err)
	}
	defer os.Remove(name)
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	buf := make([]byte, 64<<10)
	l.syncRead.Store(0)
	if mark, ok := strings.CutPrefix(head, "$EOF:"); ok {
		if len(mark) != 40 {
			return fmt.Errorf("bad EOF mark from MASTER: %q", head)
		}
		l.syncTotal.Store(-1)
		m.log.Info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
		// the master sends nothing after the mark until this replica's
		// first ACK: reading ahead cannot take stream bytes
		var tail []byte
		for {
			timeout()
			n, err := br.Read(buf)
			if n > 0 {
				l.syncRead.Add(int64(n))
				tail = append(tail, buf[:n]...)
				if len(tail) >= 40 && string(tail[len(tail)-40:]) == mark {
					if _, err := bw.Write(tail[:len(tail)-40]); err != nil {
						return err
					}
					break
				}
				if len(tail) > 40 {
					if _, err := bw.Write(tail[:len(tail)-40]); err != nil {
						return err
					}
					tail = append(tail[:0], tail[len(tail)-40:]...)
				}
			}
			if err != nil {
				return fmt.Errorf("reading the RDB from master: %w", err)
			}
		}
	} else {
		size, err := strconv.ParseInt(head[1:], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad RDB length from MASTER: %q", head)
		}
		l.syncTotal.Store(size)
		m.log.Info(fmt.Sprintf("MASTER <-> REPLICA sync: receiving %d bytes from master to disk", size))
		for left := size; left > 0; {
			timeout()
			n, err := br.Read(buf[:min(int64(len(buf)), left)])
			left -= int64(n)
			l.syncRead.Add(int64(n))
			if _, werr := bw.Write(buf[:n]); werr != nil {
				return werr
			}
			if err != nil && left > 0 {
				return fmt.Errorf("reading the RDB from master: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync of the RDB received from the master: %w", err)
	}
	select {
	case <-l.stop:
		return errLinkStopped
	default:
	}
	// as Redis 7.0's readSyncBulkPayload: a running BGSAVE is killed (its
	// older snapshot must not land over the file), the file received
	// becomes dbfilename, then the dataset is replaced with it
	m.KillBgsave()
	if err := os.Rename(name, m.rdbPath()); err != nil {
		return fmt.Errorf("failed trying to rename the temp DB into %s in MASTER <-> REPLICA synchronization: %w", m.cfg.Get("dbfilename"), err)
	}
	aof.SyncDir(filepath.Dir(m.rdbPath()))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// from here the data is not the old stream's: no PSYNC continues it
	// until this sync completes
	l.everUp = false
	m.exec.SetGuard(exec.GuardLoading, true)
	m.loading.Store(true)
	aofOn := m.pauseAOF()
	m.log.Info("MASTER <-> REPLICA sync: Flushing old data")
	m.emptyData()
	m.log.Info("MASTER <-> REPLICA sync: Loading DB in memory")
	start := time.Now()
	streamDB := 0
	err = m.loadRDBNoExpire(rdb.NewDecoder(bufio.NewReaderSize(f, 1<<20)), &streamDB)
	m.loading.Store(false)
	m.exec.SetGuard(exec.GuardLoading, false)
	if err != nil {
		// the AOF stays off, its files describing the old data, until a
		// sync succeeds or the server is promoted, as Redis's
		return fmt.Errorf("failed trying to load the MASTER synchronization DB from disk: %w", err)
	}
	m.log.Info(fmt.Sprintf("Done loading RDB, keys loaded: %d, keys expired: %d.", m.loadedKeys, m.loadedExpired))
	if m.cfg.Bool("rdb-del-sync-files") && m.persistenceOff() {
		m.log.Info("Removing the RDB file obtained from the master. This replica has persistence disabled")
		os.Remove(m.rdbPath())
	}
	m.log.Info("MASTER <-> REPLICA sync: Finished with success", "seconds", time.Since(start).Seconds())
	m.syncLoaded(l, id, off, streamDB, aofOn)
	return nil
}

// persistenceOff is Redis's allPersistenceDisabled: no save point and the
// AOF off.
func (m *Manager) persistenceOff() bool {
	return strings.TrimSpace(m.cfg.Get("save")) == "" && !m.cfg.Bool("appendonly")
}

// pauseAOF stops the AOF while a master's snapshot replaces the dataset,
// as Redis 7.0's readSyncBulkPayload (stopAppendOnly): neither the
// emptying nor the old data's last commands are logged, and the files
// describe the old data until the new base is written. It reports whether
// appendonly is yes, for resumeAOF. Sub-replicas are dropped too (they
// resync from the new data), as Redis's replicationAttachToNewMaster.
func (m *Manager) pauseAOF() bool {
	m.repl.mu.Lock()
	m.dropAllReplicasLocked()
	m.repl.mu.Unlock()
	if !m.cfg.Bool("appendonly") {
		return false
	}
	if err := m.StopAOF(); err != nil {
		m.log.Warn("Stopping the AOF for the sync with the master", "err", err)
	}
	return true
}

// resumeAOF turns the AOF on again after a successful sync (on:
// pauseAOF's answer), as Redis's restartAOFAfterSYNC: a rewrite writes a
// base of the new data. A failed sync leaves it off (its files still
// describe the data before the sync) until a sync succeeds, REPLICAOF NO
// ONE promotes the server or CONFIG SET appendonly yes, as in Redis.
func (m *Manager) resumeAOF(on bool) {
	if !on || !m.cfg.Bool("appendonly") {
		return
	}
	if err := m.StartAOF(); err != nil {
		m.log.Error("Failed enabling the AOF after successful master synchronization!", "err", err)
	}
}

// emptyData empties the dataset for a master's snapshot, as Redis 7.0's
// emptyData in readSyncBulkPayload: the keys of every database and the
// function libraries go, WATCHed keys are touched, the XREADGROUP clients
// of streams that are gone are told, tracking clients are flushed. It is
// not a command: nothing is propagated (the AOF is paused: pauseAOF),
// counted as a change (rdb_changes_since_last_save) or shown (MONITOR,
// commandstats), and no save point's save runs.
func (m *Manager) emptyData() {
	var install func()
	if m.Functions != nil {
		in, err := m.Functions.Prepare(nil)
		if err == nil {
			install = in
		}
	}
	m.store.LockAll()
	n := m.store.NumDBs()
	now := m.exec.Now()
	gone := make([][]string, n)
	for i := 0; i < n; i++ {
		m.exec.TouchAllWatched(i, -1)
		for _, k := range m.exec.BlockedKeys(i) {
			if isStream(m.store, i, k, now) {
				gone[i] = append(gone[i], k)
			}
		}
	}
	m.store.DetachAll() // dropped: the GC reclaims the old maps
	for i, ks := range gone {
		m.exec.StreamsGone(i, ks)
	}
	if install != nil {
		install()
	}
	m.store.UnlockAll()
	if m.FlushTracking != nil {
		m.FlushTracking()
	}
}

// syncLoaded makes the stream continue from the master's snapshot just
// loaded: its id and offset, a new backlog, no replicas of the old data,
// the AOF on again (aofOn: pauseAOF's answer).
func (m *Manager) syncLoaded(l *masterLink, id string, off int64, streamDB int, aofOn bool) {
	rp := &m.repl
	rp.mu.Lock()
	rp.id, rp.id2, rp.off2 = id, zeroReplID, -1
	rp.offset.Store(off)
	rp.backlog = newBacklog(m.cfg.Int("repl-backlog-size"), off)
	rp.lastDB = -1
	m.replOn.Store(true)
	m.dropAllReplicasLocked()
	if !rp.pinging {
		rp.pinging = true
		go m.pingReplicas()
	}
	rp.mu.Unlock()
	l.readOff.Store(off)
	l.everUp = true
	l.db = streamDB
	m.resumeAOF(aofOn) // the AOF restarts from the new dataset, as Redis's
}

// newMasterClient makes the client that applies the master's stream.
func (m *Manager) newMasterClient(l *masterLink) *command.Client {
	id := int64(-2)
	if m.NewClientID != nil {
		id = m.NewClientID()
	}
	cl := command.NewClient(id)
	cl.Flags |= command.ClientMaster
	cl.User = "(superuser)" // as Redis's CLIENT LIST names it
	cl.Addr = net.JoinHostPort(l.host, strconv.Itoa(l.port))
	l.mu.Lock()
	if l.conn != nil {
		cl.Addr, cl.LAddr = l.conn.RemoteAddr().String(), l.conn.LocalAddr().String()
	}
	l.mu.Unlock()
	cl.Created = time.Now().UnixMilli()
	cl.LastTime.Store(cl.Created)
	cl.DB = l.db
	cl.Publish()
	l.mu.Lock()
	if l.cl != nil {
		l.cl.Close()
	}
	l.cl = cl
	l.mu.Unlock()
	return cl
}

// loadRDBNoExpire loads a master's snapshot: keys whose time passed are
// loaded too (the master's DEL removes them), as a Redis replica does.
func (m *Manager) loadRDBNoExpire(d *rdb.Decoder, streamDB *int) error {
	m.store.LockAll() // INFO (rdb_last_load_keys_*) reads the counts under it too
	defer m.store.UnlockAll()
	m.loadedKeys, m.loadedExpired = 0, 0
	return m.loadRDBInto(m.store, d, streamDB, &m.loadedKeys, func(code []byte) error {
		if m.Functions == nil {
			return nil
		}
		return m.Functions.LoadCode(code, true)
	})
}

// loadRDBInto is loadRDBNoExpire into store (held by the caller), counting
// keys into *keys and handing function libraries to fn.
func (m *Manager) loadRDBInto(store *keyspace.Store, d *rdb.Decoder, streamDB *int, keys *int64, fn func(code []byte) error) error {
	h := &rdb.LoadHandler{Codecs: m.codecs,
		Key: func(db int, key []byte, val any, exp int64) error {
			if db >= store.NumDBs() {
				return fmt.Errorf("the master's snapshot has database %d, this server has %d", db, store.NumDBs())
			}
			store.DB(db, 0).Loading().Set(key, val, exp)
			*keys++
			return nil
		},
		Access: func(db int, key []byte, idle, freq int64) {
			now := m.exec.Now()
			if a, ok := store.AccessFrom(idle, freq, now); ok && db < store.NumDBs() {
				store.DB(db, now).SetAccess(key, a)
			}
		},
		Function: fn,
		Aux: func(k, v []byte) {
			if string(k) == "repl-stream-db" {
				if n, err := strconv.Atoi(string(v)); err == nil && n >= 0 && n < m.store.NumDBs() {
					*streamDB = n
				}
			}
		},
	}
	return rdb.Load(d, h)
}

// applyStream applies the master's stream as the master client until the
// connection breaks: writes without replies, REPLCONF GETACK answered
// with the offset applied, a REPLCONF ACK every second. Each command's
// bytes go to the backlog (and this replica's replicas) once applied.
func (m *Manager) applyStream(l *masterLink, conn net.Conn, br *bufio.Reader, timeout func(), send func(...string) error) error {
	cl := m.newMasterClient(l)
	rp := &m.repl
	l.setState(linkConnected)
	m.staleGuard(true)
	l.downSince.Store(0)
	l.readOff.Store(rp.offset.Load())
	m.log.Info("MASTER <-> REPLICA sync: the link is up", "host", l.host, "port", l.port)
	// ACK every second, and close the connection when killed
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-l.stop:
				return
			case <-cl.Kill: // CLIENT KILL TYPE master
				conn.Close()
				return
			case <-t.C:
				if send("REPLCONF", "ACK", strconv.FormatInt(rp.offset.Load(), 10)) != nil {
					conn.Close()
					return
				}
			}
		}
	}()
	r := aof.NewReader(br, rp.offset.Load())
	w := resp.NewWriter()
	var pending []byte // a transaction's commands, until its EXEC
	var pendingN int64 // their bytes as read
	held := false      // applyMu, held from MULTI to EXEC
	defer func() {
		if held {
			m.applyMu.Unlock()
		}
	}()
	lastDeadline := time.Now()
	for {
		before := r.Offset()
		// the arguments are valid until the next call, as a client's:
		// what keeps them copies them (the MULTI queue, pending below)
		args, err := r.NextShared()
		if err != nil {
			return fmt.Errorf("reading the stream from master: %w", err)
		}
		now := time.Now() // one clock read per command
		if now.Sub(lastDeadline) > time.Second {
			timeout()
			lastDeadline = now
		}
		n := r.Offset() - before
		l.readOff.Store(r.Offset())
		if !held {
			m.applyMu.Lock()
			held = true
		}
		switch {
		case len(args) == 3 && strings.EqualFold(string(args[0]), "replconf") && strings.EqualFold(string(args[1]), "getack"):
			// answered with the offset before this command, as Redis
			if err := send("REPLCONF", "ACK", strconv.FormatInt(rp.offset.Load(), 10)); err != nil {
				return err
			}
		case len(args) == 1 && strings.EqualFold(string(args[0]), "ping"):
		default:
			cl.LastTime.Store(now.UnixMilli()) // CLIENT LIST idle=
			m.exec.Execute(cl, args, w)
			if b := w.Buf; len(b) > 0 && b[0] == '-' {
				m.unexpectedError(true, args, b)
			} else if len(b) > 0 && b[0] == '*' && strings.EqualFold(string(args[0]), "exec") {
				// each failed command of the transaction, as Redis's
				// afterErrorReply, named as the EXEC (its lastcmd)
				arrayErrors(b, func(e []byte) { m.unexpectedError(true, args, e) })
			}
			w.Reset()
		}
		pending = aof.AppendCommand(pending, args)
		pendingN += n
		if cl.Flags&command.ClientMulti == 0 {
			// the offset and the backlog move by whole transactions, as
			// Redis's master client's applied offset: a snapshot for a
			// replica of this one (FullSync takes applyMu) never cuts one
			rp.mu.Lock()
			m.appendStreamLocked(pending)
			if d := pendingN - int64(len(pending)); d != 0 {
				rp.offset.Add(d) // a master's non-canonical encoding
			}
			rp.mu.Unlock()
			m.applyMu.Unlock()
			held = false
			pending, pendingN = pending[:0], 0
			if cap(pending) > 1<<20 {
				pending = nil
			}
		}
		select {
		case <-l.stop:
			return errLinkStopped
		default:
		}
	}
}

// unexpectedError is Redis 7.0's afterErrorReply for an error answered
// to the master's stream (master) or to the AOF being loaded (the AOF's
// loading client, whose errors count in errorstats here; a master's were
// counted by Execute): a CRITICAL line in the log (a replica adds the
// backlog's last bytes), unexpected_error_replies counted, and a panic
// under propagation-error-behavior panic, or panic-on-replicas for a
// read-only replica: the data has diverged from what it should be.
func (m *Manager) unexpectedError(master bool, args [][]byte, reply []byte) {
	full := strings.TrimRight(string(reply[1:]), "\r\n")
	msg := errorLogText(full)
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	// Redis's lastcmd->fullname: set before the arity check (a command
	// called with the wrong arity is named), none for an unknown command
	// or subcommand
	name := "<unknown>"
	switch cmd, sub := m.exec.Table.Resolve(args); {
	case sub != nil:
		name = sub.Name
	case cmd != nil && len(args) < 2:
		name = cmd.Name
	}
	from, to := "server", "AOF-loading-client"
	if master {
		from, to = "replica", "master"
	}
	m.log.Warn(fmt.Sprintf("== CRITICAL == This %s is sending an error to its %s: '%s' after processing the command '%s'", from, to, msg, name))
	if master {
		rp := &m.repl
		rp.mu.Lock()
		if b := rp.backlog; b != nil && b.histlen > 0 {
			tail := b.since(b.end - int64(min(b.histlen, 256)) + 1)
			m.log.Warn("Latest backlog is: '" + string(resp.AppendRepr(nil, tail)) + "'")
		}
		rp.mu.Unlock()
	} else {
		m.exec.CountError(full)
	}
	m.exec.UnexpectedErrorReplies.Add(1)
	behavior := m.cfg.Get("propagation-error-behavior")
	panics := behavior == "panic" // the AOF's loading client
	if master {
		panics = (panics || behavior == "panic-on-replicas") && m.cfg.Bool("replica-read-only")
	}
	if panics {
		// the panic's message reaches the log (or stderr) as Redis's
		// "Guru Meditation" line does
		panic(fmt.Sprintf("This %s panicked sending an error to its %s after processing the command '%s'", from, to, name))
	}
}

// sharedErrors are the ERR replies Redis 7.0 answers from its shared
// objects (createSharedObjects), whose text afterErrorReply logs whole.
var sharedErrors = map[string]bool{
	"ERR": true, "ERR no such key": true, "ERR syntax error": true,
	"ERR source and destination objects are the same": true, "ERR index out of range": true,
}

// errorLogText is an error reply's text (full: without its '-' and CRLF)
// as Redis 7.0's afterErrorReply logs it: the text given to addReplyError,
// which is the message alone when Redis added the default "-ERR " code,
// and the whole reply when the text carried its own code ("-WRONGTYPE
// ...", a shared object's "-ERR syntax error").
func errorLogText(full string) string {
	if msg, ok := strings.CutPrefix(full, "ERR "); ok && !sharedErrors[full] {
		return msg
	}
	return "-" + full
}

// arrayErrors calls fn with each element of the array reply b that is an
// error (its '-' and CRLF included), in order: an EXEC's failed commands.
func arrayErrors(b []byte, fn func(e []byte)) {
	n, i, ok := respHeader(b, 0)
	if !ok {
		return
	}
	for ; n > 0; n-- {
		if i >= len(b) {
			return
		}
		start := i
		if i, ok = skipRESP(b, i); !ok {
			return
		}
		if b[start] == '-' {
			fn(b[start:i])
		}
	}
}

// respHeader reads the line at b[i:] as a type byte and a count, and
// returns the count and the index past the line.
func respHeader(b []byte, i int) (int, int, bool) {
	end := bytes.Index(b[i:], []byte("\r\n"))
	if end < 1 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(string(b[i+1 : i+end]))
	if err != nil {
		return 0, 0, false
	}
	return n, i + end + 2, true
}

// skipRESP returns the index past the reply at b[i:] (RESP2 or RESP3).
func skipRESP(b []byte, i int) (int, bool) {
	switch b[i] {
	case '$', '=', '!': // bulk: length, data, CRLF
		n, j, ok := respHeader(b, i)
		if !ok {
			return 0, false
		}
		if n < 0 {
			return j, true
		}
		return j + n + 2, j+n+2 <= len(b)
	case '*', '~', '>', '%', '|': // aggregates
		n, j, ok := respHeader(b, i)
		if !ok {
			return 0, false
		}
		if b[i] == '%' || b[i] == '|' {
			n *= 2
		}
		for ; n > 0; n-- {
			if j >= len(b) {
				return 0, false
			}
			if j, ok = skipRESP(b, j); !ok {
				return 0, false
			}
		}
		return j, true
	default: // one line
		end := bytes.Index(b[i:], []byte("\r\n"))
		if end < 0 {
			return 0, false
		}
		return i + end + 2, true
	}
}

// masterDiskError is Executor.MasterDiskError: as Redis 7.0's
// processCommand for its master's commands while writes are refused for
// a disk error, a write panics unless replica-ignore-disk-write-errors is
// yes (the replica would go on without persisting what it applies); else,
// and for PING, a warning at most every 10 s.
func (m *Manager) masterDiskError(ping bool) {
	if !ping && !m.cfg.Bool("replica-ignore-disk-write-errors") {
		panic("Replica was unable to write command to disk.") // logged as unexpectedError's
	}
	now := time.Now().UnixMilli()
	if last := m.diskWarnAt.Load(); now > last+10_000 && m.diskWarnAt.CompareAndSwap(last, now) {
		m.log.Warn("Replica is applying a command even though it is unable to write to disk.")
	}
}

// infoLines are INFO replication's lines of a replica, up to
// connected_slaves (Redis 7.0's order).
func (l *masterLink) infoLines(m *Manager) []string {
	up := l.State() == linkConnected
	status, io := "down", int64(-1)
	if up {
		status = "up"
		io = (time.Now().UnixMilli() - l.lastIO.Load()) / 1000
	}
	syncing := l.State() == linkSync
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	lines := []string{"role:slave",
		"master_host:" + l.host,
		"master_port:" + strconv.Itoa(l.port),
		"master_link_status:" + status,
		"master_last_io_seconds_ago:" + strconv.FormatInt(io, 10),
		"master_sync_in_progress:" + b(syncing),
		"slave_read_repl_offset:" + strconv.FormatInt(l.readOff.Load(), 10),
		"slave_repl_offset:" + strconv.FormatInt(m.repl.offset.Load(), 10),
	}
	if syncing {
		total, read := l.syncTotal.Load(), l.syncRead.Load()
		left, perc := int64(0), 0.0
		if total > 0 {
			left, perc = total-read, float64(read)*100/float64(total)
		} else {
			total = 0
		}
		lines = append(lines,
			"master_sync_total_bytes:"+strconv.FormatInt(total, 10),
			"master_sync_read_bytes:"+strconv.FormatInt(read, 10),
			"master_sync_left_bytes:"+strconv.FormatInt(left, 10),
			"master_sync_perc:"+strconv.FormatFloat(perc, 'f', 2, 64),
			"master_sync_last_io_seconds_ago:"+strconv.FormatInt((time.Now().UnixMilli()-l.lastIO.Load())/1000, 10))
	}
	if !up {
		since := int64(-1)
		if d := l.downSince.Load(); d != 0 {
			since = time.Now().Unix() - d
		}
		lines = append(lines, "master_link_down_since_seconds:"+strconv.FormatInt(since, 10))
	}
	return append(lines,
		"slave_priority:"+m.cfg.Get("replica-priority"),
		"slave_read_only:"+b(m.cfg.Bool("replica-read-only")),
		"replica_announced:"+b(m.cfg.Bool("replica-announced")))
}
