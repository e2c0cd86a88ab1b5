package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// This file is a minimal local differential harness for the data type
// tests (sorted sets, bitmaps, HyperLogLog, geo, SORT): the same commands
// go to an in-process Crescent and to a real redis-server started by the
// test, and the raw replies are compared.

func dtFreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dtStartRedis starts redis-server on a free port and returns its address.
func dtStartRedis(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping differential test")
	}
	port := dtFreePort(t)
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "")
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return ""
}

// dtStartCrescent runs a Crescent server in-process on a free port.
func dtStartCrescent(t testing.TB) string {
	t.Helper()
	cfg := config.New()
	if err := cfg.Set("port", "0"); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return srv.Addr().String()
}

// dtConn is a raw RESP connection.
type dtConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dtDial(t testing.TB, addr string) *dtConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &dtConn{c: c, br: bufio.NewReader(c)}
}

// Do sends args and returns the raw reply.
func (d *dtConn) Do(args ...[]byte) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n", len(a))
		b.Write(a)
		b.WriteString("\r\n")
	}
	d.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.c.Write(b.Bytes()); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	err := dtReadReply(d.br, &out)
	return out.Bytes(), err
}

// DoLine splits line like redis-cli and sends it.
func (d *dtConn) DoLine(line string) ([]byte, error) {
	args, err := resp.SplitArgs([]byte(line), nil)
	if err != nil {
		return nil, err
	}
	return d.Do(args...)
}

func dtReadReply(br *bufio.Reader, out *bytes.Buffer) error {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return err
	}
	out.Write(line)
	if len(line) < 3 {
		return errors.New("short line")
	}
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '+', '-', ':', ',', '_', '#', '(':
		return nil
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		out.Write(buf)
		return nil
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := dtReadReply(br, out); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return dtReadReply(br, out)
		}
		return nil
	}
	return fmt.Errorf("bad reply type %q", line[0])
}

// dtPair holds connections to both servers with the same protocol.
type dtPair struct {
	t          testing.TB
	cres, real *dtConn
}

var dtKeys = []string{"k", "k1", "k2", "k3", "dst", "s", "str", "h", "l", "hll", "hll1", "hll2", "hll3", "geo", "geo2", "bm", "bm1", "bm2", "bm3", "{t}k", "{t}dst"}

// dtNewPair starts both servers and connects with protocol proto.
func dtNewPair(t testing.TB, proto int) *dtPair {
	t.Helper()
	p := &dtPair{t: t}
	p.real = dtDial(t, dtStartRedis(t))
	p.cres = dtDial(t, dtStartCrescent(t))
	if proto == 3 {
		p.both("HELLO 3")
	}
	return p
}

func (p *dtPair) both(line string) ([]byte, []byte) {
	p.t.Helper()
	a, err := p.cres.DoLine(line)
	if err != nil {
		p.t.Fatalf("crescent %q: %v", line, err)
	}
	b, err := p.real.DoLine(line)
	if err != nil {
		p.t.Fatalf("redis %q: %v", line, err)
	}
	return a, b
}

// reset deletes the keys the cases use.
func (p *dtPair) reset() {
	p.t.Helper()
	p.both("DEL " + strings.Join(dtKeys, " "))
}

// check runs each line on both servers and fails on the first difference.
func (p *dtPair) check(t *testing.T, lines []string) {
	t.Helper()
	for _, line := range lines {
		a, b := p.both(line)
		if !bytes.Equal(a, b) {
			t.Errorf("%s\n crescent: %q\n    redis: %q", line, a, b)
			return
		}
	}
}

// dtCase is a named sequence of commands.
type dtCase struct {
	name  string
	lines []string
}

// dtRun runs cases in RESP2 and RESP3.
func dtRun(t *testing.T, cases []dtCase) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			p := dtNewPair(t, proto)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					p.reset()
					p.check(t, tc.lines)
				})
			}
		})
	}
}
