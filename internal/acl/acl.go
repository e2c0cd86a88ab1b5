// Package acl implements Redis 7.0 access control lists: users, their
// passwords and flags, command/key/channel permissions grouped in
// selectors, the rule language of ACL SETUSER, the description ACL LIST
// prints, permission checks against command Specs, and the ACL log.
//
// A User's permissions are an immutable snapshot swapped atomically by
// SETUSER, so checks on the command path take no lock.
package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/command"
)

// Categories are Redis 7.0's ACL categories, in ACL CAT order.
var Categories = [...]string{"keyspace", "read", "write", "set", "sortedset", "list",
	"hash", "string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast",
	"slow", "blocking", "dangerous", "connection", "transaction", "scripting"}

// CategoryIndex returns the position of category name (without '@') in
// Categories, or -1.
func CategoryIndex(name string) int {
	for i, c := range Categories {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// User flags, in the order ACL LIST and GETUSER print them.
const (
	flagOn = 1 << iota
	flagOff
	flagNopass
	flagSkipSanitize
	flagSanitize
)

var userFlagNames = []string{"on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"}

// Key permissions of a key pattern.
const (
	permRead  = 1
	permWrite = 2
	permAll   = permRead | permWrite
)

type keyPattern struct {
	pat   string
	flags int
}

func (k keyPattern) String() string {
	switch k.flags {
	case permRead:
		return "%R~" + k.pat
	case permWrite:
		return "%W~" + k.pat
	}
	return "~" + k.pat
}

// cmdIndex numbers every declared command and subcommand, as Redis's
// command ids do, for the permission bitmaps.
type cmdIndex struct {
	specs []*command.Spec
	ids   map[*command.Spec]int
	top   []*command.Spec
	// byCat lists, per category, the commands (recursively) carrying it.
	byCat [len(Categories)][]*command.Spec
}

func newIndex(t *command.Table) *cmdIndex {
	x := &cmdIndex{ids: map[*command.Spec]int{}}
	var add func(s *command.Spec)
	add = func(s *command.Spec) {
		x.ids[s] = len(x.specs)
		x.specs = append(x.specs, s)
		for _, c := range s.ACL {
			if i := CategoryIndex(strings.TrimPrefix(c, "@")); i >= 0 {
				x.byCat[i] = append(x.byCat[i], s)
			}
		}
		subs := append([]*command.Spec(nil), s.Subs...)
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
		for _, sub := range subs {
			add(sub)
		}
	}
	x.top = t.Declared()
	for _, s := range x.top {
		add(s)
	}
	return x
}

// bits is a command permission bitmap indexed by command id.
type bits []uint64

func newBits(n int) bits { return make(bits, (n+63)/64) }

func (b bits) get(id int) bool { return b[id>>6]&(1<<(id&63)) != 0 }

func (b bits) set(id int, v bool) {
	if v {
		b[id>>6] |= 1 << (id & 63)
	} else {
		b[id>>6] &^= 1 << (id & 63)
	}
}

func (b bits) fill(n int, v bool) {
	for i := range b {
		b[i] = 0
	}
	if v {
		for id := 0; id < n; id++ {
			b.set(id, true)
		}
	}
}

func (b bits) equal(o bits) bool {
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

// selector is one set of permissions: the root one or a "(...)" one.
type selector struct {
	root        bool
	allKeys     bool
	allChannels bool
	allCommands bool // fast path: every command allowed
	future      bool // built from +@all: future commands allowed too
	cmds        bits
	firstArgs   map[int][]string
	keys        []keyPattern
	channels    []string
}

func (s *selector) clone() *selector {
	c := *s
	c.cmds = append(bits(nil), s.cmds...)
	if s.firstArgs != nil {
		c.firstArgs = make(map[int][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			c.firstArgs[k] = append([]string(nil), v...)
		}
	}
	c.keys = append([]keyPattern(nil), s.keys...)
	c.channels = append([]string(nil), s.channels...)
	return &c
}

// userState is an immutable snapshot of a user's rules.
type userState struct {
	flags     int
	passwords []string // hex sha256, in insertion order
	selectors []*selector
}

func (st *userState) clone() *userState {
	c := &userState{flags: st.flags, passwords: append([]string(nil), st.passwords...)}
	for _, s := range st.selectors {
		c.selectors = append(c.selectors, s.clone())
	}
	return c
}

// User is an ACL user. Its rules change atomically with SetUser.
type User struct {
	name string
	st   atomic.Pointer[userState]
}

// Name returns the user's name.
func (u *User) Name() string { return u.name }

// Enabled reports whether the user is "on".
func (u *User) Enabled() bool { return u.st.Load().flags&flagOn != 0 }

// NoPass reports whether the user has the nopass flag.
func (u *User) NoPass() bool { return u.st.Load().flags&flagNopass != 0 }

// Registry holds the users and the ACL log.
type Registry struct {
	table *command.Table
	once  sync.Once
	idx   *cmdIndex

	// AllChannelsDefault reports whether acl-pubsub-default is
	// allchannels (new selectors start with &*).
	AllChannelsDefault func() bool
	// LogMax returns acllog-max-len.
	LogMax func() int
	// Now returns the time in Unix ms.
	Now func() int64

	mu    sync.RWMutex
	users map[string]*User
	def   *User
	// requirepass is the value SetDefaultPassword last applied.
	requirepass string

	logMu sync.Mutex
	log   []*LogEntry // newest first
}

// New returns a registry with only the default user (on, nopass, all
// permissions), over the commands declared in t.
func New(t *command.Table) *Registry {
	r := &Registry{table: t, users: map[string]*User{}}
	r.def = &User{name: "default"}
	r.def.st.Store(r.defaultState())
	r.users["default"] = r.def
	return r
}

func (r *Registry) index() *cmdIndex {
	r.once.Do(func() { r.idx = newIndex(r.table) })
	return r.idx
}

func (r *Registry) newSelector(root bool) *selector {
	s := &selector{root: root, cmds: newBits(len(r.index().specs))}
	if r.AllChannelsDefault != nil && r.AllChannelsDefault() {
		s.allChannels = true
	}
	return s
}

func (r *Registry) newState() *userState {
	return &userState{flags: flagOff, selectors: []*selector{r.newSelector(true)}}
}

func (r *Registry) defaultState() *userState {
	st := r.newState()
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		if err := r.apply(st, op); err != nil {
			panic("acl: default user: " + err.Error())
		}
	}
	return st
}

// Default returns the default user.
func (r *Registry) Default() *User { return r.def }

// Get returns the user named name, or nil.
func (r *Registry) Get(name string) *User {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.users[name]
}

// Users returns every user sorted by name (ACL LIST / USERS order).
func (r *Registry) Users() []*User {
	r.mu.RLock()
	out := make([]*User, 0, len(r.users))
	for _, u := range r.users {
		out = append(out, u)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// HashPassword returns the hex sha256 of a cleartext password, as stored.
func HashPassword(pass string) string {
	h := sha256.Sum256([]byte(pass))
	return hex.EncodeToString(h[:])
}

// Authenticate checks name's credentials. It returns the user when they
// are valid and the user is enabled.
func (r *Registry) Authenticate(name, pass string) *User {
	u := r.Get(name)
	if u == nil {
		return nil
	}
	st := u.st.Load()
	if st.flags&flagOff != 0 {
		return nil
	}
	if st.flags&flagNopass != 0 {
		return u
	}
	h := HashPassword(pass)
	ok := false
	for _, p := range st.passwords {
		if subtle.ConstantTimeCompare([]byte(h), []byte(p)) == 1 {
			ok = true
		}
	}
	if ok {
		return u
	}
	return nil
}

// DefaultNeedsAuth reports whether new connections must authenticate: the
// default user has a password or is disabled.
func (r *Registry) DefaultNeedsAuth() bool {
	st := r.def.st.Load()
	return st.flags&flagNopass == 0 || st.flags&flagOff != 0
}

// SetDefaultPassword applies requirepass to the default user: resetpass,
// then >pass, or nopass when pass is empty. Like Redis 7.0's CONFIG SET,
// which runs a directive's apply function only when its value changes, it
// does nothing when pass is the requirepass it last applied (the default
// user keeps whatever ACL SETUSER gave it since).
func (r *Registry) SetDefaultPassword(pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pass == r.requirepass {
		return
	}
	r.requirepass = pass
	st := r.def.st.Load().clone()
	_ = r.apply(st, "resetpass")
	if pass != "" {
		_ = r.apply(st, ">"+pass)
	} else {
		_ = r.apply(st, "nopass")
	}
	r.def.st.Store(st)
}

// SetUser creates the user or changes its rules, applying ops left to
// right; nothing changes when one fails. Arguments of a selector split
// across several ops ("(+get", "~k)") are merged first.
func (r *Registry) SetUser(name string, ops []string) error {
	merged, bad := MergeSelectorArgs(ops)
	if bad >= 0 {
		return &UnmatchedError{Op: ops[bad]}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.users[name]
	var st *userState
	if u != nil {
		st = u.st.Load().clone()
	} else {
		st = r.newState()
	}
	for _, op := range merged {
		if err := r.apply(st, op); err != nil {
			return err
		}
	}
	if u == nil {
		u = &User{name: name}
		r.users[name] = u
	}
	u.st.Store(st)
	return nil
}

// DelUsers deletes the named users and returns those that existed (their
// clients must be disconnected). Deleting "default" is refused by the
// caller.
func (r *Registry) DelUsers(names []string) []*User {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*User
	for _, n := range names {
		if u := r.users[n]; u != nil && u != r.def {
			delete(r.users, n)
			out = append(out, u)
		}
	}
	return out
}

// UnmatchedError is an unterminated "(" selector.
type UnmatchedError struct{ Op string }

func (e *UnmatchedError) Error() string {
	return "Unmatched parenthesis in acl selector starting at '" + e.Op + "'."
}

// RuleError is a rule SETUSER refused.
type RuleError struct {
	Op  string
	Msg string
}

func (e *RuleError) Error() string {
	return "Error in ACL SETUSER modifier '" + e.Op + "': " + e.Msg
}

// Rule error texts (Redis 7.0).
const (
	msgUnknown     = "Unknown command or category name in ACL"
	msgSyntax      = "Syntax error"
	msgKeysAll     = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	msgChannelsAll = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	msgNoPass      = "The password you are trying to remove from the user does not exist"
	msgBadHash     = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	msgFirstArgSub = "Allowing first-arg of a subcommand is not supported"
)

// MergeSelectorArgs joins selector arguments split over several words
// ("(+get" "~x)" becomes "(+get ~x)"). bad is the index of an unterminated
// selector's first word, or -1.
func MergeSelectorArgs(ops []string) (merged []string, bad int) {
	open := -1
	var cur string
	for j, op := range ops {
		// a word opening a selector starts it over, even inside an open
		// one (Redis drops what came before)
		if len(op) > 0 && op[0] == '(' && op[len(op)-1] != ')' {
			cur, open = op, j
			continue
		}
		if open >= 0 {
			cur += " " + op
			if len(op) > 0 && op[len(op)-1] == ')' {
				merged = append(merged, cur)
				open = -1
			}
			continue
		}
		merged = append(merged, op)
	}
	if open >= 0 {
		return nil, open
	}
	return merged, -1
}

func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f', 0:
			return true
		}
	}
	return false
}

// ValidName reports whether name can be a user name (no spaces or NULs).
func ValidName(name string) bool { return !hasSpaces(name) }

func checkHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// apply applies one user rule to st.
func (r *Registry) apply(st *userState, op string) error {
	if op == "" {
		return nil
	}
	fail := func(msg string) error { return &RuleError{Op: op, Msg: msg} }
	switch {
	case strings.EqualFold(op, "on"):
		st.flags = st.flags&^flagOff | flagOn
	case strings.EqualFold(op, "off"):
		st.flags = st.flags&^flagOn | flagOff
	case strings.EqualFold(op, "skip-sanitize-payload"):
		st.flags = st.flags&^flagSanitize | flagSkipSanitize
	case strings.EqualFold(op, "sanitize-payload"):
		st.flags = st.flags&^flagSkipSanitize | flagSanitize
	case strings.EqualFold(op, "nopass"):
		st.flags |= flagNopass
		st.passwords = nil
	case strings.EqualFold(op, "resetpass"):
		st.flags &^= flagNopass
		st.passwords = nil
	case op[0] == '>' || op[0] == '#':
		var h string
		if op[0] == '>' {
			h = HashPassword(op[1:])
		} else {
			if !checkHash(op[1:]) {
				return fail(msgBadHash)
			}
			h = op[1:]
		}
		found := false
		for _, p := range st.passwords {
			if p == h {
				found = true
			}
		}
		if !found {
			st.passwords = append(st.passwords, h)
		}
		st.flags &^= flagNopass
	case op[0] == '<' || op[0] == '!':
		var h string
		if op[0] == '<' {
			h = HashPassword(op[1:])
		} else {
			if !checkHash(op[1:]) {
				return fail(msgBadHash)
			}
			h = op[1:]
		}
		i := -1
		for j, p := range st.passwords {
			if p == h {
				i = j
			}
		}
		if i < 0 {
			return fail(msgNoPass)
		}
		st.passwords = append(st.passwords[:i:i], st.passwords[i+1:]...)
	case op[0] == '(' && op[len(op)-1] == ')':
		s := r.newSelector(false)
		for _, a := range splitSelector(op[1 : len(op)-1]) {
			if err := r.applySelector(s, a); err != nil {
				if re, ok := err.(*RuleError); ok {
					re.Op = op
				}
				return err
			}
		}
		st.selectors = append(st.selectors, s)
	case strings.EqualFold(op, "clearselectors"):
		st.selectors = st.selectors[:1]
	case strings.EqualFold(op, "reset"):
		for _, o := range []string{"resetpass", "resetkeys", "resetchannels"} {
			_ = r.apply(st, o)
		}
		if r.AllChannelsDefault != nil && r.AllChannelsDefault() {
			_ = r.apply(st, "allchannels")
		}
		for _, o := range []string{"off", "sanitize-payload", "clearselectors", "-@all"} {
			_ = r.apply(st, o)
		}
	default:
		if err := r.applySelector(st.selectors[0], op); err != nil {
			return err
		}
	}
	return nil
}

// splitSelector splits a selector's body on spaces (sdssplitargs without
// quotes, which rules never need).
func splitSelector(s string) []string { return strings.Fields(s) }

// changePerm sets the permission of cmd and, for a container, of all its
// subcommands, and forgets cmd's allowed first args.
func (r *Registry) changePerm(s *selector, cmd *command.Spec, allow bool) {
	x := r.index()
	id := x.ids[cmd]
	s.setBit(id, allow)
	delete(s.firstArgs, id)
	for _, sub := range cmd.Subs {
		s.setBit(x.ids[sub], allow)
	}
}

func (s *selector) setBit(id int, v bool) {
	s.cmds.set(id, v)
	if !v {
		s.allCommands = false
	}
}

func (r *Registry) setCategory(s *selector, cat int, allow bool) {
	for _, c := range r.index().byCat[cat] {
		r.changePerm(s, c, allow)
	}
}

func (r *Registry) lookup(name string) *command.Spec {
	return r.table.Find(strings.ToLower(name))
}

// applySelector applies one selector rule (commands, keys, channels).
func (r *Registry) applySelector(s *selector, op string) error {
	fail := func(msg string) error { return &RuleError{Op: op, Msg: msg} }
	n := len(r.index().specs)
	switch {
	case strings.EqualFold(op, "allkeys") || op == "~*":
		s.allKeys = true
		s.keys = nil
	case strings.EqualFold(op, "resetkeys"):
		s.allKeys = false
		s.keys = nil
	case strings.EqualFold(op, "allchannels") || op == "&*":
		s.allChannels = true
		s.channels = nil
	case strings.EqualFold(op, "resetchannels"):
		s.allChannels = false
		s.channels = nil
	case strings.EqualFold(op, "allcommands") || strings.EqualFold(op, "+@all"):
		s.cmds.fill(n, true)
		s.allCommands, s.future = true, true
		s.firstArgs = nil
	case strings.EqualFold(op, "nocommands") || strings.EqualFold(op, "-@all"):
		s.cmds.fill(n, false)
		s.allCommands, s.future = false, false
		s.firstArgs = nil
	case op[0] == '~' || op[0] == '%':
		if s.allKeys {
			return fail(msgKeysAll)
		}
		flags, off := permAll, 1
		if op[0] == '%' {
			flags = 0
			for ; off < len(op); off++ {
				c := op[off]
				if (c == 'R' || c == 'r') && flags&permRead == 0 {
					flags |= permRead
				} else if (c == 'W' || c == 'w') && flags&permWrite == 0 {
					flags |= permWrite
				} else if c == '~' {
					off++
					break
				} else {
					return fail(msgSyntax)
				}
			}
			if flags == 0 {
				return fail(msgSyntax) // "%~k", "%": no permission named
			}
		}
		pat := ""
		if off <= len(op) {
			pat = op[off:]
		}
		if hasSpaces(pat) {
			return fail(msgSyntax)
		}
		for i := range s.keys {
			if s.keys[i].pat == pat {
				s.keys[i].flags |= flags
				return nil
			}
		}
		s.keys = append(s.keys, keyPattern{pat: pat, flags: flags})
	case op[0] == '&':
		if s.allChannels {
			return fail(msgChannelsAll)
		}
		if hasSpaces(op[1:]) {
			return fail(msgSyntax)
		}
		for _, c := range s.channels {
			if c == op[1:] {
				return nil
			}
		}
		s.channels = append(s.channels, op[1:])
	case op[0] == '+' && (len(op) < 2 || op[1] != '@'):
		i := strings.LastIndexByte(op, '|')
		if i < 0 {
			cmd := r.lookup(op[1:])
			if cmd == nil {
				return fail(msgUnknown)
			}
			r.changePerm(s, cmd, true)
			return nil
		}
		parent, sub := op[1:i], op[i+1:]
		cmd := r.lookup(parent)
		if cmd == nil {
			return fail(msgUnknown)
		}
		if cmd.Parent != nil {
			return fail(msgFirstArgSub)
		}
		if sub == "" {
			return fail(msgSyntax)
		}
		if len(cmd.Subs) > 0 {
			sc := r.lookup(op[1:])
			if sc == nil {
				return fail(msgUnknown)
			}
			r.changePerm(s, sc, true)
			return nil
		}
		id := r.index().ids[cmd]
		if s.firstArgs == nil {
			s.firstArgs = map[int][]string{}
		}
		for _, a := range s.firstArgs[id] {
			if strings.EqualFold(a, sub) {
				return nil
			}
		}
		s.firstArgs[id] = append(s.firstArgs[id], sub)
	case op[0] == '-' && (len(op) < 2 || op[1] != '@'):
		cmd := r.lookup(op[1:])
		if cmd == nil {
			return fail(msgUnknown)
		}
		r.changePerm(s, cmd, false)
	case (op[0] == '+' || op[0] == '-') && op[1] == '@':
		cat := CategoryIndex(op[2:])
		if cat < 0 {
			return fail(msgUnknown)
		}
		r.setCategory(s, cat, op[0] == '+')
	default:
		return fail(msgSyntax)
	}
	return nil
}
