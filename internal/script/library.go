package script

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
)

// LoadTimeout bounds a FUNCTION LOAD's run of the library code, as Redis's
// LOAD_TIMEOUT_MS does. Libraries loaded from a snapshot, the AOF or a
// RESTORE run without limit.
const LoadTimeout = 500 * time.Millisecond

// Loader is an engine that loads FUNCTION libraries.
type Loader interface {
	Engine
	// LoadLibrary runs a library's code (what follows the "#!engine
	// name=lib" line, starting with its newline so line numbers stay
	// right) in the engine's load environment, where only function
	// registration and a few safe calls exist, and returns the functions
	// it registered. timeout 0 means none. The error's text is Redis's,
	// without the "ERR " prefix ("Error registering functions: ...").
	LoadLibrary(code []byte, timeout time.Duration, log func(level int, msg string)) ([]*FunctionInfo, error)
}

// FunctionInfo is a function registered by a library.
type FunctionInfo struct {
	Name string
	// Desc is the description; HasDesc is false when none was given
	// (FUNCTION LIST replies null).
	Desc    string
	HasDesc bool
	Flags   Flags
	// Fn is the engine's compiled function.
	Fn Function
	// Library is the library that registered the function.
	Library *Library
	// Rerunnable is set by the engine when a call may be stopped and run
	// again without the first attempt leaving a trace in the engine's
	// state (no library state it could change, e.g. a Lua upvalue):
	// FCALL runs only such functions holding part of the keyspace.
	Rerunnable bool
	// Stats is the caller's: FCALL caches the function's statistics
	// record there.
	Stats atomic.Value
}

// Library is a loaded FUNCTION library.
type Library struct {
	Name   string
	Engine string // the engine's name as FUNCTION LIST shows it ("LUA")
	// Code is the library's full text, metadata line included: what
	// FUNCTION LIST WITHCODE, FUNCTION DUMP and snapshots hold.
	Code      string
	Functions []*FunctionInfo // sorted by name

	engine Loader
}

// Call runs f with run (FCALL): the engine writes the result to run.W.
func (f *FunctionInfo) Call(run *Run, keys, args [][]byte) {
	f.Library.engine.Call(run, f.Fn, keys, args)
}

// ValidName reports whether s is a valid library or function name:
// letters, digits and underscores, at least one.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Library errors (Redis 7.0 texts, without "ERR ").
const (
	ErrLibMissingMeta = "Missing library metadata"
	ErrLibInvalidMeta = "Invalid library metadata"
	ErrLibNoName      = "Library name was not given"
	ErrLibNameTwice   = "Invalid metadata value, name argument was given multiple times"
	// ErrBadName is Redis 7.0's text for an invalid library name, and
	// (sic) for an invalid function name too.
	ErrBadName        = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	ErrNoFunctions    = "No functions registered"
	ErrLibNotFound    = "Library not found"
	ErrPayload        = "DUMP payload version or checksum are wrong"
	ErrFuncExistsInLb = "Function already exists in the library"
)

// Metadata is a library's parsed "#!<engine> name=<lib>" first line.
type Metadata struct {
	Engine string
	Name   string
	// Body is the offset of the code after the metadata line (at its
	// newline).
	Body int
}

// ParseMetadata parses a library's first line as Redis's
// functionExtractLibMetaData does. msg is the error text without "ERR ".
func ParseMetadata(code []byte) (md Metadata, msg string) {
	if len(code) < 2 || code[0] != '#' || code[1] != '!' {
		return md, ErrLibMissingMeta
	}
	// strchr(code, '\n'): a NUL before the first newline ends the search
	end := -1
	for i, c := range code {
		if c == '\n' || c == 0 {
			if c == '\n' {
				end = i
			}
			break
		}
	}
	if end < 0 {
		return md, ErrLibInvalidMeta
	}
	parts, err := resp.SplitArgs(code[:end], nil)
	if err != nil || len(parts) == 0 {
		return md, ErrLibInvalidMeta
	}
	md.Engine = string(parts[0][2:])
	named := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(string(p[:5]), "name=") {
			if named {
				return md, ErrLibNameTwice
			}
			md.Name, named = string(p[5:]), true
			continue
		}
		return md, "Invalid metadata value given: " + string(p)
	}
	if !named {
		return md, ErrLibNoName
	}
	md.Body = end
	return md, ""
}

// libSet is a set of libraries and the index of their functions (Redis's
// functionsLibCtx).
type libSet struct {
	libs  map[string]*Library
	funcs map[string]*FunctionInfo // by lower-cased name: FCALL ignores case
}

func newLibSet() *libSet {
	return &libSet{libs: map[string]*Library{}, funcs: map[string]*FunctionInfo{}}
}

func (s *libSet) link(l *Library) {
	s.libs[l.Name] = l
	for _, f := range l.Functions {
		s.funcs[strings.ToLower(f.Name)] = f
	}
}

func (s *libSet) unlink(l *Library) {
	delete(s.libs, l.Name)
	for _, f := range l.Functions {
		delete(s.funcs, strings.ToLower(f.Name))
	}
}

// Libraries holds the FUNCTION libraries and the engines that load them.
// Changes (load, delete, flush, restore) are serialized by the caller
// holding the whole keyspace, and by an internal lock for readers.
type Libraries struct {
	mu      sync.RWMutex
	engines map[string]Loader // by upper-cased name
	names   []string          // engine names, sorted
	set     *libSet
	// Log receives redis.log lines written while a library loads.
	Log func(level int, msg string)
}

// NewLibraries returns an empty registry.
func NewLibraries() *Libraries {
	return &Libraries{engines: map[string]Loader{}, set: newLibSet()}
}

// AddEngine makes an engine available to libraries under name ("LUA").
func (r *Libraries) AddEngine(name string, e Loader) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name = strings.ToUpper(name)
	if _, ok := r.engines[name]; !ok {
		r.names = append(r.names, name)
		sort.Strings(r.names)
	}
	r.engines[name] = e
}

// create loads code into set as functionsCreateWithLibraryCtx does: it
// returns the library name, or Redis's error text (without "ERR ").
func (r *Libraries) create(set *libSet, code []byte, replace bool, timeout time.Duration) (string, string) {
	md, msg := ParseMetadata(code)
	if msg != "" {
		return "", msg
	}
	if !ValidName(md.Name) {
		return "", ErrBadName
	}
	engName := strings.ToUpper(md.Engine)
	eng := r.engines[engName]
	if eng == nil {
		return "", "Engine '" + md.Engine + "' not found"
	}
	old := set.libs[md.Name]
	if old != nil && !replace {
		return "", "Library '" + md.Name + "' already exists"
	}
	if old != nil {
		set.unlink(old)
	}
	fail := func(msg string) (string, string) {
		if old != nil {
			set.link(old)
		}
		return "", msg
	}
	fns, err := eng.LoadLibrary(code[md.Body:], timeout, r.Log)
	if err != nil {
		return fail(err.Error())
	}
	if len(fns) == 0 {
		return fail(ErrNoFunctions)
	}
	for _, f := range fns {
		if set.funcs[strings.ToLower(f.Name)] != nil {
			return fail("Function " + f.Name + " already exists")
		}
	}
	lib := &Library{Name: md.Name, Engine: engName, Code: string(code), Functions: fns, engine: eng}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	for _, f := range fns {
		f.Library = lib
	}
	set.link(lib)
	return lib.Name, ""
}

// Load implements FUNCTION LOAD [REPLACE]: it returns the library's name,
// or Redis's error text without "ERR ". A library that fails to load
// leaves the one it would replace in place. timeout is LoadTimeout for a
// client, 0 when replaying (AOF, replication).
func (r *Libraries) Load(code []byte, replace bool, timeout time.Duration) (string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.create(r.set, code, replace, timeout)
}

// Prepared is a set of libraries compiled by Prepare and not yet in
// force; Install puts it in place of the current libraries.
type Prepared struct{ set *libSet }

// Prepare compiles codes (a snapshot's libraries) into a new set without
// touching the current libraries, as Redis loads a swapdb replica's
// functions into a temporary context. It returns Redis's error text
// without "ERR " when one fails.
func (r *Libraries) Prepare(codes [][]byte) (*Prepared, string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	tmp := newLibSet()
	for _, code := range codes {
		if _, msg := r.create(tmp, code, false, 0); msg != "" {
			return nil, msg
		}
	}
	return &Prepared{set: tmp}, ""
}

// Install replaces every library with p's in one step (the caller holds
// the whole keyspace, so no FCALL sees neither set or a mix).
func (r *Libraries) Install(p *Prepared) {
	r.mu.Lock()
	r.set = p.set
	r.mu.Unlock()
}

// Function returns the function named name (case-insensitively), or nil.
func (r *Libraries) Function(name string) *FunctionInfo {
	r.mu.RLock()
	f := r.set.funcs[name]
	if f == nil {
		f = r.set.funcs[strings.ToLower(name)]
	}
	r.mu.RUnlock()
	return f
}

// Delete implements FUNCTION DELETE; it reports whether name existed.
func (r *Libraries) Delete(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.set.libs[name]
	if l == nil {
		return false
	}
	r.set.unlink(l)
	return true
}

// Flush implements FUNCTION FLUSH: it drops every library.
func (r *Libraries) Flush() {
	r.mu.Lock()
	r.set = newLibSet()
	r.mu.Unlock()
}

// List returns the libraries whose name matches match (all when match is
// nil), sorted by name.
func (r *Libraries) List(match func(name string) bool) []*Library {
	r.mu.RLock()
	out := make([]*Library, 0, len(r.set.libs))
	for _, l := range r.set.libs {
		if match == nil || match(l.Name) {
			out = append(out, l)
		}
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EngineStats is one engine's line of FUNCTION STATS.
type EngineStats struct {
	Name      string
	Libraries int
	Functions int
}

// Stats returns the libraries and functions counts of each engine, by
// engine name.
func (r *Libraries) Stats() []EngineStats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]EngineStats, len(r.names))
	idx := map[string]int{}
	for i, n := range r.names {
		out[i].Name = n
		idx[n] = i
	}
	for _, l := range r.set.libs {
		i := idx[l.Engine]
		out[i].Libraries++
		out[i].Functions += len(l.Functions)
	}
	return out
}

// Counts returns the number of libraries and functions.
func (r *Libraries) Counts() (libs, funcs int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.set.libs), len(r.set.funcs)
}

// Memory approximates the memory of the libraries' code and bookkeeping
// (INFO used_memory_functions).
func (r *Libraries) Memory() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var n int64
	for _, l := range r.set.libs {
		n += int64(len(l.Code)+len(l.Name)) + 128
		for _, f := range l.Functions {
			n += int64(len(f.Name)+len(f.Desc)) + 96
		}
	}
	return n
}

// Codes returns the code of every library, sorted by library name: what a
// snapshot saves, one RDB_OPCODE_FUNCTION2 record each, and what an AOF
// rewrite turns into FUNCTION LOAD commands.
func (r *Libraries) Codes() [][]byte {
	libs := r.List(nil)
	out := make([][]byte, len(libs))
	for i, l := range libs {
		out[i] = []byte(l.Code)
	}
	return out
}

// RestorePolicy is FUNCTION RESTORE's policy for existing libraries.
type RestorePolicy int

// Restore policies.
const (
	// RestoreAppend adds the libraries; a name collision fails the restore.
	RestoreAppend RestorePolicy = iota
	// RestoreReplace adds the libraries, replacing those of the same name.
	RestoreReplace
	// RestoreFlush drops every existing library first.
	RestoreFlush
)

// LoadSnapshot adds the libraries of a snapshot (or of a FUNCTION DUMP
// payload already decoded): codes are loaded without timeout into a fresh
// set, then joined to the current libraries under policy, all or nothing.
// It returns Redis's error text without "ERR ", or "".
func (r *Libraries) LoadSnapshot(codes [][]byte, policy RestorePolicy) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	tmp := newLibSet()
	for _, code := range codes {
		if _, msg := r.create(tmp, code, false, 0); msg != "" {
			return msg
		}
	}
	if policy == RestoreFlush {
		r.set = tmp
		return ""
	}
	return r.join(tmp, policy == RestoreReplace)
}

// join adds src's libraries to the current set as Redis's libraryJoin
// does: a library name collision fails unless replace; a function name
// collision fails; on failure nothing changes.
func (r *Libraries) join(src *libSet, replace bool) string {
	dst := r.set
	var replaced []*Library
	restore := func() {
		for _, l := range replaced {
			dst.link(l)
		}
	}
	names := make([]string, 0, len(src.libs))
	for n := range src.libs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		old := dst.libs[n]
		if old == nil {
			continue
		}
		if !replace {
			restore()
			return "Library " + n + " already exists"
		}
		dst.unlink(old)
		replaced = append(replaced, old)
	}
	for _, n := range names {
		for _, f := range src.libs[n].Functions {
			if dst.funcs[strings.ToLower(f.Name)] != nil {
				restore()
				return "Function " + f.Name + " already exists"
			}
		}
	}
	for _, n := range names {
		dst.link(src.libs[n])
	}
	return ""
}

// Dump implements FUNCTION DUMP: the libraries' codes as RDB function
// records, then the RDB version and a CRC64, like a key's DUMP payload.
func (r *Libraries) Dump() []byte { return DumpLibraries(r.Codes()) }

// Restore implements FUNCTION RESTORE: it decodes payload and loads its
// libraries under policy. It returns Redis's error text without "ERR ".
func (r *Libraries) Restore(payload []byte, policy RestorePolicy) string {
	codes, msg := ParseDump(payload)
	if msg != "" {
		return msg
	}
	return r.LoadSnapshot(codes, policy)
}
