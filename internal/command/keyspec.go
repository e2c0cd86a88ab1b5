package command

import (
	"strconv"
	"strings"
)

// KeySpec is a Redis 7 key specification: where the keys start and how to
// find them.
type KeySpec struct {
	Notes string
	Flags []string // RW, RO, OW, RM, access, update, insert, delete, ...
	// BeginSearch: Index > 0 starts at that argument; Keyword starts after
	// the keyword found scanning from StartFrom (negative: from the end).
	BeginIndex int
	Keyword    string
	StartFrom  int
	// FindKeys: range (LastKey relative to begin, KeyStep, Limit) or keynum
	// (KeyNumIdx, FirstKey, KeyStep).
	FindType  string // "range", "keynum" or "unknown"
	LastKey   int
	KeyStep   int
	Limit     int
	KeyNumIdx int
	FirstKey  int
	BeginType string // "index", "keyword" or "unknown"
	// simple is set, when the table is built, for the common shape:
	// BeginType "index", FindType "range" with LastKey >= 0 (Keys skips
	// the string switches then).
	simple bool
}

// HasFlag reports whether the key spec carries flag f (e.g. "RW").
func (k *KeySpec) HasFlag(f string) bool {
	for _, x := range k.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Keys appends to dst the positions in args of the keys of this spec.
func (k *KeySpec) Keys(args [][]byte, dst []int) []int {
	argc := len(args)
	if k.simple {
		first := k.BeginIndex
		last, step := first+k.LastKey, max(k.KeyStep, 1)
		for i := first; i <= last && i < argc; i += step {
			dst = append(dst, i)
		}
		return dst
	}
	var first int
	switch k.BeginType {
	case "index":
		first = k.BeginIndex
	case "keyword":
		start, end, step := k.StartFrom, argc, 1
		if k.StartFrom < 0 {
			start, end, step = argc+k.StartFrom, 0, -1
		}
		first = -1
		for i := start; i != end && i >= 1 && i < argc; i += step {
			if strings.EqualFold(string(args[i]), k.Keyword) {
				first = i + 1
				break
			}
		}
		if first < 0 {
			return dst
		}
	default:
		return dst
	}
	if first >= argc {
		return dst
	}
	switch k.FindType {
	case "range":
		last := k.LastKey
		if last >= 0 {
			last = first + last
		} else if k.Limit <= 1 {
			last = argc + last
		} else {
			last = first + (argc-first)/k.Limit + last
		}
		step := k.KeyStep
		if step < 1 {
			step = 1
		}
		for i := first; i <= last && i < argc; i += step {
			dst = append(dst, i)
		}
	case "keynum":
		idx := first + k.KeyNumIdx
		if idx >= argc {
			return dst
		}
		n, ok := keyNum(args[idx])
		if !ok {
			return dst
		}
		start := first + k.FirstKey
		step := k.KeyStep
		if step < 1 {
			step = 1
		}
		for i, c := start, 0; c < n && i < argc; i, c = i+step, c+1 {
			dst = append(dst, i)
		}
	}
	return dst
}

// keyNum parses a keynum argument (EVAL's numkeys...) as strconv.Atoi,
// rejecting negative counts. Up to 9 plain digits are read in place: no
// string conversion, no strconv (EVALSHA's lock set reads it per call).
func keyNum(b []byte) (int, bool) {
	if len(b) > 0 && len(b) <= 9 {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				goto general
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
general:
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= 0
}

// Keys returns the positions in args of the command's keys, from its key
// specs (or its GetKeys function).
func (s *Spec) Keys(args [][]byte) []int {
	if s.GetKeys != nil {
		return s.GetKeys(args)
	}
	var out []int
	for i := range s.KeySpecs {
		out = s.KeySpecs[i].Keys(args, out)
	}
	return out
}

// KeysInto is Keys appending into dst, to avoid allocation on hot paths.
func (s *Spec) KeysInto(args [][]byte, dst []int) []int {
	if s.GetKeys != nil {
		return append(dst, s.GetKeys(args)...)
	}
	for i := range s.KeySpecs {
		dst = s.KeySpecs[i].Keys(args, dst)
	}
	return dst
}

// OnlyKeyIs1 reports whether a call's keys are args[1] alone when it has
// two arguments or more (none otherwise): the command's only key spec has
// the simple index shape for one key at 1 (GET, SET, INCR, HSET, LPUSH...).
// The executor's lock choice skips KeysInto for these; TestOnlyKeyIs1
// checks it against KeysInto.
func (s *Spec) OnlyKeyIs1() bool {
	if s.GetKeys != nil || s.LockAllIf != nil || len(s.KeySpecs) != 1 {
		return false
	}
	k := &s.KeySpecs[0]
	return k.simple && k.BeginIndex == 1 && k.LastKey == 0
}

// FirstKeyIs1 reports whether args[1] is a key of every call of the
// command: its first key spec has the simple index shape and begins at 1
// (GET, SET, INCR, HSET, DEL...). A cheap test for hints such as a
// pipelined batch's cache prefetch; Keys remains the reference.
func (s *Spec) FirstKeyIs1() bool {
	return s.GetKeys == nil && len(s.KeySpecs) > 0 && s.KeySpecs[0].simple && s.KeySpecs[0].BeginIndex == 1
}
