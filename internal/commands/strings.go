package commands

import (
	"fmt"
	"math"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

func (h *Handlers) registerStrings() {
	t := h.Table
	t.Handle("get", h.get)
	t.Handle("set", h.set)
	t.Handle("setnx", h.setnx)
	t.Handle("setex", h.setex)
	t.Handle("psetex", h.psetex)
	t.Handle("getset", h.getset)
	t.Handle("getdel", h.getdel)
	t.Handle("getex", h.getex)
	t.Handle("mget", h.mget)
	t.Handle("mset", h.mset)
	t.Handle("msetnx", h.msetnx)
	t.Handle("append", h.appendCmd)
	t.Handle("strlen", h.strlen)
	t.Handle("getrange", h.getrange)
	t.Handle("substr", h.getrange)
	t.Handle("setrange", h.setrange)
	t.Handle("incr", h.incr)
	t.Handle("decr", h.decr)
	t.Handle("incrby", h.incrby)
	t.Handle("decrby", h.decrby)
	t.Handle("incrbyfloat", h.incrbyfloat)
	t.Handle("lcs", h.lcs)
}

// String error texts.
const (
	errOffsetRange = "ERR offset is out of range"
	errStringSize  = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errNaNInf      = "ERR increment would produce NaN or Infinity"
	errDecrOverflw = "ERR decrement would overflow"
	errLCSType     = "ERR The specified keys must contain string values"
	errLCSBoth     = "ERR If you want both the length and indexes, please just use IDX."
	errLCSMemory   = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

// getString fetches a string value, writing WRONGTYPE on a type mismatch.
// ok is false when an error was written.
func getString(c *command.Ctx, key []byte) (val []byte, found, ok bool) {
	v, found, err := c.DB.GetString(key)
	if err != nil {
		c.Error(ErrWrongType)
		return nil, true, false
	}
	return v, found, true
}

// rawString returns a copy of b marked as "raw" for OBJECT ENCODING: values
// built in place (APPEND, SETRANGE) keep spare capacity, as Redis's sds does.
func rawString(b []byte, extra int) []byte {
	if extra < 1 {
		extra = 1
	}
	out := make([]byte, len(b), len(b)+extra)
	copy(out, b)
	return out
}

// sdsMaxPrealloc is Redis's SDS_MAX_PREALLOC.
const sdsMaxPrealloc = 1 << 20

// growString returns a copy of b with room for newlen bytes, as Redis's
// sdsMakeRoomFor sizes it: twice newlen below 1 MB, newlen + 1 MB above
// (the spare capacity is what makes OBJECT ENCODING say "raw" and what
// MEMORY USAGE counts).
func growString(b []byte, newlen int) []byte {
	c := newlen * 2
	if newlen >= sdsMaxPrealloc {
		c = newlen + sdsMaxPrealloc
	}
	if c == 0 {
		c = 1 // still marked raw (an empty sds Redis appended nothing to)
	}
	out := make([]byte, len(b), c)
	copy(out, b)
	return out
}

// StringEncoding is OBJECT ENCODING for a string value: "int" when it reads
// as a 64-bit integer, "embstr" up to 44 bytes, else "raw"; values grown in
// place (APPEND, SETRANGE: spare capacity) are always "raw".
func StringEncoding(b []byte) string {
	if cap(b) > len(b) {
		return "raw"
	}
	if len(b) <= 20 {
		if _, ok := ParseInt(b); ok {
			return "int"
		}
	}
	if len(b) <= 44 {
		return "embstr"
	}
	return "raw"
}

func (h *Handlers) get(c *command.Ctx) {
	v, found, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	c.W.Bulk(v)
}

// Expiry units of SET, GETEX, SETEX and PSETEX.
const (
	unitNone = iota
	unitEX
	unitPX
	unitEXAT
	unitPXAT
)

// expireArg parses an EX/PX/EXAT/PXAT argument into an absolute Unix ms
// time. cmd names the command for the error text.
func expireArg(c *command.Ctx, unit int, arg []byte, cmd string) (int64, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		c.Error(ErrNotInt)
		return 0, false
	}
	bad := func() (int64, bool) {
		c.Error(fmt.Sprintf(ErrInvalidExp, cmd))
		return 0, false
	}
	if n <= 0 || (unit == unitEX || unit == unitEXAT) && n > math.MaxInt64/1000 {
		return bad()
	}
	if unit == unitEX || unit == unitEXAT {
		n *= 1000
	}
	if unit == unitEX || unit == unitPX {
		if n > math.MaxInt64-c.Now() {
			return bad()
		}
		n += c.Now()
	}
	if n <= 0 {
		return bad()
	}
	return n, true
}

func expireUnit(a []byte) int {
	switch {
	case EqualFold(a, "ex"):
		return unitEX
	case EqualFold(a, "px"):
		return unitPX
	case EqualFold(a, "exat"):
		return unitEXAT
	case EqualFold(a, "pxat"):
		return unitPXAT
	}
	return unitNone
}

// setOpts are SET's and GETEX's parsed options.
type setOpts struct {
	nx, xx, get, keepTTL, persist bool
	unit                          int
	expArg                        []byte
}

// parseSetOpts parses options from args[from:] as Redis's
// parseExtendedStringArgumentsOrReply does; isGet selects GETEX's set.
func parseSetOpts(c *command.Ctx, from int, isGet bool) (o setOpts, ok bool) {
	args := c.Args
	for i := from; i < len(args); i++ {
		a := args[i]
		hasNext := i+1 < len(args)
		switch u := expireUnit(a); {
		case !isGet && EqualFold(a, "nx") && !o.xx:
			o.nx = true
		case !isGet && EqualFold(a, "xx") && !o.nx:
			o.xx = true
		case !isGet && EqualFold(a, "get"):
			o.get = true
		case !isGet && EqualFold(a, "keepttl") && !o.persist && o.unit == unitNone:
			o.keepTTL = true
		case isGet && EqualFold(a, "persist") && o.unit == unitNone && !o.keepTTL:
			o.persist = true
		case u != unitNone && !o.keepTTL && !o.persist && (o.unit == unitNone || o.unit == u) && hasNext:
			o.unit = u
			o.expArg = args[i+1]
			i++
		default:
			c.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

func (h *Handlers) set(c *command.Ctx) {
	if len(c.Args) == 3 {
		// SET key value, without options (redis-benchmark's SET): what
		// setGeneric does with no options, without parsing them
		key := c.Args[1]
		c.DB.SetStringCond(key, c.Args[2], 0, false, false)
		c.Modified(key)
		c.Event('$', "set", key)
		c.W.OK()
		return
	}
	o, ok := parseSetOpts(c, 3, false)
	if !ok {
		return
	}
	h.setGeneric(c, o, c.Args[1], c.Args[2], "set", false)
}

// setGeneric is Redis's setGenericCommand. intReply makes SETNX reply 1/0.
func (h *Handlers) setGeneric(c *command.Ctx, o setOpts, key, val []byte, cmd string, intReply bool) {
	var exp int64
	if o.unit != unitNone {
		var ok bool
		if exp, ok = expireArg(c, o.unit, o.expArg, cmd); !ok {
			return
		}
	}
	var old []byte
	var found bool
	if o.get {
		var ok bool
		saved := readingView(c)
		old, found, ok = getString(c, key)
		c.DB = saved
		if !ok {
			return
		}
		writeOld(c, old, found)
	} else if o.keepTTL {
		found = c.DB.Exists(key)
	} else {
		// the common SET: one lookup finds the key and stores the copy
		// of val (it aliases the connection's read buffer)
		var stored bool
		if found, stored = c.DB.SetStringCond(key, val, exp, o.nx, o.xx); !stored {
			if intReply {
				c.W.Int(0)
			} else {
				c.W.Null()
			}
			return
		}
	}
	if o.get || o.keepTTL {
		if o.nx && found || o.xx && !found {
			if !o.get {
				if intReply {
					c.W.Int(0)
				} else {
					c.W.Null()
				}
			}
			return
		}
		// the store copies val (it aliases the connection's read buffer)
		if o.keepTTL {
			c.DB.SetKeepTTL(key, val[:len(val):len(val)])
		} else {
			c.DB.SetString(key, val, exp)
		}
	}
	c.Modified(key)
	c.Event('$', "set", key)
	if exp != 0 {
		// propagate with an absolute time so that replay is deterministic
		c.Propagate = [][][]byte{{[]byte("SET"), key, val, []byte("PXAT"), []byte(strconv.FormatInt(exp, 10))}}
		c.Event('g', "expire", key)
	} else if o.get {
		// propagate without GET
		cmdv := make([][]byte, 3, len(c.Args))
		copy(cmdv, c.Args[:3])
		for _, a := range c.Args[3:] {
			if !EqualFold(a, "get") {
				cmdv = append(cmdv, a)
			}
		}
		c.Propagate = [][][]byte{cmdv}
	}
	if o.get {
		return
	}
	if intReply {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

func writeOld(c *command.Ctx, old []byte, found bool) {
	if !found {
		c.W.Null()
	} else {
		c.W.Bulk(old)
	}
}

func (h *Handlers) setnx(c *command.Ctx) {
	h.setGeneric(c, setOpts{nx: true}, c.Args[1], c.Args[2], "setnx", true)
}

func (h *Handlers) setex(c *command.Ctx) {
	h.setGeneric(c, setOpts{unit: unitEX, expArg: c.Args[2]}, c.Args[1], c.Args[3], "setex", false)
}

func (h *Handlers) psetex(c *command.Ctx) {
	h.setGeneric(c, setOpts{unit: unitPX, expArg: c.Args[2]}, c.Args[1], c.Args[3], "psetex", false)
}

func (h *Handlers) getset(c *command.Ctx) {
	key := c.Args[1]
	saved := readingView(c)
	old, found, ok := getString(c, key)
	c.DB = saved
	if !ok {
		return
	}
	writeOld(c, old, found)
	c.DB.SetString(key, c.Args[2], 0) // copies
	c.Modified(key)
	c.Event('$', "set", key)
	c.Propagate = [][][]byte{{[]byte("SET"), key, c.Args[2]}}
}

func (h *Handlers) getdel(c *command.Ctx) {
	key := c.Args[1]
	saved := readingView(c)
	v, found, ok := getString(c, key)
	c.DB = saved
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	c.W.Bulk(v)
	c.DB.Delete(key)
	c.Modified(key)
	c.Event('g', "del", key)
	// propagated as DEL (UNLINK with lazyfree-lazy-user-del), as Redis's
	// getdelCommand rewrites it
	del := "DEL"
	if h.Config.Bool("lazyfree-lazy-user-del") {
		del = "UNLINK"
	}
	c.Propagate = [][][]byte{{[]byte(del), key}}
}

func (h *Handlers) getex(c *command.Ctx) {
	key := c.Args[1]
	o, ok := parseSetOpts(c, 2, true)
	if !ok {
		return
	}
	saved := readingView(c)
	v, found, ok := getString(c, key)
	c.DB = saved
	if !ok {
		return
	}
	if !found {
		c.W.Null()
		return
	}
	var exp int64
	if o.unit != unitNone {
		if exp, ok = expireArg(c, o.unit, o.expArg, "getex"); !ok {
			return
		}
	}
	c.W.Bulk(v)
	switch {
	case (o.unit == unitEXAT || o.unit == unitPXAT) && exp <= c.Now():
		c.DB.Delete(key)
		c.Modified(key)
		// UNLINK under lazyfree-lazy-expire, as Redis's getexCommand
		c.Propagate = [][][]byte{{c.DB.Store().PropagatedDel(keyspace.LazyExpire), key}}
		c.Event('g', "del", key)
	case o.unit != unitNone:
		c.DB.SetExpire(key, exp)
		c.Modified(key)
		c.Propagate = [][][]byte{{[]byte("PEXPIREAT"), key, []byte(strconv.FormatInt(exp, 10))}}
		c.Event('g', "expire", key)
	case o.persist:
		if e, _ := c.DB.Peek(key); e.Exp != 0 { // getString recorded the access
			c.DB.SetExpire(key, 0)
			c.Modified(key)
			c.Propagate = [][][]byte{{[]byte("PERSIST"), key}}
			c.Event('g', "persist", key)
		}
	}
}

func (h *Handlers) mget(c *command.Ctx) {
	// a key named many times makes a reply of many copies of its value:
	// past the client's output limit the lookups go on (their statistics
	// and expiries, as Redis's), the reply stops growing
	g := c.ReplyGuard(0)
	stopped := false
	c.W.Array(len(c.Args) - 1)
	for _, k := range c.Args[1:] {
		v, found, err := c.DB.GetString(k)
		if stopped {
			continue
		}
		if err != nil || !found {
			c.W.Null()
		} else {
			c.W.Bulk(v)
		}
		stopped = g.Stop(c, "")
	}
}

func (h *Handlers) mset(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error("ERR wrong number of arguments for 'mset' command")
		return
	}
	h.msetPairs(c)
	c.W.OK()
}

func (h *Handlers) msetPairs(c *command.Ctx) {
	for i := 1; i+1 < len(c.Args); i += 2 {
		// SET's store (Redis's setKey: an expired key is deleted first; a
		// value of the old one's length is written in place); it copies
		c.DB.SetStringCond(c.Args[i], c.Args[i+1], 0, false, false)
		c.Modified(c.Args[i])
		c.Event('$', "set", c.Args[i])
	}
}

func (h *Handlers) msetnx(c *command.Ctx) {
	if len(c.Args)%2 == 0 {
		c.Error("ERR wrong number of arguments for 'msetnx' command")
		return
	}
	for i := 1; i < len(c.Args); i += 2 {
		if c.DB.Exists(c.Args[i]) {
			c.W.Int(0)
			return
		}
	}
	h.msetPairs(c)
	c.W.Int(1)
}

// maxBulk is proto-max-bulk-len, the largest string a command may build.
func (h *Handlers) maxBulk() int64 {
	if h.Config == nil {
		return 512 << 20
	}
	return h.Config.Int("proto-max-bulk-len")
}

func (h *Handlers) appendCmd(c *command.Ctx) {
	key, add := c.Args[1], c.Args[2]
	v, found, ok := getString(c, key)
	if !ok {
		return
	}
	var nv []byte
	if !found {
		nv = Copy(add)
	} else {
		if int64(len(v))+int64(len(add)) > h.maxBulk() {
			c.Error(errStringSize)
			return
		}
		if cap(v)-len(v) > len(add) {
			// grown in place before: the value is ours to extend (keeping
			// one spare byte, which is what marks it raw)
			nv = append(v, add...)
		} else {
			nv = growString(v, len(v)+len(add))
			nv = append(nv, add...)
		}
	}
	c.DB.SetKeepTTL(key, nv)
	c.Modified(key)
	c.Event('$', "append", key)
	c.W.Int(int64(len(nv)))
}

func (h *Handlers) strlen(c *command.Ctx) {
	v, _, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Int(int64(len(v)))
}

func (h *Handlers) getrange(c *command.Ctx) {
	start, ok1 := ParseInt(c.Args[2])
	end, ok2 := ParseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.Error(ErrNotInt)
		return
	}
	v, found, ok := getString(c, c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.W.Bulk(nil)
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.W.Bulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.Bulk(nil)
		return
	}
	c.W.Bulk(v[start : end+1])
}

func (h *Handlers) setrange(c *command.Ctx) {
	key, val := c.Args[1], c.Args[3]
	off, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if off < 0 {
		c.Error(errOffsetRange)
		return
	}
	v, found, ok := getString(c, key)
	if !ok {
		return
	}
	if len(val) == 0 {
		c.W.Int(int64(len(v)))
		return
	}
	if off > h.maxBulk()-int64(len(val)) { // off+len(val) may overflow
		c.Error(errStringSize)
		return
	}
	need := int(off) + len(val)
	// always a fresh copy: the old value may be shared (replies, COPY)
	size := len(v)
	if need > size {
		size = need
	}
	var nv []byte
	switch {
	case !found:
		// Redis: a new raw string of exactly this length (the one spare
		// byte only marks it raw)
		nv = make([]byte, size, size+1)
	case need > len(v):
		nv = growString(v, size)[:size]
	default:
		nv = rawString(v, 1) // an unshared raw copy of the same length
	}
	copy(nv, v)
	copy(nv[off:], val)
	c.DB.SetKeepTTL(key, nv)
	c.Modified(key)
	c.Event('$', "setrange", key)
	c.W.Int(int64(len(nv)))
}

func (h *Handlers) incr(c *command.Ctx) { h.incrDecr(c, 1) }
func (h *Handlers) decr(c *command.Ctx) { h.incrDecr(c, -1) }

func (h *Handlers) incrby(c *command.Ctx) {
	n, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	h.incrDecr(c, n)
}

func (h *Handlers) decrby(c *command.Ctx) {
	n, ok := ParseInt(c.Args[2])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if n == math.MinInt64 {
		c.Error(errDecrOverflw)
		return
	}
	h.incrDecr(c, -n)
}

func (h *Handlers) incrDecr(c *command.Ctx, by int64) {
	key := c.Args[1]
	v, slot, found, err := c.DB.GetStringSlot(key) // one lookup for the read and the write
	if err != nil {
		c.Error(ErrWrongType)
		return
	}
	var cur int64
	if found {
		var ok bool
		if cur, ok = ParseInt(v); !ok {
			c.Error(ErrNotInt)
			return
		}
	}
	if by < 0 && cur < 0 && by < math.MinInt64-cur || by > 0 && cur > 0 && by > math.MaxInt64-cur {
		c.Error(ErrOverflow)
		return
	}
	n := cur + by
	// stored with cap == len so OBJECT ENCODING says "int"
	var tmp [20]byte
	c.DB.SetStringKeepTTLAt(slot, key, strconv.AppendInt(tmp[:0], n, 10))
	c.Modified(key)
	c.Event('$', "incrby", key)
	c.W.Int(n)
}

func (h *Handlers) incrbyfloat(c *command.Ctx) {
	key := c.Args[1]
	v, found, ok := getString(c, key)
	if !ok {
		return
	}
	cur := NewLongDouble()
	if found {
		if cur, ok = ParseLongDouble(v); !ok {
			c.Error(ErrNotFloat)
			return
		}
	}
	incr, ok := ParseLongDouble(c.Args[2])
	if !ok {
		c.Error(ErrNotFloat)
		return
	}
	sum, ok := cur.Add(incr)
	if !ok {
		c.Error(errNaNInf)
		return
	}
	s := []byte(sum.Format())
	s = s[:len(s):len(s)]
	c.DB.SetKeepTTL(key, s)
	c.DB.MarkEmbstr(key) // Redis stores the string unencoded: "6" is embstr
	c.Modified(key)
	c.Event('$', "incrbyfloat", key)
	c.Propagate = [][][]byte{{[]byte("SET"), key, s, []byte("KEEPTTL")}}
	c.W.Bulk(s)
}

// lcsRange is one IDX match: byte ranges in a and b.
type lcsRange struct{ a0, a1, b0, b1 int }

func (h *Handlers) lcs(c *command.Ctx) {
	ea, okA := c.DB.Lookup(c.Args[1])
	eb, okB := c.DB.Lookup(c.Args[2])
	var a, b []byte
	if okA {
		s, isStr := ea.Str()
		if !isStr {
			c.Error(errLCSType)
			return
		}
		a = s
	}
	if okB {
		s, isStr := eb.Str()
		if !isStr {
			c.Error(errLCSType)
			return
		}
		b = s
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for j := 3; j < len(c.Args); j++ {
		opt := c.Args[j]
		switch {
		case EqualFold(opt, "idx"):
			getIdx = true
		case EqualFold(opt, "len"):
			getLen = true
		case EqualFold(opt, "withmatchlen"):
			withLen = true
		case EqualFold(opt, "minmatchlen") && j+1 < len(c.Args):
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				n = 0
			}
			minLen = n
			j++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.Error(errLCSBoth)
		return
	}
	alen, blen := len(a), len(b)
	if int64(alen+1)*int64(blen+1)*4 > h.maxBulk() {
		c.Error(errLCSMemory)
		return
	}
	w := blen + 1
	tab := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				tab[i*w+j] = tab[(i-1)*w+j-1] + 1
			} else {
				l1, l2 := tab[(i-1)*w+j], tab[i*w+j-1]
				if l1 > l2 {
					tab[i*w+j] = l1
				} else {
					tab[i*w+j] = l2
				}
			}
		}
	}
	total := int(tab[alen*w+blen])
	if getLen {
		c.W.Int(int64(total))
		return
	}
	// walk back as Redis does, collecting the string and the ranges
	result := make([]byte, total)
	idx := total
	var ranges []lcsRange
	as, ae, bs, be := alen, 0, 0, 0 // as == alen: no current range
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if as == alen {
				as, ae, bs, be = i-1, i-1, j-1, j-1
			} else if as == i && bs == j {
				as--
				bs--
			} else {
				emit = true
			}
			if as == 0 || bs == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if tab[(i-1)*w+j] > tab[i*w+j-1] {
				i--
			} else {
				j--
			}
			if as != alen {
				emit = true
			}
		}
		if emit {
			if minLen == 0 || int64(ae-as+1) >= minLen {
				ranges = append(ranges, lcsRange{as, ae, bs, be})
			}
			as = alen
		}
	}
	if !getIdx {
		c.W.Bulk(result)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	c.W.Array(len(ranges))
	for _, r := range ranges {
		if withLen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(int64(r.a0))
		c.W.Int(int64(r.a1))
		c.W.Array(2)
		c.W.Int(int64(r.b0))
		c.W.Int(int64(r.b1))
		if withLen {
			c.W.Int(int64(r.a1 - r.a0 + 1))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(total))
}
