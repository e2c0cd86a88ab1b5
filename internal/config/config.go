// Package config holds the server's directives: parsed from a redis.conf
// style file and command-line flags at startup, read and changed at run time
// by CONFIG GET/SET.
package config

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/resp"
)

type kind int

const (
	kString kind = iota
	kBool
	kInt
	kMem
	kEnum
)

type directive struct {
	name      string
	kind      kind
	def       string
	immutable bool
	enum      []string
	alias     string // canonical name when this is an alias
	// norm, when set, validates a value and returns its canonical form.
	norm func(string) (string, error)
}

// Config is the set of directive values. It is safe for concurrent use.
type Config struct {
	mu    sync.RWMutex
	vals  map[string]string
	dirs  map[string]*directive
	order []string
	hooks map[string][]func(value string)
	// users holds the "user" directives (name, then rules), in file order.
	users [][]string
	vars  map[string]*Var
}

// Var is a live, lock-free view of one directive for hot paths: it follows
// CONFIG SET.
type Var struct {
	s atomic.Pointer[string]
	n atomic.Int64
}

func (v *Var) store(val string) {
	v.s.Store(&val)
	n, _ := strconv.ParseInt(val, 10, 64)
	v.n.Store(n)
}

// String returns the directive's value.
func (v *Var) String() string { return *v.s.Load() }

// Int returns the directive's numeric value (0 when not numeric).
func (v *Var) Int() int64 { return v.n.Load() }

// Var returns the live view of directive name (nil when unknown).
func (c *Config) Var(name string) *Var {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.lookup(name)
	if d == nil {
		return nil
	}
	if v := c.vars[d.name]; v != nil {
		return v
	}
	v := &Var{}
	v.store(c.vals[d.name])
	c.vars[d.name] = v
	return v
}

var aliases = map[string]string{
	"lua-time-limit":                "busy-reply-threshold",
	"hash-max-ziplist-entries":      "hash-max-listpack-entries",
	"hash-max-ziplist-value":        "hash-max-listpack-value",
	"list-max-ziplist-size":         "list-max-listpack-size",
	"zset-max-ziplist-entries":      "zset-max-listpack-entries",
	"zset-max-ziplist-value":        "zset-max-listpack-value",
	"slaveof":                       "replicaof",
	"slave-announce-ip":             "replica-announce-ip",
	"slave-announce-port":           "replica-announce-port",
	"slave-ignore-maxmemory":        "replica-ignore-maxmemory",
	"slave-lazy-flush":              "replica-lazy-flush",
	"slave-priority":                "replica-priority",
	"slave-read-only":               "replica-read-only",
	"slave-serve-stale-data":        "replica-serve-stale-data",
	"min-slaves-max-lag":            "min-replicas-max-lag",
	"min-slaves-to-write":           "min-replicas-to-write",
	"repl-ping-slave-period":        "repl-ping-replica-period",
	"cluster-slave-no-failover":     "cluster-replica-no-failover",
	"cluster-slave-validity-factor": "cluster-replica-validity-factor",
}

var memDirectives = []string{"maxmemory", "proto-max-bulk-len", "client-query-buffer-limit",
	"auto-aof-rewrite-min-size", "repl-backlog-size", "active-defrag-ignore-bytes",
	"maxmemory-clients", "stream-node-max-bytes", "hash-max-listpack-value",
	"zset-max-listpack-value", "cluster-link-sendbuf-limit"}

var immutable = []string{"daemonize", "databases", "unixsocket", "unixsocketperm",
	"supervised", "pidfile", "syslog-enabled", "syslog-ident", "syslog-facility",
	"always-show-logo", "cluster-enabled", "cluster-config-file", "cluster-port",
	"io-threads", "io-threads-do-reads", "aclfile", "logfile", "enable-debug-command",
	"enable-module-command", "enable-protected-configs", "set-proc-title",
	"disable-thp", "tcp-backlog", "appenddirname", "appendfilename", "bind-source-addr"}

var enums = map[string][]string{
	"appendfsync":                     {"always", "everysec", "no"},
	"loglevel":                        {"debug", "verbose", "notice", "warning"},
	"maxmemory-policy":                {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
	"supervised":                      {"upstart", "systemd", "auto", "no"},
	"enable-debug-command":            {"no", "yes", "local"},
	"enable-module-command":           {"no", "yes", "local"},
	"enable-protected-configs":        {"no", "yes", "local"},
	"protected-mode":                  {"yes", "no"},
	"shutdown-on-sigint":              {"default", "save", "nosave", "now", "force"},
	"shutdown-on-sigterm":             {"default", "save", "nosave", "now", "force"},
	"repl-diskless-load":              {"disabled", "on-empty-db", "swapdb"},
	"propagation-error-behavior":      {"ignore", "panic", "panic-on-replicas"},
	"acl-pubsub-default":              {"allchannels", "resetchannels"},
	"cluster-preferred-endpoint-type": {"ip", "hostname", "unknown-endpoint"},
	"tls-auth-clients":                {"no", "yes", "optional"},
	"oom-score-adj":                   {"no", "yes", "relative", "absolute"},
}

// New returns a configuration holding Redis 7.0's defaults, except that
// Crescent binds to 127.0.0.1 only and dir defaults to the working
// directory.
func New() *Config {
	c := &Config{vals: map[string]string{}, vars: map[string]*Var{}, dirs: map[string]*directive{}, hooks: map[string][]func(string){}}
	for _, d := range redisDefaults {
		name, def := d[0], d[1]
		if canon, ok := aliases[name]; ok {
			c.dirs[name] = &directive{name: name, alias: canon}
			continue
		}
		k := kString
		switch {
		case def == "yes" || def == "no":
			k = kBool
		case isInt(def):
			k = kInt
		}
		dir := &directive{name: name, kind: k, def: def}
		c.dirs[name] = dir
		c.order = append(c.order, name)
		c.vals[name] = def
	}
	for _, m := range memDirectives {
		c.dirs[m].kind = kMem
	}
	for _, m := range immutable {
		c.dirs[m].immutable = true
	}
	for n, e := range enums {
		// a yes/no default made it a bool; an enum with other values
		// (tls-auth-clients optional, enable-debug-command local,
		// oom-score-adj relative...) is an enum
		if c.dirs[n].kind != kBool || len(e) > 2 {
			c.dirs[n].kind = kEnum
		}
		c.dirs[n].enum = e
	}
	// "relative" is another name for "yes" (CONFIG GET shows yes)
	c.dirs["oom-score-adj"].norm = func(v string) (string, error) {
		if v == "relative" {
			return "yes", nil
		}
		return v, nil
	}
	if wd, err := os.Getwd(); err == nil {
		c.vals["dir"] = wd
	}
	sort.Strings(c.order)
	return c
}

// Declare adds a directive that Redis does not have (Crescent's own).
func (c *Config) Declare(name, def string, mutable bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := kString
	if def == "yes" || def == "no" {
		k = kBool
	} else if isInt(def) {
		k = kInt
	}
	c.dirs[name] = &directive{name: name, kind: k, def: def, immutable: !mutable}
	c.vals[name] = def
	c.order = append(c.order, name)
	sort.Strings(c.order)
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// ParseMemory parses a Redis memory value: 100, 1k, 1kb, 2mb, 1gb (k = 1000,
// kb = 1024).
func ParseMemory(s string) (int64, bool) {
	s = strings.ToLower(s)
	mul := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mul = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n * mul, true
}

// Canonical returns the name of the directive name refers to (its own, or
// the one it is an alias of), lower case; "" when unknown.
func (c *Config) Canonical(name string) string {
	if d := c.lookup(name); d != nil {
		return d.name
	}
	return ""
}

func (c *Config) lookup(name string) *directive {
	d := c.dirs[strings.ToLower(name)]
	if d != nil && d.alias != "" {
		d = c.dirs[d.alias]
	}
	return d
}

// normalize validates value for d and returns the form CONFIG GET shows.
func normalize(d *directive, value string) (string, error) {
	switch d.kind {
	case kBool:
		switch strings.ToLower(value) {
		case "yes":
			return "yes", nil
		case "no":
			return "no", nil
		}
		return "", fmt.Errorf("argument must be 'yes' or 'no'")
	case kInt:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			if m, ok := ParseMemory(value); ok {
				return strconv.FormatInt(m, 10), nil
			}
			return "", fmt.Errorf("argument couldn't be parsed into an integer")
		}
		return strconv.FormatInt(n, 10), nil
	case kMem:
		n, ok := ParseMemory(value)
		if !ok {
			return "", fmt.Errorf("argument must be a memory value")
		}
		return strconv.FormatInt(n, 10), nil
	case kEnum:
		for _, e := range d.enum {
			if strings.EqualFold(e, value) {
				return e, nil
			}
		}
		return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(d.enum, ", "))
	}
	return value, nil
}

// Set changes a directive at run time (CONFIG SET).
func (c *Config) Set(name, value string) error { return c.set(name, value, false) }

func (c *Config) set(name, value string, startup bool) error {
	d := c.lookup(name)
	if d == nil {
		return fmt.Errorf("unknown option %q", name)
	}
	if d.immutable && !startup {
		return fmt.Errorf("can't set immutable config")
	}
	v, err := normalize(d, value)
	if err != nil {
		return err
	}
	if d.norm != nil {
		if v, err = d.norm(v); err != nil {
			return err
		}
	}
	switch d.name {
	case "dir":
		if !startup {
			if err := os.Chdir(v); err != nil {
				return fmt.Errorf("%w", err)
			}
		}
		if !path.IsAbs(v) {
			if wd, err := os.Getwd(); err == nil {
				v = path.Join(wd, v)
			}
		}
	case "port", "tls-port":
		n, _ := strconv.Atoi(v)
		if n < 0 || n > 65535 {
			return fmt.Errorf("argument must be between 0 and 65535 inclusive")
		}
	case "proto-max-bulk-len", "client-query-buffer-limit":
		if n, _ := strconv.ParseInt(v, 10, 64); n < 1<<20 {
			return fmt.Errorf("argument must be between 1048576 and 9223372036854775807 inclusive")
		}
	case "maxclients":
		if n, _ := strconv.ParseInt(v, 10, 64); n < 1 || n > 4294967295 {
			return fmt.Errorf("argument must be between 1 and 4294967295 inclusive")
		}
	case "databases":
		n, _ := strconv.Atoi(v)
		if n < 1 {
			return fmt.Errorf("argument must be between 1 and 2147483647 inclusive")
		}
	case "save":
		f := strings.Fields(v)
		if len(f)%2 != 0 {
			return fmt.Errorf("Invalid save parameters")
		}
		for _, x := range f {
			if n, err := strconv.ParseInt(x, 10, 64); err != nil || n < 0 {
				return fmt.Errorf("Invalid save parameters")
			}
		}
		v = strings.Join(f, " ")
	}
	c.mu.Lock()
	c.vals[d.name] = v
	if vr := c.vars[d.name]; vr != nil {
		vr.store(v)
	}
	hooks := c.hooks[d.name]
	c.mu.Unlock()
	for _, h := range hooks {
		h(v)
	}
	return nil
}

// SetNormalizer makes fn validate name's new values and give the form
// CONFIG GET shows (for directives with their own syntax, such as
// notify-keyspace-events). Its error becomes the CONFIG SET error.
func (c *Config) SetNormalizer(name string, fn func(string) (string, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.lookup(name); d != nil {
		d.norm = fn
	}
}

// OnChange registers fn to run after name is changed.
func (c *Config) OnChange(name string, fn func(value string)) {
	c.mu.Lock()
	c.hooks[name] = append(c.hooks[name], fn)
	c.mu.Unlock()
}

// Get returns a directive's value ("" when unknown).
func (c *Config) Get(name string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if d := c.lookup(name); d != nil {
		return c.vals[d.name]
	}
	return ""
}

// Int returns a numeric directive's value.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Get(name), 10, 64)
	return n
}

// Bool returns a yes/no directive's value.
func (c *Config) Bool(name string) bool { return c.Get(name) == "yes" }

// Known reports whether name is a directive.
func (c *Config) Known(name string) bool { return c.lookup(name) != nil }

// Match returns name/value pairs for directives (and aliases) matching the
// glob pattern, as CONFIG GET does.
func (c *Config) Match(pattern string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out [][2]string
	seen := map[string]bool{}
	names := make([]string, 0, len(c.dirs))
	for n := range c.dirs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !glob.Match(pattern, n, true) || seen[n] {
			continue
		}
		seen[n] = true
		d := c.lookup(n)
		out = append(out, [2]string{n, c.vals[d.name]})
	}
	return out
}

// Load applies directives from a config file's text, then from command-line
// arguments (redis-server style: "--port 6380 --save ”"). Arguments win.
func (c *Config) Load(fileText string, args []string) error {
	lines, err := ParseText(fileText)
	if err != nil {
		return err
	}
	argLines, err := ParseArgs(args)
	if err != nil {
		return err
	}
	lines = append(lines, argLines...)
	saveSeen := false
	for _, l := range lines {
		name := strings.ToLower(l.Args[0])
		if len(l.Args) < 2 {
			return fmt.Errorf("line %d (%s): wrong number of arguments", l.Num, l.Text)
		}
		var val string
		if name == "save" {
			// consecutive save lines accumulate; the first one replaces the default
			v := strings.Join(l.Args[1:], " ")
			if saveSeen && v != "" {
				if prev := c.Get("save"); prev != "" {
					v = prev + " " + v
				}
			}
			saveSeen = true
			val = v
		} else {
			val = strings.Join(l.Args[1:], " ")
		}
		if name == "user" {
			c.mu.Lock()
			c.users = append(c.users, append([]string(nil), l.Args[1:]...))
			c.mu.Unlock()
			continue
		}
		if name == "include" || name == "rename-command" || name == "loadmodule" {
			return fmt.Errorf("line %d (%s): directive %q is not supported", l.Num, l.Text, name)
		}
		if err := c.set(name, val, true); err != nil {
			return fmt.Errorf("line %d (%s): Bad directive or wrong number of arguments: %w", l.Num, l.Text, err)
		}
	}
	return nil
}

// Users returns the "user" directives read by Load: each is the user name
// followed by its ACL rules.
func (c *Config) Users() [][]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([][]string, len(c.users))
	for i, u := range c.users {
		out[i] = append([]string(nil), u...)
	}
	return out
}

// Line is one parsed directive line.
type Line struct {
	Num  int
	Text string
	Args []string
}

// ParseText parses redis.conf syntax: one directive per line, arguments
// split and unquoted as Redis does, # comments and blank lines ignored.
func ParseText(text string) ([]Line, error) {
	var out []Line
	for i, raw := range strings.Split(text, "\n") {
		t := strings.TrimSpace(raw)
		if t == "" || t[0] == '#' {
			continue
		}
		a, err := resp.SplitArgs([]byte(t), nil)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): Unbalanced quotes in configuration line", i+1, t)
		}
		l := Line{Num: i + 1, Text: t}
		for _, x := range a {
			l.Args = append(l.Args, string(x))
		}
		out = append(out, l)
	}
	return out, nil
}

// ParseArgs turns redis-server style arguments into directive lines: each
// "--name" starts a line, following arguments are its values.
func ParseArgs(args []string) ([]Line, error) {
	var out []Line
	for _, a := range args {
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			out = append(out, Line{Num: 0, Text: a, Args: []string{a[2:]}})
			continue
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("argument %q: expected --directive", a)
		}
		l := &out[len(out)-1]
		l.Args = append(l.Args, a)
		l.Text += " " + a
	}
	for i := range out {
		if len(out[i].Args) == 1 {
			out[i].Args = append(out[i].Args, "")
		}
	}
	return out, nil
}
