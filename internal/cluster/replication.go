package cluster

// Replicas and failover (docs/design/cluster.md, "Replicas and
// failover"). Which node replicates which is part of the raft-kept
// configuration (NodeInfo.Master); every node follows what the
// configuration says (follow) through the server's replication
// (Replication: REPLICAOF host port, REPLICAOF NO ONE). A failover is one
// raft log entry (OpFailover), proposed by the replica (CLUSTER FAILOVER)
// or by the raft leader for a master flagged fail (autoFailover); the
// state machine refuses it unless the node is still a replica of that
// master, so two replicas cannot both win.

import (
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// Replication is the server's replication as a cluster node drives it.
type Replication interface {
	// ReplOffset is the replication offset: the one applied on a
	// replica, master_repl_offset on a master.
	ReplOffset() int64
	// DataAge is how old a replica's data may be: the time since the
	// last byte from its master, or since its link went down; false when
	// the link was never up.
	DataAge() (time.Duration, bool)
	// Follow makes the server a replica of ip:port, or a master again
	// (keeping its data) when ip is "".
	Follow(ip string, port int)
	// PauseWrites holds clients' writes back for up to d (a replica's
	// manual failover) and returns the replication offset once the
	// writes already running are done.
	PauseWrites(d time.Duration) int64
	// Unpause ends PauseWrites.
	Unpause()
}

// mfTimeout is Redis's CLUSTER_MF_TIMEOUT: how long a replica waits to
// catch up with its paused master in a manual failover. The master's
// pause lasts twice as long at most (CLUSTER_MF_PAUSE_MULT).
const mfTimeout = 5 * time.Second

// SetReplication connects the node to the server's replication; the node
// then follows the configuration's master of this node.
func (n *Local) SetReplication(r Replication) {
	n.replMu.Lock()
	n.repl = r
	n.replMu.Unlock()
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

func (n *Local) replication() Replication {
	n.replMu.Lock()
	defer n.replMu.Unlock()
	return n.repl
}

// clientAddr is the address a replica connects to: the node's announced
// IP (else its raft address's) and client port.
func clientAddr(nd *Node) (string, int) {
	ip := nd.IP
	if ip == "" {
		ip, _, _ = net.SplitHostPort(nd.Raft)
	}
	return ip, nd.Port
}

// follow keeps the server's replication as the configuration says: a
// replica of this node's master, or a master. A master that was paused
// for a manual failover is released once it knows it lost its slots (its
// paused writes are then redirected).
func (n *Local) follow() {
	defer n.wg.Done()
	t := time.NewTicker(max(n.heartbeat(), 100*time.Millisecond))
	defer t.Stop()
	following := ""                   // "ip:port" of the master followed; "" a master
	orphans := map[string]time.Time{} // orphaned masters, since (checkMigration)
	for {
		select {
		case <-n.stop:
			return
		case <-n.changed:
		case <-t.C:
		}
		if m, keys := n.takeReplicaOf(); m != "" {
			n.cfg.Logger.Warn("cluster: configuration change detected, reconfiguring myself as a replica", "master", m)
			if msg, err := n.Propose(&Op{Kind: OpReplicate, Node: n.ID(), Target: m}); err != nil || msg != "" {
				n.cfg.Logger.Info("cluster: becoming a replica not applied", "master", m, "reply", msg, "err", err)
				n.notReplica(keys)
			}
		}
		rp := n.replication()
		if rp == nil {
			continue
		}
		if f := n.currentFSM(); f == nil || !f.has(n.ID()) {
			continue // not in a configuration (yet): as it is
		}
		v := n.View()
		want, ip, port := "", "", 0
		if m := v.MasterOf(v.Myself); m != nil {
			ip, port = clientAddr(m)
			want = net.JoinHostPort(ip, strconv.Itoa(port))
		}
		if want != following {
			n.cfg.Logger.Info("cluster: replication role", "master", want)
			rp.Follow(ip, port)
			following = want
		}
		if n.mfPaused.Load() && want != "" {
			n.mfPaused.Store(false)
			rp.Unpause()
		}
		if me := v.Myself; me != nil && (me.NoFailover != n.noFailover.Load() || me.Port != n.Port() ||
			v.State.Nodes[me.ID] == nil || v.State.Nodes[me.ID].Hostname != n.Hostname()) {
			// announce cluster-replica-no-failover (CLUSTER NODES'
			// nofailover flag; autoFailover skips the replica) and a
			// cluster-announce-port changed at run time
			info := n.myInfo()
			if _, err := n.Propose(&Op{Kind: OpAddNode, Info: &info}); err != nil {
				n.cfg.Logger.Info("cluster: announcing cluster-replica-no-failover", "err", err)
			}
		}
		if op := n.checkMigration(v, orphans, time.Now()); op != nil {
			n.cfg.Logger.Info("cluster: migrating to orphaned master", "master", op.Target)
			if msg, err := n.Propose(op); err != nil || msg != "" {
				n.cfg.Logger.Info("cluster: replica migration not applied", "master", op.Target, "reply", msg, "err", err)
			}
		}
	}
}

// SetFailoverLimits sets this node's own limits as a replica on automatic
// failovers: cluster-replica-no-failover (never promoted automatically;
// a manual CLUSTER FAILOVER still is), cluster-replica-validity-factor and
// repl-ping-replica-period (tooOld).
func (n *Local) SetFailoverLimits(noFailover bool, validityFactor int, pingPeriod time.Duration) {
	n.noFailover.Store(noFailover)
	n.validity.Store(int64(validityFactor))
	n.pingPeriod.Store(int64(pingPeriod))
	select {
	case n.changed <- struct{}{}: // follow announces the flag
	default:
	}
}

// tooOld reports whether this replica's data is too old for it to be
// promoted automatically, Redis's CLUSTER_CANT_FAILOVER_DATA_AGE: with a
// validity factor f > 0, when the data age less node-timeout (the time
// the master took to be flagged fail) exceeds repl-ping-replica-period +
// f × node-timeout. A replica whose link was never up is too old.
func (n *Local) tooOld(rp Replication) bool {
	f := n.validity.Load()
	if f <= 0 {
		return false
	}
	age, ok := rp.DataAge()
	if !ok {
		return true
	}
	return dataTooOld(age, n.cfg.NodeTimeout, time.Duration(n.pingPeriod.Load()), f)
}

// dataTooOld is tooOld's rule (Redis's clusterHandleSlaveFailover).
func dataTooOld(age, nodeTimeout, pingPeriod time.Duration, factor int64) bool {
	if age > nodeTimeout {
		age -= nodeTimeout
	}
	return age > pingPeriod+time.Duration(factor)*nodeTimeout
}

// migrationDelay is Redis's CLUSTER_SLAVE_MIGRATION_DELAY: how long a
// master stays orphaned before a replica migrates to it, so that after a
// failover the promoted node's own replicas have time to follow it.
const migrationDelay = 5 * time.Second

// SetReplicaMigration sets cluster-allow-replica-migration and
// cluster-migration-barrier, this node's own settings as a replica.
func (n *Local) SetReplicaMigration(allow bool, barrier int) {
	n.noMigrate.Store(!allow)
	n.barrier.Store(int64(barrier))
}

// checkMigration is Redis's replica migration (clusterHandleSlaveMigration
// and its conditions in clusterCron), run by each replica on its own
// view: when some master is orphaned (serving slots, no working replica,
// had one: State.Orphaned), this node's master has the most working
// replicas of all masters, at least two and more than this node's
// cluster-migration-barrier, and this node has the smallest id among the
// working replicas of the masters with that many, it returns the OpMigrate
// moving it to the orphan (the one with the smallest id) once that master
// has been orphaned for migrationDelay. since records when each master
// was first seen orphaned. The state machine checks the entry again when
// it applies (State.migrate).
//
// One difference from Redis: a replica flagged fail is never the
// candidate (in Redis a failed replica with the smallest id is, and no
// migration happens until it is reachable again).
func (n *Local) checkMigration(v *View, since map[string]time.Time, now time.Time) *Op {
	me := v.Myself
	if me == nil || me.Master == "" || me.Fail || n.noMigrate.Load() || !n.StateOK() {
		clear(since)
		return nil
	}
	s := v.State
	most, target := 0, ""
	working := map[string]int{}  // working masters -> their working replicas
	for _, nd := range v.Nodes { // sorted by id
		if nd.Master != "" || nd.Fail {
			delete(since, nd.ID)
			continue
		}
		w := s.WorkingReplicas(nd.ID)
		working[nd.ID] = w
		most = max(most, w)
		if !s.Orphaned(nd.ID) {
			delete(since, nd.ID)
			continue
		}
		if _, ok := since[nd.ID]; !ok {
			since[nd.ID] = now
		}
		if target == "" {
			target = nd.ID
		}
	}
	mine, ok := working[me.Master]
	barrier := int(n.barrier.Load())
	if target == "" || !ok || most < 2 || mine != most || mine <= barrier {
		return nil
	}
	for _, nd := range v.Nodes { // sorted: the first working replica of such a master is the candidate
		if nd.Master != "" && !nd.Fail && working[nd.Master] == most {
			if nd.ID != me.ID {
				return nil
			}
			break
		}
	}
	if now.Sub(since[target]) <= migrationDelay {
		return nil
	}
	return &Op{Kind: OpMigrate, Node: me.ID, Target: target, Barrier: barrier}
}

// Replicate is CLUSTER REPLICATE: this node becomes a replica of master
// (the caller checked that it holds no keys).
func (n *Local) Replicate(master string) (string, error) {
	return n.Propose(&Op{Kind: OpReplicate, Node: n.ID(), Target: master})
}

// Failover errors (Redis's texts).
var (
	ErrFailoverMaster  = errors.New("ERR You should send CLUSTER FAILOVER to a replica")
	ErrFailoverUnknown = errors.New("ERR I'm a replica but my master is unknown to me")
	ErrFailoverDown    = errors.New("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE")
)

// Failover is CLUSTER FAILOVER on a replica: mode "" (manual: the master
// pauses its writes, this replica catches up with its offset, then takes
// the slots), "force" (without the master) or "takeover" (here the same
// as force: the change still needs a raft majority). It answers at once,
// as Redis; the failover runs in the background.
func (n *Local) Failover(mode string) error {
	v := n.View()
	if v.Myself == nil || v.Myself.Master == "" {
		return ErrFailoverMaster
	}
	m := v.MasterOf(v.Myself)
	if m == nil {
		return ErrFailoverUnknown
	}
	if mode == "" && m.Fail {
		return ErrFailoverDown
	}
	go n.runFailover(m, mode)
	return nil
}

// runFailover runs a CLUSTER FAILOVER.
func (n *Local) runFailover(m *Node, mode string) {
	log := n.cfg.Logger
	if mode == "" {
		rp := n.replication()
		if rp == nil {
			return
		}
		me := n.myInfo()
		resp, err := callWithin(m.Raft, &rpcReq{T: "mfstart", Info: &me}, mfTimeout)
		if err == nil && resp.Err != "" {
			err = errors.New(resp.Err)
		}
		if err != nil {
			log.Warn("cluster: manual failover: the master did not pause", "err", err)
			return
		}
		deadline := time.Now().Add(mfTimeout)
		for rp.ReplOffset() < resp.Offset {
			if time.Now().After(deadline) {
				log.Warn("cluster: manual failover timed out: not caught up with the master",
					"offset", rp.ReplOffset(), "master", resp.Offset)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	reply, err := n.Propose(&Op{Kind: OpFailover, Node: n.ID(), Target: m.ID})
	if err == nil && reply != "" {
		err = errors.New(reply)
	}
	if err != nil {
		log.Warn("cluster: failover failed", "err", err)
		return
	}
	log.Info("cluster: failover done: this node is a master", "old", m.ID)
}

// serveReplication answers a bus request of a replica: mfstart (its
// manual failover: pause writes, tell the offset) and offset (the raft
// leader choosing a replica to promote).
func (n *Local) serveReplication(req *rpcReq) *rpcResp {
	rp := n.replication()
	if rp == nil {
		return &rpcResp{Err: "ERR no replication here"}
	}
	if req.T == "offset" {
		return &rpcResp{Offset: rp.ReplOffset(), TooOld: n.tooOld(rp)}
	}
	v := n.View()
	if req.Info == nil || v.Myself == nil || v.Myself.Master != "" {
		return &rpcResp{Err: "ERR not a master"}
	}
	if r := v.Node(req.Info.ID); r == nil || r.Master != v.Myself.ID {
		return &rpcResp{Err: "ERR not a replica of mine"}
	}
	n.mfPaused.Store(true)
	return &rpcResp{Offset: rp.PauseWrites(2 * mfTimeout)}
}

// autoFailover, on the raft leader, promotes a replica of each master
// flagged fail that owns slots: the one with the greatest replication
// offset among those that answer (Redis ranks its replicas the same way).
// The state machine applies it only while the master is still failing.
func (n *Local) autoFailover(r *raft.Raft) {
	v := n.View()
	for _, m := range v.Nodes {
		if !m.Fail || m.Master != "" || m.Myself || !v.State.ownsSlots(m.ID) {
			continue
		}
		var best *Node
		var bestOff int64
		for _, c := range v.Replicas(m.ID) {
			if c.Fail || c.NoFailover {
				continue
			}
			var off int64
			if c.Myself {
				rp := n.replication()
				if rp == nil || n.tooOld(rp) {
					continue
				}
				off = rp.ReplOffset()
			} else {
				resp, err := callWithin(c.Raft, &rpcReq{T: "offset"}, max(2*n.heartbeat(), 200*time.Millisecond))
				if err != nil || resp.Err != "" || resp.TooOld {
					continue
				}
				off = resp.Offset
			}
			if best == nil || off > bestOff {
				best, bestOff = c, off
			}
		}
		if best == nil {
			continue
		}
		n.cfg.Logger.Warn("cluster: failing over a failed master", "master", m.ID, "replica", best.ID, "offset", bestOff)
		data, _ := json.Marshal(&Op{Kind: OpFailover, Node: best.ID, Target: m.ID, Fail: true})
		if r.Apply(data, n.heartbeat()*4).Error() != nil {
			return
		}
	}
}
