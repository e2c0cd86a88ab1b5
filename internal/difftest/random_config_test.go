package difftest

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// TestRandomConfig runs seeded random CONFIG SET / GET / RESETSTAT
// sequences against Redis and Crescent and compares every reply: CONFIG
// SET with one or several pairs (duplicates, aliases, unknown, immutable
// and protected names, names in any case) and values from a pool of edge
// cases (negative, huge, 2^31, 2^63, 2^64, floats, memory units, percent,
// octal, empty, words, enum words in any case, multi-word values), CONFIG
// GET with names, aliases, hidden names, glob patterns and several
// patterns at once. Each seed puts the configuration back at its end.
//
// Left out of SET, because they would break the test servers or depend on
// the machine: valid values of port, bind, dir (Crescent runs in the test
// process: it would chdir), requirepass, appendonly, save, timeout,
// maxclients, oom-score-adj, watchdog-period, maxmemory-clients, the
// normal class of client-output-buffer-limit, tls-port, tls-replication
// and tls-cluster (Redis would try to set TLS up). Their invalid values
// are still sent.
func TestRandomConfig(t *testing.T) {
	g := &configGen{}
	randomRun{
		prepare: func(t *testing.T, p *Pair) {
			conn := Dial(t, p.Redis)
			v, _, err := Parse(conn.MustDo(t, "CONFIG", "GET", "*"))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(v.Elems); i += 2 {
				g.names = append(g.names, string(v.Elems[i].Str))
			}
			sort.Strings(g.names)
		},
		gen:  withPipe(g.command),
		salt: 0xc0f1,
		setup: func(t *testing.T, conn *Conn) {
			conn.MustDo(t, "CONFIG", "SET", "loglevel", "notice") // Redis starts with warning
			restoreConfigAtEnd(t, conn)
		},
		normalize: withTxNorm(normalizeConfigReply),
	}.run(t)
}

// configDiffers are the directives whose values differ between the two
// test servers by construction (ports, paths, the pid file...).
var configDiffers = map[string]bool{
	"port": true, "bind": true, "dir": true, "pidfile": true, "logfile": true,
	"unixsocket": true, "daemonize": true, "enable-debug-command": true,
	"io-threads": true, "dbfilename": true, "proc-title-template": false,
}

// crescentOwnConfigs are Crescent's directives that Redis does not have.
var crescentOwnConfigs = map[string]bool{"adaptive-procs": true, "event-loop": true, "event-loops": true, "log-format": true, "metrics-port": true}

// normalizeConfigReply drops HELLO's reply (server name, version, id) and
// sorts CONFIG GET's pairs (Redis answers in its dict's order), without
// the directives whose values differ by construction.
func normalizeConfigReply(args []string, b []byte) []byte {
	if args[0] == "HELLO" {
		return nil
	}
	if len(args) < 2 || !strings.EqualFold(args[1], "GET") {
		return b
	}
	v, _, err := Parse(b)
	if err != nil || (v.Type != '*' && v.Type != '%') {
		return b
	}
	var pairs []string
	for i := 0; i+1 < len(v.Elems); i += 2 {
		name := string(v.Elems[i].Str)
		val := string(v.Elems[i+1].Str)
		if crescentOwnConfigs[strings.ToLower(name)] {
			continue
		}
		if configDiffers[strings.ToLower(name)] {
			val = "(differs)"
		}
		pairs = append(pairs, name+"="+val)
	}
	sort.Strings(pairs)
	return []byte(string(v.Type) + strings.Join(pairs, "\n"))
}

// restoreConfigAtEnd reads every directive's value now and, at the end of
// the test, sets back those that changed.
func restoreConfigAtEnd(t *testing.T, conn *Conn) {
	t.Helper()
	v, _, err := Parse(conn.MustDo(t, "CONFIG", "GET", "*"))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		before[string(v.Elems[i].Str)] = string(v.Elems[i+1].Str)
	}
	for _, h := range []string{"rdb-key-save-delay", "key-load-delay", "use-exit-on-panic", "loading-process-events-interval-bytes", "watchdog-period"} {
		if v, _, err := Parse(conn.MustDo(t, "CONFIG", "GET", h)); err == nil && len(v.Elems) == 2 {
			before[h] = string(v.Elems[1].Str)
		}
	}
	t.Cleanup(func() {
		conn.Do("HELLO", "2")
		v, _, err := Parse(conn.MustDo(t, "CONFIG", "GET", "*"))
		if err != nil {
			t.Error(err)
			return
		}
		now := map[string]string{}
		for i := 0; i+1 < len(v.Elems); i += 2 {
			now[string(v.Elems[i].Str)] = string(v.Elems[i+1].Str)
		}
		for name, old := range before {
			if cur, ok := now[name]; ok && cur == old {
				continue
			}
			if rep, err := conn.Do("CONFIG", "SET", name, old); err != nil || len(rep) == 0 || rep[0] == '-' {
				if !strings.Contains(string(rep), "immutable") {
					t.Errorf("restoring %s to %q: %q %v", name, old, rep, err)
				}
			}
		}
	})
}

type configGen struct {
	names []string // every name CONFIG GET * shows on Redis (aliases too)
}

// hiddenConfigs are shown by CONFIG GET only when asked for by name.
var hiddenConfigs = []string{"rdb-key-save-delay", "key-load-delay", "use-exit-on-panic",
	"loading-process-events-interval-bytes", "watchdog-period"}

// configNoValidSet are directives whose valid values would break the test
// servers (see TestRandomConfig): only invalid values are sent.
var configNoValidSet = map[string]bool{
	"port": true, "bind": true, "dir": true, "requirepass": true, "appendonly": true,
	"save": true, "timeout": true, "maxclients": true, "oom-score-adj": true,
	"watchdog-period": true, "maxmemory-clients": true, "tls-port": true,
	"tls-replication": true, "tls-cluster": true, "client-output-buffer-limit": true,
	"dbfilename": true,
}

// configInvalid are values that some directive kinds refuse; a
// configNoValidSet directive gets one only when its reply is an error on
// Redis for every directive of that name (checked by configSafeInvalid).
var configValues = []string{
	"yes", "no", "YES", "No", "0", "1", "-1", "2", "5", "16", "100", "1000", "65535", "65536",
	"1k", "1kb", "1mb", "1gb", "1GB", "1Mb", "-1gb", "5b", "b", "kb", "1.5", "1e3", "abc", "",
	" ", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"18446744073709551615", "18446744073709551616", "20000000000gb", "0x10", "010", "0777", "777",
	"+5", "007", "-0", " 5", "5 ", "50%", "100%", "101%", "0%", "-5%", "%",
	"allkeys-lru", "ALLKEYS-LFU", "volatile-ttl", "noeviction", "always", "everysec", "EVERYSEC", "no",
	"debug", "verbose", "notice", "warning", "nothing", "disabled", "on-empty-db", "swapdb",
	"clients", "KEA", "Kx", "g$lshzxetdmn", "AKE", "x", "nosave", "save", "now", "force",
	"default", "nosave now", "save nosave", "now force", "NOW  force", "now default",
	"3600 1 300 100", "normal 0 0 0", "replica 1mb 0 60", "pubsub 32mb 8mb 60", "slave 1 2 3",
	"pubsub 1 2", "master 1 2 3", "pubsub 1k 1kb -1", "pubsub -1 0 0", "pubsub  1 2 3",
	"PUBSUB 1k 1KB +5", "pubsub 18446744073709551616 0 0", "replica 1gb 1gb 99999999999", "Slave 1 2 3 pubsub 4 5 6",
	"pubsub 1 2 3 ", "pubsub 1 2 3.5", "pubsub b 1m 0",
	"50 99 99.9", "0 100", "101", "-5", "1 2", "99.99999999", "1e-7", "0x10 inf", "nan", "inf",
	"upstart", "auto", "all", "none", "relaxed", "ignore", "panic", "panic-on-replicas", "local",
	"allchannels", "resetchannels", "ip", "hostname", "unknown-endpoint", "optional",
	"relative", "absolute", "0 200 800", "-2000 0 2000", "0 200", "0 2001 800", "0 200 ",
	"host.example", "a_b", "{title}", "{port} x", "{nosuch}", "{", "{{ {port}", "x{server-mode}",
	"a/b", "dump2.rdb", "0 1", "-1 5", "1 2 3", "3600 1 300", "1 +2", "1\t2", "127.0.0.1", "no one", "TLSv1.2", "2000000000",
}

func (g *configGen) name(rng *rand.Rand) string {
	for {
		if n := g.name1(rng); !strings.EqualFold(n, "bind") { // no value of bind is safe
			return n
		}
	}
}

func (g *configGen) name1(rng *rand.Rand) string {
	switch rng.IntN(40) {
	case 0:
		return pickStr(rng, hiddenConfigs...)
	case 1:
		return pickStr(rng, "nosuchparam", "maxmemory ", "lua-replicate-commands", "list-max-ziplist-entries", "")
	case 2:
		return strings.ToUpper(g.names[rng.IntN(len(g.names))])
	}
	return g.names[rng.IntN(len(g.names))]
}

func (g *configGen) value(rng *rand.Rand, name string) string {
	for {
		v := configValues[rng.IntN(len(configValues))]
		if rng.IntN(8) == 0 {
			v = pickStr(rng, "0", "1", "10", "128", "1000")
		}
		if configValueSafe(strings.ToLower(name), v) {
			return v
		}
	}
}

// configValueSafe reports whether CONFIG SET name v may be sent (see
// configNoValidSet): for those directives only values they refuse.
func configValueSafe(name, v string) bool {
	if !configNoValidSet[name] {
		return true
	}
	switch name {
	case "port", "tls-port":
		return v == "-1" || v == "65536" || v == "abc" || v == "1.5" || v == ""
	case "timeout", "watchdog-period":
		return v == "0" || v == "-1" || v == "abc" || v == "2147483648"
	case "maxclients":
		return v == "0" || v == "-1" || v == "abc" || v == "4294967296" || v == "1.5"
	case "maxmemory-clients":
		return v == "0" || v == "0%" || v == "101%" || v == "-5%" || v == "-1" || v == "1gb" || v == "abc" || v == "%"
	case "appendonly", "tls-replication", "tls-cluster":
		return v != "yes" && v != "YES"
	case "oom-score-adj":
		return v == "no" || v == "nothing" || v == "x"
	case "save":
		return v == "3600 1 300" || v == "abc" || v == "0 1" || v == "-1 5" || v == "1 2 3"
	case "client-output-buffer-limit":
		return strings.HasPrefix(v, "pubsub") || strings.HasPrefix(v, "master") || strings.HasPrefix(v, "slave") ||
			strings.HasPrefix(v, "replica") || v == "abc" || v == "1 2"
	case "dir", "dbfilename": // protected: refused whatever the value
		return true
	case "requirepass":
		return v == ""
	}
	return false
}

func (g *configGen) command(rng *rand.Rand) []string {
	switch rng.IntN(20) {
	case 0:
		return []string{"HELLO", pickStr(rng, "2", "3")}
	case 1: // no config file: CONFIG REWRITE fails alike
		return []string{"CONFIG", pickStr(rng, "RESETSTAT", "RESETSTAT", "REWRITE", "HELP", "resetstat")}
	case 2, 3, 4, 5:
		a := []string{"CONFIG", "GET"}
		for n := 1 + rng.IntN(3); n > 0; n-- {
			switch rng.IntN(6) {
			case 0:
				p := g.name(rng)
				a = append(a, p[:rng.IntN(len(p)+1)]+"*")
			case 1:
				a = append(a, pickStr(rng, "*max*", "*-?ax*", "[a-c]*", "*ziplist*", "slave*", "tls-*", "*cpulist", "*port", "?", "*[", "latency*"))
			default:
				a = append(a, g.name(rng))
			}
		}
		return a
	}
	a := []string{"CONFIG", "SET"}
	for n := 1 + rng.IntN(2)*rng.IntN(4); n > 0; n-- {
		name := g.name(rng)
		a = append(a, name, g.value(rng, name))
	}
	switch rng.IntN(25) {
	case 0: // a duplicate, maybe under its other case
		a = append(a, strings.ToUpper(a[2]), g.value(rng, a[2]))
	case 1:
		a = append(a, a[2])
	case 2: // an alias with its directive
		x := pickStr(rng, "lua-time-limit", "slave-read-only", "hash-max-ziplist-entries", "min-slaves-to-write")
		y := map[string]string{"lua-time-limit": "busy-reply-threshold", "slave-read-only": "replica-read-only",
			"hash-max-ziplist-entries": "hash-max-listpack-entries", "min-slaves-to-write": "min-replicas-to-write"}[x]
		a = []string{"CONFIG", "SET", x, g.value(rng, x), y, g.value(rng, y)}
	}
	return a
}

func pickStr(rng *rand.Rand, s ...string) string { return s[rng.IntN(len(s))] }
