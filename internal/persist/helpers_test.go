package persist_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crescentBin is the binary built by TestMain for subprocess tests.
var crescentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crescent-persist-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	crescentBin = filepath.Join(dir, "crescent")
	build := exec.Command("go", "build", "-o", crescentBin, "github.com/crescent-db/crescent/cmd/crescent")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building crescent:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
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

// proc is a server started as a subprocess.
type proc struct {
	cmd  *exec.Cmd
	port int
	out  *bytes.Buffer
	done chan struct{}
}

func startProc(t testing.TB, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{port: freePort(t), out: &bytes.Buffer{}, done: make(chan struct{})}
	// a full sync starts at once, as in Redis's own test suite (args may
	// set the delay again)
	all := append([]string{"--port", strconv.Itoa(p.port), "--dir", dir, "--bind", "127.0.0.1",
		"--repl-diskless-sync-delay", "0"}, args...)
	p.cmd = exec.Command(bin, all...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(10 * time.Second)
	var last string // the last try's outcome, for the failure message
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited early: %s", filepath.Base(bin), p.out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", p.addr(), 2*time.Second)
		if err == nil {
			// ready once PING answers PONG (Redis answers LOADING first)
			c.SetDeadline(time.Now().Add(2 * time.Second))
			cl := &client{c: c, r: bufio.NewReader(c)}
			var r string
			r, err = cl.do("PING")
			c.Close()
			if r == "PONG" {
				return p
			}
			last = fmt.Sprintf("PING: %q, %v", r, err)
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not start on port %d (last try: %s): %s", bin, p.port, last, p.out.String())
	return nil
}

func (p *proc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
		<-p.done
	}
}

// wait waits for the process to exit by itself.
func (p *proc) wait(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit")
	}
}

func startCrescent(t testing.TB, dir string, args ...string) *proc {
	t.Helper()
	return startProc(t, crescentBin, dir, args...)
}

func startRedis(t testing.TB, dir string, args ...string) *proc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: skipping compatibility test")
	}
	return startProc(t, bin, dir, args...)
}

// client is a minimal RESP2 client.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, p *proc) *client {
	t.Helper()
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c: c, r: bufio.NewReader(c)}
}

func encode(args ...string) []byte {
	var b []byte
	b = append(b, fmt.Sprintf("*%d\r\n", len(args))...)
	for _, a := range args {
		b = append(b, fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)...)
	}
	return b
}

// do sends a command and returns its reply: bulk contents, "(nil)",
// "-ERR ..." for errors, integers and statuses as text, arrays as
// space-joined elements.
func (c *client) do(args ...string) (string, error) {
	if _, err := c.c.Write(encode(args...)); err != nil {
		return "", err
	}
	return c.read()
}

func (c *client) read() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return line, nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		var parts []string
		for i := 0; i < n; i++ {
			s, err := c.read()
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), nil
	}
	return "", fmt.Errorf("bad reply %q", line)
}

func (c *client) must(t testing.TB, args ...string) string {
	t.Helper()
	s, err := c.do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return s
}

func (c *client) expect(t testing.TB, want string, args ...string) {
	t.Helper()
	if got := c.must(t, args...); got != want {
		t.Fatalf("%v = %q, want %q", args, got, want)
	}
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
