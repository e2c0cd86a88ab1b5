package commands

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Stream error replies (Redis 7.0 texts).
const (
	errInvalidStreamID = "ERR Invalid stream ID specified as stream command argument"
	errXAddTopItem     = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errXAddZero        = "ERR The ID specified in XADD must be greater than 0-0"
	errXAddExhausted   = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errXAddTooLarge    = "ERR Elements are too large to be stored"
	errBusyGroup       = "BUSYGROUP Consumer Group name already exists"
	errInvalidStart    = "ERR invalid start ID for the interval"
	errInvalidEnd      = "ERR invalid end ID for the interval"
	errXGroupNoKey     = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
	errBlockedNoGroup  = "NOGROUP the consumer group this client was blocked on no longer exists"
	errBlockedNoKey    = "UNBLOCKED the stream key no longer exists"
)

func (h *Handlers) registerStreams() {
	t := h.Table
	t.Handle("xadd", h.xadd)
	t.Handle("xlen", h.xlen)
	t.Handle("xrange", h.xrange)
	t.Handle("xrevrange", h.xrevrange)
	t.Handle("xdel", h.xdel)
	t.Handle("xtrim", h.xtrim)
	t.Handle("xread", h.xread)
	t.Handle("xreadgroup", h.xread)
	t.Handle("xack", h.xack)
	t.Handle("xpending", h.xpending)
	t.Handle("xclaim", h.xclaim)
	t.Handle("xautoclaim", h.xautoclaim)
	t.Handle("xsetid", h.xsetid)
	for _, sub := range []string{"create", "setid", "destroy", "createconsumer", "delconsumer"} {
		t.Handle("xgroup|"+sub, h.xgroup)
	}
	t.Handle("xgroup|help", h.xgroupHelp)
	for _, sub := range []string{"stream", "groups", "consumers"} {
		t.Handle("xinfo|"+sub, h.xinfo)
	}
	t.Handle("xinfo|help", h.xinfoHelp)
}

// string2ull mirrors Redis's string2ull: a strict signed 64-bit integer
// that must not be negative, else C's strtoull (leading spaces, a sign,
// leading zeros; '-' negates modulo 2^64).
func string2ull(b []byte) (uint64, bool) {
	if n, ok := ParseInt(b); ok {
		if n < 0 {
			return 0, false
		}
		return uint64(n), true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseStreamID parses an ID argument as Redis's
// streamGenericParseIDOrReply. strict rejects "-" and "+"; seqStar allows
// the "ms-*" form, reported by seqGiven false.
func parseStreamID(arg []byte, strict bool, missingSeq uint64, seqStar bool) (id keyspace.StreamID, seqGiven, ok bool) {
	if len(arg) > 127 {
		return id, false, false
	}
	for i, c := range arg { // the C code sees a NUL-terminated string
		if c == 0 {
			arg = arg[:i]
			break
		}
	}
	if len(arg) == 1 && (arg[0] == '-' || arg[0] == '+') {
		if strict {
			return id, false, false
		}
		if arg[0] == '-' {
			return keyspace.StreamID{}, true, true
		}
		return keyspace.MaxStreamID, true, true
	}
	msPart, seqPart, hasSeq := strings.Cut(string(arg), "-")
	ms, ok := string2ull([]byte(msPart))
	if !ok {
		return id, false, false
	}
	seq := missingSeq
	seqGiven = true
	if hasSeq {
		if seqStar && seqPart == "*" {
			seq, seqGiven = 0, false
		} else if seq, ok = string2ull([]byte(seqPart)); !ok {
			return id, false, false
		}
	}
	return keyspace.StreamID{Ms: ms, Seq: seq}, seqGiven, true
}

// strictID parses a strict ID, writing the error reply on failure.
func strictID(c *command.Ctx, arg []byte) (keyspace.StreamID, bool) {
	id, _, ok := parseStreamID(arg, true, 0, false)
	if !ok {
		c.Error(errInvalidStreamID)
	}
	return id, ok
}

// intervalID parses a range bound that may be exclusive ("(id").
func intervalID(c *command.Ctx, arg []byte, missingSeq uint64) (id keyspace.StreamID, excl, ok bool) {
	if len(arg) > 1 && arg[0] == '(' {
		id, _, ok = parseStreamID(arg[1:], true, missingSeq, false)
		excl = true
	} else {
		id, _, ok = parseStreamID(arg, false, missingSeq, false)
	}
	if !ok {
		c.Error(errInvalidStreamID)
	}
	return id, excl, ok
}

// rangeStart parses an inclusive/exclusive start bound.
func rangeStart(c *command.Ctx, arg []byte) (keyspace.StreamID, bool) {
	id, excl, ok := intervalID(c, arg, 0)
	if !ok {
		return id, false
	}
	if excl {
		if id, ok = id.Incr(); !ok {
			c.Error(errInvalidStart)
			return id, false
		}
	}
	return id, true
}

// rangeEnd parses an inclusive/exclusive end bound.
func rangeEnd(c *command.Ctx, arg []byte) (keyspace.StreamID, bool) {
	id, excl, ok := intervalID(c, arg, math.MaxUint64)
	if !ok {
		return id, false
	}
	if excl {
		if id, ok = id.Decr(); !ok {
			c.Error(errInvalidEnd)
			return id, false
		}
	}
	return id, true
}

// getStream returns the stream at key; ok is false when WRONGTYPE was
// written.
func getStream(c *command.Ctx, key []byte) (s *keyspace.Stream, ok bool) {
	v := c.DB.Get(key)
	if v == nil {
		return nil, true
	}
	s, isStream := v.(*keyspace.Stream)
	if !isStream {
		c.Error(ErrWrongType)
		return nil, false
	}
	return s, true
}

func writeID(w resp.ReplyWriter, id keyspace.StreamID) {
	var buf [48]byte
	w.Bulk(id.Append(buf[:0]))
}

func idBytes(id keyspace.StreamID) []byte { return id.Append(nil) }

func writeEntry(w resp.ReplyWriter, id keyspace.StreamID, fields [][]byte) {
	w.Array(2)
	writeID(w, id)
	w.Array(len(fields))
	for _, f := range fields {
		w.Bulk(f)
	}
}

// countRange counts entries in [start, end], up to limit (0: no limit).
func countRange(s *keyspace.Stream, start, end keyspace.StreamID, limit int64) int64 {
	var n int64
	s.Range(start, end, false, func(keyspace.StreamID, [][]byte) bool {
		n++
		return limit == 0 || n < limit
	})
	return n
}

// writeRange writes the entries in [start, end] (count 0: all) and calls
// each, if set, on every ID written. With a guard g, it stops writing
// once the client passes its output limit and reports it did: with no
// effect per entry (XRANGE, XREAD, XINFO STREAM FULL) the range stops
// there, else (XREADGROUP) each is still called on every entry of the
// range, as Redis's streamReplyWithRange updates the group for entries
// whose replies its closing client no longer gets.
func writeRange(w resp.ReplyWriter, s *keyspace.Stream, start, end keyspace.StreamID, count int64, rev bool, each func(keyspace.StreamID), g *command.ReplyGuard) (stopped bool) {
	n := countRange(s, start, end, count)
	w.Array(int(n))
	var k int64
	if n == 0 {
		return false
	}
	s.Range(start, end, rev, func(id keyspace.StreamID, f [][]byte) bool {
		if !stopped {
			writeEntry(w, id, f)
		}
		if each != nil {
			each(id)
		}
		k++
		if !stopped && g.Over() {
			stopped = true
			if each == nil {
				return false
			}
		}
		return k < n
	})
	return stopped
}

// writeOneEntry writes entry id, or reports false if it does not exist.
func writeOneEntry(w resp.ReplyWriter, s *keyspace.Stream, id keyspace.StreamID) bool {
	found := false
	s.Range(id, id, false, func(id keyspace.StreamID, f [][]byte) bool {
		writeEntry(w, id, f)
		found = true
		return false
	})
	return found
}

func (h *Handlers) streamNodeLimits() (int, int) {
	if h.Config == nil {
		return keyspace.DefaultStreamNodeEntries, keyspace.DefaultStreamNodeBytes
	}
	return int(h.Config.Int("stream-node-max-entries")), int(h.Config.Int("stream-node-max-bytes"))
}

// trimArgs are the parsed MAXLEN/MINID/LIMIT options of XADD and XTRIM.
type trimArgs struct {
	strategy   byte // 0, 'm' (MAXLEN) or 'i' (MINID)
	maxLen     int64
	minID      keyspace.StreamID
	approx     bool
	limit      int64
	limitGiven bool
	argIdx     int // index of the MAXLEN/MINID value
	limitIdx   int // index of the LIMIT keyword, 0 if none
	// XADD only
	noMkStream bool
	idGiven    bool
	seqGiven   bool
	id         keyspace.StreamID
	idIdx      int
}

// parseAddTrim parses XADD/XTRIM options as Redis's
// streamParseAddOrTrimArgsOrReply; it writes the error reply on failure.
func (h *Handlers) parseAddTrim(c *command.Ctx, xadd bool) (trimArgs, bool) {
	var a trimArgs
	args := c.Args
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			a.idIdx = i
			goto done
		case EqualFold(opt, "maxlen") && more > 0, EqualFold(opt, "minid") && more > 0:
			if a.strategy != 0 {
				c.Error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return a, false
			}
			isMax := EqualFold(opt, "maxlen")
			a.approx = false
			next := args[i+1]
			if more >= 2 && len(next) == 1 && next[0] == '~' {
				a.approx = true
				i++
			} else if more >= 2 && len(next) == 1 && next[0] == '=' {
				i++
			}
			if isMax {
				n, ok := ParseInt(args[i+1])
				if !ok {
					c.Error(ErrNotInt)
					return a, false
				}
				if n < 0 {
					c.Error("ERR The MAXLEN argument must be >= 0.")
					return a, false
				}
				a.maxLen = n
				a.strategy = 'm'
			} else {
				id, ok := strictID(c, args[i+1])
				if !ok {
					return a, false
				}
				a.minID = id
				a.strategy = 'i'
			}
			i++
			a.argIdx = i
		case EqualFold(opt, "limit") && more > 0:
			n, ok := ParseInt(args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return a, false
			}
			if n < 0 {
				c.Error("ERR The LIMIT argument must be >= 0.")
				return a, false
			}
			a.limit, a.limitGiven, a.limitIdx = n, true, i
			i++
		case xadd && EqualFold(opt, "nomkstream"):
			a.noMkStream = true
		case xadd:
			id, seqGiven, ok := parseStreamID(opt, true, 0, true)
			if !ok {
				c.Error(errInvalidStreamID)
				return a, false
			}
			a.id, a.seqGiven, a.idGiven, a.idIdx = id, seqGiven, true, i
			goto done
		default:
			c.Error(ErrSyntax)
			return a, false
		}
	}
	a.idIdx = i
done:
	if a.limit != 0 && a.strategy == 0 {
		c.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return a, false
	}
	if !xadd && a.strategy == 0 {
		c.Error("ERR syntax error, XTRIM must be called with a trimming strategy")
		return a, false
	}
	if a.limitGiven {
		if !a.approx {
			c.Error("ERR syntax error, LIMIT cannot be used without the special ~ option")
			return a, false
		}
	} else if a.approx {
		n, _ := h.streamNodeLimits()
		a.limit = 100 * int64(n)
	} else {
		a.limit = 0
	}
	return a, true
}

func (a *trimArgs) trim(s *keyspace.Stream) int64 {
	switch a.strategy {
	case 'm':
		return s.TrimMaxLen(a.maxLen, a.approx, a.limit)
	case 'i':
		return s.TrimMinID(a.minID, a.approx, a.limit)
	}
	return 0
}

// rewriteTrim returns args with an approximate trim made exact, as Redis
// rewrites XADD/XTRIM for replication: "~" becomes "=", the threshold is
// what was actually kept, and LIMIT is dropped.
func rewriteTrim(args [][]byte, a *trimArgs, s *keyspace.Stream) [][]byte {
	out := make([][]byte, 0, len(args))
	for i := 0; i < len(args); i++ {
		switch {
		case a.limitIdx != 0 && i == a.limitIdx:
			i++
			continue
		case i == a.argIdx-1:
			out = append(out, []byte("="))
		case i == a.argIdx:
			if a.strategy == 'm' {
				out = append(out, []byte(strconv.FormatInt(s.Len(), 10)))
			} else {
				out = append(out, idBytes(s.FirstID))
			}
		default:
			out = append(out, args[i])
		}
	}
	return out
}

func (h *Handlers) xadd(c *command.Ctx) {
	a, ok := h.parseAddTrim(c, true)
	if !ok {
		return
	}
	fieldPos := a.idIdx + 1
	nf := len(c.Args) - fieldPos
	if nf < 2 || nf%2 == 1 {
		c.Error("ERR wrong number of arguments for 'xadd' command")
		return
	}
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		c.Error(errXAddZero)
		return
	}
	key := c.Args[1]
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	if s == nil {
		if a.noMkStream {
			c.W.Null()
			return
		}
		s = keyspace.NewStream()
		c.DB.Set(key, s, 0)
	}
	if s.LastID == keyspace.MaxStreamID {
		c.Error(errXAddExhausted)
		return
	}
	var id keyspace.StreamID
	switch {
	case a.idGiven && a.seqGiven:
		id = a.id
	case a.idGiven:
		if s.LastID.Ms == a.id.Ms {
			if s.LastID.Seq == math.MaxUint64 {
				c.Error(errXAddTooLarge)
				return
			}
			id = keyspace.StreamID{Ms: s.LastID.Ms, Seq: s.LastID.Seq + 1}
		} else {
			id = a.id
		}
	default:
		now := c.Now()
		if now > 0 && uint64(now) > s.LastID.Ms {
			id = keyspace.StreamID{Ms: uint64(now)}
		} else {
			id, _ = s.LastID.Incr()
		}
	}
	if !s.LastID.Less(id) {
		c.Error(errXAddTopItem)
		return
	}
	if streamElementsTooLarge(c.Args[fieldPos:]) {
		c.Error(errXAddTooLarge) // the stream created above stays, empty, as in Redis
		return
	}
	maxEntries, maxBytes := h.streamNodeLimits()
	s.Append(id, c.Args[fieldPos:], maxEntries, maxBytes)
	writeID(c.W, id)
	c.Modified(key)
	h.added(c, key) // XADD signals waiters on an existing stream
	c.Event('t', "xadd", key)
	prop := c.Args
	if !a.idGiven || !a.seqGiven {
		prop = append([][]byte(nil), c.Args...)
		prop[a.idIdx] = idBytes(id)
	}
	if a.strategy != 0 {
		if a.trim(s) > 0 {
			c.Event('t', "xtrim", key)
		}
		if a.approx {
			prop = rewriteTrim(prop, &a, s)
		}
	}
	if len(prop) != len(c.Args) || &prop[0] != &c.Args[0] {
		c.Propagate = [][][]byte{prop}
	}
}

// streamListpackMaxSize is Redis's STREAM_LISTPACK_MAX_SIZE: the most
// bytes of fields and values one stream entry may hold (a listpack's
// lengths are 32-bit).
const streamListpackMaxSize = 1 << 30

// streamElementsTooLarge reports whether the fields and values of an
// entry add up to more than streamListpackMaxSize bytes: Redis 7.0's
// streamAppendItem then fails (ERANGE) and XADD answers errXAddTooLarge,
// after the ID checks.
func streamElementsTooLarge(elems [][]byte) bool {
	n := 0
	for _, e := range elems {
		n += len(e)
	}
	return n > streamListpackMaxSize
}

func (h *Handlers) xlen(c *command.Ctx) {
	s, ok := getStream(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(s.Len())
}

func (h *Handlers) xrange(c *command.Ctx)    { h.xrangeGeneric(c, false) }
func (h *Handlers) xrevrange(c *command.Ctx) { h.xrangeGeneric(c, true) }

func (h *Handlers) xrangeGeneric(c *command.Ctx, rev bool) {
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := rangeStart(c, startArg)
	if !ok {
		return
	}
	end, ok := rangeEnd(c, endArg)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if EqualFold(c.Args[j], "count") && j+1 < len(c.Args) {
			n, ok := ParseInt(c.Args[j+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				n = 0
			}
			count = n
			j++
		} else {
			c.Error(ErrSyntax)
			return
		}
	}
	s, ok := getStream(c, c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.W.Array(0)
		return
	}
	if count == 0 {
		c.W.NullArray()
		return
	}
	if count == -1 {
		count = 0
	}
	g := c.ReplyGuard(0) // bounded by the stream; stopped by the output limit
	writeRange(c.W, s, start, end, count, rev, nil, &g)
}

// strictIDs parses every argument with strictID: all are checked before
// anything changes (XDEL, XACK), and the first bad one gets the error.
func strictIDs(c *command.Ctx, args [][]byte) ([]keyspace.StreamID, bool) {
	ids := make([]keyspace.StreamID, 0, len(args))
	for _, a := range args {
		id, ok := strictID(c, a)
		if !ok {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

func (h *Handlers) xdel(c *command.Ctx) {
	key := c.Args[1]
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	ids, ok := strictIDs(c, c.Args[2:])
	if !ok {
		return
	}
	n := 0
	for _, id := range ids {
		if s.Delete(id) {
			n++
		}
	}
	if n > 0 {
		c.Modified(key)
		c.Dirty += n - 1
		c.Event('t', "xdel", key)
	}
	c.W.Int(int64(n))
}

func (h *Handlers) xtrim(c *command.Ctx) {
	a, ok := h.parseAddTrim(c, false)
	if !ok {
		return
	}
	key := c.Args[1]
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	if s == nil {
		c.W.Int(0)
		return
	}
	n := a.trim(s)
	if n > 0 {
		c.Event('t', "xtrim", key)
		if a.approx {
			c.Propagate = [][][]byte{rewriteTrim(c.Args, &a, s)}
		}
		c.Modified(key)
		c.Dirty += int(n) - 1
	}
	c.W.Int(n)
}

// xsetid implements XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
func (h *Handlers) xsetid(c *command.Ctx) {
	id, ok := strictID(c, c.Args[2])
	if !ok {
		return
	}
	entriesAdded := int64(-1)
	var maxDel keyspace.StreamID
	for i := 3; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		switch {
		case EqualFold(c.Args[i], "entriesadded") && more > 0:
			n, ok := ParseInt(c.Args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				c.Error("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
			i++
		case EqualFold(c.Args[i], "maxdeletedid") && more > 0:
			m, ok := strictID(c, c.Args[i+1])
			if !ok {
				return
			}
			if id.Less(m) {
				c.Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
			maxDel = m
			i++
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	key := c.Args[1]
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	if s == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	if s.Len() > 0 {
		if id.Less(s.LastValidID()) {
			c.Error("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if entriesAdded != -1 && s.Len() > entriesAdded {
			c.Error("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	s.LastID = id
	if entriesAdded != -1 {
		s.EntriesAdded = entriesAdded
	}
	if !maxDel.IsZero() {
		s.MaxDeletedID = maxDel
	}
	// Redis 7.0's xsetidCommand only counts the change: no
	// signalModifiedKey, so no WATCH abort and no invalidation
	// (and, as Redis, the reply before the event)
	c.Dirty++
	c.W.OK()
	c.Event('t', "xsetid", key)
}

// xStream is one key of an XREAD/XREADGROUP.
type xStream struct {
	key   []byte
	s     *keyspace.Stream
	group *keyspace.Group
	id    keyspace.StreamID // entries must be greater than this
	gt    bool              // ">" (XREADGROUP new entries)
	// newCons: XREADGROUP created its consumer; the event goes out
	// after the stream's name in the reply, as Redis sends it
	newCons bool
	idx     int // index of the ID argument
}

// xread implements XREAD and XREADGROUP.
func (h *Handlers) xread(c *command.Ctx) {
	group := len(c.Args[0]) == 10
	// a re-run for a parked client (a Client.Extra marker before: one
	// left behind by CLIENT UNBLOCK ERROR made the client's next
	// XREADGROUP answer as woken)
	rerun := c.Retry
	timeout := int64(-1)
	var count int64
	countGiven := false
	streamsArg := 0
	var groupName, consumerName []byte
	noack := false
	args := c.Args
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case EqualFold(o, "block") && more > 0:
			if c.InScript {
				c.Error(fmt.Sprintf("ERR %s command is not allowed with BLOCK option from scripts", args[0]))
				return
			}
			i++
			n, ok := ParseInt(args[i])
			if !ok {
				c.Error("ERR timeout is not an integer or out of range")
				return
			}
			if n < 0 {
				c.Error("ERR timeout is negative")
				return
			}
			if n > 0 {
				if n > math.MaxInt64-c.Now() {
					// Redis 7.0 adds the clock without an overflow
					// check (7.0 has no "timeout is out of range"): the
					// wrapped deadline never passes, so this blocks
					// until woken
					n = math.MaxInt64
				} else {
					n += c.Now()
				}
			}
			timeout = n
		case EqualFold(o, "count") && more > 0:
			i++
			n, ok := ParseInt(args[i])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				n = 0
			}
			count, countGiven = n, true
		case EqualFold(o, "streams") && more > 0:
			streamsArg = i + 1
			if (len(args)-streamsArg)%2 != 0 {
				c.Error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
				return
			}
			i = len(args)
		case EqualFold(o, "group") && more >= 2:
			if !group {
				c.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			groupName, consumerName = args[i+1], args[i+2]
			i += 2
		case EqualFold(o, "noack"):
			if !group {
				c.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			noack = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if streamsArg == 0 {
		c.Error(ErrSyntax)
		return
	}
	if group && groupName == nil {
		c.Error("ERR Missing GROUP option for XREADGROUP")
		return
	}
	nAll := (len(args) - streamsArg) / 2
	n, base := nAll, 0
	if rerun && c.Ready != nil {
		// woken: as Redis 7.0, only the stream that became ready is
		// served (with the ID of its first occurrence), in a reply of
		// one stream, and at most 1000 entries when COUNT was 0
		for k := 0; k < nAll; k++ {
			if string(args[streamsArg+k]) == string(c.Ready) {
				n, base = 1, k
				break
			}
		}
		if count == 0 {
			count = 1000
		}
	}
	streams := make([]xStream, n)
	for k := 0; k < n; k++ {
		st := &streams[k]
		st.key = args[streamsArg+base+k]
		st.idx = streamsArg + nAll + base + k
		var v any
		if group && !rerun {
			saved := readingView(c) // XREADGROUP's lookupKeyRead
			v = c.DB.Get(st.key)
			c.DB = saved
		} else {
			v = c.DB.Get(st.key)
		}
		if v != nil {
			s, isStream := v.(*keyspace.Stream)
			if !isStream {
				if rerun && group {
					c.Error(errBlockedNoKey)
					return
				}
				if !rerun {
					c.Error(ErrWrongType)
					return
				}
			} else {
				st.s = s
			}
		}
		if group {
			if st.s == nil && rerun {
				c.Error(errBlockedNoKey)
				return
			}
			if st.s != nil {
				st.group = st.s.Group(groupName)
			}
			if st.group == nil {
				if rerun {
					c.Error(errBlockedNoGroup)
				} else {
					c.Error(fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option", st.key, groupName))
				}
				return
			}
		}
		idArg := args[st.idx]
		switch {
		case len(idArg) == 1 && idArg[0] == '$':
			if group {
				c.Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
				return
			}
			if st.s != nil {
				st.id = st.s.LastID
			}
		case len(idArg) == 1 && idArg[0] == '>':
			if !group {
				c.Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			}
			st.gt = true
			st.id = keyspace.MaxStreamID
		default:
			id, ok := strictID(c, idArg)
			if !ok {
				return
			}
			st.id = id
			// Redis marks > with the maximal ID: naming that ID reads new
			// entries too
			st.gt = group && id == keyspace.MaxStreamID
		}
	}

	if !rerun {
		// Redis's xreadCommand looks every stream up again when it serves
		// them (lookupKeyRead): a second keyspace hit or miss, and keymiss
		saved := readingView(c)
		for k := range streams {
			c.DB.Get(streams[k].key)
		}
		c.DB = saved
	}

	// Decide which streams are served now, creating the consumers of those
	// served on the way.
	serve := make([]bool, n)
	served := 0
	var prop [][][]byte
	consumers := make([]*keyspace.Consumer, n)
	now := c.Now()
	// delivered is where each group read with ">" will be once the
	// streams before have been served: a stream named twice is served
	// twice only while the first read (with COUNT) left new entries.
	var delivered map[*keyspace.Group]keyspace.StreamID
	for k := range streams {
		st := &streams[k]
		if st.s == nil {
			continue
		}
		if group {
			if !st.gt {
				serve[k] = true
			} else {
				last, ok := delivered[st.group]
				if !ok {
					last = st.group.LastID
				}
				// woken, Redis 7.0 compares with the stream's last ID
				// (an entry trimmed away at once still serves, empty)
				if st.s.Len() > 0 && last.Less(st.s.LastValidID()) || rerun && last.Less(st.s.LastID) {
					serve[k] = true
					st.id = last
					if n > 1 {
						if delivered == nil {
							delivered = make(map[*keyspace.Group]keyspace.StreamID)
						}
						delivered[st.group] = nthAfter(st.s, last, count)
					}
				}
			}
			if !serve[k] {
				continue // Redis 7.0 creates the consumer only when it serves it
			}
			cons := st.group.Consumer(consumerName)
			if cons == nil {
				cons = st.group.CreateConsumer(consumerName, now)
				if c.Retry {
					// woken: Redis's serveClientBlockedOnKey creates it
					// before the reply
					c.Event('t', "xgroup-createconsumer", st.key)
				} else {
					st.newCons = true
				}
				prop = append(prop, [][]byte{[]byte("XGROUP"), []byte("CREATECONSUMER"), st.key, groupName, consumerName})
			}
			cons.SeenTime = now
			consumers[k] = cons
		} else if st.s.Len() > 0 && st.id.Less(st.s.LastValidID()) || rerun && st.id.Less(st.s.LastID) {
			serve[k] = true
		}
		if serve[k] {
			served++
		}
	}

	if served > 0 {
		guard := c.ReplyGuard(0)
		w := c.W // XREADGROUP's, replaced by a Discard once stopped
		if c.W.ProtoVersion() >= 3 {
			c.W.Map(served)
		} else {
			c.W.Array(served)
		}
		for k := range streams {
			if !serve[k] {
				continue
			}
			st := &streams[k]
			if c.W.ProtoVersion() < 3 {
				c.W.Array(2)
			}
			c.W.Bulk(st.key)
			if st.newCons {
				c.Event('t', "xgroup-createconsumer", st.key)
			}
			start, _ := st.id.Incr()
			if !group {
				// one stream's entries, and a stream named many times:
				// past the client's output limit the reply stops growing
				// (XREADGROUP goes on: its streams' reads change their
				// groups)
				if writeRange(c.W, st.s, start, keyspace.MaxStreamID, count, false, nil, &guard) || guard.Stop(c, "") {
					break
				}
				continue
			}
			// XREADGROUP: past the output limit the reads go on (they
			// change the groups), writing nothing, as Redis's replies
			// to a client to be closed add nothing
			stopped := false
			if !st.gt {
				stopped = h.servePEL(c, st, consumers[k], start, count, &guard)
			} else {
				prop, stopped = h.serveNew(c, st, consumers[k], start, count, noack, groupName, prop, &guard)
			}
			if stopped {
				c.W = resp.Discard{Proto: c.W.ProtoVersion()}
			}
		}
		c.W = w
	} else if timeout != -1 {
		inMulti := c.Client != nil && c.Client.Flags&command.ClientMulti != 0
		if inMulti || c.InScript {
			c.W.NullArray()
		} else {
			h.blockXRead(c, streams, timeout, countGiven)
		}
	} else {
		c.W.NullArray()
	}
	if group {
		// only the effects are propagated, never XREADGROUP itself
		c.Dirty += len(prop)
		c.Propagate = prop
		if c.Propagate == nil {
			c.Propagate = [][][]byte{}
		}
	}
}

// nthAfter returns the ID of the count-th entry of s after id (the last
// entry when count is 0 or there are fewer).
func nthAfter(s *keyspace.Stream, id keyspace.StreamID, count int64) keyspace.StreamID {
	start, _ := id.Incr()
	var seen int64
	s.Range(start, keyspace.MaxStreamID, false, func(e keyspace.StreamID, _ [][]byte) bool {
		id = e
		seen++
		return count == 0 || seen < count
	})
	return id
}

// servePEL writes a consumer's pending entries from start (XREADGROUP with
// an explicit ID), bumping their delivery counters. Once g reports the
// client over its output limit it stops writing, bumps the counters of
// the rest and reports it stopped.
func (h *Handlers) servePEL(c *command.Ctx, st *xStream, cons *keyspace.Consumer, start keyspace.StreamID, count int64, g *command.ReplyGuard) (stopped bool) {
	var pes []*keyspace.PendingEntry
	cons.PEL.Ascend(start, func(pe *keyspace.PendingEntry) bool {
		pes = append(pes, pe)
		return count == 0 || int64(len(pes)) < count
	})
	c.W.Array(len(pes))
	now := c.Now()
	for _, pe := range pes {
		var found bool
		if stopped {
			found = st.s.Exists(pe.ID)
		} else if found = writeOneEntry(c.W, st.s, pe.ID); !found {
			c.W.Array(2)
			writeID(c.W, pe.ID)
			c.W.NullArray()
		}
		if found {
			pe.DeliveryTime = now
			pe.DeliveryCount++
		}
		if !stopped {
			stopped = g.Over()
		}
	}
	return stopped
}

// serveNew delivers entries after start to a consumer (XREADGROUP ">"),
// updating the group and PELs, and returns prop extended with the
// commands that replay those effects. Once guard reports the client over
// its output limit it stops writing (the deliveries go on) and reports
// it stopped.
func (h *Handlers) serveNew(c *command.Ctx, st *xStream, cons *keyspace.Consumer, start keyspace.StreamID, count int64, noack bool, groupName []byte, prop [][][]byte, guard *command.ReplyGuard) ([][][]byte, bool) {
	g := st.group
	now := c.Now()
	moved := false
	stopped := writeRange(c.W, st.s, start, keyspace.MaxStreamID, count, false, func(id keyspace.StreamID) {
		if st.s.Deliver(g, id) {
			moved = true
		}
		if noack {
			return
		}
		pe := g.PEL.Get(id)
		if pe == nil {
			pe = &keyspace.PendingEntry{ID: id, DeliveryTime: now, DeliveryCount: 1, Consumer: cons}
			g.PEL.Insert(pe)
			cons.PEL.Insert(pe)
		} else {
			if pe.Consumer != nil {
				pe.Consumer.PEL.Delete(id)
			}
			pe.Consumer = cons
			pe.DeliveryTime = now
			pe.DeliveryCount = 1
			cons.PEL.Insert(pe)
		}
		cons.ActiveTime = now
		prop = append(prop, xclaimProp(st.key, groupName, g, pe))
	}, guard)
	if moved {
		prop = append(prop, setIDProp(st.key, groupName, g))
	}
	return prop, stopped
}

// blockXRead parks the client: $ IDs are resolved now and kept in the
// arguments the command is re-run with.
func (h *Handlers) blockXRead(c *command.Ctx, streams []xStream, timeout int64, countGiven bool) {
	args := make([][]byte, 0, len(c.Args)+2)
	args = append(args, Copy(c.Args[0]))
	if !countGiven {
		// as Redis, a blocked read is served at most 1000 entries
		args = append(args, []byte("COUNT"), []byte("1000"))
	}
	for _, a := range c.Args[1:] {
		args = append(args, Copy(a))
	}
	shift := len(args) - len(c.Args)
	keys := make([][]byte, len(streams))
	for k, st := range streams {
		keys[k] = Copy(st.key)
		if a := c.Args[st.idx]; len(a) == 1 && a[0] == '$' {
			args[st.idx+shift] = idBytes(st.id)
		}
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.UnixMilli(timeout)
	}
	c.Block = &command.BlockRequest{
		Keys:      keys,
		Deadline:  deadline,
		Args:      args,
		OnTimeout: replyNullArray,
		Type:      command.BlockStream,
		// a group reader is told when its stream goes away
		AnswersGone: len(c.Args[0]) == 10,
	}
}

// xclaimProp is the XCLAIM that reproduces a pending entry's state.
func xclaimProp(key, groupName []byte, g *keyspace.Group, pe *keyspace.PendingEntry) [][]byte {
	return [][]byte{[]byte("XCLAIM"), key, groupName, []byte(pe.Consumer.Name), []byte("0"),
		idBytes(pe.ID), []byte("TIME"), []byte(strconv.FormatInt(pe.DeliveryTime, 10)),
		[]byte("RETRYCOUNT"), []byte(strconv.FormatInt(pe.DeliveryCount, 10)),
		[]byte("FORCE"), []byte("JUSTID"), []byte("LASTID"), idBytes(g.LastID)}
}

// setIDProp is the XGROUP SETID that reproduces a group's position.
func setIDProp(key, groupName []byte, g *keyspace.Group) [][]byte {
	return [][]byte{[]byte("XGROUP"), []byte("SETID"), key, groupName, idBytes(g.LastID),
		[]byte("ENTRIESREAD"), []byte(strconv.FormatInt(g.EntriesRead, 10))}
}

func (h *Handlers) xack(c *command.Ctx) {
	saved := readingView(c) // lookupKeyRead
	s, ok := getStream(c, c.Args[1])
	c.DB = saved
	if !ok {
		return
	}
	var g *keyspace.Group
	if s != nil {
		g = s.Group(c.Args[2])
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	ids, ok := strictIDs(c, c.Args[3:])
	if !ok {
		return
	}
	n := 0
	for _, id := range ids {
		if g.Ack(id) {
			n++
		}
	}
	c.Dirty += n
	c.W.Int(int64(n))
}

func (h *Handlers) xpending(c *command.Ctx) {
	args := c.Args
	justInfo := len(args) == 3
	if len(args) != 3 && (len(args) < 6 || len(args) > 9) {
		c.Error(ErrSyntax)
		return
	}
	var start, end keyspace.StreamID
	var count, minIdle int64
	var consumerName []byte
	if len(args) >= 6 {
		si := 3
		if EqualFold(args[3], "idle") {
			n, ok := ParseInt(args[4])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			minIdle = n
			if len(args) < 8 {
				c.Error(ErrSyntax)
				return
			}
			si += 2
		}
		n, ok := ParseInt(args[si+2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		if n < 0 {
			n = 0
		}
		count = n
		if start, ok = rangeStart(c, args[si]); !ok {
			return
		}
		if end, ok = rangeEnd(c, args[si+1]); !ok {
			return
		}
		if si+3 < len(args) {
			consumerName = args[si+3]
		}
	}
	s, ok := getStream(c, args[1])
	if !ok {
		return
	}
	var g *keyspace.Group
	if s != nil {
		g = s.Group(args[2])
	}
	if g == nil {
		c.Error(fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s'", args[1], args[2]))
		return
	}
	if justInfo {
		c.W.Array(4)
		c.W.Int(int64(g.PEL.Len()))
		if g.PEL.Len() == 0 {
			c.W.Null()
			c.W.Null()
			c.W.NullArray()
			return
		}
		writeID(c.W, g.PEL.First().ID)
		writeID(c.W, g.PEL.Last().ID)
		var cs []*keyspace.Consumer
		for _, cons := range g.Consumers() {
			if cons.PEL.Len() > 0 {
				cs = append(cs, cons)
			}
		}
		c.W.Array(len(cs))
		g := c.ReplyGuard(0) // bounded by the consumers; stopped by the output limit
		for _, cons := range cs {
			c.W.Array(2)
			c.W.BulkString(cons.Name)
			c.W.BulkInt(int64(cons.PEL.Len()))
			if g.Over() {
				break
			}
		}
		return
	}
	pel := &g.PEL
	if consumerName != nil {
		cons := g.Consumer(consumerName)
		if cons == nil {
			c.W.Array(0)
			return
		}
		pel = &cons.PEL
	}
	now := c.Now()
	var pes []*keyspace.PendingEntry
	if count > 0 {
		pel.Ascend(start, func(pe *keyspace.PendingEntry) bool {
			if end.Less(pe.ID) {
				return false
			}
			if minIdle != 0 && now-pe.DeliveryTime < minIdle {
				return true
			}
			pes = append(pes, pe)
			return int64(len(pes)) < count
		})
	}
	c.W.Array(len(pes))
	guard := c.ReplyGuard(0) // bounded by the PEL; stopped by the output limit
	for _, pe := range pes {
		c.W.Array(4)
		writeID(c.W, pe.ID)
		c.W.BulkString(pe.Consumer.Name)
		el := now - pe.DeliveryTime
		if el < 0 {
			el = 0
		}
		c.W.Int(el)
		c.W.Int(pe.DeliveryCount)
		if guard.Over() {
			break
		}
	}
}

// claimTo moves pe to cons with the given delivery time.
func claimTo(g *keyspace.Group, pe *keyspace.PendingEntry, cons *keyspace.Consumer) {
	if pe.Consumer != cons {
		if pe.Consumer != nil {
			pe.Consumer.PEL.Delete(pe.ID)
		}
		cons.PEL.Insert(pe)
		pe.Consumer = cons
	}
}

func (h *Handlers) xclaim(c *command.Ctx) {
	args := c.Args
	key := args[1]
	saved := readingView(c) // lookupKeyRead
	s, ok := getStream(c, key)
	c.DB = saved
	if !ok {
		return
	}
	var g *keyspace.Group
	if s != nil {
		g = s.Group(args[2])
	}
	if g == nil {
		c.Error(fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s'", key, args[2]))
		return
	}
	minIdle, ok := ParseInt(args[4])
	if !ok {
		c.Error("ERR Invalid min-idle-time argument for XCLAIM")
		return
	}
	if minIdle < 0 {
		minIdle = 0
	}
	var ids []keyspace.StreamID
	j := 5
	for ; j < len(args); j++ {
		id, _, ok := parseStreamID(args[j], true, 0, false)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := c.Now()
	retry := int64(-1)
	delivery := int64(-1)
	force, justID := false, false
	var lastID keyspace.StreamID
	for ; j < len(args); j++ {
		more := len(args) - 1 - j
		o := args[j]
		switch {
		case EqualFold(o, "force"):
			force = true
		case EqualFold(o, "justid"):
			justID = true
		case EqualFold(o, "idle") && more > 0:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				c.Error("ERR Invalid IDLE option argument for XCLAIM")
				return
			}
			delivery = now - n
		case EqualFold(o, "time") && more > 0:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				c.Error("ERR Invalid TIME option argument for XCLAIM")
				return
			}
			delivery = n
		case EqualFold(o, "retrycount") && more > 0:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				c.Error("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				return
			}
			retry = n
		case EqualFold(o, "lastid") && more > 0:
			j++
			id, ok := strictID(c, args[j])
			if !ok {
				return
			}
			lastID = id
		default:
			c.Error(fmt.Sprintf("ERR Unrecognized XCLAIM option '%s'", o))
			return
		}
	}
	propLast := false
	if g.LastID.Less(lastID) {
		g.LastID = lastID
		propLast = true
	}
	if delivery != -1 {
		if delivery < 0 || delivery > now {
			delivery = now
		}
	} else {
		delivery = now
	}
	var prop [][][]byte
	var cons *keyspace.Consumer
	var out []keyspace.StreamID
	consAt := -1 // the consumer was created for out[consAt]
	for k, id := range ids {
		pe := g.PEL.Get(id)
		if !s.Exists(id) {
			if pe != nil {
				prop = append(prop, xclaimPropArg(key, args[2], g, pe, args[5+k]))
				propLast = false
				g.Ack(id)
			}
			continue
		}
		if force && pe == nil {
			pe = &keyspace.PendingEntry{ID: id, DeliveryCount: 1} // as Redis's streamCreateNACK
			g.PEL.Insert(pe)
		}
		if pe == nil {
			continue
		}
		if pe.Consumer != nil && minIdle != 0 && now-pe.DeliveryTime < minIdle {
			continue
		}
		if cons == nil {
			if cons = g.Consumer(args[3]); cons == nil {
				cons = g.CreateConsumer(args[3], now)
				consAt = len(out)
			}
			cons.SeenTime = now
		}
		pe.DeliveryTime = delivery
		if retry >= 0 {
			pe.DeliveryCount = retry
		} else if !justID {
			pe.DeliveryCount++
		}
		claimTo(g, pe, cons)
		cons.ActiveTime = now
		out = append(out, id)
		prop = append(prop, xclaimPropArg(key, args[2], g, pe, args[5+k]))
		propLast = false
	}
	if propLast {
		prop = append(prop, setIDProp(key, args[2], g))
	}
	c.W.Array(len(out))
	// the claims are made: past the output limit only the reply stops
	guard := c.ReplyGuard(0)
	for i, id := range out {
		if i == consAt {
			// Redis creates it in its loop, after the (deferred) header
			c.Event('t', "xgroup-createconsumer", key)
		}
		if justID {
			writeID(c.W, id)
		} else if !writeOneEntry(c.W, s, id) {
			c.W.Null()
		}
		if guard.Over() {
			if consAt > i {
				c.Event('t', "xgroup-createconsumer", key)
			}
			break
		}
	}
	c.Dirty += len(prop)
	c.Propagate = prop
	if prop == nil {
		c.Propagate = [][][]byte{}
	}
}

// xclaimPropArg is xclaimProp keeping the ID as the client spelled it.
func xclaimPropArg(key, groupName []byte, g *keyspace.Group, pe *keyspace.PendingEntry, idArg []byte) [][]byte {
	p := xclaimProp(key, groupName, g, pe)
	p[5] = idArg
	return p
}

func (h *Handlers) xautoclaim(c *command.Ctx) {
	args := c.Args
	key := args[1]
	// the key is looked up first, as in Redis's xautoclaimCommand (its
	// lookupKeyRead: a keyspace hit or miss, keymiss), its type checked
	// after the arguments
	saved := readingView(c)
	c.DB.Get(key)
	c.DB = saved
	minIdle, ok := ParseInt(args[4])
	if !ok {
		c.Error("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	if minIdle < 0 {
		minIdle = 0
	}
	start, ok := rangeStart(c, args[5])
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case EqualFold(args[j], "count") && more > 0:
			n, ok := ParseInt(args[j+1])
			if !ok || n < 1 || n > math.MaxInt64/10 {
				c.Error("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case EqualFold(args[j], "justid"):
			justID = true
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	var g *keyspace.Group
	if s != nil {
		g = s.Group(args[2])
	}
	if g == nil {
		c.Error(fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s'", key, args[2]))
		return
	}
	attempts := count * 10
	now := c.Now()
	var cons *keyspace.Consumer
	var claimed, deleted []keyspace.StreamID
	var prop [][][]byte
	consAt := -1 // the consumer was created for claimed[consAt]
	cur := start
	var next *keyspace.PendingEntry
	atEnd := false
	for {
		if attempts == 0 || count == 0 {
			if !atEnd {
				next = g.PEL.Seek(cur)
			}
			break
		}
		attempts--
		pe := g.PEL.Seek(cur)
		if pe == nil {
			break
		}
		id := pe.ID
		if nid, ok := id.Incr(); ok {
			cur = nid
		} else {
			attempts, atEnd = 0, true // the greatest ID: nothing follows
		}
		if !s.Exists(id) {
			prop = append(prop, xclaimProp(key, args[2], g, pe))
			g.Ack(id)
			deleted = append(deleted, id)
			count--
			continue
		}
		if minIdle != 0 && now-pe.DeliveryTime < minIdle {
			continue
		}
		if cons == nil {
			if cons = g.Consumer(args[3]); cons == nil {
				cons = g.CreateConsumer(args[3], now)
				consAt = len(claimed)
			}
			cons.SeenTime = now
		}
		pe.DeliveryTime = now
		if !justID {
			pe.DeliveryCount++
		}
		claimTo(g, pe, cons)
		cons.ActiveTime = now
		claimed = append(claimed, id)
		count--
		prop = append(prop, xclaimProp(key, args[2], g, pe))
	}
	c.W.Array(3)
	if next != nil {
		writeID(c.W, next.ID)
	} else {
		writeID(c.W, keyspace.StreamID{})
	}
	c.W.Array(len(claimed))
	// the claims are made: past the output limit only the reply stops
	guard := c.ReplyGuard(0)
	stopped := false
	for i, id := range claimed {
		if i == consAt {
			// Redis creates it in its loop, after the (deferred) headers
			c.Event('t', "xgroup-createconsumer", key)
		}
		if justID {
			writeID(c.W, id)
		} else {
			writeOneEntry(c.W, s, id)
		}
		if stopped = guard.Over(); stopped {
			if consAt > i {
				c.Event('t', "xgroup-createconsumer", key)
			}
			break
		}
	}
	if !stopped {
		c.W.Array(len(deleted))
		for _, id := range deleted {
			writeID(c.W, id)
			if guard.Over() {
				break
			}
		}
	}
	c.Dirty += len(prop)
	c.Propagate = prop
	if prop == nil {
		c.Propagate = [][][]byte{}
	}
}

func subcommandSyntaxError(c *command.Ctx) {
	c.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.",
		c.Args[1], strings.ToUpper(string(c.Args[0]))))
}

func (h *Handlers) xgroup(c *command.Ctx) {
	args := c.Args
	sub := strings.ToLower(string(args[1]))
	mkstream := false
	entriesRead := int64(-1)
	for i := 5; i < len(args) && (sub == "create" || sub == "setid"); {
		switch {
		case sub == "create" && EqualFold(args[i], "mkstream"):
			mkstream = true
			i++
		case EqualFold(args[i], "entriesread") && i+1 < len(args):
			n, ok := ParseInt(args[i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 && n != -1 {
				c.Error("ERR value for ENTRIESREAD must be positive or -1")
				return
			}
			entriesRead = n
			i += 2
		default:
			subcommandSyntaxError(c)
			return
		}
	}
	key := args[2]
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	if s == nil && !(sub == "create" && mkstream) {
		c.Error(errXGroupNoKey)
		return
	}
	var g *keyspace.Group
	if s != nil {
		g = s.Group(args[3])
	}
	if g == nil && (sub == "setid" || sub == "createconsumer" || sub == "delconsumer") {
		c.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'", args[3], key))
		return
	}
	switch {
	case sub == "create" && len(args) <= 8:
		var id keyspace.StreamID
		if len(args[4]) == 1 && args[4][0] == '$' {
			if s != nil {
				id = s.LastID
			}
		} else if id, ok = strictID(c, args[4]); !ok {
			return
		}
		if s == nil {
			s = keyspace.NewStream()
			c.DB.Set(key, s, 0)
			c.Modified(key)
		}
		if s.CreateGroup(args[3], id, entriesRead) == nil {
			c.Error(errBusyGroup)
			return
		}
		c.W.OK()
		c.Dirty++
		c.Event('t', "xgroup-create", key)
	case sub == "setid" && (len(args) == 5 || len(args) == 7):
		var id keyspace.StreamID
		if len(args[4]) == 1 && args[4][0] == '$' {
			id = s.LastID
		} else {
			pid, _, ok := parseStreamID(args[4], false, 0, false)
			if !ok {
				c.Error(errInvalidStreamID)
				return
			}
			id = pid
		}
		g.LastID = id
		g.EntriesRead = entriesRead
		c.W.OK()
		c.Dirty++
		c.Event('t', "xgroup-setid", key)
	case sub == "destroy" && len(args) == 4:
		if g == nil {
			c.W.Int(0)
			return
		}
		s.DestroyGroup(args[3])
		c.W.Int(1)
		// wakes XREADGROUP clients blocked on the group (they get
		// NOGROUP); as in Redis 7.0, the key is not signalled as
		// modified (no WATCH abort, no invalidation)
		c.Dirty++
		h.added(c, key)
		c.Event('t', "xgroup-destroy", key)
	case sub == "createconsumer" && len(args) == 5:
		if g.CreateConsumer(args[4], c.Now()) == nil {
			c.W.Int(0)
			return
		}
		c.Dirty++
		c.Event('t', "xgroup-createconsumer", key)
		c.W.Int(1)
	case sub == "delconsumer" && len(args) == 5:
		cons := g.Consumer(args[4])
		if cons == nil {
			c.W.Int(0)
			return
		}
		n := g.DeleteConsumer(cons)
		c.Dirty++
		c.Event('t', "xgroup-delconsumer", key)
		c.W.Int(int64(n))
	default:
		subcommandSyntaxError(c)
	}
}

func (h *Handlers) xgroupHelp(c *command.Ctx) {
	writeHelp(c, []string{
		"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CREATE <key> <groupname> <id|$> [option]",
		"    Create a new consumer group. Options are:",
		"    * MKSTREAM",
		"      Create the empty stream if it does not exist.",
		"    * ENTRIESREAD entries_read",
		"      Set the group's entries_read counter (internal use).",
		"CREATECONSUMER <key> <groupname> <consumer>",
		"    Create a new consumer in the specified group.",
		"DELCONSUMER <key> <groupname> <consumer>",
		"    Remove the specified consumer.",
		"DESTROY <key> <groupname>",
		"    Remove the specified group.",
		"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
		"    Set the current group ID and entries_read counter.",
		"HELP",
		"    Prints this help.",
	})
}

func (h *Handlers) xinfoHelp(c *command.Ctx) {
	writeHelp(c, []string{
		"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CONSUMERS <key> <groupname>",
		"    Show consumers of <groupname>.",
		"GROUPS <key>",
		"    Show the stream consumer groups.",
		"STREAM <key> [FULL [COUNT <count>]",
		"    Show information about the stream.",
		"HELP",
		"    Prints this help.",
	})
}

func writeLag(w resp.ReplyWriter, s *keyspace.Stream, g *keyspace.Group) {
	if lag, ok := s.Lag(g); ok {
		w.Int(lag)
	} else {
		w.Null()
	}
}

func writeEntriesRead(w resp.ReplyWriter, g *keyspace.Group) {
	if g.EntriesRead != -1 {
		w.Int(g.EntriesRead)
	} else {
		w.Null()
	}
}

func (h *Handlers) xinfo(c *command.Ctx) {
	args := c.Args
	sub := strings.ToLower(string(args[1]))
	key := args[2]
	s, ok := getStream(c, key)
	if !ok {
		return
	}
	if s == nil {
		c.Error(ErrNoSuchKey)
		return
	}
	w := c.W
	switch sub {
	case "consumers":
		g := s.Group(args[3])
		if g == nil {
			c.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'", args[3], key))
			return
		}
		cs := g.Consumers()
		w.Array(len(cs))
		now := c.Now()
		guard := c.ReplyGuard(0) // bounded by the consumers; stopped by the output limit
		for _, cons := range cs {
			if guard.Over() {
				break
			}
			idle := now - cons.SeenTime
			if idle < 0 {
				idle = 0
			}
			w.Map(3)
			w.BulkString("name")
			w.BulkString(cons.Name)
			w.BulkString("pending")
			w.Int(int64(cons.PEL.Len()))
			w.BulkString("idle")
			w.Int(idle)
		}
	case "groups":
		gs := s.Groups()
		w.Array(len(gs))
		guard := c.ReplyGuard(0) // bounded by the groups; stopped by the output limit
		for _, g := range gs {
			if guard.Over() {
				break
			}
			w.Map(6)
			w.BulkString("name")
			w.BulkString(g.Name)
			w.BulkString("consumers")
			w.Int(int64(g.NumConsumers()))
			w.BulkString("pending")
			w.Int(int64(g.PEL.Len()))
			w.BulkString("last-delivered-id")
			writeID(w, g.LastID)
			w.BulkString("entries-read")
			writeEntriesRead(w, g)
			w.BulkString("lag")
			writeLag(w, s, g)
		}
	case "stream":
		h.xinfoStream(c, s)
	}
}

func (h *Handlers) xinfoStream(c *command.Ctx, s *keyspace.Stream) {
	opts := c.Args[3:]
	full := len(opts) > 0
	count := int64(10)
	if full {
		if len(opts) != 1 && len(opts) != 3 || !EqualFold(opts[0], "full") {
			subcommandSyntaxError(c)
			return
		}
		if len(opts) == 3 {
			if !EqualFold(opts[1], "count") {
				subcommandSyntaxError(c)
				return
			}
			n, ok := ParseInt(opts[2])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	w := c.W
	if full {
		w.Map(9)
	} else {
		w.Map(10)
	}
	w.BulkString("length")
	w.Int(s.Len())
	w.BulkString("radix-tree-keys")
	w.Int(int64(s.NumBlocks()))
	w.BulkString("radix-tree-nodes")
	w.Int(int64(radixNodes(s)))
	w.BulkString("last-generated-id")
	writeID(w, s.LastID)
	w.BulkString("max-deleted-entry-id")
	writeID(w, s.MaxDeletedID)
	w.BulkString("entries-added")
	w.Int(s.EntriesAdded)
	w.BulkString("recorded-first-entry-id")
	writeID(w, s.FirstID)
	if !full {
		w.BulkString("groups")
		w.Int(int64(len(s.Groups())))
		w.BulkString("first-entry")
		if !writeFirst(w, s, false) {
			w.Null()
		}
		w.BulkString("last-entry")
		if !writeFirst(w, s, true) {
			w.Null()
		}
		return
	}
	w.BulkString("entries")
	// bounded by the stream; stopped by the output limit (no effects)
	guard := c.ReplyGuard(0)
	if writeRange(w, s, keyspace.StreamID{}, keyspace.MaxStreamID, count, false, nil, &guard) {
		return
	}
	w.BulkString("groups")
	gs := s.Groups()
	w.Array(len(gs))
	for _, g := range gs {
		w.Map(7)
		w.BulkString("name")
		w.BulkString(g.Name)
		w.BulkString("last-delivered-id")
		writeID(w, g.LastID)
		w.BulkString("entries-read")
		writeEntriesRead(w, g)
		w.BulkString("lag")
		writeLag(w, s, g)
		w.BulkString("pel-count")
		w.Int(int64(g.PEL.Len()))
		w.BulkString("pending")
		pes := collectPEL(&g.PEL, count)
		w.Array(len(pes))
		for _, pe := range pes {
			w.Array(4)
			writeID(w, pe.ID)
			w.BulkString(pe.Consumer.Name)
			w.Int(pe.DeliveryTime)
			w.Int(pe.DeliveryCount)
			if guard.Over() {
				return
			}
		}
		w.BulkString("consumers")
		cs := g.Consumers()
		w.Array(len(cs))
		for _, cons := range cs {
			if guard.Over() {
				return
			}
			w.Map(4)
			w.BulkString("name")
			w.BulkString(cons.Name)
			w.BulkString("seen-time")
			w.Int(cons.SeenTime)
			w.BulkString("pel-count")
			w.Int(int64(cons.PEL.Len()))
			w.BulkString("pending")
			pes := collectPEL(&cons.PEL, count)
			w.Array(len(pes))
			for _, pe := range pes {
				w.Array(3)
				writeID(w, pe.ID)
				w.Int(pe.DeliveryTime)
				w.Int(pe.DeliveryCount)
				if guard.Over() {
					return
				}
			}
		}
	}
}

// radixNodes is the node count of the radix tree Redis keeps a stream's
// listpacks in, keyed by their master IDs as 16 big-endian bytes: our
// blocks live in a sorted slice, and the rax Redis builds for a set of
// fixed-length keys has one shape (a compressed node for each run of bytes
// the keys below share, a branch node where they diverge, a leaf for each
// key), whatever the order the keys came and went in.
func radixNodes(s *keyspace.Stream) int {
	keys := make([][16]byte, s.NumBlocks())
	for i := range keys {
		master, _, _, _ := s.BlockInfo(i)
		binary.BigEndian.PutUint64(keys[i][:8], master.Ms)
		binary.BigEndian.PutUint64(keys[i][8:], master.Seq)
	}
	if len(keys) == 0 {
		return 1 // the empty root
	}
	return raxNodes(keys, 0)
}

// raxNodes counts the nodes of the rax holding the sorted, distinct keys
// below depth d, where they all share their first d bytes.
func raxNodes(keys [][16]byte, d int) int {
	if d == 16 {
		return 1 // the key's leaf
	}
	if len(keys) == 1 {
		return 2 // the rest of the key compressed, then its leaf
	}
	first, last := &keys[0], &keys[len(keys)-1]
	l := 0
	for d+l < 16 && first[d+l] == last[d+l] {
		l++
	}
	if l > 0 {
		return 1 + raxNodes(keys, d+l) // a compressed node of the shared bytes
	}
	n := 1 // a branch node, one child per distinct byte
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j][d] == keys[i][d] {
			j++
		}
		n += raxNodes(keys[i:j], d+1)
		i = j
	}
	return n
}

func collectPEL(p *keyspace.PEL, count int64) []*keyspace.PendingEntry {
	var out []*keyspace.PendingEntry
	p.Ascend(keyspace.StreamID{}, func(pe *keyspace.PendingEntry) bool {
		out = append(out, pe)
		return count == 0 || int64(len(out)) < count
	})
	return out
}

func writeFirst(w resp.ReplyWriter, s *keyspace.Stream, last bool) bool {
	found := false
	s.Range(keyspace.StreamID{}, keyspace.MaxStreamID, last, func(id keyspace.StreamID, f [][]byte) bool {
		writeEntry(w, id, f)
		found = true
		return false
	})
	return found
}
