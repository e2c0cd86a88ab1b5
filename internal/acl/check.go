package acl

import (
	"slices"
	"strings"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/glob"
)

// Reason is why a check failed. Larger values are more relevant when
// several selectors fail, as in Redis.
type Reason int

// Denial reasons (Redis's ACL_DENIED_* order).
const (
	OK Reason = iota
	DeniedCommand
	DeniedKey
	DeniedAuth
	DeniedChannel
)

// String is the reason as ACL LOG shows it.
func (r Reason) String() string {
	switch r {
	case DeniedCommand:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedChannel:
		return "channel"
	case DeniedAuth:
		return "auth"
	}
	return "unknown"
}

// Error texts of denied commands (Redis 7.0).
const (
	ErrNoPermKey     = "NOPERM this user has no permissions to access one of the keys used as arguments"
	ErrNoPermChannel = "NOPERM this user has no permissions to access one of the channels used as arguments"
)

// ErrNoPermCommand formats the NOPERM error for a denied command.
func ErrNoPermCommand(name string) string {
	return "NOPERM this user has no permissions to run the '" + name + "' command"
}

// keyPerms returns the permissions a key spec requires: read for access,
// write for insert, delete and update.
func keyPerms(ks *command.KeySpec) int { return flagPerms(ks.Flags) }

// flagPerms returns the permissions a key with these key flags requires:
// read for access, write for insert, delete and update.
func flagPerms(flags []string) int {
	p := 0
	for _, f := range flags {
		switch f {
		case "access":
			p |= permRead
		case "insert", "delete", "update":
			p |= permWrite
		}
	}
	return p
}

// variablePerms returns the real permissions of SET and BITFIELD, whose key
// specs carry variable_flags.
func variablePerms(spec *command.Spec, args [][]byte) int {
	switch spec.Name {
	case "set":
		for _, a := range args[3:] {
			if strings.EqualFold(string(a), "get") {
				return permAll
			}
		}
		return permWrite
	case "bitfield":
		// Redis's bitfieldGetKeys: read-only when every operation is a GET
		// (or OVERFLOW) with its arguments; SET, INCRBY or anything it
		// cannot parse (a syntax error to come) needs read and write
		for i := 2; i < len(args); i++ {
			rem := len(args) - i - 1
			switch a := string(args[i]); {
			case strings.EqualFold(a, "get") && rem >= 2:
				i += 2
			case strings.EqualFold(a, "overflow") && rem >= 1:
				i++
			default:
				return permAll
			}
		}
		return permRead
	}
	return permAll
}

func (s *selector) keyOK(key string, need int) bool {
	if s.allKeys {
		return true
	}
	for _, p := range s.keys {
		if p.flags&need != need {
			continue
		}
		if glob.Match(p.pat, key, false) {
			return true
		}
	}
	return false
}

func (s *selector) channelOK(ch string, literal bool) bool {
	if s.allChannels {
		return true
	}
	for _, p := range s.channels {
		if literal && p == ch || !literal && glob.Match(p, ch, false) {
			return true
		}
	}
	return false
}

// Check reports whether u may run spec with args. On denial it returns the
// reason and the position in args of the key or channel refused.
func (r *Registry) Check(u *User, spec *command.Spec, args [][]byte) (Reason, int) {
	st := u.st.Load()
	if root := st.selectors[0]; root.allCommands && root.allKeys && root.allChannels {
		return OK, 0
	}
	relevant, last := DeniedCommand, 0
	for _, s := range st.selectors {
		res, pos := r.checkSelector(s, spec, args)
		if res == OK {
			return OK, 0
		}
		if res > relevant || res == relevant && pos > last {
			relevant, last = res, pos
		}
	}
	return relevant, last
}

func (r *Registry) checkSelector(s *selector, spec *command.Spec, args [][]byte) (Reason, int) {
	if !s.allCommands && !spec.Has(command.FlagNoAuth) {
		id, ok := r.index().ids[spec]
		if !ok || !s.cmds.get(id) {
			fa := s.firstArgs[id]
			idx := 1
			if spec.Parent != nil {
				idx = 2
			}
			allowed := false
			if ok && len(args) > idx {
				for _, a := range fa {
					if strings.EqualFold(string(args[idx]), a) {
						allowed = true
						break
					}
				}
			}
			if !allowed {
				return DeniedCommand, 0
			}
		}
	}
	if !s.allKeys && spec.GetKeys != nil && hasUnknownKeySpec(spec) {
		// a key spec that cannot find its keys (SORT's STORE key): Redis
		// asks the command's getkeys function, each key needing the
		// permissions of the key spec that finds it, else the unknown one's
		for _, pos := range spec.GetKeys(args) {
			if pos < len(args) && !s.keyOK(string(args[pos]), getKeysPerms(spec, args, pos)) {
				return DeniedKey, pos
			}
		}
	} else if !s.allKeys && spec.KeySpecsMisfit(args) {
		// Redis gives up on key specs that do not fit the call and takes
		// the keys of the getkeys procedure, each needing what its flags
		// say (none: read or write will do)
		for _, kr := range spec.RedisKeys(args) {
			if kr.Pos < len(args) && !s.keyOK(string(args[kr.Pos]), flagPerms(kr.Flags)) {
				return DeniedKey, kr.Pos
			}
		}
	} else if !s.allKeys {
		var buf [8]int
		for i := range spec.KeySpecs {
			ks := &spec.KeySpecs[i]
			if ks.HasFlag("not_key") {
				continue
			}
			need := keyPerms(ks)
			if ks.HasFlag("variable_flags") {
				need = variablePerms(spec, args)
			}
			for _, pos := range ks.Keys(args, buf[:0]) {
				if pos < len(args) && !s.keyOK(string(args[pos]), need) {
					return DeniedKey, pos
				}
			}
		}
		if len(spec.KeySpecs) == 0 && spec.GetKeys != nil {
			for _, pos := range spec.GetKeys(args) {
				if pos < len(args) && !s.keyOK(string(args[pos]), permAll) {
					return DeniedKey, pos
				}
			}
		}
	}
	if !s.allChannels {
		first, literal := 0, false
		switch spec.Name {
		case "publish", "spublish":
			if len(args) > 1 && !s.channelOK(string(args[1]), false) {
				return DeniedChannel, 1
			}
		case "subscribe", "ssubscribe":
			first = 1
		case "psubscribe":
			first, literal = 1, true
		}
		if first > 0 {
			for i := first; i < len(args); i++ {
				if !s.channelOK(string(args[i]), literal) {
					return DeniedChannel, i
				}
			}
		}
	}
	return OK, 0
}

// hasUnknownKeySpec reports whether one of spec's key specs cannot find
// its keys (begin_search unknown).
func hasUnknownKeySpec(spec *command.Spec) bool {
	for i := range spec.KeySpecs {
		if spec.KeySpecs[i].BeginType == "unknown" && !spec.KeySpecs[i].HasFlag("not_key") {
			return true
		}
	}
	return false
}

// getKeysPerms returns the permissions the key at pos (found by GetKeys)
// requires: those of the key spec that finds it, else of the unknown one.
func getKeysPerms(spec *command.Spec, args [][]byte, pos int) int {
	var buf [8]int
	need := permAll
	for i := range spec.KeySpecs {
		ks := &spec.KeySpecs[i]
		if ks.HasFlag("not_key") {
			continue
		}
		if ks.BeginType == "unknown" {
			need = keyPerms(ks)
			continue
		}
		for _, p := range ks.Keys(args, buf[:0]) {
			if p == pos {
				return keyPerms(ks)
			}
		}
	}
	return need
}

// CheckKey reports whether u may access key with the given permissions
// (read and/or write), in any selector.
func (r *Registry) CheckKey(u *User, key string, read, write bool) bool {
	need := 0
	if read {
		need |= permRead
	}
	if write {
		need |= permWrite
	}
	for _, s := range u.st.Load().selectors {
		if s.keyOK(key, need) {
			return true
		}
	}
	return false
}

// CheckChannel reports whether u may use channel (literal: compare a
// pattern subscription as a string, as PSUBSCRIBE does).
func (r *Registry) CheckChannel(u *User, channel string, literal bool) bool {
	for _, s := range u.st.Load().selectors {
		if s.channelOK(channel, literal) {
			return true
		}
	}
	return false
}

// UnrestrictedKeyRead reports whether one of u's selectors both allows
// spec with args and reads every key: allkeys, or the pattern "*" with read
// permission (Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess with
// CMD_KEY_ACCESS, which SORT's BY and GET options require).
func (r *Registry) UnrestrictedKeyRead(u *User, spec *command.Spec, args [][]byte) bool {
	for _, s := range u.st.Load().selectors {
		if res, _ := r.checkSelector(s, spec, args); res != OK {
			continue
		}
		if s.allKeys {
			return true
		}
		for _, p := range s.keys {
			if p.flags&permRead != 0 && p.pat == "*" {
				return true
			}
		}
	}
	return false
}

// Snapshot is a user's rules at one moment, to compare with its rules
// after a change (see ChannelsRevoked).
type Snapshot struct{ st *userState }

// Snapshot returns u's current rules.
func (u *User) Snapshot() Snapshot { return Snapshot{st: u.st.Load()} }

// ChannelsRevoked tells which subscriptions of u's clients its rules no
// longer allow since old, as Redis's ACLKillPubsubClientsIfNeeded: it
// returns nil when none can have lost its permission (a selector of the
// new rules has allchannels, or old had no allchannels and every channel
// pattern of old is still listed), else a check that reports whether a
// subscription is still allowed by the channel patterns of all the new
// selectors together (a pattern subscription compared as a string, a
// channel or shard channel matched as a glob).
func (r *Registry) ChannelsRevoked(u *User, old Snapshot) func(name string, pattern bool) bool {
	cur := u.st.Load()
	var upcoming []string
	for _, s := range cur.selectors {
		if s.allChannels {
			return nil
		}
		upcoming = append(upcoming, s.channels...)
	}
	kept := true
	for _, s := range old.st.selectors {
		if s.allChannels {
			kept = false
			break
		}
		for _, p := range s.channels {
			if !slices.Contains(upcoming, p) {
				kept = false
				break
			}
		}
	}
	if kept {
		return nil
	}
	return func(name string, pattern bool) bool {
		for _, p := range upcoming {
			if pattern && p == name || !pattern && glob.Match(p, name, false) {
				return true
			}
		}
		return false
	}
}
