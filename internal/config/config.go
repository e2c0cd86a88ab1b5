// Package config holds the server's directives: parsed from a redis.conf
// style file and command-line flags at startup, read and changed at run time
// by CONFIG GET/SET.
package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/crescent-db/crescent/internal/glob"
	"github.com/crescent-db/crescent/internal/oserr"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/resp"
)

type kind int

const (
	kString kind = iota
	kBool
	kEnum
	kNum
	kSpecial
)

// directive is one entry of Redis's standardConfig table (table.go), or
// one of Crescent's own (Declare).
type directive struct {
	name      string
	aliasName string // the other name of this directive ("" when none)
	alias     string // canonical name when this entry is the alias
	kind      kind
	flags     int
	def       string // default, as CONFIG GET shows it
	// kEnum
	enum []enumItem
	// kNum
	ntype  numType
	lo, hi int64
	nflags int
	// validators and special setters
	valid     func(string) error
	boolValid func(bool) error
	special   func(args []string) (string, error)
	// norm, when set, validates a value and returns its canonical form
	// (set from outside by SetNormalizer).
	norm func(string) (string, error)
	// crescent marks Crescent's own directives (Declare): their values
	// are checked only by their type.
	crescent bool
}

// Config is the set of directive values. It is safe for concurrent use.
type Config struct {
	mu    sync.RWMutex
	vals  map[string]string
	dirs  map[string]*directive
	order []string
	hooks map[string][]func(value string)
	// appliers: the failing apply functions of directives (OnApply),
	// one shared by the directives it was registered for
	appliers map[string]*applier
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
	v.n.Store(numValue(val))
}

// numValue is a directive value as a number: 0 when not numeric, unsigned
// values above the int64 range clamp to math.MaxInt64.
func numValue(val string) int64 {
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		if u, uerr := strconv.ParseUint(val, 10, 64); uerr == nil && u > math.MaxInt64 {
			return math.MaxInt64
		}
		return 0
	}
	return n
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

// New returns a configuration holding Redis 7.0's defaults, except that
// Crescent binds to 127.0.0.1 only and dir defaults to the working
// directory.
func New() *Config {
	c := &Config{vals: map[string]string{}, vars: map[string]*Var{}, dirs: map[string]*directive{}, hooks: map[string][]func(string){}}
	for _, d := range standardConfigs() {
		if d.name == "bind" {
			d.def = "127.0.0.1 -::1"
		}
		if d.name == "save" {
			d.special = setSave
		}
		c.dirs[d.name] = d
		c.order = append(c.order, d.name)
		c.vals[d.name] = d.def
		if d.aliasName != "" {
			c.dirs[d.aliasName] = &directive{name: d.aliasName, alias: d.name}
		}
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
	d := &directive{name: name, kind: kString, def: def, crescent: true}
	if def == "yes" || def == "no" {
		d.kind = kBool
	} else if isInt(def) {
		d.kind, d.lo, d.hi = kNum, math.MinInt64, math.MaxInt64
	}
	if !mutable {
		d.flags |= fImmutable
	}
	c.dirs[name] = d
	c.vals[name] = def
	c.order = append(c.order, name)
	sort.Strings(c.order)
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// ParseMemory parses a Redis memory value: 100, 1k, 1kb, 2mb, 1gb (k = 1000,
// kb = 1024), as Redis's memtoull; values above the int64 range fail.
func ParseMemory(s string) (int64, bool) {
	n, ok := MemToULL(s)
	if !ok || n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// MemToULL is Redis's memtoull: digits and an optional unit (b, k, kb, m,
// mb, g, gb, any case). As Redis: no sign, an empty number is 0, a number
// past the uint64 range saturates, the multiplication wraps.
func MemToULL(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch u := strings.ToLower(s[i:]); u {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 {
		return 0, false
	}
	var val uint64
	if i > 0 {
		v, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			v = math.MaxUint64 // strtoull saturates; Redis does not check ERANGE
		}
		val = v
	}
	return val * mul, true
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

// entry is the table entry for name itself: an alias's own entry (whose
// name is the alias) or the directive; nil when unknown.
func (c *Config) entry(name string) *directive { return c.dirs[strings.ToLower(name)] }

// splitArgs splits a multi-argument value as Redis's sdssplitlen on " ":
// "" gives no arguments, each space separates (empty arguments included).
func splitArgs(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, " ")
}

// formatNum renders a numeric value as Redis's numericConfigGet.
func (d *directive) formatNum(v int64) string {
	switch {
	case d.nflags&nPercent != 0 && v < 0:
		return strconv.FormatInt(-v, 10) + "%"
	case d.nflags&nMemory != 0:
		return strconv.FormatUint(uint64(v), 10)
	case d.nflags&nOctal != 0:
		return strconv.FormatUint(uint64(v), 8)
	}
	return strconv.FormatInt(v, 10)
}

// parseNum is Redis's numericParseString and numericBoundaryCheck.
func (d *directive) parseNum(value string) (int64, error) {
	var n int64
	ok := false
	if d.nflags&nMemory != 0 {
		if u, mok := MemToULL(value); mok {
			n, ok = int64(u), true
		}
	}
	if !ok && d.nflags&nPercent != 0 && len(value) > 1 && value[len(value)-1] == '%' {
		if p, pok := listpack.ParseInt([]byte(value[:len(value)-1])); pok && p >= 0 {
			n, ok = -p, true
		}
	}
	if !ok && d.nflags&nOctal != 0 {
		if o, ook := strtollBase8(value); ook {
			n, ok = o, true
		}
	}
	if !ok && d.nflags == 0 {
		n, ok = listpack.ParseInt([]byte(value)) // Redis's string2ll
	}
	if !ok {
		switch {
		case d.nflags&nMemory != 0 && d.nflags&nPercent != 0:
			return 0, errors.New("argument must be a memory or percent value")
		case d.nflags&nMemory != 0:
			return 0, errors.New("argument must be a memory value")
		case d.nflags&nOctal != 0:
			return 0, errors.New("argument couldn't be parsed as an octal number")
		}
		return 0, errors.New("argument couldn't be parsed into an integer")
	}
	if d.ntype == tUnsigned {
		u, lo, hi := uint64(n), uint64(d.lo), uint64(d.hi)
		if u > hi || u < lo {
			if d.nflags&nOctal != 0 {
				return 0, fmt.Errorf("argument must be between %o and %o inclusive", lo, hi)
			}
			return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
		}
		return n, nil
	}
	if d.nflags&nPercent != 0 && n < 0 {
		if n < d.lo {
			return 0, fmt.Errorf("percentage argument must be less or equal to %d", -d.lo)
		}
		return n, nil
	}
	if n > d.hi || n < d.lo {
		return 0, fmt.Errorf("argument must be between %d and %d inclusive", d.lo, d.hi)
	}
	return n, nil
}

// strtollBase8 is strtoll(s, &end, 8) with *end == '\0' and no ERANGE.
func strtollBase8(s string) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, s == "" // no digits: end is s itself
	}
	var v uint64
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '7' {
			return 0, false
		}
		v = v*8 + uint64(t[i]-'0')
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
	}
	if neg {
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseEnum is Redis's configEnumGetValue and configEnumGetName: a
// multi-argument enum is a set of bit flags.
func (d *directive) parseEnum(value string) (string, error) {
	args := []string{value}
	multi := d.flags&fMultiArg != 0
	if multi {
		args = splitArgs(value)
	}
	val, ok := 0, len(args) > 0
	for _, a := range args {
		matched := false
		for _, e := range d.enum {
			if strings.EqualFold(a, e.name) {
				val |= e.val
				matched = true
			}
		}
		if !matched {
			ok = false
			break
		}
	}
	if !ok {
		names := make([]string, len(d.enum))
		for i, e := range d.enum {
			names[i] = e.name
		}
		msg := "argument(s) must be one of the following: " + strings.Join(names, ", ")
		if len(msg) > 255 { // Redis's 256-byte loadbuf
			msg = msg[:255]
		}
		return "", errors.New(msg)
	}
	if d.name == "shutdown-on-sigint" || d.name == "shutdown-on-sigterm" {
		if val&1 != 0 && val&2 != 0 {
			return "", errors.New("shutdown options SAVE and NOSAVE can't be used simultaneously")
		}
	}
	unmatched := val
	var names []string
	for _, e := range d.enum {
		if val == e.val {
			return e.name, nil
		}
		if multi && e.val != 0 && e.val == unmatched&e.val {
			names = append(names, e.name)
			unmatched &^= e.val
		}
	}
	if len(names) == 0 || unmatched != 0 {
		return "unknown", nil
	}
	return strings.Join(names, " "), nil
}

// normalize validates value for d and returns the form CONFIG GET shows.
func normalize(d *directive, value string) (string, error) {
	switch d.kind {
	case kBool:
		var b bool
		switch strings.ToLower(value) {
		case "yes":
			b = true
		case "no":
		default:
			return "", errors.New("argument must be 'yes' or 'no'")
		}
		if d.boolValid != nil {
			if err := d.boolValid(b); err != nil {
				return "", err
			}
		}
		if b {
			return "yes", nil
		}
		return "no", nil
	case kNum:
		n, err := d.parseNum(value)
		if err != nil {
			return "", err
		}
		return d.formatNum(n), nil
	case kEnum:
		return d.parseEnum(value)
	case kString:
		if d.valid != nil {
			if err := d.valid(value); err != nil {
				return "", err
			}
		}
	case kSpecial:
		if d.special != nil {
			var args []string
			if d.flags&fMultiArg != 0 {
				args = splitArgs(value)
			} else {
				args = []string{value}
			}
			return d.special(args)
		}
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
	if d.flags&fImmutable != 0 && !startup {
		return fmt.Errorf("can't set immutable config")
	}
	v, err := c.parse(d, value, startup)
	if err != nil {
		return err
	}
	c.store(d, v)
	c.runHooks(d, v)
	return nil
}

// parse validates value for d and returns the value CONFIG GET will show.
// For dir it changes the working directory (at run time), as Redis.
func (c *Config) parse(d *directive, value string, startup bool) (string, error) {
	v, err := normalize(d, value)
	if err != nil {
		return "", err
	}
	if d.norm != nil {
		if v, err = d.norm(v); err != nil {
			return "", err
		}
	}
	if d.name == "hz" { // updateHZ: out of range values are capped to 1..500
		if n, _ := strconv.ParseInt(v, 10, 64); n < 1 {
			v = "1"
		} else if n > 500 {
			v = "500"
		}
	}
	if d.name == "repl-backlog-size" { // resizeReplicationBacklog: at least 16kb
		if n, _ := strconv.ParseInt(v, 10, 64); n < 16*1024 {
			v = "16384"
		}
	}
	if d.name == "dir" {
		if !startup {
			if err := os.Chdir(v); err != nil {
				return "", errors.New(chdirError(err))
			}
			if wd, err := os.Getwd(); err == nil {
				return wd, nil
			}
		}
		if !path.IsAbs(v) {
			if wd, err := os.Getwd(); err == nil {
				v = path.Join(wd, v)
			}
		}
	}
	return v, nil
}

// chdirError is strerror(errno) for a failed chdir.
func chdirError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if en, ok := pe.Err.(syscall.Errno); ok {
			return oserr.Strerror(en)
		}
	}
	return err.Error()
}

func (c *Config) store(d *directive, v string) {
	c.mu.Lock()
	c.vals[d.name] = v
	if vr := c.vars[d.name]; vr != nil {
		vr.store(v)
	}
	c.mu.Unlock()
}

func (c *Config) runHooks(d *directive, v string) {
	c.mu.RLock()
	hooks := c.hooks[d.name]
	c.mu.RUnlock()
	for _, h := range hooks {
		h(v)
	}
}

// SetArgs is CONFIG SET with its name/value pairs, as Redis 7.0's
// configSetCommand: every name is checked first (unknown, immutable,
// protected unless protectedOK, duplicate: the first problem is the
// answer), then the values are set in order; when one fails the ones set
// before it are restored. Hooks run once all are set. The error is the
// reply's text without "ERR ".
// While loading (a replica loads its master's snapshot), a DENY_LOADING
// directive fails the command with ErrLoading, as Redis.
func (c *Config) SetArgs(args []string, protectedOK, loading bool) error {
	type item struct {
		d    *directive // the directive
		e    *directive // the entry named (an alias's own entry)
		name string
		val  string
	}
	items := make([]item, 0, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		name := args[i]
		e := c.entry(name)
		if e == nil {
			return fmt.Errorf("Unknown option or number of arguments for CONFIG SET - '%s'", name)
		}
		d := c.lookup(name)
		if d.flags&fImmutable != 0 {
			return fmt.Errorf("CONFIG SET failed (possibly related to argument '%s') - can't set immutable config", name)
		}
		if d.flags&fProtected != 0 && !protectedOK {
			return fmt.Errorf("CONFIG SET failed (possibly related to argument '%s') - can't set protected config", name)
		}
		if loading && d.flags&fDenyLoading != 0 {
			return ErrLoading
		}
		for _, it := range items {
			if it.e == e { // an alias and its directive are two entries, as in Redis
				return fmt.Errorf("CONFIG SET failed (possibly related to argument '%s') - duplicate parameter", name)
			}
		}
		items = append(items, item{d: d, e: e, name: name, val: args[i+1]})
	}
	old := make([]string, len(items))
	for i, it := range items {
		old[i] = c.Get(it.d.name)
		v, err := c.parse(it.d, it.val, false)
		if err != nil {
			for j := i - 1; j >= 0; j-- { // restore, latest first
				if items[j].d.name == "dir" {
					os.Chdir(old[j])
				}
				c.store(items[j].d, old[j])
			}
			return fmt.Errorf("CONFIG SET failed (possibly related to argument '%s') - %s", it.e.name, err)
		}
		c.store(it.d, v)
	}
	if err := c.runAppliers(len(items), func(i int) (*directive, string, string) {
		return items[i].d, items[i].e.name, old[i]
	}); err != nil {
		return err
	}
	for i, it := range items {
		// a directive with its own normalizer may show the same value for
		// other settings (notify-keyspace-events hides n behind A): its
		// hook runs every time
		if v := c.Get(it.d.name); v != old[i] || it.d.norm != nil {
			c.runHooks(it.d, v)
		}
	}
	return nil
}

// runAppliers runs, once each, the apply functions (OnApply) of the n
// directives CONFIG SET changed (item(i): directive, name given, old
// value); on a failure it restores the old values, applies them again and
// returns CONFIG SET's error.
func (c *Config) runAppliers(n int, item func(i int) (*directive, string, string)) error {
	c.mu.RLock()
	if len(c.appliers) == 0 {
		c.mu.RUnlock()
		return nil
	}
	var order []*applier
	var names []string
	for i := 0; i < n; i++ {
		d, name, _ := item(i)
		if a := c.appliers[d.name]; a != nil && !slices.Contains(order, a) {
			order = append(order, a)
			names = append(names, name)
		}
	}
	c.mu.RUnlock()
	for k, a := range order {
		if err := a.fn(); err != nil {
			for i := n - 1; i >= 0; i-- {
				d, _, old := item(i)
				c.store(d, old)
			}
			for _, b := range order {
				b.fn() // the old values again; a second failure is only logged by fn
			}
			return fmt.Errorf("CONFIG SET failed (possibly related to argument '%s') - %s", names[k], err)
		}
	}
	return nil
}

// ErrLoading is CONFIG SET's error for a DENY_LOADING directive while
// loading (the reply's text).
var ErrLoading = errors.New("LOADING Redis is loading the dataset in memory")

// Sensitive reports whether name is a SENSITIVE directive (masterauth,
// requirepass...): CONFIG SET hides its value from MONITOR and SLOWLOG.
func (c *Config) Sensitive(name string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d := c.lookup(name)
	return d != nil && d.flags&fSensitive != 0
}

// GetArgs is CONFIG GET with its patterns, as Redis 7.0's configGetCommand:
// a name without glob characters is looked up (hidden directives
// included) and answered under the name as given; a pattern matches every
// name and alias but hidden ones. A directive is answered once per name
// (case-insensitively), the first time it is asked for.
func (c *Config) GetArgs(patterns []string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out [][2]string
	seen := map[string]bool{}
	var names []string
	for _, p := range patterns {
		if !strings.ContainsAny(p, "[*?") {
			l := strings.ToLower(p)
			if seen[l] {
				continue
			}
			if d := c.lookup(p); d != nil {
				seen[l] = true
				out = append(out, [2]string{p, c.vals[d.name]})
			}
			continue
		}
		if names == nil {
			names = make([]string, 0, len(c.dirs))
			for n := range c.dirs {
				names = append(names, n)
			}
			sort.Strings(names)
		}
		for _, n := range names {
			d := c.lookup(n)
			if d.flags&fHidden != 0 || seen[n] || !glob.Match(p, n, true) {
				continue
			}
			seen[n] = true
			out = append(out, [2]string{n, c.vals[d.name]})
		}
	}
	return out
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

// applier is an apply function that may fail (OnApply).
type applier struct{ fn func() error }

// OnApply registers fn to run, once, after a CONFIG SET changed any of
// names, before their OnChange hooks, as Redis's apply functions: when it
// fails, every value the command set is restored, fn runs again for the
// old values, and CONFIG SET fails with fn's error (naming the first of
// the command's directives it applies to).
func (c *Config) OnApply(names []string, fn func() error) {
	a := &applier{fn: fn}
	c.mu.Lock()
	if c.appliers == nil {
		c.appliers = map[string]*applier{}
	}
	for _, n := range names {
		if d := c.lookup(n); d != nil {
			c.appliers[d.name] = a
		}
	}
	c.mu.Unlock()
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

// Int returns a numeric directive's value (unsigned values above the
// int64 range clamp to math.MaxInt64, as Var.Int).
func (c *Config) Int(name string) int64 { return numValue(c.Get(name)) }

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
		if !glob.Match(pattern, n, true) || seen[n] || c.lookup(n).flags&fHidden != 0 {
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
		if name == "client-output-buffer-limit" {
			// each line sets its classes and keeps the others (the
			// server's normalizer merges them: later classes win)
			val = c.Get(name) + " " + val
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
// split and unquoted as Redis does, # comments and blank lines ignored, and
// so are lines with no arguments (only spaces, or a NUL first: Redis
// splits C strings).
func ParseText(text string) ([]Line, error) {
	var out []Line
	for i, raw := range strings.Split(cText(text), "\n") {
		t := strings.Trim(raw, " \t\r\n") // sdstrim's set, not every space
		if t == "" || t[0] == '#' {
			continue
		}
		a, err := resp.SplitArgs([]byte(t), nil)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): Unbalanced quotes in configuration line", i+1, t)
		}
		if len(a) == 0 {
			continue
		}
		l := Line{Num: i + 1, Text: t}
		for _, x := range a {
			l.Args = append(l.Args, string(x))
		}
		out = append(out, l)
	}
	return out, nil
}

// configMaxLine is Redis's CONFIG_MAX_LINE: the size of the chunks in
// which redis-server reads a config file.
const configMaxLine = 1024

// cText is a config file's text as redis-server sees it: it reads the file
// with fgets in chunks of at most configMaxLine bytes, each ending at a
// newline or at the chunk's size, and appends each as a C string, so that
// a chunk loses its bytes from a NUL on, newline included (the line then
// goes on with the next one).
func cText(text string) string {
	if strings.IndexByte(text, 0) < 0 {
		return text
	}
	var b strings.Builder
	for len(text) > 0 {
		n := min(configMaxLine, len(text))
		if i := strings.IndexByte(text[:n], '\n'); i >= 0 {
			n = i + 1
		}
		chunk := text[:n]
		text = text[n:]
		if j := strings.IndexByte(chunk, 0); j >= 0 {
			chunk = chunk[:j]
		}
		b.WriteString(chunk)
	}
	return b.String()
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
