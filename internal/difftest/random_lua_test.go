package difftest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRandomLua runs seeded random scripts against Redis and Crescent and
// compares every reply, in RESP2 and RESP3: random Lua values returned as
// replies (with and without redis.setresp(3)), passed to redis.call, encoded
// and decoded by cjson and cmsgpack, packed by struct, formatted by
// tostring and string.format, parsed by tonumber, combined by arithmetic and
// the bit library. Each script is a new body, so every reply also checks
// the error texts with their script names.
func TestRandomLua(t *testing.T) {
	n := 0
	randomRun{gen: withTx(func(rng *rand.Rand) []string {
		n++
		if n%200 == 0 { // keep both script caches small
			return []string{"SCRIPT", "FLUSH"}
		}
		return randomLuaCommand(rng)
	}), salt: 0x1a5,
		normalize: withTxNorm(func(args []string, b []byte) []byte {
			if args[0] == "HELLO" {
				return nil // server name, version and client id differ
			}
			return b
		})}.run(t)
}

// luaGen builds random Lua source text.
type luaGen struct{ rng *rand.Rand }

func (g luaGen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

// num is a Lua number literal or expression: integers at the edges of
// Redis's integer conversion, fractions, huge and tiny values, -0, inf and
// nan.
func (g luaGen) num() string {
	switch g.rng.IntN(6) {
	case 0, 1:
		return fmt.Sprint(g.rng.IntN(2000) - 1000)
	case 2:
		return g.pick("0.5", "-2.5", "3.7", "1e300", "-1e-300", "0.1", "123456789.123",
			"1/3", "2/3", "-7/2", "1e15", "1e16", "1e17", "-0.0", "0/-1")
	case 3:
		return g.pick("2^31", "2^31-1", "-2^31", "2^32", "2^53", "2^53+1", "2^63", "-2^63",
			"2^64", "2^1023", "2^-1074", "4294967295", "9007199254740993")
	case 4:
		return g.pick("1/0", "-1/0", "0/0", "-(0/0)", "math.huge", "-math.huge", "math.pi")
	default:
		return fmt.Sprintf("%d.%d", g.rng.IntN(100)-50, g.rng.IntN(1000))
	}
}

// str is a Lua string literal: empty, numeric-looking, binary, quoted,
// UTF-8 and long strings.
func (g luaGen) str() string {
	return g.pick(`''`, `'a'`, `'hello world'`, `'12'`, `' 12 '`, `'0x1F'`, `'1e3'`,
		`'-0'`, `'3.0'`, `'inf'`, `'nan'`, `'  -7.5e-2  '`, `'12abc'`, `'0x'`, `'1e'`,
		`'a\0b'`, `'\1\2\255'`, `'"quoted"'`, `'back\\slash'`, `'tab\tnew\nline'`,
		`'\r\n'`, `'\195\169t\195\169'`, `'\226\130\172'`, `'\237\160\128'`, `'/'`,
		`string.rep('x', 300)`, `string.rep('ab', 40)`, `'OK'`, `'ERR bad'`, `'-ERR x'`,
		`'+status'`, `'9223372036854775807'`, `'9223372036854775808'`, `'-9223372036854775808'`,
		`'{"a":1}'`)
}

// scalar is any non-table value.
func (g luaGen) scalar() string {
	switch g.rng.IntN(9) {
	case 0, 1, 2:
		return g.num()
	case 3, 4, 5:
		return g.str()
	case 6:
		return g.pick("true", "false")
	case 7:
		return "nil"
	default:
		return g.pick("#'abc'", "tonumber('12')", "('x'):rep(3)", "string.char(0, 65)", "-(1)")
	}
}

// table is a table constructor: arrays (with holes), hashes, mixed, nested,
// and the tables redis.call/replies treat specially ({ok=}, {err=},
// {double=}, {map=}, {set=}, {big_number=}, {verbatim_string=}).
func (g luaGen) table(depth int) string {
	var parts []string
	switch g.rng.IntN(10) {
	case 0, 1, 2: // array
		for i, n := 0, g.rng.IntN(5); i < n; i++ {
			parts = append(parts, g.value(depth+1))
		}
	case 3: // hash
		for i, n := 0, 1+g.rng.IntN(3); i < n; i++ {
			parts = append(parts, fmt.Sprintf("%s=%s", g.pick("a", "b", "c", "k1", "x"), g.value(depth+1)))
		}
	case 4: // mixed, and explicit numeric keys
		parts = append(parts, g.value(depth+1), fmt.Sprintf("k=%s", g.value(depth+1)),
			fmt.Sprintf("[%s]=%s", g.pick("1", "2", "3", "5", "1.5", "-1", "0"), g.value(depth+1)))
	case 5:
		parts = append(parts, fmt.Sprintf("ok=%s", g.pick(g.str(), g.num(), "true", "{}")))
	case 6:
		parts = append(parts, fmt.Sprintf("err=%s", g.pick(g.str(), g.num(), "true")))
	case 7:
		parts = append(parts, fmt.Sprintf("double=%s", g.pick(g.num(), g.str())))
	case 8:
		parts = append(parts, fmt.Sprintf("%s=%s", g.pick("map", "set"), g.table(depth+1)))
	default:
		parts = append(parts, g.pick(
			"big_number='123456789012345678901234567890'", "big_number=12",
			"verbatim_string={format='txt', string='hi'}", "ok='a', err='b'"))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// value is a scalar or, to depth 3, a table.
func (g luaGen) value(depth int) string {
	if depth < 3 && g.rng.IntN(3) == 0 {
		return g.table(depth)
	}
	return g.scalar()
}

// json is a JSON document, valid or not, for cjson.decode.
func (g luaGen) json() string {
	return g.pick(`'{"a":1,"b":[1,2,3]}'`, `'[1,2,null,4]'`, `'"str"'`, `'1.5'`, `'-0'`,
		`'1e400'`, `'[]'`, `'{}'`, `'[true,false,null]'`, `'{"a":{"b":{"c":[]}}}'`,
		`'"\\u00e9\\ud83d\\ude00"'`, `'"\\ud800"'`, `'[1,'`, `'{"a"}'`, `'nul'`, `'  7  '`,
		`'0x10'`, `'[1,2] x'`, `'"\\x"'`, `'123456789012345678901'`, `'{"1":2,"2":3}'`,
		`'[[[[[[[[[[1]]]]]]]]]]'`, `'NaN'`, `'Infinity'`, `'-Infinity'`, `'"a\\/b"'`)
}

// structFmt is a struct.pack format with matching arguments.
func (g luaGen) structFmt() (string, string) {
	switch g.rng.IntN(8) {
	case 0:
		return "'>I2'", g.num()
	case 1:
		return "'<i4'", g.num()
	case 2:
		return "'>d'", g.num()
	case 3:
		return "'bB'", g.num() + ", " + g.num()
	case 4:
		return "'s'", g.str()
	case 5:
		return "'c3'", g.str()
	case 6:
		return "'<l'", g.num()
	default:
		return g.pick("'>h'", "'!4 i1 i8'", "'x'", "'i9'", "'i0'", "'Z'", "'f'"), g.num()
	}
}

// randomLuaCommand returns one command: an EVAL of a random script, or a
// switch between RESP2 and RESP3.
func randomLuaCommand(rng *rand.Rand) []string {
	g := luaGen{rng}
	var body string
	switch rng.IntN(36) {
	case 34, 35:
		body = g.libCall()
	case 24:
		body = fmt.Sprintf("return {%s}", g.pick(
			"table.concat({"+g.scalar()+", "+g.scalar()+"}, "+g.str()+")",
			"table.concat({1, 2, 3}, ', ', "+g.num()+", "+g.num()+")",
			"select('#', "+g.scalar()+", "+g.scalar()+")",
			"select("+g.num()+", 'a', 'b', 'c')",
			"unpack({1, 2, 3}, "+g.num()+", "+g.num()+")",
			"(function() local t = {"+g.scalar()+", "+g.scalar()+", "+g.scalar()+"} table.sort(t) return unpack(t) end)()",
			// a far position makes both loop for long (C Lua: uninterruptible)
			"(function() local t = {3, 1, 2} table.insert(t, "+g.pick("1", "2", "4", "5", "0", "-1", "2.7")+", 'x') return unpack(t) end)()",
			"(function() local t = {3, 1, 2} return table.remove(t, "+g.num()+"), #t end)()",
			"table.getn({"+g.scalar()+", nil, "+g.scalar()+"})",
			"#{"+g.scalar()+", nil, "+g.scalar()+", nil}",
			"next({})", "rawequal("+g.scalar()+", "+g.scalar()+")",
			"tostring("+g.scalar()+")", "type("+g.value(1)+")"))
	case 25:
		body = fmt.Sprintf("cjson.encode_sparse_array(%s) return cjson.encode(%s)",
			g.pick("true", "false", "true, 2", "false, 1, 2", "true, 5, 1"),
			g.pick("{[1]=1, [5]=5}", "{[1]=1, [100]=2}", "{[2]=2}", "{1, 2, nil, 4}", "{[0]=1}", "{[1.5]=1}", "{[-1]=1}", "{1, 2, x=3}"))
	case 26:
		body = fmt.Sprintf("cjson.encode_max_depth(%s) cjson.decode_max_depth(%s) return {pcall(cjson.encode, {{{{1}}}}), pcall(cjson.decode, '[[[[1]]]]')}",
			g.pick("1", "3", "5", "1000"), g.pick("1", "3", "5", "1000"))
	case 27:
		body = fmt.Sprintf("return cmsgpack.pack(%s)", g.pick(
			"string.rep('a', 31)", "string.rep('a', 32)", "string.rep('a', 255)", "string.rep('a', 256)",
			"string.rep('a', 65536)", "{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}", "2^32", "-2^31-1",
			"-33", "-32", "127", "128", "255", "256", "65535", "65536", "-129", "1.5", "0.1", "-0.0",
			"2^64", "1/0", "{a=1, [1]=2}", "{[1]=1, [3]=3}"))
	case 28:
		body = "return {cmsgpack.unpack(" + g.pick(`'\146\1\2'`, `'\192'`, `'\194\195'`, `'\203\63\248\0\0\0\0\0\0'`, `'\202\63\192\0\0'`, `'\211\255\255\255\255\255\255\255\255'`, `'\207\255\255\255\255\255\255\255\255'`, `'\129\161\97\1'`, `'\163\97\98\99\1'`, `'\147\1'`, `''`, `'\193'`, `'\217\3\97\98\99'`, `'\222\0\1\1\2'`) + ")}"
	case 29:
		body = fmt.Sprintf("redis.call('DEL', KEYS[1]) redis.call(%s) %s return redis.call(%s)",
			g.pick("'HSET', KEYS[1], 'f', '1', 'g', '2.5'", "'ZADD', KEYS[1], 1.5, 'a', 2, 'b'", "'SADD', KEYS[1], 'x', 'y'",
				"'RPUSH', KEYS[1], 'a', 'b'", "'SET', KEYS[1], '10'"),
			g.pick("", "redis.setresp(3)", "redis.setresp(2)"),
			g.pick("'HGETALL', KEYS[1]", "'ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'", "'ZSCORE', KEYS[1], 'a'",
				"'LRANGE', KEYS[1], 0, -1", "'GET', KEYS[1]", "'TYPE', KEYS[1]",
				"'HGET', KEYS[1], 'nope'", "'INCRBYFLOAT', KEYS[1], 1.5", "'EXISTS', KEYS[1]", "'ZINCRBY', KEYS[1], 1, 'a'",
				"'OBJECT', 'ENCODING', KEYS[1]", "'LPOS', KEYS[1], 'b'"))
	case 30:
		body = fmt.Sprintf("return %s(%s)", g.pick("redis.call", "redis.pcall"), g.pick(
			"'GET'", "'SET', KEYS[1]", "'NOSUCH'", "'INCR', KEYS[1], 'x'", "'LPUSH', KEYS[1]", "'SUBSCRIBE', 'c'",
			"'EVAL', 'return 1', 0", "'GET', "+g.value(1), "", "'HSET', KEYS[1], 'f'", "'SET', KEYS[1], 'v', 'EX', "+g.num()))
	case 31:
		// error() with a table whose err is not a string crashes
		// redis-server 7.0 (Crescent answers "ERR unknown error"): not
		// compared here
		body = fmt.Sprintf("error(%s, %s)", g.pick(g.scalar(), "{err="+g.str()+"}"), g.pick("0", "1", "2", "3"))
	case 32:
		body = g.tokenSoup()
	case 33:
		body = fmt.Sprintf("return {redis.sha1hex(%s), redis.status_reply(%s), redis.error_reply(%s)}", g.scalar(), g.str(), g.str())
	case 0:
		return []string{"HELLO", g.pick("2", "3")}
	case 1, 2, 3:
		body = "return " + g.value(0)
	case 4, 5:
		body = "redis.setresp(3) return " + g.value(0)
	case 6:
		body = "return redis.call('ECHO', " + g.scalar() + ")"
	case 7:
		body = "redis.call('SET', KEYS[1], " + g.value(1) + ") return redis.call('GET', KEYS[1])"
	case 8:
		body = "return redis.pcall('RPUSH', KEYS[1], " + g.scalar() + ", " + g.scalar() + ")"
	case 9:
		body = "return cjson.encode(" + g.value(0) + ")"
	case 10:
		body = "return cjson.decode(" + g.json() + ")"
	case 11:
		body = "return cjson.encode(cjson.decode(" + g.json() + "))"
	case 12:
		body = "return cmsgpack.pack(" + g.value(0) + ")"
	case 13:
		body = "return {cmsgpack.unpack(cmsgpack.pack(" + g.value(0) + ", " + g.scalar() + "))}"
	case 14:
		f, a := g.structFmt()
		body = fmt.Sprintf("local s = struct.pack(%s, %s) return {s, struct.unpack(%s, s)}", f, a, f)
	case 15:
		body = "return tostring(" + g.num() + " " + g.pick("+", "-", "*", "/", "%", "..", "^") + " " + g.num() + ")"
	case 16:
		body = fmt.Sprintf("return string.format(%s, %s)",
			g.pick("'%d'", "'%5.2f'", "'%g'", "'%.3g'", "'%x'", "'%X'", "'%o'", "'%e'", "'%i'",
				"'%s'", "'%q'", "'%c'", "'%10s|%-4d'", "'%%'", "'%.20f'", "'%u'", "'%5'"),
			g.pick(g.num(), g.str(), g.num()+", "+g.num()))
	case 17:
		body = "return {tonumber(" + g.str() + ")}"
	case 18:
		body = fmt.Sprintf("return {tonumber(%s, %s)}", g.pick(g.str(), "'ff'", "'777'", "'z'", "'-101'"),
			g.pick("2", "8", "16", "36", "10", "1", "37"))
	case 19:
		body = fmt.Sprintf("return {bit.%s(%s, %s)}",
			g.pick("band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror"), g.num(), g.num())
	case 20:
		body = fmt.Sprintf("return {bit.tobit(%s), bit.tohex(%s), bit.bnot(%s)}", g.num(), g.num(), g.num())
	case 21:
		body = fmt.Sprintf("return {string.%s}", g.pick(
			"byte("+g.str()+", 1, -1)", "sub("+g.str()+", "+g.num()+")", "upper("+g.str()+")",
			"len("+g.str()+")", "rep("+g.str()+", 3)", "reverse("+g.str()+")",
			"find("+g.str()+", "+g.pick("'%d+'", "'l+'", "'[a-z]'", "'.'", "'('")+")",
			"gsub("+g.str()+", "+g.pick("'%s'", "'o'", "'%w+'", "'(%d)'")+", '<%0>')"))
	case 22:
		body = "return {math." + g.pick("floor", "ceil", "abs", "sqrt", "fmod", "modf", "frexp", "ldexp", "max", "min",
			"exp", "log", "log10", "sin", "cos", "tan", "atan", "atan2", "pow", "sinh", "tanh", "asin") +
			"(" + g.num() + g.pick("", ", 3") + ")}"
	default:
		body = "return {pcall(" + g.pick("error", "redis.error_reply", "redis.status_reply", "assert") + ", " + g.value(1) + ")}"
	}
	return []string{"EVAL", body, "1", "k"}
}

// tokenSoup is a random sequence of Lua tokens: mostly not a valid chunk,
// so the compile error texts (token names, line numbers, "near" parts) are
// compared.
func (g luaGen) tokenSoup() string {
	toks := []string{"local", "x", "=", "1", "return", "end", "if", "then", "else", "function", "(", ")",
		"{", "}", "[", "]", ",", ";", "..", "...", "+", "-", "*", "/", "%", "^", "#", "==", "~=", "<=",
		"and", "or", "not", "nil", "true", "'s'", "\"q\"", "[[long]]", "--c\n", "\n", "while", "do", "for",
		"in", "repeat", "until", "break", "goto", "0x1p4", "1e", "3.", ".5", "'unfinished", "[=[", "@", "$", "!",
		"::l::", ":", ".", "a.b", "a:b()", "return 1", "local function f() end", "0x", "1..2", "~", "&"}
	var parts []string
	for i, n := 0, 1+g.rng.IntN(7); i < n; i++ {
		parts = append(parts, toks[g.rng.IntN(len(toks))])
	}
	return strings.Join(parts, " ")
}

// libCall is a script calling the parts of Redis's Lua library the other
// cases never reach: math.random (Redis reseeds it for every script, so its
// sequence is the same on every call), string.match/gmatch/lower and
// gsub with tables and functions, table.maxn, xpcall, coroutines,
// metatables, rawget/rawset, the globals protection (a new or missing
// global), redis.set_repl/replicate_commands/log/breakpoint/debug,
// redis.setresp and redis.sha1hex with bad arguments, the cjson and
// cmsgpack settings and partial unpacking, struct.size and bit.tohex with
// a width. Nothing that prints an address (tostring of a function or a
// table) or reads the garbage collector.
func (g luaGen) libCall() string {
	a, b := g.scalar(), g.scalar()
	return "return {" + g.pick(
		"math.random()", "math.random("+g.num()+")", "math.random("+g.num()+", "+g.num()+")",
		"(function() math.randomseed("+g.num()+") return math.random(100), math.random() end)()",
		"string.match("+g.str()+", "+g.pick("'(%a+)'", "'(%d+)(%a*)'", "'^%s*(.-)%s*$'", "'%'", "'[%a'", "'()'", "'%f[%w]%w+'", "'%b()'")+")",
		"(function() local t = {} for w in string.gmatch("+g.str()+", "+g.pick("'%a+'", "'.'", "'%d'", "''")+") t[#t+1] = w end return t end)()",
		"string.lower("+g.str()+")", "string.gsub("+g.str()+", '%w', {a='A', ['1']=true, l=false})",
		"string.gsub("+g.str()+", '(%w)', function(c) return "+g.pick("c .. c", "nil", "false", "1", "{}")+" end)",
		"string.gsub("+g.str()+", "+g.pick("''", "'%w'", "'.'")+", "+g.pick("'%1'", "'%2'", "'%%'", "'%'", "'-'")+", "+g.pick("1", "0", "-1", "2.5")+")",
		"string.rep("+g.str()+", "+g.pick("0", "-1", "2", "2.7")+")", "string.char("+g.pick("-1", "256", "65, 66", "72.9")+")",
		"string.byte("+g.str()+", "+g.num()+", "+g.num()+")",
		"table.maxn({"+a+", "+b+", [10]=1, [2.5]=2})", "table.concat({"+a+", {}, "+b+"})",
		"xpcall(function() error("+g.value(1)+") end, function(e) return type(e) end)",
		"xpcall(function() return "+a+" end, print)",
		"pcall("+g.value(1)+")", "pcall()", "pcall(error)",
		"(function() local co = coroutine.create(function(x) local y = coroutine.yield(x) return y end) "+
			"return coroutine.resume(co, "+a+"), coroutine.resume(co, "+b+"), coroutine.resume(co), coroutine.status(co) end)()",
		"pcall(coroutine.wrap(function() error('in co') end))",
		"setmetatable({}, {__index = function(t, k) return k end}).x",
		"tostring(setmetatable({}, {__tostring = function() return "+g.str()+" end}))",
		"pcall(setmetatable, {}, "+g.pick("nil", "1", "{}", "'x'")+")",
		"getmetatable('').__index == string", "rawget({"+a+"}, 1)", "rawequal("+a+", "+b+")",
		"pcall(rawset, _G, 'newglobal', 1)", "pcall(function() newglobal = 1 end)", "pcall(function() return nosuchglobal end)",
		"pcall(loadstring, 'return 1')", "type(loadstring)", "type(dofile)", "type(print)", "_VERSION",
		"redis.set_repl("+g.pick("redis.REPL_ALL", "redis.REPL_NONE", "99", "'x'", "")+")",
		"redis.replicate_commands()", "redis.breakpoint()", "redis.debug("+a+")",
		"redis.log("+g.pick("redis.LOG_WARNING", "redis.LOG_DEBUG", "99", "'x'")+", "+a+")", "pcall(redis.log)",
		"pcall(redis.setresp, "+g.pick("1", "4", "'3'", "2.5", "")+")", "pcall(redis.sha1hex)", "redis.sha1hex("+a+", "+b+")",
		"pcall(redis.error_reply, "+g.pick("1", "{}", "")+")", "pcall(redis.status_reply)",
		"redis.REDIS_VERSION", "redis.REDIS_VERSION_NUM", "redis.LOG_NOTICE",
		"cjson.encode_keep_buffer("+g.pick("true", "false", "'on'", "1")+")",
		"(function() cjson.encode_number_precision("+g.pick("1", "3", "14", "0", "15")+") return cjson.encode("+g.num()+") end)()",
		"(function() cjson.encode_invalid_numbers("+g.pick("true", "false", "'null'")+") return pcall(cjson.encode, "+g.num()+") end)()",
		"(function() cjson.decode_invalid_numbers("+g.pick("true", "false")+") return pcall(cjson.decode, "+g.pick("'NaN'", "'-Infinity'", "'0x10'", "'1'")+") end)()",
		"cjson.decode('null') == cjson.null", "cjson.encode({cjson.null})", "pcall(cjson.encode, {[true]=1})",
		"cmsgpack.unpack_one(cmsgpack.pack("+a+", "+b+"))", "cmsgpack.unpack_one(cmsgpack.pack("+a+", "+b+"), "+g.pick("0", "1", "2", "-1")+")",
		"cmsgpack.unpack_limit(cmsgpack.pack("+a+", "+b+", 3), "+g.pick("0", "1", "2", "5")+", "+g.pick("0", "1", "-1")+")",
		"pcall(cmsgpack.unpack_limit, "+g.str()+", "+g.pick("1", "-1", "0")+")",
		"pcall(cmsgpack.pack)", "struct.size("+g.pick("'>i4 d'", "'bB'", "'!8 i1 d'", "'c5'", "'i16'")+")",
		"pcall(struct.size, "+g.pick("'s'", "'z'", "'c0'", "'x'")+")",
		"pcall(struct.unpack, '>i4', "+g.str()+", "+g.pick("1", "3", "0", "100")+")",
		"bit.tohex("+g.num()+", "+g.pick("-4", "0", "2", "8", "100")+")") + "}"
}
