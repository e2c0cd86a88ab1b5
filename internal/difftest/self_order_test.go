package difftest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
)

// selfOrderCases are the write commands of TestSelfOrder: a setup (run on
// another connection, commands separated by ";", split as corpus lines)
// and one command. "$DUMP" in a command stands for redis-server's DUMP of
// the string "v". Blocking commands wait 0.05 s at most: in the expired
// variant their key is gone.
var selfOrderCases = []struct{ setup, cmd string }{
	// strings
	{"", "SET a v"},
	{"set a 1", "SET a v GET"},
	{"set a 1", "SET a v NX"},
	{"set a 1", "SET a v XX GET"},
	{"set a 1", "SET a v PXAT 1"},
	{"set a 1", "GETSET a v"},
	{"set a 1", "GETDEL a"},
	{"set a 1", "GETEX a PX 100000"},
	{"set a 1 ex 100", "GETEX a PERSIST"},
	{"set a 1", "GETEX a PXAT 1"},
	{"", "MSET a 1 b 2"},
	{"", "MSETNX a 1 b 2"},
	{"set a 1", "MSETNX a 1 b 2"},
	{"set a 1", "INCR a"},
	{"set a 1", "INCRBY a 2"},
	{"set a 1", "INCRBYFLOAT a 1.5"},
	{"set a 1", "DECR a"},
	{"set a 1", "APPEND a x"},
	{"set a 1", "SETRANGE a 3 x"},
	{"", "SETEX a 100 v"},
	{"", "PSETEX a 100000 v"},
	{"", "SETNX a v"},
	// bits and HyperLogLog
	{"", "SETBIT a 5 1"},
	{"setbit a 5 1", "SETBIT a 5 1"},
	{"set a x;set b y", "BITOP AND c a b"},
	{"set a x", "BITOP NOT c a"},
	{"set c z", "BITOP OR c a b"},
	{"", "BITFIELD a SET u8 0 5"},
	{"set a x", "BITFIELD a INCRBY u8 0 1 GET u8 0"},
	{"", "PFADD a x"},
	{"pfadd a x;pfadd b y", "PFMERGE c a b"},
	// lists, blocking pops served at once
	{"", "LPUSH a x y"},
	{"rpush a 1", "RPUSH a x y"},
	{"rpush a 1", "LPUSHX a x"},
	{"rpush a 1", "LINSERT a BEFORE 1 x"},
	{"rpush a 1", "LSET a 0 x"},
	{"rpush a 1 2 1", "LREM a 0 1"},
	{"rpush a 1", "LREM a 0 1"},
	{"rpush a 1 2 3", "LTRIM a 1 1"},
	{"rpush a 1 2 3", "LTRIM a 5 6"},
	{"rpush a 1 2", "LPOP a"},
	{"rpush a 1 2", "LPOP a 2"},
	{"rpush a 1", "RPOP a"},
	{"rpush a 1 2", "LMOVE a b LEFT RIGHT"},
	{"rpush a 1", "LMOVE a b LEFT RIGHT"},
	{"rpush a 1 2", "LMOVE a a LEFT RIGHT"},
	{"rpush a 1", "RPOPLPUSH a b"},
	{"rpush a 1 2", "BLPOP a 0.05"},
	{"rpush a 1", "BRPOP b a 0.05"},
	{"rpush a 1", "BLMOVE a b LEFT LEFT 0.05"},
	{"rpush a 1 2", "BRPOPLPUSH a b 0.05"},
	{"rpush a 1 2 3", "LMPOP 2 a b LEFT COUNT 2"},
	{"rpush a 1", "BLMPOP 0.05 1 a RIGHT"},
	// hashes
	{"", "HSET a f v g w"},
	{"hset a f v", "HSETNX a g v"},
	{"", "HMSET a f v"},
	{"hset a f v g w", "HDEL a f"},
	{"hset a f v", "HDEL a f"},
	{"hset a f 1", "HINCRBY a f 1"},
	{"hset a f 1", "HINCRBYFLOAT a f 1"},
	// sets
	{"", "SADD a x y"},
	{"sadd a x y", "SREM a x"},
	{"sadd a x", "SREM a x"},
	{"sadd a x", "SPOP a"},
	{"sadd a x", "SPOP a 1"},
	{"sadd a x", "SMOVE a b x"},
	{"sadd a x;sadd b x y", "SINTERSTORE c a b"},
	{"sadd a x;sadd b x y", "SUNIONSTORE c a b"},
	{"sadd a x;sadd b x y", "SDIFFSTORE c b a"},
	{"sadd a x;set c v", "SDIFFSTORE c a a"},
	{"sadd a x;set c v", "SINTERSTORE c a b"},
	// sorted sets
	{"", "ZADD a 1 m 2 n"},
	{"zadd a 1 m", "ZADD a INCR 2 m"},
	{"zadd a 1 m", "ZINCRBY a 2 m"},
	{"zadd a 1 m 2 n", "ZREM a m"},
	{"zadd a 1 m", "ZREM a m"},
	{"zadd a 1 m 2 n", "ZREMRANGEBYSCORE a 0 1"},
	{"zadd a 1 m 2 n", "ZREMRANGEBYRANK a 0 -1"},
	{"zadd a 0 m 0 n", "ZREMRANGEBYLEX a - [m"},
	{"zadd a 1 m 2 n", "ZPOPMIN a"},
	{"zadd a 1 m 2 n 3 o", "ZPOPMAX a 2"},
	{"zadd a 1 m", "ZPOPMIN a 5"},
	{"zadd a 1 m 2 n", "BZPOPMIN a 0.05"},
	{"zadd a 1 m", "BZPOPMAX b a 0.05"},
	{"zadd a 1 m 2 n 3 o", "ZMPOP 1 a MAX COUNT 2"},
	{"zadd a 1 m 2 n", "BZMPOP 0.05 2 b a MIN"},
	{"zadd a 1 m;zadd b 1 m", "ZUNIONSTORE c 2 a b"},
	{"zadd a 1 m;zadd b 1 n", "ZINTERSTORE c 2 a b"},
	{"zadd a 1 m;zadd b 1 n", "ZDIFFSTORE c 2 a b"},
	{"zadd a 1 m 2 n", "ZRANGESTORE c a 0 -1"},
	{"zadd a 1 m;set c v", "ZRANGESTORE c a 5 6"},
	// streams
	{"", "XADD a 1-1 f v"},
	{"xadd a 1-1 f v", "XADD a MAXLEN 1 2-1 f v"},
	{"", "XADD a NOMKSTREAM 1-1 f v"},
	{"xadd a 1-1 f v;xadd a 2-1 f v", "XTRIM a MAXLEN 1"},
	{"xadd a 1-1 f v;xadd a 2-1 f v", "XDEL a 1-1"},
	{"", "XGROUP CREATE a g 0 MKSTREAM"},
	{"xgroup create a g 0 mkstream", "XGROUP CREATECONSUMER a g c"},
	{"xadd a 1-1 f v;xgroup create a g 0", "XREADGROUP GROUP g c COUNT 1 STREAMS a >"},
	{"xadd a 1-1 f v;xgroup create a g 0;xreadgroup group g c streams a >", "XACK a g 1-1"},
	{"xadd a 1-1 f v;xgroup create a g 0;xreadgroup group g c streams a >", "XCLAIM a g d 0 1-1 JUSTID"},
	{"xadd a 1-1 f v;xgroup create a g 0;xreadgroup group g c streams a >", "XAUTOCLAIM a g d 0 0-0 JUSTID"},
	{"xadd a 1-1 f v;xadd a 2-1 f v;xgroup create a g 0;xreadgroup group g c streams a >;xdel a 1-1", "XAUTOCLAIM a g d 0 0-0"},
	{"xadd a 1-1 f v", "XSETID a 5-5"},
	{"xgroup create a g 0 mkstream", "XGROUP SETID a g 0"},
	{"xgroup create a g 0 mkstream;xgroup createconsumer a g c", "XGROUP DELCONSUMER a g c"},
	{"xgroup create a g 0 mkstream", "XGROUP DESTROY a g"},
	// geo
	{"", "GEOADD a 13.361389 38.115556 p"},
	{"geoadd a 13.361389 38.115556 p", "GEORADIUS a 15 37 200 km STORE c"},
	{"geoadd a 13.361389 38.115556 p", "GEORADIUSBYMEMBER a p 10 km STOREDIST c"},
	{"geoadd a 13.361389 38.115556 p", "GEOSEARCHSTORE c a FROMLONLAT 15 37 BYRADIUS 200 km"},
	{"geoadd a 13.361389 38.115556 p;set c v", "GEOSEARCHSTORE c a FROMLONLAT 100 0 BYRADIUS 1 km"},
	// SORT STORE
	{"rpush a 3 1 2", "SORT a STORE c"},
	{"set c v", "SORT a STORE c"},
	// keys
	{"set a 1", "COPY a b"},
	{"set a 1;set b 2", "COPY a b REPLACE"},
	{"set a 1", "COPY a b DB 1"},
	{"set a 1;set b 2", "RENAME a b"},
	{"set a 1", "RENAME a a"},
	{"set a 1", "RENAMENX a b"},
	{"set a 1", "MOVE a 1"},
	{"set a 1;set b 2", "DEL a b c"},
	{"set a 1;set b 2", "UNLINK a b"},
	{"set a 1", "EXPIRE a 0"},
	{"set a 1", "EXPIRE a -1"},
	{"set a 1", "PEXPIRE a 0"},
	{"set a 1", "EXPIREAT a 1"},
	{"set a 1", "PEXPIREAT a 1"},
	{"set a 1", "EXPIRE a 100"},
	{"set a 1 ex 100", "PERSIST a"},
	{"set a 1", "TOUCH a b"},
	{"set a 1", "OBJECT ENCODING a"},
	{"", "RESTORE a 0 $DUMP"},
	{"set a 1", "RESTORE a 0 $DUMP REPLACE"},
	{"set a 1", "FLUSHDB"},
	{"set a 1", "SWAPDB 0 1"},
	// pub/sub to the client itself (subscribed to ordch in the events mode)
	{"", "PUBLISH ordch m"},
}

// TestSelfOrder compares, for every command of selfOrderCases, the frames
// (replies and pushes) a RESP3 client gets from its own command: in the
// "events" mode it is subscribed to its own keyspace events (one pattern,
// __key*__:*, notify-keyspace-events KEAnm) and to ordch; in the
// "tracking" mode it has CLIENT TRACKING on and reads the command's keys
// (EXISTS, as COMMAND GETKEYS names them) just before. Each runs in three
// forms: plain, inside MULTI/EXEC and inside EVAL (keys declared), and in
// two variants: as set up, and with every key of the command given a past
// time (PEXPIRE 1 and a pause, active expiry off) so that the command
// finds them expired. The events mode has two more forms, "multi-pre" and
// "eval-pre", whose transaction or script first sets another key, so
// that the command's own events (an expired key's first) follow others,
// and "eval-nokeys", a script that declares no key.
// Everything the client gets up to an ECHO's answer is compared
// byte for byte with redis-server's. CRESCENT_SELF_ORDER=name runs the
// cases whose command starts with name.
func TestSelfOrder(t *testing.T) {
	p := StartPair(t)
	rc := Dial(t, p.Redis)
	rc.MustDo(t, "SET", "ord:dump", "v")
	v, _, err := Parse(rc.MustDo(t, "DUMP", "ord:dump"))
	if err != nil || v.Type != '$' {
		t.Fatalf("DUMP: %v %q", err, v.Raw)
	}
	dump := string(v.Str)
	ctls := [2]*Conn{rc, Dial(t, p.Crescent)}
	for _, c := range ctls {
		c.MustDo(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
		c.MustDo(t, "CONFIG", "SET", "notify-keyspace-events", "KEAnm")
	}
	t.Cleanup(func() {
		for _, c := range ctls {
			c.Do("DEBUG", "SET-ACTIVE-EXPIRE", "1")
			c.Do("CONFIG", "SET", "notify-keyspace-events", "")
		}
	})
	only := os.Getenv("CRESCENT_SELF_ORDER")
	runs, diffs := 0, 0
	for _, tc := range selfOrderCases {
		if only != "" && !strings.HasPrefix(tc.cmd, only) {
			continue
		}
		cmd := splitLine(t, strings.ReplaceAll(tc.cmd, "$DUMP", `"`+escapeArg(dump)+`"`))
		keys := commandKeys(t, rc, cmd)
		for _, mode := range []string{"events", "tracking"} {
			for _, expired := range []bool{false, true} {
				for _, form := range []string{"plain", "multi", "eval", "multi-pre", "eval-pre", "eval-nokeys"} {
					if mode == "tracking" && (strings.HasSuffix(form, "-pre") || form == "eval-nokeys") {
						continue
					}
					name := fmt.Sprintf("%s/%s/%s", tc.cmd, mode, form)
					if expired {
						name += "/expired"
					}
					var got [2]string
					// more tries when they differ: now and then
					// redis-server reclaims an expired key before the
					// client subscribed (1 run in 2000 on a quiet machine;
					// twice in a row once in a loaded CI run)
					for try := 0; try < 4 && (try == 0 || got[0] != got[1]); try++ {
						for _, ctl := range ctls {
							ctl.MustDo(t, "FLUSHALL")
							for _, line := range strings.Split(tc.setup, ";") {
								if line != "" {
									ctl.MustDo(t, splitLine(t, line)...)
								}
							}
							if expired {
								// a past time would delete the key at once; a
								// second PEXPIRE of a key could find it expired
								for i, k := range keys {
									if !slices.Contains(keys[:i], k) {
										ctl.MustDo(t, "PEXPIRE", k, "1")
									}
								}
							}
						}
						if expired {
							time.Sleep(10 * time.Millisecond)
						}
						for i, s := range []*Server{p.Redis, p.Crescent} {
							got[i] = selfOrderRun(t, s, mode, form, cmd, keys)
						}
					}
					runs++
					if got[0] != got[1] {
						diffs++
						t.Errorf("%s:\nredis:    %s\ncrescent: %s", name, got[0], got[1])
					}
				}
			}
		}
	}
	t.Logf("%d runs (command, mode, variant, form), %d differences", runs, diffs)
}

// selfOrderRun runs cmd on a new RESP3 connection to s in the given mode
// and form and returns what the connection got, frames separated by " | ".
func selfOrderRun(t *testing.T, s *Server, mode, form string, cmd, keys []string) string {
	t.Helper()
	c := Dial(t, s)
	defer c.Close()
	if err := c.Hello3(); err != nil {
		t.Fatal(err)
	}
	var send [][]string
	if mode == "events" {
		c.MustDo(t, "PSUBSCRIBE", "__key*__:*")
		c.MustDo(t, "SUBSCRIBE", "ordch")
	} else {
		c.MustDo(t, "CLIENT", "TRACKING", "on")
	}
	var reads [][]string
	if mode == "tracking" {
		for _, k := range keys {
			reads = append(reads, []string{"EXISTS", k})
		}
	}
	switch form {
	case "plain":
		send = append(append(send, reads...), cmd)
	case "multi":
		send = append(send, []string{"MULTI"})
		send = append(append(send, reads...), cmd)
		send = append(send, []string{"EXEC"})
	case "multi-pre":
		send = append(send, []string{"MULTI"}, []string{"SET", "ord:pre", "1"}, cmd, []string{"EXEC"})
	case "eval":
		body := "return redis.call(unpack(ARGV))"
		if len(reads) > 0 {
			body = "for _, k in ipairs(KEYS) do redis.call('exists', k) end " + body
		}
		ev := append([]string{"EVAL", body, fmt.Sprint(len(keys))}, keys...)
		send = append(send, append(ev, cmd...))
	case "eval-nokeys":
		// no key declared: Crescent runs it holding the whole keyspace
		send = append(send, append([]string{"EVAL", "return redis.call(unpack(ARGV))", "0"}, cmd...))
	case "eval-pre":
		body := "redis.call('set', KEYS[1], '1') return redis.call(unpack(ARGV))"
		ev := append([]string{"EVAL", body, fmt.Sprint(len(keys) + 1), "ord:pre"}, keys...)
		send = append(send, append(ev, cmd...))
	}
	send = append(send, []string{"ECHO", "ord:end"})
	for _, a := range send {
		if err := c.SendCmd(a...); err != nil {
			t.Fatal(err)
		}
	}
	var frames []string
	for {
		b, err := c.ReadWithin(5 * time.Second)
		if err != nil {
			t.Fatalf("%s %s %q: %v (got %q)", s.Name, form, cmd, err, frames)
		}
		if string(b) == "$7\r\nord:end\r\n" {
			break
		}
		frames = append(frames, strings.ReplaceAll(string(b), "\r\n", " "))
	}
	return strings.Join(frames, " | ")
}

// commandKeys returns the keys of cmd as redis-server's COMMAND GETKEYS
// names them (none for a command without keys).
func commandKeys(t *testing.T, c *Conn, cmd []string) []string {
	t.Helper()
	v, _, err := Parse(c.MustDo(t, append([]string{"COMMAND", "GETKEYS"}, cmd...)...))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range v.Elems {
		keys = append(keys, string(e.Str))
	}
	return keys
}

func splitLine(t *testing.T, line string) []string {
	t.Helper()
	args, err := resp.SplitArgs([]byte(line), nil)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// escapeArg writes s with \xHH escapes for resp.SplitArgs's double quotes.
func escapeArg(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "\\x%02x", s[i])
	}
	return b.String()
}
