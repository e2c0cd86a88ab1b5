package commands

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/resp"
)

func (h *Handlers) registerServer() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	all := command.WithLock(command.LockAll)
	t.Handle("command", h.commandAll, none)
	t.Handle("command|count", h.commandCount, none)
	t.Handle("command|info", h.commandInfo, none)
	t.Handle("command|docs", h.commandDocs, none)
	t.Handle("command|list", h.commandList, none)
	t.Handle("command|getkeys", h.commandGetKeys, none)
	t.Handle("command|getkeysandflags", h.commandGetKeysAndFlags, none)
	t.Handle("command|help", h.commandHelp, none)
	t.Handle("config|get", h.configGet, none)
	t.Handle("config|set", h.configSet, none)
	t.Handle("config|resetstat", h.configResetStat, none)
	t.Handle("info", h.info, all)
	t.Handle("dbsize", h.dbsize, all)
	t.Handle("shutdown", h.shutdown, none)
	t.Handle("debug", h.debug, all)
}

// writeTree writes a metadata tree (see command.Table) as RESP.
func writeTree(w resp.ReplyWriter, v any) {
	switch x := v.(type) {
	case nil:
		w.Null()
	case float64:
		w.Int(int64(x))
	case string:
		if len(x) > 0 && x[0] == '+' {
			w.Simple(x[1:])
		} else if len(x) > 0 {
			w.BulkString(x[1:])
		} else {
			w.BulkString("")
		}
	case []any:
		n := len(x) - 1
		switch x[0] {
		case "%":
			w.Map(n / 2)
		case "~":
			w.Set(n)
		default:
			w.Array(n)
		}
		for _, e := range x[1:] {
			writeTree(w, e)
		}
	}
}

func writeKeySpec(w resp.ReplyWriter, k *command.KeySpec) {
	n := 3
	if k.Notes != "" {
		n++
	}
	w.Map(n)
	if k.Notes != "" {
		w.BulkString("notes")
		w.BulkString(k.Notes)
	}
	w.BulkString("flags")
	w.Set(len(k.Flags))
	for _, f := range k.Flags {
		w.Simple(f)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString(k.BeginType)
	w.BulkString("spec")
	switch k.BeginType {
	case "index":
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(k.BeginIndex))
	case "keyword":
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(k.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(k.StartFrom))
	default:
		w.Map(0)
	}
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString(k.FindType)
	w.BulkString("spec")
	switch k.FindType {
	case "range":
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(k.LastKey))
		w.BulkString("keystep")
		w.Int(int64(k.KeyStep))
		w.BulkString("limit")
		w.Int(int64(k.Limit))
	case "keynum":
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(k.KeyNumIdx))
		w.BulkString("firstkey")
		w.Int(int64(k.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(k.KeyStep))
	default:
		w.Map(0)
	}
}

// WriteCommandInfo renders one COMMAND INFO entry from its Spec.
func WriteCommandInfo(w resp.ReplyWriter, s *command.Spec) {
	w.Array(10)
	w.BulkString(s.Name)
	w.Int(int64(s.Arity))
	names := s.Flags.Names()
	w.Set(len(names))
	for _, f := range names {
		w.Simple(f)
	}
	w.Int(int64(s.FirstKey))
	w.Int(int64(s.LastKey))
	w.Int(int64(s.Step))
	w.Set(len(s.ACL))
	for _, c := range s.ACL {
		w.Simple(c)
	}
	w.Set(len(s.Tips))
	for _, t := range s.Tips {
		w.BulkString(t) // tips are bulk strings, unlike flags and categories
	}
	w.Set(len(s.KeySpecs))
	for i := range s.KeySpecs {
		writeKeySpec(w, &s.KeySpecs[i])
	}
	subs := servedSubs(s)
	w.Set(len(subs))
	for _, sub := range subs {
		WriteCommandInfo(w, sub)
	}
}

func servedSubs(s *command.Spec) []*command.Spec {
	var out []*command.Spec
	for _, sub := range s.Subs {
		if sub.Handler != nil {
			out = append(out, sub)
		}
	}
	return out
}

func (h *Handlers) commandAll(c *command.Ctx) {
	all := h.Table.All()
	c.W.Array(len(all))
	for _, s := range all {
		WriteCommandInfo(c.W, s)
	}
}

var commandHelpLines = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
	"HELP",
	"    Prints this help.",
}

func (h *Handlers) commandHelp(c *command.Ctx) { writeHelp(c, commandHelpLines) }

// writeHelp writes a HELP reply: one status line per entry.
func writeHelp(c *command.Ctx, lines []string) {
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}

func (h *Handlers) commandCount(c *command.Ctx) { c.W.Int(int64(len(h.Table.All()))) }

func (h *Handlers) lookupAny(name []byte) *command.Spec {
	parent, sub, ok := strings.Cut(string(name), "|")
	s := h.Table.LookupString(parent)
	if s == nil || !ok {
		return s
	}
	sp := s.Sub([]byte(sub))
	if sp == nil || sp.Handler == nil {
		return nil
	}
	return sp
}

func (h *Handlers) commandInfo(c *command.Ctx) {
	if len(c.Args) == 2 {
		h.commandAll(c)
		return
	}
	g := c.ReplyGuard(0) // a name given many times: many copies of its entry
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if s := h.lookupAny(a); s != nil {
			WriteCommandInfo(c.W, s)
		} else {
			c.W.Null()
		}
		if g.Stop(c, "") {
			break
		}
	}
}

func writeDocs(w resp.ReplyWriter, s *command.Spec) {
	m := command.TreeMap(s.Docs)
	// rebuild the docs map, keeping only served subcommands
	order := []string{}
	if d, ok := s.Docs.([]any); ok {
		for i := 1; i+1 < len(d); i += 2 {
			k, _ := d[i].(string)
			if len(k) > 0 {
				order = append(order, k[1:])
			}
		}
	}
	subs := servedSubs(s)
	n := len(order)
	hasSubs := false
	for _, k := range order {
		if k == "subcommands" {
			hasSubs = true
		}
	}
	if hasSubs && len(subs) == 0 {
		n--
	}
	w.Map(n)
	for _, k := range order {
		if k == "subcommands" {
			if len(subs) == 0 {
				continue
			}
			w.BulkString("subcommands")
			w.Map(len(subs))
			for _, sub := range subs {
				w.BulkString(sub.Name)
				writeDocs(w, sub)
			}
			continue
		}
		w.BulkString(k)
		writeTree(w, m[k])
	}
}

func (h *Handlers) commandDocs(c *command.Ctx) {
	var specs []*command.Spec
	if len(c.Args) == 2 {
		specs = h.Table.All()
	} else {
		for _, a := range c.Args[2:] {
			if s := h.lookupAny(a); s != nil {
				specs = append(specs, s)
			}
		}
	}
	c.W.Map(len(specs))
	for _, s := range specs {
		c.W.BulkString(s.Name)
		writeDocs(c.W, s)
	}
}

func (h *Handlers) commandList(c *command.Ctx) {
	var names []string
	filter := func(s *command.Spec) bool { return true }
	if len(c.Args) > 2 {
		if len(c.Args) != 5 || !EqualFold(c.Args[2], "filterby") {
			c.Error(ErrSyntax)
			return
		}
		arg := string(c.Args[4])
		switch {
		case EqualFold(c.Args[3], "module"):
			filter = func(s *command.Spec) bool { return false }
		case EqualFold(c.Args[3], "aclcat"):
			filter = func(s *command.Spec) bool { return s.HasCategory("@" + strings.ToLower(arg)) }
		case EqualFold(c.Args[3], "pattern"):
			filter = func(s *command.Spec) bool { return glob.Match(arg, s.Name, true) }
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	for _, s := range h.Table.All() {
		if filter(s) {
			names = append(names, s.Name)
		}
		for _, sub := range servedSubs(s) {
			if filter(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// getKeys resolves COMMAND GETKEYS's command as Redis's
// getKeysSubcommandImpl: the command, or its subcommand when it has some
// and a second argument is given (lookupCommand, not strict: an unknown
// subcommand is an invalid command, a container alone is itself), then
// whether it has keys at all, then its arity; the keys are Redis's
// getKeysFromCommandWithSpecs's (command.Spec.RedisKeys).
func (h *Handlers) getKeys(c *command.Ctx) ([]command.KeyRef, bool) {
	args := c.Args[2:]
	spec := h.Table.Lookup(args[0])
	if spec != nil && len(spec.Subs) > 0 && len(args) > 1 {
		spec = spec.Sub(args[1])
	}
	switch {
	case spec == nil:
		c.Error("ERR Invalid command specified")
		return nil, false
	case !spec.HasKeys():
		c.Error("ERR The command has no key arguments")
		return nil, false
	case !spec.CheckArity(len(args)):
		c.Error("ERR Invalid number of arguments specified for command")
		return nil, false
	}
	keys := spec.RedisKeys(args)
	if len(keys) == 0 && !spec.Has(command.FlagNoMandatoryKeys) {
		c.Error("ERR Invalid arguments specified for command")
		return nil, false
	}
	return keys, true // EVAL with no keys...: an empty list
}

func (h *Handlers) commandGetKeys(c *command.Ctx) {
	keys, ok := h.getKeys(c)
	if !ok {
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Bulk(c.Args[2+k.Pos])
	}
}

func (h *Handlers) commandGetKeysAndFlags(c *command.Ctx) {
	keys, ok := h.getKeys(c)
	if !ok {
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Array(2)
		c.W.Bulk(c.Args[2+k.Pos])
		c.W.Set(len(k.Flags))
		for _, f := range k.Flags {
			c.W.Simple(f)
		}
	}
}

func (h *Handlers) configGet(c *command.Ctx) {
	patterns := make([]string, len(c.Args)-2)
	for i, p := range c.Args[2:] {
		patterns[i] = string(p)
	}
	pairs := h.Config.GetArgs(patterns) // internal/config: Redis's configGetCommand
	c.W.Map(len(pairs))
	for _, kv := range pairs {
		c.W.BulkString(kv[0])
		c.W.BulkString(kv[1])
	}
}

// protectedAllowed is Redis's allowProtectedAction: directive (one of the
// enable-*-command / enable-protected-configs options) is "yes", or
// "local" and the client is on a loopback address or a unix socket.
func (h *Handlers) protectedAllowed(directive string, cl *command.Client) bool {
	switch h.Config.Get(directive) {
	case "yes":
		return true
	case "local":
		return cl == nil || localAddr(cl.Addr)
	}
	return false
}

// localAddr reports whether a client address (host:port, or a unix socket
// path) is local.
func localAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return strings.HasPrefix(addr, "/") || addr == ""
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return strings.HasPrefix(host, "/")
}

func (h *Handlers) configSet(c *command.Ctx) {
	args := c.Args[2:]
	if len(args)%2 != 0 {
		c.Error(ErrSyntax)
		return
	}
	pairs := make([]string, len(args))
	for i, a := range args {
		pairs[i] = string(a)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if h.Config.Sensitive(pairs[i]) {
			redact(c, 2+i+1) // migrate.go
		}
	}
	// internal/config: Redis's configSetCommand (checks, set, rollback)
	loading := h.Exec.Guard.Load()&exec.GuardLoading != 0
	if err := h.Config.SetArgs(pairs, h.protectedAllowed("enable-protected-configs", c.Client), loading); err != nil {
		if err == config.ErrLoading {
			c.Error(err.Error())
			return
		}
		c.Error("ERR " + err.Error())
		return
	}
	// A lower maxmemory evicts at once, before the reply, as in Redis;
	// inside EXEC (whose locks may hold a shard of the keyspace) the next
	// command's memory check does it.
	if c.Client.Flags&command.ClientMulti == 0 {
		for i := 0; i+1 < len(pairs); i += 2 {
			if strings.EqualFold(pairs[i], "maxmemory") {
				h.Exec.EvictNow(c.Client)
				break
			}
		}
	}
	c.W.OK()
}

func (h *Handlers) configResetStat(c *command.Ctx) {
	h.Exec.ResetStats()
	h.resetOpsStats()
	c.W.OK()
}

func (h *Handlers) dbsize(c *command.Ctx) { c.W.Int(int64(c.DB.Size())) }

// InfoSection adds a section to INFO. Sections are written in the order
// added; fn returns "name:value" lines.
type InfoSection struct {
	Name    string
	Default bool
	Lines   func() []string
}

func (h *Handlers) infoSections() []InfoSection {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	uptime := time.Since(h.Started)
	clients := h.Server.ClientList()
	secs := []InfoSection{
		{"server", true, func() []string {
			return []string{
				"redis_version:" + RedisVersion,
				"redis_git_sha1:00000000",
				"redis_git_dirty:0",
				"redis_build_id:crescent",
				"redis_mode:standalone",
				"os:" + runtime.GOOS + " " + runtime.GOARCH,
				"arch_bits:64",
				"monotonic_clock:POSIX clock_gettime",
				"multiplexing_api:goroutines",
				"atomicvar_api:go-atomic",
				"gcc_version:0.0.0",
				"go_version:" + runtime.Version(),
				"crescent_version:0.1.0",
				fmt.Sprintf("process_id:%d", os.Getpid()),
				"process_supervised:no",
				"run_id:" + h.RunID(),
				fmt.Sprintf("tcp_port:%d", h.Server.Port()),
				fmt.Sprintf("server_time_usec:%d", time.Now().UnixMicro()),
				fmt.Sprintf("uptime_in_seconds:%d", int64(uptime.Seconds())),
				fmt.Sprintf("uptime_in_days:%d", int64(uptime.Hours()/24)),
				"hz:" + h.Config.Get("hz"),
				"configured_hz:" + h.Config.Get("hz"),
				"lru_clock:0",
				"executable:" + executable(),
				"config_file:" + h.ConfigFile,
				"io_threads_active:0",
			}
		}},
		{"clients", true, func() []string {
			blocked, replicas := h.Exec.BlockedClients()+h.pauseHeldCount(), 0
			for _, cl := range clients {
				if cl.View().Flags&command.ClientReplica != 0 {
					replicas++ // not counted in connected_clients, as in Redis
				}
			}
			trackClients, _, _, _ := h.TrackingStats()
			return []string{
				fmt.Sprintf("connected_clients:%d", len(clients)-replicas),
				"cluster_connections:0",
				"maxclients:" + h.Config.Get("maxclients"),
				"client_recent_max_input_buffer:0",
				"client_recent_max_output_buffer:0",
				fmt.Sprintf("blocked_clients:%d", blocked),
				fmt.Sprintf("tracking_clients:%d", trackClients),
				fmt.Sprintf("clients_in_timeout_table:%d", h.Exec.ClientsInTimeoutTable()),
			}
		}},
		{"memory", true, func() []string {
			rss := processRSS()
			lines := []string{
				// used_memory is what maxmemory is compared with (exec/memory.go)
				fmt.Sprintf("used_memory:%d", h.Exec.UsedMemory()),
				"used_memory_human:" + humanBytes(h.Exec.UsedMemory()),
				fmt.Sprintf("used_memory_rss:%d", rss),
				"used_memory_rss_human:" + humanBytes(rss),
				fmt.Sprintf("used_memory_peak:%d", ms.HeapSys),
				"used_memory_peak_human:" + humanBytes(int64(ms.HeapSys)),
			}
			lines = append(lines, h.memoryInfoExtra(&ms)...) // ops: overhead, dataset, allocator
			lines = append(lines,
				fmt.Sprintf("total_system_memory:%d", totalMemory()),
				"total_system_memory_human:"+humanBytes(totalMemory()),
			)
			if h.ExtraMemoryInfo != nil { // scripts and functions, where Redis has them
				lines = append(lines, h.ExtraMemoryInfo()...)
			}
			lines = append(lines,
				"maxmemory:"+h.Config.Get("maxmemory"),
				"maxmemory_human:"+humanBytes(h.Config.Int("maxmemory")),
				"maxmemory_policy:"+h.Config.Get("maxmemory-policy"),
			)
			lines = append(lines, h.memoryInfoTail(&ms, rss)...) // ops: fragmentation, lazyfree
			return append(lines, fmt.Sprintf("go_gc_cycles:%d", ms.NumGC))
		}},
		{"persistence", true, func() []string {
			if h.PersistenceInfo != nil {
				return h.PersistenceInfo()
			}
			return []string{"loading:0", "async_loading:0", "rdb_changes_since_last_save:" + strconv.FormatInt(h.Exec.Dirty.Load(), 10),
				"rdb_bgsave_in_progress:0", "rdb_last_save_time:" + strconv.FormatInt(h.Started.Unix(), 10),
				"rdb_last_bgsave_status:ok", "aof_enabled:0", "aof_rewrite_in_progress:0", "aof_last_write_status:ok"}
		}},
		{"stats", true, h.statsInfo}, // ops: memory_ops.go
		{"replication", true, func() []string {
			if h.Repl != nil {
				return h.Repl.ReplicationInfo()
			}
			return []string{"role:master", "connected_slaves:0", "master_failover_state:no-failover",
				"master_replid:" + h.RunID(), "master_replid2:0000000000000000000000000000000000000000",
				"master_repl_offset:0", "second_repl_offset:-1", "repl_backlog_active:0",
				"repl_backlog_size:1048576", "repl_backlog_first_byte_offset:0", "repl_backlog_histlen:0"}
		}},
		{"cpu", true, func() []string {
			return append(cpuLines(), cpuMainThreadLines()...)
		}},
		// Redis 7.0's module_list: the "# Modules" title in the default
		// sections and in all (no module is ever loaded)
		{"modules", true, func() []string { return nil }},
		{"commandstats", false, func() []string {
			var out []string
			h.Exec.Stats(func(s *command.Spec, st *exec.Stat) {
				calls := st.Calls.Load()
				usec := st.Usec.Load()
				if calls == 0 && st.RejectedCalls.Load() == 0 && st.FailedCalls.Load() == 0 {
					return // not called since the last reset (Redis lists none such)
				}
				per := 0.0
				if calls > 0 {
					per = float64(usec) / float64(calls)
				}
				out = append(out, fmt.Sprintf("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
					s.Name, calls, usec, per, st.RejectedCalls.Load(), st.FailedCalls.Load()))
			})
			return out
		}},
		{"errorstats", true, func() []string {
			es := h.Exec.ErrorStats()
			keys := make([]string, 0, len(es))
			for k := range es {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var out []string
			for _, k := range keys {
				out = append(out, fmt.Sprintf("errorstat_%s:count=%d", k, es[k]))
			}
			return out
		}},
		{"latencystats", false, h.latencyStatsInfo}, // ops: memory_ops.go; in all, not in the default sections
		{"cluster", true, func() []string {
			return []string{"cluster_enabled:" + map[bool]string{false: "0", true: "1"}[h.Cluster != nil]}
		}},
		{"keyspace", true, func() []string {
			var out []string
			for i := 0; i < h.Store.NumDBs(); i++ {
				db := h.Store.DB(i, time.Now().UnixMilli())
				if n := db.Size(); n > 0 {
					out = append(out, fmt.Sprintf("db%d:keys=%d,expires=%d,avg_ttl=%d", i, n, db.Volatile(), h.Store.AvgTTL(i, db.Now, 1000)))
				}
			}
			return out
		}},
	}
	if h.ExtraInfo != nil {
		secs = append(secs, h.ExtraInfo()...)
	}
	return secs
}

func sumErrors(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func (h *Handlers) info(c *command.Ctx) {
	want := map[string]bool{}
	all, everything := false, false
	for _, a := range c.Args[1:] {
		s := strings.ToLower(string(a))
		switch s {
		case "all":
			all = true
		case "everything":
			everything = true
		case "default":
			want["default"] = true
		default:
			want[s] = true
		}
	}
	if len(c.Args) == 1 {
		want["default"] = true
	}
	var b strings.Builder
	for _, sec := range h.infoSections() {
		if !(everything || all || want[sec.Name] || want["default"] && sec.Default) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		title := strings.ToUpper(sec.Name[:1]) + sec.Name[1:]
		if sec.Name == "cpu" {
			title = "CPU"
		}
		b.WriteString("# " + title + "\r\n")
		for _, l := range sec.Lines() {
			b.WriteString(l)
			b.WriteString("\r\n")
		}
	}
	c.W.Verbatim("txt", b.String())
}

func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	}
	return fmt.Sprintf("%.2fT", f/(1<<40))
}

func executable() string {
	p, _ := os.Executable()
	return p
}
