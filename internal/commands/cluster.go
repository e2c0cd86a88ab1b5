package commands

// Cluster commands: CLUSTER and its subcommands, ASKING, READONLY and
// READWRITE. With cluster-enabled no they answer as Redis does without
// cluster mode; with it they are served from the replicated configuration
// (internal/cluster, docs/design/cluster.md).

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
)

// errClusterDisabled is Redis's reply to cluster commands without cluster
// mode.
const errClusterDisabled = "ERR This instance has cluster support disabled"

func (h *Handlers) registerCluster() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	all := command.WithLock(command.LockAll)
	on := func(fn func(c *command.Ctx, n *cluster.Local)) func(c *command.Ctx) {
		return func(c *command.Ctx) {
			if h.Cluster == nil {
				c.Error(errClusterDisabled)
				return
			}
			fn(c, h.Cluster)
		}
	}
	disabled := func(c *command.Ctx) { c.Error(errClusterDisabled) }
	for _, sub := range t.Find("cluster").Subs {
		t.Handle(sub.Name, disabled, none)
	}
	for name, fn := range map[string]func(*command.Ctx, *cluster.Local){
		"cluster|myid":                  func(c *command.Ctx, n *cluster.Local) { c.W.BulkString(n.ID()) },
		"cluster|info":                  h.clusterInfo,
		"cluster|nodes":                 h.clusterNodes,
		"cluster|slots":                 h.clusterSlots,
		"cluster|shards":                h.clusterShards,
		"cluster|links":                 h.clusterLinks,
		"cluster|keyslot":               func(c *command.Ctx, _ *cluster.Local) { c.W.Int(int64(cluster.KeySlot(c.Args[2]))) },
		"cluster|addslots":              h.clusterAddSlots,
		"cluster|delslots":              h.clusterAddSlots,
		"cluster|addslotsrange":         h.clusterAddSlots,
		"cluster|delslotsrange":         h.clusterAddSlots,
		"cluster|flushslots":            h.clusterFlushSlots,
		"cluster|setslot":               h.clusterSetSlot,
		"cluster|meet":                  h.clusterMeet,
		"cluster|forget":                h.clusterForget,
		"cluster|reset":                 h.clusterReset,
		"cluster|set-config-epoch":      h.clusterSetConfigEpoch,
		"cluster|bumpepoch":             h.clusterBumpEpoch,
		"cluster|count-failure-reports": h.clusterNodeArg(func(c *command.Ctx) { c.W.Int(0) }),
		"cluster|replicas":              h.clusterReplicas,
		"cluster|slaves":                h.clusterReplicas,
		"cluster|saveconfig":            func(c *command.Ctx, _ *cluster.Local) { c.W.OK() },
		"cluster|help":                  func(c *command.Ctx, _ *cluster.Local) { writeHelp(c, clusterHelp) },
		"cluster|failover":              h.clusterFailover,
		"cluster|replicate":             h.clusterReplicate,
		"asking":                        func(c *command.Ctx, _ *cluster.Local) { c.Client.Flags |= command.ClientAsking; c.W.OK() },
		"readonly":                      func(c *command.Ctx, _ *cluster.Local) { c.Client.Flags |= command.ClientReadOnly; c.W.OK() },
		"readwrite":                     func(c *command.Ctx, _ *cluster.Local) { c.Client.Flags &^= command.ClientReadOnly; c.W.OK() },
	} {
		t.Handle(name, on(fn), none)
	}
	t.Handle("cluster|countkeysinslot", on(h.clusterCountKeys), all)
	t.Handle("cluster|getkeysinslot", on(h.clusterGetKeys), all)
}

// clusterNodeArg serves a subcommand whose argument is a known node id.
func (h *Handlers) clusterNodeArg(fn func(c *command.Ctx)) func(*command.Ctx, *cluster.Local) {
	return func(c *command.Ctx, n *cluster.Local) {
		if n.View().Node(string(c.Args[2])) == nil {
			c.Error("ERR Unknown node " + string(c.Args[2]))
			return
		}
		fn(c)
	}
}

// clusterReply writes the outcome of a proposed change.
func clusterReply(c *command.Ctx, reply string, err error) {
	switch {
	case err != nil:
		msg := err.Error()
		if !strings.HasPrefix(msg, "ERR ") && !strings.HasPrefix(msg, "CLUSTERDOWN ") {
			msg = "ERR " + msg
		}
		c.Error(msg)
	case reply != "":
		c.Error(reply)
	default:
		c.W.OK()
	}
}

func (h *Handlers) clusterInfo(c *command.Ctx, n *cluster.Local) {
	v := n.View()
	state := "fail"
	if n.StateOK() {
		state = "ok"
	}
	var myEpoch uint64
	if v.Myself != nil {
		myEpoch = v.Myself.Epoch
	}
	lines := []string{
		"cluster_state:" + state,
		"cluster_slots_assigned:" + strconv.Itoa(v.Assigned()),
		"cluster_slots_ok:" + strconv.Itoa(v.Assigned()-v.FailingSlots()),
		"cluster_slots_pfail:0",
		"cluster_slots_fail:" + strconv.Itoa(v.FailingSlots()),
		"cluster_known_nodes:" + strconv.Itoa(len(v.Nodes)),
		"cluster_size:" + strconv.Itoa(v.Size()),
		"cluster_current_epoch:" + strconv.FormatUint(v.State.CurrentEpoch, 10),
		"cluster_my_epoch:" + strconv.FormatUint(myEpoch, 10),
		"cluster_stats_messages_sent:0",
		"cluster_stats_messages_received:0",
		"total_cluster_links_buffer_limit_exceeded:0",
	}
	c.W.Verbatim("txt", strings.Join(lines, "\r\n")+"\r\n")
}

func (h *Handlers) clusterNodes(c *command.Ctx, n *cluster.Local) {
	var b strings.Builder
	for _, l := range n.View().NodesLines(time.Now().UnixMilli()) {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	c.W.Verbatim("txt", b.String())
}

// clusterSlots is CLUSTER SLOTS: one entry per run of slots with one
// owner, ascending.
func (h *Handlers) clusterSlots(c *command.Ctx, n *cluster.Local) {
	v := n.View()
	rs := cluster.Ranges(v.State.Owner[:], "")
	c.W.Array(len(rs))
	for _, r := range rs {
		nd := v.Node(r.Node)
		var reps []*cluster.Node
		for _, rp := range v.Replicas(nd.ID) {
			if !rp.Fail { // Redis leaves failed replicas out
				reps = append(reps, rp)
			}
		}
		c.W.Array(3 + len(reps))
		c.W.Int(int64(r.Start))
		c.W.Int(int64(r.End))
		for _, x := range append([]*cluster.Node{nd}, reps...) {
			slotsNode(c, x, v.Endpoint)
		}
	}
}

// slotsNode writes one node of a CLUSTER SLOTS entry as Redis 7.0's
// addNodeToNodeReply: the endpoint of the preferred type (null for
// unknown-endpoint), the port, the id, then what the endpoint did not
// give: the IP unless it is the IP, the hostname (when the node has one)
// unless it is the hostname.
func slotsNode(c *command.Ctx, x *cluster.Node, endpoint int) {
	c.W.Array(4)
	if endpoint == cluster.EndpointUnknown {
		c.W.Null()
	} else {
		c.W.BulkString(cluster.Endpoint(x, endpoint))
	}
	c.W.Int(int64(x.Port))
	c.W.BulkString(x.ID)
	ip := endpoint != cluster.EndpointIP
	host := endpoint != cluster.EndpointHostname && x.Hostname != ""
	n := 0
	if ip {
		n++
	}
	if host {
		n++
	}
	c.W.Map(n)
	if ip {
		c.W.BulkString("ip")
		c.W.BulkString(x.IP)
	}
	if host {
		c.W.BulkString("hostname")
		c.W.BulkString(x.Hostname)
	}
}

// clusterShards is CLUSTER SHARDS: one shard per master (with or
// without slots), its nodes the master then its replicas.
func (h *Handlers) clusterShards(c *command.Ctx, n *cluster.Local) {
	v := n.View()
	var masters []*cluster.Node
	for _, nd := range v.Nodes {
		if v.MasterOf(nd) == nil {
			masters = append(masters, nd)
		}
	}
	c.W.Array(len(masters))
	for _, nd := range masters {
		c.W.Map(2)
		c.W.BulkString("slots")
		rs := cluster.Ranges(v.State.Owner[:], nd.ID)
		c.W.Array(2 * len(rs))
		for _, r := range rs {
			c.W.Int(int64(r.Start))
			c.W.Int(int64(r.End))
		}
		c.W.BulkString("nodes")
		reps := v.Replicas(nd.ID)
		c.W.Array(1 + len(reps))
		for _, x := range append([]*cluster.Node{nd}, reps...) {
			if x.Hostname != "" {
				c.W.Map(8)
			} else {
				c.W.Map(7)
			}
			c.W.BulkString("id")
			c.W.BulkString(x.ID)
			c.W.BulkString("port")
			c.W.Int(int64(x.Port))
			c.W.BulkString("ip")
			c.W.BulkString(x.IP)
			c.W.BulkString("endpoint")
			c.W.BulkString(cluster.Endpoint(x, v.Endpoint)) // "" for unknown-endpoint
			if x.Hostname != "" {
				c.W.BulkString("hostname")
				c.W.BulkString(x.Hostname)
			}
			c.W.BulkString("role")
			if x == nd {
				c.W.BulkString("master")
			} else {
				c.W.BulkString("replica")
			}
			c.W.BulkString("replication-offset")
			var off int64 // other nodes' offsets are not exchanged
			if x.Myself && h.Repl != nil {
				off = h.Repl.ReplOffset()
			}
			c.W.Int(off)
			c.W.BulkString("health")
			if x.Fail {
				c.W.BulkString("fail")
			} else {
				c.W.BulkString("online")
			}
		}
	}
}

// clusterLinks is CLUSTER LINKS: the two links Redis keeps with each
// other node (raft's connections stand for them).
func (h *Handlers) clusterLinks(c *command.Ctx, n *cluster.Local) {
	v := n.View()
	others := len(v.Nodes) - 1
	if v.Myself == nil {
		others = len(v.Nodes)
	}
	c.W.Array(2 * others)
	for _, nd := range v.Nodes {
		if nd.Myself {
			continue
		}
		for _, dir := range []string{"to", "from"} {
			c.W.Map(6)
			c.W.BulkString("direction")
			c.W.BulkString(dir)
			c.W.BulkString("node")
			c.W.BulkString(nd.ID)
			c.W.BulkString("create-time")
			c.W.Int(h.Started.UnixMilli())
			c.W.BulkString("events")
			c.W.BulkString("r")
			c.W.BulkString("send-buffer-allocated")
			c.W.Int(0)
			c.W.BulkString("send-buffer-used")
			c.W.Int(0)
		}
	}
}

// parseSlot is getSlotOrReply.
func parseSlot(b []byte) (int, bool) {
	n, ok := ParseInt(b)
	if !ok || n < 0 || n >= cluster.Slots {
		return 0, false
	}
	return int(n), true
}

const errBadSlot = "ERR Invalid or out of range slot"

// clusterAddSlots is ADDSLOTS, DELSLOTS and their RANGE forms.
func (h *Handlers) clusterAddSlots(c *command.Ctx, n *cluster.Local) {
	name := c.Spec.Name // cluster|addslots...
	ranged := strings.HasSuffix(name, "range")
	args := c.Args[2:]
	if ranged && len(args)%2 != 0 {
		c.Error(WrongArityFor(name))
		return
	}
	var seen [cluster.Slots]bool
	var slots []int
	if ranged {
		for i := 0; i < len(args); i += 2 {
			a, ok1 := parseSlot(args[i])
			b, ok2 := parseSlot(args[i+1])
			if !ok1 || !ok2 {
				c.Error(errBadSlot)
				return
			}
			if a > b {
				c.Error("ERR start slot number " + strconv.Itoa(a) + " is greater than end slot number " + strconv.Itoa(b))
				return
			}
			for s := a; s <= b; s++ {
				slots = append(slots, s)
			}
		}
	} else {
		for _, a := range args {
			s, ok := parseSlot(a)
			if !ok {
				c.Error(errBadSlot)
				return
			}
			slots = append(slots, s)
		}
	}
	// Redis checks the current owners before duplicates
	v := n.View()
	del := strings.HasPrefix(name, "cluster|del")
	for _, s := range slots {
		if del && v.Owner(s) == nil {
			c.Error("ERR Slot " + strconv.Itoa(s) + " is already unassigned")
			return
		}
		if !del && v.Owner(s) != nil {
			c.Error("ERR Slot " + strconv.Itoa(s) + " is already busy")
			return
		}
		if seen[s] {
			c.Error("ERR Slot " + strconv.Itoa(s) + " specified multiple times")
			return
		}
		seen[s] = true
	}
	op := &cluster.Op{Kind: cluster.OpAddSlots, Node: n.ID(), Slots: slots}
	if del {
		op.Kind = cluster.OpDelSlots
	}
	reply, err := n.Propose(op)
	clusterReply(c, reply, err)
}

// WrongArityFor is the arity error of a command or subcommand name.
func WrongArityFor(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

func (h *Handlers) clusterFlushSlots(c *command.Ctx, n *cluster.Local) {
	if h.keysInDB0() != 0 {
		c.Error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
		return
	}
	reply, err := n.Propose(&cluster.Op{Kind: cluster.OpFlush, Node: n.ID()})
	clusterReply(c, reply, err)
}

// keysInDB0 counts db 0's keys (the cluster's only database).
func (h *Handlers) keysInDB0() int {
	h.Store.LockAll()
	defer h.Store.UnlockAll()
	return h.Store.DB(0, time.Now().UnixMilli()).Size()
}

func (h *Handlers) clusterCountKeys(c *command.Ctx, n *cluster.Local) {
	s, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if s < 0 || s >= cluster.Slots {
		c.Error("ERR Invalid slot")
		return
	}
	c.W.Int(int64(h.Store.DB(0, c.DB.Now).CountKeysInSlot(int(s), cluster.KeySlot)))
}

func (h *Handlers) clusterGetKeys(c *command.Ctx, n *cluster.Local) {
	s, ok1 := ParseInt(c.Args[2])
	max, ok2 := ParseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.Error(ErrNotInt)
		return
	}
	if max < 0 || s < 0 || s >= cluster.Slots {
		c.Error("ERR Invalid slot or number of keys")
		return
	}
	keys := h.Store.DB(0, c.DB.Now).KeysInSlot(int(s), int(min(max, 1<<31)), cluster.KeySlot)
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

const errSetSlotSyntax = "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"

func (h *Handlers) clusterSetSlot(c *command.Ctx, n *cluster.Local) {
	slot, ok := parseSlot(c.Args[2])
	if !ok {
		c.Error(errBadSlot)
		return
	}
	action := strings.ToLower(string(c.Args[3]))
	op := &cluster.Op{Node: n.ID(), Slot: slot}
	switch {
	case action == "migrating" && len(c.Args) == 5:
		op.Kind, op.Target = cluster.OpMigrating, string(c.Args[4])
	case action == "importing" && len(c.Args) == 5:
		op.Kind, op.Target = cluster.OpImporting, string(c.Args[4])
	case action == "stable" && len(c.Args) == 4:
		op.Kind = cluster.OpStable
	case action == "node" && len(c.Args) == 5:
		op.Kind, op.Target = cluster.OpSetNode, string(c.Args[4])
		v := n.View()
		if v.Node(op.Target) == nil {
			c.Error("ERR Unknown node " + op.Target)
			return
		}
		if v.Node(op.Target).Master != "" {
			c.Error(cluster.ErrNotMaster)
			return
		}
		if o := v.Owner(slot); o != nil && o == v.Myself && op.Target != n.ID() {
			h.Store.LockAll()
			cnt := h.Store.DB(0, time.Now().UnixMilli()).CountKeysInSlot(slot, cluster.KeySlot)
			h.Store.UnlockAll()
			if cnt != 0 {
				c.Error("ERR Can't assign hashslot " + strconv.Itoa(slot) +
					" to a different node while I still hold keys for this hash slot.")
				return
			}
		}
	default:
		c.Error(errSetSlotSyntax)
		return
	}
	o := n.View().Owner(slot)
	mine := op.Kind == cluster.OpSetNode && op.Target == n.ID() && o != nil && o.Myself
	reply, err := n.Propose(op)
	if mine && reply == "" && err == nil && h.PubSub != nil {
		// Redis's SETSLOT NODE deletes the slot and adds it again: the
		// owner given its own slot unsubscribes the slot's shard
		// channels all the same (clusterDelSlot)
		h.PubSub.DropShardChannels(h.PubSub.ShardChannelsInSlots([]int{slot}, cluster.KeySlot))
	}
	clusterReply(c, reply, err)
}

func (h *Handlers) clusterMeet(c *command.Ctx, n *cluster.Local) {
	if len(c.Args) > 5 {
		c.Error(UnknownSubcommandOf(c))
		return
	}
	port, ok := ParseInt(c.Args[3])
	if !ok {
		c.Error("ERR Invalid TCP base port specified: " + string(c.Args[3]))
		return
	}
	bus := port + 10000
	if len(c.Args) == 5 {
		if bus, ok = ParseInt(c.Args[4]); !ok {
			c.Error("ERR Invalid TCP bus port specified: " + string(c.Args[4]))
			return
		}
	}
	ip := net.ParseIP(string(c.Args[2]))
	if ip == nil || port <= 0 || port > 65535 || bus <= 0 || bus > 65535 {
		c.Error("ERR Invalid node address specified: " + string(c.Args[2]) + ":" + string(c.Args[3]))
		return
	}
	clusterReply(c, "", n.Meet(ip.String(), int(port), int(bus)))
}

// UnknownSubcommandOf is the error of a CLUSTER subcommand with a wrong
// number of arguments (Redis 7.0's addReplySubcommandSyntaxError).
func UnknownSubcommandOf(c *command.Ctx) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try CLUSTER HELP."
}

func (h *Handlers) clusterForget(c *command.Ctx, n *cluster.Local) {
	id := string(c.Args[2])
	if id == n.ID() {
		c.Error("ERR I tried hard but I can't forget myself...")
		return
	}
	if n.View().Node(id) == nil {
		c.Error("ERR Unknown node " + id)
		return
	}
	reply, err := n.Propose(&cluster.Op{Kind: cluster.OpForget, Target: id})
	clusterReply(c, reply, err)
}

func (h *Handlers) clusterReset(c *command.Ctx, n *cluster.Local) {
	hard := false
	if len(c.Args) == 3 {
		switch strings.ToLower(string(c.Args[2])) {
		case "hard":
			hard = true
		case "soft":
		default:
			c.Error(ErrSyntax)
			return
		}
	} else if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if v := n.View(); v.Myself != nil && v.Myself.Master != "" {
		// a replica becomes an empty master (cluster_repl.go)
		h.resetReplica()
	} else if h.keysInDB0() != 0 {
		c.Error("ERR CLUSTER RESET can't be called with master nodes containing keys")
		return
	}
	clusterReply(c, "", n.Reset(hard))
}

func (h *Handlers) clusterSetConfigEpoch(c *command.Ctx, n *cluster.Local) {
	e, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if e < 0 {
		c.Error("ERR Invalid config epoch specified: " + strconv.FormatInt(e, 10))
		return
	}
	v := n.View()
	if len(v.Nodes) > 1 {
		c.Error("ERR The user can assign a config epoch only when the node does not know any other node.")
		return
	}
	if v.Myself != nil && v.Myself.Epoch != 0 {
		c.Error("ERR Node config epoch is already non-zero")
		return
	}
	reply, err := n.Propose(&cluster.Op{Kind: cluster.OpEpoch, Node: n.ID(), Epoch: uint64(e)})
	clusterReply(c, reply, err)
}

// clusterBumpEpoch is CLUSTER BUMPEPOCH: a new config epoch unless this
// node's is already the greatest and not zero.
func (h *Handlers) clusterBumpEpoch(c *command.Ctx, n *cluster.Local) {
	v := n.View()
	if v.Myself != nil && v.Myself.Epoch != 0 && v.Myself.Epoch == v.State.CurrentEpoch {
		c.W.Simple("STILL " + strconv.FormatUint(v.Myself.Epoch, 10))
		return
	}
	reply, err := n.Propose(&cluster.Op{Kind: cluster.OpBumpEpoch, Node: n.ID()})
	if err != nil || reply != "" {
		clusterReply(c, reply, err)
		return
	}
	e := uint64(0)
	if me := n.View().Myself; me != nil {
		e = me.Epoch
	}
	c.W.Simple("BUMPED " + strconv.FormatUint(e, 10))
}

var clusterHelp = []string{
	"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ADDSLOTS <slot> [<slot> ...]",
	"    Assign slots to current node.",
	"ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
	"    Assign slots which are between <start-slot> and <end-slot> to current node.",
	"BUMPEPOCH",
	"    Advance the cluster config epoch.",
	"COUNT-FAILURE-REPORTS <node-id>",
	"    Return number of failure reports for <node-id>.",
	"COUNTKEYSINSLOT <slot>",
	"    Return the number of keys in <slot>.",
	"DELSLOTS <slot> [<slot> ...]",
	"    Delete slots information from current node.",
	"DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
	"    Delete slots information which are between <start-slot> and <end-slot> from current node.",
	"FAILOVER [FORCE|TAKEOVER]",
	"    Promote current replica node to being a master.",
	"FORGET <node-id>",
	"    Remove a node from the cluster.",
	"GETKEYSINSLOT <slot> <count>",
	"    Return key names stored by current node in a slot.",
	"FLUSHSLOTS",
	"    Delete current node own slots information.",
	"INFO",
	"    Return information about the cluster.",
	"KEYSLOT <key>",
	"    Return the hash slot for <key>.",
	"MEET <ip> <port> [<bus-port>]",
	"    Connect nodes into a working cluster.",
	"MYID",
	"    Return the node id.",
	"NODES",
	"    Return cluster configuration seen by node. Output format:",
	"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"REPLICATE <node-id>",
	"    Configure current node as replica to <node-id>.",
	"RESET [HARD|SOFT]",
	"    Reset current node (default: soft).",
	"SET-CONFIG-EPOCH <epoch>",
	"    Set config epoch of current node.",
	"SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
	"    Set slot state.",
	"REPLICAS <node-id>",
	"    Return <node-id> replicas.",
	"SAVECONFIG",
	"    Force saving cluster configuration on disk.",
	"SLOTS",
	"    Return information about slots range mappings. Each range is made of:",
	"    start, end, master and replicas IP addresses, ports and ids",
	"SHARDS",
	"    Return information about slot range mappings and the nodes associated with them.",
	"LINKS",
	"    Return information about all network links between this node and its peers.",
	"    Output format is an array where each array element is a map containing attributes of a link",
	"HELP",
	"    Prints this help.",
}
