package server_test

import (
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
)

// The panics these tests inject stand for bugs outside command handlers:
// no command a client can send panics on purpose. Each must close only
// the client it happened for (with an error where a reply is possible),
// release what that client's command held, be logged with its stack and
// counted in INFO stats' crescent_server_panics, and leave the server
// serving everybody else (server/recover.go).

const errConnPanic = "-ERR internal error (see the server log)\r\n"

// panicLog is a logger's output, safe for concurrent writes (ops_test.go).
type panicLog = syncBuf

// startPanicServer serves a Crescent whose log goes to log; setup runs
// before it serves (hooks).
func startPanicServer(t *testing.T, log *panicLog, setup func(*server.Server), directives ...string) string {
	t.Helper()
	cfg := config.New()
	server.DeclareConfig(cfg)
	argv := append([]string{"--bind", "127.0.0.1", "--port", "0", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir()}, directives...)
	if err := cfg.Load("", argv); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(log, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	return difftest.ServeCrescent(t, srv, setup).Addr
}

// checkPanicLogged checks INFO's counter and the log: n panics, each
// with where and a stack through file.
func checkPanicLogged(t *testing.T, c *rawConn, log *panicLog, n int, where, file string) {
	t.Helper()
	want := "\r\ncrescent_server_panics:" + string(rune('0'+n)) + "\r\n"
	if got := c.mustDo("INFO", "stats"); !strings.Contains(got, want) {
		t.Errorf("INFO stats lacks %q", want)
	}
	logged := log.String()
	if k := strings.Count(logged, "a panic was recovered outside a command handler: "+where); k != n {
		t.Errorf("%d warnings for %q logged, want %d:\n%s", k, where, n, logged)
	}
	if !strings.Contains(logged, "lua22 test panic") || !strings.Contains(logged, file) {
		t.Errorf("the log lacks the panic's value or its stack (%s):\n%s", file, logged)
	}
}

// readUntilEOF reads the replies left and the close: what arrived
// before the connection was closed, "<timeout>" if it was not.
func readUntilEOF(c *rawConn) string {
	var b strings.Builder
	for i := 0; i < 10; i++ {
		r := c.read(10 * time.Second)
		b.WriteString(r)
		if strings.HasSuffix(r, "<eof>") || strings.HasSuffix(r, "<timeout>") {
			break
		}
	}
	return b.String()
}

func eventLoopModes(t *testing.T, f func(t *testing.T, loop string)) {
	for _, loop := range []string{"yes", "no"} {
		t.Run("event-loop="+loop, func(t *testing.T) { f(t, loop) })
	}
}

// TestServerPanicReader: a panic in the connection's reading (the RESP
// reader's hook before a socket read) closes that client after the
// replies of its batch and an error; the other clients go on.
func TestServerPanicReader(t *testing.T) {
	eventLoopModes(t, func(t *testing.T, loop string) {
		var log panicLog
		addr := startPanicServer(t, &log, func(s *server.Server) {
			s.SetPanicHooks(nil, func(cl *command.Client) {
				if cl.Name() == "victim" {
					panic("lua22 test panic")
				}
			}, nil)
		}, "--event-loop", loop)
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		if got := a.mustDo("SET", "k", "1"); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		a.send("CLIENT", "SETNAME", "victim")
		if got := readUntilEOF(a); got != "+OK\r\n"+errConnPanic+"<eof>" {
			t.Errorf("victim got %q", got)
		}
		if got := b.mustDo("INCR", "k"); got != ":2\r\n" {
			t.Errorf("INCR from another client: %q", got)
		}
		checkPanicLogged(t, b, &log, 1, "", "panic_server_test.go")
	})
}

// TestServerPanicExecutor: a panic in the executor's checks before the
// handler (here in its CLIENT PAUSE hook) ends the pipeline there: the
// commands before it answered, an error, the close; nothing after it
// runs.
func TestServerPanicExecutor(t *testing.T) {
	eventLoopModes(t, func(t *testing.T, loop string) {
		var log panicLog
		addr := startPanicServer(t, &log, func(s *server.Server) {
			e := s.Exec()
			pause := e.Pause
			e.Pause = func(cl *command.Client, spec *command.Spec, args [][]byte) bool {
				if len(args) > 1 && string(args[1]) == "panic:pre" {
					panic("lua22 test panic")
				}
				return pause(cl, spec, args)
			}
		}, "--event-loop", loop)
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		var batch []byte
		for _, c := range [][]string{{"SET", "a", "1"}, {"GET", "panic:pre"}, {"SET", "b", "2"}} {
			batch = append(batch, difftest.EncodeStrings(c...)...)
		}
		if _, err := a.nc.Write(batch); err != nil {
			t.Fatal(err)
		}
		if got := readUntilEOF(a); got != "+OK\r\n"+errConnPanic+"<eof>" {
			t.Errorf("victim got %q", got)
		}
		if got := b.mustDo("MGET", "a", "b"); got != "*2\r\n$1\r\n1\r\n$-1\r\n" {
			t.Errorf("MGET a b: %q", got)
		}
		checkPanicLogged(t, b, &log, 1, "", "panic_server_test.go")
	})
}

// TestServerPanicLocked: a panic in the executor while the command holds
// its key's shard (here its clock hook, after the locks are taken)
// releases that shard: another client's command on the same key is
// served (it would wait forever otherwise).
func TestServerPanicLocked(t *testing.T) {
	eventLoopModes(t, func(t *testing.T, loop string) {
		var log panicLog
		var armed atomic.Bool
		addr := startPanicServer(t, &log, func(s *server.Server) {
			s.Exec().Clock = func() int64 {
				if armed.CompareAndSwap(true, false) {
					panic("lua22 test panic")
				}
				return time.Now().UnixMilli()
			}
		}, "--event-loop", loop)
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		if got := b.mustDo("SET", "k", "1"); got != "+OK\r\n" {
			t.Fatalf("SET: %q", got)
		}
		armed.Store(true)
		a.send("INCR", "k")
		if got := readUntilEOF(a); got != errConnPanic+"<eof>" {
			t.Errorf("victim got %q", got)
		}
		b.send("INCR", "k")
		if got := b.read(30 * time.Second); got != ":2\r\n" { // a bound for a hang only
			t.Fatalf("INCR from another client: %q (the shard stayed locked?)", got)
		}
		checkPanicLogged(t, b, &log, 1, "", "panic_server_test.go")
		if !strings.Contains(log.String(), "released the locks") {
			t.Errorf("no log line about the released locks:\n%s", log.String())
		}
	})
}

// TestServerPanicCron: a panic in a cron tick is logged and counted, and
// the cron goes on (active expiry still removes a key nobody reads).
func TestServerPanicCron(t *testing.T) {
	var log panicLog
	var armed atomic.Bool
	armed.Store(true)
	addr := startPanicServer(t, &log, func(s *server.Server) {
		s.SetPanicHooks(func() {
			if armed.CompareAndSwap(true, false) {
				panic("lua22 test panic")
			}
		}, nil, nil)
	}, "--hz", "100")
	b := dialRaw(t, addr)
	if got := b.mustDo("SET", "k", "1", "PX", "1"); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	deadline := time.Now().Add(30 * time.Second) // a bound for a hang only
	for b.mustDo("DBSIZE") != ":0\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("the key was not expired: the cron stopped?")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if armed.Load() {
		t.Fatal("the cron hook never ran")
	}
	checkPanicLogged(t, b, &log, 1, "cron", "panic_server_test.go")
}

// panicConn is a socket whose writes panic once armed.
type panicConn struct {
	net.Conn
	armed *atomic.Bool
}

func (c panicConn) Write(p []byte) (int, error) {
	if c.armed.Load() {
		panic("lua22 test panic")
	}
	return c.Conn.Write(p)
}

// TestServerPanicPushWriter: a panic in a subscriber's push writer (here
// its socket's write) closes that subscriber only.
func TestServerPanicPushWriter(t *testing.T) {
	var log panicLog
	var armed atomic.Bool
	addr := startPanicServer(t, &log, func(s *server.Server) {
		first := true
		s.SetPanicHooks(nil, nil, func(nc net.Conn) net.Conn {
			if first { // the subscriber is the first client
				first = false
				return panicConn{nc, &armed}
			}
			return nc
		})
	}, "--event-loop", "no")
	sub := dialRaw(t, addr)
	if got := sub.mustDo("SUBSCRIBE", "ch"); !strings.HasPrefix(got, "*3\r\n$9\r\nsubscribe\r\n") {
		t.Fatalf("SUBSCRIBE: %q", got)
	}
	b := dialRaw(t, addr)
	armed.Store(true)
	if got := b.mustDo("PUBLISH", "ch", "x"); got != ":1\r\n" {
		t.Errorf("PUBLISH: %q", got)
	}
	if got := readUntilEOF(sub); got != "<eof>" {
		t.Errorf("subscriber got %q", got)
	}
	if got := b.mustDo("PING"); got != "+PONG\r\n" {
		t.Errorf("PING: %q", got)
	}
	checkPanicLogged(t, b, &log, 1, "push writer", "panic_server_test.go")
}
