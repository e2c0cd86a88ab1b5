package commands

import (
	"bytes"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

func (h *Handlers) registerLists() {
	t := h.Table
	t.Handle("lpush", h.lpush)
	t.Handle("rpush", h.rpush)
	t.Handle("lpushx", h.lpushx)
	t.Handle("rpushx", h.rpushx)
	t.Handle("lpop", h.lpop)
	t.Handle("rpop", h.rpop)
	t.Handle("llen", h.llen)
	t.Handle("lrange", h.lrange)
	t.Handle("lindex", h.lindex)
	t.Handle("lset", h.lset)
	t.Handle("linsert", h.linsert)
	t.Handle("lrem", h.lrem)
	t.Handle("ltrim", h.ltrim)
	t.Handle("lpos", h.lpos)
	t.Handle("lmove", h.lmove)
	t.Handle("rpoplpush", h.rpoplpush)
	t.Handle("lmpop", h.lmpop)
	t.Handle("blpop", h.blpop)
	t.Handle("brpop", h.brpop)
	t.Handle("blmove", h.blmove)
	t.Handle("brpoplpush", h.brpoplpush)
	t.Handle("blmpop", h.blmpop)
}

const (
	errIndexRange   = "ERR index out of range"
	errPositive     = "ERR value is out of range, must be positive"
	errLposRank     = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	errLposCount    = "ERR COUNT can't be negative"
	errLposMaxlen   = "ERR MAXLEN can't be negative"
	errRangeLong    = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	errNumkeys      = "ERR numkeys should be greater than 0"
	errCountGreater = "ERR count should be greater than 0"
)

// getList returns the list at key (nil when missing); ok is false when
// WRONGTYPE was written.
func getList(c *command.Ctx, key []byte) (*keyspace.List, bool) {
	v := c.DB.Get(key)
	if v == nil {
		return nil, true
	}
	l, isList := v.(*keyspace.List)
	if !isList {
		c.Error(ErrWrongType)
		return nil, false
	}
	return l, true
}

// copyArgs copies args into one allocation, each result capped so that
// appends never spill into its neighbour.
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		s := len(buf)
		buf = append(buf, a...)
		out[i] = buf[s:len(buf):len(buf)]
	}
	return out
}

const (
	listHead = 0
	listTail = 1
)

func listPush(l *keyspace.List, where int, v []byte) {
	if where == listHead {
		l.PushFront(v)
	} else {
		l.PushBack(v)
	}
}

func listPop(l *keyspace.List, where int) []byte {
	if where == listHead {
		return l.PopFront()
	}
	return l.PopBack()
}

func pushEvent(where int) string {
	if where == listHead {
		return "lpush"
	}
	return "rpush"
}

func popEvent(where int) string {
	if where == listHead {
		return "lpop"
	}
	return "rpop"
}

func (h *Handlers) pushGeneric(c *command.Ctx, where int, xx bool) {
	key := c.Args[1]
	l, ok := getList(c, key)
	if !ok {
		return
	}
	if l == nil {
		if xx {
			c.W.Int(0)
			return
		}
		l = h.newList()
		c.DB.Set(key, l, 0)
	}
	for _, v := range copyArgs(c.Args[2:]) {
		listPush(l, where, v)
	}
	// Redis replies before it signals the key (pushGenericCommand): a
	// tracking invalidation for this client's output follows the reply
	c.W.Int(int64(l.Len()))
	c.Modified(key)
	c.Event('l', pushEvent(where), key)
}

func (h *Handlers) lpush(c *command.Ctx)  { h.pushGeneric(c, listHead, false) }
func (h *Handlers) rpush(c *command.Ctx)  { h.pushGeneric(c, listTail, false) }
func (h *Handlers) lpushx(c *command.Ctx) { h.pushGeneric(c, listHead, true) }
func (h *Handlers) rpushx(c *command.Ctx) { h.pushGeneric(c, listTail, true) }

// listEmptied deletes key when its list became empty.
func listEmptied(c *command.Ctx, key []byte, l *keyspace.List) {
	if l.Len() == 0 {
		c.DB.Delete(key)
		c.Event('g', "del", key)
	}
}

func (h *Handlers) popGeneric(c *command.Ctx, where int) {
	if len(c.Args) > 3 {
		c.Error(wrongArity(c))
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Error(errPositive)
			return
		}
		count = n
	}
	key := c.Args[1]
	l, ok := getList(c, key)
	if !ok {
		return
	}
	if l == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	if hasCount && count == 0 {
		c.W.Array(0)
		return
	}
	if !hasCount {
		c.W.Bulk(listPop(l, where))
	} else {
		if count > int64(l.Len()) {
			count = int64(l.Len())
		}
		// past the client's output limit the pops go on, the reply
		// stops growing (Redis adds nothing once the client is to be
		// closed)
		g := c.ReplyGuard(0)
		stopped := false
		c.W.Array(int(count))
		for i := int64(0); i < count; i++ {
			v := listPop(l, where)
			if !stopped {
				c.W.Bulk(v)
				stopped = g.Over()
			}
		}
	}
	c.Modified(key)
	c.Event('l', popEvent(where), key)
	listEmptied(c, key, l)
}

func wrongArity(c *command.Ctx) string {
	return "ERR wrong number of arguments for '" + c.Spec.Name + "' command"
}

func (h *Handlers) lpop(c *command.Ctx) { h.popGeneric(c, listHead) }
func (h *Handlers) rpop(c *command.Ctx) { h.popGeneric(c, listTail) }

func (h *Handlers) llen(c *command.Ctx) {
	l, ok := getList(c, c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(l.Len()))
}

// normRange converts Redis start/stop indexes into [start, stop] within a
// list of n elements; empty reports an empty range.
func normRange(start, stop int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= ln {
		return 0, 0, true
	}
	if stop >= ln {
		stop = ln - 1
	}
	return int(start), int(stop), false
}

func (h *Handlers) lrange(c *command.Ctx) {
	start, ok1 := ParseInt(c.Args[2])
	stop, ok2 := ParseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.Error(ErrNotInt)
		return
	}
	l, ok := getList(c, c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Array(0)
		return
	}
	s, e, empty := normRange(start, stop, l.Len())
	if empty {
		c.W.Array(0)
		return
	}
	g := c.ReplyGuard(0) // bounded by the list; stopped by the output limit
	c.W.Array(e - s + 1)
	for i := s; i <= e; i++ {
		c.W.Bulk(l.Index(i))
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) lindex(c *command.Ctx) {
	// Redis looks the key up before it parses the index
	l, ok := getList(c, c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Null()
		return
	}
	idx, okI := ParseInt(c.Args[2])
	if !okI {
		c.Error(ErrNotInt)
		return
	}
	if idx < 0 {
		idx += int64(l.Len())
	}
	if idx < 0 || idx >= int64(l.Len()) {
		c.W.Null()
		return
	}
	c.W.Bulk(l.Index(int(idx)))
}

func (h *Handlers) lset(c *command.Ctx) {
	key := c.Args[1]
	l, ok := getList(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	idx, okI := ParseInt(c.Args[2])
	if !okI {
		c.Error(ErrNotInt)
		return
	}
	if idx < 0 {
		idx += int64(l.Len())
	}
	if idx < 0 || idx >= int64(l.Len()) {
		c.Error(errIndexRange)
		return
	}
	l.SetIndex(int(idx), Copy(c.Args[3]))
	c.W.OK() // before the key is signalled, as Redis's lsetCommand
	c.Modified(key)
	c.Event('l', "lset", key)
}

func (h *Handlers) linsert(c *command.Ctx) {
	key := c.Args[1]
	var after bool
	switch {
	case EqualFold(c.Args[2], "before"):
	case EqualFold(c.Args[2], "after"):
		after = true
	default:
		c.Error(ErrSyntax)
		return
	}
	l, ok := getList(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	pivot := c.Args[3]
	for i := 0; i < l.Len(); i++ {
		if bytes.Equal(l.Index(i), pivot) {
			if after {
				l.InsertAfter(i, Copy(c.Args[4]))
			} else {
				l.InsertBefore(i, Copy(c.Args[4]))
			}
			c.Modified(key)
			c.Event('l', "linsert", key)
			c.W.Int(int64(l.Len()))
			return
		}
	}
	c.W.Int(-1)
}

func (h *Handlers) lrem(c *command.Ctx) {
	key := c.Args[1]
	count, okN := ParseInt(c.Args[2])
	if !okN {
		c.Error(ErrNotInt)
		return
	}
	l, ok := getList(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	v := c.Args[3]
	removed := 0
	switch {
	case count >= 0:
		removed = l.Filter(func(_ int, e []byte) bool {
			if (count == 0 || int64(removed) < count) && bytes.Equal(e, v) {
				removed++
				return false
			}
			return true
		})
	default:
		// from the tail: find the positions to drop first
		// (-count as unsigned: Redis's -LONG_MIN stays negative and never
		// equals the number removed, so every match goes)
		drop := map[int]bool{}
		for i := l.Len() - 1; i >= 0 && uint64(len(drop)) < uint64(-count); i-- {
			if bytes.Equal(l.Index(i), v) {
				drop[i] = true
			}
		}
		removed = l.Filter(func(i int, _ []byte) bool { return !drop[i] })
	}
	if removed > 0 {
		c.Modified(key)
		c.Event('l', "lrem", key)
		listEmptied(c, key, l)
	}
	c.W.Int(int64(removed))
}

func (h *Handlers) ltrim(c *command.Ctx) {
	key := c.Args[1]
	start, ok1 := ParseInt(c.Args[2])
	stop, ok2 := ParseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.Error(ErrNotInt)
		return
	}
	l, ok := getList(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.OK()
		return
	}
	s, e, empty := normRange(start, stop, l.Len())
	if empty {
		l.Trim(1, 0)
	} else {
		l.Trim(s, e)
	}
	c.Modified(key)
	c.Event('l', "ltrim", key)
	listEmptied(c, key, l)
	c.W.OK()
}

func (h *Handlers) lpos(c *command.Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(c.Args); i++ {
		a := c.Args[i]
		more := i+1 < len(c.Args)
		switch {
		case EqualFold(a, "rank") && more:
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n == -1<<63 {
				n = -1 // Redis 7.0 negates it into itself: any match counts
			}
			if n == 0 {
				c.Error(errLposRank)
				return
			}
			rank = n
			i++
		case EqualFold(a, "count") && more:
			n, ok := ParseInt(c.Args[i+1])
			if !ok || n < 0 { // Redis: the same message for a non-number
				c.Error(errLposCount)
				return
			}
			count = n
			i++
		case EqualFold(a, "maxlen") && more:
			n, ok := ParseInt(c.Args[i+1])
			if !ok || n < 0 { // Redis: the same message for a non-number
				c.Error(errLposMaxlen)
				return
			}
			maxlen = n
			i++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	l, ok := getList(c, c.Args[1])
	if !ok {
		return
	}
	if l == nil {
		if count >= 0 {
			c.W.Array(0)
		} else {
			c.W.Null()
		}
		return
	}
	v := c.Args[2]
	var found []int64
	want := count
	if count == 0 {
		want = int64(l.Len())
	} else if count < 0 {
		want = 1
	}
	n := l.Len()
	skip := rank - 1
	step, i := 1, 0
	if rank < 0 {
		skip = -rank - 1
		step, i = -1, n-1
	}
	for scanned := int64(0); i >= 0 && i < n && (maxlen == 0 || scanned < maxlen) && int64(len(found)) < want; i += step {
		scanned++
		if bytes.Equal(l.Index(i), v) {
			if skip > 0 {
				skip--
				continue
			}
			found = append(found, int64(i))
		}
	}
	if count < 0 {
		if len(found) == 0 {
			c.W.Null()
		} else {
			c.W.Int(found[0])
		}
		return
	}
	g := c.ReplyGuard(0)
	c.W.Array(len(found))
	for _, p := range found {
		c.W.Int(p)
		if g.Over() {
			break
		}
	}
}

func parseWhere(a []byte) (int, bool) {
	switch {
	case EqualFold(a, "left"):
		return listHead, true
	case EqualFold(a, "right"):
		return listTail, true
	}
	return 0, false
}

// moveOnce pops from src and pushes to dst. It writes the reply and
// reports whether an element moved; served is false (and nothing written)
// when src is empty and the caller may block.
func (h *Handlers) moveOnce(c *command.Ctx, src, dst []byte, from, to int) (served bool) {
	if c.Retry {
		if _, isList := c.DB.Get(src).(*keyspace.List); !isList {
			return false
		}
	}
	sl, ok := getList(c, src)
	if !ok {
		return true
	}
	if sl == nil {
		return false
	}
	dl, ok := getList(c, dst)
	if !ok {
		return true
	}
	v := listPop(sl, from)
	if dl == nil {
		dl = h.newList()
		c.DB.Set(dst, dl, 0)
	}
	listPush(dl, to, v)
	// Redis's order (lmoveGenericCommand): dst signalled, the reply,
	// then src signalled, so that a tracking invalidation for this
	// client's output sits where Redis puts it
	c.Modified(dst)
	c.Event('l', pushEvent(to), dst)
	c.W.Bulk(v)
	c.Event('l', popEvent(from), src)
	listEmptied(c, src, sl)
	servedPopModified(c, src, true)
	return true
}

var whereNames = [2][]byte{[]byte("left"), []byte("right")}

// blockingMoveEffect is what BRPOPLPUSH and BLMOVE propagate, as Redis
// 7.0: BRPOPLPUSH as RPOPLPUSH src dst; BLMOVE as LMOVE with the client's
// own LEFT/RIGHT arguments when served at once (rewriteClientCommandVector
// in lmoveGenericCommand), with Redis's shared "left"/"right" when woken
// (serveClientBlockedOnList). A replica's command statistics count them
// so.
func blockingMoveEffect(c *command.Ctx, src, dst []byte, from, to int) [][]byte {
	switch {
	case bytes.EqualFold(c.Args[0], []byte("brpoplpush")):
		return [][]byte{[]byte("RPOPLPUSH"), src, dst}
	case c.Retry:
		return [][]byte{[]byte("LMOVE"), src, dst, whereNames[from], whereNames[to]}
	default:
		return [][]byte{[]byte("LMOVE"), src, dst, c.Args[3], c.Args[4]}
	}
}

func (h *Handlers) lmoveGeneric(c *command.Ctx, src, dst []byte, from, to int, timeoutArg []byte, blocking bool) {
	if blocking {
		deadline, ok := parseTimeout(c, timeoutArg)
		if !ok {
			return
		}
		if h.moveOnce(c, src, dst, from, to) {
			if c.Dirty > 0 {
				c.Propagate = [][][]byte{blockingMoveEffect(c, src, dst, from, to)}
			}
			return
		}
		if !canBlock(c) {
			c.W.Null()
			return
		}
		block(c, command.BlockList, [][]byte{src}, deadline, replyNullArray)
		return
	}
	if !h.moveOnce(c, src, dst, from, to) {
		c.W.Null()
	}
}

func (h *Handlers) lmove(c *command.Ctx) {
	from, ok1 := parseWhere(c.Args[3])
	to, ok2 := parseWhere(c.Args[4])
	if !ok1 || !ok2 {
		c.Error(ErrSyntax)
		return
	}
	h.lmoveGeneric(c, c.Args[1], c.Args[2], from, to, nil, false)
}

func (h *Handlers) rpoplpush(c *command.Ctx) {
	h.lmoveGeneric(c, c.Args[1], c.Args[2], listTail, listHead, nil, false)
}

func (h *Handlers) blmove(c *command.Ctx) {
	from, ok1 := parseWhere(c.Args[3])
	to, ok2 := parseWhere(c.Args[4])
	if !ok1 || !ok2 {
		c.Error(ErrSyntax)
		return
	}
	h.lmoveGeneric(c, c.Args[1], c.Args[2], from, to, c.Args[5], true)
}

func (h *Handlers) brpoplpush(c *command.Ctx) {
	h.lmoveGeneric(c, c.Args[1], c.Args[2], listTail, listHead, c.Args[3], true)
}

// popFirstNonEmpty pops from the first non-empty list among keys. count < 0
// is the BLPOP form (reply [key, value]); otherwise the LMPOP form (reply
// [key, [values...]]). It reports whether it wrote a reply (an element or
// WRONGTYPE).
func (h *Handlers) popFirstNonEmpty(c *command.Ctx, keys [][]byte, where int, count int64) bool {
	for _, key := range keys {
		if c.Retry {
			// woken: only the key that became ready is served
			if c.Ready != nil && !bytes.Equal(key, c.Ready) {
				continue
			}
			if _, isList := c.DB.Get(key).(*keyspace.List); !isList {
				continue
			}
		}
		l, ok := getList(c, key)
		if !ok {
			return true
		}
		if l == nil || l.Len() == 0 {
			continue
		}
		c.W.Array(2)
		c.W.Bulk(key)
		popName := []byte("LPOP")
		if where == listTail {
			popName = []byte("RPOP")
		}
		if count < 0 {
			c.W.Bulk(listPop(l, where))
			c.Propagate = [][][]byte{{popName, key}}
		} else {
			if count > int64(l.Len()) {
				count = int64(l.Len())
			}
			g := c.ReplyGuard(0) // the pops go on past the output limit
			stopped := false
			c.W.Array(int(count))
			for i := int64(0); i < count; i++ {
				v := listPop(l, where)
				if !stopped {
					c.W.Bulk(v)
					stopped = g.Over()
				}
			}
			c.Propagate = [][][]byte{{popName, key, []byte(strconv.FormatInt(count, 10))}}
		}
		servedPopModified(c, key, count < 0)
		c.Event('l', popEvent(where), key)
		listEmptied(c, key, l)
		return true
	}
	return false
}

// servedPopModified records the pop of an element from list key. A woken
// BLPOP, BRPOP, BLMOVE or BRPOPLPUSH (single, the command's form) does
// not signal its source as modified (no invalidation, no WATCH abort):
// Redis 7.0 serves them in serveClientBlockedOnList, which leaves
// signalModifiedKey out ("already called when an element was pushed");
// a woken BLMPOP signals it (its serving path pops as LMPOP does).
func servedPopModified(c *command.Ctx, key []byte, single bool) {
	if c.Retry && single {
		c.Dirty++
		return
	}
	c.Modified(key)
}

func (h *Handlers) bpopGeneric(c *command.Ctx, where int) {
	deadline, ok := parseTimeout(c, c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	if h.popFirstNonEmpty(c, keys, where, -1) {
		return
	}
	if !canBlock(c) {
		c.W.NullArray()
		return
	}
	block(c, command.BlockList, keys, deadline, replyNullArray)
}

func (h *Handlers) blpop(c *command.Ctx) { h.bpopGeneric(c, listHead) }
func (h *Handlers) brpop(c *command.Ctx) { h.bpopGeneric(c, listTail) }

// parseMpop parses "numkeys key... LEFT|RIGHT [COUNT n]" from args[at:].
func parseMpop(c *command.Ctx, at int) (keys [][]byte, where int, count int64, ok bool) {
	n, okN := ParseInt(c.Args[at])
	if !okN || n <= 0 {
		c.Error(errNumkeys)
		return
	}
	whereIdx := int64(at) + n + 1
	if whereIdx >= int64(len(c.Args)) {
		c.Error(ErrSyntax)
		return
	}
	if where, okN = parseWhere(c.Args[whereIdx]); !okN {
		c.Error(ErrSyntax)
		return
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		if count == -1 && EqualFold(c.Args[j], "count") && j+1 < len(c.Args) {
			j++
			v, okC := ParseInt(c.Args[j])
			if !okC || v <= 0 {
				c.Error(errCountGreater)
				return
			}
			count = v
		} else {
			c.Error(ErrSyntax)
			return
		}
	}
	if count == -1 {
		count = 1
	}
	return c.Args[at+1 : whereIdx], where, count, true
}

func (h *Handlers) lmpop(c *command.Ctx) {
	keys, where, count, ok := parseMpop(c, 1)
	if !ok {
		return
	}
	if !h.popFirstNonEmpty(c, keys, where, count) {
		c.W.NullArray()
	}
}

func (h *Handlers) blmpop(c *command.Ctx) {
	keys, where, count, ok := parseMpop(c, 2)
	if !ok {
		return
	}
	deadline, ok := parseTimeout(c, c.Args[1])
	if !ok {
		return
	}
	if h.popFirstNonEmpty(c, keys, where, count) {
		return
	}
	if !canBlock(c) {
		c.W.NullArray()
		return
	}
	block(c, command.BlockList, keys, deadline, replyNullArray)
}

var _ resp.ReplyWriter = (*resp.Writer)(nil)
