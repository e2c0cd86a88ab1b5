package server_test

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// limitBomb runs commands against a server whose normal clients have a
// 100 KB hard output limit, each bomb on a connection of its own, and
// checks, in process, what Crescent allocated for it.
type limitBomb struct {
	t         *testing.T
	addr      string
	inProcess bool
	ctl       *rawConn
	// bound is the most a bomb may allocate (in process), unless own
	// names one for the command
	bound uint64
	own   map[string]uint64
}

func newLimitBomb(t *testing.T, addr string, inProcess bool, bound uint64) *limitBomb {
	b := &limitBomb{t: t, addr: addr, inProcess: inProcess, ctl: dialRaw(t, addr), bound: bound}
	return b
}

// do is rawConn.do with a bound for a hang only (building takes seconds
// on a loaded machine).
func (b *limitBomb) do(args ...string) string {
	b.ctl.send(args...)
	return b.ctl.read(60 * time.Second)
}

// fire sends args on a connection of its own (set up by the commands
// of pre, HELLO 3 for one), reads its fate (a reply, or <eof>) and
// checks what the command allocated.
func (b *limitBomb) fire(pre [][]string, args ...string) string {
	c := dialRaw(b.t, b.addr)
	for _, p := range pre {
		c.send(p...)
		c.read(60 * time.Second)
	}
	before := totalAlloc()
	c.send(args...)
	r := c.read(60 * time.Second) // a bound for a hang only
	got := totalAlloc() - before
	name := strings.ReplaceAll(strings.Join(args, " "), "\n", " ")
	if len(name) > 80 {
		name = name[:80] + "..."
	}
	if b.inProcess {
		bound := b.bound
		if o, ok := b.own[strings.ToUpper(args[0])]; ok {
			bound = o
		}
		b.t.Logf("%s: %.1f MB allocated", name, float64(got)/(1<<20))
		if got > bound {
			b.t.Errorf("%s: %d MB allocated, want at most %d", name, got>>20, bound>>20)
		}
	}
	if len(r) > 100 {
		r = r[:100] + "..."
	}
	return name + ": " + r
}

// whole sends args under a limit the reply does not pass and returns its
// length and digest.
func (b *limitBomb) whole(args ...string) string {
	b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 1gb 0 0")
	r := b.do(args...)
	b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0")
	return fmt.Sprintf("whole %.60q: %d bytes, %x", strings.Join(args, " "), len(r), sha256.Sum256([]byte(r)))
}

// stats are INFO's lines that a stopped reply must leave as Redis's.
func (b *limitBomb) stats() []string {
	var out []string
	for _, l := range strings.Split(b.do("INFO", "stats"), "\r\n") {
		if strings.HasPrefix(l, "keyspace_") || strings.HasPrefix(l, "total_error_replies") ||
			strings.HasPrefix(l, "client_output_buffer_limit") {
			out = append(out, l)
		}
	}
	for _, l := range strings.Split(b.do("INFO", "errorstats"), "\r\n") {
		if strings.HasPrefix(l, "errorstat_") {
			out = append(out, l)
		}
	}
	return out
}

// pending is a deterministic view of a group's PEL: XPENDING's summary
// and its first entries with the idle times zeroed.
const pendingScript = `local s = redis.call('XPENDING', KEYS[1], ARGV[1])
local r = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 3)
for _, e in ipairs(r) do e[2] = string.len(e[2]); e[3] = 0 end
return {s[1], s[2], s[3], #s[4], r}`

// TestOutputLimitStreams is TestOutputLimitDataBounded for the stream
// commands whose replies were built whole: with a 100 KB hard limit, a
// reply of about 40 MB (XREADGROUP with > and with an ID, of one stream
// and of several, a stream named twice; XPENDING's extended form, of a
// group and of a consumer; XINFO STREAM FULL; XCLAIM; XAUTOCLAIM; XREAD
// of several streams) closes the client without a reply, as in Redis;
// Crescent stops writing the reply once the limit is passed, and the
// commands with effects (XREADGROUP, XCLAIM, XAUTOCLAIM) still apply them
// all, as Redis's do (the PELs after them are compared, and a muted
// client's XREADGROUP too). Under a limit the reply does not pass, the
// whole reply comes, the same bytes in both.
func TestOutputLimitStreams(t *testing.T) {
	// a consumer name of 10 KB: XPENDING's reply repeats it per entry
	long := "c" + strings.Repeat("n", 10000)
	run := func(addr string, inProcess bool) []string {
		b := newLimitBomb(t, addr, inProcess, 20<<20)
		// XREADGROUP and XAUTOCLAIM delivering to the long consumer
		// propagate one XCLAIM per entry, each with its own copy of the
		// name (40 MB), as Redis's streamPropagateXCLAIM does: the
		// effects, not the reply
		b.own = map[string]uint64{"XREADGROUP": 60 << 20, "XAUTOCLAIM": 60 << 20}
		out := []string{b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0")}
		// x: 4,000 entries of 10 fields of 1,000 bytes (40 MB); y: 50
		// entries
		out = append(out, b.do("EVAL", `for i = 1, tonumber(ARGV[1]) do
  local a = {KEYS[1], i .. '-1'}
  for f = 0, 9 do a[#a+1] = 'f' .. f; a[#a+1] = string.rep(string.char(97 + (i + f) % 26), 1000) end
  redis.call('XADD', unpack(a))
end
return redis.call('XLEN', KEYS[1])`, "1", "x", "4000"),
			b.do("EVAL", `for i = 1, 50 do redis.call('XADD', KEYS[1], i .. '-1', 'f', i) end`, "1", "y"),
			b.do("XGROUP", "CREATE", "x", "g", "0"), b.do("XGROUP", "CREATE", "x", "g2", "0"),
			b.do("XGROUP", "CREATE", "y", "g2", "0"), b.do("XGROUP", "CREATE", "x", "g3", "0"),
			b.do("XGROUP", "CREATE", "x", "g4", "0"), b.do("CONFIG", "RESETSTAT"))
		pending := func(key, group string) string {
			return key + " " + group + ": " + b.do("EVAL", pendingScript, "1", key, group)
		}
		out = append(out,
			b.fire(nil, "XREADGROUP", "GROUP", "g", long, "STREAMS", "x", ">"),
			pending("x", "g"), b.do("XINFO", "GROUPS", "x"),
			b.fire(nil, "XREADGROUP", "GROUP", "g", long, "STREAMS", "x", "x", "0", "0"),
			pending("x", "g"),
			b.fire(nil, "XPENDING", "x", "g", "-", "+", "10000"),
			b.fire(nil, "XPENDING", "x", "g", "IDLE", "0", "-", "+", "10000", long),
			b.fire(nil, "XINFO", "STREAM", "x", "FULL", "COUNT", "0"),
			b.fire(nil, "XINFO", "STREAM", "x", "FULL"))
		ids := []string{"XCLAIM", "x", "g", "bob", "0"}
		for i := 1; i <= 4000; i++ {
			ids = append(ids, strconv.Itoa(i)+"-1")
		}
		out = append(out, b.fire(nil, ids...), pending("x", "g"),
			b.fire(nil, "XAUTOCLAIM", "x", "g", long, "0", "0-0", "COUNT", "10000"), pending("x", "g"),
			// several streams: the first one passes the limit, the
			// second is still served (its PEL)
			b.fire(nil, "XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "x", "y", ">", ">"),
			pending("x", "g2"), pending("y", "g2"), b.do("XINFO", "GROUPS", "y"),
			b.fire(nil, "XREAD", "STREAMS", "x", "y", "0", "0"),
			b.fire([][]string{{"HELLO", "3"}}, "XREAD", "STREAMS", "y", "x", "x", "0", "0", "0"),
			b.fire([][]string{{"HELLO", "3"}}, "XREADGROUP", "GROUP", "g4", "al", "STREAMS", "x", ">"),
			pending("x", "g4"))
		// a muted client: its reads still change the group
		m := dialRaw(t, addr)
		m.send("CLIENT", "REPLY", "OFF")
		before := totalAlloc()
		m.send("XREADGROUP", "GROUP", "g3", "m", "STREAMS", "x", ">")
		m.send("CLIENT", "REPLY", "ON")
		out = append(out, "muted: "+m.read(60*time.Second), pending("x", "g3"))
		if got := totalAlloc() - before; inProcess && got > b.bound {
			t.Errorf("muted XREADGROUP: %d MB allocated, want at most %d", got>>20, b.bound>>20)
		}
		out = append(out, b.stats()...)
		// under a limit they do not pass: the whole replies
		out = append(out, b.whole("XREADGROUP", "GROUP", "g", long, "COUNT", "2000", "STREAMS", "x", "0"),
			b.whole("XREADGROUP", "GROUP", "g3", "w", "STREAMS", "x", ">"),
			b.whole(append(ids[:3:3], append([]string{"w2"}, ids[4:]...)...)...),
			b.whole("XAUTOCLAIM", "x", "g", "w3", "0", "0-0", "COUNT", "10000"),
			b.whole("XREAD", "STREAMS", "x", "y", "0", "0"))
		return out
	}
	want := run(startRedis(t), false)
	addr, _ := startCrescent(t)
	got := run(addr, true)
	compareSteps(t, want, got)
}

// TestOutputLimitScriptReply: with a 100 KB hard limit, a script whose
// reply is far larger than its memory (a table holding one 100 KB string
// a thousand times: 100 MB; nested; a RESP3 map and set; a function's),
// or that passes back a big redis.call reply (LRANGE of 40 MB), closes
// the client without a reply, as in Redis, and Crescent stops writing
// the reply once the limit is passed (it built the whole reply: 689 MB
// of RSS for the 100 MB one, where Redis's used_memory_peak stayed at
// 1.2 MB). The error tables after the limit still count in errorstats,
// as Redis's afterErrorReply counts them, and the EVAL's failed_calls
// with them. A muted client's script builds nothing; under a limit the
// reply does not pass the whole reply comes, the same bytes in both.
func TestOutputLimitScriptReply(t *testing.T) {
	const big = `local s = string.rep('x', 100000)
local t = {}
for i = 1, tonumber(ARGV[1]) do t[i] = s end
`
	run := func(addr string, inProcess bool) []string {
		b := newLimitBomb(t, addr, inProcess, 20<<20)
		// redis.call's reply of 40 MB becomes a Lua table (the
		// script's memory, 40 MB of strings) before it is returned
		b.own = map[string]uint64{"EVALSHA": 80 << 20}
		out := []string{b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0"),
			b.do("EVAL", `for i = 1, 40000 do redis.call('RPUSH', KEYS[1], string.rep(string.char(97 + i % 26), 1000)) end
return redis.call('LLEN', KEYS[1])`, "1", "l"),
			b.do("SCRIPT", "LOAD", "return redis.call('LRANGE', KEYS[1], 0, -1)"),
			b.do("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('big', function(keys, args) local s = string.rep('y', 100000) local t = {} for i = 1, 1000 do t[i] = s end return t end)"),
			b.do("CONFIG", "RESETSTAT")}
		hello3 := [][]string{{"HELLO", "3"}}
		out = append(out,
			b.fire(nil, "EVAL", big+"return t", "0", "1000"),
			b.fire(nil, "EVAL", big+"return {t, t, {t}}", "0", "300"),
			b.fire(nil, "EVAL", big+"t[#t+1] = {err='MYERR boom'} t[#t+1] = redis.error_reply('OTHER x') t[#t+1] = {t[1]} return t", "0", "1000"),
			b.fire(hello3, "EVAL", `local m = {} local s = string.rep('x', 100000) for i = 1, 1000 do m['k' .. i] = s end return {map = m}`, "0"),
			b.fire(hello3, "EVAL", `local m = {} local s = string.rep('x', 100000) for i = 1, 1000 do m[{s}] = true end return {set = m}`, "0"),
			b.fire(nil, "EVALSHA", "08a8f392fa2afa779bfae927f77d2bb399eb43a3", "1", "l"),
			b.fire(nil, "FCALL", "big", "0"))
		// a muted client: nothing built, not closed
		m := dialRaw(t, addr)
		m.send("CLIENT", "REPLY", "OFF")
		before := totalAlloc()
		m.send("EVAL", big+"return t", "0", "1000")
		m.send("CLIENT", "REPLY", "ON")
		out = append(out, "muted: "+m.read(60*time.Second))
		if got := totalAlloc() - before; inProcess && got > b.bound {
			t.Errorf("muted EVAL: %d MB allocated, want at most %d", got>>20, b.bound>>20)
		}
		out = append(out, b.stats()...)
		var cmdstats []string
		for _, l := range strings.Split(b.do("INFO", "commandstats"), "\r\n") {
			if strings.HasPrefix(l, "cmdstat_eval") || strings.HasPrefix(l, "cmdstat_fcall") {
				// calls, rejected and failed calls (not the times)
				f := strings.Split(l, ",")
				cmdstats = append(cmdstats, f[0]+","+strings.Join(f[len(f)-2:], ","))
			}
		}
		sort.Strings(cmdstats) // Redis's order is its dictionary's
		out = append(out, cmdstats...)
		out = append(out, b.whole("EVAL", big+"t[#t+1] = {err='MYERR boom'} return {t, {map = {a = t[1]}}}", "0", "200"))
		return out
	}
	want := run(startRedis(t), false)
	addr, _ := startCrescent(t)
	got := run(addr, true)
	compareSteps(t, want, got)
}

// TestClientListIDs: CLIENT LIST's arguments as Redis 7.0 parses them
// (TYPE only alone, ID with any integers, 0 and negative ones naming no
// client), each ID's line in argument order with repeats kept (Crescent
// sorted and deduplicated them), and such a reply as a memory bomb: with
// a 100 KB hard limit, 100,000 repeats of the caller's ID (30 MB of reply
// from 700 KB of arguments) close the client without a reply in both
// (Redis builds the whole string first, then closes it; Crescent stops at
// the limit); with no limit a reply under 128 MB is answered whole, as
// Redis does, and past it (where Redis goes on to exhaust memory) Crescent
// answers an error after building at most the bound.
func TestClientListIDs(t *testing.T) {
	// norm keeps of each line its id (named by the caller's map) and cmd
	norm := func(r string, names map[string]string) string {
		if !strings.HasPrefix(r, "$") {
			return r
		}
		var out []string
		for _, l := range strings.Split(r[strings.Index(r, "\r\n")+2:], "\n") {
			f := strings.Fields(l)
			if len(f) == 0 || !strings.HasPrefix(f[0], "id=") {
				continue
			}
			id := names[strings.TrimPrefix(f[0], "id=")]
			if id == "" {
				id = "other"
			}
			cmd := ""
			for _, x := range f {
				if strings.HasPrefix(x, "cmd=") {
					cmd = x
				}
			}
			out = append(out, id+" "+cmd)
		}
		return fmt.Sprintf("%d lines: %s", len(out), strings.Join(out[:min(len(out), 6)], ", "))
	}
	run := func(addr string, inProcess bool) []string {
		// the 100,000 arguments alone cost 23 to 31 MB (measured with an
		// ID of no client)
		b := newLimitBomb(t, addr, inProcess, 50<<20)
		c := b.ctl
		o := dialRaw(t, addr)
		me := strings.TrimSpace(strings.TrimPrefix(c.do("CLIENT", "ID"), ":"))
		other := strings.TrimSpace(strings.TrimPrefix(o.do("CLIENT", "ID"), ":"))
		o.do("PING")
		names := map[string]string{me: "me", other: "o"}
		var out []string
		for _, args := range [][]string{
			{"ID", "0"}, {"ID", "-5"}, {"ID", "abc"}, {"ID"}, {"TYPE", "normal", "ID", me},
			{"ID", me, "TYPE", "normal"}, {"TYPE", "normal", "TYPE", "pubsub"}, {"TYPE", "bogus"},
			{"ID", "99999999999999999999"}, {"ID", me, "99999999999999999999"}, {"TYPE", "pubsub"},
			{"ID", me, other, me, "123456789", other, me}, {"ID", other}, {"TYPE", "NORMAL"}, {},
			{"ID", "+" + me}, {"ID", me + ".0"}, {"id", me, "0", "-1"},
		} {
			label := make([]string, len(args))
			for i, a := range args {
				label[i] = a
				if name, ok := names[a]; ok {
					label[i] = name
				} else if name, ok := names[strings.TrimPrefix(strings.TrimSuffix(a, ".0"), "+")]; ok {
					label[i] = strings.Replace(a, me, name, 1)
				}
			}
			out = append(out, strings.Join(label, " ")+": "+norm(c.do(append([]string{"CLIENT", "LIST"}, args...)...), names))
		}
		repeat := func(n int) []string {
			a := []string{"CLIENT", "LIST", "ID"}
			for i := 0; i < n; i++ {
				a = append(a, me)
			}
			return a
		}
		// no limit: a reply of 15 MB comes whole
		c.send(repeat(50000)...)
		out = append(out, "50000: "+norm(c.read(60*time.Second), names))
		out = append(out, b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0"))
		// the bomb's own ID, not the caller's (the same bytes each time)
		f := dialRaw(t, addr)
		fid := strings.TrimSpace(strings.TrimPrefix(f.do("CLIENT", "ID"), ":"))
		a := []string{"CLIENT", "LIST", "ID"}
		for i := 0; i < 100000; i++ {
			a = append(a, fid)
		}
		if inProcess { // what the arguments alone cost: no line
			none := append([]string{"CLIENT", "LIST", "ID"}, a[4:]...)
			none[3] = "0"
			for i := range none[3:] {
				none[3+i] = "999999"
			}
			before := totalAlloc()
			f.send(none...)
			f.read(60 * time.Second)
			t.Logf("CLIENT LIST ID 999999 x100000: %d MB allocated", (totalAlloc()-before)>>20)
		}
		before := totalAlloc()
		f.send(a...)
		r := f.read(60 * time.Second)
		if got := totalAlloc() - before; inProcess && got > b.bound {
			t.Errorf("CLIENT LIST ID x100000: %d MB allocated, want at most %d", got>>20, b.bound>>20)
		}
		out = append(out, "100000 under a limit: "+r, b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"))
		return out
	}
	want := run(startRedis(t), false)
	addr, _ := startCrescent(t)
	got := run(addr, true)
	compareSteps(t, want, got)

	// past the bound, with no limit: Crescent's error, after at most the
	// bound's bytes (and their growth by append)
	c := dialRaw(t, addr)
	me := strings.TrimSpace(strings.TrimPrefix(c.do("CLIENT", "ID"), ":"))
	a := []string{"CLIENT", "LIST", "ID"}
	for i := 0; i < 600000; i++ {
		a = append(a, me)
	}
	before := totalAlloc()
	c.send(a...)
	r := c.read(120 * time.Second)
	alloc := totalAlloc() - before
	t.Logf("CLIENT LIST ID x600000, no limit: %.60q, %d MB allocated", r, alloc>>20)
	if r != "-ERR reply too large: CLIENT LIST ID's reply is bounded to 128 MB\r\n" {
		t.Errorf("past the bound: %.100q", r)
	}
	// the buffer's growth by append to 128 MB (about 5 times it), and
	// the 600,000 arguments (about 190 MB)
	if alloc > 1200<<20 {
		t.Errorf("past the bound: %d MB allocated, want at most 1200", alloc>>20)
	}
}

// TestOutputLimitExec: with a 100 KB hard limit, EXEC of 20,000 queued
// GETs of a 10 KB value (a 200 MB reply) closes the client without a
// reply in both, and every queued command still runs (the INCRs after
// the GETs: compared), as Redis's do while their replies add nothing;
// Crescent stops writing once the limit is passed (it built the whole
// reply: 1.7 GB of RSS for 50,000 such GETs, where Redis's stayed under
// 20 MB). A transaction whose replies stay under the limit is whole.
func TestOutputLimitExec(t *testing.T) {
	run := func(addr string, inProcess bool) []string {
		b := newLimitBomb(t, addr, inProcess, 20<<20)
		out := []string{b.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0"),
			b.do("SET", "v", strings.Repeat("v", 10000)), b.do("CONFIG", "RESETSTAT")}
		x := dialRaw(t, addr)
		out = append(out, x.do("MULTI"))
		for i := 0; i < 20000; i++ {
			if i%5000 == 0 {
				x.send("INCR", "n")
			} else {
				x.send("GET", "v")
			}
			if r := x.read(60 * time.Second); r != "+QUEUED\r\n" {
				t.Fatalf("%s: queued %d: %q", addr, i, r)
			}
		}
		x.send("INCR", "n")
		x.read(60 * time.Second)
		before := totalAlloc()
		x.send("EXEC")
		out = append(out, "EXEC: "+x.read(60*time.Second))
		if got := totalAlloc() - before; inProcess && got > b.bound {
			t.Errorf("EXEC: %d MB allocated, want at most %d", got>>20, b.bound>>20)
		}
		out = append(out, b.do("GET", "n"))
		out = append(out, b.stats()...)
		y := dialRaw(t, addr)
		out = append(out, y.do("MULTI"), y.do("GET", "v"), y.do("INCR", "n"), y.do("GET", "v"))
		y.send("EXEC")
		r := y.read(60 * time.Second)
		return append(out, fmt.Sprintf("small EXEC: %d bytes, %x", len(r), sha256.Sum256([]byte(r))))
	}
	want := run(startRedis(t), false)
	addr, _ := startCrescent(t)
	got := run(addr, true)
	compareSteps(t, want, got)
}
