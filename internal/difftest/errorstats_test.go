package difftest

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
)

// TestErrorStats compares, with Redis's, the replies and what failed and
// rejected calls leave in INFO commandstats, errorstats and
// total_error_replies. Commands refused over maxmemory: a rejected call
// of the command (Redis's rejectCommand), in and out of MULTI, for a
// queued read, and for EXEC refused because of its queue (a plain
// deny-oom command or a script declaring flags without allow-oom), whose
// transaction ends. Then the failures and rejections Redis's own INFO
// tests check: AUTH, inside EXEC and scripts, NOGROUP, unknown commands
// and arity, NOPERM, NOAUTH. Steps run on connections named by their
// first word: "a" does the work, "b" moves maxmemory and ACLs, "c" is
// opened at its first step.
func TestErrorStats(t *testing.T) {
	p := StartPair(t)
	cases := []struct {
		name  string
		steps []string // "a CMD" or "b CMD"
	}{
		{"set", []string{"b CONFIG SET maxmemory 1", "a SET k v", "a GET k", "b CONFIG SET maxmemory 0"}},
		{"queued read", []string{"a SET x v", "a MULTI", "b CONFIG SET maxmemory 1", "a GET x", "a PING",
			"b CONFIG SET maxmemory 0", "a EXEC", "a PING"}},
		{"discard and quit-free", []string{"a MULTI", "b CONFIG SET maxmemory 1", "a DISCARD", "a MULTI", "a MULTI", "a WATCH x",
			"b CONFIG SET maxmemory 0", "a EXEC"}},
		{"exec with a deny-oom command", []string{"a MULTI", "a SET x 1", "a GET x", "b CONFIG SET maxmemory 1", "a EXEC",
			"b CONFIG SET maxmemory 0", "a GET x", "a EXEC"}},
		{"exec with reads only", []string{"a SET x v", "a MULTI", "a GET x", "a EVAL \"return 1\" 0",
			"a EVAL \"#!lua flags=no-writes\nreturn 2\" 0", "a EVAL \"#!lua flags=allow-oom\nreturn redis.call('set','x','w')\" 0",
			"b CONFIG SET maxmemory 1", "a EXEC", "b CONFIG SET maxmemory 0", "a GET x"}},
		{"exec with a script declaring flags", []string{"a MULTI", "a EVAL \"#!lua\nreturn 1\" 0", "b CONFIG SET maxmemory 1",
			"a EXEC", "b CONFIG SET maxmemory 0", "a EXEC"}},
		{"exec with a function", []string{"a FUNCTION LOAD REPLACE \"#!lua name=oomlib\nredis.register_function('w', function() return 1 end)\nredis.register_function{function_name='r', callback=function() return 2 end, flags={'no-writes'}}\"",
			"a MULTI", "a FCALL r 0", "b CONFIG SET maxmemory 1", "a EXEC", "b CONFIG SET maxmemory 0",
			"a MULTI", "a FCALL w 0", "b CONFIG SET maxmemory 1", "a EXEC", "b CONFIG SET maxmemory 0"}},
		// errors and rejections Redis's own INFO tests check, in our words
		{"auth failure", []string{"a AUTH k"}},
		{"auth failure inside exec", []string{"a MULTI", "a SET a b", "a AUTH a", "a EXEC", "a EXEC"}},
		{"pcall failure inside a script", []string{"a EVAL \"redis.pcall('XGROUP', 'CREATECONSUMER', 's1', 'g', 'c') return\" 0",
			"a EVAL \"return redis.call('XGROUP', 'CREATECONSUMER', 's1', 'g', 'c')\" 0", "a EVAL a", "a EVAL \"return redis.pcall('nosuch')\" 0",
			"a EVAL \"return redis.error_reply('MY err')\" 0", "a EVAL \"return {err='x'}\" 0", "a EVAL \"error('boom')\" 0"}},
		{"nogroup", []string{"a XADD s * f v", "a XGROUP CREATECONSUMER s g c", "a XREADGROUP GROUP g c STREAMS s >"}},
		{"unknown command and arity", []string{"a ASDF", "a SET k", "a SET k1 v1", "a GET", "a CONFIG GET", "a CONFIG NOSUCH", "a OBJECT"}},
		{"rejected inside multi", []string{"a MULTI", "a SET", "a EXEC", "a MULTI", "a NOSUCH", "a EXEC", "a DISCARD", "a WATCH"}},
		{"wrongtype and syntax", []string{"a SET s v", "a LPUSH s x", "a SET k v XX NX", "a INCR s", "a ZADD z NX GT 1 m"}},
		{"noperm", []string{"b ACL SETUSER alice on >p1pp0 ~cached:* +get +info +config", "a AUTH alice p1pp0", "a SET a b",
			"a GET other", "a GET cached:1", "b ACL DELUSER alice"}},
		{"noauth", []string{"b CONFIG SET requirepass pw", "c GET k", "c MULTI", "c AUTH pw", "c GET k", "b CONFIG SET requirepass \"\""}},
		// command stats Redis's introspection-2 tests check, in our words: a
		// command counts under its own name, not under what it does inside
		// (GEOADD is no ZADD, EXPIRE 0 no DEL, BRPOP served at once no RPOP),
		// MULTI/EXEC count each queued command once, a script counts EVAL
		// once and each redis.call under its command
		{"geoadd counts as geoadd", []string{"a GEOADD g 0 0 m", "a SET s 1", "a GEOADD s 0 0 m"}},
		{"expire 0 counts as expire", []string{"a SET e v", "a EXPIRE e 0", "a EXISTS e"}},
		{"brpop served at once", []string{"a LPUSH l x", "a BRPOP l 0"}},
		{"multi counts its commands", []string{"a MULTI", "a SET f{t} v", "a GEOADD g{t} 0 0 m", "a EXPIRE g{t} 0", "a EXEC"}},
		{"script counts its calls", []string{"a SET mk v", "a EVAL \"redis.call('set', KEYS[1], 0) redis.call('expire', KEYS[1], 0) redis.call('geoadd', KEYS[1], 0, 0, 'm')\" 1 mk"}},
		{"watch ends with the refused exec", []string{"a SET x 1", "a WATCH x", "a MULTI", "a INCR x", "b CONFIG SET maxmemory 1",
			"a EXEC", "b CONFIG SET maxmemory 0", "b SET x 5", "a MULTI", "a INCR x", "a EXEC"}},
	}
	usec := regexp.MustCompile(`usec=\d+,usec_per_call=[\d.]+,`)
	streamID := regexp.MustCompile(`\d{13}-\d+`)
	run := func(s *Server, steps []string) (string, error) {
		conns := map[string]*Conn{}
		for _, n := range []string{"a", "b"} {
			c, err := DialAddr(s.Addr)
			if err != nil {
				return "", err
			}
			defer c.Close()
			conns[n] = c
		}
		var out strings.Builder
		for _, l := range []string{"FLUSHALL", "FUNCTION FLUSH", "CONFIG RESETSTAT"} {
			if _, err := conns["b"].DoLine(l); err != nil {
				return "", err
			}
		}
		for _, st := range steps {
			who, line, _ := strings.Cut(st, " ")
			if conns[who] == nil { // a connection opened at its first step
				c, err := DialAddr(s.Addr)
				if err != nil {
					return "", err
				}
				defer c.Close()
				conns[who] = c
			}
			args, err := splitArgsLine(line)
			if err != nil {
				return "", err
			}
			rep, err := conns[who].Do(args...)
			if err != nil {
				return "", err
			}
			rep = streamID.ReplaceAll(bytes.TrimSpace(rep), []byte("<id>"))
			out.WriteString(st + " -> " + string(rep) + "\n")
		}
		var stats []string // sorted: Redis lists commands in its dict's order
		for _, sec := range []string{"commandstats", "errorstats", "stats"} {
			rep, err := conns["b"].Do("INFO", sec)
			if err != nil {
				return "", err
			}
			for _, l := range strings.Split(string(rep), "\r\n") {
				if strings.HasPrefix(l, "cmdstat_info") || strings.HasPrefix(l, "cmdstat_config") || strings.HasPrefix(l, "cmdstat_function") {
					continue
				}
				if strings.HasPrefix(l, "cmdstat_") || strings.HasPrefix(l, "errorstat_") || strings.HasPrefix(l, "total_error_replies:") {
					stats = append(stats, usec.ReplaceAllString(l, ""))
				}
			}
		}
		sort.Strings(stats)
		out.WriteString(strings.Join(stats, "\n"))
		return out.String(), nil
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := run(p.Redis, tc.steps)
			if err != nil {
				t.Fatalf("redis: %v", err)
			}
			c, err := run(p.Crescent, tc.steps)
			if err != nil {
				t.Fatalf("crescent: %v", err)
			}
			if r != c {
				t.Errorf("differs\nredis:\n%s\ncrescent:\n%s", r, c)
			}
		})
	}
}

// splitArgsLine splits a command line as the corpus does (quotes, escapes).
func splitArgsLine(line string) ([]string, error) {
	args, err := resp.SplitArgs([]byte(line), nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out, nil
}
