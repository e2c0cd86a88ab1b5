package commands_test

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// newServingLockHarness is newLockHarness on a server that also listens
// on a loopback port (for subscribers and monitors) and logs to logw.
func newServingLockHarness(t *testing.T, logw io.Writer) (*lockHarness, string) {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--port", "0", "--bind", "127.0.0.1", "--save", "", "--loglevel", "debug"}); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})), "")
	if err != nil {
		t.Fatal(err)
	}
	h := lockHarnessOn(t, srv)
	addr := serveInProcess(t, srv)
	t.Cleanup(h.unblock) // runs before serveInProcess's stop
	return h, addr
}

// rerunLazy runs EVAL body with KEYS a and "block" on an event-loop
// client (cl.NoWait) while another command holds block's shard: the
// script's first attempt takes a's shard, runs until it touches block,
// is stopped and undone, and runs again once block is free. It returns
// the script's reply.
func (h *lockHarness) rerunLazy(cl *command.Client, body, a string) string {
	h.t.Helper()
	return h.rerunLazyDuring(cl, body, a, nil)
}

// rerunLazyDuring is rerunLazy calling during, when not nil, after the
// first attempt was stopped and while the rerun waits for block.
func (h *lockHarness) rerunLazyDuring(cl *command.Client, body, a string, during func()) string {
	h.t.Helper()
	first := h.blockInside("SET block x")
	reruns := h.ex.LazyReruns.Load()
	cl.NoWait = true
	done := make(chan string, 1)
	go func() {
		w := resp.NewWriter()
		h.ex.Execute(cl, strArgs("EVAL", body, "2", a, "block"), w)
		done <- string(w.Buf)
	}()
	for deadline := time.Now().Add(10 * time.Second); h.ex.LazyReruns.Load() == reruns; {
		if time.Now().After(deadline) {
			h.t.Fatal("the script never found block's shard busy")
		}
		time.Sleep(time.Millisecond)
	}
	h.mustWait("the rerun", done)
	if during != nil {
		during()
	}
	h.unblock()
	got := h.mustFinish("the rerun", done)
	h.mustFinish("SET block", first)
	cl.NoWait = false
	return got
}

// lazyEnv is what a TestLazyRerunLeavesNoTrace case sets up and checks.
type lazyEnv struct {
	h     *lockHarness
	admin *command.Client      // runs the checks
	cl    *command.Client      // runs the script
	addr  string               // the server's address
	logs  *difftest.SyncBuffer // its log
	a     string               // KEYS[1]
	sub   *difftest.Conn       // a subscriber, when setup made one
}

// A script stopped for a rerun leaves no trace of its first attempt:
// what it did before it found block's shard busy happens once, as in
// Redis, which runs it once. Each case's script acts on KEYS[1] (a), then
// reads KEYS[2] (block), whose shard another command holds.
func TestLazyRerunLeavesNoTrace(t *testing.T) {
	lfuSetup := func(t *testing.T, e *lazyEnv) {
		// no decay: a minute boundary between SET and OBJECT FREQ would take one off
		e.h.run(e.admin, "CONFIG SET maxmemory-policy allkeys-lfu", "CONFIG SET lfu-log-factor 0", "CONFIG SET lfu-decay-time 0", "SET "+e.a+" v")
	}
	wantFreq := func(n int) func(t *testing.T, e *lazyEnv) {
		return func(t *testing.T, e *lazyEnv) {
			if got, want := e.h.run(e.admin, "OBJECT FREQ "+e.a), fmt.Sprintf(":%d\r\n", n); got != want {
				t.Fatalf("OBJECT FREQ = %q, want %q", got, want)
			}
		}
	}
	// wantIdle0: the rerun read the key (OBJECT IDLETIME 0)
	wantIdle0 := func(t *testing.T, e *lazyEnv) {
		if got := e.h.run(e.admin, "OBJECT IDLETIME "+e.a); got != ":0\r\n" {
			t.Fatalf("OBJECT IDLETIME = %q, want 0", got)
		}
	}
	// restoreIdle makes a idle for 1000 s (RESTORE ... IDLETIME)
	restoreIdle := func(t *testing.T, e *lazyEnv) {
		e.h.run(e.admin, "SET tmp v")
		payload := e.h.run(e.admin, "DUMP tmp")
		payload = payload[strings.Index(payload, "\r\n")+2 : len(payload)-2]
		w := resp.NewWriter()
		e.h.ex.Execute(e.admin, strArgs("RESTORE", e.a, "0", payload, "IDLETIME", "1000"), w)
		if got := e.h.run(e.admin, "OBJECT IDLETIME "+e.a); string(w.Buf) != "+OK\r\n" || got != ":1000\r\n" {
			t.Fatalf("RESTORE: %q, OBJECT IDLETIME %q", w.Buf, got)
		}
	}
	// between reads a's OBJECT field from another client while the stopped
	// attempt waits for its rerun: in Redis's serial order the script has
	// not run yet; the idle time may have passed another second since RESTORE
	between := func(sub string, lo, hi int) func(t *testing.T, e *lazyEnv) {
		return func(t *testing.T, e *lazyEnv) {
			got := e.h.mustFinish("OBJECT", e.h.start("OBJECT "+sub+" "+e.a))
			if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n")); err != nil || n < lo || n > hi {
				t.Errorf("OBJECT %s between the attempts = %q, want %d to %d", sub, got, lo, hi)
			}
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *lazyEnv)
		body  string // the part before the read of block
		// during, when not nil, runs after the first attempt was stopped,
		// before the rerun
		during func(t *testing.T, e *lazyEnv)
		check  func(t *testing.T, e *lazyEnv)
	}{
		{
			name: "ACL LOG entry of a denied call",
			setup: func(t *testing.T, e *lazyEnv) {
				e.h.run(e.admin, "ACL SETUSER u on >p +@all -set ~*")
				if got := e.h.run(e.cl, "AUTH u p"); got != "+OK\r\n" {
					t.Fatalf("AUTH: %q", got)
				}
			},
			body: "redis.pcall('set', KEYS[1], 'v')",
			check: func(t *testing.T, e *lazyEnv) {
				log := e.h.run(e.admin, "ACL LOG")
				if n := strings.Count(log, "\r\nreason\r\n"); n != 1 || !strings.Contains(log, "$5\r\ncount\r\n:1\r\n") {
					t.Fatalf("ACL LOG has %d entries, want one with count 1: %q", n, log)
				}
			},
		},
		{
			name: "redis.log line",
			body: "redis.log(redis.LOG_WARNING, 'lazy12-line')",
			check: func(t *testing.T, e *lazyEnv) {
				if n := strings.Count(e.logs.String(), "lazy12-line"); n != 1 {
					t.Fatalf("the log has %d lines of the script, want 1:\n%s", n, e.logs.String())
				}
			},
		},
		{
			name: "keymiss event",
			setup: func(t *testing.T, e *lazyEnv) {
				e.h.run(e.admin, "CONFIG SET notify-keyspace-events Em")
				e.sub = difftest.Connect(t, e.addr)
				e.sub.MustDo(t, "SUBSCRIBE", "__keyevent@0__:keymiss")
			},
			body: "redis.call('get', KEYS[1])",
			check: func(t *testing.T, e *lazyEnv) {
				if r, err := e.sub.Read(); err != nil || !strings.Contains(string(r), e.a) {
					t.Fatalf("keymiss event: %q, %v", r, err)
				}
				if r, err := e.sub.ReadWithin(200 * time.Millisecond); err == nil {
					t.Fatalf("a second event: %q", r)
				}
			},
		},
		{
			// the stopped attempt deleted the key: its event goes out
			// once, when it stops (the rerun finds the key gone)
			name: "expired event",
			setup: func(t *testing.T, e *lazyEnv) {
				e.h.run(e.admin, "CONFIG SET notify-keyspace-events Ex", "DEBUG SET-ACTIVE-EXPIRE 0", "SET "+e.a+" v PXAT 1")
				e.sub = difftest.Connect(t, e.addr)
				e.sub.MustDo(t, "SUBSCRIBE", "__keyevent@0__:expired")
			},
			body: "redis.call('get', KEYS[1])",
			check: func(t *testing.T, e *lazyEnv) {
				e.h.run(e.admin, "DEBUG SET-ACTIVE-EXPIRE 1")
				if r, err := e.sub.Read(); err != nil || !strings.Contains(string(r), e.a) {
					t.Fatalf("expired event: %q, %v", r, err)
				}
				if r, err := e.sub.ReadWithin(200 * time.Millisecond); err == nil {
					t.Fatalf("a second event: %q", r)
				}
			},
		},
		{
			name:  "commandstats of a call",
			setup: func(t *testing.T, e *lazyEnv) { e.h.run(e.admin, "CONFIG RESETSTAT") },
			body:  "redis.call('incr', KEYS[1])",
			check: func(t *testing.T, e *lazyEnv) {
				if info := e.h.run(e.admin, "INFO commandstats"); !strings.Contains(info, "cmdstat_incr:calls=1,") {
					t.Fatalf("INCR not counted once: %s", info)
				}
			},
		},
		{
			name: "errorstats of a failed call",
			setup: func(t *testing.T, e *lazyEnv) {
				e.h.run(e.admin, "CONFIG RESETSTAT", "SET "+e.a+" notanumber")
			},
			body: "redis.pcall('incr', KEYS[1])",
			check: func(t *testing.T, e *lazyEnv) {
				if info := e.h.run(e.admin, "INFO errorstats"); !strings.Contains(info, "errorstat_ERR:count=1\r\n") {
					t.Fatalf("the error not counted once: %s", info)
				}
			},
		},
		{
			// lfu-log-factor 0: every access increments (Redis: a new
			// key at 5, the script's GET makes 6)
			name:  "LFU counter of a read",
			setup: lfuSetup,
			body:  "redis.call('get', KEYS[1])",
			check: wantFreq(6),
		},
		{
			name:  "LFU counter of reads by several commands",
			setup: lfuSetup,
			body:  "redis.call('get', KEYS[1]) redis.call('strlen', KEYS[1]) redis.call('mget', KEYS[1], KEYS[1])",
			check: wantFreq(9),
		},
		{
			// the write's undo copy holds the read's count: the access
			// saved before the read is put back after it
			name:  "LFU counter of a read then a write",
			setup: lfuSetup,
			body:  "redis.call('get', KEYS[1]) redis.call('set', KEYS[1], 'w')",
			check: wantFreq(7),
		},
		{
			// the read's saved access field must not stand for the
			// write's undo copy: the APPEND is undone, then made again
			name:  "LFU counter and value of a read then an append",
			setup: lfuSetup,
			body:  "redis.call('get', KEYS[1]) redis.call('append', KEYS[1], 'w')",
			check: func(t *testing.T, e *lazyEnv) {
				wantFreq(7)(t, e)
				if got := e.h.run(e.admin, "GET "+e.a); got != "$2\r\nvw\r\n" {
					t.Fatalf("GET = %q, want vw", got)
				}
			},
		},
		{
			// both attempts set the same clock: the rerun's read leaves
			// the key idle for 0 s, as Redis's one read
			name: "LRU clock of a read",
			setup: func(t *testing.T, e *lazyEnv) {
				e.h.run(e.admin, "SET tmp v")
				payload := e.h.run(e.admin, "DUMP tmp")
				payload = payload[strings.Index(payload, "\r\n")+2 : len(payload)-2]
				w := resp.NewWriter()
				e.h.ex.Execute(e.admin, strArgs("RESTORE", e.a, "0", payload, "IDLETIME", "1000"), w)
				if got := e.h.run(e.admin, "OBJECT IDLETIME "+e.a); string(w.Buf) != "+OK\r\n" || got != ":1000\r\n" {
					t.Fatalf("RESTORE: %q, OBJECT IDLETIME %q", w.Buf, got)
				}
			},
			body:  "redis.call('get', KEYS[1])",
			check: wantIdle0,
		},
		{
			// the stopped attempt's read is undone: the clock is the old one
			// until the rerun reads the key
			name:   "LRU clock of a read, between the attempts",
			setup:  restoreIdle,
			body:   "redis.call('get', KEYS[1]) redis.call('strlen', KEYS[1])",
			during: between("IDLETIME", 1000, 1002),
			check:  wantIdle0,
		},
		{
			name:   "LRU clock of a read then a write, between the attempts",
			setup:  restoreIdle,
			body:   "redis.call('get', KEYS[1]) redis.call('append', KEYS[1], 'w')",
			during: between("IDLETIME", 1000, 1002),
			check: func(t *testing.T, e *lazyEnv) {
				if got := e.h.run(e.admin, "GET "+e.a); got != "$2\r\nvw\r\n" {
					t.Fatalf("GET = %q, want vw", got)
				}
			},
		},
		{
			name:   "LFU counter of a read, between the attempts",
			setup:  lfuSetup,
			body:   "redis.call('get', KEYS[1])",
			during: between("FREQ", 5, 5),
			check:  wantFreq(6),
		},
		{
			name:  "LFU counter of a write then a read",
			setup: lfuSetup,
			body:  "redis.call('append', KEYS[1], 'w') redis.call('get', KEYS[1])",
			check: wantFreq(7),
		},
		{
			name:  "LFU counter of a read then a delete and a new key",
			setup: lfuSetup,
			body:  "redis.call('get', KEYS[1]) redis.call('del', KEYS[1]) redis.call('set', KEYS[1], 'n')",
			check: wantFreq(5),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &lazyEnv{logs: &difftest.SyncBuffer{}, admin: command.NewClient(0), cl: command.NewClient(0)}
			e.h, e.addr = newServingLockHarness(t, e.logs)
			e.a = e.h.otherShard("a", "block")
			// a's shard after block's if there is one: the rerun waits for
			// block's shard without holding a's (TestLazyRerunWakesNobody),
			// so that during can read a
			for i := 0; i < 1000 && e.h.ex.Store.ShardOf([]byte(e.a)) < e.h.ex.Store.ShardOf([]byte("block")); i++ {
				e.a = e.h.otherShard(fmt.Sprintf("a%d-", i), "block")
			}
			if tt.setup != nil {
				tt.setup(t, e)
			}
			var during func()
			if tt.during != nil {
				during = func() { tt.during(t, e) }
			}
			if got := e.h.rerunLazyDuring(e.cl, tt.body+" return redis.call('get', KEYS[2])", e.a, during); got != "$1\r\nx\r\n" {
				t.Fatalf("script replied %q", got)
			}
			tt.check(t, e)
		})
	}
}

// MONITOR shows the commands of a script stopped for a rerun once: an
// undeclared key's busy shard stops the first attempt on a connection's
// own goroutine (a monitor keeps scripts off the event loops), which runs
// it again holding the whole keyspace.
func TestRerunMonitorOnce(t *testing.T) {
	h, addr := newServingLockHarness(t, io.Discard)
	a := h.otherShard("a", "block")
	mon := difftest.Connect(t, addr)
	mon.MustDo(t, "MONITOR")
	first := h.blockInside("SET block x")
	done := make(chan string, 1)
	go func() {
		w := resp.NewWriter()
		h.ex.Execute(command.NewClient(0), strArgs("EVAL", "redis.call('incr', KEYS[1]) return redis.call('get', 'block')", "1", a), w)
		done <- string(w.Buf)
	}()
	var lines []string
	// the EVAL line comes before the script runs
	for len(lines) < 1 {
		r, err := mon.Read()
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(r))
	}
	h.mustWait("the rerun", done)
	h.unblock()
	h.mustFinish("the rerun", done)
	h.mustFinish("SET block", first)
	for {
		r, err := mon.ReadWithin(300 * time.Millisecond)
		if err != nil {
			break
		}
		lines = append(lines, string(r))
	}
	all := strings.Join(lines, "")
	if n := strings.Count(all, `"incr"`); n != 1 {
		t.Fatalf("MONITOR showed INCR %d times:\n%s", n, all)
	}
}

// A client blocked on a key that a stopped script attempt adds is not
// woken by that attempt: the key is signalled ready at the commit of the
// run that stays (held back as the script's other effects), so a command
// another client runs meanwhile (whose end serves the ready keys) hands
// the waiter no turn. In Redis the script runs once: the waiter is served
// once, and a blocked command's SLOWLOG entry and statistics are made
// when it is served (updateStatsOnUnblock), not by a wake-up that finds
// nothing.
func TestLazyRerunWakesNobody(t *testing.T) {
	for _, tt := range []struct {
		name, block, body, served string
	}{
		{"BLPOP and LPUSH", "BLPOP %s 0", "redis.call('lpush', KEYS[1], 'x')", "*2\r\n$%d\r\n%s\r\n$1\r\nx\r\n"},
		{"BLPOP and RENAME", "BLPOP %s 0", "redis.call('rpush', KEYS[1]..'{t}', 'x') redis.call('rename', KEYS[1]..'{t}', KEYS[1])", "*2\r\n$%d\r\n%s\r\n$1\r\nx\r\n"},
		{"XREAD and XADD", "XREAD BLOCK 0 STREAMS %s 0", "redis.call('xadd', KEYS[1], '1-1', 'f', 'x')", "*1\r\n*2\r\n$%d\r\n%s\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nx\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newLockHarness(t)
			// a's shard after block's if there is one (the hash seed is
			// the process's): the rerun waits for block's shard (LockShards
			// takes them in order) without holding a's, which a turn
			// handed to the waiter would take (without the fix, PING would
			// not end)
			a := h.otherShard("a", "block")
			for i := 0; i < 1000 && h.ex.Store.ShardOf([]byte(a)) < h.ex.Store.ShardOf([]byte("block")); i++ {
				a = h.otherShard(fmt.Sprintf("a%d-", i), "block")
			}
			admin := command.NewClient(0)
			h.run(admin, "CONFIG SET slowlog-log-slower-than 0", "SLOWLOG RESET", "CONFIG RESETSTAT")
			if strings.HasPrefix(tt.body, "redis.call('xadd'") {
				h.run(admin, "XADD "+a+" 1-0 f v", "XDEL "+a+" 1-0") // an empty stream: XREAD 0 blocks
			}
			waiter := command.NewClient(0)
			served := make(chan string, 1)
			go func() {
				w := resp.NewWriter()
				h.ex.Execute(waiter, strArgs(strings.Fields(fmt.Sprintf(tt.block, a))...), w)
				served <- string(w.Buf)
			}()
			for deadline := time.Now().Add(10 * time.Second); !h.ex.IsBlocked(waiter.ID); {
				if time.Now().After(deadline) {
					t.Fatal("the waiter never blocked")
				}
				time.Sleep(time.Millisecond)
			}
			h.rerunLazyDuring(command.NewClient(0), tt.body+" return redis.call('get', KEYS[2])", a, func() {
				// its end serves the keys marked ready
				h.mustFinish("PING", h.start("PING"))
				if !h.ex.IsBlocked(waiter.ID) {
					t.Error("the waiter was served by the stopped attempt")
				}
			})
			if got, want := h.mustFinish("the waiter", served), fmt.Sprintf(tt.served, len(a), a); got != want {
				t.Fatalf("the waiter got %q, want %q", got, want)
			}
			cmd := strings.Fields(tt.block)[0]
			if n := strings.Count(h.run(admin, "SLOWLOG GET 100"), "$"+fmt.Sprint(len(cmd))+"\r\n"+cmd+"\r\n"); n != 1 {
				t.Errorf("SLOWLOG has %d entries of %s, want 1", n, cmd)
			}
		})
	}
}
