package lua

import (
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/crescent-db/crescent/internal/script"
	glua "github.com/yuin/gopher-lua"
)

// inf is math.huge (HUGE_VAL).
var inf = math.Inf(1)

// Replication flags of redis.set_repl.
const (
	replNone  = 0
	replAOF   = 1
	replSlave = 2
	replAll   = replAOF | replSlave
)

// redisLib builds the redis table.
func (s *state) redisLib() *glua.LTable {
	L := s.L
	t := L.NewTable()
	fns := map[string]glua.LGFunction{
		"call":               func(L *glua.LState) int { return s.call(L, true) },
		"pcall":              func(L *glua.LState) int { return s.call(L, false) },
		"error_reply":        errorReply,
		"status_reply":       statusReply,
		"sha1hex":            sha1hex,
		"log":                s.log,
		"setresp":            s.setresp,
		"set_repl":           s.setRepl,
		"replicate_commands": func(L *glua.LState) int { L.Push(glua.LTrue); return 1 },
		"breakpoint":         s.breakpoint,
		"debug":              s.debugLog,
		"acl_check_cmd":      s.aclCheckCmd,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]int{
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": replNone, "REPL_AOF": replAOF, "REPL_SLAVE": replSlave,
		"REPL_REPLICA": replSlave, "REPL_ALL": replAll,
	} {
		t.RawSetString(name, glua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", glua.LString(s.e.opts.Version))
	t.RawSetString("REDIS_VERSION_NUM", glua.LNumber(s.e.opts.VersionNum))
	return t
}

// errorTable builds Redis's error table from "-CODE msg" or "msg" (which
// gets the ERR code), as luaPushErrorBuff does.
func errorTable(L *glua.LState, msg string) *glua.LTable {
	t := L.CreateTable(0, 2)
	t.RawSetString("err", glua.LString(normalizeError(msg)))
	return t
}

func normalizeError(msg string) string {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if sp := strings.IndexByte(msg, ' '); sp < 0 {
			msg = msg[1:]
		} else {
			code = msg[1:sp]
			msg = msg[sp+1:]
		}
	}
	msg = strings.Trim(msg, "\r\n")
	return code + " " + msg
}

// raiseError raises an error table built from msg (luaPushError +
// luaError).
func raiseError(L *glua.LState, msg string) {
	L.Error(errorTable(L, msg), 0)
}

// callArgs converts the Lua arguments of redis.call into argv, reusing the
// state's buffers, or appending to the run's (script.Run.ArgBytes), which
// the host keeps. ok is false when an argument is not a string or number.
func (s *state) callArgs(L *glua.LState, from int) ([][]byte, bool) {
	// One pass over the stack: argv's slices stay valid when buf grows
	// (each keeps the array it was cut from), and buf keeps its capacity
	// from call to call.
	bufp, argvp := &s.argbuf, &s.argv
	buf, argv := s.argbuf[:0], s.argv[:0]
	if r := s.run; r != nil && r.ArgBytes != nil {
		bufp, argvp = r.ArgBytes, r.ArgSlices
		buf, argv = *bufp, *argvp
	}
	first := len(argv)
	for _, v := range L.Args()[from-1:] {
		start := len(buf)
		switch v := v.(type) {
		case glua.LString:
			buf = append(buf, v...)
		case glua.LNumber:
			buf = appendNumberArg(buf, float64(v))
		default:
			*bufp, *argvp = buf, argv
			return nil, false
		}
		argv = append(argv, buf[start:len(buf):len(buf)])
	}
	*bufp, *argvp = buf, argv
	return argv[first:len(argv):len(argv)], true
}

// appendNumberArg appends f as redis.call passes a number argument: "%.17g"
// (Redis's fpconv_dtoa) in C's notation. An integral value below 1e15 in
// magnitude, the common case (counts, TTLs, limits), prints as that integer
// under "%.17g", so it takes strconv.AppendInt; negative zero ("-0") and
// everything else take the general path.
func appendNumberArg(buf []byte, f float64) []byte {
	if i := int64(f); float64(i) == f && i > -1e15 && i < 1e15 && (i != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(buf, i, 10)
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'g', 17, 64)
	return fixExp(buf, start, f)
}

// fixExp rewrites Go's exponent ("e+20", "e-07") the C way: at least two
// exponent digits, which Go already does; and "NaN"/"+Inf" the glibc way.
func fixExp(buf []byte, start int, f float64) []byte {
	switch string(buf[start:]) {
	case "NaN":
		if math.Signbit(f) {
			return append(buf[:start], "-nan"...)
		}
		return append(buf[:start], "nan"...)
	case "+Inf":
		return append(buf[:start], "inf"...)
	case "-Inf":
		return append(buf[:start], "-inf"...)
	}
	return buf
}

func (s *state) call(L *glua.LState, raise bool) int {
	if L.GetTop() == 0 {
		return s.callError(L, raise, "Please specify at least one argument for this redis lib call")
	}
	argv, ok := s.callArgs(L, 1)
	if !ok {
		return s.callError(L, raise, "Lua redis lib command arguments must be strings or integers")
	}
	run := s.run
	s.lw.reset(run.Resp)
	if s.ldb != nil && s.ldb.step {
		s.callDebug(argv) // logs the command and its reply (ldb.go)
	} else {
		run.Host.Call(argv, &s.lw)
	}
	v, isErr := s.lw.result()
	if isErr {
		v.(*glua.LTable).RawSetString("ignore_error_stats_update", glua.LTrue)
		if raise {
			L.Error(v, 0)
		}
	}
	L.Push(v)
	return 1
}

func (s *state) callError(L *glua.LState, raise bool, msg string) int {
	if s.ldb != nil && s.ldb.step {
		s.ldb.log("<error> " + msg)
	}
	t := errorTable(L, msg)
	if raise {
		L.Error(t, 0)
	}
	L.Push(t)
	return 1
}

func errorReply(L *glua.LState) int {
	v, ok := L.Get(1).(glua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	msg := cString(string(v)) // sdscatfmt("-%s") / sdsnew
	if !strings.HasPrefix(msg, "-") {
		msg = "-" + msg
	}
	L.Push(errorTable(L, msg))
	return 1
}

func statusReply(L *glua.LState) int {
	v, ok := L.Get(1).(glua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", v)
	L.Push(t)
	return 1
}

func sha1hex(L *glua.LState) int {
	if L.GetTop() != 1 {
		raiseError(L, "wrong number of arguments")
	}
	var b []byte
	switch v := L.Get(1).(type) {
	case glua.LString:
		b = []byte(v)
	case glua.LNumber:
		b = []byte(fmtNumber(float64(v)))
	}
	L.Push(glua.LString(script.SHA1Hex(b)))
	return 1
}

func (s *state) log(L *glua.LState) int {
	n := L.GetTop()
	if n < 2 {
		raiseError(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(glua.LNumber)
	if !ok {
		raiseError(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < 0 || level > 3 {
		raiseError(L, "Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		var part string
		switch v := L.Get(i).(type) {
		case glua.LString:
			part = string(v)
		case glua.LNumber:
			part = fmtNumber(float64(v))
		default:
			continue
		}
		if i != 2 {
			b.WriteByte(' ')
		}
		b.WriteString(part)
	}
	if s.run != nil && s.run.Log != nil {
		s.run.Log(level, b.String())
	}
	return 0
}

func (s *state) setresp(L *glua.LState) int {
	if L.GetTop() != 1 {
		raiseError(L, "redis.setresp() requires one argument.")
	}
	p := 0
	if n, ok := L.Get(1).(glua.LNumber); ok {
		p = int(n)
	} else if str, ok := L.Get(1).(glua.LString); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(str)), 64); err == nil {
			p = int(f)
		}
	}
	if p != 2 && p != 3 {
		raiseError(L, "RESP version must be 2 or 3.")
	}
	s.run.SetResp(p)
	return 0
}

func (s *state) setRepl(L *glua.LState) int {
	if L.GetTop() != 1 {
		raiseError(L, "redis.set_repl() requires two arguments.")
	}
	// lua_tonumber: a number, or a string that reads as one (strtod:
	// " 12 ", "0x10", "1e5", "nan"), else 0; then C's (int) conversion
	// (INT_MIN when out of range, NaN included)
	f := math.MinInt32
	if x := float64(glua.LVAsNumber(L.Get(1))); x > -2147483649 && x < 2147483648 {
		f = int(x)
	}
	if f&^replAll != 0 {
		raiseError(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	if s.run == nil {
		return 0
	}
	if r, ok := s.run.Host.(script.Replicator); ok {
		r.SetRepl(f)
	}
	return 0
}

func (s *state) aclCheckCmd(L *glua.LState) int {
	if L.GetTop() == 0 {
		raiseError(L, "Please specify at least one argument for this redis lib call")
	}
	argv, ok := s.callArgs(L, 1)
	if !ok {
		raiseError(L, "Lua redis lib command arguments must be strings or integers")
	}
	allowed, msg := s.run.Host.CheckACL(argv)
	if msg != "" {
		raiseError(L, strings.TrimPrefix(msg, "ERR "))
	}
	L.Push(glua.LBool(allowed))
	return 1
}

// lrand48 is Redis's rand.c generator behind math.random: one sequence
// for the whole server, as Redis's, which scripts on disjoint keys
// running at once on two cores draw from together (atomically: each
// number is drawn once).
type lrand48 struct{ x atomic.Uint64 }

func (r *lrand48) seed(s int32) { r.x.Store(uint64(uint32(s))<<16 | 0x330E) }

func (r *lrand48) next() int32 {
	for {
		old := r.x.Load()
		x := (0x5DEECE66D*old + 0xB) & (1<<48 - 1)
		if r.x.CompareAndSwap(old, x) {
			return int32(x >> 17)
		}
	}
}

const lrandMax = math.MaxInt32

func (e *Engine) mathRandom(L *glua.LState) int {
	r := float64(e.rng.next()%lrandMax) / float64(lrandMax)
	switch L.GetTop() {
	case 0:
		L.Push(glua.LNumber(r))
	case 1:
		u := toInt(float64(L.CheckNumber(1)))
		if u < 1 {
			argError(L, 1, "interval is empty")
		}
		L.Push(glua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l := toInt(float64(L.CheckNumber(1)))
		u := toInt(float64(L.CheckNumber(2)))
		if l > u {
			argError(L, 2, "interval is empty")
		}
		L.Push(glua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		raise(L, "wrong number of arguments")
	}
	return 1
}

func (e *Engine) mathRandomseed(L *glua.LState) int {
	e.rng.seed(toInt(float64(L.CheckNumber(1))))
	return 0
}
