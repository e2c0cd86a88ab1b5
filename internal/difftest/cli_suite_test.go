package difftest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The cases of Redis's tests/integration/redis-cli.tcl that depend on the
// server, run with the installed redis-cli 7.0.15 against redis-server
// and Crescent (TestRedisCLIModes covers the special modes): the
// interactive mode (commands on stdin) with a terminal faked by FAKETTY
// and without one, the one-shot mode in both, --json and --quoted-json
// escapes, --quoted-input, -x / -X from a pipe and a file, DUMP piped
// into RESTORE, a large --pipe, and the subscribed mode.

// cliEnvRun runs redis-cli with extra environment variables; see cliRun.
func cliEnvRun(t *testing.T, bin string, s *Server, env []string, stdin []byte, args ...string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port}, args...)...)
	cmd.Env = append(append(os.Environ(), "TERM=dumb"), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("difftest: redis-cli %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("difftest: redis-cli %v against %s timed out; output:\n%s", args, s.Name, out.String())
	}
	return out.String(), code
}

// cliSuiteCase is one redis-cli run; setup runs first on the server
// (db 9, as Redis's test), check after it, its replies appended to the
// output compared.
type cliSuiteCase struct {
	name  string
	tty   bool // FAKETTY=1: redis-cli formats as for a terminal
	stdin string
	args  []string
	setup [][]string
	check [][]string
	norm  func(string) string
}

// TestRedisCLISuite compares the server-dependent cases of Redis's
// redis-cli tests.
func TestRedisCLISuite(t *testing.T) {
	bin := cliBinary(t, "redis-cli")
	p := StartPair(t)
	dir := t.TempDir()
	evalFile := filepath.Join(dir, "argv.lua")
	if err := os.WriteFile(evalFile, []byte("return ARGV[1]"), 0o644); err != nil {
		t.Fatal(err)
	}
	helloID := regexp.MustCompile(`(id\D+)[0-9]+`)
	interactive := "info keyspace\nset key foo\nincr counter\nget key\nrpush list foo\nrpush list bar\nlrange list 0 -1\n" +
		"set key \"bar\"\nget key\nset key \" bar \"\nget key\nset key \"\\\"bar\\\"\"\nget key\nset key \"\tbar\t\"\nget key\n" +
		"get \"\"key\nget \"key\"x\nset key\"\" bar\nget key\nhgetall nohash\nzrange list 0 1\nnosuchcommand a b\n" +
		"set\nselect 3\nset k3 v\nselect 99\nget k3\nping\nquit\n"
	tracking := "hello 3\nclient tracking on\nset k 42\nget k\nset k 43\nget k\nclient tracking off\nset k 44\nget k\nping\n"
	cases := []cliSuiteCase{
		{name: "interactive tty", tty: true, stdin: interactive, args: []string{"-n", "9"}},
		{name: "interactive non-tty", stdin: interactive, args: []string{"-n", "9"}},
		{name: "interactive tty resp3 tracking", tty: true, stdin: tracking, args: []string{"-n", "9"},
			norm: func(s string) string { return helloID.ReplaceAllString(s, "${1}N") }},
		{name: "interactive non-tty resp3 tracking", stdin: tracking, args: []string{"-n", "9"},
			norm: func(s string) string { return helloID.ReplaceAllString(s, "${1}N") }},
		{name: "tty status", tty: true, args: []string{"-n", "9", "set", "key", "bar"}, check: [][]string{{"GET", "key"}}},
		{name: "tty integer", tty: true, setup: [][]string{{"DEL", "counter"}}, args: []string{"-n", "9", "incr", "counter"}},
		{name: "tty bulk", tty: true, setup: [][]string{{"SET", "key", "tab\tnewline\n"}}, args: []string{"-n", "9", "get", "key"}},
		{name: "tty multi-bulk", tty: true, setup: [][]string{{"DEL", "list"}, {"RPUSH", "list", "foo", "bar"}},
			args: []string{"-n", "9", "lrange", "list", "0", "-1"}},
		{name: "tty nested and empty", tty: true, setup: [][]string{{"DEL", "z"}, {"ZADD", "z", "1", "a", "2.5", "b"}},
			args: []string{"-n", "9", "eval", "return {redis.call('zrange', 'z', 0, -1, 'withscores'), {}, {{}}, false, 'x'}", "0"}},
		{name: "tty error", tty: true, args: []string{"-n", "9", "lpush"}},
		{name: "tty -x pipe", tty: true, stdin: "foo\n", args: []string{"-n", "9", "-x", "set", "key"}, check: [][]string{{"GET", "key"}}},
		{name: "tty -X pipe", tty: true, stdin: "foo\n", args: []string{"-n", "9", "-X", "tag", "set", "key2", "tag"}, check: [][]string{{"GET", "key2"}}},
		{name: "json escapes", tty: true, setup: [][]string{{"HSET", "solidus", "/", "/"}, {"HSET", "eth", "test", "\xf0e"},
			{"HSET", "control", "test", "Hello\x00\x01\x02\x03World"}, {"HSET", "numkey", "1", "One"},
			{"HSET", "npkey", "K\x00\x01ey", "V\x00\x01alue"}, {"SET", "bs", "a\\b\"c"}},
			stdin: "hgetall solidus\nhget eth test\nhget control test\nhgetall numkey\nhgetall npkey\nget bs\n",
			args:  []string{"-n", "9", "--json"}},
		{name: "quoted-json escapes", tty: true,
			stdin: "hgetall solidus\nhget eth test\nhget control test\nhgetall numkey\nhgetall npkey\nget bs\n",
			args:  []string{"-n", "9", "--quoted-json"}},
		{name: "tty escapes", tty: true, args: []string{"-n", "9", "hget", "eth", "test"}},
		{name: "status", args: []string{"-n", "9", "set", "key", "bar"}, check: [][]string{{"GET", "key"}}},
		{name: "integer", setup: [][]string{{"DEL", "counter"}}, args: []string{"-n", "9", "incr", "counter"}},
		{name: "bulk", setup: [][]string{{"SET", "key", "tab\tnewline\n"}}, args: []string{"-n", "9", "get", "key"}},
		{name: "multi-bulk", setup: [][]string{{"DEL", "list"}, {"RPUSH", "list", "foo", "bar"}}, args: []string{"-n", "9", "lrange", "list", "0", "-1"}},
		{name: "quoted input", setup: [][]string{{"SET", "\x00\x00", "value"}}, args: []string{"-n", "9", "--quoted-input", "get", `"\x00\x00"`}},
		{name: "quoted input set", args: []string{"-n", "9", "--quoted-input", "set", `"\x41\x41"`, "quoted-val"}, check: [][]string{{"GET", "AA"}}},
		{name: "no accidental unquoting", args: []string{"-n", "9", "set", `"\x41\x41"`, "unquoted-val"},
			check: [][]string{{"GET", "AA"}, {"GET", `"\x41\x41"`}}},
		{name: "invalid quoted input", args: []string{"-n", "9", "--quoted-input", "set", `"Unterminated`}},
		{name: "quoted input of two arguments", args: []string{"-n", "9", "--quoted-input", "set", `"arg1" "arg2"`}},
		{name: "-x pipe", stdin: "foo\n", args: []string{"-n", "9", "-x", "set", "key"}, check: [][]string{{"GET", "key"}}},
		{name: "-X pipe", stdin: "foo\n", args: []string{"-n", "9", "-X", "tag", "set", "key2", "tag"}, check: [][]string{{"GET", "key2"}}},
		{name: "-x file", stdin: "from file", args: []string{"-n", "9", "-x", "set", "key"}, check: [][]string{{"GET", "key"}}},
		{name: "-X file", stdin: "from file", args: []string{"-n", "9", "-X", "tag", "set", "key2", "tag"}, check: [][]string{{"GET", "key2"}}},
		{name: "-x and -X", args: []string{"-x", "-X", "tag"}},
		{name: "-X alone", args: []string{"-X"}},
		{name: "-X tag not matching", stdin: "foo\n", args: []string{"-X", "tag", "set", "key", "wrong_tag"}},
		{name: "eval file", args: []string{"--eval", evalFile, ",", "foo"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var outs [2]string
			var codes [2]int
			for i, s := range []*Server{p.Redis, p.Crescent} {
				c := Dial(t, s)
				c.MustDo(t, "SELECT", "9")
				for _, cmd := range tc.setup {
					c.MustDo(t, cmd...)
				}
				var env []string
				if tc.tty {
					env = []string{"FAKETTY=1"}
				}
				out, code := cliEnvRun(t, bin, s, env, []byte(tc.stdin), tc.args...)
				for _, cmd := range tc.check {
					out += fmt.Sprintf("%q -> %q\n", cmd, c.MustDo(t, cmd...))
				}
				if tc.norm != nil {
					out = tc.norm(out)
				}
				outs[i], codes[i] = out, code
			}
			if outs[0] != outs[1] || codes[0] != codes[1] {
				t.Errorf("redis-cli %q, stdin %q:\nredis (exit %d):\n%s\ncrescent (exit %d):\n%s\n%s",
					tc.args, tc.stdin, codes[0], outs[0], codes[1], outs[1], lineDiff(outs[0], outs[1]))
			}
		})
	}
	t.Run("auth", func(t *testing.T) { cliAuth(t, bin, p) })
	// INFO's full text differs by nature; each line must come out raw,
	// as a section header, a field or an empty line (redis-cli.tcl)
	t.Run("interactive info everything raw", func(t *testing.T) {
		infoLine := regexp.MustCompile("^\r$|^#|^[^#:]+:")
		for _, s := range []*Server{p.Redis, p.Crescent} {
			out, code := cliEnvRun(t, bin, s, []string{"FAKETTY=1"}, []byte("info everything\n"))
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if code != 0 || len(lines) < 50 {
				t.Fatalf("%s: exit %d, %d lines", s.Name, code, len(lines))
			}
			for _, l := range lines {
				if !infoLine.MatchString(l) {
					t.Errorf("%s: malformed INFO line %q", s.Name, l)
				}
			}
		}
	})
	t.Run("dump piped into restore", func(t *testing.T) { cliDumpRestore(t, bin, p) })
	t.Run("large pipe", func(t *testing.T) { cliLargePipe(t, bin, p) })
	for _, diskless := range []string{"no", "yes"} {
		t.Run("replica diskless "+diskless, func(t *testing.T) { cliReplica(t, bin, p, diskless) })
		for _, functions := range []bool{false, true} {
			t.Run(fmt.Sprintf("rdb reloaded functions %v diskless %s", functions, diskless), func(t *testing.T) {
				cliRDBReload(t, bin, p, diskless, functions)
			})
		}
	}
	for _, tty := range []bool{true, false} {
		for _, resp3 := range []bool{false, true} {
			t.Run(fmt.Sprintf("subscribed mode tty %v resp3 %v", tty, resp3), func(t *testing.T) { cliSubscribed(t, bin, p, tty, resp3) })
		}
	}
}

// cliDumpRestore: DUMP's raw output (-D "" --raw: no newline after it)
// piped into RESTORE with -x and with -X, as redis-cli.tcl does.
func cliDumpRestore(t *testing.T, bin string, p *Pair) {
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "DEL", "set", "new_set", "zset", "new_zset")
		c.MustDo(t, "SADD", "set", "1", "2", "3", "4", "5", "6")
		c.MustDo(t, "ZADD", "zset", "1", "a", "2", "b", "3", "c")
		var b strings.Builder
		for _, k := range []string{"set", "zset"} {
			dump, code := cliEnvRun(t, bin, s, nil, nil, "-D", "", "--raw", "DUMP", k)
			fmt.Fprintf(&b, "dump %s exit %d, %d bytes\n", k, code, len(dump))
			var out string
			if k == "set" {
				out, code = cliEnvRun(t, bin, s, nil, []byte(dump), "-x", "RESTORE", "new_set", "0")
			} else {
				out, code = cliEnvRun(t, bin, s, nil, []byte(dump), "-X", "dump_tag", "RESTORE", "new_zset", "0", "dump_tag", "REPLACE")
			}
			fmt.Fprintf(&b, "restore exit %d: %q\n", code, out)
		}
		for _, cmd := range [][]string{{"SCARD", "new_set"}, {"SMEMBERS", "new_set"}, {"ZRANGE", "new_zset", "0", "-1", "WITHSCORES"}} {
			out, _ := cliEnvRun(t, bin, s, nil, nil, cmd...)
			fmt.Fprintf(&b, "%v: %q\n", cmd, out)
		}
		outs[i] = b.String()
	}
	if outs[0] != outs[1] {
		t.Errorf("redis:\n%s\ncrescent:\n%s", outs[0], outs[1])
	}
}

// cliLargePipe: --pipe with 1000 INCRs and SETs of 20,000 and 512,000
// bytes (fewer than Redis's test: 200 and 10), in db 9.
func cliLargePipe(t *testing.T, bin string, p *Pair) {
	var in bytes.Buffer
	in.Write(EncodeStrings("SELECT", "9"))
	in.Write(EncodeStrings("DEL", "test-counter"))
	big, huge := strings.Repeat("x", 20000), strings.Repeat("x", 512000)
	for i := 0; i < 1000; i++ {
		in.Write(EncodeStrings("INCR", "test-counter"))
		if i%5 == 0 {
			in.Write(EncodeStrings("SET", "large-key", big))
		}
	}
	for i := 0; i < 10; i++ {
		in.Write(EncodeStrings("SET", "very-large-key", huge))
	}
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		out, code := cliEnvRun(t, bin, s, nil, in.Bytes(), "--pipe")
		c := Dial(t, s)
		c.MustDo(t, "SELECT", "9")
		outs[i] = fmt.Sprintf("exit %d\n%s%q %q\n", code, out, c.MustDo(t, "GET", "test-counter"), c.MustDo(t, "STRLEN", "very-large-key"))
	}
	if !strings.Contains(outs[0], "errors: 0, replies: 1212") || outs[0] != outs[1] {
		t.Errorf("redis:\n%s\ncrescent:\n%s", outs[0], outs[1])
	}
}

// cliSubscribed: SUBSCRIBE in the interactive mode puts redis-cli 7.0 in
// its reading loop until killed; the subscription replies, then messages
// published meanwhile (one of them binary), are compared.
func cliSubscribed(t *testing.T, bin string, p *Pair, tty, resp3 bool) {
	helloID := regexp.MustCompile(`(id\D+)[0-9]+`)
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		host, port, _ := net.SplitHostPort(s.Addr)
		cmd := exec.Command(bin, "-h", host, "-p", port, "-n", "9")
		cmd.Env = append(os.Environ(), "TERM=dumb")
		if tty {
			cmd.Env = append(cmd.Env, "FAKETTY=1")
		}
		in := "subscribe ch1 ch2 ch3\n"
		if resp3 {
			in = "hello 3\n" + in
		}
		cmd.Stdin = strings.NewReader(in)
		var out SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := Dial(t, s)
		pollUntil(t, func() bool { return string(c.MustDo(t, "PUBSUB", "NUMSUB", "ch3")) == "*2\r\n$3\r\nch3\r\n:1\r\n" })
		c.MustDo(t, "PUBLISH", "ch2", "hello")
		c.MustDo(t, "PUBLISH", "ch1", "bin\x00\xff\"q")
		c.MustDo(t, "PUBLISH", "ch3", "end")
		pollUntil(t, func() bool { return strings.Contains(out.String(), "end") })
		cmd.Process.Kill()
		cmd.Wait()
		outs[i] = helloID.ReplaceAllString(out.String(), "${1}N")
	}
	if outs[0] != outs[1] {
		t.Errorf("redis:\n%q\ncrescent:\n%q", outs[0], outs[1])
	}
}

// pollUntil polls cond for up to 10 s.
func pollUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("difftest: condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var reSyncBytes = regexp.MustCompile(`(after|discarding) [0-9]+ bytes`)

// cliReplica: redis-cli --replica (REPLCONF rdb-filter-only "": an RDB
// without data, then the stream), 100 SETs, then CLIENT KILL TYPE slave,
// with repl-diskless-sync yes and no. Redis sends the RDB in the EOF form
// for such a filter and starts the stream at the replica's first ACK; as
// redis-cli reads a reply to its REPLCONF ACK, the stream's first command
// (a SELECT) is swallowed, on both. The replicas' PING period is set
// long, so that no PING takes that place.
func cliReplica(t *testing.T, bin string, p *Pair, diskless string) {
	stdbuf, err := exec.LookPath("stdbuf")
	if err != nil {
		t.Skip("stdbuf not found: --replica runs until killed and its output is buffered")
	}
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "repl-diskless-sync", diskless, "repl-diskless-sync-delay", "0", "repl-ping-replica-period", "3600")
		c.MustDo(t, "SELECT", "9")
		c.MustDo(t, "SET", "in-rdb", "1") // left out by the filter
		host, port, _ := net.SplitHostPort(s.Addr)
		cmd := exec.Command(stdbuf, "-oL", bin, "-h", host, "-p", port, "--replica")
		var out SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		pollUntil(t, func() bool { return strings.Contains(out.String(), "Logging commands from master") })
		for j := 0; j < 100; j++ {
			c.MustDo(t, "SET", "test-key", fmt.Sprintf("test-value-%d", j))
		}
		pollUntil(t, func() bool { return strings.Contains(out.String(), "test-value-99") })
		c.MustDo(t, "CLIENT", "KILL", "TYPE", "slave")
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%s: redis-cli --replica still runs after CLIENT KILL TYPE slave", s.Name)
		}
		outs[i] = reSyncBytes.ReplaceAllString(out.String(), "$1 N bytes")
		c.MustDo(t, "CONFIG", "SET", "repl-ping-replica-period", "10")
	}
	if outs[0] != outs[1] {
		t.Errorf("redis:\n%s\ncrescent:\n%s\n%s", outs[0], outs[1], lineDiff(outs[0], outs[1]))
	}
}

// cliRDBReload: the RDB redis-cli --rdb or --functions-rdb received
// replaces the server's own dump.rdb, and DEBUG RELOAD NOSAVE loads it
// into the same server: what was written after the transfer is gone,
// the library and (with --rdb) the keys of the transfer are back.
func cliRDBReload(t *testing.T, bin string, p *Pair, diskless string, functions bool) {
	flag := "--rdb"
	if functions {
		flag = "--functions-rdb"
	}
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "repl-diskless-sync", diskless, "repl-diskless-sync-delay", "0")
		c.MustDo(t, "FLUSHALL")
		c.MustDo(t, "FUNCTION", "FLUSH")
		c.MustDo(t, "DEBUG", "POPULATE", "2000", "key", "100")
		c.MustDo(t, "FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('func1', function() return 123 end)")
		v, _, _ := Parse(c.MustDo(t, "CONFIG", "GET", "dir"))
		dir := string(v.Elems[1].Str)
		file := filepath.Join(dir, "cli.rdb")
		out, code := cliEnvRun(t, bin, s, nil, nil, flag, file)
		if !strings.Contains(out, "Transfer finished with success") {
			t.Errorf("%s: redis-cli %s: exit %d, %q", s.Name, flag, code, out)
		}
		if err := os.Rename(file, filepath.Join(dir, "dump.rdb")); err != nil {
			t.Fatal(err)
		}
		c.MustDo(t, "SET", "should-not-exist", "1")
		c.MustDo(t, "FUNCTION", "LOAD", "#!lua name=should_not_exist_func\nredis.register_function('should_not_exist_func', function() return 456 end)")
		var b strings.Builder
		for _, cmd := range [][]string{{"DEBUG", "RELOAD", "NOSAVE"}, {"GET", "should-not-exist"}, {"FUNCTION", "LIST"}, {"DBSIZE"}, {"GET", "key:1999"}} {
			fmt.Fprintf(&b, "%v: %q\n", cmd, c.MustDo(t, cmd...))
		}
		outs[i] = b.String()
		c.MustDo(t, "FLUSHALL")
	}
	if outs[0] != outs[1] {
		t.Errorf("redis:\n%s\ncrescent:\n%s\n%s", outs[0], outs[1], lineDiff(outs[0], outs[1]))
	}
}

// cliAuth: redis-cli's ways to authenticate (-a, --user/--pass, -u with
// a user, without one and a database, AUTH typed in the interactive
// mode) against requirepass, with right and wrong passwords.
func cliAuth(t *testing.T, bin string, p *Pair) {
	runs := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"-a", "wrong", "ping"}},
		{"", []string{"-a", "pw", "ping"}},
		{"", []string{"--user", "default", "--pass", "pw", "--no-auth-warning", "ping"}},
		{"", []string{"--user", "nouser", "--pass", "pw", "--no-auth-warning", "ping"}},
		{"", []string{"ping"}},
		{"", []string{"-u", "redis://default:pw@HOSTPORT/3", "--no-auth-warning", "client", "info"}},
		{"", []string{"-u", "redis://:pw@HOSTPORT/3", "--no-auth-warning", "ping"}},
		{"auth pw\nping\nauth x\nselect 2\nping\nauth default pw\nauth a b c\n", nil},
	}
	reClientInfo := regexp.MustCompile(`id=[0-9]+ addr=\S+ laddr=\S+ fd=[0-9]+ name= age=[0-9]+ idle=[0-9]+`)
	var outs [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "requirepass", "pw")
		var b strings.Builder
		for _, r := range runs {
			args := make([]string, len(r.args))
			for j, a := range r.args {
				args[j] = strings.ReplaceAll(a, "HOSTPORT", s.Addr)
			}
			out, code := cliEnvRun(t, bin, s, []string{"FAKETTY=1"}, []byte(r.stdin), args...)
			// CLIENT INFO: the fields that tell who and where
			out = reClientInfo.ReplaceAllString(out, "CLIENT")
			if k := strings.Index(out, " qbuf="); k >= 0 {
				if e := strings.Index(out[k:], " user="); e >= 0 {
					out = out[:k] + out[k+e:]
				}
			}
			fmt.Fprintf(&b, "%q %q -> exit %d\n%s\n", r.stdin, r.args, code, out)
		}
		c.MustDo(t, "AUTH", "pw")
		c.MustDo(t, "CONFIG", "SET", "requirepass", "")
		outs[i] = b.String()
	}
	if outs[0] != outs[1] {
		t.Errorf("redis:\n%s\ncrescent:\n%s\n%s", outs[0], outs[1], lineDiff(outs[0], outs[1]))
	}
}
