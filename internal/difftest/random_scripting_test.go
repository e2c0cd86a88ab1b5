package difftest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestRandomScripting runs seeded random commands through scripts and
// functions against Redis and Crescent, and the script and function
// management commands themselves. The commands of the other random tests
// (strings, lists, hashes, sets, sorted sets, geo, HyperLogLog, bitmaps,
// streams) go through EVAL, EVAL_RO, shebang scripts with random flags and
// FCALL/FCALL_RO of a loaded library, with redis.call, redis.pcall (the
// error table returned or read), redis.setresp(3), the key declared in KEYS
// or not, and now and then a script that describes the Lua value a reply
// became (maps, sets, doubles, big numbers, nulls, booleans). Around them:
// commands refused in scripts, redis.call with wrong argument types, SCRIPT
// LOAD/EXISTS/FLUSH, EVALSHA of known, unknown, short and upper-case shas,
// FUNCTION LOAD [REPLACE] of random library code, LIST [WITHCODE]
// [LIBRARYNAME], DELETE, FLUSH, STATS, DUMP and RESTORE with every policy
// and corrupt payloads, FCALL with bad numkeys. See normScripting for what
// is normalised.
func TestRandomScripting(t *testing.T) {
	clock := streamClock{}
	randomRun{gen: withTx(randomScriptingCommand), salt: 0x5c1f, clockStreams: true,
		setup: func(t *testing.T, conn *Conn) {
			clear(clock)
			setConfigFor(t, conn, "hash-max-listpack-entries", "8", "set-max-intset-entries", "8",
				"list-max-listpack-size", "4", "zset-max-listpack-entries", "8",
				"hll-sparse-max-bytes", "200", "stream-node-max-entries", "4")
			conn.MustDo(t, "FUNCTION", "FLUSH")
			conn.MustDo(t, "SCRIPT", "FLUSH")
			conn.MustDo(t, "CONFIG", "RESETSTAT")
			conn.MustDo(t, "FUNCTION", "LOAD", scriptingLib)
			t.Cleanup(func() { conn.Do("FUNCTION", "FLUSH") })
		},
		normalize: withTxNorm(func(args []string, b []byte) []byte {
			b = normScripting(args, b)
			if inner := innerCommand(args); inner != nil {
				args = inner
			}
			return clock.mark(args, b)
		})}.run(t)
}

// scriptingLib holds the functions that run a command given as arguments:
// rcall (redis.call), rpcall (redis.pcall), r3call (RESP3), rocall
// (no-writes), kcall (keys[1] is the command's key) and rdump (describes the
// Lua value of the reply).
const scriptingLib = "#!lua name=crlib\n" +
	"redis.register_function('rcall', function(keys, args) return redis.call(unpack(args)) end)\n" +
	"redis.register_function('rpcall', function(keys, args) return redis.pcall(unpack(args)) end)\n" +
	"redis.register_function('r3call', function(keys, args) redis.setresp(3) return redis.call(unpack(args)) end)\n" +
	"redis.register_function{function_name='rocall', callback=function(keys, args) return redis.call(unpack(args)) end, flags={'no-writes'}}\n" +
	"redis.register_function{function_name='kcall', callback=function(keys, args) return redis.call(args[1], keys[1], unpack(args, 2)) end, flags={'allow-oom', 'allow-stale'}}\n" +
	"local " + luaDump + "\n" +
	"redis.register_function('rdump', function(keys, args) redis.setresp(3) return dump(redis.pcall(unpack(args))) end)\n"

// luaDump is a Lua function dump(v) that writes a value as text, table
// keys sorted by their own text (tables too: a RESP3 set of statuses has
// tables as keys), numbers with 17 digits: it shows exactly what a reply
// became in Lua.
const luaDump = "function dump(v) local t = type(v) " +
	"if t == 'table' then local ks = {} for k in pairs(v) do ks[#ks+1] = k end " +
	"table.sort(ks, function(a, b) return dump(a) < dump(b) end) " +
	"local p = {} for _, k in ipairs(ks) do p[#p+1] = dump(k) .. '=' .. dump(v[k]) end " +
	"return '{' .. table.concat(p, ',') .. '}' " +
	"elseif t == 'string' then return string.format('%q', v) " +
	"elseif t == 'number' then return string.format('n:%.17g', v) end " +
	"return t .. ':' .. tostring(v) end"

var (
	wrapCall   = "return redis.call(unpack(ARGV))"
	wrapPcall  = "return redis.pcall(unpack(ARGV))"
	wrapResp3  = "redis.setresp(3) return redis.call(unpack(ARGV))"
	wrapPerr   = "local r = redis.pcall(unpack(ARGV)) if type(r) == 'table' and r.err then return 'E:' .. r.err end return r"
	wrapKeyed  = "return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))"
	wrapDump   = "redis.setresp(3) local " + luaDump + " return dump(redis.pcall(unpack(ARGV)))"
	wrapDump2  = "local " + luaDump + " return dump(redis.pcall(unpack(ARGV)))"
	scriptFlag = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}
)

// isWrapperBody reports whether body is one normScripting recognises as running ARGV
// (or ARGV[1], KEYS[1], ARGV[2...]) as a command.
func isWrapperBody(body string) (ok, keyed bool) {
	if _, rest, found := strings.Cut(body, "\n"); found && strings.HasPrefix(body, "#!") {
		body = rest
	}
	switch body {
	case wrapCall, wrapPcall, wrapResp3, wrapPerr, wrapDump, wrapDump2:
		return true, false
	case wrapKeyed:
		return true, true
	}
	return false, false
}

// innerCommand is the command a wrapped script or function runs, or nil.
func innerCommand(args []string) []string {
	if len(args) < 3 {
		return nil
	}
	keyed := false
	switch strings.ToUpper(args[0]) {
	case "EVAL", "EVAL_RO":
		ok, k := isWrapperBody(args[1])
		if !ok {
			return nil
		}
		keyed = k
	case "FCALL", "FCALL_RO":
		switch args[1] {
		case "rcall", "rpcall", "r3call", "rocall", "rdump":
		case "kcall":
			keyed = true
		default:
			return nil
		}
	default:
		return nil
	}
	n, err := strconv.Atoi(args[2])
	if err != nil || n < 0 || 3+n > len(args) {
		return nil
	}
	rest := args[3+n:]
	if keyed {
		if n != 1 || len(rest) == 0 {
			return nil
		}
		return append([]string{rest[0], args[3]}, rest[1:]...)
	}
	if len(rest) == 0 {
		return nil
	}
	return rest
}

// dumpsReply reports whether args run a command through rdump or a dump
// wrapper: the reply is a Lua description, not the command's reply.
func dumpsReply(args []string) bool {
	if len(args) < 2 {
		return false
	}
	if args[0] == "FCALL" || args[0] == "FCALL_RO" {
		return args[1] == "rdump"
	}
	ok, _ := isWrapperBody(args[1])
	return ok && strings.Contains(args[1], "dump(")
}

// unorderedOrRandom are commands whose replies are normalised (their order
// or values are the server's own): never described by a dump wrapper, which
// would turn them into one string.
var unorderedOrRandom = map[string]bool{"SMEMBERS": true, "SINTER": true, "SUNION": true, "SDIFF": true,
	"HGETALL": true, "HKEYS": true, "HVALS": true, "KEYS": true, "SCAN": true, "HSCAN": true, "SSCAN": true, "ZSCAN": true,
	"SORT": true, "SORT_RO": true, "HRANDFIELD": true, "SRANDMEMBER": true, "SPOP": true, "ZRANDMEMBER": true,
	"DUMP": true, "TTL": true, "PTTL": true, "EXPIRETIME": true, "PEXPIRETIME": true, "ROUNDTRIP": true,
	"HELLO": true, "SELECT": true, "EVAL": true, "TIME": true, "RANDOMKEY": true}

// clockStream are stream commands whose replies hold idle or delivery
// times: normalised by streamNormalize, never dumped.
var clockStream = map[string]bool{"XINFO": true, "XPENDING": true, "XCLAIM": true, "XAUTOCLAIM": true}

// normScripting normalises the inner command's reply as its own random
// test does (normStrings, randomReplyShape for ZRANDMEMBER,
// streamNormalize for streams), drops HELLO's reply, sorts FUNCTION LIST
// (libraries and functions come in dict order, random per Redis process)
// and compares FUNCTION DUMP payloads only by shape (the libraries' order
// again; their content is checked by restoring them).
func normScripting(args []string, b []byte) []byte {
	// which of several libraries or functions collides first follows
	// Redis's dict order
	b = collisionRe.ReplaceAll(b, []byte("-ERR $1 * already exists"))
	if inner := innerCommand(args); inner != nil {
		if dumpsReply(args) {
			if inner[0] != "" && (inner[0][0] == 'X' || inner[0][0] == 'x') {
				return eraIDRe.ReplaceAll(b, []byte("TIME-ID"))
			}
			return b
		}
		args = inner
	}
	name := strings.ToUpper(args[0])
	switch {
	case name == "INFO":
		// calls, rejected and failed calls (not the time spent), sorted:
		// Redis lists commands in its dict's order
		v, _, err := Parse(b)
		if err != nil || len(v.Str) == 0 {
			return b
		}
		lines := strings.Split(string(usecRe.ReplaceAll(v.Str, nil)), "\r\n")
		sort.Strings(lines)
		return []byte(strings.Join(lines, "\n"))
	case name == "FUNCTION" && len(args) > 1 && strings.EqualFold(args[1], "LIST"):
		return functionListNorm(b)
	case name == "FUNCTION" && len(args) > 1 && strings.EqualFold(args[1], "DUMP"):
		return replyShape(b)
	case name == "ZRANDMEMBER":
		return randomReplyShape(b)
	case name == "ZSCAN":
		return scanPairsSorted(b)
	case name == "DUMP":
		// a stream's payload holds its consumers' seen times
		if v, _, err := Parse(b); err == nil && v.Type == '$' && len(v.Str) > 0 && (v.Str[0] == 15 || v.Str[0] == 19 || v.Str[0] == 21) {
			return replyShape(b)
		}
	case name != "" && name[0] == 'X':
		return streamNormalize(append([]string{name}, args[1:]...), b)
	}
	return normStrings(args, b)
}

var (
	usecRe      = regexp.MustCompile(`usec(_per_call)?=[0-9.]+,`)
	collisionRe = regexp.MustCompile(`^-ERR (Library|Function) \S+ already exists`)
	// eraIDRe is a stream ID made by * (see eraID) in a dumped reply
	eraIDRe = regexp.MustCompile(`1[0-9]{12}-[0-9]+`)
)

// functionListNorm sorts FUNCTION LIST's libraries and each library's
// functions.
func functionListNorm(b []byte) []byte {
	v, _, err := Parse(b)
	if err != nil || v.Type == '-' || v.Null {
		return b
	}
	var libs []string
	for _, lib := range v.Elems {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%c%d:", lib.Type, len(lib.Elems))
		for i := 0; i < len(lib.Elems); i++ {
			e := lib.Elems[i]
			sb.Write(e.Raw)
			if string(e.Str) == "functions" && i+1 < len(lib.Elems) {
				i++
				sb.Write(SortedReply(lib.Elems[i].Raw))
			}
		}
		libs = append(libs, sb.String())
	}
	sort.Strings(libs)
	return []byte(fmt.Sprintf("%c%d:%s", v.Type, len(libs), strings.Join(libs, "|")))
}

// scriptBodies are scripts for SCRIPT LOAD, EVAL and EVALSHA: good ones,
// shebangs with and without flags, bad flags and syntax errors.
var scriptBodies = []string{
	"return 1",
	"return redis.call('GET', KEYS[1])",
	"return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
	"return redis.call('SET', KEYS[1], ARGV[1])",
	"#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])",
	"#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'x')",
	"#!lua\nreturn redis.call('SET', KEYS[1], ARGV[1])",
	"#!lua flags=no-writes,allow-oom\nreturn 2",
	"#!lua flags=\nreturn 3",
	"#!lua flags=bogus\nreturn 1",
	"#!lua name=x\nreturn 1",
	"#!lua flags=no-writes flags=allow-oom\nreturn 1",
	"#!luax\nreturn 1",
	"#!js\nreturn 1",
	"#!lua\n",
	"return 1 +",
	"error('boom')",
	"return redis.error_reply('MY err')",
	"return redis.status_reply('FINE')",
	"",
}

// sha1Of is the hex SHA1 of s, as SCRIPT LOAD answers it.
func sha1Of(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// randomSha is a sha for EVALSHA and SCRIPT EXISTS: of a known body (maybe
// upper-case), unknown, short or long.
func randomSha(rng *rand.Rand) string {
	switch rng.IntN(8) {
	case 0:
		return strings.ToUpper(sha1Of(scriptBodies[rng.IntN(len(scriptBodies))]))
	case 1:
		return pickS(rng, "0000000000000000000000000000000000000000", "abc", "",
			sha1Of("return 1")+"0", sha1Of("return 1")[:39], "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
	default:
		return sha1Of(scriptBodies[rng.IntN(len(scriptBodies))])
	}
}

func pickS(rng *rand.Rand, s ...string) string { return s[rng.IntN(len(s))] }

// dataCommand is a command of the other random tests, unwrapped if that
// test had already put it in a script.
func dataCommand(rng *rand.Rand) []string {
	var cmd []string
	switch rng.IntN(3) {
	case 0:
		cmd = randomStringsCommand(rng)
	case 1:
		cmd = randomZsetCommand(rng)
	default:
		cmd = randomStreamCommand(rng)
	}
	if cmd[0] == "EVAL" && (cmd[1] == scriptBody || cmd[1] == scriptBody2) {
		cmd = cmd[3:]
	}
	return cmd
}

// randomScriptingCommand is one command of TestRandomScripting.
func randomScriptingCommand(rng *rand.Rand) []string {
	pick := func(s ...string) string { return pickS(rng, s...) }
	switch rng.IntN(43) {
	case 42:
		// the key specs of the command table, as scripts and clients see
		// them
		return append([]string{"COMMAND", pick("GETKEYS", "GETKEYSANDFLAGS")}, dataCommand(rng)...)
	case 0:
		return []string{"HELLO", pick("2", "3")}
	case 40:
		// how scripts' commands and errors are counted
		return []string{"INFO", pick("errorstats", "commandstats")}
	case 41:
		// the command table as redis.acl_check_cmd sees it
		cmd := dataCommand(rng)
		if rng.IntN(4) == 0 {
			cmd = refusedInScript(rng)[3:]
		}
		return append([]string{"EVAL", "return redis.acl_check_cmd(unpack(ARGV))", "0"}, cmd...)
	case 1, 2, 3:
		return scriptManagement(rng)
	case 4, 5, 6:
		return functionManagement(rng)
	case 7:
		return refusedInScript(rng)
	case 8:
		return badCallArgs(rng)
	case 9:
		// FCALL / FCALL_RO with bad numkeys and unknown functions
		cmd := []string{pick("FCALL", "FCALL_RO", "fcall"), pick("rcall", "rocall", "nosuch", "RCALL", "fa", "fb", ""),
			pick("0", "-1", "x", "3", "1", "9223372036854775808", "2147483648", "1.5", "")}
		for n := rng.IntN(3); n > 0; n-- {
			cmd = append(cmd, pick("k", "GET", "PING", "s1"))
		}
		return cmd
	}
	cmd := dataCommand(rng)
	name := strings.ToUpper(cmd[0])
	switch name {
	case "ROUNDTRIP", "HELLO", "SELECT", "EVAL":
		return cmd
	}
	var prefix []string
	keyed := false
	switch rng.IntN(14) {
	case 0:
		prefix = []string{"EVAL", wrapCall, "0"}
	case 1:
		prefix = []string{"EVAL", wrapPcall, "0"}
	case 2:
		prefix = []string{"EVAL", wrapResp3, "0"}
	case 3:
		prefix = []string{"EVAL", wrapPerr, "0"}
	case 4:
		prefix = []string{pick("EVAL", "EVAL_RO"), wrapKeyed, "1"}
		keyed = true
	case 5:
		prefix = []string{"EVAL_RO", pick(wrapCall, wrapPcall, wrapResp3, wrapPerr), "0"}
	case 6:
		// a shebang with random flags
		var flags []string
		for _, f := range scriptFlag {
			if rng.IntN(3) == 0 {
				flags = append(flags, f)
			}
		}
		shebang := "#!lua"
		if len(flags) > 0 || rng.IntN(2) == 0 {
			shebang += " flags=" + strings.Join(flags, ",")
		}
		prefix = []string{pick("EVAL", "EVAL", "EVAL_RO"), shebang + "\n" + pick(wrapCall, wrapPcall, wrapResp3, wrapKeyed), "0"}
		if strings.HasSuffix(prefix[1], wrapKeyed) {
			prefix[2] = "1"
			keyed = true
		}
	case 7, 8:
		if unorderedOrRandom[name] || clockStream[name] {
			prefix = []string{"EVAL", wrapCall, "0"}
		} else {
			prefix = []string{"EVAL", pick(wrapDump, wrapDump2), "0"}
		}
	case 9:
		prefix = []string{"FCALL", pick("rcall", "rpcall", "r3call", "rocall"), "0"}
	case 10:
		prefix = []string{"FCALL_RO", pick("rcall", "rocall", "r3call"), "0"}
	case 11:
		prefix = []string{pick("FCALL", "FCALL_RO"), "kcall", "1"}
		keyed = true
	case 12:
		if unorderedOrRandom[name] || clockStream[name] {
			prefix = []string{"FCALL", "rcall", "0"}
		} else {
			prefix = []string{"FCALL", "rdump", "0"}
		}
	default:
		return cmd
	}
	if sortNilOrder(cmd) {
		// RESP3 nulls would end the array in Lua where the set's order puts
		// the first one (see sortNilOrder)
		switch {
		case prefix[1] == wrapResp3 || strings.HasSuffix(prefix[1], "\n"+wrapResp3):
			prefix[1] = strings.TrimSuffix(prefix[1], wrapResp3) + wrapCall
		case prefix[1] == "r3call":
			prefix[1] = "rcall"
		}
	}
	if keyed {
		if len(cmd) < 2 {
			prefix[len(prefix)-1] = "0"
			if prefix[0] == "FCALL" || prefix[0] == "FCALL_RO" {
				prefix[1] = "rcall"
			} else {
				prefix[1] = wrapCall
			}
			return append(prefix, cmd...)
		}
		return append(append(prefix, cmd[1], cmd[0]), cmd[2:]...)
	}
	return append(prefix, cmd...)
}

// scriptManagement is a SCRIPT command, an EVALSHA or an EVAL of one of
// scriptBodies with random numkeys.
func scriptManagement(rng *rand.Rand) []string {
	pick := func(s ...string) string { return pickS(rng, s...) }
	body := scriptBodies[rng.IntN(len(scriptBodies))]
	keysArgs := func() []string {
		n := rng.IntN(3)
		a := []string{strconv.Itoa(n)}
		if rng.IntN(8) == 0 {
			a[0] = pick("-1", "x", "5", "9223372036854775808", "2147483648", "1.0", "")
		}
		for i := 0; i < n; i++ {
			a = append(a, pick("s1", "k", "z1"))
		}
		for i := rng.IntN(3); i > 0; i-- {
			a = append(a, pick("v", "", "1"))
		}
		return a
	}
	switch rng.IntN(9) {
	case 0, 1:
		return []string{"SCRIPT", pick("LOAD", "load"), body}
	case 2:
		cmd := []string{"SCRIPT", "EXISTS"}
		for n := rng.IntN(6); n >= 0; n-- {
			cmd = append(cmd, randomSha(rng))
		}
		return cmd
	case 3:
		if rng.IntN(4) > 0 {
			return []string{"SCRIPT", pick("EXISTS", "LOAD", "KILL", "FOO", "FLUSH")}
		}
		return []string{"SCRIPT", "FLUSH", pick("ASYNC", "SYNC", "async", "BOGUS"), pick("ASYNC", "SYNC")}[:2+rng.IntN(3)]
	case 4, 5:
		return append([]string{pick("EVALSHA", "EVALSHA_RO", "evalsha"), randomSha(rng)}, keysArgs()...)
	case 6:
		return []string{"SCRIPT", "KILL"}
	default:
		return append([]string{pick("EVAL", "EVAL_RO"), body}, keysArgs()...)
	}
}

// libraryCode is random library source for FUNCTION LOAD: headers good
// and bad, functions registered by name or by table with flags (also
// unknown ones), duplicates, bad names, syntax and runtime errors, and
// calls not allowed while loading.
func libraryCode(rng *rand.Rand) string {
	pick := func(s ...string) string { return pickS(rng, s...) }
	lib := pick("la", "lb", "la", "lb", "LA", "crlib")
	var sb strings.Builder
	switch rng.IntN(14) {
	case 0:
		sb.WriteString(pick("#!lua", "#!js name="+lib, "", "#!lua name=bad-name", "#!lua name="+lib+" foo=bar",
			"#!lua name="+lib+" name=lc", "#! name="+lib, "#!lua name=", "#!lua name=\""+lib+"\"", "#!LUA NAME="+lib))
	default:
		sb.WriteString("#!lua name=" + lib)
	}
	// No names that differ only in case: a library holding fa and Fa
	// crashes redis-server 7.0.15 when a FUNCTION LOAD REPLACE of it
	// fails (TestFunctionReplaceCaseVariants checks Crescent there).
	fn := func() string { return pick("fa", "fb", "fc", "fa", "fb", "f-x", "", "rcall", "f_1") }
	body := func() string {
		return pick("return #keys", "return args[1]", "return redis.call('GET', keys[1])",
			"return redis.call('SET', keys[1], args[1])", "return {keys[1], args}", "return redis.setresp(3)",
			"redis.setresp(3) return redis.call('ZRANGE', keys[1], 0, -1, 'WITHSCORES')", "return redis.call('PING')", "error('fail')",
			"return redis.error_reply('LIBERR x')", "return nil", "return 1.5",
			// the function environment: no KEYS/ARGV globals, read-only
			// globals, no register_function at run time
			"return KEYS[1]", "x = 1 return x", "return redis.register_function('z', function() end)",
			"return redis.REDIS_VERSION ~= nil", "return redis.call('FUNCTION', 'LIST')",
			"redis.set_repl(redis.REPL_NONE) return 1", "return redis.acl_check_cmd('SET', 'k', 'v')",
			"return {pcall(redis.call, 'SET')}", "return redis.setresp(4)", "return redis.pcall('FCALL', 'fa', 0)",
			"return {redis.call('SET', keys[1], args[1] or 'x', 'GET')}", "return redis.status_reply('S')",
			"return {err='e1'}", "return {ok='o1'}", "return {double=1.5}", "return {map={a=1}}",
			"return "+luaGen{rng}.value(0))
	}
	flags := func() string {
		var f []string
		for n := rng.IntN(3); n > 0; n-- {
			f = append(f, "'"+pick(append(scriptFlag, "bogus", "NO-WRITES")...)+"'")
		}
		return "{" + strings.Join(f, ", ") + "}"
	}
	for n := rng.IntN(4); n >= 0; n-- {
		sb.WriteString("\n")
		switch rng.IntN(16) {
		case 0, 1, 2, 3:
			fmt.Fprintf(&sb, "redis.register_function('%s', function(keys, args) %s end)", fn(), body())
		case 4, 5, 6:
			fmt.Fprintf(&sb, "redis.register_function{function_name='%s', callback=function(keys, args) %s end, flags=%s}",
				fn(), body(), flags())
		case 7:
			sb.WriteString(pick(
				"redis.register_function{function_name='fa', callback=function() return 1 end, description='d'}",
				"redis.register_function{function_name='fa'}",
				"redis.register_function{callback=function() return 1 end}",
				"redis.register_function{function_name=1, callback=function() return 1 end}",
				"redis.register_function{function_name='fa', callback='x'}",
				"redis.register_function{function_name='fa', callback=function() return 1 end, flags='no-writes'}",
				"redis.register_function{function_name='fa', callback=function() return 1 end, flags={1}}",
				"redis.register_function{'fa', function() return 1 end}",
				"redis.register_function('fa', 'notfunc')",
				"redis.register_function('fa')",
				"redis.register_function()",
				"redis.register_function('fa', function() return 1 end, 'extra')",
				"redis.register_function(1, function() return 1 end)"))
		case 8:
			sb.WriteString(pick("local x = ", "error('load boom')", "return 1", "redis.call('PING')",
				"redis.pcall('PING')", "local t = redis.setresp", "x = 1", "local y = redis.REPL_ALL",
				"redis.log(redis.LOG_DEBUG, 'x')", "math.random()", "end", "local s = redis.sha1hex('a')"))
		default:
			fmt.Fprintf(&sb, "redis.register_function('%s', function(keys, args) %s end)", pick("fa", "fb", "fc", "fd"), body())
		}
	}
	return sb.String()
}

// TestFunctionReplaceCaseVariants checks Crescent where redis-server
// 7.0.15 fails an assertion (functions.c:291) and exits: a library holds
// two functions whose names differ only in case (function names are case
// insensitive in FCALL), and a FUNCTION LOAD REPLACE of it fails on a
// function of another library. Crescent answers the error and keeps the
// old library.
func TestFunctionReplaceCaseVariants(t *testing.T) {
	conn := Dial(t, StartCrescent(t))
	conn.MustDo(t, "FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('taken', function() return 0 end)")
	conn.MustDo(t, "FUNCTION", "LOAD", "#!lua name=lb\nredis.register_function('fa', function() return 'lower' end)\n"+
		"redis.register_function('Fa', function() return 'upper' end)")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"FUNCTION", "LOAD", "REPLACE", "#!lua name=lb\nredis.register_function('fa', function() return 1 end)\n" +
			"redis.register_function('taken', function() return 1 end)"}, "-ERR Function taken already exists\r\n"},
		{[]string{"FCALL", "fa", "0"}, "$5\r\nlower\r\n"},
		{[]string{"FCALL", "FA", "0"}, "$5\r\nlower\r\n"},
		{[]string{"FCALL", "taken", "0"}, ":0\r\n"},
		{[]string{"FUNCTION", "STATS"}, "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n" +
			"*4\r\n$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:3\r\n"},
	} {
		if got := string(conn.MustDo(t, c.args...)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
}

// functionManagement is a FUNCTION command, an FCALL of the random
// libraries' functions or a FUNCTION-ROUNDTRIP (see functionRoundTrip).
func functionManagement(rng *rand.Rand) []string {
	pick := func(s ...string) string { return pickS(rng, s...) }
	switch rng.IntN(14) {
	case 0, 1, 2:
		cmd := []string{"FUNCTION", "LOAD"}
		if rng.IntN(2) == 0 {
			cmd = append(cmd, pick("REPLACE", "replace", "BOGUS"))
		}
		return append(cmd, libraryCode(rng))
	case 3:
		return []string{"FUNCTION", "LOAD", "REPLACE", scriptingLib}
	case 4:
		cmd := []string{"FUNCTION", "LIST"}
		for n := rng.IntN(3); n > 0; n-- {
			if rng.IntN(2) == 0 {
				cmd = append(cmd, pick("WITHCODE", "withcode", "BOGUS"))
			} else {
				cmd = append(cmd, "LIBRARYNAME", pick("*", "l*", "la", "cr*", "L?", "[a-l]b", "nomatch"))
			}
		}
		if rng.IntN(10) == 0 {
			cmd = append(cmd, "LIBRARYNAME")
		}
		return cmd
	case 5:
		return []string{"FUNCTION", "DELETE", pick("la", "lb", "LA", "crlib", "nosuch", "")}
	case 6:
		if rng.IntN(4) == 0 {
			return []string{"FUNCTION", "FLUSH", pick("ASYNC", "SYNC", "BOGUS", "async")}
		}
		return []string{"FUNCTION", pick("STATS", "DUMP", "KILL", "FOO", "STATS", "DELETE", "FLUSH")}
	case 7:
		return []string{"FUNCTION", "RESTORE", pick("", "bogus", "\xf5\xc0\x01\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00",
			"\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00"), pick("APPEND", "REPLACE", "FLUSH", "BOGUS")}[:3+rng.IntN(2)]
	case 8, 9:
		cmd := []string{"FUNCTION-ROUNDTRIP", pick("same", "flush", "corrupt", "truncate", "delete", "load", "load")}
		if cmd[1] == "load" {
			cmd = append(cmd, libraryCode(rng))
		}
		if rng.IntN(4) > 0 {
			cmd = append(cmd, pick("APPEND", "REPLACE", "FLUSH", "append", "BOGUS"))
		}
		return cmd
	default:
		cmd := []string{pick("FCALL", "FCALL", "FCALL_RO"), pick("fa", "fb", "fc", "fd", "f_1", "Fa"), pick("0", "1", "1", "2")}
		n, _ := strconv.Atoi(cmd[2])
		for i := 0; i < n; i++ {
			cmd = append(cmd, pick("s1", "h1", "k"))
		}
		for i := rng.IntN(3); i > 0; i-- {
			cmd = append(cmd, pick("v", "", "12"))
		}
		return cmd
	}
}

// functionRoundTrip runs the pseudo-command FUNCTION-ROUNDTRIP mode
// [policy]: FUNCTION DUMP, then (mode) nothing, FUNCTION FLUSH, a changed
// last byte (the checksum), a payload cut short, FUNCTION DELETE la, or
// FUNCTION LOAD REPLACE code (mode load code: the libraries change, so
// RESTORE meets collisions); then FUNCTION RESTORE payload [policy]. The
// reply is RESTORE's.
func functionRoundTrip(t *testing.T, conn *Conn, args []string) []byte {
	t.Helper()
	dump := conn.MustDo(t, "FUNCTION", "DUMP")
	v, _, err := Parse(dump)
	if err != nil || v.Type != '$' || v.Null {
		return dump
	}
	payload := string(v.Str)
	switch args[1] {
	case "flush":
		conn.MustDo(t, "FUNCTION", "FLUSH")
	case "corrupt":
		payload = payload[:len(payload)-1] + string([]byte{v.Str[len(v.Str)-1] ^ 1})
	case "truncate":
		payload = payload[:len(payload)/2]
	case "delete":
		conn.MustDo(t, "FUNCTION", "DELETE", "la")
	case "load":
		// the libraries change between DUMP and RESTORE: collisions
		conn.MustDo(t, "FUNCTION", "LOAD", "REPLACE", args[2])
		args = args[1:]
	}
	return conn.MustDo(t, append([]string{"FUNCTION", "RESTORE", payload}, args[2:]...)...)
}

// refusedInScript runs a command that scripts may not run (or that they
// may, for the texts): from EVAL, redis.pcall and functions.
func refusedInScript(rng *rand.Rand) []string {
	cmd := pick2(rng, []string{"MULTI"}, []string{"EXEC"}, []string{"DISCARD"}, []string{"WATCH", "k"},
		[]string{"UNWATCH"}, []string{"SUBSCRIBE", "c"}, []string{"PSUBSCRIBE", "p*"}, []string{"UNSUBSCRIBE"},
		[]string{"SSUBSCRIBE", "c"}, []string{"MONITOR"}, []string{"AUTH", "x"}, []string{"HELLO", "3"},
		[]string{"EVAL", "return 1", "0"}, []string{"EVALSHA", sha1Of("return 1"), "0"}, []string{"EVAL_RO", "return 1", "0"},
		[]string{"FCALL", "rcall", "0", "PING"}, []string{"FCALL_RO", "rcall", "0", "PING"}, []string{"SCRIPT", "EXISTS", "x"},
		[]string{"FUNCTION", "LIST"}, []string{"FUNCTION", "STATS"}, []string{"CLIENT", "ID"}, []string{"CLIENT", "SETNAME", "x"},
		[]string{"CLIENT", "GETNAME"}, []string{"WAIT", "0", "0"}, []string{"RESET"}, []string{"QUIT"},
		[]string{"BLPOP", "l1", "0"}, []string{"BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0"}, []string{"BZPOPMIN", "z1", "0"},
		[]string{"XREAD", "BLOCK", "0", "STREAMS", "x1", "$"}, []string{"PING"}, []string{"ECHO", "x"},
		[]string{"PUBLISH", "c", "m"}, []string{"SPUBLISH", "c", "m"}, []string{"SELECT", "1"}, []string{"SELECT", "99"},
		[]string{"SWAPDB", "0", "0"}, []string{"OBJECT", "FREQ", "s1"}, []string{"SAVE"}, []string{"BGREWRITEAOF"},
		[]string{"SHUTDOWN", "ABORT"}, []string{"REPLICAOF", "NO", "ONE"}, []string{"SYNC"}, []string{"PSYNC", "x", "1"},
		[]string{"DEBUG", "SLEEP", "0"}, []string{"CONFIG", "GET", "maxmemory"}, []string{"COMMAND", "COUNT"},
		[]string{"ACL", "WHOAMI"}, []string{"READONLY"},
		[]string{"ASKING"}, []string{"CLUSTER", "INFO"}, []string{"FAILOVER", "ABORT"},
		[]string{"PFDEBUG", "GETREG", "x"}, []string{"NOSUCHCMD"})
	switch rng.IntN(5) {
	case 0:
		return append([]string{"EVAL", wrapPcall, "0"}, cmd...)
	case 1:
		return append([]string{"EVAL", wrapPerr, "0"}, cmd...)
	case 2:
		return append([]string{"FCALL", pickS(rng, "rcall", "rpcall"), "0"}, cmd...)
	case 3:
		return append([]string{"EVAL", wrapResp3, "0"}, cmd...)
	}
	return append([]string{"EVAL", wrapCall, "0"}, cmd...)
}

// badCallArgs calls redis.call/redis.pcall with arguments that are not
// strings or integers, or with none.
func badCallArgs(rng *rand.Rand) []string {
	arg := func() string {
		return pickS(rng, "{}", "{1}", "nil", "1.5", "-0.0", "1e20", "2^53", "true", "false", "'x'", "7",
			"0/0", "1/0", "function() end", "redis", "-7", "'GET'", "KEYS[1]", "ARGV[1]")
	}
	var args []string
	switch rng.IntN(4) {
	case 0:
		args = []string{arg()}
	case 1:
		args = []string{"'SET'", "KEYS[1]", arg()}
	case 2:
		args = []string{"'GET'", arg()}
	default:
		args = []string{pickS(rng, "'ECHO'", "'RPUSH', 'l1'", "'MSET', 'a'", "'PING'"), arg(), arg()}
	}
	if rng.IntN(10) == 0 {
		args = nil
	}
	f := pickS(rng, "redis.call", "redis.pcall")
	body := fmt.Sprintf("return %s(%s)", f, strings.Join(args, ", "))
	if rng.IntN(3) == 0 {
		body = fmt.Sprintf("return {pcall(%s, %s)}", f, strings.Join(args, ", "))
	}
	return []string{"EVAL", body, "1", "s1", "v"}
}
