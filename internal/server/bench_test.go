package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
)

func newTestServer(t testing.TB) *Server {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--port", "0", "--save", ""}); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loopReader replays the same pipelined batch forever.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkParseAndGet measures the server's per-command path without the
// network: RESP parse, lookup, locks, GET handler, reply encoding.
func BenchmarkParseAndGet(b *testing.B) { benchParseAndGet(b, newTestServer(b)) }

// benchParseAndGet runs pipelined GETs of one key through s's parser and
// executor (BenchmarkParseAndGet, BenchmarkParseAndGetCluster).
func benchParseAndGet(b *testing.B, s *Server) {
	cl := command.NewClient(1)
	w := resp.NewWriter()
	s.exec.Execute(cl, [][]byte{[]byte("SET"), []byte("key:1"), []byte("hello world")}, w)
	var batch bytes.Buffer
	for i := 0; i < 16; i++ {
		batch.WriteString("*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n")
	}
	runBatches(b, s, cl, w, batch.Bytes())
	if !bytes.Contains(w.Buf, []byte("hello world")) {
		b.Fatalf("no GET reply: %q", w.Buf[:min(len(w.Buf), 100)])
	}
}

// runBatches parses and executes b.N commands of batch, replayed forever,
// as cl, replies into w (emptied now and then): the measured loop of the
// parse-and-execute benchmarks.
func runBatches(b *testing.B, s *Server, cl *command.Client, w *resp.Writer, batch []byte) {
	rd := resp.NewReader(&loopReader{data: batch}, resp.Limits{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		args, err := rd.ReadCommand()
		if err != nil {
			b.Fatal(err)
		}
		s.exec.Execute(cl, args, w)
		if len(w.Buf) > 64*1024 {
			w.Reset()
		}
	}
}

// BenchmarkParseAndSet is BenchmarkParseAndGet for SET.
func BenchmarkParseAndSet(b *testing.B) {
	s := newTestServer(b)
	cl := command.NewClient(1)
	w := resp.NewWriter()
	var batch bytes.Buffer
	for i := 0; i < 16; i++ {
		batch.WriteString("*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$11\r\nhello world\r\n")
	}
	runBatches(b, s, cl, w, batch.Bytes())
}

// TestRunStopsCleanly starts a server, serves a client, then cancels and
// checks Run returns with its goroutines gone.
func TestRunStopsCleanly(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newTestServer(t)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("PING\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n"))
	want := "+PONG\r\n+OK\r\n$1\r\nb\r\n"
	buf := make([]byte, len(want))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("got %q, %v", buf, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	c.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines leaked: %d before, %d after", before, n)
	}
}

func TestProtocolErrorClosesConnection(t *testing.T) {
	s := newTestServer(t)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	tests := []struct{ in, want string }{
		{"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"\"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"*1\r\n$999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(tt.in))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkConnRoundTrip is one unpipelined GET through a running server
// over loopback TCP: read path, execution, flush. Its allocations are the
// server's (the client reuses its buffers); ns/op is wall time and noisy.
func BenchmarkConnRoundTrip(b *testing.B) {
	s := newTestServer(b)
	if err := s.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"))
	buf := make([]byte, 64)
	io.ReadFull(c, buf[:5])
	want := "$1\r\nv\r\n"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Write(req)
		if _, err := io.ReadFull(c, buf[:len(want)]); err != nil || string(buf[:len(want)]) != want {
			b.Fatalf("%q %v", buf[:len(want)], err)
		}
	}
}
