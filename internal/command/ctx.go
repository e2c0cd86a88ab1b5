package command

import (
	"time"

	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Handler executes a command. Arity is already checked and the locks the
// Spec asks for are held.
type Handler func(c *Ctx)

// Ctx is one command execution.
type Ctx struct {
	Args   [][]byte
	Spec   *Spec
	W      resp.ReplyWriter
	DB     keyspace.DB
	Client *Client
	// Dirty counts changes made (Redis's server.dirty delta); a write
	// command with Dirty > 0 is propagated to the AOF.
	Dirty int
	// ForcePropagate propagates the command even when Dirty is 0, as
	// Redis's forceCommandPropagation (FLUSHALL of an empty dataset).
	ForcePropagate bool
	// Propagate, when set by the handler, replaces Args as what is written
	// to the AOF (e.g. EXPIRE as PEXPIREAT). Each entry is one command.
	Propagate [][][]byte
	// ReplicasOnly, set by a handler (PUBLISH, SPUBLISH outside cluster
	// mode), sends the command to the replicas and not to the AOF, whether
	// it changed anything or not (Redis's forceCommandPropagation with
	// PROPAGATE_REPL).
	ReplicasOnly bool
	// Start is when the executor started the command, as its monotonic
	// clock reads (ns; zero: not timed yet); its statistics measure from
	// there.
	Start int64
	// End, when the handler sets it, is a clock read (as Start) it took
	// as its last act: the executor takes it as the command's end
	// instead of reading the clock again (EVAL, EVALSHA).
	End int64
	// InScript is set when the command runs from redis.call.
	InScript bool
	// Touched collects keys modified by this command (for WATCH, client
	// tracking and blocked clients).
	Touched func(db int, key []byte)
	// Notify emits a keyspace notification of class ('g', '$', 'l', ...)
	// on behalf of client from (the command's Client; nil: none), which
	// gets its own notifications before the command's reply.
	Notify func(class byte, event string, db int, key []byte, from *Client)
	// Block, set by a blocking command (BLPOP, BZPOPMIN, XREAD BLOCK...)
	// that found nothing to serve, asks the executor to park the client
	// without locks until one of Block.Keys is modified or the deadline
	// passes, then run the command again. Handlers never set it when
	// InScript or inside MULTI: there they reply as on timeout.
	Block *BlockRequest
	// CollectExpired, set by the executor for a client's own command
	// (outside MULTI and scripts), makes the DELs of the keys its lookups
	// find expired wait in Expired: they are propagated with the
	// command's own effect, in one MULTI/EXEC when there is more than one
	// command, as Redis 7.0's also_propagate does.
	CollectExpired bool
	// Expired holds those keys (CollectExpired).
	Expired []ExpiredKey
	// Retry is set when a blocked command runs again after one of its keys
	// was modified. A key of the wrong type then does not end the wait
	// (Redis serves blocked clients only from keys of the awaited type).
	Retry bool
	// Ready is, in a Retry, the key whose turn woke the command (nil for a
	// keyless wait). As Redis 7.0 serves a blocked client from the key
	// that became ready, a woken command serves that key only.
	Ready []byte
	// Failed is set once the command replied an error (its failed_calls).
	Failed bool
	// Rejected is set by a handler that refused to run the command (a
	// script's flags over maxmemory): counted in rejected_calls, not calls.
	Rejected bool
	// OnError, set by the executor, counts an error reply in errorstats.
	OnError func(msg string)
	// Held is the executor's lock set (*exec.Locks) while Execute runs a
	// LockScript command, which may extend it; nil when the caller holds
	// the whole keyspace (EXEC).
	Held any
	// Scratch is the command's keyspace state that its DB view refers
	// to: the collection records a FlagResizes command's view handed out
	// (keyspace.DB.Track), for the executor to re-measure after the
	// handler (memory accounting), and the hash of its key the executor
	// computed for its lock (keyspace.DB.NoteHash).
	Scratch keyspace.Scratch
}

// BlockRequest describes how a blocked command waits.
type BlockRequest struct {
	Keys     [][]byte  // copied keys to watch, in the command's database
	Deadline time.Time // zero: wait forever
	// OnTimeout writes the reply sent when the deadline passes
	// (a null array for BLPOP).
	OnTimeout func(w resp.ReplyWriter)
	// Args, when set, are the arguments to re-run the command with
	// (copied); nil re-runs the original arguments. XREAD uses it to keep
	// "$" resolved to the ID it had on the first call.
	Args [][]byte
	// Wake, when set (a request without keys: WAIT), is closed when the
	// command may be served now: it is run again, and blocks anew (with a
	// new Wake) when it still cannot answer.
	Wake <-chan struct{}
	// AnswersGone marks a request answered when its key is gone
	// (XREADGROUP: an error): a turn on an absent key still reaches it.
	AnswersGone bool
	// Type is the type of value the command waits for; a key is made
	// ready for its waiters by a signal of a type some client waits for
	// (Redis's blocked_clients_by_type).
	Type BlockType
}

// BlockType is the type of value a blocked command waits for: Redis's
// BLOCKED_LIST, BLOCKED_ZSET and BLOCKED_STREAM (BlockNone: WAIT and
// others without keys).
type BlockType int8

// The block types.
const (
	BlockNone BlockType = iota
	BlockList
	BlockZSet
	BlockStream
	NumBlockTypes
)

// Now is the command's time in Unix ms (frozen during a script).
func (c *Ctx) Now() int64 { return c.DB.Now }

// Error writes an error reply and counts it (errorstats, failed_calls).
func (c *Ctx) Error(msg string) {
	c.W.Error(msg)
	c.CountError(msg)
}

// CountError counts an error reply written to W by other means than Error
// (a script's error reply).
func (c *Ctx) CountError(msg string) {
	c.Failed = true
	if c.OnError != nil {
		c.OnError(msg)
	}
}

// Modified records that key changed: it bumps Dirty and signals watchers.
func (c *Ctx) Modified(key []byte) {
	c.Dirty++
	if c.Touched != nil {
		c.Touched(c.DB.Index(), key)
	}
}

// Event emits a keyspace notification for key.
func (c *Ctx) Event(class byte, event string, key []byte) {
	if c.Notify != nil {
		c.Notify(class, event, c.DB.Index(), key, c.Client)
	}
}

// ExpiredKey is a key a command found expired (Ctx.Expired).
type ExpiredKey struct {
	DB  int
	Key []byte
}
