package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
)

// The server tests' view of internal/difftest: start Crescent in-process
// and a real redis-server, send the same commands, compare raw RESP
// replies.

// startCrescent runs Crescent with directives given as name, value pairs
// ("tcp-keepalive", "60").
func startCrescent(t testing.TB, directives ...string) (string, *server.Server) {
	t.Helper()
	return startCrescentWith(t, nil, directives...)
}

// startCrescentWith runs setup on the server before it starts serving.
func startCrescentWith(t testing.TB, setup func(*server.Server), directives ...string) (string, *server.Server) {
	t.Helper()
	var args []string
	for i := 0; i+1 < len(directives); i += 2 {
		args = append(args, "--"+directives[i], directives[i+1])
	}
	s := difftest.ServeCrescent(t, difftest.NewCrescent(t, args...), setup)
	return s.Addr, s.Crescent
}

func freePort(t testing.TB) int {
	t.Helper()
	return difftest.FreePort(t)
}

func startRedis(t testing.TB, args ...string) string {
	t.Helper()
	return difftest.StartRedis(t, args...).Addr
}

func testLogger() *slog.Logger { return difftest.Logger() }

// rawConn sends commands and reads single raw RESP replies; tests write
// raw bytes to nc and read raw bytes from rd.
type rawConn struct {
	t  testing.TB
	dc *difftest.Conn
	nc net.Conn
	rd *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	dc := difftest.Connect(t, addr)
	return &rawConn{t: t, dc: dc, nc: dc.NetConn(), rd: dc.Reader()}
}

func encodeCmd(args []string) []byte { return difftest.EncodeStrings(args...) }

func (c *rawConn) send(args ...string) {
	c.t.Helper()
	if _, err := c.nc.Write(encodeCmd(args)); err != nil {
		c.t.Fatal(err)
	}
}

// read returns one raw reply, or "<timeout>" / "<eof>".
func (c *rawConn) read(timeout time.Duration) string {
	b, err := c.dc.ReadWithin(timeout)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return string(b) + "<timeout>"
		}
		return string(b) + "<eof>"
	}
	return string(b)
}

func (c *rawConn) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	return c.read(2 * time.Second)
}

// mustDo is do that fails the test when no whole reply comes within 5s.
func (c *rawConn) mustDo(args ...string) string {
	c.t.Helper()
	c.send(args...)
	b, err := c.dc.ReadWithin(5 * time.Second)
	if err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return string(b)
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

// waitEvalRunning waits until some client's current command, as CLIENT
// LIST (asked through c) shows it, is an EVAL: the script sent on another
// connection has started.
func waitEvalRunning(t *testing.T, c *rawConn) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// a generous read timeout: a reply read after do's 2 s would be
		// taken for the next command's, and no later one would match
		c.send("CLIENT", "LIST")
		r := c.read(20 * time.Second)
		if strings.HasSuffix(r, "<timeout>") || strings.HasSuffix(r, "<eof>") {
			t.Fatalf("CLIENT LIST while waiting for the script: %.300q", r)
		}
		if strings.Contains(r, "cmd=eval") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the script did not start: %.500q", r)
		}
		time.Sleep(time.Millisecond)
	}
}
