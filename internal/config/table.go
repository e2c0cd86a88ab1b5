package config

import "math"

// Redis 7.0's standardConfig table (config.c), as redis-server 7.0.15
// has it: each directive's type, flags, bounds and default.

// directive flags (config.c's *_CONFIG flags)
const (
	fImmutable   = 1 << iota // IMMUTABLE_CONFIG: CONFIG SET refuses it
	fProtected               // PROTECTED_CONFIG: only with enable-protected-configs
	fDenyLoading             // DENY_LOADING_CONFIG: not while loading
	fHidden                  // HIDDEN_CONFIG: CONFIG GET shows it only by exact name
	fMultiArg                // MULTI_ARG_CONFIG: the value is split on spaces
	fSensitive               // SENSITIVE_CONFIG
)

// numeric flags (config.c's INTEGER/MEMORY/PERCENT/OCTAL_CONFIG)
const (
	nMemory  = 1 << iota // a memory value (1k, 1kb, 1mb...)
	nPercent             // also a percentage (stored negative)
	nOctal               // an octal number
)

// numeric C types: the unsigned ones (unsigned long long, unsigned int,
// size_t) compare their bounds unsigned, as numericBoundaryCheck.
type numType int

const (
	tSigned numType = iota // int, long, unsigned long, long long, ssize_t, off_t, time_t
	tUnsigned
)

const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64
	llongMax = math.MaxInt64
	ullMax   = -1 // ULLONG_MAX as Redis stores it in a long long bound
)

type enumItem struct {
	name string
	val  int
}

var (
	enumMaxmemoryPolicy = []enumItem{{"volatile-lru", 0}, {"volatile-lfu", 1}, {"volatile-random", 2}, {"volatile-ttl", 3}, {"allkeys-lru", 4}, {"allkeys-lfu", 5}, {"allkeys-random", 6}, {"noeviction", 7}}
	enumSyslogFacility  = []enumItem{{"user", 0}, {"local0", 1}, {"local1", 2}, {"local2", 3}, {"local3", 4}, {"local4", 5}, {"local5", 6}, {"local6", 7}, {"local7", 8}}
	enumLoglevel        = []enumItem{{"debug", 0}, {"verbose", 1}, {"notice", 2}, {"warning", 3}}
	enumSupervised      = []enumItem{{"upstart", 0}, {"systemd", 1}, {"auto", 2}, {"no", 3}}
	enumAOFFsync        = []enumItem{{"everysec", 0}, {"always", 1}, {"no", 2}}
	enumDisklessLoad    = []enumItem{{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}}
	enumTLSAuthClients  = []enumItem{{"no", 0}, {"yes", 1}, {"optional", 2}}
	// "relative" is "yes" (CONFIG GET shows the first name of a value)
	enumOOMScoreAdj       = []enumItem{{"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}}
	enumACLPubsubDefault  = []enumItem{{"allchannels", 1}, {"resetchannels", 0}}
	enumSanitizeDump      = []enumItem{{"no", 0}, {"yes", 1}, {"clients", 2}}
	enumProtectedAction   = []enumItem{{"no", 0}, {"yes", 1}, {"local", 2}}
	enumEndpointType      = []enumItem{{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}}
	enumPropagationErrors = []enumItem{{"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}}
	// bit flags: SHUTDOWN_SAVE 1, NOSAVE 2, NOW 4, FORCE 8
	enumShutdownOnSig = []enumItem{{"default", 0}, {"save", 1}, {"nosave", 2}, {"now", 4}, {"force", 8}}
)

func boolCfg(name, alias string, flags int, def bool) *directive {
	d := &directive{name: name, aliasName: alias, kind: kBool, flags: flags, def: "no"}
	if def {
		d.def = "yes"
	}
	return d
}

func strCfg(name, alias string, flags int, def string, valid func(string) error) *directive {
	return &directive{name: name, aliasName: alias, kind: kString, flags: flags, def: def, valid: valid}
}

func enumCfg(name, alias string, flags int, items []enumItem, def string) *directive {
	return &directive{name: name, aliasName: alias, kind: kEnum, flags: flags, enum: items, def: def}
}

func numCfg(name, alias string, flags int, t numType, lo, hi, def int64, nflags int) *directive {
	d := &directive{name: name, aliasName: alias, kind: kNum, flags: flags, ntype: t, lo: lo, hi: hi, nflags: nflags}
	d.def = d.formatNum(def)
	return d
}

func specialCfg(name, alias string, flags int, def string, set func(args []string) (string, error)) *directive {
	return &directive{name: name, aliasName: alias, kind: kSpecial, flags: flags, def: def, special: set}
}

// standardConfigs returns a fresh copy of Redis 7.0.15's directives.
func standardConfigs() []*directive {
	return []*directive{
		// Bool configs
		boolCfg("rdbchecksum", "", fImmutable, true),
		boolCfg("daemonize", "", fImmutable, false),
		boolCfg("io-threads-do-reads", "", fImmutable, false),
		boolCfg("always-show-logo", "", fImmutable, false),
		boolCfg("protected-mode", "", 0, true),
		boolCfg("rdbcompression", "", 0, true),
		boolCfg("rdb-del-sync-files", "", 0, false),
		boolCfg("activerehashing", "", 0, true),
		boolCfg("stop-writes-on-bgsave-error", "", 0, true),
		boolCfg("set-proc-title", "", fImmutable, true),
		boolCfg("dynamic-hz", "", 0, true),
		boolCfg("lazyfree-lazy-eviction", "", 0, false),
		boolCfg("lazyfree-lazy-expire", "", 0, false),
		boolCfg("lazyfree-lazy-server-del", "", 0, false),
		boolCfg("lazyfree-lazy-user-del", "", 0, false),
		boolCfg("lazyfree-lazy-user-flush", "", 0, false),
		boolCfg("repl-disable-tcp-nodelay", "", 0, false),
		boolCfg("repl-diskless-sync", "", 0, true),
		boolCfg("aof-rewrite-incremental-fsync", "", 0, true),
		boolCfg("no-appendfsync-on-rewrite", "", 0, false),
		boolCfg("cluster-require-full-coverage", "", 0, true),
		boolCfg("rdb-save-incremental-fsync", "", 0, true),
		boolCfg("aof-load-truncated", "", 0, true),
		boolCfg("aof-use-rdb-preamble", "", 0, true),
		boolCfg("aof-timestamp-enabled", "", 0, false),
		boolCfg("cluster-replica-no-failover", "cluster-slave-no-failover", 0, false),
		boolCfg("replica-lazy-flush", "slave-lazy-flush", 0, false),
		boolCfg("replica-serve-stale-data", "slave-serve-stale-data", 0, true),
		boolCfg("replica-read-only", "slave-read-only", 0, true),
		boolCfg("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, true),
		boolCfg("jemalloc-bg-thread", "", 0, true),
		withBoolCheck(boolCfg("activedefrag", "", 0, false), isValidActiveDefrag),
		boolCfg("syslog-enabled", "", fImmutable, false),
		boolCfg("cluster-enabled", "", fImmutable, false),
		boolCfg("appendonly", "", fDenyLoading, false),
		boolCfg("cluster-allow-reads-when-down", "", 0, false),
		boolCfg("cluster-allow-pubsubshard-when-down", "", 0, true),
		boolCfg("crash-log-enabled", "", 0, true),
		boolCfg("crash-memcheck-enabled", "", 0, true),
		boolCfg("use-exit-on-panic", "", fHidden, false),
		// Debian's 7.0.15 security updates: getfenv, setfenv and newproxy
		// in scripts only with yes
		boolCfg("lua-enable-deprecated-api", "", fImmutable|fHidden, false),
		boolCfg("disable-thp", "", fImmutable, true),
		boolCfg("cluster-allow-replica-migration", "", 0, true),
		boolCfg("replica-announced", "", 0, true),
		boolCfg("latency-tracking", "", 0, true),
		boolCfg("aof-disable-auto-gc", "", 0, false),
		boolCfg("replica-ignore-disk-write-errors", "", 0, false),

		// String configs
		strCfg("aclfile", "", fImmutable, "", nil),
		strCfg("unixsocket", "", fImmutable, "", nil),
		strCfg("pidfile", "", fImmutable, "", nil),
		strCfg("replica-announce-ip", "slave-announce-ip", 0, "", nil),
		strCfg("masteruser", "", fSensitive, "", nil),
		strCfg("cluster-announce-ip", "", 0, "", nil),
		strCfg("cluster-config-file", "", fImmutable, "nodes.conf", nil),
		strCfg("cluster-announce-hostname", "", 0, "", isValidAnnouncedHostname),
		strCfg("syslog-ident", "", fImmutable, "redis", nil),
		strCfg("dbfilename", "", fProtected, "dump.rdb", isValidDBfilename),
		strCfg("appendfilename", "", fImmutable, "appendonly.aof", isValidAOFfilename),
		strCfg("appenddirname", "", fImmutable, "appendonlydir", isValidAOFdirname),
		strCfg("server_cpulist", "", fImmutable, "", nil),
		strCfg("bio_cpulist", "", fImmutable, "", nil),
		strCfg("aof_rewrite_cpulist", "", fImmutable, "", nil),
		strCfg("bgsave_cpulist", "", fImmutable, "", nil),
		strCfg("ignore-warnings", "", 0, "", nil),
		strCfg("proc-title-template", "", 0, "{title} {listen-addr} {server-mode}", isValidProcTitleTemplate),
		strCfg("bind-source-addr", "", 0, "", nil),
		strCfg("logfile", "", fImmutable, "", nil),
		// SDS configs
		strCfg("masterauth", "", fSensitive, "", nil),
		strCfg("requirepass", "", fSensitive, "", nil),

		// Enum configs
		enumCfg("supervised", "", fImmutable, enumSupervised, "no"),
		enumCfg("syslog-facility", "", fImmutable, enumSyslogFacility, "local0"),
		enumCfg("repl-diskless-load", "", fDenyLoading, enumDisklessLoad, "disabled"),
		enumCfg("loglevel", "", 0, enumLoglevel, "notice"),
		enumCfg("maxmemory-policy", "", 0, enumMaxmemoryPolicy, "noeviction"),
		enumCfg("appendfsync", "", 0, enumAOFFsync, "everysec"),
		enumCfg("oom-score-adj", "", 0, enumOOMScoreAdj, "no"),
		enumCfg("acl-pubsub-default", "", 0, enumACLPubsubDefault, "resetchannels"),
		enumCfg("sanitize-dump-payload", "", 0, enumSanitizeDump, "no"),
		enumCfg("enable-protected-configs", "", fImmutable, enumProtectedAction, "no"),
		enumCfg("enable-debug-command", "", fImmutable, enumProtectedAction, "no"),
		enumCfg("enable-module-command", "", fImmutable, enumProtectedAction, "no"),
		enumCfg("cluster-preferred-endpoint-type", "", 0, enumEndpointType, "ip"),
		enumCfg("propagation-error-behavior", "", 0, enumPropagationErrors, "ignore"),
		enumCfg("shutdown-on-sigint", "", fMultiArg, enumShutdownOnSig, "default"),
		enumCfg("shutdown-on-sigterm", "", fMultiArg, enumShutdownOnSig, "default"),

		// Integer configs
		numCfg("databases", "", fImmutable, tSigned, 1, intMax, 16, 0),
		numCfg("port", "", 0, tSigned, 0, 65535, 6379, 0),
		numCfg("io-threads", "", fImmutable, tSigned, 1, 128, 1, 0),
		numCfg("auto-aof-rewrite-percentage", "", 0, tSigned, 0, intMax, 100, 0),
		numCfg("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, tSigned, 0, intMax, 10, 0),
		numCfg("list-max-listpack-size", "list-max-ziplist-size", 0, tSigned, intMin, intMax, -2, 0),
		numCfg("tcp-keepalive", "", 0, tSigned, 0, intMax, 300, 0),
		numCfg("cluster-migration-barrier", "", 0, tSigned, 0, intMax, 1, 0),
		numCfg("active-defrag-cycle-min", "", 0, tSigned, 1, 99, 1, 0),
		numCfg("active-defrag-cycle-max", "", 0, tSigned, 1, 99, 25, 0),
		numCfg("active-defrag-threshold-lower", "", 0, tSigned, 0, 1000, 10, 0),
		numCfg("active-defrag-threshold-upper", "", 0, tSigned, 0, 1000, 100, 0),
		numCfg("lfu-log-factor", "", 0, tSigned, 0, intMax, 10, 0),
		numCfg("lfu-decay-time", "", 0, tSigned, 0, intMax, 1, 0),
		numCfg("replica-priority", "slave-priority", 0, tSigned, 0, intMax, 100, 0),
		numCfg("repl-diskless-sync-delay", "", 0, tSigned, 0, intMax, 5, 0),
		numCfg("maxmemory-samples", "", 0, tSigned, 1, intMax, 5, 0),
		numCfg("maxmemory-eviction-tenacity", "", 0, tSigned, 0, 100, 10, 0),
		numCfg("timeout", "", 0, tSigned, 0, intMax, 0, 0),
		numCfg("replica-announce-port", "slave-announce-port", 0, tSigned, 0, 65535, 0, 0),
		numCfg("tcp-backlog", "", fImmutable, tSigned, 0, intMax, 511, 0),
		numCfg("cluster-port", "", fImmutable, tSigned, 0, 65535, 0, 0),
		numCfg("cluster-announce-bus-port", "", 0, tSigned, 0, 65535, 0, 0),
		numCfg("cluster-announce-port", "", 0, tSigned, 0, 65535, 0, 0),
		numCfg("cluster-announce-tls-port", "", 0, tSigned, 0, 65535, 0, 0),
		numCfg("repl-timeout", "", 0, tSigned, 1, intMax, 60, 0),
		numCfg("repl-ping-replica-period", "repl-ping-slave-period", 0, tSigned, 1, intMax, 10, 0),
		numCfg("list-compress-depth", "", 0, tSigned, 0, intMax, 0, 0),
		numCfg("rdb-key-save-delay", "", fHidden, tSigned, intMin, intMax, 0, 0),
		numCfg("key-load-delay", "", fHidden, tSigned, intMin, intMax, 0, 0),
		numCfg("active-expire-effort", "", 0, tSigned, 1, 10, 1, 0),
		numCfg("hz", "", 0, tSigned, 0, intMax, 10, 0),
		numCfg("min-replicas-to-write", "min-slaves-to-write", 0, tSigned, 0, intMax, 0, 0),
		numCfg("min-replicas-max-lag", "min-slaves-max-lag", 0, tSigned, 0, intMax, 10, 0),
		numCfg("watchdog-period", "", fHidden, tSigned, 0, intMax, 0, 0),
		numCfg("shutdown-timeout", "", 0, tSigned, 0, intMax, 10, 0),
		numCfg("repl-diskless-sync-max-replicas", "", 0, tSigned, 0, intMax, 0, 0),
		// Unsigned int configs
		numCfg("maxclients", "", 0, tUnsigned, 1, uintMax, 10000, 0),
		numCfg("unixsocketperm", "", fImmutable, tUnsigned, 0, 0o777, 0, nOctal),
		numCfg("socket-mark-id", "", fImmutable, tUnsigned, 0, uintMax, 0, 0),
		// Unsigned long configs (signed bounds checks, as Redis)
		numCfg("active-defrag-max-scan-fields", "", 0, tSigned, 1, longMax, 1000, 0),
		numCfg("slowlog-max-len", "", 0, tSigned, 0, longMax, 128, 0),
		numCfg("acllog-max-len", "", 0, tSigned, 0, longMax, 128, 0),
		// Long long configs
		numCfg("busy-reply-threshold", "lua-time-limit", 0, tSigned, 0, longMax, 5000, 0),
		numCfg("cluster-node-timeout", "", 0, tSigned, 0, llongMax, 15000, 0),
		numCfg("slowlog-log-slower-than", "", 0, tSigned, -1, llongMax, 10000, 0),
		numCfg("latency-monitor-threshold", "", 0, tSigned, 0, llongMax, 0, 0),
		numCfg("proto-max-bulk-len", "", 0, tSigned, 1024*1024, longMax, 512*1024*1024, nMemory),
		numCfg("stream-node-max-entries", "", 0, tSigned, 0, llongMax, 100, 0),
		numCfg("repl-backlog-size", "", 0, tSigned, 1, llongMax, 1024*1024, nMemory),
		// Unsigned long long configs
		numCfg("maxmemory", "", 0, tUnsigned, 0, ullMax, 0, nMemory),
		numCfg("cluster-link-sendbuf-limit", "", 0, tUnsigned, 0, ullMax, 0, nMemory),
		// Size_t configs
		numCfg("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, tUnsigned, 0, longMax, 512, 0),
		numCfg("set-max-intset-entries", "", 0, tUnsigned, 0, longMax, 512, 0),
		numCfg("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, tUnsigned, 0, longMax, 128, 0),
		numCfg("active-defrag-ignore-bytes", "", 0, tUnsigned, 1, llongMax, 100<<20, nMemory),
		numCfg("hash-max-listpack-value", "hash-max-ziplist-value", 0, tUnsigned, 0, longMax, 64, nMemory),
		numCfg("stream-node-max-bytes", "", 0, tUnsigned, 0, longMax, 4096, nMemory),
		numCfg("zset-max-listpack-value", "zset-max-ziplist-value", 0, tUnsigned, 0, longMax, 64, nMemory),
		numCfg("hll-sparse-max-bytes", "", 0, tUnsigned, 0, longMax, 3000, nMemory),
		numCfg("tracking-table-max-keys", "", 0, tUnsigned, 0, longMax, 1000000, 0),
		numCfg("client-query-buffer-limit", "", 0, tUnsigned, 1024*1024, longMax, 1024*1024*1024, nMemory),
		numCfg("maxmemory-clients", "", 0, tSigned, -100, longMax, 0, nMemory|nPercent),
		// Other configs
		numCfg("repl-backlog-ttl", "", 0, tSigned, 0, longMax, 60*60, 0),
		numCfg("auto-aof-rewrite-min-size", "", 0, tSigned, 0, llongMax, 64*1024*1024, nMemory),
		numCfg("loading-process-events-interval-bytes", "", fHidden, tSigned, 1024, intMax, 2*1024*1024, 0),

		// TLS configs
		numCfg("tls-port", "", 0, tSigned, 0, 65535, 0, 0),
		numCfg("tls-session-cache-size", "", 0, tSigned, 0, intMax, 20*1024, 0),
		numCfg("tls-session-cache-timeout", "", 0, tSigned, 0, intMax, 300, 0),
		boolCfg("tls-cluster", "", 0, false),
		boolCfg("tls-replication", "", 0, false),
		enumCfg("tls-auth-clients", "", 0, enumTLSAuthClients, "yes"),
		boolCfg("tls-prefer-server-ciphers", "", 0, false),
		boolCfg("tls-session-caching", "", 0, true),
		strCfg("tls-cert-file", "", 0, "", nil),
		strCfg("tls-key-file", "", 0, "", nil),
		strCfg("tls-key-file-pass", "", fSensitive, "", nil),
		strCfg("tls-client-cert-file", "", 0, "", nil),
		strCfg("tls-client-key-file", "", 0, "", nil),
		strCfg("tls-client-key-file-pass", "", fSensitive, "", nil),
		strCfg("tls-dh-params-file", "", 0, "", nil),
		strCfg("tls-ca-cert-file", "", 0, "", nil),
		strCfg("tls-ca-cert-dir", "", 0, "", nil),
		strCfg("tls-protocols", "", 0, "", nil),
		strCfg("tls-ciphers", "", 0, "", nil),
		strCfg("tls-ciphersuites", "", 0, "", nil),

		// Special configs
		specialCfg("dir", "", fProtected|fDenyLoading, "", nil), // set in Config.parse (chdir)
		specialCfg("save", "", fMultiArg, "3600 1 300 100 60 10000", nil),
		specialCfg("client-output-buffer-limit", "", fMultiArg, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", nil),
		specialCfg("oom-score-adj-values", "", fMultiArg, "0 200 800", setOOMScoreAdjValues),
		specialCfg("notify-keyspace-events", "", 0, "", nil),
		specialCfg("bind", "", fMultiArg, "* -::*", setBind),
		specialCfg("replicaof", "slaveof", fImmutable|fMultiArg, "", setReplicaOf),
		specialCfg("latency-tracking-info-percentiles", "", fMultiArg, "50 99 99.9", setLatencyPercentiles),
	}
}

func withBoolCheck(d *directive, fn func(bool) error) *directive {
	d.boolValid = fn
	return d
}
