package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// Minimal local differential harness (a shared one is being written in
// internal/difftest): start Crescent in-process and a real redis-server,
// send the same commands, compare raw RESP replies.

func startCrescent(t testing.TB, directives ...string) (string, *server.Server) {
	t.Helper()
	return startCrescentWith(t, nil, directives...)
}

// startCrescentWith runs setup on the server before it starts serving.
func startCrescentWith(t testing.TB, setup func(*server.Server), directives ...string) (string, *server.Server) {
	t.Helper()
	cfg := config.New()
	if err := cfg.Set("port", "0"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(directives); i += 2 {
		if err := cfg.Set(directives[i], directives[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	s, err := server.New(cfg, testLogger(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return s.Addr().String(), s
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping differential test")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--enable-debug-command", "yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

// rawConn sends commands and reads single raw RESP replies.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	rd *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, rd: bufio.NewReader(nc)}
}

func encodeCmd(args []string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

func (c *rawConn) send(args ...string) {
	c.t.Helper()
	if _, err := c.nc.Write(encodeCmd(args)); err != nil {
		c.t.Fatal(err)
	}
}

// read returns one raw reply, or "<timeout>" / "<eof>".
func (c *rawConn) read(timeout time.Duration) string {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	var b strings.Builder
	if err := readValue(c.rd, &b); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return b.String() + "<timeout>"
		}
		return b.String() + "<eof>"
	}
	return b.String()
}

func (c *rawConn) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	return c.read(2 * time.Second)
}

func readValue(rd *bufio.Reader, b *strings.Builder) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	b.WriteString(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(strings.TrimRight(line[1:], "\r\n"))
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return err
		}
		b.Write(buf)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := readValue(rd, b); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := readValue(rd, b); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return readValue(rd, b)
		}
	}
	return nil
}

// step is one action of a differential scenario.
type step struct {
	c      int           // connection index
	cmd    []string      // command to send (nil: only read)
	read   int           // replies to read (default 1 with a command, 0 without)
	ignore bool          // read but do not compare (HELLO: ids differ)
	sleep  time.Duration // pause before the step
	none   bool          // expect nothing to arrive within a short time
}

func cmd(c int, args ...string) step { return step{c: c, cmd: args} }
func cmdN(c, n int, args ...string) step {
	return step{c: c, cmd: args, read: n}
}
func recv(c, n int) step { return step{c: c, read: n} }

// runScript runs steps against addr and returns the transcript.
func runScript(t *testing.T, addr string, conns int, steps []step) []string {
	t.Helper()
	cs := make([]*rawConn, conns)
	for i := range cs {
		cs[i] = dialRaw(t, addr)
	}
	var out []string
	for i, s := range steps {
		if s.sleep > 0 {
			time.Sleep(s.sleep)
		}
		c := cs[s.c]
		n := s.read
		if s.cmd != nil {
			c.send(s.cmd...)
			if n == 0 {
				n = 1
			}
		}
		for j := 0; j < n; j++ {
			r := c.read(2 * time.Second)
			if s.ignore {
				r = "<ignored>"
			}
			out = append(out, fmt.Sprintf("#%d c%d %q -> %q", i, s.c, s.cmd, r))
		}
		if s.none {
			r := c.read(100 * time.Millisecond)
			out = append(out, fmt.Sprintf("#%d c%d (nothing) -> %q", i, s.c, r))
		}
	}
	return out
}

type scenario struct {
	name  string
	conns int
	steps []step
}

func runDiff(t *testing.T, scenarios []scenario) {
	t.Helper()
	redisAddr := startRedis(t)
	crAddr, _ := startCrescent(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			conns := sc.conns
			if conns == 0 {
				conns = 1
			}
			want := runScript(t, redisAddr, conns, sc.steps)
			got := runScript(t, crAddr, conns, sc.steps)
			for i := range want {
				if i >= len(got) || got[i] != want[i] {
					g := "<missing>"
					if i < len(got) {
						g = got[i]
					}
					t.Fatalf("reply %d differs\nredis:    %s\ncrescent: %s", i, want[i], g)
				}
			}
		})
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("CRESCENT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
