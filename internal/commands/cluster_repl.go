package commands

// Cluster replicas and failover (docs/design/cluster.md, "Replicas and
// failover"): CLUSTER REPLICATE, FAILOVER, REPLICAS/SLAVES, and the
// server's replication as the cluster node drives it (clusterRepl).

import (
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
)

// clusterRepl is the server's replication as cluster.Local drives it.
type clusterRepl struct{ h *Handlers }

// ClusterReplication returns the replication a cluster node drives
// (cluster.Local.SetReplication); nil without replication.
func (h *Handlers) ClusterReplication() cluster.Replication {
	if h.Repl == nil {
		return nil
	}
	return clusterRepl{h}
}

// ReplOffset implements cluster.Replication.
func (r clusterRepl) ReplOffset() int64 { return r.h.Repl.ReplOffset() }

// DataAge implements cluster.Replication.
func (r clusterRepl) DataAge() (time.Duration, bool) { return r.h.Repl.MasterDataAge() }

// Follow implements cluster.Replication.
func (r clusterRepl) Follow(ip string, port int) {
	if ip == "" {
		r.h.Repl.ReplicaOfNoOne()
		return
	}
	r.h.Repl.ReplicaOf(ip, port)
}

// PauseWrites implements cluster.Replication: CLIENT PAUSE WRITE for d,
// then every shard taken once, so that the writes already past the pause
// have reached the replication stream before its offset is read.
func (r clusterRepl) PauseWrites(d time.Duration) int64 {
	r.h.pauseFor(pauseByFailover, time.Now().Add(d), false)
	r.h.Store.LockAll()
	r.h.Store.UnlockAll() // a barrier: nothing is done under it
	return r.h.Repl.ReplOffset()
}

// Unpause implements cluster.Replication.
func (r clusterRepl) Unpause() { r.h.unpauseFor(pauseByFailover) }

// clusterReplicate is CLUSTER REPLICATE <node-id>, with Redis's checks
// (the state machine checks them again in the log's order).
func (h *Handlers) clusterReplicate(c *command.Ctx, n *cluster.Local) {
	id := string(c.Args[2])
	v := n.View()
	target := v.Node(id)
	switch {
	case target == nil:
		c.Error("ERR Unknown node " + id)
		return
	case target == v.Myself:
		c.Error("ERR Can't replicate myself")
		return
	case target.Master != "":
		c.Error("ERR I can only replicate a master, not a replica.")
		return
	}
	if v.Myself != nil && v.Myself.Master == "" {
		if len(v.State.SlotsOf(n.ID())) != 0 || h.keysInDB0() != 0 {
			c.Error("ERR To set a master the node must be empty and without assigned slots.")
			return
		}
	}
	reply, err := n.Replicate(id)
	clusterReply(c, reply, err)
}

// clusterFailover is CLUSTER FAILOVER [FORCE|TAKEOVER] (on a replica).
func (h *Handlers) clusterFailover(c *command.Ctx, n *cluster.Local) {
	mode := ""
	switch {
	case len(c.Args) > 3:
		c.Error(UnknownSubcommandOf(c))
		return
	case len(c.Args) == 3:
		mode = strings.ToLower(string(c.Args[2]))
		if mode != "force" && mode != "takeover" {
			c.Error(ErrSyntax)
			return
		}
	}
	if err := n.Failover(mode); err != nil {
		c.Error(err.Error())
		return
	}
	c.W.OK()
}

// clusterReplicas is CLUSTER REPLICAS (SLAVES) <node-id>: the CLUSTER
// NODES lines of the master's replicas.
func (h *Handlers) clusterReplicas(c *command.Ctx, n *cluster.Local) {
	id := string(c.Args[2])
	v := n.View()
	nd := v.Node(id)
	if nd == nil {
		c.Error("ERR Unknown node " + id)
		return
	}
	if nd.Master != "" {
		c.Error("ERR The specified node is not a master")
		return
	}
	reps := v.Replicas(id)
	now := time.Now().UnixMilli()
	c.W.Array(len(reps))
	for _, r := range reps {
		c.W.BulkString(v.NodeLine(r, now))
	}
}

// resetReplica is CLUSTER RESET's part on a replica, as Redis: the link
// to the master stops and the data is dropped.
func (h *Handlers) resetReplica() {
	if h.Repl != nil {
		h.Repl.ReplicaOfNoOne()
	}
	st := h.Store
	st.LockAll()
	for i := 0; i < st.NumDBs(); i++ {
		h.Exec.TouchAllWatched(i, -1)
	}
	h.trackingFlush(nil)
	st.DetachAll() // dropped: the GC reclaims the old maps
	st.UnlockAll()
}
