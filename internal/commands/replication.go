package commands

// Replication commands of a standalone master without replicas: ROLE,
// WAIT, REPLICAOF/SLAVEOF, FAILOVER, and the replica side of the protocol
// (PSYNC, SYNC, REPLCONF). Crescent does not replicate: it is always a
// master, no replica can attach, and it cannot become a replica, so these
// reply as Redis 7.0 does in that state, or with an error saying what is
// not supported.

import (
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

const (
	errInvalidMasterPort = "ERR Invalid master port"
	// errNoReplicaMode answers REPLICAOF host port.
	errNoReplicaMode = "ERR REPLICAOF <host> <port> is not supported: Crescent does not implement replication and cannot run as a replica"
	// errNoSync answers SYNC and PSYNC.
	errNoSync = "ERR SYNC and PSYNC are not supported: Crescent does not implement replication"
	// netHostStrLen is Redis's NET_HOST_STR_LEN (REPLCONF ip-address).
	netHostStrLen = 256
)

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

// role implements ROLE: a master at replication offset 0 (nothing is
// replicated, as INFO replication's master_repl_offset says) with no
// replicas.
func (h *Handlers) role(c *command.Ctx) {
	c.W.Array(3)
	c.W.BulkString("master")
	c.W.Int(0)
	c.W.Array(0)
}

// wait implements WAIT numreplicas timeout. No replica ever acknowledges,
// so it answers 0 at once when numreplicas <= 0 or inside MULTI, and
// otherwise blocks the client until the timeout (0: forever) or CLIENT
// UNBLOCK, then answers 0, as Redis does without replicas.
func (h *Handlers) wait(c *command.Ctx) {
	n, ok := ParseInt(c.Args[1])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	ms, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(errTimeoutNotInt)
		return
	}
	if ms < 0 {
		c.Error(errTimeoutNegative)
		return
	}
	deadline := timeoutDeadline(c, ms)
	const acked = 0 // replicas that acknowledged the client's writes
	if acked >= n || !canBlock(c) {
		c.W.Int(acked)
		return
	}
	block(c, nil, deadline, func(w resp.ReplyWriter) { w.Int(acked) })
}

// replicaOf implements REPLICAOF (and SLAVEOF): NO ONE is what Crescent
// always is; a master address is refused after Redis's checks of the port.
func (h *Handlers) replicaOf(c *command.Ctx) {
	if EqualFold(c.Args[1], "no") && EqualFold(c.Args[2], "one") {
		c.W.OK()
		return
	}
	port, ok := ParseInt(c.Args[2])
	if !ok || port < 0 || port > 65535 {
		c.Error(errInvalidMasterPort)
		return
	}
	c.Error(errNoReplicaMode)
}

// failover implements FAILOVER: after parsing its options as Redis does,
// it fails for want of replicas.
func (h *Handlers) failover(c *command.Ctx) {
	if len(c.Args) == 2 && EqualFold(c.Args[1], "abort") {
		c.Error("ERR No failover in progress.")
		return
	}
	var timeout int64
	host, force := false, false
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
		case EqualFold(a, "to") && j+2 < len(c.Args) && !host:
			if _, ok := ParseInt(c.Args[j+2]); !ok {
				c.Error(ErrNotInt)
				return
			}
			host = true
			j += 2
		case EqualFold(a, "force") && !force:
			force = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	c.Error("ERR FAILOVER requires connected replicas.")
}

// sync implements SYNC and PSYNC: no replica can attach to Crescent.
func (h *Handlers) sync(c *command.Ctx) { c.Error(errNoSync) }

// replconf implements REPLCONF as Redis answers a client that is not a
// replica: it checks the options a replica sends before PSYNC (which then
// fails) and answers OK; ACK and GETACK, which only a replica link uses,
// get no reply at all, as in Redis.
func (h *Handlers) replconf(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error(ErrSyntax)
		return
	}
	for j := 1; j < len(c.Args); j += 2 {
		opt, val := c.Args[j], c.Args[j+1]
		switch {
		case EqualFold(opt, "listening-port"):
			if _, ok := ParseInt(val); !ok {
				c.Error(ErrNotInt)
				return
			}
		case EqualFold(opt, "ip-address"):
			if len(val) >= netHostStrLen {
				c.Error("ERR REPLCONF ip-address provided by replica instance is too long: " +
					strconv.Itoa(len(val)) + " bytes")
				return
			}
		case EqualFold(opt, "capa"):
		case EqualFold(opt, "ack"), EqualFold(opt, "getack"):
			return // from a client that is not a replica (or, for GETACK, of a master): no reply
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
		case EqualFold(opt, "rdb-filter-only"):
			filters, err := resp.SplitArgs(val, nil)
			if err != nil {
				c.Error("ERR Missing rdb-filter-only values")
				return
			}
			for _, f := range filters {
				if !EqualFold(f, "functions") {
					c.Error("ERR Unsupported rdb-filter-only option: " + string(f))
					return
				}
			}
		default:
			c.Error("ERR Unrecognized REPLCONF option: " + string(opt))
			return
		}
	}
	c.W.OK()
}
