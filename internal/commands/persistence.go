package commands

import (
	"errors"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// Persistence is what the persistence commands need from the snapshot and
// AOF layer (internal/persist implements it).
type Persistence interface {
	// Save writes a snapshot before returning.
	Save() error
	// BGSave and BGRewriteAOF start background jobs; they return a status
	// reply or an error reply text.
	BGSave(schedule, inExec bool) (status, errText string)
	BGRewriteAOF(inExec bool) (status, errText string)
	// LastSave is the Unix time of the last successful save.
	LastSave() int64
	// Cron runs periodic work (save policies, automatic rewrites).
	Cron()
	// Reload runs DEBUG RELOAD, the caller holding the whole keyspace:
	// save the RDB file (when save), call flush (when not nil), load the
	// file back (merge: loaded keys and libraries replace ones present).
	// saveErr is a failed save (nothing else done), loadErr a failed load.
	Reload(save, merge bool, flush func()) (saveErr, loadErr error)
	// ReloadAOF runs DEBUG LOADAOF, the caller holding the whole keyspace:
	// write and fsync the AOF, call flush, replay the AOF files. An error
	// before flush leaves the dataset as it was.
	ReloadAOF(flush func()) error
	// SaveHeld writes dump.rdb for a caller holding the whole keyspace
	// (FLUSHALL with save points configured); pending is the caller's own
	// change count, not yet added, that the save covers too.
	SaveHeld(pending int64) error
	// KillBgsave stops a running BGSAVE without letting it write dump.rdb
	// (FLUSHALL, as Redis's killRDBChild).
	KillBgsave()
	// Forks counts the background snapshots started where Redis forks a
	// child (INFO's total_forks).
	Forks() int64
}

func (h *Handlers) registerPersistence() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("save", h.save, none)
	t.Handle("bgsave", h.bgsave, none)
	t.Handle("bgrewriteaof", h.bgrewriteaof, none)
	t.Handle("lastsave", h.lastsave, none)
	t.Handle("dump", h.dump)
	t.Handle("restore", h.restore)
	t.Handle("restore-asking", h.restore) // what MIGRATE sends in cluster mode
	t.Handle("migrate", h.migrate, command.WithGetKeys(migrateGetKeys))
}

const errNoPersistence = "ERR persistence is not available"

func (h *Handlers) save(c *command.Ctx) {
	if h.Persist == nil {
		c.Error(errNoPersistence)
		return
	}
	if c.InScript {
		c.Error("ERR Command not allowed inside a script")
		return
	}
	if err := h.Persist.Save(); err != nil {
		if err.Error() == "ERR Background save already in progress" {
			c.Error(err.Error())
			return
		}
		c.Error("ERR")
		return
	}
	c.W.OK()
}

func (h *Handlers) bgsave(c *command.Ctx) {
	schedule := false
	if len(c.Args) > 1 {
		if len(c.Args) > 2 || !EqualFold(c.Args[1], "schedule") {
			c.Error(ErrSyntax)
			return
		}
		schedule = true
	}
	if h.Persist == nil {
		c.Error(errNoPersistence)
		return
	}
	st, e := h.Persist.BGSave(schedule, inExec(c))
	if e != "" {
		c.Error(e)
		return
	}
	c.W.Simple(st)
}

func (h *Handlers) bgrewriteaof(c *command.Ctx) {
	if h.Persist == nil {
		c.Error(errNoPersistence)
		return
	}
	st, e := h.Persist.BGRewriteAOF(inExec(c))
	if e != "" {
		c.Error(e)
		return
	}
	c.W.Simple(st)
}

func (h *Handlers) lastsave(c *command.Ctx) {
	if h.Persist == nil {
		c.W.Int(h.Started.Unix())
		return
	}
	c.W.Int(h.Persist.LastSave())
}

func (h *Handlers) dump(c *command.Ctx) {
	e, ok := c.DB.Lookup(c.Args[1])
	if !ok {
		c.W.Null()
		return
	}
	p, err := h.Codecs.Dump(e.Value(), h.Config.Bool("rdbcompression"))
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	c.W.Bulk(p)
}

// restore implements RESTORE key ttl payload [REPLACE] [ABSTTL]
// [IDLETIME s] [FREQ f], checking in Redis's order.
func (h *Handlers) restore(c *command.Ctx) {
	key := c.Args[1]
	var replace, absTTL bool
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(c.Args); j++ {
		more := len(c.Args) - j - 1
		a := c.Args[j]
		switch {
		case EqualFold(a, "replace"):
			replace = true
		case EqualFold(a, "absttl"):
			absTTL = true
		case EqualFold(a, "idletime") && more >= 1 && freq == -1:
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				c.Error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			j++
		case EqualFold(a, "freq") && more >= 1 && idle == -1:
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 || n > 255 {
				c.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if !replace && c.DB.Exists(key) {
		c.Error("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if ttl < 0 {
		c.Error("ERR Invalid TTL value, must be >= 0")
		return
	}
	restore := h.Codecs.Restore
	if !h.deepSanitize(c) {
		restore = h.Codecs.RestoreShallow
	}
	v, err := restore(c.Args[3])
	if err != nil {
		if errors.Is(err, rdb.ErrPayloadVersion) {
			c.Error("ERR DUMP payload version or checksum are wrong")
		} else {
			c.Error("ERR Bad data format")
		}
		return
	}
	if b, isStr := v.([]byte); isStr {
		v = b // decoded into fresh memory: nothing aliases the argument
	}
	deleted := false
	if replace {
		deleted = c.DB.DeleteStored(key) // dbDelete: an expired key gets no "expired"
	}
	if ttl != 0 && !absTTL {
		ttl += c.Now()
	}
	if ttl != 0 && ttl <= c.Now() {
		// already expired: only the deletion, if any, happens
		if deleted {
			c.Modified(key)
			c.Event('g', "del", key)
			c.Propagate = [][][]byte{{[]byte("DEL"), key}}
		} else {
			c.Propagate = [][][]byte{}
		}
		c.W.OK()
		return
	}
	c.DB.Set(key, v, ttl)
	if a, ok := c.DB.Store().AccessFrom(idle, freq, c.Now()); ok {
		c.DB.SetAccess(key, a)
	}
	if ttl != 0 && !absTTL {
		// propagate the TTL as an absolute time
		args := append([][]byte{}, c.Args...)
		args[2] = []byte(strconv.FormatInt(ttl, 10))
		c.Propagate = [][][]byte{append(args, []byte("ABSTTL"))}
	}
	c.Modified(key)
	c.Event('g', "restore", key)
	c.W.OK()
}

// inExec reports whether c runs inside MULTI/EXEC (Redis's server.in_exec):
// a queued command's handler runs while its client is still in MULTI.
func inExec(c *command.Ctx) bool {
	return c.Client != nil && c.Client.Flags&command.ClientMulti != 0 && !c.InScript
}

// deepSanitize reports whether RESTORE validates a payload deeply, as
// Redis 7.0's rdbLoadObject: with sanitize-dump-payload yes, or clients
// for a command that is not its master's (a replica applying its stream).
func (h *Handlers) deepSanitize(c *command.Ctx) bool {
	switch h.Config.Get("sanitize-dump-payload") {
	case "yes":
		return true
	case "clients":
		return c.Client == nil || c.Client.Flags&command.ClientMaster == 0
	}
	return false
}
