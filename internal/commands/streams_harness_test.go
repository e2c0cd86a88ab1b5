package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// This file is a minimal local differential harness: a Crescent server
// started in-process, a real redis-server started by the test, and a raw
// RESP client that returns each reply's exact bytes and a parsed tree.

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedis starts a real redis-server on a free loopback port, or skips.
func startRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping differential test")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
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

// startCrescent runs a Crescent server in-process on a free port.
func startStreamsCrescent(t testing.TB) (*server.Server, string) {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--port", "0", "--bind", "127.0.0.1", "--save", ""}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s, s.Addr().String()
}

// startCrescentNoListen builds a server whose executor tests drive
// directly.
func startCrescentNoListen(t testing.TB) (*server.Server, *config.Config) {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--port", "0", "--save", ""}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// node is a parsed RESP reply.
type node struct {
	kind byte
	s    string
	kids []node
}

func (n node) String() string {
	if n.kids == nil && n.kind != '*' && n.kind != '%' && n.kind != '~' {
		return string(n.kind) + n.s
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = k.String()
	}
	return string(n.kind) + "[" + strings.Join(parts, " ") + "]"
}

type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, r: bufio.NewReader(c)}
}

func encode(args []string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

func (rc *rawConn) send(args []string) {
	rc.c.Write(encode(args))
}

func (rc *rawConn) do(t testing.TB, args ...string) (string, node) {
	t.Helper()
	rc.send(args)
	return rc.read(t)
}

func (rc *rawConn) read(t testing.TB) (string, node) {
	t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var raw strings.Builder
	n, err := readNode(rc.r, &raw)
	if err != nil {
		t.Fatalf("read reply: %v (so far %q)", err, raw.String())
	}
	return raw.String(), n
}

func readNode(r *bufio.Reader, raw *strings.Builder) (node, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return node{}, err
	}
	raw.WriteString(line)
	if len(line) < 3 {
		return node{}, fmt.Errorf("short line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+', '-', ':', '_', ',', '#', '(':
		return node{kind: kind, s: body}, nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return node{kind: kind, s: "nil"}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return node{}, err
		}
		raw.Write(buf)
		return node{kind: '$', s: string(buf[:n])}, nil
	case '*', '%', '~', '>', '|':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return node{kind: kind, s: "nil"}, nil
		}
		if kind == '%' || kind == '|' {
			n *= 2
		}
		out := node{kind: kind, kids: []node{}}
		for i := 0; i < n; i++ {
			k, err := readNode(r, raw)
			if err != nil {
				return node{}, err
			}
			out.kids = append(out.kids, k)
		}
		return out, nil
	}
	return node{}, fmt.Errorf("unknown reply type %q", line)
}

// maskTimes zeroes what depends on the clock or on internal layout:
// timestamps, idle times, radix-tree-nodes.
func maskTimes(n node) node {
	if n.kids == nil {
		if n.kind == ':' {
			if v, err := strconv.ParseInt(n.s, 10, 64); err == nil && v > 1e12 {
				n.s = "T"
			}
		}
		return n
	}
	kids := make([]node, len(n.kids))
	for i, k := range n.kids {
		kids[i] = maskTimes(k)
	}
	for i := 0; i+1 < len(kids); i++ {
		switch kids[i].s {
		case "idle", "seen-time", "radix-tree-nodes":
			if kids[i].kind == '$' && kids[i+1].kind == ':' {
				kids[i+1].s = "X"
			}
		}
	}
	// XPENDING extended rows: [id consumer idle count]
	if len(kids) == 4 && kids[0].kind == '$' && kids[1].kind == '$' && kids[2].kind == ':' && kids[3].kind == ':' && strings.Contains(kids[0].s, "-") {
		kids[2].s = "X"
	}
	n.kids = kids
	return n
}

// blockingSupported reports whether the server answers a blocking command
// once its timeout passes (the executor's blocking support may live on
// another branch).
func blockingSupported(t testing.TB, addr string) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(encode([]string{"XREAD", "BLOCK", "10", "STREAMS", "blocking-probe", "0"}))
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 16)
	if _, err := c.Read(buf); err != nil {
		t.Log("the executor does not serve blocked clients: skipping blocking cases")
		return false
	}
	return true
}
