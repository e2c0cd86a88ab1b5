package lua

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
	glua "github.com/yuin/gopher-lua"
)

// The Lua debugger (SCRIPT DEBUG YES/SYNC, redis-cli --ldb), as Redis 7.0's
// LDB: the script stops at its first line, and at each stop the debugger
// reads commands from the client (step, continue, list, print, break,
// trace, eval, redis, maxlen, abort) and answers each with its log lines,
// sent as an array of simple strings. A VM line hook (gopher-lua fork,
// crescent_hook.go) drives it. Texts and formats are Redis's.

const (
	ldbMaxLenDefault  = 256 // LDB_MAX_LEN_DEFAULT
	ldbMaxBreakpoints = 64  // LDB_BREAKPOINTS_MAX
	ldbMaxValuesDepth = 10  // LDB_MAX_VALUES_DEPTH (LUA_MINSTACK/2)
	ldbCountHook      = 100000
)

// ldb is one debugging session: one EVAL run under the debugger.
type ldb struct {
	conn     script.DebugConn
	run      *script.Run
	timeout  time.Duration
	src      []string
	logs     []string
	bp       []int
	step     bool // stop at the next line
	luabp    bool // redis.breakpoint() was called
	line     int  // the current line
	maxlen   int
	hintSent bool
	gone     bool // the client went away: run to the end
}

func newLDB(d *script.Debug, run *script.Run) *ldb {
	src := bytes.TrimRight(d.Source, "\r\n")
	l := &ldb{conn: d.Conn, run: run, timeout: d.Timeout, step: true, maxlen: ldbMaxLenDefault}
	for _, line := range strings.Split(string(src), "\n") {
		l.src = append(l.src, line)
	}
	return l
}

func (l *ldb) log(s string) { l.logs = append(l.logs, s) }

// logMax is ldbLogWithMaxLen: s trimmed to maxlen, with a hint the first
// time.
func (l *ldb) logMax(s string) {
	trimmed := false
	if l.maxlen > 0 && len(s) > l.maxlen {
		s = s[:l.maxlen] + " ..."
		trimmed = true
	}
	l.log(s)
	if trimmed && !l.hintSent {
		l.hintSent = true
		l.log("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.")
	}
}

// send writes the pending log lines as an array of simple strings (CR and
// LF become spaces) and empties the log.
func (l *ldb) send() {
	b := make([]byte, 0, 64)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(l.logs)), 10)
	b = append(b, "\r\n"...)
	for _, s := range l.logs {
		b = append(b, '+')
		b = append(b, strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, s)...)
		b = append(b, "\r\n"...)
	}
	l.logs = l.logs[:0]
	if !l.gone {
		l.conn.Write(b) // an error shows at the next read
	}
}

func (l *ldb) sourceLine(n int) string {
	if n < 1 || n > len(l.src) {
		return "<out of range source code line>"
	}
	return l.src[n-1]
}

func (l *ldb) isBreakpoint(n int) bool {
	for _, b := range l.bp {
		if b == n {
			return true
		}
	}
	return false
}

func (l *ldb) logSourceLine(n int) {
	prefix := "   "
	switch bp, cur := l.isBreakpoint(n), l.line == n; {
	case cur && bp:
		prefix = "->#"
	case cur:
		prefix = "-> "
	case bp:
		prefix = "  #"
	}
	l.log(fmt.Sprintf("%s%-3d %s", prefix, n, l.sourceLine(n)))
}

func (l *ldb) list(around, ctx int) {
	for j := 1; j <= len(l.src); j++ {
		if around != 0 && abs(around-j) > ctx {
			continue
		}
		l.logSourceLine(j)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// hook is the VM's line and count hook (luaLdbLineHook).
func (l *ldb) hook(s *state, L *glua.LState, ev glua.HookEvent, line int) {
	l.line = line
	bp := l.isBreakpoint(line) || l.luabp
	if dbg, ok := L.GetStack(0); ok {
		if _, err := L.GetInfo("S", dbg, glua.LNil); err == nil && !strings.Contains(dbg.Source, "user_script") {
			return // code outside the script (ldb_eval)
		}
	}
	timeout := false
	if ev == glua.HookCount && !l.step && !bp {
		if l.run.Elapsed() < l.timeout {
			return
		}
		timeout, l.step = true, true
	}
	if !l.step && !bp {
		return
	}
	reason := "step over"
	switch {
	case bp && l.luabp:
		reason = "redis.breakpoint() called"
	case bp:
		reason = "break point"
	case timeout:
		reason = "timeout reached, infinite loop?"
	}
	l.step, l.luabp = false, false
	l.log(fmt.Sprintf("* Stopped at %d, stop reason = %s", line, reason))
	l.logSourceLine(line)
	l.send()
	if !l.repl(s, L) && timeout {
		// nobody will ever continue it: stop the script
		raisePushError(L, l, "timeout during Lua debugging with client closing connection")
	}
	l.run.ResetStart()
}

// raisePushError raises msg as a Redis error (luaPushError + luaError),
// logged first when the debugger steps.
func raisePushError(L *glua.LState, l *ldb, msg string) {
	if l != nil && l.step {
		l.log("<error> " + msg)
	}
	raise(L, msg)
}

// repl serves debugger commands until one resumes the script (ldbRepl).
// It reports false when the client went away.
func (l *ldb) repl(s *state, L *glua.LState) bool {
	if l.gone {
		return false
	}
	for {
		argv, err := l.conn.ReadCommand()
		if err != nil {
			// the script runs to its end without its user
			l.gone, l.step, l.bp = true, false, nil
			return false
		}
		if len(argv) == 0 || len(argv) > 1024 {
			raise(L, "protocol error")
		}
		args := make([]string, len(argv))
		for i, a := range argv {
			if len(a) == 0 || len(a) > 1024 {
				raise(L, "protocol error")
			}
			args[i] = string(a)
		}
		switch cmd := strings.ToLower(args[0]); {
		case cmd == "h" || cmd == "help":
			for _, h := range ldbHelp {
				l.log(h)
			}
		case cmd == "s" || cmd == "step" || cmd == "n" || cmd == "next":
			l.step = true
			return true
		case cmd == "c" || cmd == "continue":
			return true
		case cmd == "t" || cmd == "trace":
			l.trace(L)
		case cmd == "m" || cmd == "maxlen":
			l.setMaxlen(args)
		case cmd == "b" || cmd == "break":
			l.breakCmd(args)
		case cmd == "e" || cmd == "eval":
			l.eval(s, L, args)
		case cmd == "a" || cmd == "abort":
			raisePushError(L, l, "script aborted for user request")
		case len(args) > 1 && (cmd == "r" || cmd == "redis"):
			l.redis(s, L, args)
		case cmd == "p" || cmd == "print":
			if len(args) == 2 {
				l.print(s, L, args[1])
			} else {
				l.printAll(s, L)
			}
		case cmd == "l" || cmd == "list":
			around, ctx := l.line, 5
			if len(args) > 1 {
				if n := atoi(args[1]); n > 0 {
					around = n
				}
			}
			if len(args) > 2 {
				ctx = atoi(args[2])
			}
			l.list(around, ctx)
		case cmd == "w" || cmd == "whole":
			l.list(1, 1000000)
		default:
			l.log("<error> Unknown Redis Lua debugger command or wrong number of arguments.")
		}
		l.send()
	}
}

// atoi is C's atoi: leading spaces, a sign and digits; 0 otherwise.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.ParseInt(s[:end], 10, 32)
	return int(n)
}

func (l *ldb) setMaxlen(args []string) {
	if len(args) == 2 {
		n := atoi(args[1])
		l.hintSent = true // the user knows about the command
		if n != 0 && n <= 60 {
			n = 60
		}
		l.maxlen = n
	}
	if l.maxlen != 0 {
		l.log(fmt.Sprintf("<value> replies are truncated at %d bytes.", l.maxlen))
	} else {
		l.log("<value> replies are unlimited.")
	}
}

func (l *ldb) breakCmd(args []string) {
	if len(args) == 1 {
		if len(l.bp) == 0 {
			l.log("No breakpoints set. Use 'b <line>' to add one.")
			return
		}
		l.log(fmt.Sprintf("%d breakpoints set:", len(l.bp)))
		for _, b := range l.bp {
			l.logSourceLine(b)
		}
		return
	}
	for _, arg := range args[1:] {
		n, err := strconv.ParseInt(arg, 10, 64) // string2l
		if err != nil || (len(arg) > 1 && arg[0] == '0') || arg == "-0" || strings.HasPrefix(arg, "+") {
			l.log(fmt.Sprintf("Invalid argument:'%s'", arg))
			continue
		}
		line := int(n)
		switch {
		case line == 0:
			l.bp = l.bp[:0]
			l.log("All breakpoints removed.")
		case line > 0:
			if len(l.bp) == ldbMaxBreakpoints {
				l.log("Too many breakpoints set.")
			} else if line <= len(l.src) && !l.isBreakpoint(line) {
				l.bp = append(l.bp, line)
				l.list(line, 1)
			} else {
				l.log("Wrong line number.")
			}
		default:
			removed := false
			for i, b := range l.bp {
				if b == -line {
					l.bp = append(l.bp[:i], l.bp[i+1:]...)
					removed = true
					break
				}
			}
			if removed {
				l.log("Breakpoint removed.")
			} else {
				l.log("No breakpoint in the specified line.")
			}
		}
	}
}

// trace logs a backtrace of the script's frames.
func (l *ldb) trace(L *glua.LState) {
	level := 0
	for ; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Snl", dbg, glua.LNil); err != nil {
			continue
		}
		if !strings.Contains(dbg.Source, "user_script") {
			continue
		}
		where := "From"
		if level == 0 {
			where = "In"
		}
		name := dbg.Name
		if name == "" || name == "main chunk" || name == "?" || strings.HasPrefix(name, "<") {
			name = "top level" // C Lua knows no name for it
		}
		l.log(fmt.Sprintf("%s %s:", where, name))
		l.logSourceLine(dbg.CurrentLine)
	}
	if level == 0 {
		l.log("<error> Can't retrieve Lua stack.")
	}
}

// print logs the value of the local variable name, searched from the
// current frame outwards; KEYS and ARGV are globals it also shows.
func (l *ldb) print(s *state, L *glua.LState, name string) {
	for level := 0; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		for i := 1; ; i++ {
			n, v := L.GetLocal(dbg, i)
			if n == "" {
				break
			}
			if n == name {
				l.logMax("<value> " + reprValue(v, 0))
				return
			}
		}
	}
	if name == "ARGV" || name == "KEYS" {
		l.logMax("<value> " + reprValue(s.realG.RawGetString(name), 0))
		return
	}
	l.log("No such variable.")
}

func (l *ldb) printAll(s *state, L *glua.LState) {
	vars := 0
	if dbg, ok := L.GetStack(0); ok {
		for i := 1; ; i++ {
			n, v := L.GetLocal(dbg, i)
			if n == "" {
				break
			}
			if !strings.Contains(n, "(*temporary)") {
				l.logMax("<value> " + n + " = " + reprValue(v, 0))
				vars++
			}
		}
	}
	if vars == 0 {
		l.log("No local variables in the current context.")
	}
}

// eval runs a fragment of Lua code in a frame of its own: as an
// expression first ("return " prepended), else as a statement.
func (l *ldb) eval(s *state, L *glua.LState, args []string) {
	code := strings.Join(args[1:], " ")
	fn, err := s.e.Compile("ldb_eval", []byte("return "+code))
	if err != nil {
		if fn, err = s.e.Compile("ldb_eval", []byte(code)); err != nil {
			l.log("<error> " + err.Error())
			return
		}
	}
	lf := L.NewFunctionFromProto(fn.(*compiled).proto)
	lf.Env = s.gproxy
	L.Push(lf)
	if err := L.PCall(0, 1, nil); err != nil {
		l.log("<error> " + errorValueText(err))
		return
	}
	v := L.Get(-1)
	L.Pop(1)
	l.logMax("<retval> " + reprValue(v, 0))
}

// errorValueText is lua_tostring of a raised error: a string, or a
// Redis error table's message.
func errorValueText(err error) string {
	ae, ok := err.(*glua.ApiError)
	if !ok {
		return err.Error()
	}
	switch v := ae.Object.(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return fmtNumber(float64(v))
	case *glua.LTable:
		if e, ok := v.RawGetString("err").(glua.LString); ok {
			return string(e)
		}
	}
	return "(null)"
}

// redis runs a Redis command as redis.call would, logging it and its
// reply.
func (l *ldb) redis(s *state, L *glua.LState, args []string) {
	step := l.step
	l.step = true // redis.call logs the command and its reply
	defer func() { l.step = step }()
	fn := s.realG.RawGetString("redis").(*glua.LTable)
	if p, ok := s.isProxy(fn); ok {
		fn = p
	}
	L.Push(fn.RawGetString("call"))
	for _, a := range args[1:] {
		L.Push(glua.LString(a))
	}
	// An error is logged already; PCall then leaves the stack at its base
	// (nothing to pop: popping would take a register of the script's own
	// frame, whose result then came out wrong).
	if err := L.PCall(len(args)-1, 1, nil); err == nil {
		L.Pop(1)
	}
}

// logCall logs a redis.call command while stepping: its first ten
// arguments, as Redis does.
func (l *ldb) logCall(argv [][]byte) {
	var b strings.Builder
	b.WriteString("<redis>")
	for j, a := range argv {
		if j == 10 {
			fmt.Fprintf(&b, " ... (%d more)", len(argv)-j-1)
			break
		}
		b.WriteByte(' ')
		b.Write(a)
	}
	l.log(b.String())
}

// logReply logs a command's reply (RESP) in human form (ldbLogRedisReply),
// after "<error> ..." for an error reply, as Redis's conversion of it
// logs.
func (l *ldb) logReply(reply []byte) {
	if len(reply) > 0 && reply[0] == '-' {
		end := bytes.IndexByte(reply, '\r')
		if end < 0 {
			end = len(reply)
		}
		l.log("<error> " + string(reply[:end]))
	}
	var b strings.Builder
	b.WriteString("<reply> ")
	respToHuman(&b, reply)
	l.logMax(b.String())
}

// respToHuman appends the reply at the start of r to b in the debugger's
// form and returns the rest of r (ldbRedisProtocolToHuman).
func respToHuman(b *strings.Builder, r []byte) []byte {
	if len(r) == 0 {
		return r
	}
	end := bytes.IndexByte(r, '\r')
	if end < 0 {
		return nil
	}
	head, rest := r[1:end], r[end+2:]
	n, _ := strconv.ParseInt(string(head), 10, 64)
	switch r[0] {
	case ':':
		b.Write(head)
	case '$':
		if n < 0 {
			b.WriteString("NULL")
			return rest
		}
		b.WriteString(reprString(rest[:n]))
		return rest[n+2:]
	case '+', '-':
		b.WriteString(reprString(r[:end]))
	case '*':
		if n < 0 {
			b.WriteString("NULL")
			return rest
		}
		return respItems(b, rest, n, "[", "]")
	case '~':
		return respItems(b, rest, n, "~(", ")")
	case '%':
		b.WriteByte('{')
		for j := int64(0); j < n; j++ {
			rest = respToHuman(b, rest)
			b.WriteString(" => ")
			rest = respToHuman(b, rest)
			if j != n-1 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('}')
	case '_':
		b.WriteString("(null)")
	case '#':
		if len(head) > 0 && head[0] == 't' {
			b.WriteString("#true")
		} else {
			b.WriteString("#false")
		}
	case ',':
		b.WriteString("(double) ")
		b.Write(head)
	}
	return rest
}

// respItems appends the n replies at the start of r, comma-separated
// between open and close, and returns the rest of r.
func respItems(b *strings.Builder, r []byte, n int64, open, close string) []byte {
	b.WriteString(open)
	for j := int64(0); j < n; j++ {
		r = respToHuman(b, r)
		if j != n-1 {
			b.WriteByte(',')
		}
	}
	b.WriteString(close)
	return r
}

// reprString quotes s as Redis's sdscatrepr does.
func reprString(s []byte) string { return string(resp.AppendRepr(nil, s)) }

// reprValue is ldbCatStackValueRec: a Lua value in the debugger's form.
func reprValue(v glua.LValue, level int) string {
	if level == ldbMaxValuesDepth {
		return "<max recursion level reached! Nested table?>"
	}
	level++
	switch v := v.(type) {
	case glua.LString:
		return reprString([]byte(v))
	case glua.LBool:
		if v {
			return "true"
		}
		return "false"
	case glua.LNumber:
		return cFormatG(float64(v))
	case *glua.LNilType:
		return "nil"
	case *glua.LTable:
		var arr, full strings.Builder
		isArray, expect := true, 1
		v.ForEach(func(k, val glua.LValue) {
			if n, ok := k.(glua.LNumber); !ok || float64(n) != float64(expect) {
				isArray = false
			}
			arr.WriteString(reprValue(val, level))
			arr.WriteString("; ")
			full.WriteByte('[')
			full.WriteString(reprValue(k, level))
			full.WriteString("]=")
			full.WriteString(reprValue(val, level))
			full.WriteString("; ")
			expect++
		})
		out := full.String()
		if isArray {
			out = arr.String()
		}
		return "{" + strings.TrimSuffix(out, "; ") + "}"
	case *glua.LFunction:
		return fmt.Sprintf(`"function@%p"`, v)
	case *glua.LUserData:
		return fmt.Sprintf(`"userdata@%p"`, v)
	case *glua.LState:
		return fmt.Sprintf(`"thread@%p"`, v)
	}
	if v == glua.LNil {
		return "nil"
	}
	return `"<unknown-lua-type>"`
}

// cFormatG formats f as C's printf("%g").
func cFormatG(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// debugLog is redis.debug(): its arguments logged, when a debugging
// session runs.
func (s *state) debugLog(L *glua.LState) int {
	l := s.ldb
	if l == nil {
		return 0
	}
	n := L.GetTop()
	parts := make([]string, n)
	for i := 1; i <= n; i++ {
		parts[i-1] = reprValue(L.Get(i), 0)
	}
	l.log(fmt.Sprintf("<debug> line %d: %s", l.line, strings.Join(parts, ", ")))
	return 0
}

// breakpoint is redis.breakpoint(): a stop at the next line, when a
// debugging session runs.
func (s *state) breakpoint(L *glua.LState) int {
	if s.ldb == nil {
		L.Push(glua.LFalse)
		return 1
	}
	s.ldb.luabp = true
	L.Push(glua.LTrue)
	return 1
}

// callDebug is redis.call's host call while the debugger steps: the
// command and its reply are logged.
func (s *state) callDebug(argv [][]byte) {
	l := s.ldb
	l.logCall(argv)
	var w resp.Writer
	w.Proto = s.run.Resp
	var rejected rejectNote
	tee := teeWriter{a: &s.lw, b: &w, rejected: &rejected}
	s.run.Host.Call(argv, tee)
	if rejected.set {
		// refused before it ran (Redis's scriptCall error): luaPushError
		// logs the message, and there is no reply to log
		l.log("<error> " + rejectText(rejected.msg))
		return
	}
	l.logReply(w.Buf)
}

// rejectNote records the error of a command refused before it ran.
type rejectNote struct {
	set bool
	msg string
}

// rejectText is the text Redis 7.0's scriptCall gives a refusal: its own
// messages without the ERR code (luaPushError adds it back for the
// script), shared error replies (READONLY, OOM, NOREPLICAS...) as their
// whole protocol line.
func rejectText(msg string) string {
	if m, ok := strings.CutPrefix(msg, "ERR "); ok {
		return m
	}
	return "-" + msg + "\r\n"
}

var ldbHelp = []string{
	"Redis Lua debugger help:",
	"[h]elp               Show this help.",
	"[s]tep               Run current line and stop again.",
	"[n]ext               Alias for step.",
	"[c]ontinue           Run till next breakpoint.",
	"[l]ist               List source code around current line.",
	"[l]ist [line]        List source code around [line].",
	"                     line = 0 means: current position.",
	"[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
	"                     to show before/after [line].",
	"[w]hole              List all source code. Alias for 'list 1 1000000'.",
	"[p]rint              Show all the local variables.",
	"[p]rint <var>        Show the value of the specified variable.",
	"                     Can also show global vars KEYS and ARGV.",
	"[b]reak              Show all breakpoints.",
	"[b]reak <line>       Add a breakpoint to the specified line.",
	"[b]reak -<line>      Remove breakpoint from the specified line.",
	"[b]reak 0            Remove all breakpoints.",
	"[t]race              Show a backtrace.",
	"[e]val <code>        Execute some Lua code (in a different callframe).",
	"[r]edis <cmd>        Execute a Redis command.",
	"[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
	"                     Specifying zero as <len> means unlimited.",
	"[a]bort              Stop the execution of the script. In sync",
	"                     mode dataset changes will be retained.",
	"",
	"Debugger functions you can call from Lua scripts:",
	"redis.debug()        Produce logs in the debugger console.",
	"redis.breakpoint()   Stop execution like if there was a breakpoint in the",
	"                     next line of code.",
}

// teeWriter writes a reply to two writers, and notes a refusal (the
// executor's RejectWatcher) in rejected.
type teeWriter struct {
	a, b     resp.ReplyWriter
	rejected *rejectNote
}

// Rejected implements exec.RejectWatcher.
func (t teeWriter) Rejected(msg string) { *t.rejected = rejectNote{set: true, msg: msg} }

func (t teeWriter) Simple(s string)     { t.a.Simple(s); t.b.Simple(s) }
func (t teeWriter) OK()                 { t.a.OK(); t.b.OK() }
func (t teeWriter) Error(msg string)    { t.a.Error(msg); t.b.Error(msg) }
func (t teeWriter) Int(n int64)         { t.a.Int(n); t.b.Int(n) }
func (t teeWriter) Bulk(b []byte)       { t.a.Bulk(b); t.b.Bulk(b) }
func (t teeWriter) BulkString(s string) { t.a.BulkString(s); t.b.BulkString(s) }
func (t teeWriter) BulkInt(n int64)     { t.a.BulkInt(n); t.b.BulkInt(n) }
func (t teeWriter) Null()               { t.a.Null(); t.b.Null() }
func (t teeWriter) NullArray()          { t.a.NullArray(); t.b.NullArray() }
func (t teeWriter) Array(n int)         { t.a.Array(n); t.b.Array(n) }
func (t teeWriter) Map(n int)           { t.a.Map(n); t.b.Map(n) }
func (t teeWriter) Set(n int)           { t.a.Set(n); t.b.Set(n) }
func (t teeWriter) Push(n int)          { t.a.Push(n); t.b.Push(n) }
func (t teeWriter) Bool(b bool)         { t.a.Bool(b); t.b.Bool(b) }
func (t teeWriter) Double(f float64)    { t.a.Double(f); t.b.Double(f) }
func (t teeWriter) BigNumber(n string)  { t.a.BigNumber(n); t.b.BigNumber(n) }
func (t teeWriter) Verbatim(format, s string) {
	t.a.Verbatim(format, s)
	t.b.Verbatim(format, s)
}
func (t teeWriter) ProtoVersion() int { return t.a.ProtoVersion() }
