package commands

import (
	"strconv"
	"unsafe"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// MOVE and COPY ... DB take only their keys' shard locks: a shard lock
// covers that shard in every database, and commands that swap or flush
// whole databases take LockAll.
func (h *Handlers) registerKeys() {
	t := h.Table
	all := command.WithLock(command.LockAll)
	t.Handle("del", h.del)
	t.Handle("unlink", h.del)
	t.Handle("exists", h.exists)
	t.Handle("touch", h.touch)
	t.Handle("type", h.typeCmd)
	t.Handle("rename", h.rename)
	t.Handle("renamenx", h.renamenx)
	t.Handle("keys", h.keys, all)
	t.Handle("scan", h.scan, all)
	t.Handle("randomkey", h.randomkey, all)
	t.Handle("copy", h.copyCmd)
	t.Handle("move", h.move)
	t.Handle("swapdb", h.swapdb, all)
	t.Handle("flushdb", h.flushdb, all)
	t.Handle("flushall", h.flushall, all)
	t.Handle("object|encoding", h.objectEncoding)
	t.Handle("object|freq", h.objectFreq)
	t.Handle("object|idletime", h.objectIdletime)
	t.Handle("object|refcount", h.objectRefcount)
	t.Handle("object|help", h.objectHelp, command.WithLock(command.LockNone))
}

// Key error texts.
const (
	errSameObject = "ERR source and destination objects are the same"
	errBadCursor  = "ERR invalid cursor"
	errNoLFU      = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errNoLRU      = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	errIntRange   = "ERR value is out of range, value must between -2147483648 and 2147483647"
	errCopyType   = "ERR COPY is not supported for this value type"
)

func (h *Handlers) del(c *command.Ctx) {
	n := 0
	// UNLINK, and DEL under lazyfree-lazy-user-del, free as Redis's
	// dbAsyncDelete
	lazy := EqualFold(c.Args[0], "unlink") || c.DB.Store().LazyOn(keyspace.LazyUserDel)
	for _, k := range c.Args[1:] {
		if lazy {
			h.noteLazyFree(c.DB, k)
		}
		if c.DB.Delete(k) {
			c.Modified(k)
			c.Event('g', "del", k)
			n++
		}
	}
	c.W.Int(int64(n))
}

// exists serves EXISTS and TOUCH: both count the live keys, repeats included.
// exists and typeCmd look keys up without touching them (Redis's
// LOOKUP_NOTOUCH): OBJECT FREQ and IDLETIME do not change.
func (h *Handlers) exists(c *command.Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if _, ok := c.DB.LookupNoTouch(k); ok {
			n++
		}
	}
	c.W.Int(int64(n))
}

// touch is EXISTS that records the accesses (Redis's lookupKeyRead).
func (h *Handlers) touch(c *command.Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.DB.Exists(k) {
			n++
		}
	}
	c.W.Int(int64(n))
}

func (h *Handlers) typeCmd(c *command.Ctx) {
	e, ok := c.DB.LookupNoTouch(c.Args[1])
	switch _, isStr := e.Str(); {
	case !ok:
		c.W.Simple("none")
	case isStr:
		c.W.Simple("string")
	default:
		c.W.Simple(keyspace.TypeName(e.Value()))
	}
}

func (h *Handlers) rename(c *command.Ctx)   { h.renameGeneric(c, false) }
func (h *Handlers) renamenx(c *command.Ctx) { h.renameGeneric(c, true) }

func (h *Handlers) renameGeneric(c *command.Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	e, ok := c.DB.Lookup(src)
	if !ok {
		c.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	if c.DB.Exists(dst) {
		if nx {
			c.W.Int(0)
			return
		}
		c.DB.DeleteLazy(dst, keyspace.LazyServerDel) // dbDelete
	}
	c.DB.Set(dst, e.Value(), e.Exp)
	keepEmbstr(c.DB, dst, e)
	c.DB.SetAccess(dst, e.Access) // the value keeps its LRU/LFU data, as in Redis
	c.DB.Delete(src)
	c.Modified(src)
	c.Modified(dst)
	c.Dirty-- // one change, two touched keys
	c.Event('g', "rename_from", src)
	c.Event('g', "rename_to", dst)
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

func (h *Handlers) keys(c *command.Ctx) {
	pat := string(c.Args[1])
	allKeys := pat == "*"
	var out []string
	c.DB.ForEach(func(k string, _ keyspace.Entry) bool {
		if allKeys || glob.Match(pat, k, false) {
			out = append(out, k)
		}
		return true
	})
	g := c.ReplyGuard(0) // bounded by the keyspace; stopped by the output limit
	c.W.Array(len(out))
	for _, k := range out {
		c.W.BulkString(k)
		if g.Stop(c, "") {
			break
		}
	}
}

// parseCursor parses a SCAN cursor as Redis's strtoul-based parser does
// (an empty string is 0, a leading '-' wraps around).
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	if isSpaceByte(b[0]) {
		return 0, false
	}
	s := string(b)
	neg := false
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		s, neg = s[1:], true
	}
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// ScanOpts are the MATCH, COUNT and TYPE options of the SCAN family.
type ScanOpts struct {
	Match    []byte // nil: no pattern
	Count    int
	TypeName []byte // nil: any type (SCAN only)
}

// ParseScanOpts parses SCAN-family options from args (after the cursor),
// writing the error reply and returning false on failure. allowType
// accepts TYPE (SCAN only).
func ParseScanOpts(c *command.Ctx, args [][]byte, allowType bool) (ScanOpts, bool) {
	o := ScanOpts{Count: 10}
	for i := 0; i < len(args); i++ {
		more := len(args) - i
		switch {
		case EqualFold(args[i], "count") && more >= 2:
			n, ok := ParseInt(args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return o, false
			}
			if n < 1 {
				c.Error(ErrSyntax)
				return o, false
			}
			if n > 1<<30 {
				n = 1 << 30
			}
			o.Count = int(n)
			i++
		case EqualFold(args[i], "match") && more >= 2:
			o.Match = args[i+1]
			if len(o.Match) == 1 && o.Match[0] == '*' {
				o.Match = nil
			}
			i++
		case allowType && EqualFold(args[i], "type") && more >= 2:
			o.TypeName = args[i+1]
			i++
		default:
			c.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

func (h *Handlers) scan(c *command.Ctx) {
	cursor, ok := parseCursor(c.Args[1])
	if !ok {
		c.Error(errBadCursor)
		return
	}
	o, ok := ParseScanOpts(c, c.Args[2:], true)
	if !ok {
		return
	}
	var match func(string) bool
	if o.Match != nil && string(o.Match) != "*" {
		pat := string(o.Match)
		match = func(k string) bool { return glob.Match(pat, k, false) }
	}
	var typ func(keyspace.Entry) bool
	if o.TypeName != nil {
		name := o.TypeName
		typ = func(e keyspace.Entry) bool { return EqualFold([]byte(keyspace.TypeName(e.Value())), string(name)) }
	}
	keys, next := c.DB.Scan(cursor, o.Count, match, typ)
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	g := c.ReplyGuard(0) // a huge COUNT: stopped by the output limit
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) randomkey(c *command.Ctx) {
	k, ok := c.DB.RandomKey()
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(k)
}

// dbArg parses a database index argument; it writes the error and returns
// false when it is not an integer or out of range.
func dbArg(c *command.Ctx, b []byte) (int, bool) {
	n, ok := ParseInt(b)
	if !ok {
		c.Error(ErrNotInt)
		return 0, false
	}
	if n < -1<<31 || n > 1<<31-1 {
		c.Error(errIntRange)
		return 0, false
	}
	if n < 0 || n >= int64(c.DB.Store().NumDBs()) {
		c.Error(ErrDBIndex)
		return 0, false
	}
	return int(n), true
}

// touchIn records a change of key in database db (not the client's).
func touchIn(c *command.Ctx, db int, key []byte) {
	c.Dirty++
	if c.Touched != nil {
		c.Touched(db, key)
	}
}

func eventIn(c *command.Ctx, db int, event string, key []byte) {
	if c.Notify != nil {
		c.Notify('g', event, db, key, c.Client)
	}
}

func (h *Handlers) copyCmd(c *command.Ctx) {
	src, dstKey := c.Args[1], c.Args[2]
	dstIdx := c.DB.Index()
	replace := false
	for j := 3; j < len(c.Args); j++ {
		switch {
		case EqualFold(c.Args[j], "replace"):
			replace = true
		case EqualFold(c.Args[j], "db") && j+1 < len(c.Args):
			n, ok := dbArg(c, c.Args[j+1])
			if !ok {
				return
			}
			dstIdx = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if dstIdx == c.DB.Index() && string(src) == string(dstKey) {
		c.Error(errSameObject)
		return
	}
	saved := readingView(c)
	e, ok := c.DB.Lookup(src)
	c.DB = saved
	if !ok {
		c.W.Int(0)
		return
	}
	dst := c.DB.Store().DB(dstIdx, c.DB.Now).WithEvents(unsafe.Pointer(c))
	exists := dst.Exists(dstKey)
	if exists && !replace {
		c.W.Int(0)
		return
	}
	v, ok := keyspace.Clone(e.Value())
	if !ok {
		c.Error(errCopyType)
		return
	}
	if exists {
		dst.DeleteLazy(dstKey, keyspace.LazyServerDel) // dbDelete
	}
	dst.Set(dstKey, v, e.Exp)
	keepEmbstr(dst, dstKey, e)
	dst.MarkUnshared(dstKey) // dupStringObject: never a shared integer
	touchIn(c, dstIdx, dstKey)
	eventIn(c, dstIdx, "copy_to", dstKey)
	c.W.Int(1)
}

func (h *Handlers) move(c *command.Ctx) {
	if h.Cluster != nil {
		c.Error("ERR MOVE is not allowed in cluster mode")
		return
	}
	key := c.Args[1]
	dstIdx, ok := dbArg(c, c.Args[2])
	if !ok {
		return
	}
	if dstIdx == c.DB.Index() {
		c.Error(errSameObject)
		return
	}
	e, ok := c.DB.Lookup(key)
	if !ok {
		c.W.Int(0)
		return
	}
	dst := c.DB.Store().DB(dstIdx, c.DB.Now).WithEvents(unsafe.Pointer(c))
	if dst.Exists(key) {
		c.W.Int(0)
		return
	}
	dst.Set(key, e.Value(), e.Exp)
	keepEmbstr(dst, key, e)
	dst.SetAccess(key, e.Access) // the value keeps its LRU/LFU data, as in Redis
	c.DB.Delete(key)
	c.Modified(key)
	if c.Touched != nil {
		c.Touched(dstIdx, key)
	}
	c.Event('g', "move_from", key)
	eventIn(c, dstIdx, "move_to", key)
	c.W.Int(1)
}

func (h *Handlers) swapdb(c *command.Ctx) {
	if h.Cluster != nil {
		c.Error("ERR SWAPDB is not allowed in cluster mode")
		return
	}
	a, ok := ParseInt(c.Args[1])
	if !ok || a < -1<<31 || a > 1<<31-1 {
		c.Error("ERR invalid first DB index")
		return
	}
	b, ok := ParseInt(c.Args[2])
	if !ok || b < -1<<31 || b > 1<<31-1 {
		c.Error("ERR invalid second DB index")
		return
	}
	n := int64(c.DB.Store().NumDBs())
	if a < 0 || a >= n || b < 0 || b >= n {
		c.Error(ErrDBIndex)
		return
	}
	if a != b {
		// WATCH: keys that exist in either database change (LockAll held)
		h.Exec.TouchAllWatched(int(a), int(b))
		h.Exec.TouchAllWatched(int(b), int(a))
		sa := h.blockedStreams(c.DB.Store(), int(a), int(b), c.DB.Now)
		sb := h.blockedStreams(c.DB.Store(), int(b), int(a), c.DB.Now)
		c.DB.Store().SwapDB(int(a), int(b))
		// as Redis 7.0's dbSwapDatabases: the streams that are gone
		// first (their XREADGROUP clients are told), then the waited
		// keys that now exist
		h.Exec.StreamsGone(int(a), sa)
		h.Exec.StreamsGone(int(b), sb)
		h.Exec.TouchBlockedKeys(int(a))
		h.Exec.TouchBlockedKeys(int(b))
	}
	c.Dirty++
	c.W.OK()
}

// flushFlags checks FLUSHDB/FLUSHALL's optional ASYNC|SYNC argument.
func flushFlags(c *command.Ctx) bool {
	if len(c.Args) > 2 || len(c.Args) == 2 && !EqualFold(c.Args[1], "sync") && !EqualFold(c.Args[1], "async") {
		c.Error(ErrSyntax)
		return false
	}
	return true
}

func (h *Handlers) flushdb(c *command.Ctx) {
	if !flushFlags(c) {
		return
	}
	n := c.DB.Size()
	h.Exec.TouchAllWatched(c.DB.Index(), -1) // before anything changes
	h.trackingFlush(c.Client)
	gone := h.blockedStreams(c.DB.Store(), c.DB.Index(), -1, c.DB.Now)
	h.lazyFree(c.DB.Store().DetachDB(c.DB.Index()), h.flushAsync(c), true)
	h.Exec.StreamsGone(c.DB.Index(), gone)
	// as Redis, the removed keys are the changes, and the command is
	// propagated even when the database was already empty
	c.Dirty += n
	c.ForcePropagate = true
	c.W.OK()
}

func (h *Handlers) flushall(c *command.Ctx) {
	if !flushFlags(c) {
		return
	}
	st := c.DB.Store()
	n := 0
	for i := 0; i < st.NumDBs(); i++ {
		n += st.DB(i, c.DB.Now).Size()
		h.Exec.TouchAllWatched(i, -1)
	}
	h.trackingFlush(c.Client)
	gone := make([][]string, st.NumDBs())
	for i := range gone {
		gone[i] = h.blockedStreams(st, i, -1, c.DB.Now)
	}
	// O(shards): the old maps are dropped, the GC reclaims them
	h.lazyFree(st.DetachAll(), h.flushAsync(c), false)
	for i, ks := range gone {
		h.Exec.StreamsGone(i, ks)
	}
	c.Dirty += n
	c.ForcePropagate = true
	// As Redis 7.0, FLUSHALL kills a running BGSAVE (its older snapshot
	// must not land after the flush), and with save points configured
	// writes the (now empty) snapshot at once, which resets
	// rdb_changes_since_last_save; a failed save is only logged.
	if h.Persist != nil && c.Client.Flags&command.ClientLoading == 0 {
		h.Persist.KillBgsave()
		if h.Config.Get("save") != "" {
			_ = h.Persist.SaveHeld(int64(c.Dirty))
		}
	}
	c.W.OK()
}

// EntryEncoding is OBJECT ENCODING for a stored entry: ValueEncoding, but
// "embstr" for a string that reads as an integer where Redis keeps the
// object INCRBYFLOAT created (keyspace.Entry.Embstr).
func EntryEncoding(e keyspace.Entry) string {
	enc := ValueEncoding(e.Value())
	if enc == "int" && e.Embstr() {
		return "embstr"
	}
	return enc
}

// keepEmbstr carries src's Embstr and Unshared marks to key in db, which
// was just set to a copy of src's value (RENAME, MOVE and COPY keep
// Redis's object).
func keepEmbstr(db keyspace.DB, key []byte, src keyspace.Entry) {
	if src.Embstr() {
		db.MarkEmbstr(key)
	}
	if src.Unshared() {
		db.MarkUnshared(key)
	}
}

// ValueEncoding is OBJECT ENCODING for any stored value.
func ValueEncoding(v any) string {
	switch x := v.(type) {
	case []byte:
		return StringEncoding(x)
	case interface{ Encoding() string }:
		return x.Encoding()
	}
	return "unknown"
}

func (h *Handlers) objectEncoding(c *command.Ctx) {
	e, ok := c.DB.Inspect(c.Args[2])
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(EntryEncoding(e))
}

func (h *Handlers) lfuPolicy() bool {
	if h.Config == nil {
		return false
	}
	p := h.Config.Get("maxmemory-policy")
	return p == "allkeys-lfu" || p == "volatile-lfu"
}

// OBJECT FREQ and IDLETIME read the entry's access field without touching
// it (keyspace.Entry.Access: LFU counter or LRU clock by policy).
func (h *Handlers) objectFreq(c *command.Ctx) {
	e, ok := c.DB.Inspect(c.Args[2])
	if !ok {
		c.W.Null()
		return
	}
	if !h.lfuPolicy() {
		c.Error(errNoLFU)
		return
	}
	c.W.Int(int64(c.DB.Store().LFUCounter(e.Access, c.Now())))
}

func (h *Handlers) objectIdletime(c *command.Ctx) {
	e, ok := c.DB.Inspect(c.Args[2])
	if !ok {
		c.W.Null()
		return
	}
	if h.lfuPolicy() {
		c.Error(errNoLRU)
		return
	}
	c.W.Int(keyspace.IdleSeconds(e.Access, c.Now()))
}

func (h *Handlers) objectRefcount(c *command.Ctx) {
	e, ok := c.DB.Inspect(c.Args[2])
	if !ok {
		c.W.Null()
		return
	}
	c.W.Int(h.refcount(e))
}

// refcount is a value's refcount as Redis would show it: the integers
// 0..9999 are shared objects (refcount INT_MAX) unless made while
// maxmemory with an LRU/LFU policy disabled them (Entry.Unshared, set when
// the value was written: a change of policy does not change it, as in
// Redis); anything else 1.
func (h *Handlers) refcount(e keyspace.Entry) int64 {
	if b, isStr := e.Str(); isStr && cap(b) == len(b) && len(b) <= 4 && !e.Embstr() && !e.Unshared() {
		if n, ok := ParseInt(b); ok && n >= 0 && n < 10000 {
			return 2147483647
		}
	}
	return 1
}

// NoSharedIntegers reports whether maxmemory (bytes) with policy disables
// Redis's shared integers (an LRU or LFU policy): the values made
// meanwhile are objects of their own (keyspace.Store.SetNoSharedIntegers;
// a value made before keeps its shared object, as in Redis).
func NoSharedIntegers(maxmemory int64, policy string) bool {
	if maxmemory == 0 {
		return false
	}
	return policy != "noeviction" && policy != "allkeys-random" && policy != "volatile-random" && policy != "volatile-ttl"
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func (h *Handlers) objectHelp(c *command.Ctx) {
	c.W.Array(len(objectHelp))
	for _, l := range objectHelp {
		c.W.Simple(l)
	}
}
