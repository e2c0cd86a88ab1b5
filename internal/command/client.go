package command

import (
	"sync"
	"sync/atomic"
)

// Client flags.
//
// ClientReplyOff and ClientReplySkip silence the client's replies, not
// its pushes (pub/sub messages, keyspace notifications, invalidations),
// as Redis 7.0's CLIENT_PUSHING does: a reply is dropped when either flag
// is set when it is written, so replies queued before CLIENT REPLY OFF in
// a pipeline still go out. ClientReplySkipNext becomes ClientReplySkip
// after the command that set it, and ClientReplySkip is cleared after the
// next command (Redis's resetClient).
const (
	ClientMulti     = 1 << iota // inside MULTI
	ClientDirtyCAS              // a WATCHed key changed
	ClientDirtyExec             // a queued command was rejected
	ClientPubSub                // RESP2 subscribed mode
	ClientCloseAfterReply
	ClientScript // the fake client that runs redis.call
	ClientNoEvict
	ClientReplyOff      // CLIENT REPLY OFF: replies are dropped, pushes are not
	ClientReplySkipNext // CLIENT REPLY SKIP ran: the next command's reply is dropped
	ClientReplySkip     // this command's reply is dropped (CLIENT REPLY SKIP before it)
	ClientNoTouch
	ClientLoading  // replays the AOF: obeyed without limits
	ClientReplica  // a replica fed the replication stream (after SYNC/PSYNC)
	ClientAsking   // cluster: ASKING was sent (one command or transaction)
	ClientReadOnly // cluster: READONLY was sent
	ClientMaster   // a replica's link to its master: applies the stream
)

// ClientRepliesMuted are the flags under which a reply is dropped.
const ClientRepliesMuted = ClientReplyOff | ClientReplySkip

// RDBRequest is how a replica asked for the RDB it is sent: what to leave
// out of it (REPLCONF rdb-filter-only, redis-cli --functions-rdb), and
// whether it reads the "$EOF:<mark>" bulk form (REPLCONF capa eof).
type RDBRequest struct {
	NoData      bool // no keys
	NoFunctions bool // no function libraries
	CapaEOF     bool // REPLCONF capa eof
}

// Client is a connection's state as commands see it.
type Client struct {
	ID    int64
	Addr  string
	LAddr string
	// FD is the socket's descriptor (CLIENT LIST fd=; 0 when unknown): the
	// connection sets it when the socket changes (an event loop serves a
	// duplicate), while other clients read it
	FD    atomic.Int32
	DB    int
	Proto int
	Flags int
	// Slot is, in cluster mode, the hash slot of the running command's
	// keys plus one (0: none yet), Redis's c->slot: the routing check
	// sets it for each command (for EXEC, from the queued commands' keys,
	// and it then holds for the whole transaction), and a script without
	// allow-cross-slot-keys sets it at its first key when still 0, then
	// refuses keys of any other slot.
	Slot   int
	User   string
	Authed bool
	// ACLUser is the ACL user the client is authenticated as (an
	// *acl.User, kept untyped to avoid an import cycle); nil means the
	// default user.
	ACLUser any
	Created int64 // Unix ms
	// LastCmd is the command the client last sent (nil: none yet, or an
	// unknown one), as CLIENT LIST's cmd= shows it.
	LastCmd  atomic.Pointer[Spec]
	LastTime atomic.Int64               // Unix ms of last interaction
	view     atomic.Pointer[ClientView] // published state (Publish)

	mu      sync.Mutex
	name    string
	libName string
	libVer  string

	// Queue holds commands queued by MULTI (copied arguments).
	Queue [][][]byte
	// Watched keys: db and key.
	Watched []WatchedKey
	// Kill is closed to ask the connection to close.
	Kill chan struct{}
	// OnKill, when set, runs once when Close is first called (after Kill
	// is closed), on the caller's goroutine: it must not block.
	OnKill   func()
	killOnce sync.Once
	// Flush, set by the connection, writes buffered replies to the socket
	// (before a blocking command parks the client).
	Flush func()
	// ReplyBoundary, set by the connection, ends a stretch of replies
	// and starts the next one inside a command that runs others (EXEC
	// calls it before each queued command): CLIENT REPLY OFF/ON/SKIP
	// decide each stretch's fate on their own, as Redis decides each
	// reply when it is added (ClientReplyOff).
	ReplyBoundary func()
	// WatchClose, set by the connection, watches the socket while the
	// client is blocked and calls Close when the peer hangs up (so a
	// disconnected client never consumes a pushed element). The returned
	// func stops watching before the connection reads again.
	WatchClose func() (stop func())
	// WriteOffset is the AOF offset just past this client's last write,
	// set by the persistence layer; replies wait until it is durable.
	WriteOffset atomic.Int64
	// ReplOffset is the replication stream's offset just past this
	// client's last write (set only while replicas are attached); WAIT
	// counts the replicas that acknowledged it.
	ReplOffset atomic.Int64
	// Touch is the client's modification hook, built once by the
	// executor (WATCH, blocked clients and client-side caching).
	Touch func(db int, key []byte)
	// Extra carries per-client state owned by other packages (pubsub...).
	Extra map[string]any
	// Caller, for the client a script's commands run as, is the client
	// that ran the script.
	Caller *Client
	// Tracking holds the client's client-side caching state while it has
	// CLIENT TRACKING on (Redis's CLIENT_TRACKING flag), set by the
	// tracker in internal/commands (untyped to avoid an import cycle; a
	// nil one once it stopped): after a command of a client without it,
	// the tracker takes no lock.
	Tracking atomic.Value
	// Script, for the client a script's commands run as, is the
	// executor's state of the script's run (*exec.ScriptCall), which the
	// executor's keyspace hooks find through a command's context.
	Script any
	// NoWait, set by a connection served by an event loop, asks the
	// executor never to wait (see exec.Executor.Execute): a command that
	// could block, wait for a running script or CLIENT PAUSE, or poll for
	// BUSY is not run and WouldWait is set instead; the connection then
	// moves to a goroutine of its own and runs the command there.
	NoWait bool
	// WouldWait reports that Execute declined a command for NoWait,
	// before it had any effect.
	WouldWait bool
	// BeforePark, set by an event loop for its connections, is called
	// before the executor parks the serving worker on a lock it spun on
	// in vain: while that worker sleeps, another one must watch for
	// events (the loop's other workers may all be idle).
	BeforePark func()
	// LockBusy, set with WouldWait, reports that the command was declined
	// only because its keys' locks were busy for a while (a passing
	// conflict), not for what it does: its connection comes back to the
	// loop right after running it.
	LockBusy bool
	// MayWait reports whether the last command Execute looked up may
	// wait for long (exec.MayWait): a connection that left its event loop
	// goes back only after a run of commands that may not.
	MayWait bool
	// ClockMark, when not zero, is the time the executor read when the
	// client's previous command ended (event-loop clients only; its
	// monotonic clock, in ns). If the
	// connection did nothing since but parse the next command, that
	// reading serves as the next command's start, so that a pipelined
	// command costs one clock read instead of two (Redis reads the clock
	// at a command's start and end). The connection clears it before
	// anything that takes time between commands: a read from the socket,
	// a flush. Execute clears it when it might have waited.
	ClockMark int64
	// Scratch is the executor's per-command scratch state (context, lock
	// set), kept with the client between its commands so that a command
	// needs no pool round trip; nil while a command uses it.
	Scratch any
	// Locked is the executor's lock set while this client's command
	// holds it (exec.Executor.Execute), so that the connection's panic
	// recovery can release it (exec.Executor.ReleaseAfterPanic). Serving
	// goroutine only.
	Locked any
	// killed is set by Close (see Killed).
	killed atomic.Bool
	// LuaDebug is the client's SCRIPT DEBUG mode: 0 (NO), DebugAsync
	// (YES) or DebugSync (SYNC). Its next EVAL runs under the Lua
	// debugger, and the connection closes after it.
	LuaDebug int
	// DebugConn, set by the connection, is its direct I/O for a Lua
	// debugging session.
	DebugConn DebugIO
	// Out, set by a connection, is its reply buffer: a pub/sub message
	// that the client's own command (or its script, or EXEC) sends to the
	// client itself is appended there as it is published, before the
	// command's reply, as Redis 7.0 writes it (commands.PushSelf). Only the
	// goroutine running the client's command appends. nil: such messages
	// go through the client's sink like everyone else's.
	Out *[]byte
	// Detach, set while an event loop serves the connection, moves it
	// off the loop from inside a command that runs long (a script that
	// keeps running): the loop's other connections go on with a new loop
	// goroutine, and the calling goroutine finishes the command as the
	// connection's own. NoWait is false afterwards. Only the goroutine
	// running the client's command may call it.
	Detach func()
}

// SCRIPT DEBUG modes (Client.LuaDebug).
const (
	DebugAsync = 1 // YES: the script's writes are undone at its end
	DebugSync  = 2 // SYNC: they stay
)

// DebugIO is a connection's direct I/O while a script runs under the Lua
// debugger (script.DebugConn).
type DebugIO interface {
	// ReadCommand returns the client's next command, waiting for it.
	ReadCommand() ([][]byte, error)
	// Write sends p to the client now.
	Write(p []byte) error
}

// WatchedKey is one WATCHed key.
type WatchedKey struct {
	DB  int
	Key string
}

// NewClient returns a client with the given id.
func NewClient(id int64) *Client {
	return &Client{ID: id, Proto: 2, Kill: make(chan struct{}), Authed: true, User: "default"}
}

// Name returns CLIENT SETNAME's name.
func (c *Client) Name() string { c.mu.Lock(); defer c.mu.Unlock(); return c.name }

// SetName sets the client's name.
func (c *Client) SetName(n string) { c.mu.Lock(); c.name = n; c.mu.Unlock() }

// LibInfo returns the lib-name and lib-ver set by CLIENT SETINFO.
func (c *Client) LibInfo() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.libName, c.libVer
}

// Close asks the connection to close.
func (c *Client) Close() {
	c.killOnce.Do(func() {
		c.killed.Store(true)
		close(c.Kill)
		if c.OnKill != nil {
			c.OnKill()
		}
	})
}

// Killed reports whether Close was called: a load, where a receive on
// Kill locks the channel.
func (c *Client) Killed() bool { return c.killed.Load() }

// ClientView is what other clients' commands (CLIENT LIST and KILL, INFO
// clients, ACL DELUSER) read of a client: a copy of the fields its own
// connection changes, published after each of its commands (Publish).
// Reading the live fields from another goroutine would be a data race, and
// a torn read of User or ACLUser could crash the server.
type ClientView struct {
	Flags int
	DB    int
	Proto int
	Multi int // commands queued by MULTI
	User  string
	// ACLUser is the client's *acl.User (nil: the default user).
	ACLUser any
}

// Publish makes the client's current state its View. The client's
// connection calls it after each command; it allocates only when the
// state changed.
func (c *Client) Publish() {
	v := c.view.Load()
	if v != nil && v.Flags == c.Flags && v.DB == c.DB && v.Proto == c.Proto &&
		v.Multi == len(c.Queue) && v.User == c.User && v.ACLUser == c.ACLUser {
		return
	}
	c.view.Store(&ClientView{Flags: c.Flags, DB: c.DB, Proto: c.Proto, Multi: len(c.Queue), User: c.User, ACLUser: c.ACLUser})
}

// View returns the client's state as last published (see ClientView).
func (c *Client) View() ClientView {
	if v := c.view.Load(); v != nil {
		return *v
	}
	return ClientView{Proto: 2, User: "default"}
}

// ViewFrom returns c's state as seen by the client from: the live fields
// when from is c (its own goroutine runs the command), else View.
func (c *Client) ViewFrom(from *Client) ClientView {
	if c != from {
		return c.View()
	}
	return ClientView{Flags: c.Flags, DB: c.DB, Proto: c.Proto, Multi: len(c.Queue), User: c.User, ACLUser: c.ACLUser}
}
