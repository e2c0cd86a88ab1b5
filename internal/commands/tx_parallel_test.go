package commands_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// lockHarness runs commands through an in-process executor and can stop
// a command inside its locks: Observe (called under the command's locks,
// also for the commands an EXEC runs and, at commit, for the commands of
// a partial-lock script) blocks on the call whose key is "block".
type lockHarness struct {
	t       *testing.T
	ex      *exec.Executor
	entered chan string   // the blocked call's command name
	release chan struct{} // closed to let it go
	once    sync.Once
}

func newLockHarness(t *testing.T) *lockHarness { return lockHarnessOn(t, newInProcess(t)) }

// lockHarnessOn is newLockHarness on srv.
func lockHarnessOn(t *testing.T, srv *server.Server) *lockHarness {
	h := &lockHarness{t: t, ex: srv.Exec(), entered: make(chan string, 1), release: make(chan struct{})}
	prev := h.ex.Observe
	h.ex.Observe = func(c *command.Ctx, d time.Duration) {
		if prev != nil {
			prev(c, d)
		}
		if len(c.Args) > 1 && string(c.Args[1]) == "block" {
			h.entered <- strings.ToLower(string(c.Args[0]))
			<-h.release
		}
	}
	t.Cleanup(h.unblock)
	return h
}

func (h *lockHarness) unblock() { h.once.Do(func() { close(h.release) }) }

// run executes cmds (each a space-separated command) in order on cl and
// returns the replies.
func (h *lockHarness) run(cl *command.Client, cmds ...string) string {
	w := resp.NewWriter()
	for _, c := range cmds {
		h.ex.Execute(cl, strArgs(strings.Fields(c)...), w)
	}
	return string(w.Buf)
}

// start runs cmds on a new client in a goroutine; the channel yields the
// replies.
func (h *lockHarness) start(cmds ...string) <-chan string {
	ch := make(chan string, 1)
	cl := command.NewClient(0)
	go func() { ch <- h.run(cl, cmds...) }()
	return ch
}

// blockInside starts cmds, whose commands include one on the key "block",
// and waits until that call is stopped inside its locks.
func (h *lockHarness) blockInside(cmds ...string) <-chan string {
	ch := h.start(cmds...)
	select {
	case <-h.entered:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the blocking command never ran")
	}
	return ch
}

func (h *lockHarness) mustFinish(what string, ch <-chan string) string {
	h.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		h.t.Fatalf("%s did not complete while the other one held its locks", what)
		return ""
	}
}

// mustWait checks that ch yields nothing while the locks are held: a
// command that got through would be a broken lock, never a slow machine.
func (h *lockHarness) mustWait(what string, ch <-chan string) {
	h.t.Helper()
	select {
	case r := <-ch:
		h.t.Fatalf("%s completed (%q) while the other one held its keys", what, r)
	case <-time.After(100 * time.Millisecond):
	}
}

// otherShard returns a key named prefix+n that is not in the shard of any
// of keys.
func (h *lockHarness) otherShard(prefix string, keys ...string) string {
	return otherShard(h.ex, prefix, keys...)
}

// otherShard returns a key named prefix+n that is not in the shard of any
// of keys in ex's keyspace.
func otherShard(ex *exec.Executor, prefix string, keys ...string) string {
	for n := 0; ; n++ {
		k := fmt.Sprintf("%s%d", prefix, n)
		ok := true
		for _, x := range keys {
			if ex.Store.ShardOf([]byte(k)) == ex.Store.ShardOf([]byte(x)) {
				ok = false
			}
		}
		if ok {
			return k
		}
	}
}

// TestExecDisjointConcurrent: an EXEC stopped inside its queue (holding
// the shards of "block" and a) does not stop an EXEC on other keys; EXECs
// on a, on a WATCHed a, or needing the whole keyspace wait for it.
func TestExecDisjointConcurrent(t *testing.T) {
	h := newLockHarness(t)
	a := h.otherShard("a", "block")
	b := h.otherShard("b", "block", a)
	c := h.otherShard("c", "block", a, b)
	wcl := command.NewClient(0)
	h.run(wcl, "WATCH "+a, "MULTI", "SET "+c+" 5")
	first := h.blockInside("MULTI", "SET "+a+" 1", "SET block x", "INCR "+a, "EXEC")

	got := h.mustFinish("an EXEC on other keys", h.start("MULTI", "SET "+b+" 1", "INCR "+c, "GET "+b, "EXEC"))
	if want := "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:1\r\n$1\r\n1\r\n"; got != want {
		t.Fatalf("disjoint EXEC replied %q, want %q", got, want)
	}
	h.mustFinish("an EXEC of keyless commands", h.start("MULTI", "PING", "EXEC"))

	overlap := h.start("MULTI", "SET "+b+" 2", "INCR "+a, "EXEC")
	watched := make(chan string, 1)
	go func() { watched <- h.run(wcl, "EXEC") }()
	h.mustWait("an EXEC on an overlapping key", overlap)
	h.mustWait("an EXEC WATCHing an overlapping key", watched)
	// last: once it waits for the global lock, shard lockers queue too
	all := h.start("MULTI", "SET "+b+" 3", "DBSIZE", "EXEC")
	h.mustWait("an EXEC with DBSIZE", all)
	h.unblock()
	if r := h.mustFinish("the first EXEC", first); !strings.HasSuffix(r, "*3\r\n+OK\r\n+OK\r\n:2\r\n") {
		t.Fatalf("first EXEC replied %q", r)
	}
	if r := h.mustFinish("the overlapping EXEC", overlap); !strings.HasSuffix(r, "*2\r\n+OK\r\n:3\r\n") {
		t.Fatalf("overlapping EXEC replied %q: it did not run after the first", r)
	}
	// a was changed by the first EXEC: the transaction fails
	if r := h.mustFinish("the watching EXEC", watched); r != "*-1\r\n" {
		t.Fatalf("watching EXEC replied %q", r)
	}
	h.mustFinish("the EXEC with DBSIZE", all)
}

// txTestLib has functions FCALL runs in partial-lock mode (set2, undecl);
// txStateLib has one with library state (count: an upvalue), which holds
// the whole keyspace, as every function of a library that assigns an
// upvalue does.
const (
	txTestLib = "#!lua name=txtest\n" +
		"local setcmd = 'SET'\n" +
		"redis.register_function('set2', function(keys, args) redis.call(setcmd, keys[1], 'f') return redis.call(setcmd, keys[2], 'f') end)\n" +
		"redis.register_function('undecl', function(keys, args) redis.call('SET', keys[1], 'u') return redis.call('INCR', args[1]) end)"
	txStateLib = "#!lua name=txstate\n" +
		"local n = 0\n" +
		"redis.register_function('count', function(keys, args) n = n + 1 redis.call('SET', keys[1], n) return n end)"
)

// TestFcallDisjointConcurrent: a function stopped while it commits
// (holding the shards of "block" and a) does not stop a function on other
// keys; functions on a, or reaching a undeclared, or with library state
// wait for it.
func TestFcallDisjointConcurrent(t *testing.T) {
	h := newLockHarness(t)
	w := resp.NewWriter()
	for _, lib := range []string{txTestLib, txStateLib} {
		w.Reset()
		h.ex.Execute(command.NewClient(0), strArgs("FUNCTION", "LOAD", lib), w)
		if w.Buf[0] == '-' {
			t.Fatalf("FUNCTION LOAD: %s", w.Buf)
		}
	}
	a := h.otherShard("a", "block")
	b := h.otherShard("b", "block", a)
	c := h.otherShard("c", "block", a, b)
	d := h.otherShard("d", "block", a)
	first := h.blockInside("FCALL set2 2 " + a + " block")

	if r := h.mustFinish("a function on other keys", h.start("FCALL set2 2 "+b+" "+c, "GET "+c)); r != "+OK\r\n$1\r\nf\r\n" {
		t.Fatalf("disjoint FCALL replied %q", r)
	}
	if r := h.mustFinish("a function reaching other undeclared keys", h.start("FCALL undecl 1 "+b+" "+d)); r != ":1\r\n" {
		t.Fatalf("FCALL undecl replied %q", r)
	}
	overlap := h.start("FCALL set2 2 " + b + " " + a)
	h.mustWait("a function on an overlapping key", overlap)
	// these wait for the global lock; shard lockers started after them
	// would queue behind it
	count := h.start("FCALL count 1 " + c)
	h.mustWait("a function with library state", count)
	undecl := h.start("FCALL undecl 1 " + b + " " + a)
	h.mustWait("a function reaching an overlapping key", undecl)
	h.unblock()
	if r := h.mustFinish("the first function", first); r != "+OK\r\n" {
		t.Fatalf("first FCALL replied %q", r)
	}
	h.mustFinish("the overlapping function", overlap)
	// it ran after the first function set a to "f": INCR fails
	if r := h.mustFinish("the undeclared-key function", undecl); !strings.HasPrefix(r, "-ERR value is not an integer") {
		t.Fatalf("FCALL undecl on a replied %q", r)
	}
	if r := h.mustFinish("the stateful function", count); r != ":1\r\n" {
		t.Fatalf("FCALL count replied %q", r)
	}
	if r := h.run(command.NewClient(0), "FCALL count 1 "+c, "GET "+c); r != ":2\r\n$1\r\n2\r\n" {
		t.Fatalf("second FCALL count replied %q", r)
	}
}

// TestTxOverlap measures how long a short EXEC and a short GET on other
// keys take while a long EXEC (200,000 queued INCRs) or a long function
// (a 12M-iteration loop) runs: before EXEC and FCALL locked only their
// shards they waited for the whole long one.
func TestTxOverlap(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	srv := newInProcess(t)
	ex := srv.Exec()
	w := resp.NewWriter()
	ex.Execute(command.NewClient(0), strArgs("FUNCTION", "LOAD", "#!lua name=ovl\n"+
		"redis.register_function('long', function(keys, args) local x = 0 for i = 1, 12000000 do x = x + i % 7 end redis.call('SET', keys[1], x) return 1 end)"), w)
	if w.Buf[0] == '-' {
		t.Fatalf("FUNCTION LOAD: %s", w.Buf)
	}
	longExec := command.NewClient(0)
	w.Reset()
	ex.Execute(longExec, strArgs("MULTI"), w)
	for i := 0; i < 200000; i++ {
		ex.Execute(longExec, strArgs("INCR", "ovl:a"), w)
	}
	for _, tc := range []struct {
		name string
		long func()
	}{
		{"EXEC", func() { ex.Execute(longExec, strArgs("EXEC"), resp.NewWriter()) }},
		{"FCALL", func() { ex.Execute(command.NewClient(0), strArgs("FCALL", "long", "1", "ovl:a"), resp.NewWriter()) }},
	} {
		done := make(chan time.Duration, 1)
		t0 := time.Now()
		go func() {
			tc.long()
			done <- time.Since(t0)
		}()
		time.Sleep(20 * time.Millisecond)
		cl := command.NewClient(0)
		s0 := time.Now()
		ex.Execute(cl, strArgs("MULTI"), resp.NewWriter())
		ex.Execute(cl, strArgs("INCR", "ovl:b"), resp.NewWriter())
		ex.Execute(cl, strArgs("EXEC"), resp.NewWriter())
		shortExec := time.Since(s0)
		s0 = time.Now()
		ex.Execute(cl, strArgs("GET", "ovl:c"), resp.NewWriter())
		get := time.Since(s0)
		var longD time.Duration
		select {
		case longD = <-done:
			t.Errorf("long %s ended (%v) before the short commands (EXEC %v, GET %v): nothing measured", tc.name, longD, shortExec, get)
		default:
			longD = <-done
		}
		t.Logf("during a long %s (%v): short EXEC on other keys %v, GET %v", tc.name, longD, shortExec, get)
	}
}

// TestFcallClonesRunInParallel: while a long function runs in the
// functions' Lua state, a function of the same library on other keys runs
// in a clone of the library instead of waiting; a function of a library
// with state (an upvalue it assigns) still waits, and counts once per call.
func TestFcallClonesRunInParallel(t *testing.T) {
	srv := newInProcess(t)
	ex := srv.Exec()
	// a waiting call must not get BUSY however slow the machine is
	if r := runCmd(ex, "CONFIG", "SET", "busy-reply-threshold", "600000"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	parLib := "#!lua name=par\n" +
		"local step = 7\n" +
		"local function spin(n) local x = 0 for i = 1, n do x = x + i % step end return x end\n" +
		"redis.register_function('long', function(keys, args) local x = spin(tonumber(args[1])) redis.call('SET', keys[1], x) return x end)\n" +
		"redis.register_function('short', function(keys, args) redis.call('SET', keys[1], args[1]) return {step, redis.call('GET', keys[1]), spin(10)} end)"
	if r := runCmd(ex, "FUNCTION", "LOAD", txStateLib); strings.HasPrefix(r, "-") {
		t.Fatalf("FUNCTION LOAD: %s", r)
	}
	// keys in other shards than the long function's: only the Lua state
	// is shared
	b, c := otherShard(ex, "par:b", "par:a"), otherShard(ex, "par:c", "par:a")
	var done chan string
	// A library that took more than 5 ms to load gets no clones (clone.go:
	// a clone loads while its FCALL holds its keys): on a loaded machine
	// the wall-clock load time can pass that, so the library is loaded
	// again, at most three times, until a short function runs beside the
	// long one.
	for attempt := 1; ; attempt++ {
		if r := runCmd(ex, "FUNCTION", "LOAD", "REPLACE", parLib); strings.HasPrefix(r, "-") {
			t.Fatalf("FUNCTION LOAD: %s", r)
		}
		done = make(chan string, 1)
		go func() { done <- runCmd(ex, "FCALL", "long", "1", "par:a", "200000000") }()
		waitFor(t, "the long function to start", func() bool {
			return strings.Contains(runCmd(ex, "FUNCTION", "STATS"), "long")
		})
		first := make(chan string, 1)
		go func() { first <- runCmd(ex, "FCALL", "short", "1", b, "v") }()
		select {
		case r := <-first:
			if r != "*3\r\n:7\r\n$1\r\nv\r\n:27\r\n" {
				t.Fatalf("FCALL short while long runs replied %q", r)
			}
		case <-time.After(5 * time.Second):
			runCmd(ex, "FUNCTION", "KILL")
			<-done
			<-first
			if attempt == 3 {
				t.Fatal("FCALL short waited for the long function in three loads of the library")
			}
			t.Logf("attempt %d: FCALL short waited for the long function (a slow load?): loading again", attempt)
			continue
		}
		break
	}
	for i := 0; i < 2; i++ {
		if r := runCmd(ex, "FCALL", "short", "1", b, "v"); r != "*3\r\n:7\r\n$1\r\nv\r\n:27\r\n" {
			t.Fatalf("FCALL short while long runs replied %q", r)
		}
	}
	select {
	case r := <-done:
		t.Fatalf("the long function ended (%q) before the short ones: nothing tested", r)
	default:
	}
	count := make(chan string, 1)
	go func() { count <- runCmd(ex, "FCALL", "count", "1", c) }()
	select {
	case r := <-count:
		t.Fatalf("a function with library state ran beside the long one: %q", r)
	case <-time.After(50 * time.Millisecond):
	}
	if r := runCmd(ex, "FUNCTION", "KILL"); r != "+OK\r\n" {
		t.Fatalf("FUNCTION KILL replied %q", r)
	}
	if r := <-done; !strings.HasPrefix(r, "-ERR Script killed") {
		t.Fatalf("the killed function replied %q", r)
	}
	if r := <-count; r != ":1\r\n" {
		t.Fatalf("FCALL count replied %q", r)
	}
}

// runCmd runs one command through ex as a new client and returns the reply.
func runCmd(ex interface {
	Execute(*command.Client, [][]byte, *resp.Writer)
}, args ...string) string {
	w := resp.NewWriter()
	ex.Execute(command.NewClient(0), strArgs(args...), w)
	return string(w.Buf)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
