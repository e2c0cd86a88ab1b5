package commands

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

func (h *Handlers) registerHashes() {
	t := h.Table
	t.Handle("hset", h.hset)
	t.Handle("hmset", h.hset)
	t.Handle("hsetnx", h.hsetnx)
	t.Handle("hget", h.hget)
	t.Handle("hmget", h.hmget)
	t.Handle("hdel", h.hdel)
	t.Handle("hexists", h.hexists)
	t.Handle("hlen", h.hlen)
	t.Handle("hstrlen", h.hstrlen)
	t.Handle("hkeys", h.hkeys)
	t.Handle("hvals", h.hvals)
	t.Handle("hgetall", h.hgetall)
	t.Handle("hincrby", h.hincrby)
	t.Handle("hincrbyfloat", h.hincrbyfloat)
	t.Handle("hrandfield", h.hrandfield)
	t.Handle("hscan", h.hscan)
}

const (
	errHashNotInt   = "ERR hash value is not an integer"
	errHashNotFloat = "ERR hash value is not a float"
	errHashNaNInf   = "ERR increment would produce NaN or Infinity"
)

// getHash returns the hash at key (nil when missing); ok is false when
// WRONGTYPE was written.
func getHash(c *command.Ctx, key []byte) (*keyspace.Hash, bool) {
	v := c.DB.Get(key)
	if v == nil {
		return nil, true
	}
	hs, isHash := v.(*keyspace.Hash)
	if !isHash {
		c.Error(ErrWrongType)
		return nil, false
	}
	return hs, true
}

// hashForWrite returns the hash at key, creating it when missing.
func hashForWrite(c *command.Ctx, key []byte) (*keyspace.Hash, bool) {
	hs, ok := getHash(c, key)
	if !ok {
		return nil, false
	}
	if hs == nil {
		hs = keyspace.NewHash()
		c.DB.Set(key, hs, 0)
	}
	return hs, true
}

func (h *Handlers) hset(c *command.Ctx) {
	if len(c.Args)%2 != 0 {
		c.Error(wrongArity(c))
		return
	}
	key := c.Args[1]
	hs, ok := hashForWrite(c, key)
	if !ok {
		return
	}
	lim := h.hashLimits()
	created := 0
	for i := 2; i < len(c.Args); i += 2 {
		if hs.Set(c.Args[i], c.Args[i+1], lim) {
			created++
		}
	}
	// Redis replies before it signals the key (hsetCommand and the other
	// hash writes but HDEL): a tracking invalidation for this client's
	// output follows the reply
	if c.Spec.Name == "hmset" {
		c.W.OK()
	} else {
		c.W.Int(int64(created))
	}
	c.Modified(key)
	c.Event('h', "hset", key)
}

func (h *Handlers) hsetnx(c *command.Ctx) {
	key := c.Args[1]
	hs, ok := getHash(c, key)
	if !ok {
		return
	}
	if hs != nil && hs.Has(c.Args[2]) {
		c.W.Int(0)
		return
	}
	if hs == nil { // getHash above looked the key up (one access, as Redis)
		hs = keyspace.NewHash()
		c.DB.Set(key, hs, 0)
	}
	hs.Set(c.Args[2], c.Args[3], h.hashLimits())
	c.W.Int(1) // before the key is signalled, as Redis
	c.Modified(key)
	c.Event('h', "hset", key)
}

func (h *Handlers) hget(c *command.Ctx) {
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	if hs == nil {
		c.W.Null()
		return
	}
	if v, found := hs.Get(c.Args[2]); found {
		c.W.Bulk(v)
	} else {
		c.W.Null()
	}
}

func (h *Handlers) hmget(c *command.Ctx) {
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	g := c.ReplyGuard(0) // a field named many times: many copies of its value
	c.W.Array(len(c.Args) - 2)
	for _, f := range c.Args[2:] {
		v, found := []byte(nil), false
		if hs != nil {
			v, found = hs.Get(f)
		}
		if found {
			c.W.Bulk(v)
		} else {
			c.W.Null()
		}
		if g.Stop(c, "") {
			break
		}
	}
}

func (h *Handlers) hdel(c *command.Ctx) {
	key := c.Args[1]
	hs, ok := getHash(c, key)
	if !ok {
		return
	}
	if hs == nil {
		c.W.Int(0)
		return
	}
	n := 0
	for _, f := range c.Args[2:] {
		if hs.Del(f) {
			n++
			if hs.Len() == 0 {
				break
			}
		}
	}
	if n > 0 {
		c.Modified(key)
		c.Event('h', "hdel", key)
		if hs.Len() == 0 {
			c.DB.Delete(key)
			c.Event('g', "del", key)
		}
	}
	c.W.Int(int64(n))
}

func (h *Handlers) hexists(c *command.Ctx) {
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	if hs != nil && hs.Has(c.Args[2]) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func (h *Handlers) hlen(c *command.Ctx) {
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	if hs == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(hs.Len()))
}

func (h *Handlers) hstrlen(c *command.Ctx) {
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	if hs == nil {
		c.W.Int(0)
		return
	}
	v, _ := hs.Get(c.Args[2])
	c.W.Int(int64(len(v)))
}

const (
	hashKeys = 1 << iota
	hashVals
)

func (h *Handlers) hgetallGeneric(c *command.Ctx, what int) {
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	n := 0
	if hs != nil {
		n = hs.Len()
	}
	g := c.ReplyGuard(0) // bounded by the hash; stopped by the output limit
	if what == hashKeys|hashVals {
		c.W.Map(n)
	} else {
		c.W.Array(n)
	}
	for i := 0; i < n; i++ {
		if what&hashKeys != 0 {
			c.W.BulkString(hs.Field(i))
		}
		if what&hashVals != 0 {
			c.W.Bulk(hs.Value(i))
		}
		if g.Over() {
			break
		}
	}
}

func (h *Handlers) hkeys(c *command.Ctx)   { h.hgetallGeneric(c, hashKeys) }
func (h *Handlers) hvals(c *command.Ctx)   { h.hgetallGeneric(c, hashVals) }
func (h *Handlers) hgetall(c *command.Ctx) { h.hgetallGeneric(c, hashKeys|hashVals) }

func (h *Handlers) hincrby(c *command.Ctx) {
	key := c.Args[1]
	incr, ok := ParseInt(c.Args[3])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	hs, ok := getHash(c, key)
	if !ok {
		return
	}
	var cur int64
	if hs != nil {
		if v, found := hs.Get(c.Args[2]); found {
			n, isInt := parseIntLoose(v)
			if !isInt {
				c.Error(errHashNotInt)
				return
			}
			cur = n
		}
	}
	if incr < 0 && cur < 0 && incr < math.MinInt64-cur || incr > 0 && cur > 0 && incr > math.MaxInt64-cur {
		c.Error(ErrOverflow)
		return
	}
	cur += incr
	if hs == nil { // getHash above looked the key up (one access, as Redis)
		hs = keyspace.NewHash()
		c.DB.Set(key, hs, 0)
	}
	var buf [24]byte
	hs.Set(c.Args[2], strconv.AppendInt(buf[:0], cur, 10), h.hashLimits())
	c.W.Int(cur) // before the key is signalled, as Redis
	c.Modified(key)
	c.Event('h', "hincrby", key)
}

// parseIntLoose parses a stored value as string2ll does (canonical int64).
func parseIntLoose(v []byte) (int64, bool) {
	if len(v) == 1 && v[0] == '0' {
		return 0, true
	}
	return keyspace.ParseIntMember(v)
}

func (h *Handlers) hincrbyfloat(c *command.Ctx) {
	key := c.Args[1]
	incr, ok := ParseLongDouble(c.Args[3])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	if incr.f.IsInf() { // Redis checks it before the key's type
		c.Error("ERR value is NaN or Infinity")
		return
	}
	hs, ok := getHash(c, key)
	if !ok {
		return
	}
	cur := NewLongDouble()
	if hs != nil {
		if v, found := hs.Get(c.Args[2]); found {
			if cur, ok = ParseLongDouble(v); !ok {
				c.Error(errHashNotFloat)
				return
			}
		}
	}
	if cur.f.IsInf() {
		c.Error(errHashNaNInf)
		return
	}
	sum, ok := cur.Add(incr)
	if !ok {
		c.Error(errHashNaNInf)
		return
	}
	out := []byte(sum.Format())
	if hs == nil { // getHash above looked the key up (one access, as Redis)
		hs = keyspace.NewHash()
		c.DB.Set(key, hs, 0)
	}
	hs.Set(c.Args[2], out, h.hashLimits())
	c.W.Bulk(out) // before the key is signalled, as Redis
	c.Modified(key)
	c.Event('h', "hincrbyfloat", key)
	c.Propagate = [][][]byte{{[]byte("HSET"), key, c.Args[2], out}}
}

func (h *Handlers) hrandfield(c *command.Ctx) {
	if len(c.Args) == 2 {
		hs, ok := getHash(c, c.Args[1])
		if !ok {
			return
		}
		if hs == nil {
			c.W.Null()
			return
		}
		c.W.BulkString(hs.Field(rand.IntN(hs.Len())))
		return
	}
	count, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if count == math.MinInt64 { // Redis checks the range before the syntax
		c.Error(errRangeLong)
		return
	}
	withValues := false
	if len(c.Args) == 4 {
		if !EqualFold(c.Args[3], "withvalues") {
			c.Error(ErrSyntax)
			return
		}
		withValues = true
	} else if len(c.Args) > 4 {
		c.Error(ErrSyntax)
		return
	}
	if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		c.Error("ERR value is out of range")
		return
	}
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	if hs == nil || count == 0 {
		c.W.Array(0)
		return
	}
	n := hs.Len()
	pair := func(i int) {
		if withValues && c.W.ProtoVersion() >= 3 {
			c.W.Array(2)
		}
		c.W.BulkString(hs.Field(i))
		if withValues {
			c.W.Bulk(hs.Value(i))
		}
	}
	header := func(k int) {
		if withValues && c.W.ProtoVersion() < 3 {
			c.W.Array(2 * k)
		} else {
			c.W.Array(k)
		}
	}
	if count < -maxRandomRepeats {
		c.Error(errRandomRepeats)
		return
	}
	if count < 0 {
		k := int(-count)
		g := c.ReplyGuard(maxRandomReply)
		least := int64(leastBulk)
		if withValues {
			least *= 2
		}
		if g.Refuse(c, int64(k)*least, errRandomReply) {
			return
		}
		header(k)
		for j := 0; j < k; j++ {
			pair(rand.IntN(n))
			if g.Stop(c, errRandomReply) {
				break
			}
		}
		return
	}
	g := c.ReplyGuard(0) // bounded by the hash; stopped by the output limit
	if count >= int64(n) {
		header(n)
		for i := 0; i < n && !g.Over(); i++ {
			pair(i)
		}
		return
	}
	idx := randomDistinct(n, int(count))
	header(len(idx))
	for _, i := range idx {
		pair(i)
		if g.Over() {
			break
		}
	}
}

// randomDistinct returns k distinct random indexes in [0, n), k < n.
func randomDistinct(n, k int) []int {
	if k*3 > n {
		p := rand.Perm(n)
		return p[:k]
	}
	seen := make(map[int]struct{}, k)
	out := make([]int, 0, k)
	for len(out) < k {
		i := rand.IntN(n)
		if _, dup := seen[i]; !dup {
			seen[i] = struct{}{}
			out = append(out, i)
		}
	}
	return out
}

func (h *Handlers) hscan(c *command.Ctx) {
	cursor, ok := parseScanCursor(c, c.Args[2])
	if !ok {
		return
	}
	hs, ok := getHash(c, c.Args[1])
	if !ok {
		return
	}
	if hs == nil {
		emptyScan(c)
		return
	}
	o, ok := parseScanOpts(c, 3)
	if !ok {
		return
	}
	idx, next := scanSelect(hs.IsListpack(), hs.Len(), hs.Field, cursor, o)
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	g := c.ReplyGuard(0) // a huge COUNT: stopped by the output limit
	c.W.Array(2 * len(idx))
	for _, i := range idx {
		c.W.BulkString(hs.Field(i))
		c.W.Bulk(hs.Value(i))
		if g.Over() {
			break
		}
	}
}
