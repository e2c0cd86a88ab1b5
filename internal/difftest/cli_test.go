package difftest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The redis-cli and redis-benchmark modes (docs/design/redis-cli.md), run
// against redis-server 7.0 and Crescent with the same dataset; their
// outputs are compared after a normalization that removes only what must
// differ:
//   - scan order: SCAN's order depends on each server's hash table (two
//     redis-servers differ too), so --scan output is sorted, and of
//     --bigkeys, --memkeys and --hotkeys only the summary is compared (the
//     "found so far" progress lines follow the scan order; --hotkeys'
//     summary is sorted, its ties being in scan order);
//   - memory byte counts (--memkeys): Crescent's accounting differs from
//     jemalloc's by design (docs/design/memory.md), so "N bytes" and the
//     averages are replaced; which key is the biggest of its type is still
//     compared;
//   - timestamps, client addresses (MONITOR), function addresses (the Lua
//     debugger prints "function@0x..."), timings and rates (--latency,
//     --stat, redis-benchmark);
//   - the RDB sizes of --rdb / --functions-rdb (encodings and aux fields
//     differ); the RDB files themselves are loaded into fresh
//     redis-servers and their data compared.

// cliBinary returns the path of a redis-tools binary, skipping the test
// when it is absent.
func cliBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("difftest: %s not found in PATH; skipping the redis-cli differential test", name)
	}
	return p
}

// cliRun runs bin against s with args and stdin, and returns its stdout
// and stderr together (as a terminal would show them) and its exit code.
func cliRun(t *testing.T, bin string, s *Server, stdin string, args ...string) (string, int) {
	t.Helper()
	return cliEnvRun(t, bin, s, nil, []byte(stdin), args...)
}

// cliDataset is loaded into both servers: one key or more of every type,
// with element counts and sizes that leave no tie for the biggest key of a
// type, names with a space, a quote and a glob character.
var cliDataset = [][]string{
	{"SET", "str:1", "hello"},
	{"SET", "str:2", "a much longer string value here, the biggest string"},
	{"SET", "sp ace", "x\ny"},
	{"SET", "q*uote", "v\"q"},
	{"SET", "num", "12345"},
	{"RPUSH", "list:1", "a", "b", "c", "d", "e", "f", "g", "h"},
	{"RPUSH", "list:2", "a"},
	{"HSET", "hash:1", "f1", "v1", "f2", "v2", "f3", "v3"},
	{"HSET", "hash:2", "f", "v"},
	{"SADD", "set:1", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"},
	{"SADD", "set:int", "1", "2", "3"},
	{"ZADD", "zset:1", "1", "a", "2", "b", "3", "c", "4", "d"},
	{"ZADD", "zset:2", "1", "a"},
	{"XADD", "stream:1", "1-1", "f", "v"},
	{"XADD", "stream:1", "2-1", "f", "v"},
	{"SET", "ttl:1", "v", "EX", "1000"},
	// db 4: collections past the listpack limits, for the RDB checks
	{"SELECT", "4"},
	{"EVAL", "for i = 1, 300 do redis.call('rpush', 'bl', i); redis.call('hset', 'bh', 'f' .. i, i); " +
		"redis.call('sadd', 'bs', 'm' .. i); redis.call('sadd', 'bi', i); redis.call('zadd', 'bz', i / 7, 'm' .. i) end " +
		"for i = 1, 200 do redis.call('xadd', 'bx', i .. '-1', 'f', i) end " +
		"redis.call('xgroup', 'create', 'bx', 'g', '0'); redis.call('xreadgroup', 'group', 'g', 'c', 'count', 3, 'streams', 'bx', '>'); " +
		"redis.call('set', 'bstr', string.rep('x', 5000)); redis.call('pfadd', 'hll', 'a', 'b', 'c'); " +
		"redis.call('set', 'px', 'v', 'pxat', 4102444800000); return 1", "0"},
	{"SELECT", "0"},
	{"FUNCTION", "LOAD", "#!lua name=cli\nredis.register_function('cli_f', function(keys, args) if #keys > 0 then redis.call('get', keys[1]) end return #keys end)"},
}

func cliLoad(t *testing.T, s *Server) {
	t.Helper()
	c := Dial(t, s)
	for _, cmd := range cliDataset {
		if r := c.MustDo(t, cmd...); len(r) > 0 && r[0] == '-' {
			t.Fatalf("difftest: %s: %v: %q", s.Name, cmd, r)
		}
	}
}

// cliCase is one redis-cli invocation, compared after norm (nil: as is).
type cliCase struct {
	name  string
	stdin string
	args  []string
	norm  func(string) string
}

func runCLICases(t *testing.T, bin string, p *Pair, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rOut, rCode := cliRun(t, bin, p.Redis, tc.stdin, tc.args...)
			cOut, cCode := cliRun(t, bin, p.Crescent, tc.stdin, tc.args...)
			if tc.norm != nil {
				rOut, cOut = tc.norm(rOut), tc.norm(cOut)
			}
			if rOut != cOut || rCode != cCode {
				t.Errorf("redis-cli %q differs\nredis (exit %d):\n%s\ncrescent (exit %d):\n%s\n%s",
					tc.args, rCode, rOut, cCode, cOut, lineDiff(rOut, cOut))
			}
		})
	}
}

// lineDiff names the first line that differs.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("first difference at line %d:\n  redis:    %q\n  crescent: %q", i+1, x, y)
		}
	}
	return ""
}

// summary keeps what follows redis-cli's "-------- summary -------" line.
func summary(s string) string {
	if i := strings.Index(s, "-------- summary -------"); i >= 0 {
		return s[i:]
	}
	return "NO SUMMARY\n" + s
}

func cliSortLines(s string) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(l)
	return strings.Join(l, "\n") + "\n"
}

var (
	reBytes    = regexp.MustCompile(`[0-9]+ bytes`)
	reAvg      = regexp.MustCompile(`avg size [0-9.]+`)
	reFuncAddr = regexp.MustCompile(`(function|table|userdata|thread)@0x[0-9a-f]+`)
	reMonitor  = regexp.MustCompile(`(?m)^[0-9]+\.[0-9]{6} \[([0-9]+) [0-9.]+:[0-9]+\]`)
	reMonLua   = regexp.MustCompile(`(?m)^[0-9]+\.[0-9]{6} \[([0-9]+) lua\]`)
	reRDBSize  = regexp.MustCompile(`(writing|after) [0-9]+ bytes`)
	reNumber   = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
)

func memNorm(s string) string {
	return reAvg.ReplaceAllString(reBytes.ReplaceAllString(summary(s), "N bytes"), "avg size N")
}

func rdbNorm(s string) string { return reRDBSize.ReplaceAllString(s, "$1 N bytes") }

// TestRedisCLIModes runs redis-cli's special modes against both servers.
func TestRedisCLIModes(t *testing.T) {
	bin := cliBinary(t, "redis-cli")
	// no diskless delay: redis-cli --rdb would wait 5 s for other replicas
	p := StartPair(t, "--repl-diskless-sync-delay", "0")
	cliLoad(t, p.Redis)
	cliLoad(t, p.Crescent)
	dir := t.TempDir()
	script := filepath.Join(dir, "script.lua")
	if err := os.WriteFile(script, []byte("local a = redis.call('incrby', KEYS[1], ARGV[1])\n"+
		"redis.call('set', KEYS[2], ARGV[2])\n"+
		"return {a, KEYS[2], ARGV[2], {1, 'x', false}, redis.status_reply('FINE'), 3.99}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	debug := filepath.Join(dir, "debug.lua")
	if err := os.WriteFile(debug, []byte("local t = {1, 2, 'three'}\n"+
		"local x = redis.call('set', KEYS[1], ARGV[1])\n"+
		"local y = redis.call('get', KEYS[1])\n"+
		"redis.debug('hello', t)\n"+
		"local big = string.rep('a', 200)\n"+
		"for i = 1, 3 do\n"+
		"  t[i] = i * 2\n"+
		"end\n"+
		"return {y, big:len(), t[3]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ldbCmds := "help\nlist\ns\nn\np\np t\nprint\nw\nl 2\ns\nr get dk\nr set dk 1\nr\nr incr dk\nr incr\nr nosuch\n" +
		"e 1+1\ne\ne KEYS[1]\ne error\ne error('boom')\nredis ping\nt\nmaxlen 10\nb 7\nb\nb -7\nb 8\nc\np big\nmaxlen 0\np big\nb 0\nc\n"
	ldbNorm := func(s string) string { return reFuncAddr.ReplaceAllString(s, "$1@ADDR") }
	pipe := "SET pa 1\r\nINCR pa\r\n*3\r\n$3\r\nSET\r\n$2\r\npb\r\n$1\r\n2\r\nBADCMD x\r\nLPUSH pa x\r\nGET pb\r\n"

	cases := []cliCase{
		{name: "bigkeys", args: []string{"--bigkeys"}, norm: summary},
		{name: "bigkeys -i", args: []string{"--bigkeys", "-i", "0.01"}, norm: summary},
		{name: "bigkeys db 5 (empty)", args: []string{"--bigkeys", "-n", "5"}},
		{name: "memkeys", args: []string{"--memkeys"}, norm: memNorm},
		{name: "memkeys-samples 2", args: []string{"--memkeys-samples", "2"}, norm: memNorm},
		{name: "memkeys-samples 0", args: []string{"--memkeys-samples", "0"}, norm: memNorm},
		{name: "scan", args: []string{"--scan"}, norm: cliSortLines},
		{name: "scan pattern", args: []string{"--scan", "--pattern", "*:1"}, norm: cliSortLines},
		{name: "scan pattern none", args: []string{"--scan", "--pattern", "nomatch*"}},
		{name: "scan quoted-pattern", args: []string{"--scan", "--quoted-pattern", `"q\x2a*"`}, norm: cliSortLines},
		{name: "scan quoted-pattern space", args: []string{"--scan", "--quoted-pattern", `"sp ace"`}, norm: cliSortLines},
		{name: "scan quoted-pattern invalid", args: []string{"--scan", "--quoted-pattern", `"unterminated`}},
		{name: "scan -i", args: []string{"--scan", "-i", "0.01", "--pattern", "s*"}, norm: cliSortLines},
		{name: "eval raw", args: []string{"--eval", script, "ek1", "ek2", ",", "5", "hello"}},
		{name: "eval no-raw", args: []string{"--no-raw", "--eval", script, "ek1", "ek2", ",", "5", "hello"}},
		{name: "eval no keys", args: []string{"--eval", script}},
		{name: "eval missing file", args: []string{"--eval", filepath.Join(dir, "nonexistent.lua")}},
		{name: "x", stdin: "from stdin\n", args: []string{"-x", "set", "xk"}},
		{name: "x get", args: []string{"get", "xk"}},
		{name: "X tag", stdin: "tagged", args: []string{"-X", "tag", "set", "tag", "xk2"}},
		{name: "X get", args: []string{"--no-raw", "get", "tag"}},
		{name: "pipe", stdin: pipe, args: []string{"--pipe"}},
		{name: "pipe data", args: []string{"mget", "pa", "pb"}},
		{name: "ldb", stdin: ldbCmds, args: []string{"--ldb", "--eval", debug, "dk", ",", "val"}, norm: ldbNorm},
		{name: "ldb rolled back", args: []string{"--no-raw", "get", "dk"}},
		{name: "ldb-sync-mode", stdin: ldbCmds, args: []string{"--ldb-sync-mode", "--eval", debug, "dk", ",", "val"}, norm: ldbNorm},
		{name: "ldb-sync-mode kept", args: []string{"--no-raw", "get", "dk"}},
		{name: "ldb abort", stdin: "s\ns\nabort\n", args: []string{"--ldb-sync-mode", "--eval", debug, "dk2", ",", "v2"}},
		{name: "ldb abort kept", args: []string{"--no-raw", "get", "dk2"}},
		{name: "ldb quit", stdin: "s\nquit\n", args: []string{"--ldb", "--eval", debug, "dk3", ",", "v3"}},
		{name: "r i", args: []string{"-r", "3", "-i", "0.01", "incr", "ctr"}},
		{name: "r", args: []string{"-r", "2", "--no-raw", "lrange", "list:1", "0", "1"}},
		{name: "latency", args: []string{"--latency", "-i", "0.1"}, norm: numNorm},
		{name: "latency csv", args: []string{"--latency", "--csv", "-i", "0.1"}, norm: numNorm},
	}
	cases = append(cases, cliFormatCases()...)
	runCLICases(t, bin, p, cases)

	t.Run("hotkeys", func(t *testing.T) { cliHotkeys(t, bin, p) })
	for _, diskless := range []string{"yes", "no"} {
		for _, s := range []*Server{p.Redis, p.Crescent} {
			Dial(t, s).MustDo(t, "CONFIG", "SET", "repl-diskless-sync", diskless)
		}
		t.Run("rdb diskless "+diskless, func(t *testing.T) { cliRDB(t, bin, p, dir, false) })
		t.Run("functions-rdb diskless "+diskless, func(t *testing.T) { cliRDB(t, bin, p, dir, true) })
	}
	t.Run("monitor", func(t *testing.T) { cliMonitor(t, bin, p) })
	t.Run("stat", func(t *testing.T) { cliStat(t, bin, p) })
}

// numNorm replaces every number (timings, rates, sample counts).
func numNorm(s string) string { return reNumber.ReplaceAllString(s, "N") }

// cliFormatCases are replies of every shape in each output mode: --raw,
// --no-raw, --csv, --json, --quoted-json, RESP2 and RESP3 (-3).
func cliFormatCases() []cliCase {
	cmds := [][]string{
		{"hgetall", "hash:1"},
		{"zrange", "zset:1", "0", "-1", "withscores"},
		{"smembers", "set:int"},
		{"xrange", "stream:1", "-", "+"},
		{"get", "nokey"},
		{"get", "sp ace"},
		{"get", "q*uote"},
		{"lrange", "list:1", "0", "-1"},
		{"lrange", "nolist", "0", "-1"},
		{"incr", "str:1"},
		{"zscore", "zset:1", "b"},
		{"object", "encoding", "set:int"},
		{"smismember", "set:1", "m1", "zz"},
		{"lpos", "list:1", "c"},
		{"config", "get", "maxmemory-polic*"},
		{"xinfo", "stream", "stream:1"},
		{"command", "info", "get"},
		{"function", "list"},
		{"eval", "return {1, {2, {'a', false}}, redis.error_reply('E x'), 3.5, redis.status_reply('S')}", "0"},
		{"eval", "redis.setresp(3); return redis.call('hgetall', 'hash:1')", "0"},
		{"eval", "return {double = 1.5}", "0"},
		{"eval", "redis.setresp(3); return {map = {a = 1}}", "0"},
		{"eval", "redis.setresp(3); return {set = {a = true}}", "0"},
		{"eval", "redis.setresp(3); return {big_number = '123456789012345678901'}", "0"},
		{"eval", "redis.setresp(3); return {double = 0.1}", "0"},
		{"eval", "redis.setresp(3); return nil", "0"},
		{"eval", "redis.setresp(3); return true", "0"},
		{"eval", "redis.setresp(3); return false", "0"},
		{"eval", "redis.setresp(3); return redis.call('zscore', 'zset:1', 'a')", "0"},
		{"eval", "return redis.error_reply('MYERR custom')", "0"},
		{"hello", "3"},
	}
	modes := [][]string{{}, {"--raw"}, {"--no-raw"}, {"--csv"}, {"--json"}, {"--quoted-json"},
		{"-3"}, {"-3", "--raw"}, {"-3", "--no-raw"}, {"-3", "--csv"}, {"-3", "--json"}, {"-2", "--json"},
		{"--raw", "-d", "|"}, {"-e"}}
	idRe := regexp.MustCompile(`id\D+[0-9]+`)
	var cases []cliCase
	for _, m := range modes {
		for _, c := range cmds {
			args := append(append([]string{}, m...), c...)
			var norm func(string) string
			if c[0] == "hello" {
				norm = func(s string) string { return idRe.ReplaceAllString(s, "id N") }
			}
			cases = append(cases, cliCase{name: strings.Join(args, " "), args: args, norm: norm})
		}
	}
	return cases
}

// cliHotkeys compares --hotkeys on keys made under allkeys-lfu, one of
// them read once (its counter goes from 5 to 6 with probability 1), in a
// database of their own; lfu-decay-time 0, so that a minute starting
// in between changes nothing.
func cliHotkeys(t *testing.T, bin string, p *Pair) {
	for _, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-decay-time", "0")
		c.MustDo(t, "SELECT", "7")
		for _, k := range []string{"h1", "h2", "h3", "hot"} {
			c.MustDo(t, "SET", k, "v")
		}
		c.MustDo(t, "GET", "hot")
	}
	defer func() {
		for _, s := range []*Server{p.Redis, p.Crescent} {
			Dial(t, s).MustDo(t, "CONFIG", "SET", "maxmemory-policy", "noeviction", "lfu-decay-time", "1")
		}
	}()
	hot := func(s string) string {
		s = summary(s)
		i := strings.Index(s, "\n\n")
		if i < 0 {
			return s
		}
		return s[:i+2] + cliSortLines(s[i+2:])
	}
	runCLICases(t, bin, p, []cliCase{
		{name: "hotkeys", args: []string{"-n", "7", "--hotkeys"}, norm: hot},
		{name: "hotkeys pattern", args: []string{"-n", "7", "--hotkeys", "--pattern", "h*"}, norm: hot},
		// db 0's keys were written under noeviction (LRU clocks): each
		// server's counters are then arbitrary, and so is which 16 of the
		// keys are listed: only the number of keys sampled is compared
		{name: "hotkeys on LRU-made keys", args: []string{"--hotkeys"}, norm: func(s string) string {
			return regexp.MustCompile(`Sampled [0-9]+ keys`).FindString(s)
		}},
	})
	// keys written under an LRU policy, read under LFU: a counter in
	// 0..255 (OBJECT FREQ decodes the access field as Redis's LFU does)
	out, _ := cliRun(t, bin, p.Crescent, "", "--hotkeys")
	for _, m := range regexp.MustCompile(`counter: ([0-9]+)`).FindAllStringSubmatch(out, -1) {
		if len(m[1]) > 3 {
			t.Errorf("crescent --hotkeys: counter %s out of 0..255:\n%s", m[1], out)
		}
	}
}

// cliRDB runs --rdb (or --functions-rdb) against both servers, compares
// redis-cli's output, then loads each file into a fresh redis-server and
// compares their data: DEBUG DIGEST (every key and value), DBSIZE and
// FUNCTION LIST.
func cliRDB(t *testing.T, bin string, p *Pair, dir string, functions bool) {
	flag := "--rdb"
	if functions {
		flag = "--functions-rdb"
	}
	var digests [2][]string
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		sub, err := os.MkdirTemp(dir, "rdb")
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(sub, "dump.rdb")
		out, code := cliRun(t, bin, s, "", flag, file)
		outs[i] = fmt.Sprintf("exit %d\n%s", code, strings.ReplaceAll(rdbNorm(out), file, "FILE"))
		loaded := StartRedis(t, "--dir", sub, "--dbfilename", "dump.rdb")
		c := Dial(t, loaded)
		for _, cmd := range [][]string{{"DEBUG", "DIGEST"}, {"DBSIZE"}, {"FUNCTION", "LIST"}, {"TTL", "ttl:1"}} {
			r := c.MustDo(t, cmd...)
			if cmd[0] == "TTL" {
				r = []byte(fmt.Sprint(len(r) > 1 && r[1] != '-'))
			}
			digests[i] = append(digests[i], string(r))
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("redis-cli %s differs\nredis:\n%s\ncrescent:\n%s", flag, outs[0], outs[1])
	}
	for j := range digests[0] {
		if digests[0][j] != digests[1][j] {
			t.Errorf("%s: the RDBs load differently into redis-server:\n  from redis:    %q\n  from crescent: %q",
				flag, digests[0][j], digests[1][j])
		}
	}
	if !functions && (digests[0][1] == ":0\r\n" || digests[1][1] == ":0\r\n") {
		t.Errorf("--rdb: nothing loaded (DBSIZE %q, %q)", digests[0][1], digests[1][1])
	}
	if !strings.Contains(digests[1][2], "cli_f") {
		t.Errorf("%s: crescent's RDB has no function library: %q", flag, digests[1][2])
	}
	if functions && digests[1][1] != ":0\r\n" {
		t.Errorf("--functions-rdb: crescent sent keys (DBSIZE %q)", digests[1][1])
	}
}

// cliMonitor compares MONITOR's lines for plain commands, a script's
// commands ([db lua]), MULTI/EXEC, another database, and credentials
// (AUTH, HELLO AUTH: "(redacted)").
func cliMonitor(t *testing.T, bin string, p *Pair) {
	cmds := [][]string{
		{"SET", "a b", "x\"y"},
		{"EVAL", "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", "1", "mk", "v\n"},
		{"MULTI"}, {"INCR", "mn"}, {"LPUSH", "ml", "a\x00b"}, {"EXEC"},
		{"MULTI"}, {"GET"}, {"EXEC"},
		{"SELECT", "3"}, {"FCALL", "cli_f", "1", "fk"}, {"SELECT", "0"},
		{"AUTH", "secret"}, {"AUTH", "user", "secret"}, {"AUTH", "a", "b", "c"},
		{"HELLO", "3", "AUTH", "default", "secret"}, {"HELLO", "2", "AUTH", "default", "x", "SETNAME", "n1"},
		{"NOSUCH", "x"}, {"EVAL", "return redis.pcall('nosuch')", "0"},
		{"FCALL", "nofunc", "0"}, {"FCALL_RO", "cli_f", "1", "fk"}, {"FCALL", "cli_f", "x"},
		{"MULTI"}, {"FCALL", "cli_f", "1", "fk"}, {"EVALSHA", "0000000000000000000000000000000000000000", "0"}, {"EXEC"},
		{"CONFIG", "SET", "maxmemory-policy", "noeviction"},
		{"PING"}, {"ECHO", "monitor-end"},
	}
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		host, port, _ := net.SplitHostPort(s.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "monitor")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(stdout)
		if line, err := rd.ReadString('\n'); err != nil || line != "OK\n" {
			t.Fatalf("%s: monitor: %q %v", s.Name, line, err)
		}
		c := Dial(t, s)
		for _, a := range cmds {
			c.MustDo(t, a...)
		}
		var b strings.Builder
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: monitor: %v after\n%s", s.Name, err, b.String())
			}
			b.WriteString(line)
			if strings.Contains(line, "monitor-end") {
				break
			}
		}
		cancel()
		cmd.Wait()
		out := reMonitor.ReplaceAllString(b.String(), "TS [$1 ADDR]")
		outs[i] = reMonLua.ReplaceAllString(out, "TS [$1 lua]")
	}
	if outs[0] != outs[1] {
		t.Errorf("MONITOR differs\nredis:\n%s\ncrescent:\n%s\n%s", outs[0], outs[1], lineDiff(outs[0], outs[1]))
	}
}

// cliStat checks --stat's header and columns over two samples: stdout
// is line buffered through stdbuf, as redis-cli never exits by itself.
func cliStat(t *testing.T, bin string, p *Pair) {
	stdbuf, err := exec.LookPath("stdbuf")
	if err != nil {
		t.Skip("stdbuf not found: --stat runs until killed and its output is buffered")
	}
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		host, port, _ := net.SplitHostPort(s.Addr)
		cmd := exec.Command(stdbuf, "-oL", bin, "-h", host, "-p", port, "--stat", "-i", "0.1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(stdout)
		var lines []string
		for len(lines) < 4 {
			line, err := rd.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, line)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if len(lines) < 4 {
			t.Fatalf("%s: --stat printed %q", s.Name, lines)
		}
		// keys, mem, clients, blocked, requests (+delta), connections, and
		// a child's state if one runs (SAVE: Redis's fork for the --rdb
		// case's sync may still be finishing)
		row := regexp.MustCompile(`^([0-9]+) +[0-9.]+[BKMG] +([0-9]+) +([0-9]+) +[0-9]+ \(\+[0-9]+\) +[0-9]+( +[A-Z]+)? *\n$`)
		for _, l := range lines[2:] {
			m := row.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("%s: --stat row %q", s.Name, l)
				continue
			}
			lines[2] = fmt.Sprintf("keys %s clients %s blocked %s\n", m[1], m[2], m[3])
		}
		outs[i] = strings.Join(lines[:3], "")
	}
	if outs[0] != outs[1] {
		t.Errorf("--stat differs\nredis:\n%s\ncrescent:\n%s", outs[0], outs[1])
	}
}

// TestRedisBenchmark runs redis-benchmark against Crescent: the default
// test list, -t with tests that exist and do not (xadd has no test in
// 7.0), --dbnum, -P, -3, --precision, --csv, -a against requirepass, and a
// script; every test must complete without an error, with the same test
// names as against redis-server.
func TestRedisBenchmark(t *testing.T) {
	bin := cliBinary(t, "redis-benchmark")
	p := StartPair(t)
	auth := StartPair(t) // requirepass set below: StartRedis waits for a PONG
	for _, s := range []*Server{auth.Redis, auth.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "ACL", "SETUSER", "bench", "on", ">bpass", "~*", "+@all")
		c.MustDo(t, "CONFIG", "SET", "requirepass", "pass")
	}
	// "NAME: N requests per second, ..." (-q) or "NAME","N",... (--csv);
	// progress lines end in \r
	names := regexp.MustCompile(`(?m)^(.*): [0-9.]+ requests per second|^"([^"]+)","[0-9.]+"`)
	testNames := func(out string) string {
		var b strings.Builder
		for _, m := range names.FindAllStringSubmatch(strings.ReplaceAll(out, "\r", "\n"), -1) {
			b.WriteString(m[1] + m[2] + "\n")
		}
		return b.String()
	}
	cases := []struct {
		name string
		auth bool
		args []string
	}{
		{"default list", false, []string{"-q", "-n", "2000"}},
		{"t lrange_100,xadd,hset", false, []string{"-q", "-n", "500", "-t", "lrange_100,xadd,hset"}},
		{"dbnum 3", false, []string{"-q", "-n", "500", "--dbnum", "3", "-t", "set,get,mset,lpush"}},
		{"precision 3", false, []string{"-q", "-n", "500", "--precision", "3", "-t", "get,incr"}},
		{"pipeline", false, []string{"-q", "-n", "1000", "-P", "16", "-t", "set,get,lrange_100"}},
		{"resp3", false, []string{"-q", "-n", "500", "-3", "-t", "hset,get,zpopmin"}},
		{"csv", false, []string{"--csv", "-n", "500", "-t", "get,spop"}},
		{"random keys and size", false, []string{"-q", "-n", "500", "-r", "1000", "-d", "100", "-t", "set,get"}},
		{"script", false, []string{"-q", "-n", "500", "-r", "100", "eval", "return redis.call('incr', KEYS[1])", "1", "ctr:__rand_int__"}},
		{"a pass", true, []string{"-q", "-n", "500", "-a", "pass", "-t", "ping,set,get"}},
		{"user", true, []string{"-q", "-n", "300", "--user", "bench", "-a", "bpass", "-t", "set,get"}},
		{"enable-tracking", false, []string{"-q", "-n", "500", "--enable-tracking", "-t", "set,get"}},
		{"x", false, []string{"-q", "-n", "300", "-x", "set", "xkey"}},
		{"no auth", true, []string{"-q", "-n", "100", "-t", "get"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pp := p
			if tc.auth {
				pp = auth
			}
			rOut, rCode := cliRun(t, bin, pp.Redis, "", tc.args...)
			cOut, cCode := cliRun(t, bin, pp.Crescent, "", tc.args...)
			if rCode != cCode || testNames(rOut) != testNames(cOut) {
				t.Errorf("redis-benchmark %q: exit %d vs %d, tests\nredis:\n%s\ncrescent:\n%s\n(crescent output: %q)",
					tc.args, rCode, cCode, testNames(rOut), testNames(cOut), cOut)
			}
			if tc.name != "no auth" && testNames(cOut) == "" {
				t.Errorf("redis-benchmark %q against crescent ran no test: %q", tc.args, cOut)
			}
			if tc.name != "no auth" && (strings.Contains(cOut, "rror") || strings.Contains(cOut, "ERR")) {
				t.Errorf("redis-benchmark %q against crescent: %q", tc.args, cOut)
			}
			if tc.name == "no auth" && !strings.Contains(cOut, "NOAUTH") {
				t.Errorf("redis-benchmark without -a against requirepass: %q", cOut)
			}
			if tc.name == "dbnum 3" {
				for _, s := range []*Server{pp.Redis, pp.Crescent} {
					c := Dial(t, s)
					c.MustDo(t, "SELECT", "3")
					if r := c.MustDo(t, "DBSIZE"); string(r) == ":0\r\n" {
						t.Errorf("%s: --dbnum 3 wrote nothing in db 3", s.Name)
					}
				}
			}
		})
	}
}
