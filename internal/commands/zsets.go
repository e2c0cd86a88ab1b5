package commands

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/crescent-db/crescent/internal/cnum"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Sorted set error replies (Redis 7.0 texts).
const (
	errZMinMaxFloat  = "ERR min or max is not a float"
	errZMinMaxLex    = "ERR min or max not valid string range item"
	errZNaN          = "ERR resulting score is not a number (NaN)"
	errZNxXx         = "ERR XX and NX options at the same time are not compatible"
	errZGtLtNx       = "ERR GT, LT, and/or NX options at the same time are not compatible"
	errZIncrPair     = "ERR INCR option supports a single increment-element pair"
	errZLimitRank    = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	errZLexScores    = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	errNotPositive   = "ERR value is out of range, must be positive"
	errWeightFloat   = "ERR weight value is not a float"
	errNumkeysZero   = "ERR numkeys should be greater than 0"
	errCountZero     = "ERR count should be greater than 0"
	errInvalidCursor = "ERR invalid cursor"
)

func (h *Handlers) registerZSets() {
	t := h.Table
	t.Handle("zadd", h.zadd)
	t.Handle("zincrby", h.zincrby)
	t.Handle("zrem", h.zrem)
	t.Handle("zcard", h.zcard)
	t.Handle("zscore", h.zscore)
	t.Handle("zmscore", h.zmscore)
	t.Handle("zrank", func(c *command.Ctx) { h.zrank(c, false) })
	t.Handle("zrevrank", func(c *command.Ctx) { h.zrank(c, true) })
	t.Handle("zcount", h.zcount)
	t.Handle("zlexcount", h.zlexcount)
	t.Handle("zrange", func(c *command.Ctx) { h.zrangeGeneric(c, 1, false, zrAuto, zdAuto) })
	t.Handle("zrangestore", func(c *command.Ctx) { h.zrangeGeneric(c, 2, true, zrAuto, zdAuto) })
	t.Handle("zrevrange", func(c *command.Ctx) { h.zrangeGeneric(c, 1, false, zrRank, zdRev) })
	t.Handle("zrangebyscore", func(c *command.Ctx) { h.zrangeGeneric(c, 1, false, zrScore, zdFwd) })
	t.Handle("zrevrangebyscore", func(c *command.Ctx) { h.zrangeGeneric(c, 1, false, zrScore, zdRev) })
	t.Handle("zrangebylex", func(c *command.Ctx) { h.zrangeGeneric(c, 1, false, zrLex, zdFwd) })
	t.Handle("zrevrangebylex", func(c *command.Ctx) { h.zrangeGeneric(c, 1, false, zrLex, zdRev) })
	t.Handle("zremrangebyrank", func(c *command.Ctx) { h.zremrange(c, zrRank) })
	t.Handle("zremrangebyscore", func(c *command.Ctx) { h.zremrange(c, zrScore) })
	t.Handle("zremrangebylex", func(c *command.Ctx) { h.zremrange(c, zrLex) })
	t.Handle("zpopmin", func(c *command.Ctx) { h.zpopMinMax(c, false) })
	t.Handle("zpopmax", func(c *command.Ctx) { h.zpopMinMax(c, true) })
	t.Handle("bzpopmin", func(c *command.Ctx) { h.bzpopMinMax(c, false) })
	t.Handle("bzpopmax", func(c *command.Ctx) { h.bzpopMinMax(c, true) })
	t.Handle("zmpop", func(c *command.Ctx) { h.zmpop(c, 1, false) })
	t.Handle("bzmpop", func(c *command.Ctx) { h.zmpop(c, 2, true) })
	t.Handle("zunion", func(c *command.Ctx) { h.zsetOp(c, nil, 1, zopUnion, false) })
	t.Handle("zinter", func(c *command.Ctx) { h.zsetOp(c, nil, 1, zopInter, false) })
	t.Handle("zdiff", func(c *command.Ctx) { h.zsetOp(c, nil, 1, zopDiff, false) })
	t.Handle("zunionstore", func(c *command.Ctx) { h.zsetOp(c, c.Args[1], 2, zopUnion, false) })
	t.Handle("zinterstore", func(c *command.Ctx) { h.zsetOp(c, c.Args[1], 2, zopInter, false) })
	t.Handle("zdiffstore", func(c *command.Ctx) { h.zsetOp(c, c.Args[1], 2, zopDiff, false) })
	t.Handle("zintercard", func(c *command.Ctx) { h.zsetOp(c, nil, 1, zopInter, true) })
	t.Handle("zrandmember", h.zrandmember)
	t.Handle("zscan", h.zscan)
}

// zlimits returns zset-max-listpack-entries and zset-max-listpack-value
// (cached in h.enc: no config lock, no name lookup per ZADD).
func (h *Handlers) zlimits() (entries, value int) {
	return int(h.enc.zsetEntries.Load()), int(h.enc.zsetValue.Load())
}

// getZSet fetches the sorted set at key; ok is false when a WRONGTYPE
// error was written.
func getZSet(c *command.Ctx, key []byte) (z *keyspace.ZSet, ok bool) {
	v := c.DB.Get(key)
	if v == nil {
		return nil, true
	}
	z, isZ := v.(*keyspace.ZSet)
	if !isZ {
		c.Error(ErrWrongType)
		return nil, false
	}
	return z, true
}

// zaddMember inserts or updates member and converts the reported encoding
// like Redis's zsetAdd when a new member makes the set too big.
func zaddMember(z *keyspace.ZSet, member string, score float64, entries, value int) bool {
	if n := z.Node(member); n != nil {
		z.UpdateScore(n, score)
		return false
	}
	zinsertMember(z, member, score, entries, value)
	return true
}

// zinsertMember adds member, which is not in z, converting the reported
// encoding like Redis's zsetAdd when it makes the set too big.
func zinsertMember(z *keyspace.ZSet, member string, score float64, entries, value int) {
	if z.IsListpack() && (z.Len()+1 > entries || len(member) > value) {
		z.SetListpack(false)
	}
	z.Insert(member, score)
}

// newZSetFor returns an empty set whose encoding is the one Redis picks for a
// result of n elements whose longest member has maxlen bytes.
func newZSetFor(n, maxlen, entries, value int) *keyspace.ZSet {
	return keyspace.NewZSet(n <= entries && maxlen <= value)
}

// deleteIfEmpty removes key when z became empty, emitting "del".
func deleteIfEmpty(c *command.Ctx, key []byte, z *keyspace.ZSet) bool {
	if z.Len() == 0 {
		c.DB.Delete(key)
		c.Event('g', "del", key)
		return true
	}
	return false
}

// ---- ZADD / ZINCRBY ----

const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddCH
	zaddIncr
)

func (h *Handlers) zadd(c *command.Ctx) { h.zaddGeneric(c, 0) }

func (h *Handlers) zincrby(c *command.Ctx) { h.zaddGeneric(c, zaddIncr) }

func (h *Handlers) zaddGeneric(c *command.Ctx, flags int) {
	key := c.Args[1]
	scoreidx := 2
	for ; scoreidx < len(c.Args); scoreidx++ {
		a := c.Args[scoreidx]
		switch {
		case EqualFold(a, "nx"):
			flags |= zaddNX
		case EqualFold(a, "xx"):
			flags |= zaddXX
		case EqualFold(a, "ch"):
			flags |= zaddCH
		case EqualFold(a, "incr"):
			flags |= zaddIncr
		case EqualFold(a, "gt"):
			flags |= zaddGT
		case EqualFold(a, "lt"):
			flags |= zaddLT
		default:
			goto done
		}
	}
done:
	incr := flags&zaddIncr != 0
	nx, xx, gt, lt := flags&zaddNX != 0, flags&zaddXX != 0, flags&zaddGT != 0, flags&zaddLT != 0
	elements := len(c.Args) - scoreidx
	if elements%2 != 0 || elements == 0 {
		c.Error(ErrSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.Error(errZNxXx)
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.Error(errZGtLtNx)
		return
	}
	if incr && elements > 1 {
		c.Error(errZIncrPair)
		return
	}
	var sbuf [8]float64
	scores := sbuf[:0]
	for j := 0; j < elements; j++ {
		f, ok := parseRedisDouble(c.Args[scoreidx+j*2])
		if !ok {
			c.Error(ErrNotFloat)
			return
		}
		scores = append(scores, f)
	}
	z, ok := getZSet(c, key)
	if !ok {
		return
	}
	added, updated, processed := 0, 0, 0
	var newscore float64
	entries, value := h.zlimits()
	if z == nil {
		if xx {
			goto reply
		}
		z = keyspace.NewZSet(entries != 0 && value >= len(c.Args[scoreidx+1]))
		c.DB.Set(key, z, 0)
	}
	for j := 0; j < elements; j++ {
		score := scores[j]
		member := c.Args[scoreidx+j*2+1]
		if node := z.Node(string(member)); node != nil {
			cur := node.Score
			if nx {
				continue
			}
			if incr {
				score += cur
				if math.IsNaN(score) {
					c.Error(errZNaN)
					goto cleanup
				}
			}
			if (lt && score >= cur) || (gt && score <= cur) {
				continue
			}
			newscore = score
			if score != cur {
				z.UpdateScore(node, score)
				updated++
			}
			processed++
		} else if !xx {
			zinsertMember(z, string(member), score, entries, value)
			newscore = score
			added++
			processed++
		}
	}
reply:
	if incr {
		if processed > 0 {
			c.W.Double(newscore)
		} else {
			c.W.Null()
		}
	} else if flags&zaddCH != 0 {
		c.W.Int(int64(added + updated))
	} else {
		c.W.Int(int64(added))
	}
cleanup:
	if added+updated > 0 {
		c.Modified(key)
		c.Dirty += added + updated - 1
		if incr {
			c.Event('z', "zincr", key)
		} else {
			c.Event('z', "zadd", key)
		}
	} else if z != nil && z.Len() == 0 {
		// created but nothing added (cannot normally happen)
		c.DB.Delete(key)
	}
}

// ---- simple reads / ZREM ----

func (h *Handlers) zrem(c *command.Ctx) {
	key := c.Args[1]
	z, ok := getZSet(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, m := range c.Args[2:] {
		if z.Remove(string(m)) {
			deleted++
			if z.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.Event('z', "zrem", key)
		deleteIfEmpty(c, key, z)
		c.Modified(key)
		c.Dirty += deleted - 1
	}
	c.W.Int(int64(deleted))
}

func (h *Handlers) zcard(c *command.Ctx) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(z.Len()))
}

func (h *Handlers) zscore(c *command.Ctx) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	if s, found := z.Score(string(c.Args[2])); found {
		c.W.Double(s)
	} else {
		c.W.Null()
	}
}

func (h *Handlers) zmscore(c *command.Ctx) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z == nil {
			c.W.Null()
			continue
		}
		if s, found := z.Score(string(m)); found {
			c.W.Double(s)
		} else {
			c.W.Null()
		}
	}
}

func (h *Handlers) zrank(c *command.Ctx, rev bool) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	r, found := z.Rank(string(c.Args[2]))
	if !found {
		c.W.Null()
		return
	}
	if rev {
		r = z.Len() - 1 - r
	}
	c.W.Int(int64(r))
}

// parseScoreRange parses min and max as zslParseRange does.
func parseScoreRange(min, max []byte) (keyspace.ScoreRange, bool) {
	var r keyspace.ScoreRange
	var ok bool
	if r.Min, r.MinEx, ok = parseScoreBound(min); !ok {
		return r, false
	}
	if r.Max, r.MaxEx, ok = parseScoreBound(max); !ok {
		return r, false
	}
	return r, true
}

func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := false
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	s := string(b)
	f, n, _ := cnum.Strtod(s)
	if (n < len(s) && s[n] != 0) || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

// parseLexRange parses min and max as zslParseLexRange does.
func parseLexRange(min, max []byte) (keyspace.LexRange, bool) {
	var r keyspace.LexRange
	var ok bool
	if r.Min, ok = parseLexBound(min); !ok {
		return r, false
	}
	if r.Max, ok = parseLexBound(max); !ok {
		return r, false
	}
	return r, true
}

func parseLexBound(b []byte) (keyspace.LexBound, bool) {
	if len(b) == 0 {
		return keyspace.LexBound{}, false
	}
	switch b[0] {
	case '+':
		if len(b) != 1 {
			return keyspace.LexBound{}, false
		}
		return keyspace.LexBound{Inf: 1, Ex: true}, true
	case '-':
		if len(b) != 1 {
			return keyspace.LexBound{}, false
		}
		return keyspace.LexBound{Inf: -1, Ex: true}, true
	case '(':
		return keyspace.LexBound{S: string(b[1:]), Ex: true}, true
	case '[':
		return keyspace.LexBound{S: string(b[1:])}, true
	}
	return keyspace.LexBound{}, false
}

func (h *Handlers) zcount(c *command.Ctx) {
	r, ok := parseScoreRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(errZMinMaxFloat)
		return
	}
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	n := 0
	if first := z.FirstInRange(&r); first != nil {
		last := z.LastInRange(&r)
		r1, _ := z.Rank(first.Member)
		r2, _ := z.Rank(last.Member)
		n = r2 - r1 + 1
	}
	c.W.Int(int64(n))
}

func (h *Handlers) zlexcount(c *command.Ctx) {
	r, ok := parseLexRange(c.Args[2], c.Args[3])
	if !ok {
		c.Error(errZMinMaxLex)
		return
	}
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	n := 0
	if first := z.FirstInLex(&r); first != nil {
		// With different scores the lex order is not the set's order and
		// the range may have a first element but no last one: count to the
		// end then, as Redis's zlexcountCommand does.
		r1, _ := z.Rank(first.Member)
		n = z.Len() - r1
		if last := z.LastInLex(&r); last != nil {
			r2, _ := z.Rank(last.Member)
			n = r2 - r1 + 1
		}
	}
	c.W.Int(int64(n))
}

// ---- ZRANGE family ----

type zrangeType int

const (
	zrAuto zrangeType = iota
	zrRank
	zrScore
	zrLex
)

type zrangeDir int

const (
	zdAuto zrangeDir = iota
	zdFwd
	zdRev
)

// zrangeNodes selects the elements of a range request, in reply order.
// limit < 0 means no limit.
func zrangeNodes(z *keyspace.ZSet, rt zrangeType, rev bool, start, end int64,
	sr *keyspace.ScoreRange, lr *keyspace.LexRange, offset, limit int64, out []*keyspace.ZNode) []*keyspace.ZNode {
	llen := int64(z.Len())
	switch rt {
	case zrRank:
		if start < 0 {
			start = llen + start
		}
		if end < 0 {
			end = llen + end
		}
		if start < 0 {
			start = 0
		}
		if start > end || start >= llen {
			return out
		}
		if end >= llen {
			end = llen - 1
		}
		n := end - start + 1
		var ln *keyspace.ZNode
		if rev {
			ln = z.ByRank(int(llen - 1 - start))
		} else {
			ln = z.ByRank(int(start))
		}
		for ; n > 0 && ln != nil; n-- {
			out = append(out, ln)
			if rev {
				ln = ln.Prev()
			} else {
				ln = ln.Next()
			}
		}
		return out
	}
	if offset > 0 && offset >= llen {
		return out
	}
	var ln *keyspace.ZNode
	switch {
	case rt == zrScore && rev:
		ln = z.LastInRange(sr)
	case rt == zrScore:
		ln = z.FirstInRange(sr)
	case rev:
		ln = z.LastInLex(lr)
	default:
		ln = z.FirstInLex(lr)
	}
	next := func(n *keyspace.ZNode) *keyspace.ZNode {
		if rev {
			return n.Prev()
		}
		return n.Next()
	}
	for ln != nil && offset != 0 {
		offset--
		ln = next(ln)
	}
	for ln != nil && limit != 0 {
		limit--
		var in bool
		switch {
		case rt == zrScore && rev:
			in = sr.GteMin(ln.Score)
		case rt == zrScore:
			in = sr.LteMax(ln.Score)
		case rev:
			in = lr.GteMin(ln.Member)
		default:
			in = lr.LteMax(ln.Member)
		}
		if !in {
			break
		}
		out = append(out, ln)
		ln = next(ln)
	}
	return out
}

// writeZNodes writes elements as ZRANGE does: flat with scores in RESP2,
// [member, score] pairs in RESP3; stopped once the client passes its
// output limit (a reply bounded by the zset).
func writeZNodes(c *command.Ctx, nodes []*keyspace.ZNode, withscores bool) {
	g := c.ReplyGuard(0)
	w := c.W
	resp3 := w.ProtoVersion() >= 3
	if withscores && !resp3 {
		w.Array(2 * len(nodes))
	} else {
		w.Array(len(nodes))
	}
	for _, n := range nodes {
		if withscores && resp3 {
			w.Array(2)
		}
		w.BulkString(n.Member)
		if withscores {
			w.Double(n.Score)
		}
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) zrangeGeneric(c *command.Ctx, argStart int, store bool, rt zrangeType, dir zrangeDir) {
	key := c.Args[argStart]
	minidx, maxidx := argStart+1, argStart+2
	var withscores bool
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		a := c.Args[j]
		switch {
		case !store && EqualFold(a, "withscores"):
			withscores = true
		case EqualFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = ParseInt(c.Args[j+1]); !ok {
				c.Error(ErrNotInt)
				return
			}
			if limit, ok = ParseInt(c.Args[j+2]); !ok {
				c.Error(ErrNotInt)
				return
			}
			j += 2
		case dir == zdAuto && EqualFold(a, "rev"):
			dir = zdRev
		case rt == zrAuto && EqualFold(a, "bylex"):
			rt = zrLex
		case rt == zrAuto && EqualFold(a, "byscore"):
			rt = zrScore
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if dir == zdAuto {
		dir = zdFwd
	}
	if rt == zrAuto {
		rt = zrRank
	}
	if limit != -1 && rt == zrRank {
		c.Error(errZLimitRank)
		return
	}
	if withscores && rt == zrLex {
		c.Error(errZLexScores)
		return
	}
	rev := dir == zdRev
	if rev && rt != zrRank {
		minidx, maxidx = maxidx, minidx
	}
	var start, end int64
	var sr keyspace.ScoreRange
	var lr keyspace.LexRange
	switch rt {
	case zrRank:
		var ok bool
		if start, ok = ParseInt(c.Args[minidx]); !ok {
			c.Error(ErrNotInt)
			return
		}
		if end, ok = ParseInt(c.Args[maxidx]); !ok {
			c.Error(ErrNotInt)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = parseScoreRange(c.Args[minidx], c.Args[maxidx]); !ok {
			c.Error(errZMinMaxFloat)
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = parseLexRange(c.Args[minidx], c.Args[maxidx]); !ok {
			c.Error(errZMinMaxLex)
			return
		}
	}
	var saved keyspace.DB
	if store {
		saved = readingView(c) // ZRANGESTORE's source: lookupKeyRead
	}
	z, ok := getZSet(c, key)
	if store {
		c.DB = saved
	}
	if !ok {
		return
	}
	var nbuf [32]*keyspace.ZNode
	var nodes []*keyspace.ZNode
	if z != nil {
		nodes = zrangeNodes(z, rt, rev, start, end, &sr, &lr, offset, limit, nbuf[:0])
	}
	if !store {
		writeZNodes(c, nodes, withscores)
		return
	}
	dst := c.Args[1]
	if len(nodes) == 0 {
		// Redis's zrangeResultFinalizeStore: the reply, then the del
		c.W.Int(0)
		deleteDestination(c, dst)
		return
	}
	// Like Redis's zrangeResultBeginStore, start a listpack (unless a rank
	// range's known length is already too many) and add the elements in
	// reply order, converting when one makes it too big: the ones added
	// before that keep a listpack's 0 for a -0 score.
	entries, value := h.zlimits()
	out := keyspace.NewZSet(rt == zrScore || rt == zrLex || len(nodes) <= entries)
	for _, n := range nodes {
		zinsertMember(out, n.Member, n.Score, entries, value)
	}
	c.DB.Set(dst, out, 0)
	c.Modified(dst)
	c.W.Int(int64(len(nodes))) // before the event, as Redis
	c.Event('z', "zrangestore", dst)
}

func (h *Handlers) zremrange(c *command.Ctx, rt zrangeType) {
	key := c.Args[1]
	var start, end int64
	var sr keyspace.ScoreRange
	var lr keyspace.LexRange
	var ok bool
	switch rt {
	case zrRank:
		if start, ok = ParseInt(c.Args[2]); !ok {
			c.Error(ErrNotInt)
			return
		}
		if end, ok = ParseInt(c.Args[3]); !ok {
			c.Error(ErrNotInt)
			return
		}
	case zrScore:
		if sr, ok = parseScoreRange(c.Args[2], c.Args[3]); !ok {
			c.Error(errZMinMaxFloat)
			return
		}
	case zrLex:
		if lr, ok = parseLexRange(c.Args[2], c.Args[3]); !ok {
			c.Error(errZMinMaxLex)
			return
		}
	}
	z, ok := getZSet(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	nodes := zrangeNodes(z, rt, false, start, end, &sr, &lr, 0, -1, nil)
	for _, n := range nodes {
		z.Remove(n.Member)
	}
	deleted := len(nodes)
	if deleted > 0 {
		ev := [...]string{zrRank: "zremrangebyrank", zrScore: "zremrangebyscore", zrLex: "zremrangebylex"}
		c.Modified(key)
		c.Dirty += deleted - 1
		c.Event('z', ev[rt], key)
		deleteIfEmpty(c, key, z)
	}
	c.W.Int(int64(deleted))
}

// ---- pops ----

// zpop pops up to count elements from the first non-empty zset among keys
// (count -1: a single pop). emitKey adds the key to the reply (BZPOP*,
// ZMPOP); nested selects [member, score] pairs.
func (h *Handlers) zpop(c *command.Ctx, keys [][]byte, max bool, emitKey bool, count int64, nested, nilWhenEmpty bool) {
	var z *keyspace.ZSet
	var key []byte
	for _, k := range keys {
		zz, ok := getZSet(c, k)
		if !ok {
			return
		}
		if zz != nil {
			z, key = zz, k
			break
		}
	}
	if z == nil {
		if nilWhenEmpty {
			c.W.NullArray()
		} else {
			c.W.Array(0)
		}
		return
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	if count == -1 {
		count = 1
	}
	n := int64(z.Len())
	if count < n {
		n = count
	}
	switch {
	case !nested && !emitKey:
		c.W.Array(int(n * 2))
	case nested && !emitKey:
		c.W.Array(int(n))
	case !nested && emitKey:
		c.W.Array(int(n*2 + 1))
		c.W.Bulk(key)
	default:
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(int(n))
	}
	// Redis signals the key and sends the zpopmin/zpopmax event between
	// the reply's header(s) and its elements (genericZpopCommand): a
	// tracking invalidation or a RESP3 keyspace event for this client's
	// output sits there (the "del" of an emptied key after the elements)
	c.Modified(key)
	if max {
		c.Event('z', "zpopmax", key)
	} else {
		c.Event('z', "zpopmin", key)
	}
	// past the client's output limit the pops go on, the reply stops
	// growing (Redis adds nothing to it once the client is to be closed)
	g := c.ReplyGuard(0)
	stopped := false
	for i := int64(0); i < n; i++ {
		var e *keyspace.ZNode
		if max {
			e = z.Last()
		} else {
			e = z.First()
		}
		member, score := e.Member, e.Score
		z.Remove(member)
		if stopped {
			continue
		}
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(member)
		c.W.Double(score)
		stopped = g.Over()
	}
	c.Dirty += int(n) - 1
	deleteIfEmpty(c, key, z)
	name := "ZPOPMIN"
	if max {
		name = "ZPOPMAX"
	}
	if emitKey {
		if count == 1 && !nested {
			c.Propagate = [][][]byte{{[]byte(name), key}}
		} else {
			c.Propagate = [][][]byte{{[]byte(name), key, []byte(strconv.FormatInt(count, 10))}}
		}
	}
}

func (h *Handlers) zpopMinMax(c *command.Ctx, max bool) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Error(errNotPositive)
			return
		}
		count = n
	}
	nested := c.W.ProtoVersion() >= 3 && count != -1
	h.zpop(c, c.Args[1:2], max, false, count, nested, false)
}

// blockOrTimeout parks the client on keys, or replies as on timeout when
// blocking is not allowed (scripts, MULTI).
func blockOrTimeout(c *command.Ctx, keys [][]byte, deadline time.Time) {
	if c.InScript || (c.Client != nil && c.Client.Flags&command.ClientMulti != 0) {
		c.W.NullArray()
		return
	}
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		ks[i] = Copy(k)
	}
	c.Block = &command.BlockRequest{Keys: ks, Deadline: deadline, Type: command.BlockZSet,
		OnTimeout: func(w resp.ReplyWriter) { w.NullArray() }}
}

func (h *Handlers) bzpopMinMax(c *command.Ctx, max bool) {
	keys := c.Args[1 : len(c.Args)-1]
	deadline, ok := parseTimeout(c, c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	h.blockingZpop(c, keys, max, deadline, -1, false, false)
}

func (h *Handlers) blockingZpop(c *command.Ctx, keys [][]byte, max bool, deadline time.Time, count int64, nested, nilWhenEmpty bool) {
	for _, k := range keys {
		if c.Retry {
			// woken: as Redis 7.0, only the key that became ready is
			// served, and only when it holds a sorted set (a key of
			// another type is skipped, not an error)
			if c.Ready != nil && string(k) != string(c.Ready) {
				continue
			}
			if _, isZSet := c.DB.Get(k).(*keyspace.ZSet); !isZSet {
				continue
			}
		}
		z, ok := getZSet(c, k)
		if !ok {
			return
		}
		if z == nil || z.Len() == 0 {
			continue
		}
		h.zpop(c, [][]byte{k}, max, true, count, nested, nilWhenEmpty)
		return
	}
	blockOrTimeout(c, keys, deadline)
}

func (h *Handlers) zmpop(c *command.Ctx, numkeysIdx int, block bool) {
	numkeys, ok := ParseInt(c.Args[numkeysIdx])
	if !ok || numkeys < 1 {
		c.Error(errNumkeysZero)
		return
	}
	whereIdx := int64(numkeysIdx) + numkeys + 1
	if whereIdx >= int64(len(c.Args)) {
		c.Error(ErrSyntax)
		return
	}
	var max bool
	switch w := c.Args[whereIdx]; {
	case EqualFold(w, "min"):
	case EqualFold(w, "max"):
		max = true
	default:
		c.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	for j := int(whereIdx) + 1; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		if count == -1 && EqualFold(c.Args[j], "count") && more > 0 {
			j++
			n, ok := ParseInt(c.Args[j])
			if !ok || n < 1 {
				c.Error(errCountZero)
				return
			}
			count = n
		} else {
			c.Error(ErrSyntax)
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := c.Args[numkeysIdx+1 : whereIdx]
	if block {
		// as Redis 7.0's blockingGenericZpopCommand: the timeout is
		// parsed after numkeys, the direction and COUNT
		deadline, ok := parseTimeout(c, c.Args[1])
		if !ok {
			return
		}
		h.blockingZpop(c, keys, max, deadline, count, true, true)
		return
	}
	h.zpop(c, keys, max, true, count, true, true)
}

// ---- ZUNION / ZINTER / ZDIFF ----

const (
	zopUnion = iota
	zopInter
	zopDiff
)

const (
	aggrSum = iota
	aggrMin
	aggrMax
)

// zsrc is one input of a set operation: a sorted set or a plain set (whose
// members score 1).
type zsrc struct {
	z      *keyspace.ZSet
	set    SetMembers
	weight float64
}

// SetMembers is what sorted-set operations and SORT need from a set value
// (the set type lives with the set commands).
type SetMembers interface {
	Len() int
	// ForEachMember calls fn for each member until it returns false.
	ForEachMember(fn func(member string) bool)
	// HasMember reports whether member is in the set.
	HasMember(member string) bool
}

func (s *zsrc) length() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

func (s *zsrc) each(fn func(member string, score float64) bool) {
	switch {
	case s.z != nil:
		for n := s.z.First(); n != nil; n = n.Next() {
			if !fn(n.Member, n.Score) {
				return
			}
		}
	case s.set != nil:
		s.set.ForEachMember(func(m string) bool { return fn(m, 1) })
	}
}

func (s *zsrc) find(member string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(member)
	case s.set != nil:
		if s.set.HasMember(member) {
			return 1, true
		}
	}
	return 0, false
}

func zaggregate(target *float64, val float64, aggr int) {
	switch aggr {
	case aggrSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggrMin:
		if val < *target {
			*target = val
		}
	case aggrMax:
		if val > *target {
			*target = val
		}
	}
}

func (h *Handlers) zsetOp(c *command.Ctx, dstkey []byte, numkeysIdx int, op int, cardOnly bool) {
	setnum, ok := ParseInt(c.Args[numkeysIdx])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if setnum < 1 {
		c.Error("ERR at least 1 input key is needed for '" + c.Spec.Name + "' command")
		return
	}
	if setnum > int64(len(c.Args)-(numkeysIdx+1)) {
		c.Error(ErrSyntax)
		return
	}
	src := make([]zsrc, setnum)
	j := numkeysIdx + 1
	if dstkey != nil {
		// the sources of a STORE variant are read lookups (Redis's
		// lookupKeyRead): back to the write view when this returns
		defer func(saved keyspace.DB) { c.DB = saved }(readingView(c))
	}
	for i := range src {
		v := c.DB.Get(c.Args[j])
		switch x := v.(type) {
		case nil:
		case *keyspace.ZSet:
			src[i].z = x
		default:
			if keyspace.TypeName(v) != "set" {
				c.Error(ErrWrongType)
				return
			}
			sm, isSM := v.(SetMembers)
			if !isSM {
				c.Error(ErrWrongType)
				return
			}
			src[i].set = sm
		}
		src[i].weight = 1
		j++
	}
	aggr := aggrSum
	withscores := false
	var limit int64
	for remaining := len(c.Args) - j; remaining > 0; remaining = len(c.Args) - j {
		a := c.Args[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= int(setnum)+1 && EqualFold(a, "weights"):
			j++
			for i := range src {
				w, ok := parseRedisDouble(c.Args[j])
				if !ok {
					c.Error(errWeightFloat)
					return
				}
				src[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && EqualFold(a, "aggregate"):
			j++
			switch b := c.Args[j]; {
			case EqualFold(b, "sum"):
				aggr = aggrSum
			case EqualFold(b, "min"):
				aggr = aggrMin
			case EqualFold(b, "max"):
				aggr = aggrMax
			default:
				c.Error(ErrSyntax)
				return
			}
			j++
		case dstkey == nil && !cardOnly && EqualFold(a, "withscores"):
			j++
			withscores = true
		case cardOnly && remaining >= 2 && EqualFold(a, "limit"):
			j++
			n, ok := ParseInt(c.Args[j])
			if !ok || n < 0 { // one error for both, as Redis (and SINTERCARD)
				c.Error("ERR LIMIT can't be negative")
				return
			}
			limit = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if op != zopDiff {
		sort.SliceStable(src, func(a, b int) bool { return src[a].length() < src[b].length() })
	}
	type elem struct {
		member string
		score  float64
	}
	var res []elem
	cardinality := 0
	switch op {
	case zopInter:
		if src[0].length() > 0 {
			src[0].each(func(m string, s float64) bool {
				score := src[0].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				k := 1
				for ; k < len(src); k++ {
					v, found := src[k].find(m)
					if !found {
						break
					}
					zaggregate(&score, v*src[k].weight, aggr)
				}
				if k == len(src) {
					if cardOnly {
						cardinality++
						if limit > 0 && int64(cardinality) >= limit {
							return false
						}
					} else {
						res = append(res, elem{m, score})
					}
				}
				return true
			})
		}
	case zopUnion:
		acc := make(map[string]int)
		for i := range src {
			src[i].each(func(m string, s float64) bool {
				score := src[i].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if idx, ok := acc[m]; ok {
					zaggregate(&res[idx].score, score, aggr)
				} else {
					acc[m] = len(res)
					res = append(res, elem{m, score})
				}
				return true
			})
		}
	case zopDiff:
		src[0].each(func(m string, s float64) bool {
			for k := 1; k < len(src); k++ {
				if _, found := src[k].find(m); found {
					return true
				}
			}
			res = append(res, elem{m, s})
			return true
		})
	}
	if cardOnly {
		c.W.Int(int64(cardinality))
		return
	}
	maxlen := 0
	for _, e := range res {
		maxlen = max(maxlen, len(e.member))
	}
	entries, value := h.zlimits()
	out := newZSetFor(len(res), maxlen, entries, value)
	if dstkey == nil {
		// Redis replies from its skiplist result, where a -0 score (a
		// weight of -1 on 0) stays -0; only a stored result turns listpack
		out = keyspace.NewZSet(false)
	}
	for _, e := range res {
		out.Set(e.member, e.score)
	}
	if dstkey != nil {
		if out.Len() > 0 {
			c.DB.Set(dstkey, out, 0)
			c.Modified(dstkey) // Redis's setKey signals it before the reply
			c.W.Int(int64(out.Len()))
			c.Event('z', [...]string{"zunionstore", "zinterstore", "zdiffstore"}[op], dstkey)
		} else {
			c.W.Int(0)
			deleteDestination(c, dstkey)
		}
		return
	}
	nodes := make([]*keyspace.ZNode, 0, out.Len())
	for n := out.First(); n != nil; n = n.Next() {
		nodes = append(nodes, n)
	}
	writeZNodes(c, nodes, withscores)
}

// ---- ZRANDMEMBER ----

func (h *Handlers) zrandmember(c *command.Ctx) {
	if len(c.Args) >= 3 {
		l, ok := ParseInt(c.Args[2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		if l == math.MinInt64 {
			c.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		withscores := false
		if len(c.Args) > 4 || (len(c.Args) == 4 && !EqualFold(c.Args[3], "withscores")) {
			c.Error(ErrSyntax)
			return
		} else if len(c.Args) == 4 {
			withscores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.Error("ERR value is out of range")
				return
			}
		}
		h.zrandmemberCount(c, l, withscores)
		return
	}
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	c.W.BulkString(z.ByRank(rand.IntN(z.Len())).Member)
}

func (h *Handlers) zrandmemberCount(c *command.Ctx, l int64, withscores bool) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.W.Array(0)
		return
	}
	size := int64(z.Len())
	resp3 := c.W.ProtoVersion() >= 3
	writeOne := func(n *keyspace.ZNode) {
		if withscores && resp3 {
			c.W.Array(2)
		}
		c.W.BulkString(n.Member)
		if withscores {
			c.W.Double(n.Score)
		}
	}
	header := func(n int64) {
		if withscores && !resp3 {
			c.W.Array(int(n * 2))
		} else {
			c.W.Array(int(n))
		}
	}
	if l < -maxRandomRepeats {
		c.Error(errRandomRepeats)
		return
	}
	if l < 0 || l == 1 {
		count := l
		if count < 0 {
			count = -count
		}
		g := c.ReplyGuard(maxRandomReply)
		least := int64(leastBulk)
		if withscores {
			least += 4 // a RESP3 double (",1\r\n") at least
		}
		if g.Refuse(c, count*least, errRandomReply) {
			return
		}
		header(count)
		for i := int64(0); i < count; i++ {
			writeOne(z.ByRank(rand.IntN(int(size))))
			if g.Stop(c, errRandomReply) {
				break
			}
		}
		return
	}
	if l >= size {
		// Redis 7.0 replies with the whole set in reverse order here
		nodes := make([]*keyspace.ZNode, 0, size)
		for n := z.Last(); n != nil; n = n.Prev() {
			nodes = append(nodes, n)
		}
		writeZNodes(c, nodes, withscores)
		return
	}
	perm := rand.Perm(int(size))[:l]
	g := c.ReplyGuard(0) // bounded by the zset; stopped by the output limit
	header(l)
	for _, r := range perm {
		writeOne(z.ByRank(r))
		if g.Over() {
			break
		}
	}
}

// ---- ZSCAN ----

func (h *Handlers) zscan(c *command.Ctx) {
	cursor, ok := parseScanCursor(c, c.Args[2])
	if !ok {
		return
	}
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		emptyScan(c)
		return
	}
	o, ok := parseScanOpts(c, 3)
	if !ok {
		return
	}
	nodes := make([]*keyspace.ZNode, 0, z.Len())
	for n := z.First(); n != nil; n = n.Next() {
		nodes = append(nodes, n)
	}
	idx, next := scanSelect(z.IsListpack(), len(nodes), func(i int) string { return nodes[i].Member }, cursor, o)
	var buf [32]byte
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(buf[:0], next, 10))
	g := c.ReplyGuard(0) // a huge COUNT: stopped by the output limit
	c.W.Array(2 * len(idx))
	for _, i := range idx {
		c.W.BulkString(nodes[i].Member)
		c.W.Bulk(resp.FormatDouble(buf[:0], nodes[i].Score))
		if g.Over() {
			break
		}
	}
}
