package commands

import (
	"bytes"
	"math"
	"sort"

	"github.com/crescent-db/crescent/internal/cnum"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// SORT works on sorted sets (here) and on lists and sets through the small
// interfaces below, which the list and set types implement.

// ListElements is what SORT needs from a list value.
type ListElements interface {
	// Elements returns the elements from head to tail.
	Elements() [][]byte
}

// HashFieldGetter is what SORT's "key->field" patterns need from a hash.
type HashFieldGetter interface {
	// HashGet returns the value of field.
	HashGet(field string) ([]byte, bool)
}

func (h *Handlers) registerSort() {
	t := h.Table
	byGet := command.WithLockAllIf(sortReadsPatterns)
	t.Handle("sort", func(c *command.Ctx) { h.sortGeneric(c, false) }, command.WithGetKeys(sortGetKeys), byGet)
	t.Handle("sort_ro", func(c *command.Ctx) { h.sortGeneric(c, true) }, byGet)
}

// sortReadsPatterns reports whether a SORT call has a BY or GET option:
// their patterns name keys in any shard, so the call takes the whole
// keyspace. (A BY without '*' reads nothing, but Redis parses options
// positionally and so does this test: a key or a LIMIT argument spelled
// "by" or "get" only costs a wider lock.)
func sortReadsPatterns(args [][]byte) bool {
	for _, a := range args[min(2, len(args)):] {
		if len(a) == 2 && bytes.EqualFold(a, []byte("by")) || len(a) == 3 && bytes.EqualFold(a, []byte("get")) {
			return true
		}
	}
	return false
}

// sortGetKeys is Redis's sortGetKeys: the key at 1 and the argument after
// the last STORE (its key specs cannot find it), skipping the arguments of
// LIMIT, GET and BY. Locking the STORE key's shard depends on it.
func sortGetKeys(args [][]byte) []int {
	keys := []int{1}
	store := -1
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case EqualFold(a, "limit"):
			i += 2
		case EqualFold(a, "get"), EqualFold(a, "by"):
			i++
		case EqualFold(a, "store") && i+1 < len(args):
			store = i + 1 // the loop goes on from the key itself, as in Redis
		}
	}
	if store >= 0 {
		keys = append(keys, store)
	}
	return keys
}

type sortItem struct {
	obj    []byte
	score  float64
	cmpobj []byte
	hasCmp bool
}

// sortLookup resolves a BY/GET pattern for subst as lookupKeyByPattern.
func sortLookup(db keyspace.DB, pattern, subst []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	var field []byte
	keyEnd := len(pattern)
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(pattern) {
		field = pattern[star+1+f+2:]
		keyEnd = star + 1 + f
	}
	key := make([]byte, 0, keyEnd+len(subst))
	key = append(key, pattern[:star]...)
	key = append(key, subst...)
	key = append(key, pattern[star+1:keyEnd]...)
	v := db.Get(key)
	if v == nil {
		return nil, false
	}
	if field != nil {
		hv, ok := v.(HashFieldGetter)
		if !ok {
			return nil, false
		}
		return hv.HashGet(string(field))
	}
	s, ok := v.([]byte)
	return s, ok
}

func (h *Handlers) sortGeneric(c *command.Ctx, readonly bool) {
	// the key and the BY/GET patterns' keys are read lookups (Redis's
	// lookupKeyRead, SORT ... STORE included); STORE's write counts nothing
	defer func(saved keyspace.DB) { c.DB = saved }(readingView(c))
	var desc, alpha, dontsort bool
	var limitStart, limitCount int64 = 0, -1
	var sortby, storekey []byte
	var gets [][]byte
	// BY a pattern and GET read keys no key spec names: they need read
	// access to every key (Redis 7.0)
	fullKeyRead := func() bool { return h.Exec == nil || h.Exec.FullKeyRead(c.Client, c.Spec, c.Args) }
	for j := 2; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		a := c.Args[j]
		switch {
		case EqualFold(a, "asc"):
			desc = false
		case EqualFold(a, "desc"):
			desc = true
		case EqualFold(a, "alpha"):
			alpha = true
		case EqualFold(a, "limit") && left >= 2:
			var ok bool
			if limitStart, ok = ParseInt(c.Args[j+1]); !ok {
				c.Error(ErrNotInt)
				return
			}
			if limitCount, ok = ParseInt(c.Args[j+2]); !ok {
				c.Error(ErrNotInt)
				return
			}
			j += 2
		case !readonly && EqualFold(a, "store") && left >= 1:
			storekey = c.Args[j+1]
			j++
		case EqualFold(a, "by") && left >= 1:
			sortby = c.Args[j+1]
			if bytes.IndexByte(sortby, '*') < 0 {
				dontsort = true
			} else if !fullKeyRead() {
				c.Error("ERR BY option of SORT denied due to insufficient ACL permissions.")
				return
			}
			j++
		case EqualFold(a, "get") && left >= 1:
			if !fullKeyRead() {
				c.Error("ERR GET option of SORT denied due to insufficient ACL permissions.")
				return
			}
			gets = append(gets, c.Args[j+1])
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	v := c.DB.Get(c.Args[1])
	var z *keyspace.ZSet
	var list ListElements
	var set SetMembers
	switch x := v.(type) {
	case nil:
	case *keyspace.ZSet:
		z = x
		// Redis converts a listpack sorted set to a skiplist for SORT
		// (and SORT_RO), for good: OBJECT ENCODING shows it.
		z.SetListpack(false)
	default:
		switch keyspace.TypeName(v) {
		case "list":
			if list, _ = v.(ListElements); list == nil {
				c.Error(ErrWrongType)
				return
			}
		case "set":
			if set, _ = v.(SetMembers); set == nil {
				c.Error(ErrWrongType)
				return
			}
		default:
			c.Error(ErrWrongType)
			return
		}
	}
	if dontsort && set != nil && (storekey != nil || c.InScript) {
		dontsort, alpha, sortby = false, true, nil
	}
	var elems [][]byte
	switch {
	case z != nil:
		elems = make([][]byte, 0, z.Len())
		if dontsort && desc {
			for n := z.Last(); n != nil; n = n.Prev() {
				elems = append(elems, []byte(n.Member))
			}
		} else {
			for n := z.First(); n != nil; n = n.Next() {
				elems = append(elems, []byte(n.Member))
			}
		}
	case list != nil:
		elems = list.Elements()
		if dontsort && desc {
			r := make([][]byte, len(elems))
			for i, e := range elems {
				r[len(elems)-1-i] = e
			}
			elems = r
		}
	case set != nil:
		set.ForEachMember(func(m string) bool { elems = append(elems, []byte(m)); return true })
	}
	n := int64(len(elems))
	// as Redis 7.0.15, the LIMIT is first clamped to the input's size, so
	// that start+count cannot overflow (LIMIT 3 9223372036854775807 wrapped
	// to a negative end, then to a reply header of 2^63-1 elements)
	start := min(max(limitStart, 0), n)
	limitCount = min(max(limitCount, -1), n)
	end := n - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	if end >= n {
		end = n - 1
	}
	items := make([]sortItem, len(elems))
	convErr := false
	for i, e := range elems {
		items[i].obj = e
		if dontsort {
			continue
		}
		byval := e
		if sortby != nil {
			bv, ok := sortLookup(c.DB, sortby, e)
			if !ok {
				continue
			}
			byval = bv
		}
		if alpha {
			if sortby != nil {
				items[i].cmpobj, items[i].hasCmp = byval, true
			}
			continue
		}
		s := string(byval)
		f, k, erange := cnum.Strtod(s)
		if (k < len(s) && s[k] != 0) || erange || math.IsNaN(f) {
			convErr = true
		}
		items[i].score = f
	}
	if !dontsort {
		// ALPHA compares binary-safe with STORE (compareStringObjects),
		// else as C strings (strcoll, in the C locale strcmp): up to the
		// first NUL, so "b\x00" and "b" are equal and stay in the input's
		// order
		alphaCompare := bytes.Compare
		if storekey == nil {
			alphaCompare = cstringCompare
		}
		cmp := func(a, b *sortItem) int {
			var r int
			switch {
			case !alpha:
				switch {
				case a.score > b.score:
					r = 1
				case a.score < b.score:
					r = -1
				default:
					r = bytes.Compare(a.obj, b.obj)
				}
			case sortby != nil:
				switch {
				case !a.hasCmp || !b.hasCmp:
					if a.hasCmp == b.hasCmp {
						r = 0
					} else if !a.hasCmp {
						r = -1
					} else {
						r = 1
					}
				default:
					r = alphaCompare(a.cmpobj, b.cmpobj)
				}
			default:
				r = alphaCompare(a.obj, b.obj)
			}
			if desc {
				r = -r
			}
			return r
		}
		if sortby != nil && (start != 0 || end != n-1) {
			// Redis sorts a BY with a LIMIT with pqsort: the order it
			// leaves equal weights in (ALPHA BY with equal or missing
			// weights) is its own
			pqsort(items, func(a, b sortItem) int { return cmp(&a, &b) }, int(start), int(end))
		} else {
			// glibc's qsort, a merge sort: stable
			sort.SliceStable(items, func(i, j int) bool { return cmp(&items[i], &items[j]) < 0 })
		}
	}
	if convErr {
		c.Error("ERR One or more scores can't be converted into double")
		return
	}
	count := end - start + 1
	if count < 0 {
		count = 0
	}
	outputlen := count
	if len(gets) > 0 {
		outputlen = int64(len(gets)) * count
	}
	if storekey == nil {
		// GET patterns named many times make a reply of many copies: past
		// the client's output limit the lookups go on (as Redis's), the
		// reply stops growing
		guard := c.ReplyGuard(0)
		stopped := false
		c.W.Array(int(outputlen))
		for j := start; j <= end; j++ {
			if len(gets) == 0 && !stopped {
				c.W.Bulk(items[j].obj)
				stopped = guard.Stop(c, "")
			}
			for _, g := range gets {
				val, ok := sortLookup(c.DB, g, items[j].obj)
				if stopped {
					continue
				}
				if ok {
					c.W.Bulk(val)
				} else {
					c.W.Null()
				}
				stopped = guard.Stop(c, "")
			}
		}
		return
	}
	out := make([][]byte, 0, outputlen)
	for j := start; j <= end; j++ {
		if len(gets) == 0 {
			out = append(out, Copy(items[j].obj))
		}
		for _, g := range gets {
			val, _ := sortLookup(c.DB, g, items[j].obj)
			out = append(out, Copy(val))
		}
	}
	if outputlen > 0 {
		lv := newListValue(out)
		if lv == nil {
			c.Error("ERR SORT STORE is not available: no list type")
			return
		}
		c.DB.Set(storekey, lv, 0)
		c.Modified(storekey)
		c.Dirty += int(outputlen) - 1
		c.Event('l', "sortstore", storekey)
	} else {
		deleteDestination(c, storekey)
	}
	c.W.Int(outputlen)
}

// cstringCompare compares a and b as C strings, as strcmp does: each ends
// at its first NUL byte, and the bytes compare unsigned.
func cstringCompare(a, b []byte) int {
	if i := bytes.IndexByte(a, 0); i >= 0 {
		a = a[:i]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return bytes.Compare(a, b)
}
