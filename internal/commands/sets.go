package commands

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

func (h *Handlers) registerSets() {
	t := h.Table
	t.Handle("sadd", h.sadd)
	t.Handle("srem", h.srem)
	t.Handle("scard", h.scard)
	t.Handle("sismember", h.sismember)
	t.Handle("smismember", h.smismember)
	t.Handle("smembers", h.smembers)
	t.Handle("spop", h.spop)
	t.Handle("srandmember", h.srandmember)
	t.Handle("smove", h.smove)
	t.Handle("sinter", h.sinter)
	t.Handle("sintercard", h.sintercard)
	t.Handle("sinterstore", h.sinterstore)
	t.Handle("sunion", h.sunion)
	t.Handle("sunionstore", h.sunionstore)
	t.Handle("sdiff", h.sdiff)
	t.Handle("sdiffstore", h.sdiffstore)
	t.Handle("sscan", h.sscan)
}

// getSet returns the set at key (nil when missing); ok is false when
// WRONGTYPE was written.
func getSet(c *command.Ctx, key []byte) (*keyspace.Set, bool) {
	v := c.DB.Get(key)
	if v == nil {
		return nil, true
	}
	s, isSet := v.(*keyspace.Set)
	if !isSet {
		c.Error(ErrWrongType)
		return nil, false
	}
	return s, true
}

// writeMember writes member i of s as a bulk string.
func writeMember(c *command.Ctx, s *keyspace.Set, i int) {
	if s.IsIntset() {
		// BulkInt: a buffer passed to Bulk through the interface would
		// escape, one allocation per member
		c.W.BulkInt(s.Ints()[i])
	} else {
		c.W.BulkString(s.Member(i))
	}
}

func (h *Handlers) sadd(c *command.Ctx) {
	key := c.Args[1]
	s, ok := getSet(c, key)
	if !ok {
		return
	}
	if s == nil {
		s = keyspace.NewSet()
		c.DB.Set(key, s, 0)
	}
	max := h.maxIntset()
	n := 0
	for _, m := range c.Args[2:] {
		if s.Add(m, max) {
			n++
		}
	}
	if n > 0 {
		c.Modified(key)
		c.Event('s', "sadd", key)
	}
	c.W.Int(int64(n))
}

// setEmptied deletes key when its set became empty.
func setEmptied(c *command.Ctx, key []byte, s *keyspace.Set) {
	if s.Len() == 0 {
		c.DB.Delete(key)
		c.Event('g', "del", key)
	}
}

func (h *Handlers) srem(c *command.Ctx) {
	key := c.Args[1]
	s, ok := getSet(c, key)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	n := 0
	for _, m := range c.Args[2:] {
		if s.Remove(m) {
			n++
			if s.Len() == 0 {
				break
			}
		}
	}
	if n > 0 {
		c.Modified(key)
		c.Event('s', "srem", key)
		setEmptied(c, key, s)
	}
	c.W.Int(int64(n))
}

func (h *Handlers) scard(c *command.Ctx) {
	s, ok := getSet(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(s.Len()))
}

func (h *Handlers) sismember(c *command.Ctx) {
	s, ok := getSet(c, c.Args[1])
	if !ok {
		return
	}
	if s != nil && s.Has(c.Args[2]) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func (h *Handlers) smismember(c *command.Ctx) {
	s, ok := getSet(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if s != nil && s.Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func (h *Handlers) smembers(c *command.Ctx) {
	s, ok := getSet(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.W.Set(0)
		return
	}
	h.replySet(c, s)
}

func (h *Handlers) spop(c *command.Ctx) {
	key := c.Args[1]
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Args) == 2 {
		s, ok := getSet(c, key)
		if !ok {
			return
		}
		if s == nil {
			c.W.Null()
			return
		}
		i := rand.IntN(s.Len())
		m := []byte(s.Member(i))
		s.RemoveAt(i)
		// Redis's order (spopCommand): the event, the reply, then the
		// key signalled, a tracking invalidation for this client after it
		c.Event('s', "spop", key)
		c.Propagate = [][][]byte{{[]byte("SREM"), key, m}}
		c.W.Bulk(m)
		setEmptied(c, key, s)
		c.Modified(key)
		return
	}
	count, ok := ParseInt(c.Args[2])
	if !ok || count < 0 {
		c.Error(errPositive)
		return
	}
	s, ok := getSet(c, key)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.Set(0)
		return
	}
	n := s.Len()
	// Redis's order (spopWithCountCommand): the event before the reply;
	// an emptied key's del after it, then the key signalled
	c.Event('s', "spop", key)
	// past the client's output limit the reply stops growing, the pops
	// go on (Redis adds nothing once the client is to be closed)
	g := c.ReplyGuard(0)
	if count >= int64(n) {
		// Redis 7.0 replies with sunionDiffGenericCommand here, whose
		// lookupKeyRead counts a keyspace hit
		saved := readingView(c)
		getSet(c, key)
		c.DB = saved
		c.W.Set(n)
		for i := 0; i < n && !g.Over(); i++ {
			writeMember(c, s, i)
		}
		c.DB.Delete(key)
		c.Event('g', "del", key)
		c.Modified(key)
		c.Propagate = [][][]byte{{[]byte("DEL"), key}}
		return
	}
	prop := [][]byte{[]byte("SREM"), key}
	stopped := false
	c.W.Set(int(count))
	for j := int64(0); j < count; j++ {
		i := rand.IntN(s.Len())
		m := []byte(s.Member(i))
		s.RemoveAt(i)
		prop = append(prop, m)
		if !stopped {
			c.W.Bulk(m)
			stopped = g.Over()
		}
	}
	c.Modified(key)
	c.Propagate = [][][]byte{prop}
}

// maxRandomRepeats bounds the repeats a negative count asks of SRANDMEMBER,
// HRANDFIELD and ZRANDMEMBER. Redis 7.0 takes any count down to
// -9223372036854775807 and then builds a reply of that many elements:
// past a few billion it never finishes (or runs out of memory) and, as its
// reply is built in one go, stalls every other client meanwhile. Crescent
// answers such a count (on a key that exists) with errRandomRepeats instead.
const maxRandomRepeats = math.MaxInt32

// errRandomRepeats is the error of a negative count past maxRandomRepeats:
// the text Redis gives to an out-of-range count with WITHSCORES.
const errRandomRepeats = "ERR value is out of range"

// maxRandomReply bounds the reply of a negative count of SRANDMEMBER,
// HRANDFIELD and ZRANDMEMBER, which repeats elements and so is not bounded
// by the data. With no client-output-buffer-limit for normal clients (the
// default), Redis builds the whole reply, however large, and is killed
// once memory runs out; Crescent replaces a reply that passes this bound
// with errRandomReply (a limit that is set stops the reply sooner, closing
// the client, as Redis does). A variable for tests.
var maxRandomReply = 128 << 20

// leastBulk is the fewest bytes of a bulk string's reply ("$0\r\n\r\n"):
// a negative count's reply is at least its count times that (times two
// with values), which refuses most oversized counts before any is built.
const leastBulk = 6

// errRandomReply is the error of a reply past maxRandomReply (Crescent's
// own: Redis has none).
const errRandomReply = "ERR reply too large: a negative count's reply is bounded to 128 MB"

func (h *Handlers) srandmember(c *command.Ctx) {
	key := c.Args[1]
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	if len(c.Args) == 2 {
		s, ok := getSet(c, key)
		if !ok {
			return
		}
		if s == nil {
			c.W.Null()
			return
		}
		writeMember(c, s, rand.IntN(s.Len()))
		return
	}
	count, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if count == math.MinInt64 {
		c.Error(errRangeLong)
		return
	}
	s, ok := getSet(c, key)
	if !ok {
		return
	}
	if s == nil || count == 0 {
		c.W.Array(0)
		return
	}
	n := s.Len()
	if count < -maxRandomRepeats {
		c.Error(errRandomRepeats)
		return
	}
	if count < 0 {
		g := c.ReplyGuard(maxRandomReply)
		if g.Refuse(c, -count*leastBulk, errRandomReply) {
			return
		}
		c.W.Array(int(-count))
		for j := int64(0); j < -count; j++ {
			writeMember(c, s, rand.IntN(n))
			if g.Stop(c, errRandomReply) {
				break
			}
		}
		return
	}
	g := c.ReplyGuard(0) // bounded by the set; stopped by the output limit
	if count >= int64(n) {
		c.W.Array(n)
		for i := 0; i < n && !g.Over(); i++ {
			writeMember(c, s, i)
		}
		return
	}
	idx := randomDistinct(n, int(count))
	c.W.Array(len(idx))
	for _, i := range idx {
		writeMember(c, s, i)
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) smove(c *command.Ctx) {
	src, dst, m := c.Args[1], c.Args[2], c.Args[3]
	if !c.DB.Exists(src) {
		c.W.Int(0)
		return
	}
	ss, ok := getSet(c, src)
	if !ok {
		return
	}
	ds, ok := getSet(c, dst)
	if !ok {
		return
	}
	if ss == ds {
		if ss.Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if !ss.Remove(m) {
		c.W.Int(0)
		return
	}
	c.Event('s', "srem", src)
	setEmptied(c, src, ss)
	c.Modified(src)
	if ds == nil {
		ds = keyspace.NewSet()
		c.DB.Set(dst, ds, 0)
	}
	if ds.Add(m, h.maxIntset()) {
		c.Event('s', "sadd", dst)
	}
	c.Modified(dst)
	c.W.Int(1)
}

// loadSets fetches keys' sets (nil for missing ones); ok is false when
// WRONGTYPE was written.
func loadSets(c *command.Ctx, keys [][]byte) ([]*keyspace.Set, bool) {
	sets := make([]*keyspace.Set, len(keys))
	for i, k := range keys {
		s, ok := getSet(c, k)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// interSets computes the intersection into a new set, visiting the
// smallest set's members in its order; limit > 0 stops after limit
// members. Missing keys make the result empty.
func (h *Handlers) interSets(sets []*keyspace.Set, limit int, fn func(s *keyspace.Set, i int)) {
	for _, s := range sets {
		if s == nil {
			return
		}
	}
	ordered := append([]*keyspace.Set(nil), sets...)
	sort.SliceStable(ordered, func(a, b int) bool { return ordered[a].Len() < ordered[b].Len() })
	first := ordered[0]
	var scratch [24]byte
	found := 0
	for i := 0; i < first.Len(); i++ {
		// each member is looked up in the other sets with no copy of it
		// (an intset's is formatted into scratch)
		in := true
		if first.IsIntset() {
			m := first.AppendMember(scratch[:0], i)
			for _, o := range ordered[1:] {
				if o != first && !o.Has(m) {
					in = false
					break
				}
			}
		} else {
			m := first.Member(i)
			for _, o := range ordered[1:] {
				if o != first && !o.HasMember(m) {
					in = false
					break
				}
			}
		}
		if in {
			fn(first, i)
			found++
			if limit > 0 && found >= limit {
				return
			}
		}
	}
}

func (h *Handlers) sinter(c *command.Ctx) {
	sets, ok := loadSets(c, c.Args[1:])
	if !ok {
		return
	}
	var res []int
	var src *keyspace.Set
	h.interSets(sets, 0, func(s *keyspace.Set, i int) { src = s; res = append(res, i) })
	g := c.ReplyGuard(0)
	c.W.Set(len(res))
	for _, i := range res {
		writeMember(c, src, i)
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) sintercard(c *command.Ctx) {
	n, ok := ParseInt(c.Args[1])
	if !ok || n <= 0 {
		c.Error(errNumkeys)
		return
	}
	if n > int64(len(c.Args)-2) {
		c.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	limit := int64(0)
	for j := 2 + int(n); j < len(c.Args); j++ {
		if EqualFold(c.Args[j], "limit") && j+1 < len(c.Args) {
			j++
			v, okL := ParseInt(c.Args[j])
			if !okL || v < 0 {
				c.Error("ERR LIMIT can't be negative")
				return
			}
			limit = v
		} else {
			c.Error(ErrSyntax)
			return
		}
	}
	sets, ok := loadSets(c, c.Args[2:2+n])
	if !ok {
		return
	}
	found := 0
	h.interSets(sets, int(min(limit, math.MaxInt32)), func(*keyspace.Set, int) { found++ })
	c.W.Int(int64(found))
}

// buildSet collects members into a new set, adding intset members first
// as Redis builds its destination.
func (h *Handlers) buildSet(add func(put func(m []byte))) *keyspace.Set {
	out := keyspace.NewSet()
	max := h.maxIntset()
	add(func(m []byte) { out.Add(m, max) })
	return out
}

// deleteDestination is Redis's dbDelete of a store command's destination
// when its result is empty (SUNIONSTORE, ZRANGESTORE, BITOP, SORT STORE,
// GEOSEARCHSTORE...): what is stored there is deleted, an expired key not
// yet reclaimed included, with the "del" event, not "expired".
func deleteDestination(c *command.Ctx, key []byte) {
	if c.DB.DeleteStored(key) {
		c.Modified(key)
		c.Event('g', "del", key)
	}
}

// storeSet stores s at dst (deleting dst when s is empty) and replies with
// its size. As Redis, the reply comes before the event: a RESP3 client
// subscribed to its own events sees the reply first.
func storeSet(c *command.Ctx, dst []byte, s *keyspace.Set, event string) {
	if s.Len() == 0 {
		c.W.Int(0)
		deleteDestination(c, dst)
		return
	}
	c.DB.Set(dst, s, 0)
	c.Modified(dst)
	c.W.Int(int64(s.Len()))
	c.Event('s', event, dst)
}

func (h *Handlers) sinterstore(c *command.Ctx) {
	saved := readingView(c)
	sets, ok := loadSets(c, c.Args[2:])
	c.DB = saved
	if !ok {
		return
	}
	if slices.Contains(sets, nil) {
		// a missing key: Redis's early answer deletes dst before its reply
		deleteDestination(c, c.Args[1])
		c.W.Int(0)
		return
	}
	out := h.buildSet(func(put func([]byte)) {
		var buf []byte // each member, reused: the set copies what it adds
		h.interSets(sets, 0, func(s *keyspace.Set, i int) {
			buf = s.AppendMember(buf[:0], i)
			put(buf)
		})
	})
	storeSet(c, c.Args[1], out, "sinterstore")
}

const (
	opUnion = iota
	opDiff
)

func (h *Handlers) unionDiff(sets []*keyspace.Set, op int) *keyspace.Set {
	return h.buildSet(func(put func([]byte)) {
		var buf []byte // each member, reused: the set copies what it adds
		switch op {
		case opUnion:
			for _, s := range sets {
				if s == nil {
					continue
				}
				for i := 0; i < s.Len(); i++ {
					buf = s.AppendMember(buf[:0], i)
					put(buf)
				}
			}
		case opDiff:
			first := sets[0]
			if first == nil {
				return
			}
			for i := 0; i < first.Len(); i++ {
				buf = first.AppendMember(buf[:0], i)
				m := buf
				keep := true
				for _, o := range sets[1:] {
					if o != nil && (o == first || o.Has(m)) {
						keep = false
						break
					}
				}
				if keep {
					put(m)
				}
			}
		}
	})
}

// replySet writes the members of s (SMEMBERS, SUNION, SDIFF): a reply
// bounded by the set, stopped once the client passes its output limit.
func (h *Handlers) replySet(c *command.Ctx, s *keyspace.Set) {
	g := c.ReplyGuard(0)
	c.W.Set(s.Len())
	for i := 0; i < s.Len(); i++ {
		writeMember(c, s, i)
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) sunion(c *command.Ctx) {
	sets, ok := loadSets(c, c.Args[1:])
	if !ok {
		return
	}
	h.replySet(c, h.unionDiff(sets, opUnion))
}

func (h *Handlers) sdiff(c *command.Ctx) {
	sets, ok := loadSets(c, c.Args[1:])
	if !ok {
		return
	}
	h.replySet(c, h.unionDiff(sets, opDiff))
}

func (h *Handlers) sunionstore(c *command.Ctx) {
	saved := readingView(c)
	sets, ok := loadSets(c, c.Args[2:])
	c.DB = saved
	if !ok {
		return
	}
	storeSet(c, c.Args[1], h.unionDiff(sets, opUnion), "sunionstore")
}

func (h *Handlers) sdiffstore(c *command.Ctx) {
	saved := readingView(c)
	sets, ok := loadSets(c, c.Args[2:])
	c.DB = saved
	if !ok {
		return
	}
	storeSet(c, c.Args[1], h.unionDiff(sets, opDiff), "sdiffstore")
}

func (h *Handlers) sscan(c *command.Ctx) {
	cursor, ok := parseScanCursor(c, c.Args[2])
	if !ok {
		return
	}
	s, ok := getSet(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		emptyScan(c)
		return
	}
	o, ok := parseScanOpts(c, 3)
	if !ok {
		return
	}
	idx, next := scanSelect(s.IsIntset(), s.Len(), s.Member, cursor, o)
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	g := c.ReplyGuard(0) // a huge COUNT: stopped by the output limit
	c.W.Array(len(idx))
	for _, i := range idx {
		c.W.BulkString(s.Member(i))
		if g.Over() {
			break
		}
	}
}
