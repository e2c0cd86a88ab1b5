package cluster

import (
	"strconv"
)

// Node is a node as one View shows it.
type Node struct {
	NodeInfo
	Myself bool
	// Addr is "endpoint:port", as MOVED and ASK give it: the endpoint of
	// the view's cluster-preferred-endpoint-type (Endpoint).
	Addr string
}

// Endpoint types (cluster-preferred-endpoint-type): what a node gives
// clients as another node's address.
const (
	EndpointIP       = iota // the IP
	EndpointHostname        // the hostname, "?" when it has none
	EndpointUnknown         // none: "" in redirections, null in CLUSTER SLOTS
)

// ParseEndpointType returns the endpoint type of a
// cluster-preferred-endpoint-type value (EndpointIP when unknown).
func ParseEndpointType(s string) int {
	switch s {
	case "hostname":
		return EndpointHostname
	case "unknown-endpoint":
		return EndpointUnknown
	}
	return EndpointIP
}

// Endpoint returns nd's endpoint as a node with endpoint type t gives
// it, Redis 7.0's getPreferredEndpoint: the IP, the hostname ("?" when
// none) or "" (unknown; CLUSTER SLOTS shows null).
func Endpoint(nd *Node, t int) string {
	switch t {
	case EndpointHostname:
		if nd.Hostname == "" {
			return "?"
		}
		return nd.Hostname
	case EndpointUnknown:
		return ""
	}
	return nd.IP
}

// View is an immutable snapshot of the configuration from one node's point
// of view: what the command path reads, without locks.
type View struct {
	State  *State // a private copy; never modified
	Myself *Node  // nil until the node is in the configuration
	Nodes  []*Node
	byID   map[string]*Node
	owner  [Slots]*Node
	// this node's MIGRATING and IMPORTING slots, and their peers
	migrating, importing map[int]*Node
	stable               bool // no slot MIGRATING or IMPORTING here
	assigned             int
	failing              int                // assigned slots whose owner is flagged fail
	replicas             map[string][]*Node // master id -> its replicas, by id
	// masterOfMine: this node's master when it is a replica (READONLY
	// reads of its slots are served here)
	masterOfMine *Node
	// Endpoint is this node's cluster-preferred-endpoint-type, which
	// the nodes' Addr follow (EndpointIP...).
	Endpoint int
}

// NewView builds the view of s from node myID; s must not change after.
func NewView(s *State, myID string) *View { return NewViewFor(s, myID, EndpointIP) }

// NewViewFor is NewView for a node with the endpoint type endpoint
// (cluster-preferred-endpoint-type): redirections give its endpoints.
func NewViewFor(s *State, myID string, endpoint int) *View {
	v := &View{State: s, byID: map[string]*Node{}, migrating: map[int]*Node{}, importing: map[int]*Node{},
		replicas: map[string][]*Node{}, Endpoint: endpoint}
	for _, id := range s.sortedIDs() {
		n := &Node{NodeInfo: *s.Nodes[id], Myself: id == myID}
		n.Addr = Endpoint(n, endpoint) + ":" + strconv.Itoa(n.Port)
		v.Nodes = append(v.Nodes, n)
		v.byID[id] = n
		if n.Myself {
			v.Myself = n
		}
	}
	for _, n := range v.Nodes { // sorted by id: so are the replicas
		if n.Master != "" && v.byID[n.Master] != nil {
			v.replicas[n.Master] = append(v.replicas[n.Master], n)
		}
	}
	if v.Myself != nil && v.Myself.Master != "" {
		v.masterOfMine = v.byID[v.Myself.Master]
	}
	for i, id := range s.Owner {
		if id != "" {
			v.owner[i] = v.byID[id]
			v.assigned++
			if v.owner[i].Fail && !v.owner[i].Myself {
				v.failing++
			}
		}
	}
	for sl, peer := range s.Migrating[myID] {
		if p := v.byID[peer]; p != nil {
			v.migrating[sl] = p
		}
	}
	for sl, peer := range s.Importing[myID] {
		if p := v.byID[peer]; p != nil {
			v.importing[sl] = p
		}
	}
	v.stable = len(v.migrating) == 0 && len(v.importing) == 0
	return v
}

// Node returns the node with id, or nil.
func (v *View) Node(id string) *Node { return v.byID[id] }

// Replicas returns the replicas of the master with id, sorted by id.
func (v *View) Replicas(id string) []*Node { return v.replicas[id] }

// MasterOf returns the master nd replicates, or nil (a master, or a
// master this view does not know).
func (v *View) MasterOf(nd *Node) *Node {
	if nd == nil || nd.Master == "" {
		return nil
	}
	return v.byID[nd.Master]
}

// Owner returns the owner of slot, or nil.
func (v *View) Owner(slot int) *Node { return v.owner[slot] }

// Assigned returns the number of assigned slots.
func (v *View) Assigned() int { return v.assigned }

// FailingSlots returns the number of assigned slots whose owner is
// flagged fail (cluster_slots_fail).
func (v *View) FailingSlots() int { return v.failing }

// Migrating returns the target of a slot this node migrates, or nil.
func (v *View) Migrating(slot int) *Node { return v.migrating[slot] }

// Importing returns the source of a slot this node imports, or nil.
func (v *View) Importing(slot int) *Node { return v.importing[slot] }

// Size returns the number of nodes serving at least one slot.
func (v *View) Size() int {
	seen := map[*Node]bool{}
	for _, n := range v.owner {
		if n != nil {
			seen[n] = true
		}
	}
	return len(seen)
}

// Error replies of the routing decision (Redis's cluster.c).
const (
	ErrCrossSlot      = "CROSSSLOT Keys in request don't hash to the same slot"
	ErrTryAgain       = "TRYAGAIN Multiple keys request during rehashing of slot"
	ErrDown           = "CLUSTERDOWN The cluster is down"
	ErrDownRO         = "CLUSTERDOWN The cluster is down and only accepts read commands"
	ErrDownUnbound    = "CLUSTERDOWN Hash slot not served"
	ErrScriptNonLocal = "ERR Script attempted to access a non local key in a cluster node"
	// ErrNotMaster: SETSLOT MIGRATING, IMPORTING or NODE to a replica.
	ErrNotMaster = "ERR Target node is not a master"
	// ErrScriptCrossSlot: a script without allow-cross-slot-keys (a
	// shebang script or a function) touched a second slot.
	ErrScriptCrossSlot = "ERR Script attempted to access keys that do not hash to the same slot"
	ErrScriptDown      = "ERR Script attempted to execute a command while the cluster is down"
	ErrScriptDownRO    = "ERR Script attempted to execute a write command while the cluster is down and readonly"
)

// Redirect kinds, as Redis's CLUSTER_REDIR_* codes.
const (
	RedirNone = iota
	RedirCrossSlot
	RedirUnstable
	RedirAsk
	RedirMoved
	RedirDownState
	RedirDownROState
	RedirDownUnbound
)

// Query is one command (or a transaction's commands) to route.
type Query struct {
	// Keys are the command's keys (every queued command's for EXEC).
	Keys [][]byte
	// Write: a write command (or a transaction with one).
	Write bool
	// Asking: the client sent ASKING, or the command has the asking
	// flag.
	Asking bool
	// Migrate: the command is MIGRATE (served by the node that has the
	// slot in MIGRATING or IMPORTING state).
	Migrate bool
	// ReadOnly: the client sent READONLY (a replica then serves reads
	// of its master's slots).
	ReadOnly bool
	// Exists reports whether a key exists here (db 0); consulted only
	// for slots being migrated or imported.
	Exists func(key []byte) bool
}

// Route decides where q must run, as Redis's getNodeByQuery: the redirect
// kind (RedirNone: here), the slot (-1 without keys) and the node of a
// MOVED or ASK redirection. ok reports whether the cluster state is ok.
func (v *View) Route(q *Query, ok, readsWhenDown bool) (kind, slot int, to *Node) {
	if len(q.Keys) == 1 && ok && v.stable { // the common case: one key, no migration
		s := KeySlot(q.Keys[0])
		if n := v.owner[s]; n != nil && n == v.Myself {
			return RedirNone, s, n
		}
	}
	slot = -1
	var n *Node
	var first []byte
	migrating, importing, multiple := false, false, false
	missing := 0
	for _, k := range q.Keys {
		s := KeySlot(k)
		if first == nil {
			first, slot = k, s
			n = v.owner[s]
			if n == nil {
				return RedirDownUnbound, s, nil
			}
			if n == v.Myself && v.migrating[s] != nil {
				migrating = true
			} else if v.importing[s] != nil {
				importing = true
			}
		} else if string(k) != string(first) {
			if s != slot {
				return RedirCrossSlot, slot, nil
			}
			multiple = true
		}
		if (migrating || importing) && q.Exists != nil && !q.Exists(k) {
			missing++
		}
	}
	if n == nil {
		return RedirNone, slot, v.Myself
	}
	if !ok {
		if !readsWhenDown {
			return RedirDownState, slot, nil
		}
		if q.Write {
			return RedirDownROState, slot, nil
		}
	}
	if (migrating || importing) && q.Migrate {
		return RedirNone, slot, v.Myself
	}
	if migrating && missing > 0 {
		return RedirAsk, slot, v.migrating[slot]
	}
	if importing && q.Asking {
		if multiple && missing > 0 {
			return RedirUnstable, slot, nil
		}
		return RedirNone, slot, v.Myself
	}
	// a READONLY client reading, on a replica, a slot of its master
	if q.ReadOnly && !q.Write && n == v.masterOfMine && n != nil {
		return RedirNone, slot, v.Myself
	}
	if n != v.Myself {
		return RedirMoved, slot, n
	}
	return RedirNone, slot, v.Myself
}

// Reply returns the error reply of a redirection ("" for RedirNone).
func Reply(kind, slot int, to *Node) string {
	switch kind {
	case RedirCrossSlot:
		return ErrCrossSlot
	case RedirUnstable:
		return ErrTryAgain
	case RedirDownState:
		return ErrDown
	case RedirDownROState:
		return ErrDownRO
	case RedirDownUnbound:
		return ErrDownUnbound
	case RedirMoved:
		return "MOVED " + strconv.Itoa(slot) + " " + to.Addr
	case RedirAsk:
		return "ASK " + strconv.Itoa(slot) + " " + to.Addr
	}
	return ""
}
