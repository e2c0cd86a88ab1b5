package server

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes
// (difftest.SyncBuffer, which this package's own tests cannot import:
// difftest imports the server).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newPanicServer is a test server whose APPEND handler writes the start
// of a reply and panics (a handler with a bug): no command a client can
// send in a production build panics on purpose.
func newPanicServer(t *testing.T, log io.Writer) *Server {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--port", "0", "--save", ""}); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(log, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	s.exec.Table.Handle("append", func(c *command.Ctx) {
		c.W.Array(2)
		c.W.Int(1)
		panic("lua21 test panic")
	})
	return s
}

// run executes the commands as cl and returns the replies; it fails the
// test instead of hanging when a command waits for a lock that a
// panicking command kept (generous bound: only a bug reaches it).
func run(t *testing.T, s *Server, cl *command.Client, cmds ...[]string) string {
	t.Helper()
	w := resp.NewWriter()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, cmd := range cmds {
			args := make([][]byte, len(cmd))
			for i, a := range cmd {
				args[i] = []byte(a)
			}
			s.exec.Execute(cl, args, w)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%q did not finish: a lock left held?", cmds)
	}
	return string(w.Buf)
}

// TestHandlerPanic checks that a panicking handler answers its client
// "internal error" instead of killing the process: the partial reply is
// dropped, the locks are released (the same key serves the next command,
// from another client too), inside MULTI/EXEC and from a script's
// redis.call / redis.pcall alike; the panic is logged with its stack and
// counted in INFO.
func TestHandlerPanic(t *testing.T) {
	var log syncBuffer
	s := newPanicServer(t, &log)
	a, b := command.NewClient(1), command.NewClient(2)
	const ie = "-ERR internal error in 'append' (see the server log)\r\n"
	for _, tc := range []struct {
		name string
		cl   *command.Client
		cmds [][]string
		want string
	}{
		{"pipeline", a, [][]string{{"SET", "k", "1"}, {"APPEND", "k", "v"}, {"GET", "k"}},
			"+OK\r\n" + ie + "$1\r\n1\r\n"},
		{"same key, other client", b, [][]string{{"INCR", "k"}, {"APPEND", "k", "v"}, {"INCR", "k"}},
			":2\r\n" + ie + ":3\r\n"},
		{"exec", a, [][]string{{"MULTI"}, {"INCR", "k"}, {"APPEND", "k", "v"}, {"INCR", "k"}, {"EXEC"}},
			"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:4\r\n" + ie + ":5\r\n"},
		{"redis.pcall", b, [][]string{{"EVAL", "return redis.pcall('append', KEYS[1], 'v')", "1", "k"}, {"GET", "k"}},
			ie + "$1\r\n5\r\n"},
		{"redis.call", a, [][]string{{"EVAL", "redis.call('incr', KEYS[1]) return redis.call('append', KEYS[1], 'v')", "1", "k"}, {"GET", "k"}},
			"-ERR internal error in 'append' (see the server log) script: "},
	} {
		if got := run(t, s, tc.cl, tc.cmds...); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := run(t, s, b, []string{"GET", "k"}); got != "$1\r\n6\r\n" {
		t.Errorf("after the script: GET k = %q", got)
	}
	if got := run(t, s, a, []string{"INFO", "stats"}); !strings.Contains(got, "\r\ncrescent_handler_panics:5\r\n") {
		t.Errorf("INFO stats has no crescent_handler_panics:5: %q", got)
	}
	if got := run(t, s, a, []string{"INFO", "errorstats"}); !strings.Contains(got, "errorstat_ERR:count=5") {
		t.Errorf("INFO errorstats: %q", got)
	}
	logged := log.String()
	if n := strings.Count(logged, "level=WARN msg=\"a command's handler panicked"); n != 5 {
		t.Errorf("%d warnings logged, want 5:\n%s", n, logged)
	}
	if !strings.Contains(logged, "cmd=append panic=\"lua21 test panic\"") || !strings.Contains(logged, "panic_test.go") {
		t.Errorf("the log lacks the command, the value or the stack:\n%s", logged)
	}
}

// TestHandlerPanicApplyPath checks that a command from the master's link
// or the AOF loader re-panics: skipping it would leave the dataset
// silently different from the master's or the file's.
func TestHandlerPanicApplyPath(t *testing.T) {
	for _, flag := range []int{command.ClientMaster, command.ClientLoading} {
		s := newPanicServer(t, io.Discard)
		cl := command.NewClient(1)
		cl.Flags |= flag
		func() {
			defer func() {
				if v := recover(); v != "lua21 test panic" {
					t.Errorf("flags %v: recovered %v, want the handler's panic", flag, v)
				}
			}()
			s.exec.Execute(cl, [][]byte{[]byte("APPEND"), []byte("k"), []byte("v")}, resp.NewWriter())
		}()
		if n := s.exec.HandlerPanics.Load(); n != 0 {
			t.Errorf("flags %v: counted %d panics", flag, n)
		}
	}
}
