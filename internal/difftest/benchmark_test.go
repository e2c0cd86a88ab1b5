package difftest

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var (
	reCmdstat  = regexp.MustCompile(`(?m)^(cmdstat_[^:]+):calls=([0-9]+),.*rejected_calls=([0-9]+),failed_calls=([0-9]+)`)
	reKeyspace = regexp.MustCompile(`(?m)^(db[0-9]+):keys=([0-9]+),expires=([0-9]+)`)
)

// benchEffects is what a redis-benchmark run left on a server: the calls
// of every command (INFO commandstats: calls, rejected and failed, not the
// timings) and the key counts of every database.
func benchEffects(t *testing.T, s *Server) string {
	t.Helper()
	c := Dial(t, s)
	var lines []string
	for _, m := range reCmdstat.FindAllStringSubmatch(string(c.MustDo(t, "INFO", "commandstats")), -1) {
		lines = append(lines, m[1]+" calls="+m[2]+" rejected="+m[3]+" failed="+m[4])
	}
	for _, m := range reKeyspace.FindAllStringSubmatch(string(c.MustDo(t, "INFO", "keyspace")), -1) {
		lines = append(lines, m[1]+" keys="+m[2]+" expires="+m[3])
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestRedisBenchmarkEffects: Redis's redis-benchmark tests
// (tests/integration/redis-benchmark.tcl) check what a run does to the
// server; here each run goes against redis-server 7.0.15 and Crescent
// after CONFIG RESETSTAT and FLUSHALL, and the command counts of INFO
// commandstats and the key counts of INFO keyspace are compared (the
// default test list sends PING twice per request, LPUSH for the LRANGE
// tests, one key without -r, 50 keys with -r 50...). Exit codes and
// error lines are compared for the runs that must fail.
func TestRedisBenchmarkEffects(t *testing.T) {
	bin := cliBinary(t, "redis-benchmark")
	p := StartPair(t)
	addr := func(s *Server) string { return s.Addr }
	cases := []struct {
		name  string
		stdin string
		args  func(s *Server) []string
		// fails: the run must exit 1; its output is compared up to
		// the first "Error" or error line instead of the counts
		fails bool
		setup [][]string
		reset [][]string
	}{
		{name: "set,get", args: fixed("-c", "5", "-n", "10", "-t", "set,get")},
		{name: "uri", args: func(s *Server) []string {
			return []string{"-u", "redis://" + addr(s), "-c", "5", "-n", "10", "-t", "set,get"}
		}},
		{name: "uri with user and password", args: func(s *Server) []string {
			return []string{"-u", "redis://default:pass@" + addr(s), "-c", "5", "-n", "10", "-t", "set,get"}
		}},
		{name: "uri with a password against requirepass", setup: [][]string{{"CONFIG", "SET", "requirepass", "pw"}},
			reset: [][]string{{"AUTH", "pw"}, {"CONFIG", "SET", "requirepass", ""}}, fails: true,
			args: func(s *Server) []string {
				return []string{"-u", "redis://:pw@" + addr(s) + "/2", "-c", "2", "-n", "10", "-t", "incr,lpush"}
			}},
		{name: "full test suite", args: fixed("-c", "10", "-n", "100")},
		{name: "threads", args: fixed("--threads", "4", "-c", "5", "-n", "10", "-t", "set,get")},
		{name: "pipelined", args: fixed("-P", "5", "-c", "10", "-n", "1010", "-t", "set,get")},
		{name: "arbitrary command", args: fixed("-c", "5", "-n", "150", "INCRBYFLOAT", "mykey", "10.0")},
		{name: "keyspace length", args: fixed("-r", "50", "-t", "set", "-n", "1000")},
		{name: "random keys of every test", args: fixed("-r", "20", "-n", "400", "-t", "set,incr,lpush,rpush,sadd,hset,zadd,mset")},
		{name: "random members in a script", args: fixed("-r", "10", "-n", "300", "eval",
			"redis.call('sadd', KEYS[1], ARGV[1]) return redis.call('scard', KEYS[1])", "1", "s:__rand_int__", "m:__rand_int__")},
		{name: "dbnum", args: fixed("--dbnum", "5", "-r", "30", "-n", "500", "-t", "set,lpush,hset")},
		{name: "dbnum out of range", args: fixed("--dbnum", "99", "-n", "10", "-t", "set"), fails: true},
		{name: "read last argument from stdin", stdin: "arg", args: fixed("-x", "-n", "10", "set", "key")},
		{name: "idle mode past maxclients", setup: [][]string{{"CONFIG", "SET", "maxclients", "5"}},
			reset: [][]string{{"CONFIG", "SET", "maxclients", "10000"}},
			args:  fixed("-c", "10", "-I"), fails: true},
		{name: "cluster against a server without cluster", args: fixed("--cluster", "-c", "1", "-n", "1", "-t", "set"), fails: true},
		{name: "t ignored with a script", args: fixed("-n", "100", "-t", "get,lpush", "eval", "return redis.call('incr', KEYS[1])", "1", "ctr")},
		{name: "pipelined script", args: fixed("-P", "10", "-n", "500", "-r", "7", "eval",
			"return redis.call('hincrby', KEYS[1], ARGV[1], 1)", "1", "h:__rand_int__", "f:__rand_int__")},
		{name: "script in another database", args: fixed("--dbnum", "3", "-n", "200", "eval", "return redis.call('rpush', KEYS[1], ARGV[1])", "1", "l", "x")},
		{name: "evalsha of a missing script", args: fixed("-n", "10", "evalsha", "ffffffffffffffffffffffffffffffffffffffff", "0"), fails: true},
		{name: "resp3 full list", args: fixed("-3", "-c", "4", "-n", "40")},
		{name: "no keep-alive", args: fixed("-k", "0", "-c", "3", "-n", "30", "-t", "set,get")},
		{name: "no keep-alive resp3 and a password", setup: [][]string{{"CONFIG", "SET", "requirepass", "pw"}},
			reset: [][]string{{"AUTH", "pw"}, {"CONFIG", "SET", "requirepass", ""}},
			args:  fixed("-3", "-a", "pw", "-k", "0", "-c", "3", "-n", "30", "-t", "incr")},
		{name: "tracking", args: fixed("--enable-tracking", "-c", "3", "-n", "30", "-t", "set,get")},
		{name: "random keys of the list tests", args: fixed("-r", "5", "-n", "200", "-t", "lpop,rpop,lrange_100,lrange_300,spop,zpopmin")},
		{name: "big values", args: fixed("-d", "20000", "-r", "3", "-n", "100", "-t", "set,get,mset")},
		{name: "an unknown command", args: fixed("-n", "10", "NOSUCHCMD", "x"), fails: true},
		{name: "a command with the wrong arity", args: fixed("-n", "10", "GET"), fails: true},
		{name: "uri with the default user's password", setup: [][]string{{"CONFIG", "SET", "requirepass", "pw"}},
			reset: [][]string{{"AUTH", "pw"}, {"CONFIG", "SET", "requirepass", ""}},
			args: func(s *Server) []string {
				return []string{"-u", "redis://default:pw@" + addr(s) + "/2", "-c", "2", "-n", "10", "-t", "incr,lpush"}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var effects, outs [2]string
			var codes [2]int
			for i, s := range []*Server{p.Redis, p.Crescent} {
				c := Dial(t, s)
				c.MustDo(t, "FLUSHALL")
				for _, cmd := range tc.setup {
					c.MustDo(t, cmd...)
				}
				c.MustDo(t, "CONFIG", "RESETSTAT")
				// c stays open for the reset: a new connection right after
				// the run could find the run's connections not yet closed
				// by the server, and be refused under a low maxclients
				out, code := cliRun(t, bin, s, tc.stdin, tc.args(s)...)
				codes[i], outs[i] = code, benchErrors(out)
				if tc.name == "read last argument from stdin" {
					outs[i] += string(Dial(t, s).MustDo(t, "GET", "key"))
				}
				outs[i] = strings.ReplaceAll(outs[i], s.Addr, "ADDR")
				for _, cmd := range tc.reset {
					c.MustDo(t, cmd...)
				}
				c.Close()
				if !tc.fails {
					effects[i] = benchEffects(t, s)
				}
			}
			if codes[0] != codes[1] || outs[0] != outs[1] || effects[0] != effects[1] {
				t.Errorf("redis-benchmark %q:\nredis (exit %d) %q\n%s\ncrescent (exit %d) %q\n%s\n%s", tc.args(p.Redis),
					codes[0], outs[0], effects[0], codes[1], outs[1], effects[1], lineDiff(effects[0], effects[1]))
			}
			if tc.fails != (codes[0] != 0) {
				t.Errorf("redis-benchmark %q against redis: exit %d", tc.args(p.Redis), codes[0])
			}
		})
	}
}

func fixed(args ...string) func(*Server) []string {
	return func(*Server) []string { return args }
}

// benchErrors keeps the lines of a redis-benchmark report that tell an
// error (progress lines end in \r; timings are left out).
func benchErrors(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r", "\n"), "\n") {
		if strings.Contains(l, "rror") || strings.Contains(l, "ERR") || strings.Contains(l, "cluster") ||
			strings.Contains(l, "WRONG") || strings.Contains(l, "NOAUTH") {
			b.WriteString(strconv.Quote(l) + "\n")
		}
	}
	return b.String()
}
