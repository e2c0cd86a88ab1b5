package persist

// Replication, master side: full resynchronization of a replica (SYNC,
// PSYNC) from an RDB snapshot, then the stream of write commands, as the
// AOF records them, from the snapshot's cut on. See docs/design/
// persistence.md, "Replication: Crescent as a master".

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/persist/aof"
)

// Replica states, as INFO replication names them.
const (
	replStateWaitBgsave = "wait_bgsave"
	replStateSendBulk   = "send_bulk"
	replStateOnline     = "online"
)

// errReplicaGone ends a full sync whose replica disconnected.
var errReplicaGone = errors.New("replica disconnected")

// ReplicaInfo describes one attached replica (ROLE, INFO replication).
type ReplicaInfo struct {
	IP     string
	Port   int
	State  string // wait_bgsave, send_bulk, online
	Offset int64  // last offset the replica acknowledged
	Lag    int64  // seconds since its last acknowledgement
}

// replication is the master's replication state: the replicas, the
// stream they are fed and its backlog.
type replication struct {
	mu       sync.Mutex // the stream's order; held while feeding
	id       string     // master_replid: 40 hex characters (mu)
	id2      string     // master_replid2 (mu): the previous id, or zeros
	off2     int64      // second_repl_offset (mu): -1, or the first offset id2 is valid to
	lastDB   int        // database the stream last selected (-1: none)
	replicas []*replica
	scratch  []byte
	jobs     []*syncJob // full syncs waiting for their snapshot's cut (mu)
	running  *syncJob   // the disk-based sync whose snapshot is being written (mu)
	pinging  bool       // the PING goroutine runs
	backlog  *backlog   // nil until a replica attaches (mu)
	idleFrom time.Time  // no replica attached since (mu; zero: some are)
	// bootDB is the database of the stream a snapshot loaded at startup
	// was in (repl-stream-db), for the link's first PSYNC (-1: none; mu)
	bootDB int
	offset atomic.Int64
	good   atomic.Int64 // good replicas at the last refresh (minreplicas.go)

	syncFull, syncPartialOK, syncPartialErr atomic.Int64 // INFO stats

	ackMu sync.Mutex
	ackCh chan struct{} // closed (and replaced) on every ACK: WAIT retries

	stop     chan struct{} // closed by Manager.Close
	stopOnce sync.Once
}

// replSnapInfo is the stream's position in a snapshot for a replica.
type replSnapInfo struct {
	db     int
	id     string
	off    int64
	filter command.RDBRequest // REPLCONF rdb-filter-only
}

// replica is one attached replica.
type replica struct {
	cl   *command.Client
	conn net.Conn
	ip   string
	port int

	state atomic.Pointer[string]

	mu    sync.Mutex // buf, spare
	buf   []byte     // stream bytes not yet written
	spare []byte
	wake  chan struct{}

	softSince time.Time // over the soft limit since (replication.mu)
	dropped   bool      // removed from the list (replication.mu)

	ackOff  atomic.Int64
	ackTime atomic.Int64 // Unix ms of the last ACK (or of going online)

	// firstAck, when set, holds the stream back until the replica's
	// first REPLCONF ACK (after an RDB in the EOF form, as Redis's
	// repl_start_cmd_stream_on_ack); closed once by ReplicaAck.
	firstAck     chan struct{}
	firstAckOnce sync.Once
}

func (r *replica) setState(s string) { r.state.Store(&s) }

func newReplID() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms
		panic(fmt.Errorf("replication id: %w", err))
	}
	return hex.EncodeToString(b[:])
}

// ReplID is master_replid.
func (m *Manager) ReplID() string {
	m.repl.mu.Lock()
	defer m.repl.mu.Unlock()
	return m.repl.id
}

// ChangeReplID is DEBUG CHANGE-REPL-ID (Redis's changeReplicationId and
// clearReplicationId2): a new random master_replid, and no previous one.
func (m *Manager) ChangeReplID() {
	m.repl.mu.Lock()
	defer m.repl.mu.Unlock()
	m.repl.id = newReplID()
	m.repl.id2, m.repl.off2 = zeroReplID, -1
}

// SyncStats returns INFO stats' sync_full, sync_partial_ok and
// sync_partial_err.
func (m *Manager) SyncStats() (full, partialOK, partialErr int64) {
	rp := &m.repl
	return rp.syncFull.Load(), rp.syncPartialOK.Load(), rp.syncPartialErr.Load()
}

// ReplOffset is master_repl_offset: bytes fed to the replication stream.
func (m *Manager) ReplOffset() int64 { return m.repl.offset.Load() }

// MasterDataAge is how old a replica's data may be, Redis's data_age for
// cluster-replica-validity-factor: the time since the last byte from its
// master while the link is up, else since the link went down. ok is false
// when this server is not a replica or its link was never up (Redis then
// counts from the epoch).
func (m *Manager) MasterDataAge() (age time.Duration, ok bool) {
	l := m.link.Load()
	if l == nil {
		return 0, false
	}
	now := time.Now()
	if l.State() == linkConnected {
		return now.Sub(time.UnixMilli(l.lastIO.Load())), true
	}
	if d := l.downSince.Load(); d > 0 {
		return now.Sub(time.Unix(d, 0)), true
	}
	return 0, false
}

// feedReplicas appends one unit's effects to the replication stream
// (Executor.Propagate, under the written keys' locks).
func (m *Manager) feedReplicas(db int, cmds [][][]byte) {
	rp := &m.repl
	rp.mu.Lock()
	b := aof.AppendUnit(rp.scratch[:0], &rp.lastDB, db, cmds)
	m.appendStreamLocked(b)
	if cap(b) <= 64<<10 {
		rp.scratch = b[:0]
	}
	rp.mu.Unlock()
}

// ReplicateRaw is DEBUG REPLICATE: cmd goes down the replication stream
// (the backlog and the replicas) as it is, neither run nor written to the
// AOF, with no SELECT before it and none counted if it is one, as Redis's
// replicationFeedSlaves with the stream's own database (slaveseldb). A
// replica passes only its master's stream on: there it does nothing. A
// WAIT of cl's that follows waits for it, as for cl's writes.
func (m *Manager) ReplicateRaw(cl *command.Client, cmd [][]byte) {
	if !m.replOn.Load() || m.link.Load() != nil {
		return
	}
	rp := &m.repl
	rp.mu.Lock()
	m.appendStreamLocked(aof.AppendCommand(nil, cmd))
	rp.mu.Unlock()
	if cl != nil {
		cl.ReplOffset.Store(rp.offset.Load())
	}
}

// feedRaw appends one command that selects no database (PING, REPLCONF
// GETACK) to the stream.
func (m *Manager) feedRaw(args ...string) {
	cmd := make([][]byte, len(args))
	for i, a := range args {
		cmd[i] = []byte(a)
	}
	rp := &m.repl
	rp.mu.Lock()
	if len(rp.replicas) > 0 && m.link.Load() == nil { // a replica passes its master's on
		m.appendStreamLocked(aof.AppendCommand(nil, cmd))
	}
	rp.mu.Unlock()
}

// appendStreamLocked counts b in the offset and queues it for every
// replica; a replica past its output buffer limit is dropped. Requires
// repl.mu.
func (m *Manager) appendStreamLocked(b []byte) {
	rp := &m.repl
	rp.offset.Add(int64(len(b)))
	if rp.backlog != nil {
		rp.backlog.add(b)
	}
	var hard, soft, secs int64
	if m.ReplicaLimit != nil {
		hard, soft, secs = m.ReplicaLimit()
	}
	for i := 0; i < len(rp.replicas); i++ {
		r := rp.replicas[i]
		r.mu.Lock()
		r.buf = append(r.buf, b...)
		n := int64(len(r.buf))
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
		over := hard > 0 && n >= hard
		if soft > 0 && n >= soft {
			if r.softSince.IsZero() {
				r.softSince = time.Now()
			} else if time.Since(r.softSince) > time.Duration(secs)*time.Second {
				over = true
			}
		} else {
			r.softSince = time.Time{}
		}
		if over {
			m.log.Warn("Client scheduled to be closed ASAP for overcoming of output buffer limits.",
				"id", r.cl.ID, "addr", r.cl.Addr, "class", "replica", "pending", n)
			m.removeReplicaLocked(r)
			r.cl.Close() // the connection closes; the writer stops
			i--
		}
	}
}

// removeReplicaLocked takes r off the list. Requires repl.mu.
func (m *Manager) removeReplicaLocked(r *replica) {
	rp := &m.repl
	if r.dropped {
		return
	}
	r.dropped = true
	if i := slices.Index(rp.replicas, r); i >= 0 {
		rp.replicas = slices.Delete(rp.replicas, i, i+1) // clears the freed slot
	}
	if len(rp.replicas) == 0 {
		rp.idleFrom = time.Now()
		if rp.backlog == nil {
			m.replOn.Store(false)
		}
	}
	m.refreshGoodLocked() // min-replicas-to-write (minreplicas.go)
}

func (m *Manager) dropReplica(r *replica) {
	m.repl.mu.Lock()
	m.removeReplicaLocked(r)
	m.repl.mu.Unlock()
	r.cl.Close()
}

// acquireSnapshot takes the snapshot slot (as a BGSAVE, which the sync's
// snapshot is for INFO and for BGSAVE itself), waiting while another
// snapshot runs; it gives up when gone reports that no replica waits any
// more, or when the manager closes.
func (m *Manager) acquireSnapshot(gone func() bool) error {
	for {
		m.mu.Lock()
		if !m.bgsave && !m.rewrite && m.rwDying == nil {
			m.bgsave = true
			m.bgsaveStart = time.Now()
			m.mu.Unlock()
			return nil
		}
		m.mu.Unlock()
		if gone() {
			return errReplicaGone
		}
		select {
		case <-m.repl.stop:
			return errReplicaGone
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (m *Manager) releaseSnapshot() {
	m.mu.Lock()
	m.bgsave = false
	// as Redis's done handler of the sync's child (disk or diskless):
	// rdb_last_bgsave_time_sec, nothing else of a BGSAVE's
	m.lastBgsaveSecs = secondsSince(m.bgsaveStart)
	m.mu.Unlock()
}

// syncJob is one snapshot serving the full syncs of every replica that
// joined it before its cut, as Redis's BGSAVE for replication serves all
// the replicas waiting for it (persistence.md, "Full syncs: dump.rdb, the
// delay, one snapshot for several replicas").
type syncJob struct {
	noData, noFunctions bool // what the RDB leaves out (REPLCONF rdb-filter-only)
	// disk: the snapshot is dump.rdb, as a BGSAVE (repl-diskless-sync no,
	// or a replica that cannot read the EOF form); else a temporary file
	disk bool
	// wait: the job waits repl-diskless-sync-delay for more replicas
	wait    bool
	members []*syncMember // (repl.mu)
	started bool          // the cut was taken, or the job ended: no more members (repl.mu)
	changed chan struct{} // a member joined or left
	done    chan struct{} // closed once the snapshot is written (or failed)

	// valid once done is closed
	f     *os.File // the snapshot, open for reading
	size  int64
	off   int64  // the stream's offset at the cut
	id    string // the stream's id at the cut
	err   error
	sends sync.WaitGroup // members that still use f (counted when started)
}

// syncMember is a replica waiting for a syncJob.
type syncMember struct {
	r       *replica
	rdbOnly bool      // REPLCONF rdb-only: the RDB only, not attached to the stream
	arrived time.Time // when it asked for the sync (Redis's lastinteraction)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// joinSync adds r to the pending job of the same kind, or starts one.
func (m *Manager) joinSync(r *replica, rdbOnly bool, filter command.RDBRequest, disk, wait bool) *syncJob {
	rp := &m.repl
	mb := &syncMember{r: r, rdbOnly: rdbOnly, arrived: time.Now()}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if j := rp.running; disk && j != nil && m.joinRunningLocked(j, mb) {
		return j
	}
	for _, j := range rp.jobs {
		if j.disk == disk && j.wait == wait && j.noData == filter.NoData && j.noFunctions == filter.NoFunctions {
			j.members = append(j.members, mb)
			signal(j.changed)
			return j
		}
	}
	j := &syncJob{noData: filter.NoData, noFunctions: filter.NoFunctions, disk: disk, wait: wait,
		members: []*syncMember{mb}, changed: make(chan struct{}, 1), done: make(chan struct{})}
	rp.jobs = append(rp.jobs, j)
	go m.runSync(j)
	return j
}

// joinRunningLocked adds mb to the disk-based sync j whose snapshot is
// being written, as Redis's syncCommand attaches a replica to the BGSAVE
// for replication in progress ("Waiting for end of BGSAVE for SYNC"): the
// stream since the cut is what an attached member, whose writer starts
// only once the snapshot is sent, has queued; mb's replica gets a copy of
// it. It reports false when no member can lend it (a joiner that is not
// rdb-only then waits for the next snapshot). Requires repl.mu.
func (m *Manager) joinRunningLocked(j *syncJob, mb *syncMember) bool {
	if !mb.rdbOnly {
		var from *replica
		for _, x := range j.members {
			if !x.rdbOnly && !x.r.dropped && *x.r.state.Load() == replStateWaitBgsave {
				from = x.r
				break
			}
		}
		if from == nil {
			return false
		}
		from.mu.Lock()
		mb.r.buf = append([]byte(nil), from.buf...)
		from.mu.Unlock()
		m.attachLocked(mb.r)
	}
	j.members = append(j.members, mb)
	j.sends.Add(1)
	m.log.Info("Waiting for end of BGSAVE for SYNC")
	return true
}

// leaveSync takes r out of j, which it no longer waits for, and reports
// true, unless j already started (r is then counted in j.sends).
func (m *Manager) leaveSync(j *syncJob, r *replica) bool {
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if j.started {
		return false
	}
	j.members = slices.DeleteFunc(j.members, func(mb *syncMember) bool { return mb.r == r })
	signal(j.changed)
	return true
}

// startSyncLocked ends j's membership: no replica joins it any more, and
// each member is counted in j.sends. Requires repl.mu.
func (m *Manager) startSyncLocked(j *syncJob) {
	rp := &m.repl
	j.started = true
	rp.jobs = slices.DeleteFunc(rp.jobs, func(x *syncJob) bool { return x == j })
	j.sends.Add(len(j.members))
}

// abandonSync ends j when no replica waits for it any more, and reports
// whether it did.
func (m *Manager) abandonSync(j *syncJob) bool {
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(j.members) > 0 || j.started {
		return false
	}
	m.startSyncLocked(j)
	return true
}

// syncWait is how long j still waits for more replicas, as Redis's
// replicationCron (shouldStartChildForReplication): until its
// longest-waiting member waited repl-diskless-sync-delay seconds, or at
// once when repl-diskless-sync-max-replicas members wait. n is the
// members' count (0: the job has none left).
func (m *Manager) syncWait(j *syncJob) (left time.Duration, n int) {
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	n = len(j.members)
	if n == 0 {
		return 0, 0
	}
	if most := m.cfg.Int("repl-diskless-sync-max-replicas"); most > 0 && int64(n) >= most {
		return 0, n
	}
	first := j.members[0].arrived
	for _, mb := range j.members[1:] {
		if mb.arrived.Before(first) {
			first = mb.arrived
		}
	}
	return time.Until(first.Add(time.Duration(m.cfg.Int("repl-diskless-sync-delay")) * time.Second)), n
}

// runSync takes j's snapshot once its replicas stopped waiting for more,
// registers them in the stream at its cut (so that every write is either
// in the snapshot or in their stream, never both, never neither), and
// closes j.done; the members then send it, each from its own connection.
func (m *Manager) runSync(j *syncJob) {
	rp := &m.repl
	// keep the replicas' links alive while they wait, as Redis does with
	// newlines (a replica skips them)
	stopAlive, aliveDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(aliveDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopAlive:
				return
			case <-t.C:
			}
			rp.mu.Lock()
			conns := make([]net.Conn, 0, len(j.members))
			for _, mb := range j.members {
				conns = append(conns, mb.r.conn)
			}
			rp.mu.Unlock()
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(time.Second))
				c.Write([]byte("\n"))
				c.SetWriteDeadline(time.Time{})
			}
		}
	}()
	finish := func(f *os.File, size int64, err error) {
		close(stopAlive)
		<-aliveDone
		j.f, j.size, j.err = f, size, err
		close(j.done)
		j.sends.Wait()
		if f != nil {
			f.Close()
		}
	}
	for j.wait {
		left, n := m.syncWait(j)
		if n == 0 {
			if m.abandonSync(j) {
				finish(nil, 0, errReplicaGone)
				return
			}
			continue // a replica joined meanwhile
		}
		if left <= 0 {
			break
		}
		// looked at again at least every 100 ms, as Redis's cron does:
		// a CONFIG SET of the delay applies to the replicas waiting
		select {
		case <-j.changed:
		case <-time.After(min(left, 100*time.Millisecond)):
		case <-rp.stop:
			rp.mu.Lock()
			if !j.started {
				m.startSyncLocked(j)
			}
			rp.mu.Unlock()
			finish(nil, 0, errReplicaGone)
			return
		}
	}
	if err := m.acquireSnapshot(func() bool { return m.abandonSync(j) }); err != nil {
		rp.mu.Lock()
		if !j.started {
			m.startSyncLocked(j)
		}
		rp.mu.Unlock()
		finish(nil, 0, err)
		return
	}
	m.forks.Add(1) // where Redis forks the sync's child
	var kill *atomic.Bool
	if j.disk {
		m.log.Info("Starting BGSAVE for SYNC with target: disk")
		// a BGSAVE (rdb_saves, FLUSHALL kills it), as Redis's
		kill = new(atomic.Bool)
		m.mu.Lock()
		m.rdbSaves++
		m.bgKill = kill
		m.mu.Unlock()
		m.log.Info("Background saving started")
	} else {
		m.log.Info("Starting BGSAVE for SYNC with target: replicas sockets")
	}
	// on a replica, the cut falls between two applied commands of the
	// master (applyMu, taken before the keyspace as the applier does)
	var applyHeld bool
	if m.link.Load() != nil {
		m.applyMu.Lock()
		applyHeld = true
	}
	releaseApply := func() {
		if applyHeld {
			applyHeld = false
			m.applyMu.Unlock()
		}
	}
	atCut := func() error {
		defer releaseApply()
		// the keyspace is locked: no write is being propagated
		rp.mu.Lock()
		defer rp.mu.Unlock()
		m.startSyncLocked(j)
		j.off, j.id = rp.offset.Load(), rp.id
		// the database the stream is in at the cut: a master's next
		// write selects its own (0 then, as Redis); a replica passes
		// its master's stream on, in its master client's database
		m.replSnap.Store(&replSnapInfo{id: j.id, off: j.off, db: m.masterDB(),
			filter: command.RDBRequest{NoData: j.noData, NoFunctions: j.noFunctions}})
		for _, mb := range j.members {
			if !mb.rdbOnly {
				rp.lastDB = -1 // the stream's next write selects its database
				m.attachLocked(mb.r)
			}
		}
		if j.disk {
			rp.running = j // later replicas may join it (joinRunningLocked)
		}
		return nil
	}
	start := time.Now()
	var (
		size  int64
		f     *os.File
		err   error
		dirty int64
	)
	if j.disk {
		dirty, size, f, err = m.writeSnapshotFile(m.rdbPath(), fmt.Sprintf("temp-sync-%d.rdb", os.Getpid()), formatRDB, false, false, true, atCut, kill)
	} else {
		name := fmt.Sprintf("temp-repl-%d-%d.rdb", os.Getpid(), m.syncSeq.Add(1))
		_, size, f, err = m.writeSnapshotFile(m.path(name), name+".tmp", formatRDB, false, false, true, atCut, nil)
		if err == nil {
			os.Remove(m.path(name)) // f stays readable
		}
	}
	m.replSnap.Store(nil)
	releaseApply()
	if j.disk {
		m.mu.Lock()
		if m.bgKill == kill {
			m.bgKill = nil
		}
		m.mu.Unlock()
		if errors.Is(err, errKilled) {
			m.log.Warn("Background saving terminated by FLUSHALL")
		} else {
			err = m.savedRDB(start, dirty, false, true, err)
		}
	}
	m.releaseSnapshot()
	rp.mu.Lock()
	if !j.started { // failed before the cut
		m.startSyncLocked(j)
	}
	if rp.running == j {
		rp.running = nil // no more members: done is closed next
	}
	rp.mu.Unlock()
	if err == nil {
		if j.disk {
			m.log.Info("Background saving terminated with success")
		} else {
			m.log.Info("Background RDB transfer terminated with success")
		}
	}
	finish(f, size, err)
}

// FullSync serves SYNC (psync false) or PSYNC (always a full
// resynchronization) for the replica client cl on conn, from the calling
// connection's own goroutine: it joins a snapshot (runSync) whose cut
// registers the replica in the stream, sends "+FULLRESYNC <replid>
// <offset>" (PSYNC) and the RDB as a bulk, then hands the stream to a
// writer goroutine. With rdbOnly (REPLCONF rdb-only 1) it sends only the
// RDB: the caller then closes the connection. filter leaves the keys or
// the function libraries out of the RDB (REPLCONF rdb-filter-only, as
// redis-cli --functions-rdb asks). listeningPort is REPLCONF
// listening-port's value (0: none).
//
// As Redis 7.0's syncCommand and startBgsaveForReplication: a sync is
// diskless when repl-diskless-sync is yes (or a filter asks for one) and
// the replica reads the EOF form (REPLCONF capa eof); a diskless sync
// waits repl-diskless-sync-delay seconds for more replicas (or until
// repl-diskless-sync-max-replicas wait) and one snapshot serves them
// all; any other sync starts at once and its snapshot is dump.rdb, saved
// as a BGSAVE (rdb_saves, rdb_changes_since_last_save, lastsave).
func (m *Manager) FullSync(cl *command.Client, conn net.Conn, psync, rdbOnly bool, filter command.RDBRequest, listeningPort int, ip string) error {
	// A replica that reads the EOF form gets it where Redis 7.0 sends it
	// a diskless RDB (startBgsaveForReplication's socket_target): an
	// rdb-only one (redis-cli --rdb) with repl-diskless-sync or a
	// filter, and one asking for a filter (redis-cli --replica sends
	// REPLCONF rdb-filter-only ""). Nothing follows the mark for an
	// rdb-only one; for the other, the stream waits for its first
	// REPLCONF ACK, as Redis's. A regular replica still gets the
	// $<len> form whatever repl-diskless-sync says (persistence.md).
	filtered := filter.NoData || filter.NoFunctions
	diskless := m.cfg.Bool("repl-diskless-sync")
	eofForm := filter.CapaEOF && (filtered || rdbOnly && diskless)
	r := &replica{cl: cl, conn: conn, ip: ip, port: listeningPort, wake: make(chan struct{}, 1)}
	if eofForm && !rdbOnly {
		r.firstAck = make(chan struct{})
	}
	r.setState(replStateWaitBgsave)
	if !rdbOnly {
		m.repl.syncFull.Add(1)
	}
	disk := !filtered && (!diskless || !filter.CapaEOF)
	wait := !disk && diskless && m.cfg.Int("repl-diskless-sync-delay") > 0
	if wait {
		m.log.Info("Delay next BGSAVE for diskless SYNC")
	}
	j := m.joinSync(r, rdbOnly, filter, disk, wait)
	select {
	case <-j.done:
	case <-cl.Kill:
		if m.leaveSync(j, r) {
			return errReplicaGone
		}
		<-j.done
		j.sends.Done()
		m.dropReplica(r)
		return errReplicaGone
	}
	defer j.sends.Done()
	if j.err != nil {
		m.dropReplica(r)
		return fmt.Errorf("snapshot for replica: %w", j.err)
	}
	r.setState(replStateSendBulk)
	m.log.Info("Starting full resync with replica", "addr", cl.Addr, "offset", j.off, "rdb_bytes", j.size)
	var head []byte
	if psync {
		head = fmt.Appendf(head, "+FULLRESYNC %s %d\r\n", j.id, j.off)
	}
	var mark []byte
	if eofForm {
		var rb [20]byte
		rand.Read(rb[:])
		mark = hex.AppendEncode(nil, rb[:])
		head = fmt.Appendf(head, "$EOF:%s\r\n", mark)
	} else {
		head = fmt.Appendf(head, "$%d\r\n", j.size)
	}
	_, err := conn.Write(head)
	if err == nil {
		_, err = io.Copy(conn, io.NewSectionReader(j.f, 0, j.size))
	}
	if err == nil && mark != nil {
		_, err = conn.Write(mark)
	}
	if err != nil {
		m.dropReplica(r)
		return fmt.Errorf("sending the RDB to the replica: %w", err)
	}
	if rdbOnly {
		return nil
	}
	r.ackTime.Store(time.Now().UnixMilli())
	r.setState(replStateOnline)
	m.refreshGoodReplicas() // min-replicas-to-write (minreplicas.go)
	m.log.Info("Synchronization with replica succeeded", "addr", cl.Addr)
	go func() {
		if r.firstAck != nil {
			select {
			case <-r.firstAck:
			case <-r.cl.Kill:
				m.dropReplica(r)
				return
			}
		}
		m.replicaWriter(r)
	}()
	return nil
}

// replicaWriter writes r's queued stream to its socket until the replica
// is dropped or its connection closes.
func (m *Manager) replicaWriter(r *replica) {
	defer m.dropReplica(r)
	defer func() {
		// a Go panic here is a bug: it drops this replica (which
		// resynchronizes), not the server (server/recover.go)
		if v := recover(); v != nil {
			m.exec.ServerPanics.Add(1)
			m.log.Warn("a panic was recovered outside a command handler: replica writer (see the stack)",
				"addr", r.cl.Addr, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	select {
	case r.wake <- struct{}{}: // what queued during the sync
	default:
	}
	for {
		select {
		case <-r.wake:
		case <-r.cl.Kill:
			return
		}
		r.mu.Lock()
		data := r.buf
		r.buf, r.spare = r.spare[:0], nil
		r.mu.Unlock()
		if len(data) == 0 {
			continue
		}
		if _, err := r.conn.Write(data); err != nil {
			m.log.Info("Connection with replica lost", "addr", r.cl.Addr, "err", err)
			return
		}
		if cap(data) <= 1<<20 {
			r.mu.Lock()
			r.spare = data[:0]
			r.mu.Unlock()
		}
	}
}

// attachLocked adds r to the stream's replicas, creating the backlog
// and starting the PING goroutine when needed. Requires repl.mu.
func (m *Manager) attachLocked(r *replica) {
	rp := &m.repl
	rp.replicas = append(rp.replicas, r)
	rp.idleFrom = time.Time{}
	m.ensureBacklogLocked()
	m.replOn.Store(true)
	if !rp.pinging {
		rp.pinging = true
		go m.pingReplicas()
	}
}

// ensureBacklogLocked creates the backlog (repl-backlog-size) when there
// is none: its first byte is the stream's next. Requires repl.mu.
func (m *Manager) ensureBacklogLocked() {
	rp := &m.repl
	if rp.backlog == nil {
		rp.backlog = newBacklog(m.cfg.Int("repl-backlog-size"), rp.offset.Load())
	}
}

// resizeBacklog applies CONFIG SET repl-backlog-size: the newest bytes
// that fit stay.
func (m *Manager) resizeBacklog() {
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if b := rp.backlog; b != nil {
		nb := newBacklog(m.cfg.Int("repl-backlog-size"), b.end-int64(b.histlen))
		nb.add(b.since(b.first()))
		rp.backlog = nb
	}
}

// pingReplicas runs while replicas are attached or the backlog exists:
// it feeds PING to the stream every repl-ping-replica-period seconds (not
// on a replica, which passes its master's on), and frees the backlog of a
// master repl-backlog-ttl seconds after its last replica left, as Redis
// does (a new replication id then refuses partial resyncs).
func (m *Manager) pingReplicas() {
	rp := &m.repl
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-rp.stop:
			rp.mu.Lock()
			rp.pinging = false
			rp.mu.Unlock()
			return
		case <-t.C:
		}
		period := m.cfg.Int("repl-ping-replica-period")
		if period <= 0 {
			period = 10
		}
		isReplica := m.link.Load() != nil
		rp.mu.Lock()
		m.refreshGoodLocked() // every second, as Redis's replicationCron
		if len(rp.replicas) == 0 && rp.backlog != nil && !isReplica && !rp.idleFrom.IsZero() {
			if ttl := m.cfg.Int("repl-backlog-ttl"); ttl > 0 && time.Since(rp.idleFrom) > time.Duration(ttl)*time.Second {
				m.log.Info("Replication backlog freed after its ttl with no replica", "ttl", ttl)
				rp.backlog = nil
				rp.id, rp.id2, rp.off2 = newReplID(), zeroReplID, -1
				m.replOn.Store(false)
			}
		}
		if len(rp.replicas) == 0 && rp.backlog == nil {
			rp.pinging = false
			rp.mu.Unlock()
			return
		}
		ping := len(rp.replicas) > 0 && !isReplica && time.Since(lastPing) >= time.Duration(period)*time.Second
		rp.mu.Unlock()
		if ping {
			lastPing = time.Now()
			m.feedRaw("PING")
		}
	}
}

// TryPartialSync serves PSYNC replid offset as Redis's
// masterTryPartialResynchronization: when replid is the stream's id (or
// its previous one, up to second_repl_offset) and offset is within the
// backlog, it answers +CONTINUE and attaches cl as a replica fed from
// offset on, and reports true; otherwise the caller runs a full sync.
func (m *Manager) TryPartialSync(cl *command.Client, conn net.Conn, replid string, offset int64, psync2 bool, listeningPort int, ip string) (bool, error) {
	rp := &m.repl
	r := &replica{cl: cl, conn: conn, ip: ip, port: listeningPort, wake: make(chan struct{}, 1)}
	rp.mu.Lock()
	if m.syncRefused() != "" {
		rp.mu.Unlock()
		return false, nil
	}
	b := rp.backlog
	ok := (replid == rp.id || (replid == rp.id2 && offset <= rp.off2)) &&
		b != nil && offset >= b.first() && offset <= rp.offset.Load()+1
	if !ok {
		if replid != "?" {
			rp.syncPartialErr.Add(1)
		}
		rp.mu.Unlock()
		return false, nil
	}
	r.buf = b.since(offset)
	sent := len(r.buf)
	rp.lastDB = -1 // conservatively: the next write selects its database
	id := rp.id
	r.setState(replStateOnline)
	r.ackTime.Store(time.Now().UnixMilli())
	m.attachLocked(r)
	m.refreshGoodLocked() // min-replicas-to-write (minreplicas.go)
	rp.syncPartialOK.Add(1)
	rp.mu.Unlock()
	line := "+CONTINUE\r\n"
	if psync2 {
		line = "+CONTINUE " + id + "\r\n"
	}
	if _, err := conn.Write([]byte(line)); err != nil {
		m.dropReplica(r)
		return true, fmt.Errorf("answering the replica: %w", err)
	}
	m.log.Info("Partial resynchronization request accepted", "addr", cl.Addr, "offset", offset, "bytes", sent)
	go m.replicaWriter(r)
	return true, nil
}

// ReplicaAck records REPLCONF ACK offset from replica cl; it returns false
// when cl is not an attached replica.
func (m *Manager) ReplicaAck(cl *command.Client, off int64) bool {
	rp := &m.repl
	rp.mu.Lock()
	var r *replica
	for _, x := range rp.replicas {
		if x.cl == cl {
			r = x
			break
		}
	}
	rp.mu.Unlock()
	if r == nil {
		return false
	}
	if off > r.ackOff.Load() {
		r.ackOff.Store(off)
	}
	r.ackTime.Store(time.Now().UnixMilli())
	if r.firstAck != nil {
		r.firstAckOnce.Do(func() { close(r.firstAck) })
	}
	rp.ackMu.Lock()
	if rp.ackCh != nil {
		close(rp.ackCh)
		rp.ackCh = nil
	}
	rp.ackMu.Unlock()
	return true
}

// AckedReplicas counts the online replicas whose acknowledged offset
// reached off; wake is closed at the next acknowledgement (WAIT).
func (m *Manager) AckedReplicas(off int64) (n int, wake <-chan struct{}) {
	rp := &m.repl
	rp.ackMu.Lock()
	if rp.ackCh == nil {
		rp.ackCh = make(chan struct{})
	}
	wake = rp.ackCh
	rp.ackMu.Unlock()
	rp.mu.Lock()
	for _, r := range rp.replicas {
		if *r.state.Load() == replStateOnline && r.ackOff.Load() >= off {
			n++
		}
	}
	rp.mu.Unlock()
	return n, wake
}

// RequestAcks feeds REPLCONF GETACK * to the stream (WAIT), so that the
// replicas acknowledge at once instead of at their next second.
func (m *Manager) RequestAcks() {
	if m.replOn.Load() {
		m.feedRaw("REPLCONF", "GETACK", "*")
	}
}

// Replicas describes the replicas: attached, or waiting for a full
// sync's snapshot.
func (m *Manager) Replicas() []ReplicaInfo {
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	now := time.Now().UnixMilli()
	out := make([]ReplicaInfo, 0, len(rp.replicas))
	for _, r := range rp.replicas {
		lag := int64(0)
		if t := r.ackTime.Load(); t != 0 {
			lag = (now - t) / 1000
		}
		out = append(out, ReplicaInfo{IP: r.ip, Port: r.port, State: *r.state.Load(), Offset: r.ackOff.Load(), Lag: lag})
	}
	// the replicas waiting for a sync's snapshot (its delay, the slot),
	// which Redis lists in wait_bgsave
	for _, j := range rp.jobs {
		for _, mb := range j.members {
			out = append(out, ReplicaInfo{IP: mb.r.ip, Port: mb.r.port, State: replStateWaitBgsave})
		}
	}
	return out
}

// ReplicationInfo returns INFO replication's lines.
func (m *Manager) ReplicationInfo() []string {
	reps := m.Replicas()
	var lines []string
	if l := m.link.Load(); l != nil {
		lines = l.infoLines(m)
	} else {
		lines = []string{"role:master"}
	}
	lines = append(lines, "connected_slaves:"+strconv.Itoa(len(reps)))
	if l := m.goodReplicasInfo(); l != "" {
		lines = append(lines, l)
	}
	for i, r := range reps {
		lines = append(lines, fmt.Sprintf("slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d", i, r.IP, r.Port, r.State, r.Offset, r.Lag))
	}
	rp := &m.repl
	rp.mu.Lock()
	defer rp.mu.Unlock()
	active, first, hist := 0, int64(0), int64(0)
	if b := rp.backlog; b != nil {
		active, first, hist = 1, b.first(), int64(b.histlen)
	}
	return append(lines, "master_failover_state:"+m.FailoverState(),
		"master_replid:"+rp.id, "master_replid2:"+rp.id2,
		"master_repl_offset:"+strconv.FormatInt(rp.offset.Load(), 10),
		"second_repl_offset:"+strconv.FormatInt(rp.off2, 10),
		"repl_backlog_active:"+strconv.Itoa(active),
		"repl_backlog_size:"+strconv.FormatInt(m.cfg.Int("repl-backlog-size"), 10),
		"repl_backlog_first_byte_offset:"+strconv.FormatInt(first, 10),
		"repl_backlog_histlen:"+strconv.FormatInt(hist, 10))
}
