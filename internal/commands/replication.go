package commands

// Replication commands. As a master, replicas (a Redis 7.0 replica,
// redis-cli --rdb) attach with SYNC or PSYNC, a partial resynchronization
// from the backlog when it holds their offset (TryPartialSync), else a
// full one (persist.Manager.FullSync), then get the stream of write
// commands and acknowledge it with REPLCONF ACK; WAIT counts their
// acknowledgements. REPLICAOF host port makes the server a replica
// (persist.Manager.ReplicaOf); REPLICAOF NO ONE a master again.

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/persist"
	"github.com/crescent-db/crescent/internal/resp"
)

// Replication is replication, both sides (persist.Manager).
type Replication interface {
	FullSync(cl *command.Client, conn net.Conn, psync, rdbOnly bool, filter command.RDBRequest, listeningPort int, ip string) error
	TryPartialSync(cl *command.Client, conn net.Conn, replid string, offset int64, psync2 bool, listeningPort int, ip string) (bool, error)
	SyncRefused() string
	SyncStats() (full, partialOK, partialErr int64)
	ReplicaOf(host string, port int)
	ReplicaOfNoOne()
	IsReplica() (host string, port int, ok bool)
	ReplicaRole() (state string, offset int64)
	MasterClient() *command.Client
	ReplID() string
	ChangeReplID()
	// ReplicateRaw sends cmd down the replication stream as it is (DEBUG
	// REPLICATE).
	ReplicateRaw(cl *command.Client, cmd [][]byte)
	Failover(req persist.FailoverRequest) error
	AbortFailover() error
	ReplicaAck(cl *command.Client, off int64) bool
	AckedReplicas(off int64) (n int, wake <-chan struct{})
	RequestAcks()
	ReplOffset() int64
	MasterDataAge() (time.Duration, bool)
	Replicas() []persist.ReplicaInfo
	ReplicationInfo() []string
}

const (
	errInvalidMasterPort = "ERR Invalid master port"
	// errNoSync answers SYNC and PSYNC where replication is not wired.
	errNoSync = "ERR SYNC and PSYNC are not supported here"
	// netHostStrLen is Redis's NET_HOST_STR_LEN (REPLCONF ip-address).
	netHostStrLen = 256
	// replExtra is the Client.Extra key of a client's REPLCONF settings.
	replExtra = "replconf"
)

// replConf is what a (future) replica told with REPLCONF before SYNC.
type replConf struct {
	port    int
	ip      string
	rdbOnly bool
	psync2  bool // capa psync2: +CONTINUE names the replication id
	filter  command.RDBRequest
}

func replConfOf(cl *command.Client) *replConf {
	if cl == nil {
		return &replConf{}
	}
	if rc, ok := cl.Extra[replExtra].(*replConf); ok {
		return rc
	}
	if cl.Extra == nil {
		cl.Extra = map[string]any{}
	}
	rc := &replConf{}
	cl.Extra[replExtra] = rc
	return rc
}

func (h *Handlers) registerReplication() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("role", h.role, none)
	t.Handle("wait", h.wait, none)
	t.Handle("replicaof", h.replicaOf, none)
	t.Handle("slaveof", h.replicaOf, none)
	t.Handle("failover", h.failover, none)
	t.Handle("psync", h.sync, none)
	t.Handle("sync", h.sync, none)
	t.Handle("replconf", h.replconf, none)
}

// role implements ROLE: master, the replication offset and, for each
// replica, its address, listening port and acknowledged offset.
func (h *Handlers) role(c *command.Ctx) {
	if h.Repl != nil {
		if host, port, ok := h.Repl.IsReplica(); ok {
			// slave, the master's address, the link's state, the offset
			state, off := h.Repl.ReplicaRole()
			c.W.Array(5)
			c.W.BulkString("slave")
			c.W.BulkString(host)
			c.W.Int(int64(port))
			c.W.BulkString(state)
			c.W.Int(off)
			return
		}
	}
	c.W.Array(3)
	c.W.BulkString("master")
	if h.Repl == nil {
		c.W.Int(0)
		c.W.Array(0)
		return
	}
	c.W.Int(h.Repl.ReplOffset())
	// the online replicas only, as Redis's roleCommand
	var reps []persist.ReplicaInfo
	for _, r := range h.Repl.Replicas() {
		if r.State == "online" {
			reps = append(reps, r)
		}
	}
	c.W.Array(len(reps))
	for _, r := range reps {
		c.W.Array(3)
		c.W.BulkString(r.IP)
		c.W.BulkString(strconv.Itoa(r.Port))
		c.W.BulkString(strconv.FormatInt(r.Offset, 10))
	}
}

// isReplica reports whether the server replicates a master.
func (h *Handlers) isReplica() bool {
	if h.Repl == nil {
		return false
	}
	_, _, ok := h.Repl.IsReplica()
	return ok
}

// wait implements WAIT numreplicas timeout: the number of replicas that
// acknowledged the stream up to the client's last write. It answers at
// once when that reaches numreplicas, numreplicas <= 0 or inside MULTI;
// otherwise it asks the replicas for an acknowledgement (REPLCONF GETACK)
// and blocks the client until enough arrive, the timeout (0: forever) or
// CLIENT UNBLOCK, then answers the count.
func (h *Handlers) wait(c *command.Ctx) {
	if h.isReplica() {
		c.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	n, ok := ParseInt(c.Args[1])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	deadline, ok := parseTimeoutMs(c, c.Args[2])
	if !ok {
		return
	}
	acked := func() (int64, <-chan struct{}) {
		if h.Repl == nil {
			return 0, nil
		}
		k, wake := h.Repl.AckedReplicas(c.Client.ReplOffset.Load())
		return int64(k), wake
	}
	k, wake := acked()
	if k >= n || !canBlock(c) {
		c.W.Int(k)
		return
	}
	if h.Repl != nil && !c.Retry {
		h.requestAcks()
	}
	block(c, command.BlockNone, nil, deadline, func(w resp.ReplyWriter) {
		k, _ := acked()
		w.Int(k)
	})
	c.Block.Wake = wake
}

// replicaOf implements REPLICAOF (and SLAVEOF), as Redis 7.0: NO ONE
// makes a replica a master again (keeping its data); host port starts the
// link to a master in the background and answers at once.
func (h *Handlers) replicaOf(c *command.Ctx) {
	if h.Cluster != nil { // cluster mode: CLUSTER REPLICATE (cluster_repl.go)
		c.Error("ERR REPLICAOF not allowed in cluster mode.")
		return
	}
	if EqualFold(c.Args[1], "no") && EqualFold(c.Args[2], "one") {
		if h.Repl != nil {
			h.Repl.ReplicaOfNoOne()
		}
		c.W.OK()
		return
	}
	if c.Client != nil && c.Client.Flags&command.ClientReplica != 0 {
		c.Error("ERR Command is not valid when client is a replica.")
		return
	}
	port, ok := ParseInt(c.Args[2])
	if !ok || port < 0 || port > 65535 {
		c.Error(errInvalidMasterPort)
		return
	}
	if h.Repl == nil {
		c.Error("ERR replication is not available here")
		return
	}
	host := string(c.Args[1])
	if mh, mp, ok := h.Repl.IsReplica(); ok && strings.EqualFold(mh, host) && mp == int(port) {
		c.W.Simple("OK Already connected to specified master")
		return
	}
	h.Repl.ReplicaOf(host, int(port))
	c.W.OK()
}

// failover implements FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT
// ms], as Redis 7.0: writes are paused until a replica (the target, or
// the first one) acknowledged the whole stream, then this server becomes
// its replica with PSYNC ... FAILOVER, which promotes it.
func (h *Handlers) failover(c *command.Ctx) {
	if h.Cluster != nil { // cluster mode: CLUSTER FAILOVER (cluster_repl.go)
		c.Error("ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.")
		return
	}
	if len(c.Args) == 2 && EqualFold(c.Args[1], "abort") {
		if h.Repl == nil {
			c.Error("ERR No failover in progress.")
			return
		}
		if err := h.Repl.AbortFailover(); err != nil {
			c.Error("ERR " + err.Error())
			return
		}
		c.W.OK()
		return
	}
	var timeout int64
	var host string
	var port int64
	hasHost, force := false, false
	for j := 1; j < len(c.Args); j++ {
		a := c.Args[j]
		switch {
		case EqualFold(a, "timeout") && j+1 < len(c.Args) && timeout == 0:
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n <= 0 {
				c.Error("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout = n
			j++
		case EqualFold(a, "to") && j+2 < len(c.Args) && !hasHost:
			n, ok := ParseInt(c.Args[j+2])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			host, port, hasHost = string(c.Args[j+1]), n, true
			j += 2
		case EqualFold(a, "force") && !force:
			force = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if h.isReplica() {
		c.Error("ERR FAILOVER is not valid when server is a replica.")
		return
	}
	if h.Repl == nil || len(h.Repl.Replicas()) == 0 {
		c.Error("ERR FAILOVER requires connected replicas.")
		return
	}
	if force && (timeout == 0 || !hasHost) {
		c.Error("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
		return
	}
	err := h.Repl.Failover(persist.FailoverRequest{Host: host, Port: int(port),
		Timeout: time.Duration(timeout) * time.Millisecond, Force: force,
		Pause: h.pauseForFailover, Unpause: h.unpauseFailover})
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.OK()
}

// pauseForFailover holds clients' writes back until FAILOVER ends
// (unpauseFailover), as CLIENT PAUSE WRITE with no deadline.
func (h *Handlers) pauseForFailover() { h.pauseFor(pauseByFailover, farFuture(), false) }

// unpauseFailover ends FAILOVER's pause.
func (h *Handlers) unpauseFailover() { h.unpauseFor(pauseByFailover) }

// farFuture is the deadline of a pause that lasts until it is ended.
func farFuture() time.Time { return time.Now().Add(100 * 365 * 24 * time.Hour) }

// sync implements SYNC and PSYNC: a full resynchronization of the
// calling client, which becomes a replica (PSYNC's replication id and
// offset are not used: there is no backlog for a partial one). The
// connection is on a goroutine of its own (SYNC is an administrative
// command, exec.MayWait), which sends the snapshot; the stream then goes
// out from a writer goroutine, and the client's commands (REPLCONF ACK)
// get no replies, as in Redis.
func (h *Handlers) sync(c *command.Ctx) {
	cl := c.Client
	if h.Repl == nil || h.ReplicaConn == nil || cl == nil {
		c.Error(errNoSync)
		return
	}
	if cl.Flags&command.ClientReplica != 0 {
		return // already a replica: ignored, as in Redis
	}
	if cl.Flags&command.ClientMulti != 0 {
		c.Error("ERR Command not allowed inside a transaction")
		return
	}
	if len(c.Args) > 3 && EqualFold(c.Args[0], "psync") && EqualFold(c.Args[3], "failover") {
		// PSYNC <replid> <offset> FAILOVER: the old master of this
		// replica hands its role over (its FAILOVER), as Redis; any
		// other fourth argument is ignored, as there
		if !h.isReplica() {
			c.Error("ERR PSYNC FAILOVER can't be sent to a master.")
			return
		}
		if string(c.Args[1]) != h.Repl.ReplID() {
			c.Error("ERR PSYNC FAILOVER replid must match my replid.")
			return
		}
		h.Log.Info("Failover request received", "replid", string(c.Args[1]))
		h.Repl.ReplicaOfNoOne()
	}
	if msg := h.Repl.SyncRefused(); msg != "" {
		c.Error(msg) // a replica whose link is down
		return
	}
	if EqualFold(c.Args[0], "psync") {
		if _, ok := ParseInt(c.Args[2]); !ok {
			h.Log.Warn("Replica " + cl.Addr + " asks for synchronization but with a wrong offset")
			c.Error(ErrNotInt)
			return
		}
	}
	if cl.NoWait && cl.Detach != nil {
		cl.Detach()
	}
	conn := h.ReplicaConn(cl)
	if conn == nil {
		c.Error("ERR SYNC needs a connection of its own")
		return
	}
	rc := replConfOf(cl)
	ip := rc.ip
	if ip == "" {
		if host, _, err := net.SplitHostPort(cl.Addr); err == nil {
			ip = host
		}
	}
	cl.Flags |= command.ClientReplica | command.ClientReplyOff
	cl.Publish() // a replica from now on for CLIENT LIST and INFO, as in Redis
	psync := EqualFold(c.Args[0], "psync")
	if psync && !rc.rdbOnly {
		off, _ := ParseInt(c.Args[2]) // checked above
		done, err := h.Repl.TryPartialSync(cl, conn, string(c.Args[1]), off, rc.psync2, rc.port, ip)
		if err != nil {
			h.Log.Warn("replica partial sync failed", "addr", cl.Addr, "err", err)
			cl.Flags |= command.ClientCloseAfterReply
			return
		}
		if done {
			return
		}
	}
	if err := h.Repl.FullSync(cl, conn, psync, rc.rdbOnly, rc.filter, rc.port, ip); err != nil {
		h.Log.Warn("replica sync failed", "addr", cl.Addr, "err", err)
		cl.Flags |= command.ClientCloseAfterReply
		return
	}
	if rc.rdbOnly {
		cl.Flags |= command.ClientCloseAfterReply // only the RDB, then close
	}
}

// replconf implements REPLCONF: it checks and records the options a
// replica sends before SYNC/PSYNC and answers OK; ACK (a replica's
// acknowledgement) and GETACK get no reply at all, as in Redis.
func (h *Handlers) replconf(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error(ErrSyntax)
		return
	}
	for j := 1; j < len(c.Args); j += 2 {
		opt, val := c.Args[j], c.Args[j+1]
		switch {
		case EqualFold(opt, "listening-port"):
			port, ok := ParseInt(val)
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			replConfOf(c.Client).port = int(port)
		case EqualFold(opt, "ip-address"):
			if len(val) >= netHostStrLen {
				c.Error("ERR REPLCONF ip-address provided by replica instance is too long: " +
					strconv.Itoa(len(val)) + " bytes")
				return
			}
			replConfOf(c.Client).ip = string(val)
		case EqualFold(opt, "capa"):
			if EqualFold(val, "psync2") {
				replConfOf(c.Client).psync2 = true
			}
			if EqualFold(val, "eof") {
				replConfOf(c.Client).filter.CapaEOF = true
			}
		case EqualFold(opt, "ack"):
			// a replica's acknowledgement (no reply); ignored from others
			if off, ok := ParseInt(val); ok && h.Repl != nil && c.Client.Flags&command.ClientReplica != 0 {
				h.Repl.ReplicaAck(c.Client, off)
			}
			return
		case EqualFold(opt, "getack"):
			return // only a master sends it (to its replicas): no reply
		case EqualFold(opt, "rdb-only"):
			n, ok := ParseInt(val)
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 || n > 1 {
				c.Error("ERR value is out of range, value must between 0 and 1")
				return
			}
			replConfOf(c.Client).rdbOnly = n == 1
		case EqualFold(opt, "rdb-filter-only"):
			filters, err := resp.SplitArgs(val, nil)
			if err != nil {
				c.Error("ERR Missing rdb-filter-only values")
				return
			}
			// as Redis: everything is left out but what is named
			rc := replConfOf(c.Client)
			filter := command.RDBRequest{NoData: true, NoFunctions: true, CapaEOF: rc.filter.CapaEOF}
			for _, f := range filters {
				if !EqualFold(f, "functions") {
					c.Error("ERR Unsupported rdb-filter-only option: " + string(f))
					return
				}
				filter.NoFunctions = false
			}
			rc.filter = filter
		default:
			c.Error("ERR Unrecognized REPLCONF option: " + string(opt))
			return
		}
	}
	c.W.OK()
}
