package command

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// redis70.json holds Redis 7.0's command metadata (COMMAND INFO and COMMAND
// DOCS, captured by gen/main.go) as trees: a string starting with '$' is a
// bulk string, '+' a status; a list starting with "*", "%" or "~" is an
// array, map or set; numbers are integers.
//
//go:embed redis70.json
var redis70 []byte

// Table is the set of commands the server serves.
type Table struct {
	byName map[string]*Spec
	meta   map[string]*Spec // every Redis command, with or without handler
	// fast finds served commands without lowering the name and hashing
	// it for byName: slot fastSlot(name) holds the first two commands
	// served whose names hash there (filled by Handle and Declare, at
	// startup); Lookup checks the name and falls back to byName.
	fast [fastSlots][2]*Spec
}

const fastSlots = 4096

// fastSlot hashes a command name case-insensitively (ASCII letters only
// differ by bit 0x20, which it ignores).
func fastSlot(name []byte) int {
	h := uint32(2166136261)
	for _, c := range name {
		h = (h ^ uint32(c|0x20)) * 16777619
	}
	return int((h ^ h>>15) & (fastSlots - 1))
}

func (t *Table) setFast(s *Spec) {
	b := &t.fast[fastSlot([]byte(s.Name))]
	switch {
	case b[0] == nil || b[0] == s:
		b[0] = s
	case b[1] == nil:
		b[1] = s
	}
}

// equalFold reports whether b equals the lower-case ASCII name, ignoring
// the case of b's letters.
func equalFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// NewTable returns a table holding Redis 7.0's declarations for every
// command; only commands given a handler with Handle are served.
func NewTable() (*Table, error) {
	var raw []struct {
		Name string          `json:"name"`
		Info json.RawMessage `json:"info"`
		Docs json.RawMessage `json:"docs"`
	}
	if err := json.Unmarshal(redis70, &raw); err != nil {
		return nil, fmt.Errorf("command metadata: %w", err)
	}
	t := &Table{byName: map[string]*Spec{}, meta: map[string]*Spec{}}
	for _, r := range raw {
		var info, docs any
		if err := json.Unmarshal(r.Info, &info); err != nil {
			return nil, fmt.Errorf("command %s info: %w", r.Name, err)
		}
		if err := json.Unmarshal(r.Docs, &docs); err != nil {
			return nil, fmt.Errorf("command %s docs: %w", r.Name, err)
		}
		s, err := specFromInfo(info, nil)
		if err != nil {
			return nil, fmt.Errorf("command %s: %w", r.Name, err)
		}
		s.Docs = docs
		attachSubDocs(s, docs)
		t.meta[s.Name] = s
	}
	return t, nil
}

func attachSubDocs(s *Spec, docs any) {
	m := TreeMap(docs)
	subs := TreeMap(m["subcommands"])
	for _, sub := range s.Subs {
		if d, ok := subs[sub.Name]; ok {
			sub.Docs = d
		}
	}
}

// Handle attaches a handler to the command (or "parent|sub" subcommand)
// named name and starts serving it. It panics on an unknown name: the table
// is built once at startup from code.
func (t *Table) Handle(name string, h Handler, opts ...Option) *Spec {
	s := t.find(name)
	if s == nil {
		panic("command: unknown command " + name)
	}
	s.Handler = h
	for _, o := range opts {
		o(s)
	}
	if s.resizes() {
		s.Flags |= FlagResizes
	}
	top := s
	if s.Parent != nil {
		top = s.Parent
	}
	t.byName[top.Name] = top
	t.setFast(top)
	return s
}

// Declare adds a command that Redis 7.0 does not have.
func (t *Table) Declare(s *Spec) {
	t.meta[s.Name] = s
	t.byName[s.Name] = s
	t.setFast(s)
}

func (t *Table) find(name string) *Spec {
	parent, sub, ok := strings.Cut(name, "|")
	s := t.meta[parent]
	if s == nil || !ok {
		return s
	}
	return s.subIdx[sub]
}

// Option adjusts a Spec when its handler is attached.
type Option func(*Spec)

// WithLock sets how the command locks the keyspace.
func WithLock(l Lock) Option { return func(s *Spec) { s.Lock = l } }

// WithGetKeys sets a key extraction function for the command.
func WithGetKeys(f func(args [][]byte) []int) Option { return func(s *Spec) { s.GetKeys = f } }

// WithLockAllIf makes the calls for which f reports true take the whole
// keyspace (see Spec.LockAllIf).
func WithLockAllIf(f func(args [][]byte) bool) Option { return func(s *Spec) { s.LockAllIf = f } }

// Lookup finds a served command by name, case-insensitively.
func (t *Table) Lookup(name []byte) *Spec {
	b := &t.fast[fastSlot(name)]
	if s := b[0]; s != nil && equalFold(name, s.Name) {
		return s
	}
	if s := b[1]; s != nil && equalFold(name, s.Name) {
		return s
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return t.byName[strings.ToLower(string(name))]
	}
	return t.byName[string(lower(buf[:0], name))]
}

// LookupString is Lookup for a Go string.
func (t *Table) LookupString(name string) *Spec { return t.byName[strings.ToLower(name)] }

// Served reports whether s (or, for a container, any subcommand) has a
// handler.
func Served(s *Spec) bool {
	if s.Handler != nil {
		return true
	}
	for _, sub := range s.Subs {
		if sub.Handler != nil {
			return true
		}
	}
	return false
}

// All returns the served commands sorted by name.
func (t *Table) All() []*Spec {
	out := make([]*Spec, 0, len(t.byName))
	for _, s := range t.byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Resolve returns the spec that handles args: the command, or its
// subcommand when it has subcommands. It returns the container spec and a
// nil sub when the subcommand is unknown.
func (t *Table) Resolve(args [][]byte) (cmd, sub *Spec) {
	cmd = t.Lookup(args[0])
	if cmd == nil || len(cmd.Subs) == 0 {
		return cmd, cmd
	}
	if len(args) < 2 {
		if cmd.Handler != nil {
			// a container callable alone (COMMAND)
			return cmd, cmd
		}
		return cmd, nil
	}
	sub = cmd.Sub(args[1])
	if sub != nil && sub.Handler == nil {
		sub = nil
	}
	return cmd, sub
}

func str(v any) string {
	s, _ := v.(string)
	if len(s) > 0 && (s[0] == '$' || s[0] == '+') {
		return s[1:]
	}
	return s
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func items(v any) []any {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return nil
	}
	return a[1:]
}

// TreeMap returns a map tree's entries by key.
func TreeMap(v any) map[string]any {
	it := items(v)
	m := make(map[string]any, len(it)/2)
	for i := 0; i+1 < len(it); i += 2 {
		m[str(it[i])] = it[i+1]
	}
	return m
}

// mayReplicate70 are the commands Redis 7.0 marks MAY_REPLICATE, a flag
// COMMAND INFO hides: read-only scripts refuse them ("Write commands are
// not allowed from read-only scripts.") and CLIENT PAUSE WRITE holds them
// (EVAL, EVALSHA and FCALL by the script's flags when it declares some).
var mayReplicate70 = map[string]bool{
	"publish": true, "spublish": true, "pfcount": true,
	"eval": true, "evalsha": true, "fcall": true,
}

func specFromInfo(info any, parent *Spec) (*Spec, error) {
	f := items(info)
	if len(f) < 10 {
		return nil, fmt.Errorf("short COMMAND INFO entry")
	}
	s := &Spec{
		Name:     str(f[0]),
		Arity:    num(f[1]),
		FirstKey: num(f[3]),
		LastKey:  num(f[4]),
		Step:     num(f[5]),
		Parent:   parent,
	}
	for _, fl := range items(f[2]) {
		if b, ok := ParseFlag(str(fl)); ok {
			s.Flags |= b
		}
	}
	if mayReplicate70[s.Name] {
		s.Flags |= FlagMayReplicate
	}
	for _, c := range items(f[6]) {
		s.ACL = append(s.ACL, str(c))
	}
	for _, tip := range items(f[7]) {
		s.Tips = append(s.Tips, str(tip))
	}
	for _, ks := range items(f[8]) {
		s.KeySpecs = append(s.KeySpecs, keySpecFromTree(ks))
	}
	for _, sub := range items(f[9]) {
		ss, err := specFromInfo(sub, s)
		if err != nil {
			return nil, err
		}
		s.Subs = append(s.Subs, ss)
		if s.subIdx == nil {
			s.subIdx = map[string]*Spec{}
		}
		_, short, _ := strings.Cut(ss.Name, "|")
		s.subIdx[short] = ss
	}
	return s, nil
}

func keySpecFromTree(v any) KeySpec {
	m := TreeMap(v)
	k := KeySpec{Notes: str(m["notes"])}
	for _, f := range items(m["flags"]) {
		k.Flags = append(k.Flags, str(f))
	}
	bs := TreeMap(m["begin_search"])
	k.BeginType = str(bs["type"])
	bspec := TreeMap(bs["spec"])
	switch k.BeginType {
	case "index":
		k.BeginIndex = num(bspec["index"])
	case "keyword":
		k.Keyword = str(bspec["keyword"])
		k.StartFrom = num(bspec["startfrom"])
	}
	fk := TreeMap(m["find_keys"])
	k.FindType = str(fk["type"])
	fspec := TreeMap(fk["spec"])
	switch k.FindType {
	case "range":
		k.LastKey = num(fspec["lastkey"])
		k.KeyStep = num(fspec["keystep"])
		k.Limit = num(fspec["limit"])
	case "keynum":
		k.KeyNumIdx = num(fspec["keynumidx"])
		k.FirstKey = num(fspec["firstkey"])
		k.KeyStep = num(fspec["keystep"])
	}
	k.simple = k.BeginType == "index" && k.FindType == "range" && k.LastKey >= 0
	return k
}

// Find returns the declaration of the command (or "parent|sub"
// subcommand) named name, lowercase, whether or not it is served. ACL rules
// name commands this way.
func (t *Table) Find(name string) *Spec { return t.find(name) }

// Declared returns every declared command (served or not), sorted by name.
func (t *Table) Declared() []*Spec {
	out := make([]*Spec, 0, len(t.meta))
	for _, s := range t.meta {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
