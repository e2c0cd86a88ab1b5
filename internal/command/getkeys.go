package command

import (
	"math"
	"strings"

	"github.com/crescent-db/crescent/internal/persist/listpack"
)

// Redis's own key extraction, for COMMAND GETKEYS and GETKEYSANDFLAGS.
//
// Spec.Keys is deliberately lenient (it finds what keys it can in a call
// that will fail anyway, to lock them); COMMAND GETKEYS shows Redis 7.0's
// getKeysFromCommandWithSpecs exactly, with its corner cases: a spec that
// does not fit the call gives up on every spec, then the command's getkeys
// procedure (atoi's parse of numkeys, flags left empty) has the last word.

// KeyRef is one key of a call: its position and the flags Redis reports
// for it (none when the key came from a getkeys procedure that sets none).
type KeyRef struct {
	Pos   int
	Flags []string
}

// HasKeys is Redis's doesCommandHaveKeys: the command has a getkeys
// procedure or a key spec that is not a channel (not_key).
func (s *Spec) HasKeys() bool {
	if redisGetKeysProcs[s.Name] != nil {
		return true
	}
	for i := range s.KeySpecs {
		if !s.KeySpecs[i].HasFlag("not_key") {
			return true
		}
	}
	return false
}

// RedisKeys returns a call's keys as Redis 7.0's
// getKeysFromCommandWithSpecs(GET_KEYSPEC_DEFAULT): the key specs when
// there is one that is not a channel and none has variable flags, unless
// a spec does not fit the call; then the command's getkeys procedure.
// args[0] is the command name (a subcommand's call starts with its
// container's name).
func (s *Spec) RedisKeys(args [][]byte) []KeyRef {
	hasSpec, varFlags := false, false
	for i := range s.KeySpecs {
		if !s.KeySpecs[i].HasFlag("not_key") {
			hasSpec = true
		}
		if s.KeySpecs[i].HasFlag("variable_flags") {
			varFlags = true
		}
	}
	if hasSpec && !varFlags {
		if keys, ok := s.keysUsingSpecs(args); ok {
			return keys
		}
	}
	if proc := redisGetKeysProcs[s.Name]; proc != nil {
		return proc(args)
	}
	return nil
}

// keysUsingSpecs is getKeysUsingKeySpecs: ok is false where Redis's
// returns -1 (a spec out of the call's bounds, an unparsable numkeys, an
// incomplete spec).
func (s *Spec) keysUsingSpecs(args [][]byte) ([]KeyRef, bool) {
	argc := len(args)
	var out []KeyRef
	for i := range s.KeySpecs {
		k := &s.KeySpecs[i]
		if k.HasFlag("not_key") {
			continue
		}
		first := 0
		switch k.BeginType {
		case "index":
			first = k.BeginIndex
		case "keyword":
			start, end := k.StartFrom, argc-1
			if k.StartFrom <= 0 {
				start, end = argc+k.StartFrom, 1
			}
			for j := start; j != end; {
				if j >= argc || j < 1 {
					break
				}
				if strings.EqualFold(string(args[j]), k.Keyword) {
					first = j + 1
					break
				}
				if start <= end {
					j++
				} else {
					j--
				}
			}
			if first == 0 {
				continue // keyword not found: this spec has no key
			}
		default:
			return nil, false
		}
		var last, step int
		switch k.FindType {
		case "range":
			step = k.KeyStep
			switch {
			case k.LastKey >= 0:
				last = first + k.LastKey
			case k.Limit == 0:
				last = argc + k.LastKey
			default:
				last = first + ((argc-first)/k.Limit + k.LastKey)
			}
		case "keynum":
			step = k.KeyStep
			if k.KeyNumIdx >= argc || first+k.KeyNumIdx >= argc {
				return nil, false
			}
			n, ok := listpack.ParseInt(args[first+k.KeyNumIdx])
			if !ok || n < 0 {
				return nil, false
			}
			first += k.FirstKey
			last = first + int(int32(n)) - 1 // C's (int) cast of the long long
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		if step < 1 {
			step = 1
		}
		for j := first; j <= last; j += step {
			out = append(out, KeyRef{Pos: j, Flags: k.specFlags()})
		}
		if k.HasFlag("incomplete") {
			return nil, false
		}
	}
	return out, true
}

// specFlags are the key flags GETKEYSANDFLAGS shows for a spec's key:
// its flags but the spec-only ones (incomplete, variable_flags).
func (k *KeySpec) specFlags() []string {
	var f []string
	for _, x := range k.Flags {
		if x != "incomplete" && x != "variable_flags" {
			f = append(f, x)
		}
	}
	return f
}

// Atoi is C's atoi as Redis calls it (the getkeys procedures, DEBUG): leading
// white space, a sign, the digits up to the first other byte; strtol's
// saturation, then the cast to int.
func Atoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v uint64
	over := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if v > (math.MaxUint64-9)/10 {
			over = true
		}
		v = v*10 + uint64(b[i]-'0')
	}
	var n int64
	switch {
	case !neg && (over || v > math.MaxInt64):
		n = math.MaxInt64
	case neg && (over || v > 1<<63):
		n = math.MinInt64
	case neg:
		n = -int64(v)
	default:
		n = int64(v)
	}
	return int(int32(n))
}

// genericGetKeys is Redis's: numkeys read with atoi at keyCount, keys
// from firstKey, the store key (when storeKey > 0) after them; no flags.
func genericGetKeys(storeKey, keyCount, firstKey int) func(args [][]byte) []KeyRef {
	return func(args [][]byte) []KeyRef {
		if keyCount >= len(args) {
			return nil
		}
		num := Atoi(args[keyCount])
		if num < 1 || num > len(args)-firstKey {
			return nil
		}
		out := make([]KeyRef, 0, num+1)
		for i := 0; i < num; i++ {
			out = append(out, KeyRef{Pos: firstKey + i})
		}
		if storeKey > 0 {
			out = append(out, KeyRef{Pos: storeKey})
		}
		return out
	}
}

var (
	flagsROAccess       = []string{"RO", "access"}
	flagsOWUpdate       = []string{"OW", "update"}
	flagsRWAccessUpdate = []string{"RW", "access", "update"}
	flagsRWAccessDelete = []string{"RW", "access", "delete"}
)

// redisGetKeysProcs are the commands of Redis 7.0 with a getkeys_proc,
// ported with their quirks.
var redisGetKeysProcs = map[string]func(args [][]byte) []KeyRef{
	"sintercard":        genericGetKeys(0, 1, 2),
	"zunionstore":       genericGetKeys(1, 2, 3),
	"zinterstore":       genericGetKeys(1, 2, 3),
	"zdiffstore":        genericGetKeys(1, 2, 3),
	"zunion":            genericGetKeys(0, 1, 2),
	"zinter":            genericGetKeys(0, 1, 2),
	"zintercard":        genericGetKeys(0, 1, 2),
	"zdiff":             genericGetKeys(0, 1, 2),
	"eval":              genericGetKeys(0, 2, 3),
	"evalsha":           genericGetKeys(0, 2, 3),
	"eval_ro":           genericGetKeys(0, 2, 3),
	"evalsha_ro":        genericGetKeys(0, 2, 3),
	"fcall":             genericGetKeys(0, 2, 3),
	"fcall_ro":          genericGetKeys(0, 2, 3),
	"lmpop":             genericGetKeys(0, 1, 2),
	"blmpop":            genericGetKeys(0, 2, 3),
	"zmpop":             genericGetKeys(0, 1, 2),
	"bzmpop":            genericGetKeys(0, 2, 3),
	"sort_ro":           func([][]byte) []KeyRef { return []KeyRef{{1, flagsROAccess}} },
	"sort":              sortKeyRefs,
	"migrate":           migrateKeyRefs,
	"georadius":         georadiusKeyRefs,
	"georadiusbymember": georadiusKeyRefs,
	"xread":             xreadKeyRefs,
	"xreadgroup":        xreadKeyRefs,
	"set":               setKeyRefs,
	"bitfield":          bitfieldKeyRefs,
}

func eq(b []byte, s string) bool { return strings.EqualFold(string(b), s) }

// sortKeyRefs is sortGetKeys: the key, and the argument after the last
// STORE, skipping LIMIT's, GET's and BY's arguments.
func sortKeyRefs(args [][]byte) []KeyRef {
	out := []KeyRef{{1, flagsROAccess}}
	store := -1
	for i := 2; i < len(args); i++ {
		switch {
		case eq(args[i], "limit"):
			i += 2
		case eq(args[i], "store") && i+1 < len(args):
			store = i + 1 // the loop goes on at the store key itself
		case eq(args[i], "get"), eq(args[i], "by"):
			i++
		}
	}
	if store > 0 {
		out = append(out, KeyRef{store, flagsOWUpdate})
	}
	return out
}

// migrateKeyRefs is migrateGetKeys: the key at 3, or what follows KEYS
// (none when the key at 3 is not empty: a syntax error).
func migrateKeyRefs(args [][]byte) []KeyRef {
	first, num := 3, 1
	if len(args) > 6 {
	scan:
		for i := 6; i < len(args); i++ {
			switch {
			case eq(args[i], "keys"):
				if len(args[3]) > 0 {
					num = 0
				} else {
					first, num = i+1, len(args)-i-1
				}
				break scan
			case eq(args[i], "auth"):
				i++
			case eq(args[i], "auth2"):
				i += 2
			}
		}
	}
	out := make([]KeyRef, 0, num)
	for i := 0; i < num; i++ {
		out = append(out, KeyRef{first + i, flagsRWAccessDelete})
	}
	return out
}

// georadiusKeyRefs is georadiusGetKeys: the key, and the argument after
// the last STORE or STOREDIST from the sixth on; no flags.
func georadiusKeyRefs(args [][]byte) []KeyRef {
	stored := -1
	for i := 5; i < len(args); i++ {
		if (eq(args[i], "store") || eq(args[i], "storedist")) && i+1 < len(args) {
			stored = i + 1
			i++
		}
	}
	out := []KeyRef{{Pos: 1}}
	if stored > 0 {
		out = append(out, KeyRef{Pos: stored})
	}
	return out
}

// xreadKeyRefs is xreadGetKeys: the first half of what follows STREAMS,
// found skipping BLOCK, COUNT, GROUP and NOACK; no flags.
func xreadKeyRefs(args [][]byte) []KeyRef {
	streams := -1
scan:
	for i := 1; i < len(args); i++ {
		switch {
		case eq(args[i], "block"), eq(args[i], "count"):
			i++
		case eq(args[i], "group"):
			i += 2
		case eq(args[i], "noack"):
		case eq(args[i], "streams"):
			streams = i
			break scan
		default:
			break scan
		}
	}
	if streams < 0 {
		return nil
	}
	num := len(args) - streams - 1
	if num == 0 || num%2 != 0 {
		return nil
	}
	out := make([]KeyRef, 0, num/2)
	for i := streams + 1; i < len(args)-num/2; i++ {
		out = append(out, KeyRef{Pos: i})
	}
	return out
}

// setKeyRefs is setGetKeys: the key, read and written with GET.
func setKeyRefs(args [][]byte) []KeyRef {
	for _, a := range args[min(3, len(args)):] {
		if eq(a, "get") {
			return []KeyRef{{1, flagsRWAccessUpdate}}
		}
	}
	return []KeyRef{{1, flagsOWUpdate}}
}

// bitfieldKeyRefs is bitfieldGetKeys: read-only when only GET and
// OVERFLOW are given (a syntax error counts as a write).
func bitfieldKeyRefs(args [][]byte) []KeyRef {
	for i := 2; i < len(args); i++ {
		rem := len(args) - i - 1
		switch {
		case eq(args[i], "get") && rem >= 2:
			i += 2
		case eq(args[i], "overflow") && rem >= 1:
			i++
		default:
			return []KeyRef{{1, flagsRWAccessUpdate}}
		}
	}
	return []KeyRef{{1, flagsROAccess}}
}

// KeySpecsMisfit reports whether Redis 7.0 would give up on the key specs
// of this call and ask the command's getkeys procedure (RedisKeys) instead:
// a spec is incomplete (MIGRATE's key at 3, unused with KEYS) or does not
// fit the call (EVAL's numkeys past the arguments). Only specs with a
// keynum or the incomplete flag are examined: the others always fit a call
// that passed the arity check.
func (s *Spec) KeySpecsMisfit(args [][]byte) bool {
	check := false
	for i := range s.KeySpecs {
		k := &s.KeySpecs[i]
		if k.HasFlag("variable_flags") {
			return false
		}
		if !k.HasFlag("not_key") && (k.FindType == "keynum" || k.HasFlag("incomplete")) {
			check = true
		}
	}
	if !check {
		return false
	}
	_, ok := s.keysUsingSpecs(args)
	return !ok
}
