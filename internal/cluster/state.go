package cluster

import (
	"encoding/json"
	"fmt"
	"sort"
)

// NodeInfo is a node as the replicated configuration knows it.
type NodeInfo struct {
	ID      string `json:"id"`
	IP      string `json:"ip"` // announced client IP ("" until known)
	Port    int    `json:"port"`
	BusPort int    `json:"bus"`
	// Raft is the node's raft transport address (ip:bus port).
	Raft string `json:"raft"`
	// Epoch is the node's config epoch.
	Epoch uint64 `json:"epoch"`
	// Fail: the raft leader has not reached the node for
	// cluster-node-timeout (Redis's FAIL flag).
	Fail bool `json:"fail,omitempty"`
	// Master is the id of the master this node replicates ("": a
	// master). CLUSTER REPLICATE and failovers change it.
	Master string `json:"master,omitempty"`
	// MigrateTo: the node, a master, had a replica (it gained one, or
	// was promoted from one), so an orphaned replica may migrate to it
	// when it has none left (Redis's CLUSTER_NODE_MIGRATE_TO). Cleared
	// when it becomes a replica.
	MigrateTo bool `json:"mt,omitempty"`
	// NoFailover: the node's cluster-replica-no-failover (a replica
	// shows the nofailover flag and is not promoted automatically).
	NoFailover bool `json:"nf,omitempty"`
	// Hostname is the node's cluster-announce-hostname ("" none): shown
	// in CLUSTER NODES, SLOTS and SHARDS, and given in redirections with
	// cluster-preferred-endpoint-type hostname.
	Hostname string `json:"hn,omitempty"`
}

// State is the replicated cluster configuration: every node applies the
// same operations (Op) in the same order, so every node holds the same
// State. It is not safe for concurrent use (the FSM serializes it).
type State struct {
	CurrentEpoch uint64               `json:"current_epoch"`
	Nodes        map[string]*NodeInfo `json:"nodes"`
	// Owner is the owner node id of each slot ("" unassigned).
	Owner [Slots]string `json:"-"`
	// Migrating: node id -> slot -> target node id (SETSLOT MIGRATING
	// run on that node).
	Migrating map[string]map[int]string `json:"migrating"`
	// Importing: node id -> slot -> source node id.
	Importing map[string]map[int]string `json:"importing"`
}

// NewState returns an empty configuration.
func NewState() *State {
	return &State{Nodes: map[string]*NodeInfo{}, Migrating: map[string]map[int]string{},
		Importing: map[string]map[int]string{}}
}

// Op kinds.
const (
	OpAddNode   = "addnode"    // Node: add or update (address, and Slots when not busy)
	OpForget    = "forget"     // Target: remove the node, unassign its slots
	OpAddSlots  = "addslots"   // Node takes Slots (each unassigned)
	OpDelSlots  = "delslots"   // Slots become unassigned (each assigned)
	OpFlush     = "flushslots" // Node's slots become unassigned
	OpMigrating = "migrating"  // Node migrates Slot to Target
	OpImporting = "importing"  // Node imports Slot from Target
	OpStable    = "stable"     // Node clears Slot's migrating/importing state
	OpSetNode   = "setnode"    // Slot is owned by Target from now on
	OpEpoch     = "epoch"      // SET-CONFIG-EPOCH: Node's config epoch is Epoch
	OpBumpEpoch = "bumpepoch"  // Node takes a new config epoch
	OpFail      = "fail"       // Target is failing (Fail) or reachable again
	OpReplicate = "replicate"  // Node becomes a replica of Target
	// OpMigrate: Node, a replica, moves to the orphaned master Target
	// (replica migration), if its master keeps more than Barrier working
	// replicas and Target is still orphaned.
	OpMigrate = "migrate"
	// OpFailover: Node, a replica of Target, takes Target's slots with a
	// new config epoch; Target and its other replicas replicate Node.
	// With Fail (an automatic failover) only while Target is failing.
	OpFailover = "failover"
)

// Op is one change of the configuration: a raft log entry.
type Op struct {
	Kind   string    `json:"k"`
	Node   string    `json:"n,omitempty"` // the node the change is made on
	Info   *NodeInfo `json:"i,omitempty"` // OpAddNode
	Slots  []int     `json:"s,omitempty"`
	Slot   int       `json:"sl,omitempty"`
	Target string    `json:"t,omitempty"`
	Epoch  uint64    `json:"e,omitempty"`
	Fail   bool      `json:"f,omitempty"`
	// Barrier is the migrating replica's cluster-migration-barrier
	// (OpMigrate).
	Barrier int `json:"b,omitempty"`
}

// Apply makes op's change, or none when it fails, and returns the error
// reply Redis gives for that failure ("" on success). It is
// deterministic: it depends on s and op only.
func (s *State) Apply(op *Op) string {
	switch op.Kind {
	case OpAddNode:
		in := *op.Info
		if n := s.Nodes[in.ID]; n != nil {
			in.Epoch = max(in.Epoch, n.Epoch)
			if in.IP == "" {
				in.IP = n.IP
			}
			in.Master = n.Master // only REPLICATE, failovers and migrations change it
			in.MigrateTo = n.MigrateTo
		}
		s.Nodes[in.ID] = &in
		s.CurrentEpoch = max(s.CurrentEpoch, in.Epoch)
		for _, sl := range op.Slots { // slots the node served alone (MEET)
			if sl >= 0 && sl < Slots && s.Owner[sl] == "" {
				s.Owner[sl] = in.ID
			}
		}
	case OpForget:
		if s.Nodes[op.Target] == nil {
			return "ERR Unknown node " + op.Target
		}
		delete(s.Nodes, op.Target)
		for _, n := range s.Nodes {
			if n.Master == op.Target {
				n.Master = "" // its replicas become masters without slots
			}
		}
		for i := range s.Owner {
			if s.Owner[i] == op.Target {
				s.Owner[i] = ""
			}
		}
		delete(s.Migrating, op.Target)
		delete(s.Importing, op.Target)
		for _, m := range []map[string]map[int]string{s.Migrating, s.Importing} {
			for _, slots := range m {
				for sl, peer := range slots {
					if peer == op.Target {
						delete(slots, sl)
					}
				}
			}
		}
	case OpAddSlots:
		if s.Nodes[op.Node] == nil {
			return "ERR Unknown node " + op.Node
		}
		for _, sl := range op.Slots {
			if s.Owner[sl] != "" {
				return fmt.Sprintf("ERR Slot %d is already busy", sl)
			}
		}
		for _, sl := range op.Slots {
			delete(s.Importing[op.Node], sl)
			s.Owner[sl] = op.Node
		}
	case OpDelSlots:
		for _, sl := range op.Slots {
			if s.Owner[sl] == "" {
				return fmt.Sprintf("ERR Slot %d is already unassigned", sl)
			}
		}
		for _, sl := range op.Slots {
			s.clearSlot(sl)
			s.Owner[sl] = ""
		}
	case OpFlush:
		for i := range s.Owner {
			if s.Owner[i] == op.Node {
				s.Owner[i] = ""
			}
		}
	case OpMigrating:
		if s.Owner[op.Slot] != op.Node {
			return fmt.Sprintf("ERR I'm not the owner of hash slot %d", op.Slot)
		}
		if s.Nodes[op.Target] == nil {
			return "ERR I don't know about node " + op.Target
		}
		if s.Nodes[op.Target].Master != "" {
			return ErrNotMaster
		}
		setIn(s.Migrating, op.Node, op.Slot, op.Target)
	case OpImporting:
		if s.Owner[op.Slot] == op.Node {
			return fmt.Sprintf("ERR I'm already the owner of hash slot %d", op.Slot)
		}
		if s.Nodes[op.Target] == nil {
			return "ERR I don't know about node " + op.Target
		}
		if s.Nodes[op.Target].Master != "" {
			return ErrNotMaster
		}
		setIn(s.Importing, op.Node, op.Slot, op.Target)
	case OpStable:
		delete(s.Migrating[op.Node], op.Slot)
		delete(s.Importing[op.Node], op.Slot)
	case OpSetNode:
		n := s.Nodes[op.Target]
		if n == nil {
			return "ERR Unknown node " + op.Target
		}
		if n.Master != "" {
			return ErrNotMaster
		}
		if _, ok := s.Importing[op.Target][op.Slot]; ok && (n.Epoch == 0 || n.Epoch != s.CurrentEpoch) {
			// the importing node takes the slot: a new config epoch
			// unless it has the greatest already (Redis's
			// clusterBumpConfigEpochWithoutConsensus)
			s.CurrentEpoch++
			n.Epoch = s.CurrentEpoch
		}
		s.clearSlot(op.Slot)
		s.Owner[op.Slot] = op.Target
	case OpEpoch:
		n := s.Nodes[op.Node]
		if n == nil {
			return "ERR Unknown node " + op.Node
		}
		if len(s.Nodes) > 1 {
			return "ERR The user can assign a config epoch only when the node does not know any other node."
		}
		if n.Epoch != 0 {
			return "ERR Node config epoch is already non-zero"
		}
		n.Epoch = op.Epoch
		s.CurrentEpoch = max(s.CurrentEpoch, op.Epoch)
	case OpFail:
		n := s.Nodes[op.Target]
		if n == nil {
			return "ERR Unknown node " + op.Target
		}
		n.Fail = op.Fail
	case OpReplicate:
		return s.replicate(op)
	case OpFailover:
		return s.failover(op)
	case OpMigrate:
		return s.migrate(op)
	case OpBumpEpoch:
		n := s.Nodes[op.Node]
		if n == nil {
			return "ERR Unknown node " + op.Node
		}
		s.CurrentEpoch++
		n.Epoch = s.CurrentEpoch
	default:
		return "ERR unknown cluster operation " + op.Kind
	}
	return ""
}

// replicate is OpReplicate, with CLUSTER REPLICATE's checks and texts
// (the "no keys" part is checked by the node itself before proposing).
func (s *State) replicate(op *Op) string {
	n, m, unknown := s.nodeAndTarget(op)
	switch {
	case unknown != "":
		return unknown
	case n == m:
		return "ERR Can't replicate myself"
	case m.Master != "":
		return "ERR I can only replicate a master, not a replica."
	}
	if n.Master == "" && s.ownsSlots(n.ID) {
		return "ERR To set a master the node must be empty and without assigned slots."
	}
	n.Master, n.MigrateTo = m.ID, false
	m.MigrateTo = true
	for _, r := range s.Nodes { // a master's replicas follow it
		if r.Master == n.ID {
			r.Master = m.ID
		}
	}
	delete(s.Migrating, n.ID)
	delete(s.Importing, n.ID)
	return ""
}

// failover is OpFailover: the replica Node is promoted in its master's
// place. Two replicas racing for one master cannot both win: the second
// entry finds its node a replica of the first.
func (s *State) failover(op *Op) string {
	n, m, unknown := s.nodeAndTarget(op)
	switch {
	case unknown != "":
		return unknown
	case n.Master != m.ID:
		return "ERR Failover refused: " + op.Node + " is not a replica of " + op.Target
	case op.Fail && !m.Fail:
		return "ERR Failover refused: the master " + op.Target + " is reachable again"
	}
	s.CurrentEpoch++
	n.Epoch = s.CurrentEpoch
	n.Master = ""
	n.Fail = false
	n.MigrateTo = true // it failed over a master that had replicas
	for i := range s.Owner {
		if s.Owner[i] == m.ID {
			s.Owner[i] = n.ID
		}
	}
	delete(s.Migrating, m.ID)
	delete(s.Importing, m.ID)
	for _, r := range s.Nodes {
		if r.Master == m.ID {
			r.Master = n.ID
		}
	}
	m.Master, m.MigrateTo = n.ID, false
	return ""
}

// nodeAndTarget returns op's Node and Target, or the error reply naming
// the first of them the configuration does not know.
func (s *State) nodeAndTarget(op *Op) (n, target *NodeInfo, unknown string) {
	n, target = s.Nodes[op.Node], s.Nodes[op.Target]
	switch {
	case n == nil:
		return nil, nil, "ERR Unknown node " + op.Node
	case target == nil:
		return nil, nil, "ERR Unknown node " + op.Target
	}
	return n, target, ""
}

// migrate is OpMigrate, Redis's clusterHandleSlaveMigration decided by
// the replica (Local.checkMigration) and checked again here against the
// configuration the entry applies to: a migration racing a failover, a
// CLUSTER REPLICATE or another migration is refused if it no longer
// holds.
func (s *State) migrate(op *Op) string {
	n, t, unknown := s.nodeAndTarget(op)
	switch {
	case unknown != "":
		return unknown
	case n.Master == "" || n.Master == t.ID:
		return "ERR Migration refused: " + op.Node + " is not a replica of another master"
	case s.WorkingReplicas(n.Master) <= op.Barrier:
		return "ERR Migration refused: its master would be left with too few replicas"
	case !s.Orphaned(t.ID):
		return "ERR Migration refused: " + op.Target + " is not an orphaned master"
	}
	n.Master = t.ID
	return ""
}

// WorkingReplicas returns how many replicas of master id are not flagged
// fail (Redis's clusterCountNonFailingSlaves).
func (s *State) WorkingReplicas(id string) int {
	c := 0
	for _, r := range s.Nodes {
		if r.Master == id && !r.Fail {
			c++
		}
	}
	return c
}

// Orphaned reports whether id is a master a replica may migrate to: not
// failing, serving slots, without a working replica, and one that had a
// replica (MigrateTo), as Redis's orphaned-master test.
func (s *State) Orphaned(id string) bool {
	n := s.Nodes[id]
	return n != nil && n.Master == "" && !n.Fail && n.MigrateTo && s.WorkingReplicas(id) == 0 && s.ownsSlots(id)
}

// ownsSlots reports whether node owns at least one slot.
func (s *State) ownsSlots(node string) bool {
	for i := range s.Owner {
		if s.Owner[i] == node {
			return true
		}
	}
	return false
}

// clearSlot forgets every node's migrating/importing state of slot.
func (s *State) clearSlot(slot int) {
	for _, m := range []map[string]map[int]string{s.Migrating, s.Importing} {
		for _, slots := range m {
			delete(slots, slot)
		}
	}
}

func setIn(m map[string]map[int]string, node string, slot int, peer string) {
	if m[node] == nil {
		m[node] = map[int]string{}
	}
	m[node][slot] = peer
}

// SlotsOf returns the slots node owns, ascending.
func (s *State) SlotsOf(node string) []int {
	var out []int
	for i := range s.Owner {
		if s.Owner[i] == node {
			out = append(out, i)
		}
	}
	return out
}

// stateJSON is State's encoding: slot owners as ranges per node.
type stateJSON struct {
	CurrentEpoch uint64                    `json:"current_epoch"`
	Nodes        map[string]*NodeInfo      `json:"nodes"`
	Ranges       map[string][][2]int       `json:"ranges"`
	Migrating    map[string]map[int]string `json:"migrating"`
	Importing    map[string]map[int]string `json:"importing"`
}

// MarshalJSON encodes s (raft snapshots).
func (s *State) MarshalJSON() ([]byte, error) {
	j := stateJSON{CurrentEpoch: s.CurrentEpoch, Nodes: s.Nodes, Ranges: map[string][][2]int{},
		Migrating: s.Migrating, Importing: s.Importing}
	for _, r := range Ranges(s.Owner[:], "") {
		j.Ranges[r.Node] = append(j.Ranges[r.Node], [2]int{r.Start, r.End})
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON encoded.
func (s *State) UnmarshalJSON(b []byte) error {
	var j stateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = *NewState()
	s.CurrentEpoch = j.CurrentEpoch
	if j.Nodes != nil {
		s.Nodes = j.Nodes
	}
	if j.Migrating != nil {
		s.Migrating = j.Migrating
	}
	if j.Importing != nil {
		s.Importing = j.Importing
	}
	for id, rs := range j.Ranges {
		for _, r := range rs {
			if r[0] < 0 || r[1] >= Slots || r[0] > r[1] {
				return fmt.Errorf("cluster state: bad slot range %v", r)
			}
			for i := r[0]; i <= r[1]; i++ {
				s.Owner[i] = id
			}
		}
	}
	return nil
}

// SlotRange is a run of consecutive slots with one owner.
type SlotRange struct {
	Node       string
	Start, End int
}

// Ranges returns the runs of owner, ascending; only node's when node is
// not "", else every assigned run.
func Ranges(owner []string, node string) []SlotRange {
	var out []SlotRange
	for i := 0; i < len(owner); {
		j := i
		for j+1 < len(owner) && owner[j+1] == owner[i] {
			j++
		}
		if owner[i] != "" && (node == "" || owner[i] == node) {
			out = append(out, SlotRange{owner[i], i, j})
		}
		i = j + 1
	}
	return out
}

// sortedIDs returns the node ids of s, sorted.
func (s *State) sortedIDs() []string {
	ids := make([]string, 0, len(s.Nodes))
	for id := range s.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
