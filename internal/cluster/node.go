package cluster

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Config configures a node.
type Config struct {
	// Dir holds the raft state (Dir/cluster-raft).
	Dir string
	// ConfigFile is the nodes.conf path (cluster-config-file): the node
	// id, and the configuration as Redis writes it (informational).
	ConfigFile string
	// IP is the announced IP (cluster-announce-ip; "" learns it at the
	// first MEET, as Redis).
	IP string
	// BindIP is the address the bus listens on ("" all).
	BindIP string
	// Port is the client port announced (MOVED, CLUSTER SLOTS).
	Port int
	// BusPort is the cluster bus port (raft and the join protocol).
	BusPort int
	// NodeTimeout is cluster-node-timeout: raft's timeouts derive from it,
	// and a follower out of touch with a leader for that long is down.
	NodeTimeout time.Duration
	// RaftDivisor divides NodeTimeout into raft's heartbeat, election and
	// leader lease timeouts (0: defaultRaftDivisor); the measurements of
	// cluster.md, "Raft timers under load", vary it.
	RaftDivisor int
	Logger      *slog.Logger
}

// Local is this server's cluster member: its raft instance over the bus
// port, the replicated State, and the View the command path reads.
type Local struct {
	cfg       Config
	idv       atomic.Pointer[string] // the node id (a hard RESET changes it)
	view      atomic.Pointer[View]
	ok        atomic.Bool  // cluster_state ok (slots covered, quorum)
	hasQ      atomic.Bool  // in touch with a raft quorum
	readsDown atomic.Bool  // cluster-allow-reads-when-down
	partialOK atomic.Bool  // cluster-require-full-coverage no
	noMigrate atomic.Bool  // cluster-allow-replica-migration no
	barrier   atomic.Int64 // cluster-migration-barrier
	// failover limits of this node as a replica (SetFailoverLimits)
	noFailover atomic.Bool // cluster-replica-no-failover
	// port is the client port announced (cluster-announce-port, else
	// port): Config.Port at start, then SetAnnouncedPort
	port       atomic.Int64
	hostname   atomic.Pointer[string] // cluster-announce-hostname
	endpoint   atomic.Int32           // cluster-preferred-endpoint-type (EndpointIP...)
	pubMu      sync.Mutex             // publish and SetEndpointType, one at a time
	validity   atomic.Int64           // cluster-replica-validity-factor
	pingPeriod atomic.Int64           // repl-ping-replica-period (ns)

	ln      net.Listener // the bus
	layer   atomic.Pointer[streamLayer]
	mu      sync.Mutex // raft (re)starts
	raft    *raft.Raft
	trans   *guardedTransport
	store   *raftboltdb.BoltStore
	fsm     *fsm
	joining time.Time // raft restarted empty to join a group, at
	obs     chan raft.Observation
	// peers the raft leader failed to reach, since (failure detection)
	failMu    sync.Mutex
	failSince map[string]time.Time
	// silentSince: the raft leader this node followed last and the last
	// time it heard from it, kept from the election that replaced it
	// (observe): if this node wins, its failure clock for that node starts
	// there, not at its first failed heartbeat
	silentID    string
	silentSince time.Time
	stop        chan struct{}
	wg          sync.WaitGroup
	hlog        hclog.Logger

	// replication (replicas and failover: replication.go)
	replMu   sync.Mutex
	repl     Replication
	changed  chan struct{} // a new view was published (follow)
	mfPaused atomic.Bool   // writes paused for a replica's manual failover

	// pub/sub across nodes (publish.go)
	pub     pubPeers
	deliver atomic.Pointer[func(shard bool, channel, message []byte)]

	// slots lost by this node's shard (lost.go)
	lost lostState
	// unsettled: joining a group, or replaying the log found at startup
	// (up to fsm.boot): views are not compared for lost slots
	unsettled atomic.Bool
}

// rpcMagic opens a join-protocol connection on the bus (raft's own start
// with an RPC type byte below 8).
const rpcMagic = 0xC7

// Start opens the bus, restores or creates the node's identity and raft
// state, and starts serving.
func Start(cfg Config) (*Local, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 15 * time.Second
	}
	if cfg.RaftDivisor <= 0 {
		cfg.RaftDivisor = defaultRaftDivisor
	}
	n := &Local{cfg: cfg, stop: make(chan struct{}), obs: make(chan raft.Observation, 64),
		failSince: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	n.port.Store(int64(cfg.Port))
	n.barrier.Store(1) // Redis's defaults
	n.validity.Store(10)
	n.pingPeriod.Store(int64(10 * time.Second))
	n.hlog = hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn,
		Output: slogWriter{cfg.Logger}})
	id, err := readMyID(cfg.ConfigFile)
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = NewID()
	}
	n.idv.Store(&id)
	n.publish(NewState())
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindIP, strconv.Itoa(cfg.BusPort)))
	if err != nil {
		return nil, fmt.Errorf("cluster bus: %w", err)
	}
	n.ln = ln
	if err := n.startRaft(false); err != nil {
		ln.Close()
		return nil, err
	}
	n.hasQ.Store(n.currentFSM().has(n.ID())) // restored: serve it (maintain)
	n.updateOK()
	n.wg.Add(4)
	go n.observe()
	go n.acceptBus()
	go n.maintain()
	go n.follow()
	return n, nil
}

// NewID returns a random 40-hex-digit node id.
func NewID() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ID returns the node id.
func (n *Local) ID() string { return *n.idv.Load() }

// View returns the current configuration view.
func (n *Local) View() *View { return n.view.Load() }

// StateOK reports cluster_state ok: every slot assigned and a raft quorum
// in reach.
func (n *Local) StateOK() bool { return n.ok.Load() }

// Port returns the client port.
func (n *Local) Port() int { return int(n.port.Load()) }

// SetAnnouncedPort changes the client port this node announces
// (CONFIG SET cluster-announce-port, or port): follow proposes it, and
// every node's CLUSTER NODES, SLOTS, SHARDS and redirections show it.
func (n *Local) SetAnnouncedPort(port int) {
	n.port.Store(int64(port))
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

// raftDir is where raft keeps its log and snapshots.
// Hostname returns the hostname this node announces
// (cluster-announce-hostname, "" none).
func (n *Local) Hostname() string {
	if h := n.hostname.Load(); h != nil {
		return *h
	}
	return ""
}

// SetAnnouncedHostname sets cluster-announce-hostname; follow announces
// it to the other nodes (a configuration entry, as the port).
func (n *Local) SetAnnouncedHostname(h string) {
	n.hostname.Store(&h)
	n.rebuildView()
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

// SetEndpointType sets cluster-preferred-endpoint-type (EndpointIP,
// EndpointHostname, EndpointUnknown): the view is built again for it.
func (n *Local) SetEndpointType(t int) {
	n.endpoint.Store(int32(t))
	n.rebuildView()
}

// rebuildView builds the current view again from its configuration, for
// a local setting it shows (the endpoint type, this node's hostname).
func (n *Local) rebuildView() {
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	if v := n.view.Load(); v != nil {
		n.view.Store(n.newView(v.State))
	}
}

// newView is the view of s for this node (pubMu held): with its endpoint
// type, and its own hostname as set here, which the other nodes learn
// when follow has announced it (as Redis shows its own at once and the
// others' from gossip).
func (n *Local) newView(s *State) *View {
	v := NewViewFor(s, n.ID(), int(n.endpoint.Load()))
	if me := v.Myself; me != nil && me.Hostname != n.Hostname() {
		me.Hostname = n.Hostname()
		me.Addr = Endpoint(me, v.Endpoint) + ":" + strconv.Itoa(me.Port)
	}
	return v
}

func (n *Local) raftDir() string { return filepath.Join(n.cfg.Dir, "cluster-raft") }

// raftAddr is this node's raft address.
func (n *Local) raftAddr() string {
	ip := n.cfg.IP
	if ip == "" {
		ip = n.cfg.BindIP
	}
	if ip == "" || ip == "0.0.0.0" || ip == "::" {
		ip = "127.0.0.1"
	}
	return net.JoinHostPort(ip, strconv.Itoa(n.cfg.BusPort))
}

// myInfo is this node as it announces itself.
func (n *Local) myInfo() NodeInfo {
	info := NodeInfo{ID: n.ID(), IP: n.cfg.IP, Port: n.Port(), BusPort: n.cfg.BusPort, Raft: n.raftAddr(),
		NoFailover: n.noFailover.Load(), Hostname: n.Hostname()}
	if v := n.View(); v != nil && v.Myself != nil {
		if v.Myself.IP != "" && info.IP == "" {
			info.IP = v.Myself.IP
		}
		info.Epoch = v.Myself.Epoch // kept when joining a group
	}
	return info
}

// timeouts derived from cluster-node-timeout
func (n *Local) heartbeat() time.Duration {
	return min(max(n.cfg.NodeTimeout/10, 50*time.Millisecond), 2*time.Second)
}

// defaultRaftDivisor divides cluster-node-timeout into raft's heartbeat,
// election and leader lease timeouts (see raftTimeouts).
const defaultRaftDivisor = 3

// raftTimeouts gives raft's heartbeat, election and leader lease timeouts:
// node-timeout/RaftDivisor each (50 ms..2 s).
func (n *Local) raftTimeouts() (hb, election, lease time.Duration) {
	d := min(max(n.cfg.NodeTimeout/time.Duration(n.cfg.RaftDivisor), 50*time.Millisecond), 2*time.Second)
	return d, d, d
}

// startRaft starts raft on the bus; wipe first deletes the raft state and
// starts empty, to join a group (no bootstrap).
func (n *Local) startRaft(wipe bool) error {
	dir := n.raftDir()
	if wipe {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cluster raft dir: %w", err)
	}
	store, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
	if err != nil {
		return fmt.Errorf("cluster raft store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, n.hlog)
	if err != nil {
		store.Close()
		return fmt.Errorf("cluster raft snapshots: %w", err)
	}
	layer := &streamLayer{addr: n.ln.Addr(), conns: make(chan net.Conn, 16), done: make(chan struct{})}
	n.layer.Store(layer)
	trans := &guardedTransport{NetworkTransport: raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 3, Timeout: 2 * time.Second, Logger: n.hlog})}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.ID())
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = n.raftTimeouts()
	rc.CommitTimeout = min(n.heartbeat()/4, 50*time.Millisecond)
	rc.SnapshotThreshold = 1024
	rc.Logger = n.hlog
	f := &fsm{n: n, st: NewState(), snaps: snaps}
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		store.Close()
		return err
	}
	if existing && !wipe {
		// the log up to here is replayed after the first election: its
		// states are not compared for lost slots before the last of them
		last, err := store.LastIndex()
		if err != nil {
			store.Close()
			return fmt.Errorf("cluster raft store: %w", err)
		}
		f.boot.Store(last)
		if last > 0 {
			n.resetLost() // the configuration restored is the base
		}
	}
	n.unsettled.Store(wipe || f.boot.Load() > 0)
	if !existing && !wipe {
		conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter,
			ID: raft.ServerID(n.ID()), Address: raft.ServerAddress(n.raftAddr())}}}
		if err := raft.BootstrapCluster(rc, store, store, snaps, trans, conf); err != nil {
			store.Close()
			return fmt.Errorf("cluster raft bootstrap: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, f, store, store, snaps, trans)
	if err != nil {
		store.Close()
		trans.Close()
		return fmt.Errorf("cluster raft: %w", err)
	}
	r.RegisterObserver(raft.NewObserver(n.obs, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation, raft.LeaderObservation:
			return true
		}
		return false
	}))
	n.raft, n.trans, n.store, n.fsm = r, trans, store, f
	if wipe {
		n.joining = time.Now()
		n.publish(NewState())
	} else {
		n.joining = time.Time{}
	}
	return nil
}

// stopRaft shuts raft down (n.mu held).
func (n *Local) stopRaft() {
	if n.raft == nil {
		return
	}
	n.raft.Shutdown().Error()
	n.trans.quiesce() // a heartbeat still being handled must not meet a closed store
	n.trans.Close()
	n.store.Close()
	n.raft = nil
}

// Close stops the node. A snapshot taken first lets the next start
// restore the configuration at once, before raft replays its log.
func (n *Local) Close() error {
	close(n.stop)
	n.mu.Lock()
	if n.raft != nil {
		n.raft.Snapshot().Error() // ErrNothingNewToSnapshot is fine
	}
	n.mu.Unlock()
	n.ln.Close()
	n.mu.Lock()
	n.stopRaft()
	n.mu.Unlock()
	n.wg.Wait()
	return nil
}

func (n *Local) currentFSM() *fsm {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fsm
}

func (n *Local) currentRaft() *raft.Raft {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.raft
}

// publish makes s (which must not change afterwards) the current view and
// writes the config file.
func (n *Local) publish(s *State) {
	if s.Nodes[n.ID()] == nil { // not in the configuration (yet): show myself
		s = s.clone()
		info := NodeInfo{ID: n.ID(), IP: n.cfg.IP, Port: n.Port(), BusPort: n.cfg.BusPort, Raft: n.raftAddr(),
			Hostname: n.Hostname()}
		s.Nodes[n.ID()] = &info
	}
	n.pubMu.Lock()
	v := n.newView(s)
	n.view.Store(v)
	n.pubMu.Unlock()
	n.updateOK()
	n.checkLost(v)
	select {
	case n.changed <- struct{}{}: // follow: maybe a new master
	default:
	}
	if n.cfg.ConfigFile != "" {
		if err := writeConfigFile(n.cfg.ConfigFile, v); err != nil {
			n.cfg.Logger.Warn("writing the cluster config file", "err", err)
		}
	}
}

func (n *Local) updateOK() {
	v := n.View()
	n.ok.Store(v != nil && ((v.assigned == Slots && v.failing == 0) || n.partialOK.Load()) && n.hasQ.Load())
}

// maintain watches the quorum, announces this node once raft runs, and
// bootstraps a node whose join never completed.
func (n *Local) maintain() {
	defer n.wg.Done()
	t := time.NewTicker(min(n.heartbeat()/4, 100*time.Millisecond))
	defer t.Stop()
	// a restarted node serves the configuration it restored for up to
	// node-timeout before it must have found its quorum again (as a Redis
	// node serves its nodes.conf)
	lastQuorum := time.Now()
	var leadingSince time.Time
	if !n.currentFSM().has(n.ID()) {
		lastQuorum = time.Time{}
	}
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		n.mu.Lock()
		r, joining, f := n.raft, n.joining, n.fsm
		n.mu.Unlock()
		if r == nil {
			continue
		}
		// in touch with a quorum: leading, or following a leader heard
		// from lately; lost only after cluster-node-timeout without (an
		// election in between does not take the cluster down)
		switch r.State() {
		case raft.Leader:
			lastQuorum = time.Now()
		case raft.Follower:
			if addr, _ := r.LeaderWithID(); addr != "" && time.Since(r.LastContact()) < n.cfg.NodeTimeout {
				lastQuorum = time.Now()
			}
		}
		n.hasQ.Store(time.Since(lastQuorum) < n.cfg.NodeTimeout)
		n.updateOK()
		if r.State() == raft.Leader {
			if leadingSince.IsZero() {
				leadingSince = time.Now()
			}
			n.checkFailures(r, leadingSince)
		} else {
			leadingSince = time.Time{}
		}
		if r.State() == raft.Leader {
			v := n.View()
			mine, want := v.State.Nodes[n.ID()], n.myInfo()
			if !f.has(n.ID()) || (mine.Port != want.Port || mine.BusPort != want.BusPort ||
				(want.IP != "" && mine.IP != want.IP) || mine.Hostname != want.Hostname) {
				data, _ := json.Marshal(&Op{Kind: OpAddNode, Info: &want})
				r.Apply(data, n.heartbeat()*4)
			}
		}
		if !joining.IsZero() && !r.LastContact().IsZero() && f.has(n.ID()) {
			n.mu.Lock()
			joined := n.raft == r
			if joined {
				n.joining = time.Time{} // a leader took this node in
				n.unsettled.Store(false)
			}
			n.mu.Unlock()
			if joined {
				n.settle() // what the join took from this node
			}
		} else if !joining.IsZero() && time.Since(joining) > 4*n.cfg.NodeTimeout {
			// nobody took this node in: serve alone again
			n.mu.Lock()
			if n.raft == r && r.LastContact().IsZero() {
				n.cfg.Logger.Warn("cluster: join did not complete; bootstrapping alone")
				n.stopRaft()
				if err := os.RemoveAll(n.raftDir()); err == nil {
					if err := n.startRaft(false); err != nil {
						n.cfg.Logger.Warn("cluster: restarting raft", "err", err)
					}
				}
			}
			n.mu.Unlock()
		}
	}
}

// ErrTimeout is returned when no raft leader took a change in time.
var ErrTimeout = errors.New("CLUSTERDOWN The cluster configuration could not be changed (no raft leader reachable)")

// Propose makes op a raft log entry (through the leader) and returns its
// outcome: Redis's error reply, "" when applied.
func (n *Local) Propose(op *Op) (string, error) {
	if op.Kind != OpAddNode && !n.currentFSM().has(n.ID()) {
		// not yet announced (raft just started): announce first
		me := n.myInfo()
		if _, err := n.leaderCall(&rpcReq{T: "apply", Op: &Op{Kind: OpAddNode, Info: &me}}); err != nil {
			return "", err
		}
	}
	return n.leaderCall(&rpcReq{T: "apply", Op: op})
}

// leaderCall runs req on the raft leader: here if this node leads, else
// over the bus, retrying until a leader answers or the timeout.
//
// It gives up with ErrStopped as soon as the node is closing, even in the
// middle of a bus call, so that Close does not wait for a background
// proposal (an announcement, a migration) to time out.
func (n *Local) leaderCall(req *rpcReq) (string, error) {
	deadline := time.Now().Add(max(5*time.Second, 2*n.cfg.NodeTimeout))
	for {
		if n.stopping() {
			return "", ErrStopped
		}
		r := n.currentRaft()
		if r != nil && r.State() == raft.Leader {
			reply, _, err := n.onLeader(r, req)
			if !retryable(req, err) || time.Now().After(deadline) {
				return reply, err // another error may have applied it: no retry
			}
		} else if r != nil {
			if addr, _ := r.LeaderWithID(); addr != "" {
				// the leader's own apply waits up to the same timeout:
				// a second more lets its answer arrive
				resp, err := callStop(string(addr), req, time.Until(deadline)+time.Second, n.stop)
				if err == nil && resp.Err == "" {
					n.waitApplied(resp.Index, deadline)
					return resp.Reply, nil
				}
				if err == nil && !resp.Retry {
					return "", errors.New(resp.Err)
				}
			}
		}
		if time.Now().After(deadline) {
			return "", ErrTimeout
		}
		select {
		case <-n.stop:
			return "", ErrStopped
		case <-time.After(n.heartbeat() / 2):
		}
	}
}

// retryable tells whether req may be proposed again after err: when the
// leader refused it (not the leader), or when leadership was lost while
// it was being committed, which may or may not have applied it, for a
// change that gives the same state and reply when applied twice
// (SETSLOT MIGRATING, IMPORTING, STABLE, NODE, an announcement).
// redis-cli --cluster reshard and rebalance stopped at such an error on
// a loaded machine, where an election can come in the middle.
func retryable(req *rpcReq, err error) bool {
	if errors.Is(err, raft.ErrNotLeader) {
		return true
	}
	if !errors.Is(err, raft.ErrLeadershipLost) || req.T != "apply" || req.Op == nil {
		return false
	}
	switch req.Op.Kind {
	case OpMigrating, OpImporting, OpStable, OpSetNode, OpAddNode:
		return true
	}
	return false
}

// ErrStopped is returned by a change asked while the node is closing.
var ErrStopped = errors.New("CLUSTERDOWN The cluster node is shutting down")

// stopping tells whether Close was called.
func (n *Local) stopping() bool {
	select {
	case <-n.stop:
		return true
	default:
		return false
	}
}

// onLeader runs req on this node, the leader; index is the raft log
// index the caller waits for before it replies (read your writes).
func (n *Local) onLeader(r *raft.Raft, req *rpcReq) (reply string, index uint64, err error) {
	timeout := max(5*time.Second, 2*n.cfg.NodeTimeout)
	switch req.T {
	case "apply":
		data, _ := json.Marshal(req.Op)
		f := r.Apply(data, timeout)
		if err := f.Error(); err != nil {
			return "", 0, err
		}
		n.hasQ.Store(true) // a majority just took it (maintain keeps it up to date)
		n.updateOK()
		reply, _ := f.Response().(string)
		if reply == "" && req.Op.Kind == OpForget {
			if err := r.RemoveServer(raft.ServerID(req.Op.Target), 0, timeout).Error(); err != nil {
				return "", 0, err
			}
		}
		return reply, f.Index(), nil
	case "join":
		// the joining node was reset to an empty raft state: describe it,
		// with the slots it served alone, then make it a voter
		data, _ := json.Marshal(&Op{Kind: OpAddNode, Info: req.Info, Slots: req.Slots})
		f := r.Apply(data, timeout)
		if err := f.Error(); err != nil {
			return "", 0, err
		}
		v := r.AddVoter(raft.ServerID(req.Info.ID), raft.ServerAddress(req.Info.Raft), 0, timeout)
		if err := v.Error(); err != nil {
			return "", 0, err
		}
		return "", f.Index(), nil
	}
	return "", 0, fmt.Errorf("unknown request %q", req.T)
}

// waitApplied waits until this node's configuration includes raft log
// index (or the deadline).
func (n *Local) waitApplied(index uint64, deadline time.Time) {
	for index > 0 && time.Now().Before(deadline) && !n.stopping() {
		f := n.currentFSM()
		if f == nil || f.applied.Load() >= index {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Meet joins the node at ip:port (bus port busPort) and this node into one
// raft group: the one that serves alone is reset and added to the other's
// group as a voter, bringing along the slots it served. Two groups of
// several nodes each are not merged (an error).
func (n *Local) Meet(ip string, port, busPort int) error {
	addr := net.JoinHostPort(ip, strconv.Itoa(busPort))
	v := n.View()
	me := n.myInfo()
	resp, err := call(addr, &rpcReq{T: "prepare", Info: &me, Alone: n.alone(), Known: len(v.State.Nodes)})
	if err != nil {
		return fmt.Errorf("ERR cluster bus %s: %v", addr, err)
	}
	if resp.Err != "" {
		return errors.New(resp.Err)
	}
	if resp.Same {
		return nil
	}
	if me.IP == "" && resp.YourIP != "" && n.cfg.IP == "" { // learnt from the peer, as Redis
		me.IP = resp.YourIP
		if _, err := n.Propose(&Op{Kind: OpAddNode, Info: &me}); err != nil {
			return err
		}
	}
	peer := *resp.Info
	peer.IP, peer.Port, peer.BusPort = ip, port, busPort
	if resp.JoinMe { // the peer is in a group and this node is alone: join it
		n.mu.Lock()
		slots := n.View().State.SlotsOf(n.ID())
		n.stopRaft()
		err := n.startRaft(true)
		n.mu.Unlock()
		if err != nil {
			return err
		}
		me.Raft = n.raftAddr()
		deadline := time.Now().Add(max(5*time.Second, 2*n.cfg.NodeTimeout))
		for {
			r, err := call(addr, &rpcReq{T: "join", Info: &me, Slots: slots})
			if err == nil && r.Err == "" {
				n.waitJoined(deadline)
				return nil
			}
			if time.Now().After(deadline) || (err == nil && !r.Retry) {
				if err == nil {
					err = errors.New(r.Err)
				}
				return err
			}
			time.Sleep(n.heartbeat() / 2)
		}
	}
	// the peer reset itself: add it to this node's group
	_, err = n.leaderCall(&rpcReq{T: "join", Info: &peer, Slots: resp.Slots})
	return err
}

// alone reports whether this node is the only member of its raft group.
func (n *Local) alone() bool {
	n.mu.Lock()
	r, joining := n.raft, !n.joining.IsZero()
	n.mu.Unlock()
	if r == nil || joining {
		return false
	}
	cf := r.GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	s := cf.Configuration().Servers
	return len(s) <= 1
}

// rpcReq and rpcResp are the join protocol's messages (one JSON line
// each way).
type rpcReq struct {
	T     string    `json:"t"` // apply, join, prepare
	Op    *Op       `json:"op,omitempty"`
	Info  *NodeInfo `json:"info,omitempty"`
	Slots []int     `json:"slots,omitempty"`
	Alone bool      `json:"alone,omitempty"`
	Known int       `json:"known,omitempty"`
	// Forwarded: relayed once by a follower (not relayed again)
	Forwarded bool `json:"fwd,omitempty"`
	// Pub is a published message (T publish: publish.go)
	Pub *pubMsg `json:"pub,omitempty"`
}

type rpcResp struct {
	Reply  string    `json:"reply,omitempty"` // Redis error reply of an applied op
	Index  uint64    `json:"index,omitempty"` // its raft log index
	Err    string    `json:"err,omitempty"`
	Retry  bool      `json:"retry,omitempty"` // not the leader (any more)
	Info   *NodeInfo `json:"info,omitempty"`
	Slots  []int     `json:"slots,omitempty"`
	Same   bool      `json:"same,omitempty"`   // already in one group
	JoinMe bool      `json:"joinme,omitempty"` // the caller must join
	YourIP string    `json:"yourip,omitempty"`
	Offset int64     `json:"offset,omitempty"` // replication offset (mfstart, offset)
	TooOld bool      `json:"old,omitempty"`    // the replica's data is too old to promote (offset)
}

// call sends req to the bus at addr and returns the reply.
func call(addr string, req *rpcReq) (*rpcResp, error) {
	return callWithin(addr, req, 30*time.Second)
}

// callWithin is call with a deadline for the whole exchange.
func callWithin(addr string, req *rpcReq, d time.Duration) (*rpcResp, error) {
	return callStop(addr, req, d, nil)
}

// callStop is callWithin that also gives up when stop is closed (nil:
// never).
func callStop(addr string, req *rpcReq, d time.Duration, stop <-chan struct{}) (*rpcResp, error) {
	nc, err := net.DialTimeout("tcp", addr, min(d, 2*time.Second))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	if stop != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-stop:
				nc.Close() // ends the read below
			case <-done:
			}
		}()
	}
	nc.SetDeadline(time.Now().Add(d))
	b, _ := json.Marshal(req)
	if _, err := nc.Write(append(append([]byte{rpcMagic}, b...), '\n')); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(nc).ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	var resp rpcResp
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// acceptBus serves the bus: raft connections go to the current raft
// transport, join-protocol ones are answered here.
func (n *Local) acceptBus() {
	defer n.wg.Done()
	for {
		nc, err := n.ln.Accept()
		if err != nil {
			select {
			case <-n.stop:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		go n.route(nc)
	}
}

func (n *Local) route(nc net.Conn) {
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	b, err := br.Peek(1)
	if err != nil {
		nc.Close()
		return
	}
	nc.SetReadDeadline(time.Time{})
	if b[0] != rpcMagic {
		if !n.layer.Load().push(&peekedConn{Conn: nc, r: br}) {
			nc.Close()
		}
		return
	}
	defer nc.Close()
	br.ReadByte()
	line, err := br.ReadBytes('\n')
	if err != nil {
		return
	}
	var req rpcReq
	var resp *rpcResp
	if err := json.Unmarshal(line, &req); err == nil && req.T == "publish" {
		n.servePublish(&req, br) // a stream of messages, no replies
		return
	}
	if err := json.Unmarshal(line, &req); err != nil {
		resp = &rpcResp{Err: "ERR bad cluster bus request"}
	} else {
		resp = n.serve(&req, nc)
	}
	if req.T == "prepare" && resp.Info != nil && !resp.JoinMe && !resp.Same && resp.Err == "" {
		// this node joins the caller's group: start over empty, before
		// the caller's leader sends it anything (if the caller never
		// comes back, maintain bootstraps it alone again)
		n.mu.Lock()
		n.stopRaft()
		if err := n.startRaft(true); err != nil {
			n.cfg.Logger.Warn("cluster: restarting raft to join", "err", err)
			resp = &rpcResp{Err: "ERR " + err.Error()}
		}
		n.mu.Unlock()
	}
	out, _ := json.Marshal(resp)
	nc.Write(append(out, '\n'))
}

// serve answers a join-protocol request.
func (n *Local) serve(req *rpcReq, nc net.Conn) *rpcResp {
	switch req.T {
	case "apply", "join":
		r := n.currentRaft()
		if r != nil && r.State() != raft.Leader && !req.Forwarded {
			// relay to the leader (a joining node knows only this one)
			if addr, _ := r.LeaderWithID(); addr != "" {
				fwd := *req
				fwd.Forwarded = true
				if resp, err := call(string(addr), &fwd); err == nil {
					return resp
				}
			}
		}
		if r == nil || r.State() != raft.Leader {
			return &rpcResp{Err: "not the leader", Retry: true}
		}
		if req.T == "join" && req.Info != nil && req.Info.Raft == "" {
			return &rpcResp{Err: "ERR join without a raft address"}
		}
		reply, index, err := n.onLeader(r, req)
		if err != nil {
			return &rpcResp{Err: err.Error(), Retry: retryable(req, err)}
		}
		return &rpcResp{Reply: reply, Index: index}
	case "mfstart", "offset":
		return n.serveReplication(req)
	case "prepare":
		if req.Info == nil {
			return &rpcResp{Err: "ERR bad prepare"}
		}
		v := n.View()
		me := n.myInfo()
		resp := &rpcResp{Info: &me}
		if host, _, err := net.SplitHostPort(nc.RemoteAddr().String()); err == nil {
			resp.YourIP = host
		}
		if n.currentFSM().has(req.Info.ID) {
			resp.Same = true
			return resp
		}
		if n.alone() {
			resp.Slots = v.State.SlotsOf(n.ID())
			return resp // and restart empty (route)
		}
		if req.Alone {
			resp.JoinMe = true
			return resp
		}
		return &rpcResp{Err: "ERR CLUSTER MEET of two nodes that are both in a cluster of several nodes is not supported"}
	}
	return &rpcResp{Err: "ERR unknown cluster bus request"}
}

// peekedConn is a connection whose first bytes were buffered.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// streamLayer hands raft the bus connections that are raft's.
type streamLayer struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
}

func (l *streamLayer) push(c net.Conn) bool {
	l.mu.Lock() // not after Close drained conns
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return false
	default:
	}
	select {
	case l.conns <- c:
		return true
	default:
		return false // raft is not accepting: the peer retries
	}
}

// Accept implements net.Listener.
func (l *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener (the bus listener itself stays open); the
// connections raft did not take are closed.
func (l *streamLayer) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		close(l.done)
		l.mu.Unlock()
		for {
			select {
			case c := <-l.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

// Addr implements net.Listener.
func (l *streamLayer) Addr() net.Addr { return l.addr }

// Dial implements raft.StreamLayer.
func (l *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// fsm applies the raft log to the State.
type fsm struct {
	n       *Local
	mu      sync.Mutex
	st      *State
	applied atomic.Uint64 // the last log index applied and published
	// boot is the last log index found at startup (0: none or applied):
	// the node is settled once it applies it (Local.unsettled)
	boot atomic.Uint64
	// snaps: the snapshot store (Restore reads the index of the snapshot
	// it restores from it)
	snaps raft.SnapshotStore
}

func (f *fsm) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Nodes[id] != nil
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) any {
	var op Op
	if err := json.Unmarshal(l.Data, &op); err != nil {
		return "ERR bad cluster log entry"
	}
	f.mu.Lock()
	reply := f.st.Apply(&op)
	snap := f.st.clone()
	f.mu.Unlock()
	if b := f.boot.Load(); b != 0 && l.Index >= b && f.boot.CompareAndSwap(b, 0) { // the log found at startup replayed
		f.n.unsettled.Store(false)
	}
	f.n.publish(snap)
	f.applied.Store(l.Index)
	return reply
}

// Snapshot implements raft.FSM.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := json.Marshal(f.st)
	return fsmSnapshot(b), err
}

// Restore implements raft.FSM.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st := NewState()
	if err := json.NewDecoder(rc).Decode(st); err != nil {
		return err
	}
	f.mu.Lock()
	f.st = st
	snap := st.clone()
	f.mu.Unlock()
	// raft restores the newest snapshot: at startup, or installed from the
	// leader (then no entry of the log found at startup may be applied)
	if b := f.boot.Load(); b != 0 {
		if metas, err := f.snaps.List(); err == nil && len(metas) > 0 && metas[0].Index >= b && f.boot.CompareAndSwap(b, 0) {
			f.n.unsettled.Store(false)
		}
	}
	f.n.publish(snap)
	return nil
}

type fsmSnapshot []byte

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s fsmSnapshot) Release() {}

// clone returns a deep copy of s.
func (s *State) clone() *State {
	c := &State{CurrentEpoch: s.CurrentEpoch, Owner: s.Owner, Nodes: make(map[string]*NodeInfo, len(s.Nodes)),
		Migrating: map[string]map[int]string{}, Importing: map[string]map[int]string{}}
	for id, n := range s.Nodes {
		nn := *n
		c.Nodes[id] = &nn
	}
	for _, p := range [][2]map[string]map[int]string{{s.Migrating, c.Migrating}, {s.Importing, c.Importing}} {
		for id, m := range p[0] {
			if len(m) == 0 {
				continue
			}
			mm := make(map[int]string, len(m))
			for k, v := range m {
				mm[k] = v
			}
			p[1][id] = mm
		}
	}
	return c
}

// slogWriter adapts raft's hclog output to the server's logger.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(b []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(b)))
	return len(b), nil
}

// SetRequireFullCoverage sets cluster-require-full-coverage: with no,
// the state is ok with unassigned slots too.
func (n *Local) SetRequireFullCoverage(on bool) {
	n.partialOK.Store(!on)
	n.updateOK()
}

// SetReadsWhenDown sets cluster-allow-reads-when-down.
func (n *Local) SetReadsWhenDown(on bool) { n.readsDown.Store(on) }

// Routing returns the current view, whether the cluster state is ok,
// and cluster-allow-reads-when-down: what View.Route needs.
func (n *Local) Routing() (v *View, ok, readsWhenDown bool) {
	return n.View(), n.ok.Load(), n.readsDown.Load()
}

// Reset is CLUSTER RESET: this node leaves its group (the others forget
// it), and starts over alone with an empty configuration; hard also takes
// a new node id.
func (n *Local) Reset(hard bool) error {
	if !n.alone() {
		reply, err := n.leaderCall(&rpcReq{T: "apply", Op: &Op{Kind: OpForget, Target: n.ID()}})
		if err != nil {
			return err
		}
		// "Unknown node" for this node: a try that leaderCall repeated
		// (its answer lost to a change of leader) had already applied
		if reply != "" && reply != "ERR Unknown node "+n.ID() {
			return errors.New(reply)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopRaft()
	if hard {
		id := NewID()
		n.idv.Store(&id)
	}
	if err := os.RemoveAll(n.raftDir()); err != nil {
		return err
	}
	n.publish(NewState())
	return n.startRaft(false)
}

// waitJoined waits until this node, joining a group, has the group's
// configuration with itself in it (or the deadline).
func (n *Local) waitJoined(deadline time.Time) {
	for time.Now().Before(deadline) {
		if f := n.currentFSM(); f != nil && f.has(n.ID()) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// observe records the peers the raft leader fails to reach (heartbeat
// observations), for checkFailures.
func (n *Local) observe() {
	defer n.wg.Done()
	leader := "" // the leader of the last LeaderObservation
	for {
		select {
		case <-n.stop:
			return
		case o := <-n.obs:
			n.failMu.Lock()
			switch d := o.Data.(type) {
			case raft.FailedHeartbeatObservation:
				if _, ok := n.failSince[string(d.PeerID)]; !ok {
					since := time.Now()
					if string(d.PeerID) == n.silentID && n.silentSince.Before(since) {
						since = n.silentSince
					}
					n.failSince[string(d.PeerID)] = since
				}
			case raft.ResumedHeartbeatObservation:
				delete(n.failSince, string(d.PeerID))
			case raft.LeaderObservation: // a new term: start over
				clear(n.failSince)
				switch id := string(d.LeaderID); {
				case id == "" && leader != "" && leader != n.ID():
					// an election: the last leader silent since the last
					// contact (a follower's LastContact is its leader's)
					if r := n.currentRaft(); r != nil && !r.LastContact().IsZero() {
						n.silentID, n.silentSince = leader, r.LastContact()
					}
				case id != n.ID():
					n.silentID = ""
				}
				leader = string(d.LeaderID)
			}
			n.failMu.Unlock()
		}
	}
}

// checkFailures, on the leader, flags the nodes it has not reached for
// cluster-node-timeout as failing, and clears the flag of a node it
// reaches again, or has had no failure with for a node-timeout of its
// leadership (a flag set under a previous leader).
func (n *Local) checkFailures(r *raft.Raft, leadingSince time.Time) {
	now := time.Now()
	for _, nd := range n.View().Nodes {
		if nd.Myself {
			continue
		}
		n.failMu.Lock()
		since, failing := n.failSince[nd.ID]
		n.failMu.Unlock()
		var want bool
		switch {
		case failing && now.Sub(since) > n.cfg.NodeTimeout:
			want = true
		case failing:
			continue // not for long enough to decide
		case nd.Fail && now.Sub(leadingSince) < n.cfg.NodeTimeout:
			continue // flagged before this leader: wait and see
		}
		if want == nd.Fail {
			continue
		}
		data, _ := json.Marshal(&Op{Kind: OpFail, Target: nd.ID, Fail: want})
		if r.Apply(data, n.heartbeat()*4).Error() != nil {
			return
		}
	}
	n.autoFailover(r)
}
