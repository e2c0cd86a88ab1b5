package commands

// MEMORY and DEBUG, INFO's operating fields (instantaneous rates) and
// per-script metrics.

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/aof"
	"github.com/crescent-db/crescent/internal/persist/codec"
	"github.com/crescent-db/crescent/internal/resp"
)

func (h *Handlers) registerMemoryOps() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("memory|usage", h.memoryUsage)
	t.Handle("memory|stats", h.memoryStats, command.WithLock(command.LockAll))
	t.Handle("memory|doctor", h.memoryDoctor, none)
	t.Handle("memory|malloc-stats", func(c *command.Ctx) {
		c.W.Verbatim("txt", "Stats not supported for the current allocator")
	}, none)
	t.Handle("memory|purge", func(c *command.Ctx) { debug.FreeOSMemory(); c.W.OK() }, none)
	t.Handle("memory|help", func(c *command.Ctx) { writeHelp(c, memoryHelp) }, none)
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

// memoryUsage is MEMORY USAGE: the key's accounted size (name, value and
// per-entry overhead; values implementing keyspace.Sizer report theirs).
func (h *Handlers) memoryUsage(c *command.Ctx) {
	for i := 3; i < len(c.Args); i++ {
		if EqualFold(c.Args[i], "samples") && i+1 < len(c.Args) {
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				c.Error(ErrSyntax)
				return
			}
			// sizes are maintained exactly: no sampling needed
			i++
			continue
		}
		c.Error(ErrSyntax)
		return
	}
	e, ok := c.DB.PeekStored(c.Args[2]) // dictFind, as Redis: an expired key not reclaimed yet counts
	if !ok {
		c.W.Null()
		return
	}
	c.W.Int(e.Size())
}

func (h *Handlers) memoryStats(c *command.Ctx) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := h.Exec.UsedMemory()
	type kv struct {
		k string
		v any
	}
	keys := 0
	var pairs []kv
	add := func(k string, v any) { pairs = append(pairs, kv{k, v}) }
	add("peak.allocated", int64(ms.HeapSys))
	add("total.allocated", used)
	add("startup.allocated", h.Exec.BaseMemory)
	add("replication.backlog", int64(0))
	add("clients.slaves", int64(0))
	add("clients.normal", h.Server.ClientsMemory()) // as INFO mem_clients_normal
	add("cluster.links", int64(0))
	add("aof.buffer", int64(0))
	add("lua.caches", int64(0))
	add("functions.caches", int64(0))
	for i := 0; i < h.Store.NumDBs(); i++ {
		db := h.Store.DB(i, c.Now())
		n := db.Size()
		if n == 0 {
			continue
		}
		keys += n
		add(fmt.Sprintf("db.%d", i), []kv{{"overhead.hashtable.main", int64(n * 64)},
			{"overhead.hashtable.expires", int64(db.Volatile() * 32)}, {"overhead.hashtable.slot-to-keys", int64(0)}})
	}
	overhead := h.Exec.BaseMemory
	dataset := used - overhead
	add("overhead.total", overhead)
	add("keys.count", int64(keys))
	bpk := int64(0)
	if keys > 0 {
		bpk = used / int64(keys)
	}
	add("keys.bytes-per-key", bpk)
	add("dataset.bytes", dataset)
	add("dataset.percentage", pct(dataset, used))
	add("peak.percentage", pct(used, int64(ms.HeapSys)))
	add("allocator.allocated", int64(ms.HeapAlloc))
	add("allocator.active", int64(ms.HeapInuse))
	add("allocator.resident", int64(ms.HeapSys-ms.HeapReleased))
	add("allocator-fragmentation.ratio", ratio(int64(ms.HeapInuse), int64(ms.HeapAlloc)))
	add("allocator-fragmentation.bytes", int64(ms.HeapInuse)-int64(ms.HeapAlloc))
	add("allocator-rss.ratio", ratio(int64(ms.HeapSys-ms.HeapReleased), int64(ms.HeapInuse)))
	add("allocator-rss.bytes", int64(ms.HeapSys-ms.HeapReleased)-int64(ms.HeapInuse))
	rss := processRSS()
	add("rss-overhead.ratio", ratio(rss, int64(ms.HeapSys-ms.HeapReleased)))
	add("rss-overhead.bytes", rss-int64(ms.HeapSys-ms.HeapReleased))
	add("fragmentation", ratio(rss, used))
	add("fragmentation.bytes", rss-used)
	var write func(ps []kv)
	write = func(ps []kv) {
		c.W.Map(len(ps))
		for _, p := range ps {
			c.W.BulkString(p.k)
			switch v := p.v.(type) {
			case int64:
				c.W.Int(v)
			case float64:
				c.W.Double(v)
			case []kv:
				write(v)
			}
		}
	}
	write(pairs)
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) * 100 / float64(b)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (h *Handlers) memoryDoctor(c *command.Ctx) {
	used := h.Exec.UsedMemory()
	if used < 5<<20 {
		c.W.Verbatim("txt", "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
		return
	}
	rss := processRSS()
	if used > 0 && float64(rss)/float64(used) > 1.4 && rss-used > 10<<20 {
		c.W.Verbatim("txt", "Sam, I detected a few issues in this Redis instance memory implants:\n\n"+
			fmt.Sprintf(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"go\" (RSS %d bytes, used %d bytes).\n\n", rss, used)+
			"I'm here to keep you safe, Sam. I want to help you.\n")
		return
	}
	c.W.Verbatim("txt", "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
}

// --- DEBUG

// debugHelp is DEBUG HELP as Redis 7.0.15 prints it, every subcommand
// listed (the deliberate crashes too: Crescent refuses them, see
// docs/design/fidelity.md).
var debugHelp = []string{
	"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"AOF-FLUSH-SLEEP <microsec>",
	"    Server will sleep before flushing the AOF, this is used for testing.",
	"ASSERT",
	"    Crash by assertion failed.",
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"CONFIG-REWRITE-FORCE-ALL",
	"    Like CONFIG REWRITE but writes all configuration options, including",
	"    keywords not listed in original configuration file or default values.",
	"CRASH-AND-RECOVER [<milliseconds>]",
	"    Hard crash and restart after a <milliseconds> delay (default 0).",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LEAK <string>",
	"    Create a memory leak of the input string.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"HTSTATS <dbid>",
	"    Return hash table statistics of the specified Redis database.",
	"HTSTATS-KEY <key>",
	"    Like HTSTATS but for the hash table stored at <key>'s value.",
	"LOADAOF",
	"    Flush the AOF buffers on disk and reload the AOF in memory.",
	"REPLICATE <string>",
	"    Replicates the provided string to replicas, allowing data divergence.",
	"MALLCTL <key> [<val>]",
	"    Get or set a malloc tuning integer.",
	"MALLCTL-STR <key> [<val>]",
	"    Get or set a malloc tuning string.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"DROP-CLUSTER-PACKET-FILTER <packet-type>",
	"    Drop all packets that match the filtered type. Set to -1 allow all packets.",
	"OOM",
	"    Crash the server simulating an out-of-memory error.",
	"PANIC",
	"    Crash the server simulating a panic.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas. Cluster slots are not respected so keys not belonging to the",
	"    current node can be created in cluster mode.",
	"PROTOCOL <type>",
	"    Reply with a test value of the specified type. <type> can be: string,",
	"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
	"    true, false.",
	"RELOAD [option ...]",
	"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
	"    * MERGE: conflicting keys will be loaded from RDB.",
	"    * NOFLUSH: the existing database will not be removed before load, but",
	"      conflicting keys will generate an exception and kill the server.",
	"    * NOSAVE: the database will be loaded from an existing RDB file.",
	"    Examples:",
	"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
	"      the database.",
	"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
	"      existing RDB file.",
	"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
	"      file to the database.",
	"RESTART [<milliseconds>]",
	"    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
	"SDSLEN <key>",
	"    Show low level SDS string info representing `key` and value.",
	"SEGFAULT",
	"    Crash the server with sigsegv.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"QUICKLIST-PACKED-THRESHOLD <size>",
	"    Sets the threshold for elements to be inserted as plain vs packed nodes",
	"    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
	"SET-SKIP-CHECKSUM-VALIDATION <0|1>",
	"    Enables or disables checksum checks for RDB files and RESTORE's payload.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"STRINGMATCH-TEST",
	"    Run a fuzz tester against the stringmatchlen() function.",
	"STRUCTSIZE",
	"    Return the size of different Redis core C structures.",
	"LISTPACK <key>",
	"    Show low level info about the listpack encoding of <key>.",
	"QUICKLIST <key> [<0|1>]",
	"    Show low level info about the quicklist encoding of <key>.",
	"    The optional argument (0 by default) sets the level of detail",
	"CLIENT-EVICTION",
	"    Show low level client eviction pools info (maxmemory-clients).",
	"PAUSE-CRON <0|1>",
	"    Stop periodic cron job processing.",
	"REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
	"    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
	"    In case NEVER is provided the last observed peak will never be reset",
	"    In case RESET is provided the peak reset time will be restored to the default value",
	"REPLYBUFFER RESIZING <0|1>",
	"    Enable or disable the reply buffer resize cron job",
	"CLUSTERLINK KILL <to|from|all> <node-id>",
	"    Kills the link based on the direction to/from (both) with the provided node.",
	"HELP",
	"    Prints this help.",
}

// errDebugNotAllowed is Redis's reply to DEBUG where enable-debug-command
// forbids it (the default: DEBUG can stall or crash a server).
const errDebugNotAllowed = `ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`

func (h *Handlers) debug(c *command.Ctx) {
	if !h.protectedAllowed("enable-debug-command", c.Client) {
		c.Error(errDebugNotAllowed)
		return
	}
	sub := strings.ToLower(string(c.Args[1]))
	n := len(c.Args)
	switch {
	case sub == "help" && n == 2:
		writeHelp(c, debugHelp)
	case sub == "sleep" && n == 3:
		f, _ := strconv.ParseFloat(string(c.Args[2]), 64) // strtod: junk is 0
		time.Sleep(time.Duration(f * float64(time.Second)))
		c.W.OK()
	case sub == "set-active-expire" && n == 3:
		// atoi, as Redis: anything not a number is 0 (off)
		h.ops.activeExpireOff.Store(command.Atoi(c.Args[2]) == 0)
		c.W.OK()
	case sub == "pause-cron" && n == 3:
		// atoi, as Redis: anything not a number is 0 (running)
		h.ops.cronPaused.Store(command.Atoi(c.Args[2]) != 0)
		c.W.OK()
	case sub == "replybuffer" && n == 4 && EqualFold(c.Args[2], "peak-reset-time"):
		switch {
		case EqualFold(c.Args[3], "never"):
			h.ops.replyPeakReset.Store(-1)
		case EqualFold(c.Args[3], "reset"):
			h.ops.replyPeakReset.Store(DefaultReplyPeakReset)
		default:
			ms, ok := ParseInt(c.Args[3])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			h.ops.replyPeakReset.Store(ms)
		}
		c.W.OK()
	case sub == "replybuffer" && n == 4 && EqualFold(c.Args[2], "resizing"):
		// accepted as Redis does (atoi); Crescent's reply buffers are
		// not resized by a cron job, so there is nothing to switch
		c.W.OK()
	case sub == "set-disable-deny-scripts" && n == 3:
		// atoi, as Redis: anything not a number is 0 (scripts denied again)
		h.Exec.ScriptNoScriptAllowed.Store(command.Atoi(c.Args[2]) != 0)
		c.W.OK()
	case sub == "object" && n == 3:
		h.debugObject(c)
	case sub == "digest" && n == 2:
		h.debugDigest(c, false)
	case sub == "digest-value" && n >= 2:
		h.debugDigest(c, true)
	case sub == "protocol" && n == 3:
		debugProtocol(c)
	case sub == "change-repl-id" && n == 2:
		h.Log.Warn("Changing replication IDs after receiving DEBUG change-repl-id")
		if h.Repl != nil {
			h.Repl.ChangeReplID()
		}
		c.W.OK()
	case sub == "log" && n == 3:
		h.Log.Warn("DEBUG LOG: " + string(c.Args[2]))
		c.W.OK()
	case sub == "error" && n == 3:
		c.Error(string(c.Args[2]))
	case sub == "populate" && n >= 3 && n <= 5:
		h.debugPopulate(c)
	case sub == "config-rewrite-force-all" && n == 2:
		h.debugConfigRewriteForceAll(c)
	case sub == "reload":
		h.debugReload(c)
	case sub == "loadaof" && n == 2:
		h.debugLoadAOF(c)
	case sub == "replicate" && n >= 3:
		// to the replicas as it is, not run, not in the AOF (Redis's
		// replicationFeedSlaves): a way to make a replica diverge
		if h.Repl != nil {
			h.Repl.ReplicateRaw(c.Client, c.Args[2:])
		}
		c.W.OK()
	case sub == "quicklist-packed-threshold" && n == 3:
		debugPackedThreshold(c)
	case sub == "set-skip-checksum-validation" && n == 3:
		setSkipChecksum(c)
	case sub == "aof-flush-sleep" && n == 3:
		aof.FlushSleep.Store(int64(command.Atoi(c.Args[2]))) // atoi, as Redis
		c.W.OK()
	case sub == "leak" && n == 3:
		// Redis leaks a copy of the argument (for its leak checker); a
		// garbage collected server cannot leak it: nothing to do
		c.W.OK()
	case sub == "sdslen" && n == 3:
		debugSDSLen(c)
	case sub == "listpack" && n == 3:
		debugListpack(c)
	case sub == "quicklist" && (n == 3 || n == 4):
		debugQuicklist(c)
	case sub == "structsize" && n == 2:
		debugStructSize(c)
	case sub == "htstats" && n == 3:
		h.debugHTStats(c)
	case sub == "htstats-key" && n == 3:
		debugHTStatsKey(c)
	case sub == "stringmatch-test" && n == 2:
		debugStringMatchTest(c)
	case sub == "client-eviction" && n == 2:
		h.debugClientEviction(c)
	case sub == "mallctl" && n >= 3:
		debugMallctl(c, true)
	case sub == "mallctl-str" && n >= 3:
		debugMallctl(c, false)
	case sub == "drop-cluster-packet-filter" && n == 3:
		// parsed as Redis; Crescent's cluster has no cluster bus packets
		if _, ok := ParseInt(c.Args[2]); !ok {
			c.Error(ErrNotInt)
			return
		}
		c.W.OK()
	case sub == "clusterlink" && n == 5 && EqualFold(c.Args[2], "kill"):
		h.debugClusterLink(c)
	default:
		c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP.", c.Args[1]))
	}
}

// debugObject is DEBUG OBJECT key: Redis's fields, serializedlength the
// value's RDB encoding's length, and a quicklist's ql_* fields for lists.
func (h *Handlers) debugObject(c *command.Ctx) {
	e, ok := c.DB.PeekStored(c.Args[2]) // dictFind, as Redis: no expiry check
	if !ok {
		c.Error(ErrNoSuchKey)
		return
	}
	serialized := 0
	if p, err := h.Codecs.Dump(e.Value(), h.Config.Bool("rdbcompression")); err == nil {
		serialized = len(p) - 11 // the type byte, the version and the CRC
	}
	extra := ""
	if l, ok := e.Value().(*keyspace.List); ok {
		nodes, size, fill := codec.QuicklistStats(l)
		compressed := 0 // the list's own depth != 0, as debug.c prints it
		if l.CompressDepth() != 0 {
			compressed = 1
		}
		extra = fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%d",
			nodes, float64(l.Len())/float64(nodes), fill, compressed, size)
	}
	idle := keyspace.IdleSeconds(e.Access, c.Now())
	c.W.Simple(fmt.Sprintf("Value at:0x%012x refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s",
		uint64(keyspace.HashForDebug(c.Args[2])), h.refcount(e), EntryEncoding(e), serialized, e.Access&(1<<24-1), idle, extra))
}

// debugProtocol is DEBUG PROTOCOL type: one reply of each RESP type, as
// Redis sends them (client libraries test their parsers with it).
func debugProtocol(c *command.Ctx) {
	w := c.W
	resp3 := w.ProtoVersion() >= 3
	switch strings.ToLower(string(c.Args[2])) {
	case "string":
		w.BulkString("Hello World")
	case "integer":
		w.Int(12345)
	case "double":
		w.Double(3.141)
	case "bignum":
		w.BigNumber("1234567999999999999999999999999999999")
	case "null":
		w.Null()
	case "array":
		w.Array(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "set":
		w.Set(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "map":
		w.Map(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
			w.Bool(j == 1)
		}
	case "attrib":
		if aw, ok := w.(interface{ Attribute(n int) }); ok && resp3 {
			aw.Attribute(1)
			w.BulkString("key-popularity")
			w.Array(2)
			w.BulkString("key:123")
			w.Int(90)
		}
		// attributes are not replies: a real one follows
		w.BulkString("Some real reply following the attribute")
	case "push":
		if !resp3 {
			c.Error("ERR RESP2 is not supported by this command")
			return
		}
		w.Push(2)
		w.BulkString("server-cpu-usage")
		w.Int(42)
		// a push is not the command's reply: a real one follows
		w.BulkString("Some real reply following the push reply")
	case "verbatim":
		w.Verbatim("txt", "This is a verbatim\nstring")
	case "true":
		w.Bool(true)
	case "false":
		w.Bool(false)
	default:
		c.Error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}

// debugReload implements DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the
// RDB file (unless NOSAVE), empty the dataset and the function libraries
// (unless NOFLUSH) and load the file back (MERGE: loaded keys and
// libraries replace ones present). It runs holding the whole keyspace.
func (h *Handlers) debugReload(c *command.Ctx) {
	save, flush, merge := true, true, false
	for _, a := range c.Args[2:] {
		switch {
		case EqualFold(a, "merge"):
			merge = true
		case EqualFold(a, "noflush"):
			flush = false
		case EqualFold(a, "nosave"):
			save = false
		default:
			c.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	if h.Persist == nil {
		c.Error(errNoPersistence)
		return
	}
	var empty func()
	if flush {
		empty = func() {
			st := c.DB.Store()
			for i := 0; i < st.NumDBs(); i++ {
				h.Exec.TouchAllWatched(i, -1)
			}
			h.trackingFlush(c.Client)
			st.DetachAll() // dropped: the GC reclaims the old maps
			h.scripts.libs.Flush()
		}
	}
	saveErr, loadErr := h.Persist.Reload(save, merge, empty)
	switch {
	case saveErr != nil:
		c.Error("ERR")
	case loadErr != nil:
		c.Error(errReloadLoad)
	default:
		c.W.OK()
	}
}

// debugLoadAOF implements DEBUG LOADAOF: the AOF is written and fsynced,
// the keys of every database and the function libraries are dropped (as
// Redis 7.0's emptyData does) and the AOF files are replayed. It runs holding the whole keyspace. Where redis-server 7.0
// exits (no AOF files, or files that do not load), Crescent answers an
// error: with no files, before dropping anything.
func (h *Handlers) debugLoadAOF(c *command.Ctx) {
	if h.Persist == nil {
		c.Error(errNoPersistence)
		return
	}
	err := h.Persist.ReloadAOF(func() {
		st := c.DB.Store()
		for i := 0; i < st.NumDBs(); i++ {
			h.Exec.TouchAllWatched(i, -1)
		}
		h.trackingFlush(c.Client)
		st.DetachAll()
		h.scripts.libs.Flush()
	})
	if err != nil {
		c.Error("ERR DEBUG LOADAOF failed: " + err.Error())
		return
	}
	c.W.OK()
}

// errReloadLoad is DEBUG RELOAD's reply when the RDB file does not load.
const errReloadLoad = "ERR Error trying to load the RDB dump"

// populateKeyMax is the longest key DEBUG POPULATE makes: Redis 7.0
// formats it into a 128-byte buffer, so a longer one is cut (and the keys
// it would have made distinct become one).
const populateKeyMax = 127

func (h *Handlers) debugPopulate(c *command.Ctx) {
	count, ok := ParseInt(c.Args[2])
	if !ok || count < 0 {
		c.Error("ERR value is out of range, must be positive")
		return
	}
	prefix := "key"
	if len(c.Args) >= 4 {
		prefix = string(c.Args[3])
		if i := strings.IndexByte(prefix, 0); i >= 0 {
			prefix = prefix[:i] // Redis formats it with %s
		}
	}
	size := int64(-1)
	if len(c.Args) == 5 {
		s, ok := ParseInt(c.Args[4])
		if !ok || s < 0 {
			c.Error("ERR value is out of range, must be positive")
			return
		}
		size = s
	}
	for i := int64(0); i < count; i++ {
		key := []byte(prefix + ":" + strconv.FormatInt(i, 10))
		if len(key) > populateKeyMax {
			key = key[:populateKeyMax]
		}
		if c.DB.Exists(key) {
			continue
		}
		val := []byte("value:" + strconv.FormatInt(i, 10))
		if size > 0 { // 0 is Redis's default: "value:<n>"
			v := make([]byte, size)
			copy(v, val)
			val = v
		}
		c.DB.Set(key, val, 0)
		c.Modified(key)
	}
	c.Dirty = 0 // not propagated, as Redis
	c.W.OK()
}

// --- instantaneous metrics (Redis's trackInstantaneousMetric)

const opsSamples = 16

type opsSampler struct {
	mu      sync.Mutex
	last    time.Time
	lastOps [3]int64 // commands, net input, net output
	samples [3][opsSamples]float64
	idx     int
}

func (s *opsSampler) sample(now time.Time, cur [3]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.IsZero() {
		s.last, s.lastOps = now, cur
		return
	}
	dt := now.Sub(s.last).Seconds()
	if dt < 0.09 {
		return
	}
	for i := range cur {
		s.samples[i][s.idx] = float64(cur[i]-s.lastOps[i]) / dt
	}
	s.idx = (s.idx + 1) % opsSamples
	s.last, s.lastOps = now, cur
}

// reset forgets the samples (CONFIG RESETSTAT resets the counters they
// are taken from, as Redis's resetServerStats clears inst_metric).
func (s *opsSampler) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.lastOps, s.samples, s.idx = time.Time{}, [3]int64{}, [3][opsSamples]float64{}, 0
}

func (s *opsSampler) rate(i int) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum float64
	for _, v := range s.samples[i] {
		sum += v
	}
	return sum / opsSamples
}

// opsCron samples the counters behind INFO's instantaneous_* fields.
func (h *Handlers) opsCron() {
	if h.ops.tr.pending.Load() { // keys the active expiry deleted
		h.trackBroadcast(true)
	}
	if h.Exec.Guard.Load()&exec.GuardTrackLimit != 0 {
		h.trackLimit(nil) // Redis's serverCron does it too, with no client
	}
	h.ops.ops.sample(time.Now(), [3]int64{h.Exec.TotalCmds.Load(), h.Net.NetInput.Load(), h.Net.NetOutput.Load()})
}

// --- per-script metrics

// ScriptStat is one script's (or function's) call statistics.
// Every call of the script writes it, from whichever core runs the call:
// its counters are striped (exec.Counter).
type ScriptStat struct {
	Calls, Errors exec.Counter
	Hist          exec.Histogram
	UsecTotal     exec.Counter
	name          string
}

type scriptMetrics struct {
	mu      sync.Mutex
	scripts map[string]*ScriptStat
}

// ScriptStatFor returns the statistics of a script by name ("sha" for
// EVAL scripts, "function:<name>" for functions).
func (h *Handlers) ScriptStatFor(name string) *ScriptStat {
	m := &h.ops.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scripts == nil {
		m.scripts = map[string]*ScriptStat{}
	}
	st := m.scripts[name]
	if st == nil {
		st = &ScriptStat{name: name}
		m.scripts[name] = st
	}
	return st
}

// ScriptStats calls fn for each script with statistics, sorted by name.
func (h *Handlers) ScriptStats(fn func(name string, st *ScriptStat)) {
	m := &h.ops.metrics
	m.mu.Lock()
	names := make([]string, 0, len(m.scripts))
	for n := range m.scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	stats := make([]*ScriptStat, len(names))
	for i, n := range names {
		stats[i] = m.scripts[n]
	}
	m.mu.Unlock()
	for i, n := range names {
		fn(n, stats[i])
	}
}

// ScriptDone records one run of a script (EVAL sha or function): its
// duration and whether it replied with an error; past
// slowlog-log-slower-than it logs a warning naming the script. cache,
// when not nil, holds the script's record once looked up (script.Script's
// or script.FunctionInfo's Stats): the lookup takes the metrics' mutex.
// name is needed only while cache holds nothing.
func (h *Handlers) ScriptDone(name string, cache *atomic.Value, d time.Duration, failed bool) {
	var st *ScriptStat
	if cache != nil {
		st, _ = cache.Load().(*ScriptStat)
	}
	if st == nil {
		st = h.ScriptStatFor(name)
		if cache != nil {
			cache.Store(st)
		}
	}
	usec := int64(d / time.Microsecond)
	sl := exec.Stripe()
	st.Calls.AddAt(sl, 1)
	st.UsecTotal.AddAt(sl, usec)
	st.Hist.RecordAt(sl, usec)
	if failed {
		st.Errors.AddAt(sl, 1)
	}
	if thr := h.ops.slowThr.Int(); thr >= 0 && usec >= thr && h.Log != nil && thr > 0 {
		h.Log.Warn("slow script", "script", st.name, "duration_us", usec, "threshold_us", thr)
	}
}

// errWatch passes replies through and notes whether the top-level reply
// was an error (script metrics).
type errWatch struct {
	resp.ReplyWriter
	c      *command.Ctx // the EVAL / FCALL, whose error counters a script's errors feed
	failed bool
	wrote  bool
}

// NoteError implements script.ErrorNoter: an error the script returns
// counts in errorstats unless redis.call already counted it. It records
// the error as Error does: a table reply stopped by the client's output
// limit notes the errors it no longer writes.
func (w *errWatch) NoteError(msg string, counted bool) {
	if !w.wrote {
		w.failed = true
	}
	w.wrote = true
	if counted {
		w.c.Failed = true
		return
	}
	w.c.CountError(msg)
}

// Unwrap returns the writer under w: a script's table reply watches the
// connection's writer for the client's output limit.
func (w *errWatch) Unwrap() resp.ReplyWriter { return w.ReplyWriter }

// Error records an error reply.
func (w *errWatch) Error(msg string) {
	if !w.wrote {
		w.failed = true
	}
	w.wrote = true
	w.ReplyWriter.Error(msg)
}

// --- lazy freeing

// lazyfreeThreshold is Redis's LAZYFREE_THRESHOLD: a value whose free
// effort passes it is freed in the background by UNLINK.
const lazyfreeThreshold = 64

// noteLazyFree counts, before UNLINK deletes key, the value Redis would
// free in the background (freeObjAsync): one more lazyfreed_objects when
// its free effort passes lazyfreeThreshold. Crescent's GC frees it either
// way; only the statistic follows Redis.
func (h *Handlers) noteLazyFree(db keyspace.DB, key []byte) {
	e, ok := db.Inspect(key)
	if ok && freeEffort(e.Value()) > lazyfreeThreshold {
		h.ops.lazyFreed.Add(1)
	}
}

// LazyFreed counts a value the keyspace dropped by a lazy deletion
// (keyspace.Hooks.LazyFree: an overwrite, an expiry, an eviction under
// lazyfree-lazy-server-del, -expire, -eviction) as noteLazyFree does.
func (h *Handlers) LazyFreed(v any) {
	if freeEffort(v) > lazyfreeThreshold {
		h.ops.lazyFreed.Add(1)
	}
}

// freeEffort is Redis 7.0's lazyfreeGetFreeEffort: the allocations a
// value's free takes (quicklist nodes, hash table entries, skiplist
// nodes, a stream's rax nodes plus its groups times one and the first
// group's PEL), 1 for a single allocation.
func freeEffort(v any) int {
	switch x := v.(type) {
	case *keyspace.List:
		nodes, _, _ := codec.QuicklistStats(x)
		return nodes
	case *keyspace.Set, *keyspace.Hash, *keyspace.ZSet:
		switch ValueEncoding(v) {
		case "hashtable", "skiplist":
			return int(v.(interface{ Len() int }).Len())
		}
	case *keyspace.Stream:
		effort := radixNodes(x)
		if gs := x.Groups(); len(gs) > 0 {
			first := gs[0] // the first in the rax: the smallest name
			for _, g := range gs[1:] {
				if g.Name < first.Name {
					first = g
				}
			}
			effort += len(gs) * (1 + first.PEL.Len())
		}
		return effort
	}
	return 1
}

// flushAsync reports whether a FLUSHALL/FLUSHDB frees in the background:
// ASYNC, or no argument with lazyfree-lazy-user-flush yes.
func (h *Handlers) flushAsync(c *command.Ctx) bool {
	if len(c.Args) == 2 {
		return EqualFold(c.Args[1], "async")
	}
	return h.Config.Bool("lazyfree-lazy-user-flush")
}

// lazyFree drops detached databases. Dropping the maps is O(1); what
// remains is accounting (FLUSHDB: subtracting the entries' sizes from
// their shards), done inline for SYNC and on a goroutine for ASYNC.
//
// Only an ASYNC flush counts its keys in lazyfreed_objects, as Redis 7.0
// (lazyfreeFreeDatabase; a SYNC flush frees in the command).
func (h *Handlers) lazyFree(d *keyspace.Detached, async, account bool) {
	n := int64(d.Keys())
	if !account {
		if async {
			h.ops.lazyFreed.Add(n)
		}
		return
	}
	if !async {
		h.Store.ReleaseAccounting(d)
		return
	}
	h.ops.lazyPending.Add(n)
	go func() {
		h.Store.ReleaseAccounting(d)
		h.ops.lazyPending.Add(-n)
		h.ops.lazyFreed.Add(n)
	}()
}
