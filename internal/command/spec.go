// Package command declares commands: each Spec carries a command's name,
// arity, flags, ACL categories, key specs and handler, and serves dispatch,
// COMMAND, ACL checks, cluster slot checks and script key checks alike.
package command

import (
	"strings"
)

// Flag is a command flag, as COMMAND INFO lists them.
type Flag uint32

// Command flags (Redis 7.0 names).
const (
	FlagWrite Flag = 1 << iota
	FlagReadOnly
	FlagDenyOOM
	FlagModule
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAsking
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagSentinel
	FlagOnlySentinel
	FlagNoMandatoryKeys
	FlagProtected
	FlagNoAsyncLoading
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
	FlagModuleNoCluster
	// FlagResizes (Crescent's own, never listed by COMMAND) marks the
	// write commands of the collection types (@list, @hash, @set,
	// @sortedset, @stream, @geo): they change a value in place, so the
	// executor re-measures their keys for memory accounting afterwards.
	FlagResizes
)

// collectionCategories are the ACL categories of FlagResizes.
var collectionCategories = []string{"@list", "@hash", "@set", "@sortedset", "@stream", "@geo"}

// resizes reports whether s gets FlagResizes.
func (s *Spec) resizes() bool {
	if !s.Has(FlagWrite) {
		return false
	}
	for _, c := range collectionCategories {
		if s.HasCategory(c) {
			return true
		}
	}
	return false
}

var flagNames = []string{"write", "readonly", "denyoom", "module", "admin", "pubsub",
	"noscript", "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "may_replicate", "sentinel", "only_sentinel", "no_mandatory_keys",
	"protected", "no_async_loading", "no_multi", "movablekeys", "allow_busy", "module_no_cluster"}

// ParseFlag returns the flag named s.
func ParseFlag(s string) (Flag, bool) {
	for i, n := range flagNames {
		if n == s {
			return 1 << i, true
		}
	}
	return 0, false
}

// hiddenFlags are the flags COMMAND INFO does not list ("Hidden on
// purpose" in Redis 7.0's addReplyCommandFlags).
const hiddenFlags = FlagMayReplicate | FlagSentinel | FlagOnlySentinel | FlagProtected

// Names returns the flag names set in f that COMMAND INFO lists, in
// Redis's order.
func (f Flag) Names() []string {
	var out []string
	f &^= hiddenFlags
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Lock says which part of the keyspace a command needs.
type Lock uint8

// Lock kinds.
const (
	// LockKeys locks the shards of the command's keys (none when it has none).
	LockKeys Lock = iota
	// LockAll takes the whole keyspace exclusively.
	LockAll
	// LockNone takes nothing: the command does not touch the keyspace.
	LockNone
	// LockScript (EVAL, EVALSHA, FCALL and their _RO forms) locks the shards of
	// the command's keys like LockKeys, or the whole keyspace when it has
	// none; the script may take further shards as it runs (see
	// exec.ScriptCall).
	LockScript
	// LockTx (EXEC) locks the shards of the keys of the client's queued
	// commands and WATCHed keys, with the global lock shared, or the whole
	// keyspace when a queued command needs more (exec.Executor.TxLocks).
	LockTx
)

// Spec declares one command or subcommand.
type Spec struct {
	Name     string // lowercase; "config|get" for a subcommand
	Arity    int
	Flags    Flag
	FirstKey int
	LastKey  int
	Step     int
	ACL      []string // categories, "@read"...
	Tips     []string
	KeySpecs []KeySpec
	Subs     []*Spec // subcommands in Redis's order
	Parent   *Spec
	Docs     any // COMMAND DOCS tree (see Tree)
	Handler  Handler
	Lock     Lock
	// GetKeys, when set, extracts keys for commands whose key specs cannot
	// (SORT, MIGRATE...).
	GetKeys func(args [][]byte) []int
	// LockAllIf, when set, reports whether a call reads or writes keys
	// its key specs cannot name (SORT ... BY/GET patterns): such a call
	// takes the whole keyspace, and a script or transaction cannot run it
	// under partial locks.
	LockAllIf func(args [][]byte) bool
	subIdx    map[string]*Spec
}

// Has reports whether s has flag f.
func (s *Spec) Has(f Flag) bool { return s.Flags&f != 0 }

// Sub returns the subcommand named name (case-insensitive).
func (s *Spec) Sub(name []byte) *Spec {
	if s.subIdx == nil {
		return nil
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return s.subIdx[strings.ToLower(string(name))]
	}
	return s.subIdx[string(lower(buf[:0], name))]
}

// HasCategory reports whether s is in ACL category cat ("@write").
func (s *Spec) HasCategory(cat string) bool {
	for _, c := range s.ACL {
		if c == cat {
			return true
		}
	}
	return false
}

// CheckArity reports whether n arguments (including the name) fit Arity.
func (s *Spec) CheckArity(n int) bool {
	if s.Arity >= 0 {
		return n == s.Arity
	}
	return n >= -s.Arity
}

// Repeats reports whether args call s, a served top-level command
// without subcommands, with a valid arity: what Table.Resolve and
// CheckArity would find, checked without a table lookup (the executor
// tries the client's previous command first).
func (s *Spec) Repeats(args [][]byte) bool {
	return s.Parent == nil && len(s.Subs) == 0 && s.Handler != nil &&
		s.CheckArity(len(args)) && len(args) > 0 && equalFold(args[0], s.Name)
}

// DisplayName is the name used in error messages: "get", or "config|get".
func (s *Spec) DisplayName() string { return s.Name }

func lower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
