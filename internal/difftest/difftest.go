// Package difftest runs the same commands against Crescent and a real
// redis-server and compares the raw RESP replies byte for byte.
//
// # Servers
//
// StartRedis starts a redis-server (found in $PATH, or $REDIS_SERVER) on a
// free loopback port and stops it when the test ends; the test is skipped
// when the binary is absent. StartCrescent runs Crescent in-process on a free
// loopback port and stops it (context cancel, then waiting for Run to
// return) when the test ends. Both take extra redis-server style arguments
// ("--hz", "100"). NewCrescent builds a server without starting it (for
// tests that drive its executor, or set it up before ServeCrescent serves
// it; ServeCrescent also serves a server.New of the test's own). Dial (or
// Connect, by address) opens a raw connection: Conn.Do sends one command and
// returns its reply as raw RESP bytes, Conn.Send and Conn.Read (or
// ReadWithin, with a timeout of its own) do either half; Parse turns a raw
// reply into a tree of Values.
//
// This package imports internal/server, so tests in packages below it
// (commands, exec, keyspace...) must use an external test package
// (package commands_test) to import it.
//
// # Corpus files
//
// RunCorpus (and RunCorpusDir for a glob) reads a corpus file and runs it
// against both servers. The format is line based:
//
//	# a comment; blank lines are ignored
//	SET k "hello world"        one command, split like redis-cli / inline
//	                           commands (resp.SplitArgs: "double quotes" with
//	                           \n \xHH escapes, 'single quotes')
//	@flush                     FLUSHALL on both servers (reply not compared)
//	@sleep 10ms                pause (time.ParseDuration syntax)
//	@resp3 / @resp2            switch the current connection's protocol with
//	                           HELLO 3 / HELLO 2 (reply not compared)
//	@conn NAME                 switch to connection NAME (opened on first
//	                           use, one per server); "main" is the default
//	@shape CMD ...             compare only the reply's shape: RESP types and
//	                           aggregate lengths, recursively, not the values
//	@sorted CMD ...            compare an array reply as a multiset: its
//	                           elements (raw RESP) are sorted before comparing
//	@ignore CMD ...            run on both, compare nothing (setup whose reply
//	                           differs legitimately)
//	@type CMD ...              compare only the reply's first byte (RESP type)
//	@object CMD ...            compare with DEBUG OBJECT's address and access
//	                           clock (Value at:, lru:, lru_seconds_idle:) masked
//	@layout CMD ...            compare the FORM of a reply describing memory
//	                           layout (DEBUG SDSLEN, HTSTATS, STRUCTSIZE,
//	                           CLIENT-EVICTION): every number, with the
//	                           spaces before it, masked, then repeated
//	                           lines kept once (a chain length
//	                           distribution's or the buckets' lines)
//	@acllog CMD ...            compare an ACL LOG reply with its times masked
//	                           and its client-info cut down to name, db,
//	                           flags, multi, cmd, user and resp
//	@scan CMD ... 0 ...        iterate a SCAN-family command to the end: the
//	                           first argument after the name that is exactly
//	                           "0" is the cursor; all returned elements are
//	                           compared as a sorted multiset
//	@cluster CMD ...           compare with what differs between two cluster
//	                           nodes masked (node ids, the port, bus ports,
//	                           millisecond times); an argument <myid> is
//	                           each server's own CLUSTER MYID
//	@redis CMD / @crescent CMD run on one server only (reply ignored)
//	@block CMD ...             send CMD on the current connection and wait
//	                           until the server shows that client blocked
//	                           (CLIENT LIST flag b, asked on a connection of
//	                           the runner's own); its reply is read later
//	                           by @recv. A reply instead of blocking is
//	                           compared as usual (and there is nothing to
//	                           @recv); blocking on one server only fails.
//	@recv                      read and compare the reply of the current
//	                           connection's @block (after the command that
//	                           wakes it)
//	@read                      read and compare one more reply of the
//	                           current connection without sending anything:
//	                           a pub/sub message, a keyspace notification,
//	                           the second confirmation of SUBSCRIBE a b
//	@read shape                the same, comparing only the reply's shape
//	@requires CMD ...          skip the rest of the paragraph (up to the next
//	                           blank line) when Crescent does not serve one
//	                           of the commands (groups written in parallel)
//
// Each file starts on fresh connections after FLUSHALL, in RESP2. A file
// stops at its first connection-level failure; a reply mismatch is reported
// with the file, line, command and both replies, and the run continues.
//
// To add coverage for a command group, drop a file into
// internal/difftest/testdata/ (TestCorpus runs every testdata/*.txt), or call
// RunCorpusDir from your own package's test with its own testdata.
package difftest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// Server is a running server under test.
type Server struct {
	Name string // "redis" or "crescent"
	Addr string // host:port
	// Crescent is the in-process server (nil for redis).
	Crescent *server.Server
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("difftest: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RedisBinary returns the path of redis-server, or "" when it is absent.
func RedisBinary() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return ""
	}
	return p
}

// StartRedis starts a real redis-server on a free loopback port with
// persistence off and repl-diskless-sync-delay 0 (a full sync starts at
// once, as in Redis's own test suite; args may set it again), and stops
// it at the end of the test. It skips the test
// when redis-server is not installed.
func StartRedis(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := RedisBinary()
	if bin == "" {
		t.Skip("difftest: redis-server not found in PATH (set REDIS_SERVER); skipping differential test")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		argv := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no",
			"--dir", t.TempDir(), "--logfile", "", "--loglevel", "warning",
			"--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"}, args...)
		cmd := exec.Command(bin, argv...)
		var stderr bytes.Buffer
		cmd.Stdout = io.Discard
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("difftest: start redis-server: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitReady(addr, done); err != nil {
			cmd.Process.Kill()
			<-done
			lastErr = fmt.Errorf("%w (stderr: %s)", err, stderr.String())
			continue
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-done
		})
		return &Server{Name: "redis", Addr: addr}
	}
	t.Fatalf("difftest: redis-server did not start: %v", lastErr)
	return nil
}

func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited")
		default:
		}
		nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			nc.SetDeadline(time.Now().Add(time.Second))
			nc.Write([]byte("PING\r\n"))
			line, err := bufio.NewReader(nc).ReadString('\n')
			nc.Close()
			if err == nil && line == "+PONG\r\n" {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("timeout waiting for redis-server")
}

// Logger is the logger of in-process servers: discarded, or text on
// stderr when $CRESCENT_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("CRESCENT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// NewCrescent builds a Crescent server, not yet listening, on a free
// loopback port with persistence off (dir is a per-test temporary
// directory) and repl-diskless-sync-delay 0, as StartRedis; args are extra redis-server style directives and win over
// those defaults. Crescent's own directives (metrics-port...) are accepted.
func NewCrescent(t testing.TB, args ...string) *server.Server {
	t.Helper()
	cfg := config.New()
	server.DeclareConfig(cfg)
	argv := append([]string{"--bind", "127.0.0.1", "--port", "0", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir(), "--enable-debug-command", "yes",
		"--repl-diskless-sync-delay", "0"}, args...)
	if err := cfg.Load("", argv); err != nil {
		t.Fatalf("difftest: crescent config: %v", err)
	}
	srv, err := server.New(cfg, Logger(), "")
	if err != nil {
		t.Fatalf("difftest: crescent: %v", err)
	}
	return srv
}

// StartCrescent runs Crescent in-process on a free loopback port with
// persistence off; args are extra redis-server style directives. The server
// is stopped, and Run waited for, at the end of the test.
func StartCrescent(t testing.TB, args ...string) *Server {
	t.Helper()
	return ServeCrescent(t, NewCrescent(t, args...), nil)
}

// ServeCrescent makes srv (from NewCrescent, or server.New with a
// configuration of the test's own) listen, calls setup when it is not nil
// (listening, not yet serving), and serves until the end of the test, when
// it is stopped (context cancel) and Run waited for.
func ServeCrescent(t testing.TB, srv *server.Server, setup func(*server.Server)) *Server {
	t.Helper()
	if err := srv.Listen(); err != nil {
		t.Fatalf("difftest: crescent listen: %v", err)
	}
	if setup != nil {
		setup(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("difftest: crescent Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("difftest: crescent did not stop within 10s")
		}
	})
	return &Server{Name: "crescent", Addr: srv.Addr().String(), Crescent: srv}
}

// Conn is a raw RESP connection.
type Conn struct {
	nc      net.Conn
	rd      *bufio.Reader
	Timeout time.Duration
}

// Dial connects to s; the connection is closed at the end of the test.
func Dial(t testing.TB, s *Server) *Conn {
	t.Helper()
	c, err := DialAddr(s.Addr)
	if err != nil {
		t.Fatalf("difftest: dial %s: %v", s.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Connect is Dial by address.
func Connect(t testing.TB, addr string) *Conn {
	t.Helper()
	return Dial(t, &Server{Name: addr, Addr: addr})
}

// DialAddr connects to addr.
func DialAddr(addr string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &Conn{nc: nc, rd: bufio.NewReader(nc), Timeout: 10 * time.Second}, nil
}

// NetConn is the connection under c, for tests that write raw bytes or
// close it; they must read through Reader, which may hold buffered input.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Reader is the buffered reader of c's replies.
func (c *Conn) Reader() *bufio.Reader { return c.rd }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Encode returns args as a RESP multibulk command.
func Encode(args ...[]byte) []byte {
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// EncodeStrings returns args as a RESP multibulk command.
func EncodeStrings(args ...string) []byte {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return Encode(b...)
}

// Send writes raw bytes (a command, inline text or garbage) without
// reading a reply.
func (c *Conn) Send(raw []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	_, err := c.nc.Write(raw)
	return err
}

// Read reads one raw reply, waiting at most c.Timeout.
func (c *Conn) Read() ([]byte, error) {
	return c.ReadWithin(c.Timeout)
}

// ReadWithin reads one raw reply, waiting at most d. On an error it returns
// what it read of the reply so far; a timeout is a net.Error whose
// Timeout() is true.
func (c *Conn) ReadWithin(d time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	return ReadReply(c.rd)
}

// SendCmd writes one command given as strings without reading its reply.
func (c *Conn) SendCmd(args ...string) error {
	return c.Send(EncodeStrings(args...))
}

// DoArgs sends one command and returns its raw reply.
func (c *Conn) DoArgs(args ...[]byte) ([]byte, error) {
	if err := c.Send(Encode(args...)); err != nil {
		return nil, err
	}
	return c.Read()
}

// Do sends one command given as strings and returns its raw reply.
func (c *Conn) Do(args ...string) ([]byte, error) {
	if err := c.SendCmd(args...); err != nil {
		return nil, err
	}
	return c.Read()
}

// DoLine splits line like redis-cli (resp.SplitArgs: "double quotes" with
// escapes, 'single quotes'), sends it and returns the raw reply.
func (c *Conn) DoLine(line string) ([]byte, error) {
	args, err := resp.SplitArgs([]byte(line), nil)
	if err != nil {
		return nil, err
	}
	return c.DoArgs(args...)
}

// MustDo is Do that fails the test on a connection error.
func (c *Conn) MustDo(t testing.TB, args ...string) []byte {
	t.Helper()
	r, err := c.Do(args...)
	if err != nil {
		t.Fatalf("difftest: %q: %v", args, err)
	}
	return r
}

// Hello3 switches the connection to RESP3 and discards HELLO's reply.
func (c *Conn) Hello3() error {
	r, err := c.Do("HELLO", "3")
	if err == nil && len(r) > 0 && r[0] == '-' {
		err = fmt.Errorf("HELLO 3: %s", r)
	}
	return err
}

// ReadReply reads one RESP2 or RESP3 reply and returns its raw bytes. An
// attribute (|) is returned together with the reply it precedes.
func ReadReply(rd *bufio.Reader) ([]byte, error) {
	var out []byte
	err := readReply(rd, &out)
	return out, err
}

func readReply(rd *bufio.Reader, out *[]byte) error {
	// ReadBytes, not ReadSlice: a line may be longer than the reader's
	// buffer (a 1MB error reply), and a ReadSlice line would alias the
	// buffer that the nested reads below overwrite.
	line, err := rd.ReadBytes('\n')
	if err != nil {
		return err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("malformed reply line %q", line)
	}
	*out = append(*out, line...)
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', ',', '#', '_', '(':
		return nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return err
		}
		*out = append(*out, buf...)
		return nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return fmt.Errorf("bad length in %q", line)
		}
		typ := line[0]
		if typ == '%' || typ == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := readReply(rd, out); err != nil {
				return err
			}
		}
		if typ == '|' {
			return readReply(rd, out)
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
}
