// Package commands holds the command handlers, one file per group, and
// attaches them to the command table.
package commands

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/acl"
	"github.com/crescent-db/crescent/internal/cluster"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/rdb"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// Server is what handlers need from the server around them.
type Server interface {
	ClientList() []*command.Client
	// ClientMemory is a client's buffers for CLIENT LIST; self: the client
	// running the command.
	ClientMemory(id int64, self bool) ClientMem
	// ClientsMemory is the memory of the normal and pub/sub clients as
	// last measured (INFO mem_clients_normal).
	ClientsMemory() int64
	RequestShutdown()
	Port() int
}

// ClientMem is a client's memory as CLIENT LIST shows it (Redis's
// getClientMemoryUsage), in bytes.
type ClientMem struct {
	Base int64 // what every client holds besides its buffers (its structures)
	Qbuf int64 // the query buffer's bytes
	Room int64 // what is still to come of a big argument being read
	Argv int64 // the arguments before it (argv-mem; the caller counts its own)
	Fat  int64 // the query buffer kept at a big argument's size
	Out  int64 // replies and pushes not written yet, as Redis would hold them (Obl + Omem)
	// Redis's reply buffer in use (obl), its reply blocks (oll) and
	// their memory (omem) for the output not written yet
	Obl, Oll, Omem int64
	Cap            int64 // the read buffer's size (0: released while idle)
	Rbs            int64 // the reply buffer's size (0: none yet, or released while idle)
	Rbp            int64 // the most the reply buffer held in one batch lately (Redis's buf_peak)
}

// NetStats are server-wide counters kept by the network layer.
type NetStats struct {
	TotalConns    atomic.Int64
	RejectedConns atomic.Int64
	// NetInput and NetOutput are written at every read and write of
	// every connection, on every core: striped (exec.Counter).
	NetInput    exec.Counter
	NetOutput   exec.Counter
	ExpiredKeys atomic.Int64
	Hits        atomic.Int64
	Misses      atomic.Int64
	// EvictedClients counts the clients closed by maxmemory-clients
	// (INFO evicted_clients).
	EvictedClients atomic.Int64
}

// Deps are the handlers' dependencies, wired once by the server.
type Deps struct {
	Config  *config.Config
	Store   *keyspace.Store
	Exec    *exec.Executor
	Table   *command.Table
	Log     *slog.Logger
	Server  Server
	Net     *NetStats
	Started time.Time
	// ConfigFile is the absolute path of the config file, if any.
	ConfigFile string
	// PubSub is the subscription registry (nil: no pub/sub commands).
	PubSub *pubsub.Hub
	// Codecs encode values for DUMP/RESTORE and RDB files; type owners
	// register theirs (see rdb.Codec).
	Codecs *rdb.Codecs
}

// Handlers holds every command group's state.
type Handlers struct {
	Deps
	// OnReset runs on RESET for state owned by other groups (pubsub...).
	OnReset func(cl *command.Client)
	// SubCounts returns a client's channel, pattern and shard channel
	// subscription counts.
	SubCounts func(cl *command.Client) (sub, psub, ssub int)
	// BeforeShutdown runs before SHUTDOWN stops the server (persistence
	// saves there); an error aborts the shutdown.
	BeforeShutdown func(args [][]byte) error
	// Repl, when set, is the master side of replication (persist.Manager):
	// SYNC, PSYNC, REPLCONF ACK, WAIT, ROLE and INFO replication use it.
	Repl Replication
	// ReplicaConn, when set, hands a replica's socket to SYNC/PSYNC: it
	// flushes the client's pending replies and returns the socket of the
	// connection, which must be on a goroutine of its own (nil if not).
	ReplicaConn func(cl *command.Client) net.Conn
	// PersistenceInfo, ExtraMemoryInfo and ExtraInfo extend INFO.
	PersistenceInfo func() []string
	ExtraMemoryInfo func() []string
	ExtraInfo       func() []InfoSection
	// ACL holds the users (acl.go); created by New once every command is
	// declared.
	ACL   *acl.Registry
	runID string
	// enc caches the small-encoding limits of hashes and sets (types.go)
	enc     encLimits
	scripts *scripting // EVAL / SCRIPT state (scripting.go)
	// lolwutArt is the random source of LOLWUT VERSION 5 and 6 (lolwut.go)
	lolwutArt lolwutState
	// Persist serves SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE and the save
	// policies in Cron; set by the server.
	Persist Persistence
	ops     *opsState     // MONITOR, SLOWLOG, LATENCY, tracking... (ops.go)
	shut    shutdownState // a SHUTDOWN waiting for replicas (shutdown.go)
	// migrateConns are MIGRATE's cached target connections (migrate_cache.go)
	migrateConns migrateCache
	// Cluster is this server's cluster node (cluster-enabled yes; set by
	// the server before it serves), nil without cluster mode (cluster.go).
	Cluster *cluster.Local
}

// RunID returns the server's random run id.
func (h *Handlers) RunID() string { return h.runID }

// New attaches every handler to d.Table and returns the handlers' state.
func New(d Deps) *Handlers {
	h := &Handlers{Deps: d}
	if h.Codecs == nil {
		h.Codecs = rdb.NewCodecs()
	}
	var b [20]byte
	rand.Read(b[:])
	h.runID = hex.EncodeToString(b[:])
	h.registerConnection()
	h.registerServer()
	h.registerStrings()
	h.registerKeys()
	h.registerExpire()
	h.registerStreams()
	h.registerTypes() // lists, hashes, sets
	// data types: sorted sets, bitmaps, HyperLogLog, geo, SORT (branch zsets)
	h.registerZSets()
	h.registerBitmaps()
	h.registerHyperLogLog()
	h.registerGeo()
	h.registerSort()
	h.registerTx()
	h.registerPubSub()
	h.registerScripting()
	h.registerPersistence()
	h.registerFunctions()   // functions.go
	h.registerOps()         // operating: MONITOR, SLOWLOG, LATENCY, tracking, MEMORY (ops.go)
	h.registerReplication() // ROLE, WAIT, REPLICAOF... (replication.go)
	h.registerCluster()     // CLUSTER, ASKING, READONLY, READWRITE (cluster.go)
	h.registerAdmin()       // MODULE, LOLWUT, CONFIG HELP, SCRIPT DEBUG (admin.go)
	// ACL last: it indexes every declared command.
	h.registerACL()
	h.ACL = acl.New(h.Table)
	h.ACL.AllChannelsDefault = func() bool { return h.Config.Get("acl-pubsub-default") == "allchannels" }
	h.ACL.LogMax = func() int { return int(h.Config.Int("acllog-max-len")) }
	h.Config.SetNormalizer("acllog-max-len", func(v string) (string, error) {
		if strings.HasPrefix(v, "-") {
			return "", errors.New("argument must be between 0 and 9223372036854775807 inclusive")
		}
		return v, nil
	})
	h.ACL.Now = func() int64 { return time.Now().UnixMilli() }
	if p := h.Config.Get("requirepass"); p != "" {
		h.ACL.SetDefaultPassword(p)
	}
	h.Config.OnChange("requirepass", h.ACL.SetDefaultPassword)
	return h
}

// ClientInfoLine renders cl as CLIENT INFO does (its buffers as other
// clients see them).
func (h *Handlers) ClientInfoLine(cl *command.Client) string {
	return h.clientInfoLine(cl, cl, nil, time.Now().UnixMilli())
}

// Close stops background work owned by handlers.
func (h *Handlers) Close() {
	h.closeScripting()
	h.migrateConns.closeAll()
}

// Cron runs periodic work (called hz times a second).
func (h *Handlers) Cron() {
	h.opsCron()
	h.flushPendingAcks() // a WAIT's GETACK held by a pause that ended
	h.migrateConns.expire(time.Now())
	if h.Persist != nil {
		h.Persist.Cron()
	}
}

// ClientGone releases per-client state when a connection closes.
func (h *Handlers) ClientGone(cl *command.Client) {
	h.Exec.Discard(cl)
	h.pubsubGone(cl)
	h.opsGone(cl)
}

// Shared error replies (Redis 7.0 texts).
const (
	ErrSyntax     = "ERR syntax error"
	ErrNotInt     = "ERR value is not an integer or out of range"
	ErrNotFloat   = "ERR value is not a valid float"
	ErrWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNoSuchKey  = "ERR no such key"
	ErrOverflow   = "ERR increment or decrement would overflow"
	ErrDBIndex    = "ERR DB index is out of range"
	ErrInvalidExp = "ERR invalid expire time in '%s' command"
)

// ParseInt parses a Redis integer argument strictly (no spaces, no '+').
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) > 1 && b[0] == '0' || b[0] == '+' {
		return 0, false
	}
	if b[0] == '-' && (len(b) == 1 || b[1] == '0') {
		return 0, false
	}
	// Up to 18 digits cannot overflow: no strconv call (and no error value).
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) <= 18 {
		var n int64
		for _, ch := range d {
			if ch < '0' || ch > '9' {
				return 0, false
			}
			n = n*10 + int64(ch-'0')
		}
		if neg {
			n = -n
		}
		return n, true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Copy returns a copy of b, for storing an argument (arguments alias the
// connection's read buffer).
func Copy(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// EqualFold reports whether arg equals the ASCII word s, ignoring case.
func EqualFold(arg []byte, s string) bool {
	if len(arg) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := arg[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		d := s[i]
		if d >= 'A' && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}
