package lua

import (
	"strconv"
	"strings"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
	glua "github.com/yuin/gopher-lua"
)

// luaWriter is a resp.ReplyWriter that builds the Lua value of a command's
// reply directly, as Redis's redisProtocolToLuaType does for the RESP the
// script asked for with redis.setresp.
type luaWriter struct {
	s      *state
	proto  int
	stack  []lwFrame
	res    glua.LValue
	isErr  bool
	hasRes bool
}

type lwFrame struct {
	outer glua.LValue  // what the aggregate becomes in its parent
	t     *glua.LTable // where elements go
	kind  byte         // 'a' array, 'm' map, 's' set
	n, i  int
	key   glua.LValue
	half  bool
	grown bool // t is built key by key, nils included (see open)
}

var _ resp.ReplyWriter = (*luaWriter)(nil)

func (w *luaWriter) reset(proto int) {
	w.proto = proto
	w.stack = w.stack[:0]
	w.res = glua.LNil
	w.isErr = false
	w.hasRes = false
}

// DiscardReply drops the reply begun so far: a command whose handler
// panicked answers an error instead (exec's recoverHandler).
func (w *luaWriter) DiscardReply() { w.reset(w.proto) }

func (w *luaWriter) result() (glua.LValue, bool) {
	if !w.hasRes {
		return glua.LNil, false
	}
	return w.res, w.isErr
}

func (w *luaWriter) value(v glua.LValue) {
	for {
		if len(w.stack) == 0 {
			if !w.hasRes {
				w.res = v
				w.hasRes = true
			}
			return
		}
		f := &w.stack[len(w.stack)-1]
		switch f.kind {
		case 'a':
			f.i++
			if v == glua.LNil && !f.grown {
				f.regrow(w.s.L)
			}
			if v != glua.LNil || f.grown {
				f.t.RawSetInt(f.i, v)
			}
		case 'm':
			if !f.half {
				f.key, f.half = v, true
				return
			}
			if f.key != glua.LNil {
				f.t.RawSet(f.key, v)
			}
			f.half = false
			f.i++
		case 's':
			if v != glua.LNil {
				f.t.RawSet(v, glua.LTrue)
			}
			f.i++
		}
		if f.i < f.n {
			return
		}
		v = f.outer
		w.stack = w.stack[:len(w.stack)-1]
	}
}

// regrow rebuilds an array frame's presized table key by key, as Redis's
// lua_newtable and lua_settable build it, before the first nil element (a
// RESP3 null): from then on the table's layout, and so its length (#) and
// pairs order, depend on the order of insertion and on nil keys.
func (f *lwFrame) regrow(L *glua.LState) {
	t := L.CreateTable(0, 0)
	for j := 1; j < f.i; j++ {
		t.RawSetInt(j, f.t.RawGetInt(j))
	}
	f.t, f.outer, f.grown = t, t, true
}

// open starts an aggregate of n elements. Redis builds every aggregate
// from an empty table (lua_newtable), so where a key lands (pairs order,
// and # with nils) follows the table's growth: maps and sets are built key
// by key too. An array without nils ends as an array part of the next
// power of two, so it is presized to that; one with a nil is rebuilt by
// regrow.
func (w *luaWriter) open(kind byte, n int) {
	L := w.s.L
	if n < 0 {
		n = 0
	}
	var t *glua.LTable
	var outer glua.LValue
	switch kind {
	case 'a':
		t = L.CreateTable(ceilPow2(n), 0)
		outer = t
	case 'm':
		t = L.CreateTable(0, 0)
		o := L.CreateTable(0, 1)
		o.RawSetString("map", t)
		outer = o
	case 's':
		t = L.CreateTable(0, 0)
		o := L.CreateTable(0, 1)
		o.RawSetString("set", t)
		outer = o
	}
	if n == 0 {
		w.value(outer)
		return
	}
	w.stack = append(w.stack, lwFrame{outer: outer, t: t, kind: kind, n: n})
}

// ceilPow2 is the least power of two >= n (0 for 0).
func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	if n == 0 {
		return 0
	}
	return p
}

func (w *luaWriter) single(field string, v glua.LValue) {
	t := w.s.L.CreateTable(0, 1)
	t.RawSetString(field, v)
	w.value(t)
}

// Simple implements resp.ReplyWriter: a status becomes {ok=s}.
func (w *luaWriter) Simple(s string) { w.single("ok", glua.LString(s)) }

// OK implements resp.ReplyWriter.
func (w *luaWriter) OK() { w.single("ok", glua.LString("OK")) }

// Error implements resp.ReplyWriter: an error becomes {err=...}.
func (w *luaWriter) Error(msg string) {
	if len(w.stack) == 0 && !w.hasRes {
		w.isErr = true
	}
	w.value(errorTable(w.s.L, "-"+msg))
}

// Int implements resp.ReplyWriter.
func (w *luaWriter) Int(n int64) { w.value(glua.NumberValue(glua.LNumber(n))) }

// Bulk implements resp.ReplyWriter.
func (w *luaWriter) Bulk(b []byte) { w.value(glua.StringValue(b)) }

// BulkString implements resp.ReplyWriter.
func (w *luaWriter) BulkString(s string) { w.value(glua.LString(s)) }

// BulkInt implements resp.ReplyWriter.
func (w *luaWriter) BulkInt(n int64) { w.value(glua.LString(strconv.FormatInt(n, 10))) }

// Null implements resp.ReplyWriter: false in RESP2, nil in RESP3.
func (w *luaWriter) Null() {
	if w.proto >= 3 {
		w.value(glua.LNil)
	} else {
		w.value(glua.LFalse)
	}
}

// NullArray implements resp.ReplyWriter.
func (w *luaWriter) NullArray() { w.Null() }

// Array implements resp.ReplyWriter.
func (w *luaWriter) Array(n int) { w.open('a', n) }

// Map implements resp.ReplyWriter: {map={...}} in RESP3, a flat array in
// RESP2.
func (w *luaWriter) Map(n int) {
	if w.proto >= 3 {
		w.open('m', n)
	} else {
		w.open('a', 2*n)
	}
}

// Set implements resp.ReplyWriter: {set={k=true...}} in RESP3.
func (w *luaWriter) Set(n int) {
	if w.proto >= 3 {
		w.open('s', n)
	} else {
		w.open('a', n)
	}
}

// Push implements resp.ReplyWriter.
func (w *luaWriter) Push(n int) { w.open('a', n) }

// Bool implements resp.ReplyWriter.
func (w *luaWriter) Bool(b bool) {
	if w.proto >= 3 {
		w.value(glua.LBool(b))
	} else if b {
		w.value(glua.LNumber(1))
	} else {
		w.value(glua.LNumber(0))
	}
}

// Double implements resp.ReplyWriter: {double=f} in RESP3.
func (w *luaWriter) Double(f float64) {
	if w.proto >= 3 {
		w.single("double", glua.LNumber(f))
		return
	}
	var tmp [32]byte
	w.value(glua.LString(resp.FormatDouble(tmp[:0], f)))
}

// BigNumber implements resp.ReplyWriter.
func (w *luaWriter) BigNumber(n string) {
	if w.proto >= 3 {
		w.single("big_number", glua.LString(n))
		return
	}
	w.value(glua.LString(n))
}

// Verbatim implements resp.ReplyWriter.
func (w *luaWriter) Verbatim(format, s string) {
	if w.proto >= 3 {
		t := w.s.L.CreateTable(0, 0) // grown as in Redis: string, then format
		t.RawSetString("string", glua.LString(s))
		t.RawSetString("format", glua.LString(format))
		w.single("verbatim_string", t)
		return
	}
	w.value(glua.LString(s))
}

// ProtoVersion implements resp.ReplyWriter.
func (w *luaWriter) ProtoVersion() int { return w.proto }

// Redis's luaReplyToRedisReply starts on every value, whatever its type, with
// lua_checkstack(lua, 4), which fails once the Lua stack would pass
// LUAI_MAXCSTACK: that value is replaced by "reached lua stack limit". The
// stack holds replySlots0 slots at the script's reply; an array element adds
// one (the table, the element), a set member three (table, set table, key,
// key copy), a map value three and a map key four (table, map table, key,
// value, key copy). The counts are those of redis-server 7.0.15 (a chain of
// 7994 arrays nests, the 7995th array's element is the error).
const (
	replySlots0    = 2
	replyMaxSlots  = maxCStack - 4
	replyArraySlot = 1
	replySetSlots  = 3
	replyMapKey    = 4
	replyMapValue  = 3
)

// replyOut is where a script's table reply goes. A table can make a reply
// of any size from little script memory (the same 1 MB string a thousand
// times): as Redis's addReply adds nothing once its client is flagged
// CLIENT_CLOSE_ASAP, the conversion stops writing once the client passes
// its output limit (the client is closed after the command), and goes on
// through the rest of the table only to count the error tables it holds
// (afterErrorReply still counts them in Redis).
type replyOut struct {
	w  resp.ReplyWriter
	cw *resp.Writer // the connection's writer under w; nil: none to watch
}

// scriptWriter is implemented by a writer that wraps another (the
// scripting command's error watch around the connection's writer).
type scriptWriter interface{ Unwrap() resp.ReplyWriter }

// connWriter returns the connection's writer under w, or nil.
func connWriter(w resp.ReplyWriter) *resp.Writer {
	for {
		switch x := w.(type) {
		case *resp.Writer:
			return x
		case scriptWriter:
			w = x.Unwrap()
		default:
			return nil
		}
	}
}

// watch is called after each element: past a check point it asks
// whether the reply must stop growing (over). Inlined: a nil check and a
// length compare per element.
func (o *replyOut) watch() {
	if o.cw != nil && o.cw.Due() {
		o.over()
	}
}

// over reports whether the reply must stop growing; it then sends the
// rest to a writer that drops it but counts errors.
func (o *replyOut) over() bool {
	if !o.cw.Check() {
		return false
	}
	n, _ := o.w.(script.ErrorNoter)
	o.w = &droppedReply{Discard: resp.Discard{Proto: o.w.ProtoVersion()}, noter: n}
	o.cw = nil
	return true
}

// droppedReply drops a reply, noting its errors for the host's counters.
type droppedReply struct {
	resp.Discard
	noter script.ErrorNoter
}

// NoteError implements script.ErrorNoter.
func (d *droppedReply) NoteError(msg string, counted bool) {
	if d.noter != nil {
		d.noter.NoteError(msg, counted)
	}
}

// writeScriptReply writes v, the script's result, to w (writeReply).
func writeScriptReply(w resp.ReplyWriter, v glua.LValue, scriptResp int) {
	o := replyOut{w: w}
	if _, ok := v.(*glua.LTable); ok {
		if o.cw = connWriter(w); o.cw != nil {
			o.cw.Arm()
		}
	}
	writeReply(&o, v, scriptResp, replySlots0)
}

// writeReply writes the Lua value v as the script's reply, as Redis's
// luaReplyToRedisReply does. resp is the script's redis.setresp version;
// slots is the Lua stack Redis would hold at v (replySlots0 at the top).
func writeReply(o *replyOut, v glua.LValue, scriptResp, slots int) {
	w := o.w
	if slots > replyMaxSlots {
		script.WriteError(w, "ERR reached lua stack limit", false)
		return
	}
	switch x := v.(type) {
	case glua.LString:
		w.BulkString(string(x))
	case glua.LBool:
		if scriptResp == 2 {
			if x {
				w.Int(1)
			} else {
				w.Null()
			}
		} else {
			w.Bool(bool(x))
		}
	case glua.LNumber:
		w.Int(toInt64(float64(x)))
	case *glua.LTable:
		writeTable(o, x, scriptResp, slots)
	default:
		w.Null()
	}
}

func writeTable(o *replyOut, t *glua.LTable, scriptResp, slots int) {
	w := o.w
	if e, ok := t.RawGetString("err").(glua.LString); ok {
		// addReplyErrorFormatEx("-%s") trims trailing CR/LF before it
		// maps the others to spaces
		script.WriteError(w, strings.TrimRight(cString(string(e)), "\r\n"), t.RawGetString("ignore_error_stats_update") == glua.LTrue)
		return
	}
	if s, ok := t.RawGetString("ok").(glua.LString); ok {
		w.Simple(mapNewlines(cString(string(s))))
		return
	}
	if d, ok := t.RawGetString("double").(glua.LNumber); ok {
		w.Double(float64(d))
		return
	}
	if s, ok := t.RawGetString("big_number").(glua.LString); ok {
		w.BigNumber(mapNewlines(string(s)))
		return
	}
	if vt, ok := t.RawGetString("verbatim_string").(*glua.LTable); ok {
		f, ok1 := vt.RawGetString("format").(glua.LString)
		s, ok2 := vt.RawGetString("string").(glua.LString)
		if ok1 && ok2 {
			w.Verbatim(verbatimFormat(string(f)), string(s))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*glua.LTable); ok {
		n := 0
		for k, _ := m.Next(glua.LNil); k != glua.LNil; k, _ = m.Next(k) {
			n++
		}
		w.Map(n)
		for k, v := m.Next(glua.LNil); k != glua.LNil; k, v = m.Next(k) {
			writeReply(o, k, scriptResp, slots+replyMapKey)
			writeReply(o, v, scriptResp, slots+replyMapValue)
			o.watch()
		}
		return
	}
	if m, ok := t.RawGetString("set").(*glua.LTable); ok {
		n := 0
		for k, _ := m.Next(glua.LNil); k != glua.LNil; k, _ = m.Next(k) {
			n++
		}
		w.Set(n)
		for k, _ := m.Next(glua.LNil); k != glua.LNil; k, _ = m.Next(k) {
			writeReply(o, k, scriptResp, slots+replySetSlots)
			o.watch()
		}
		return
	}
	n := 0
	for t.RawGetInt(n+1) != glua.LNil {
		n++
	}
	w.Array(n)
	for i := 1; i <= n; i++ {
		writeReply(o, t.RawGetInt(i), scriptResp, slots+replyArraySlot)
		o.watch()
	}
}

// cString is s as C reads it through lua_tostring and sdsnew: up to its
// first NUL. Redis's status and error replies, and error_reply's text, are
// built so.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func mapNewlines(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, s)
	}
	return s
}

// verbatimFormat is the three-byte format addReplyVerbatim writes: the
// format's bytes up to its first NUL, at most three, padded with spaces
// ('markdown' is "mar", 'a' is "a  ").
func verbatimFormat(f string) string {
	if i := strings.IndexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	if len(f) >= 3 {
		return f[:3]
	}
	return f + "   "[len(f):]
}
