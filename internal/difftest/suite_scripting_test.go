package difftest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The parts of Redis's scripting and functions test suites that a corpus
// cannot express: a master and its replica, the replication stream, the
// AOF, and what crashes Redis (docs/design/lua-engine.md, "Redis's
// scripting and functions tests, checked").

// replStep is one step of a master/replica scenario.
type replStep struct {
	on   string // "m" the master, "m2" a second master client, "r" the replica
	line string // the command (DoLine syntax)
	// mode: "" the reply is compared; "send" sends without reading; "recv"
	// reads the reply of the last "send"; "sync" waits for the replica to
	// apply the master's stream; "link" waits for the replica's link;
	// "same" replies "same" when the reply equals the previous step's,
	// else "differs"; "keep" keeps the reply for "same" without comparing
	mode string
}

// runReplSteps runs steps against a master and a replica started by start,
// and returns what each step answered.
func runReplSteps(t *testing.T, start func(t testing.TB, args ...string) *Server, steps []replStep, masterArgs ...string) []string {
	t.Helper()
	master := start(t, masterArgs...)
	replica := start(t)
	conns := map[string]*Conn{"m": Dial(t, master), "m2": Dial(t, master), "r": Dial(t, replica)}
	host, port, _ := net.SplitHostPort(master.Addr)
	var out []string
	var last string
	for i, s := range steps {
		c := conns[s.on]
		where := fmt.Sprintf("%s step %d (%s %s)", master.Name, i, s.on, s.line)
		line := strings.ReplaceAll(s.line, "$MASTER", host+" "+port)
		switch s.mode {
		case "send":
			if err := c.Send(EncodeStrings(splitLine(t, line)...)); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			out = append(out, "")
			continue
		case "recv":
			r, err := c.ReadWithin(10 * time.Second)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			out = append(out, string(r))
			continue
		case "sync":
			if err := waitReplica(conns["m"], conns["r"]); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			out = append(out, "")
			continue
		case "link":
			if err := waitLink(conns["r"]); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			out = append(out, "")
			continue
		}
		r, err := c.DoLine(line)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		switch s.mode {
		case "keep":
			last = string(r)
			out = append(out, "")
		case "same":
			if string(r) == last {
				out = append(out, "same")
			} else {
				out = append(out, "differs")
			}
			last = string(r)
		default:
			out = append(out, string(r))
		}
	}
	return out
}

// waitLink waits for the replica's link to its master to be up.
func waitLink(r *Conn) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := r.Do("INFO", "replication")
		if err != nil {
			return err
		}
		if bytes.Contains(info, []byte("master_link_status:up")) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the link did not come up: %s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReplica waits until the replica applied the master's stream: the
// master's WAIT counts its acknowledgement.
func waitReplica(m, r *Conn) error {
	if err := waitLink(r); err != nil {
		return err
	}
	got, err := m.Do("WAIT", "1", "10000")
	if err != nil {
		return err
	}
	if string(got) != ":1\r\n" {
		return fmt.Errorf("WAIT: %q", got)
	}
	return nil
}

// TestSuiteScriptingReplication runs the master/replica cases of Redis's
// scripting.tcl and functions.tcl: scripts replicated by their effects
// (EVALSHA, a failed script's writes, a read-only first call, SELECT,
// BRPOP served by a script, TIME and math.random), redis.set_repl, and
// libraries reaching the replica by the stream and by the snapshot, which
// refuses FUNCTION LOAD/DELETE and a writing FCALL (READONLY).
func TestSuiteScriptingReplication(t *testing.T) {
	const lib = `FUNCTION LOAD "#!lua name=test\nredis.register_function{function_name='test', callback=function() return 'hello' end, description='some description'}"`
	steps := []replStep{
		// before the replica connects: a script that fails after a write, one that succeeds
		{on: "m", line: `EVAL "redis.call('incr',KEYS[1]); redis.call('nonexisting')" 1 x`},
		{on: "m", line: `EVAL "return redis.call('incr',KEYS[1])" 1 x`},
		{on: "r", line: "REPLICAOF $MASTER"},
		{on: "r", mode: "link"},
		{on: "m", line: "EVALSHA 67164fc43fa971f76fd1aaeeaf60c1c178d25876 1 x"},
		{on: "m", line: "EVALSHA 6f5ade10a69975e903c6d07b10ea44c6382381a5 1 x"},
		{on: "m", mode: "sync"},
		{on: "r", line: "GET x"},
		// a script's two pushes serve a BRPOP; the replica gets the same list
		{on: "m2", line: "BRPOP a 0", mode: "send"},
		{on: "m", line: `EVAL "redis.call('lpush',KEYS[1],'1'); redis.call('lpush',KEYS[1],'2')" 1 a`},
		{on: "m2", mode: "recv"},
		{on: "m", mode: "sync"},
		{on: "m", line: "LRANGE a 0 -1"},
		{on: "r", line: "LRANGE a 0 -1"},
		// EVALSHA whose first run did not write
		{on: "m", line: "DEL x"},
		{on: "m", line: `EVAL "if tonumber(ARGV[1]) > 0 then redis.call('incr', KEYS[1]) end" 1 x 0`},
		{on: "m", line: "EVALSHA 6e0e2745aa546d0b50b801a20983b70710aef3ce 1 x 0"},
		{on: "m", line: "EVALSHA 6e0e2745aa546d0b50b801a20983b70710aef3ce 1 x 1"},
		{on: "m", mode: "sync"},
		{on: "r", line: "GET x"},
		// SELECT inside scripts
		{on: "m", line: `EVAL "redis.call('set','foo1','bar1') redis.call('select','10') redis.call('incr','x') redis.call('select','11') redis.call('incr','z')" 0`},
		{on: "m", line: `EVAL "redis.call('set','foo1','bar1') redis.call('select','10') redis.call('incr','x') redis.call('select','11') redis.call('incr','z')" 0`},
		{on: "m", mode: "sync"},
		{on: "m", line: "DEBUG DIGEST"},
		{on: "r", line: "DEBUG DIGEST"},
		// TIME's value reaches the replica as written; math.random differs per run
		{on: "m", line: `EVAL "redis.call('set','time',redis.call('time')[1])" 0`},
		{on: "m", mode: "sync"},
		{on: "m", line: "GET time", mode: "keep"},
		{on: "r", line: "GET time", mode: "same"},
		{on: "m", line: `EVAL "return tostring(math.random()*100000)" 0`, mode: "keep"},
		{on: "m", line: `EVAL "return tostring(math.random()*100000)" 0`, mode: "same"},
		{on: "m", line: `FCALL_RO nosuch 0`},
		// libraries: created, deleted and flushed by the stream
		{on: "m", line: lib},
		{on: "m", mode: "sync"},
		{on: "r", line: "FUNCTION LIST"},
		{on: "r", line: "FCALL test 0"},
		{on: "m", line: "FUNCTION DELETE test"},
		{on: "m", mode: "sync"},
		{on: "r", line: "FUNCTION LIST"},
		{on: "m", line: lib},
		{on: "m", line: "FUNCTION FLUSH"},
		{on: "m", mode: "sync"},
		{on: "r", line: "FUNCTION LIST"},
		// by the snapshot of a new full sync
		{on: "r", line: "REPLICAOF NO ONE"},
		{on: "m", line: lib},
		{on: "r", line: "REPLICAOF $MASTER"},
		{on: "m", mode: "sync"},
		{on: "r", line: "FCALL test 0"},
		{on: "r", line: "FUNCTION LIST WITHCODE"},
		// a read-only replica refuses library changes and writing functions
		{on: "r", line: lib},
		{on: "r", line: "FUNCTION DELETE test"},
		{on: "r", line: "FUNCTION FLUSH"},
		{on: "m", line: `FUNCTION LOAD REPLACE "#!lua name=test\nredis.register_function('test', function() return redis.call('set', 'x', '1') end)"`},
		{on: "m", line: "FCALL test 0"},
		{on: "m", mode: "sync"},
		{on: "r", line: "GET x"},
		{on: "r", line: "FCALL test 0"},
		{on: "r", line: `EVAL "return redis.call('set', 'x', '2')" 0`},
		{on: "r", line: `EVAL "return redis.call('get', 'x')" 0`},
		{on: "r", line: `EVAL "#!lua flags=no-writes\nreturn redis.call('get', 'x')" 0`},
		{on: "m", line: "FUNCTION FLUSH"},
	}
	want := runReplSteps(t, StartRedis, steps)
	got := runReplSteps(t, StartCrescent, steps)
	for i := range steps {
		if want[i] != got[i] {
			t.Errorf("step %d (%s %s):\n  redis:    %q\n  crescent: %q", i, steps[i].on, steps[i].line, want[i], got[i])
		}
	}
}

// readStream reads a master's replication stream as a replica would (SYNC,
// the snapshot skipped) up to the command until, each command other than
// PING rendered as its arguments joined by spaces.
func readStream(t *testing.T, c *Conn, until string) []string {
	t.Helper()
	rd := c.Reader()
	c.NetConn().SetReadDeadline(time.Now().Add(20 * time.Second))
	defer c.NetConn().SetReadDeadline(time.Time{})
	var hdr string
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream header: %v", err)
		}
		if strings.HasPrefix(l, "$") { // a +FULLRESYNC line or a newline may come first
			hdr = strings.TrimRight(l, "\r\n")
			break
		}
	}
	if mark, ok := strings.CutPrefix(hdr, "$EOF:"); ok {
		var tail []byte
		for !bytes.HasSuffix(tail, []byte(mark)) {
			b, err := rd.ReadByte()
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			tail = append(tail, b)
		}
	} else {
		size, err := strconv.Atoi(hdr[1:])
		if err != nil {
			t.Fatalf("snapshot header %q", hdr)
		}
		if _, err := io.CopyN(io.Discard, rd, int64(size)); err != nil {
			t.Fatalf("snapshot: %v", err)
		}
	}
	var cmds []string
	for len(cmds) == 0 || !strings.EqualFold(cmds[len(cmds)-1], until) {
		raw, err := ReadReply(rd)
		if err != nil {
			t.Fatalf("stream after %q: %v", cmds, err)
		}
		v, _, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, e := range v.Elems {
			parts = append(parts, string(e.Str))
		}
		cmd := strings.Join(parts, " ")
		if strings.EqualFold(cmd, "PING") {
			continue
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

var streamMasks = []*regexp.Regexp{
	regexp.MustCompile(`^(?i)(srem myset) \S+$`),
	regexp.MustCompile(`^(?i)(pexpireat expirekey) \d+$`),
}

// TestSuiteScriptingStream compares the replication stream of scripts
// whose commands Redis rewrites (SPOP as SREM, EXPIRE as PEXPIREAT), a
// read-only script (nothing), and a SPOP of an empty set.
func TestSuiteScriptingStream(t *testing.T) {
	cmds := []string{
		"DEL myset",
		"SADD myset a b c",
		"MSET a{t} 1 b{t} 2 c{t} 3 d{t} 4",
		"SET expirekey 1",
		`EVAL "return redis.call('spop', 'myset')" 0`,
		`EVAL "return redis.call('spop', 'myset', 1)" 0`,
		`EVAL "return redis.call('spop', KEYS[1])" 1 myset`,
		`EVAL "return redis.call('mget', 'a{t}', 'b{t}', 'c{t}', 'd{t}')" 0`,
		`EVAL "return redis.call('spop', KEYS[1])" 1 myset`,
		`EVAL "return redis.call('expire', KEYS[1], ARGV[1])" 1 expirekey 3`,
		"SET end 1",
	}
	run := func(s *Server) (replies, stream []string) {
		c, sync := Dial(t, s), Dial(t, s)
		if err := sync.SendCmd("SYNC"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the snapshot is taken before the commands
		for _, l := range cmds {
			r, err := c.DoLine(l)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, l, err)
			}
			replies = append(replies, string(Shape(r)))
		}
		for _, l := range readStream(t, sync, "SET end 1") {
			for _, re := range streamMasks {
				l = re.ReplaceAllString(l, "$1 *")
			}
			stream = append(stream, l)
		}
		return replies, stream
	}
	rr, rs := run(StartRedis(t, "--repl-diskless-sync", "no"))
	cr, cs := run(StartCrescent(t, "--repl-diskless-sync", "no"))
	if fmt.Sprint(rr) != fmt.Sprint(cr) {
		t.Errorf("replies:\n  redis:    %q\n  crescent: %q", rr, cr)
	}
	if strings.Join(rs, "\n") != strings.Join(cs, "\n") {
		t.Errorf("stream:\n  redis:    %q\n  crescent: %q", rs, cs)
	}
}

// TestSuiteSetRepl is Redis's "selective replication" case: with
// redis.set_repl, only the writes made under REPL_ALL or REPL_REPLICA reach
// the replica (REPL_NONE propagates nothing, REPL_AOF the AOF only), and
// the stream wraps the script's propagated writes in MULTI/EXEC.
func TestSuiteSetRepl(t *testing.T) {
	script := `EVAL "redis.call('set','a','1'); redis.set_repl(redis.REPL_NONE); redis.call('set','b','2'); redis.set_repl(redis.REPL_AOF); redis.call('set','c','3'); redis.set_repl(redis.REPL_ALL); redis.call('set','d','4')" 0`
	steps := []replStep{
		{on: "r", line: "REPLICAOF $MASTER"},
		{on: "r", mode: "link"},
		{on: "m", line: script},
		{on: "m", line: `EVAL "redis.set_repl(redis.REPL_AOF); redis.call('set','e','5'); redis.call('select','3'); redis.call('set','f','6')" 0`},
		{on: "m", line: `EVAL "redis.set_repl(redis.REPL_REPLICA); redis.call('set','g','7')" 0`},
		{on: "m", line: `EVAL "redis.set_repl(redis.REPL_NONE); redis.call('set','h','8')" 0`},
		{on: "m", line: `EVAL "redis.call('set','i','9')" 0`},
		// inside MULTI/EXEC
		{on: "m", line: "MULTI"},
		{on: "m", line: "SET j 10"},
		{on: "m", line: `EVAL "redis.set_repl(redis.REPL_AOF); redis.call('set','k','11')" 0`},
		{on: "m", line: "SET l 12"},
		{on: "m", line: "EXEC"},
		{on: "m", mode: "sync"},
		{on: "r", line: "MGET a b c d e g h i j k l"},
		{on: "m", line: "MGET a b c d e g h i j k l"},
		{on: "r", line: "SELECT 3"},
		{on: "r", line: "GET f"},
	}
	want := runReplSteps(t, StartRedis, steps)
	got := runReplSteps(t, StartCrescent, steps)
	for i := range steps {
		if want[i] != got[i] {
			t.Errorf("step %d (%s %s):\n  redis:    %q\n  crescent: %q", i, steps[i].on, steps[i].line, want[i], got[i])
		}
	}
	// the replication stream itself
	run := func(s *Server) []string {
		c, sync := Dial(t, s), Dial(t, s)
		if err := sync.SendCmd("SYNC"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		for _, l := range []string{script, `EVAL "redis.set_repl(redis.REPL_AOF); redis.call('set','e','5'); redis.call('set','f','6')" 0`, "SET end 1"} {
			if _, err := c.DoLine(l); err != nil {
				t.Fatal(err)
			}
		}
		return readStream(t, sync, "SET end 1")
	}
	rs := run(StartRedis(t, "--repl-diskless-sync", "no"))
	cs := run(StartCrescent(t, "--repl-diskless-sync", "no"))
	if strings.Join(rs, "\n") != strings.Join(cs, "\n") {
		t.Errorf("stream:\n  redis:    %q\n  crescent: %q", rs, cs)
	}
}

// TestSuiteScriptFlushFromScript: with DEBUG SET-DISABLE-DENY-SCRIPTS 1, a
// function may run SCRIPT FLUSH (as Redis); an EVAL script may not: it
// would free the Lua state it runs on, and redis-server 7.0.15 crashes (so
// only Crescent is asked).
func TestSuiteScriptFlushFromScript(t *testing.T) {
	lib := "#!lua name=fl\nredis.register_function('fl', function(k, a) return redis.pcall('script', 'flush') end)"
	steps := []string{"DEBUG SET-DISABLE-DENY-SCRIPTS 1", "SCRIPT LOAD 'return 1'", "FCALL fl 0",
		"SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "DEBUG SET-DISABLE-DENY-SCRIPTS 0"}
	run := func(s *Server) []string {
		c := Dial(t, s)
		if _, err := c.Do("FUNCTION", "LOAD", lib); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range steps {
			r, err := c.DoLine(l)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, l, err)
			}
			out = append(out, string(r))
		}
		return out
	}
	want := run(StartRedis(t))
	cres := StartCrescent(t)
	got := run(cres)
	for i := range steps {
		if want[i] != got[i] {
			t.Errorf("%s:\n  redis:    %q\n  crescent: %q", steps[i], want[i], got[i])
		}
	}
	c := Dial(t, cres)
	for _, tc := range []struct{ line, want string }{
		{"DEBUG SET-DISABLE-DENY-SCRIPTS 1", "+OK\r\n"},
		{"SCRIPT LOAD 'return 1'", "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n"},
		{`EVAL "return redis.pcall('script', 'flush')" 0`, "-ERR This Redis command is not allowed from script\r\n"},
		{`EVAL "return redis.call('script', 'exists', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db')" 0`, "*1\r\n:1\r\n"},
		{"DEBUG SET-DISABLE-DENY-SCRIPTS 0", "+OK\r\n"},
		{`EVAL "return redis.pcall('script', 'flush')" 0`, "-ERR This Redis command is not allowed from script\r\n"},
		{"PING", "+PONG\r\n"},
	} {
		r, err := c.DoLine(tc.line)
		if err != nil {
			t.Fatal(err)
		}
		if string(r) != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, r, tc.want)
		}
	}
}

// TestSuiteBusyPipelined is Redis's "timedout script does not cause a false
// dead client" and "link is still usable" cases: a script that loops on
// redis.call('ping') is pipelined with a PING; past the busy threshold
// another client gets BUSY, kills the script, and the first client gets the
// kill error then its PONG. A long script under the threshold's watch that
// ends by itself leaves its client usable.
func TestSuiteBusyPipelined(t *testing.T) {
	const loop = "while 1 do redis.call('ping') end"
	cases := []struct {
		name  string
		setup []string // run by the first client before the pipeline
		run   []string // the script's command
		kill  string
	}{
		{"eval", nil, []string{"EVAL", loop, "0"}, "SCRIPT KILL"},
		{"fcall", []string{"FUNCTION", "LOAD", "REPLACE", "#!lua name=test\nredis.register_function('test', function() " + loop + " end)"},
			[]string{"FCALL", "test", "0"}, "FUNCTION KILL"},
	}
	run := func(s *Server, setup, script []string, kill string) []string {
		c1, c2 := Dial(t, s), Dial(t, s)
		var out []string
		do := func(c *Conn, line string) string {
			r, err := c.DoLine(line)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, line, err)
			}
			return string(r)
		}
		out = append(out, do(c2, "CONFIG SET busy-reply-threshold 10"))
		if setup != nil {
			r, err := c1.Do(setup...)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(r))
		}
		if err := c1.Send(append(EncodeStrings(script...), EncodeStrings("PING")...)); err != nil {
			t.Fatal(err)
		}
		busy := ""
		for i := 0; i < 500 && !strings.HasPrefix(busy, "-BUSY"); i++ {
			time.Sleep(10 * time.Millisecond)
			busy = do(c2, "PING")
		}
		out = append(out, busy, do(c2, kill))
		for i := 0; i < 500; i++ {
			if do(c2, "PING") == "+PONG\r\n" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		for i := 0; i < 2; i++ {
			r, err := c1.ReadWithin(10 * time.Second)
			if err != nil {
				t.Fatalf("%s: pipelined reply %d: %v", s.Name, i, err)
			}
			out = append(out, string(r))
		}
		out = append(out,
			do(c1, `EVAL "for i=1,100000 do redis.call('ping') end return 'ok'" 0`),
			do(c1, "PING"),
			do(c2, "CONFIG SET busy-reply-threshold 5000"),
			do(c2, "FUNCTION FLUSH"))
		return out
	}
	r, c := StartRedis(t), StartCrescent(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := run(r, tc.setup, tc.run, tc.kill)
			got := run(c, tc.setup, tc.run, tc.kill)
			if fmt.Sprintf("%q", want) != fmt.Sprintf("%q", got) {
				t.Errorf("\n  redis:    %q\n  crescent: %q", want, got)
			}
		})
	}
}

// TestSuiteSetReplAOF is the AOF half of Redis's "selective replication"
// case (Redis reads it back with DEBUG LOADAOF, which Crescent lacks): the
// AOF gets the writes made under REPL_ALL and REPL_AOF only. The SET
// commands of the AOF's increment files are compared.
func TestSuiteSetReplAOF(t *testing.T) {
	run := func(start func(testing.TB, ...string) *Server) []string {
		dir := t.TempDir()
		s := start(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", dir)
		c := Dial(t, s)
		for _, l := range []string{
			`EVAL "redis.call('set','a','1'); redis.set_repl(redis.REPL_NONE); redis.call('set','b','2'); redis.set_repl(redis.REPL_AOF); redis.call('set','c','3'); redis.set_repl(redis.REPL_REPLICA); redis.call('set','d','4'); redis.set_repl(redis.REPL_ALL); redis.call('set','e','5')" 0`,
			"SET end 1",
		} {
			if r, err := c.DoLine(l); err != nil || r[0] == '-' {
				t.Fatalf("%s: %s: %q %v", s.Name, l, r, err)
			}
		}
		var sets []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			sets = sets[:0]
			files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				rd := bufio.NewReader(bytes.NewReader(data))
				for {
					raw, err := ReadReply(rd)
					if err != nil {
						break
					}
					v, _, err := Parse(raw)
					if err != nil || len(v.Elems) == 0 {
						continue
					}
					name := strings.ToUpper(string(v.Elems[0].Str))
					if name == "SET" || name == "MULTI" || name == "EXEC" {
						sets = append(sets, name+" "+string(v.Elems[len(v.Elems)-1].Str))
					}
				}
			}
			if len(sets) > 0 && sets[len(sets)-1] == "SET 1" || time.Now().After(deadline) {
				return sets
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	want, got := run(StartRedis), run(StartCrescent)
	t.Logf("redis's AOF: %q", want)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		t.Errorf("AOF:\n  redis:    %q\n  crescent: %q", want, got)
	}
}
