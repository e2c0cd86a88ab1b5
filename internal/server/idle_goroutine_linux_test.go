//go:build linux

package server_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
)

// idleClient is a client over any net.Conn (plain or TLS).
type idleClient struct {
	t  *testing.T
	nc net.Conn
	rd *bufio.Reader
}

func newIdleClient(t *testing.T, nc net.Conn) *idleClient {
	t.Cleanup(func() { nc.Close() })
	return &idleClient{t: t, nc: nc, rd: bufio.NewReader(nc)}
}

func (c *idleClient) write(b string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(b)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *idleClient) read() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := difftest.ReadReply(c.rd)
	if err != nil {
		c.t.Fatalf("read: %q %v", b, err)
	}
	return string(b)
}

func (c *idleClient) do(args ...string) string {
	c.t.Helper()
	c.write(string(difftest.EncodeStrings(args...)))
	return c.read()
}

// comeBack checks that a client whose buffers were released is served as
// before: a pipeline, a command split across two writes, a big argument.
func (c *idleClient) comeBack() {
	c.t.Helper()
	c.write("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhel")
	if got := c.read() + c.read(); got != "$1\r\nv\r\n+PONG\r\n" {
		c.t.Fatalf("pipeline after idleness: %q", got)
	}
	time.Sleep(50 * time.Millisecond)
	c.write("lo\r\n")
	if got := c.read(); got != "$5\r\nhello\r\n" {
		c.t.Fatalf("split command after idleness: %q", got)
	}
	if got := c.do("SET", "big", strings.Repeat("b", 300000)); got != "+OK\r\n" {
		c.t.Fatalf("SET big = %q", got)
	}
	if got := c.do("STRLEN", "big"); got != ":300000\r\n" {
		c.t.Fatalf("STRLEN big = %q", got)
	}
}

// waitReleased waits until the server counted want more idle releases
// than before, and CLIENT LIST shows qbuf-free=0 for the client name.
func waitReleased(t *testing.T, srv *server.Server, obs *rawConn, name string) {
	t.Helper()
	if free := idleQbufFree(t, obs, name); free != 0 {
		t.Fatalf("%s: qbuf-free=%d after more than 2 s idle, want 0", name, free)
	}
	if mem := clientFields(t, obs.mustDo("CLIENT", "LIST"), name)["tot-mem"]; mem > 4096 {
		t.Fatalf("%s: tot-mem=%d after the query buffer was freed, want at most 4096", name, mem)
	}
}

// killDuringWait kills the client name while it waits without a buffer
// and checks that its connection ends.
func killDuringWait(t *testing.T, obs *rawConn, c *idleClient, name string) {
	t.Helper()
	id := clientFields(t, obs.mustDo("CLIENT", "LIST"), name)["id"]
	if got := obs.mustDo("CLIENT", "KILL", "ID", strconv.FormatInt(id, 10)); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL ID %d = %q", id, got)
	}
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.nc.Read(make([]byte, 16)); err == nil {
		t.Fatalf("killed %s: read %d bytes, no hang-up", name, n)
	}
}

// TestIdleGoroutineBuffers: a connection served by its own goroutine (event-loop
// no, TLS, a client moved off the loops by a blocking command) releases
// its read and reply buffers after 2 s of idleness, as the loops' sweep
// does for theirs and Redis's cron does (qbuf-free=0; Redis shows the
// same: TestIdleClientBuffers), is served as before when it comes back,
// and can be killed while it waits. With timeout set, the idle release
// comes first and the client is still closed on time.
func TestIdleGoroutineBuffers(t *testing.T) {
	p := newPKI(t, "ca")
	tlsPort := freePort(t)
	addr, srv := startCrescent(t, p.tlsArgs(tlsPort, "port", strconv.Itoa(freePort(t)))...)
	noLoopAddr, noLoop := startCrescent(t, "event-loop", "no")
	tlsDial := func(t *testing.T) net.Conn {
		nc, err := tls.Dial("tcp", srv.TLSAddr().String(), clientTLS(p.pool, &p.clientPair))
		if err != nil {
			t.Fatal(err)
		}
		return nc
	}
	plainDial := func(addr string) func(t *testing.T) net.Conn {
		return func(t *testing.T) net.Conn {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			return nc
		}
	}
	for _, tc := range []struct {
		name string
		srv  *server.Server
		obs  string
		dial func(t *testing.T) net.Conn
		prep []string // a command that moves the client off the loops
	}{
		{"event-loop no", noLoop, noLoopAddr, plainDial(noLoopAddr), nil},
		{"tls", srv, addr, tlsDial, nil},
		{"moved off the loops", srv, addr, plainDial(addr), []string{"BLPOP", "nolist", "0.01"}},
		{"subscriber, event-loop no", noLoop, noLoopAddr, plainDial(noLoopAddr), []string{"SUBSCRIBE", "news"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := dialRaw(t, tc.obs)
			c := newIdleClient(t, tc.dial(t))
			c.do("CLIENT", "SETNAME", "sleeper")
			c.do("SET", "k", "v")
			loops := tc.srv.LoopConns()
			if tc.name == "moved off the loops" && loops == 0 {
				t.Skip("event loops off (CRESCENT_EVENT_LOOP=no): every client is on a goroutine")
			}
			if tc.prep != nil {
				c.do(tc.prep...)
			}
			if tc.name == "moved off the loops" && tc.srv.LoopConns() != loops-1 {
				t.Fatalf("LoopConns %d after BLPOP, want %d", tc.srv.LoopConns(), loops-1)
			}
			before := tc.srv.IdleReleases()
			waitReleased(t, tc.srv, obs, "sleeper")
			if got := tc.srv.IdleReleases() - before; got != 1 {
				t.Fatalf("%d idle releases, want 1", got)
			}
			if tc.prep != nil && tc.prep[0] == "SUBSCRIBE" {
				obs.mustDo("PUBLISH", "news", "hello")
				if got := c.read(); got != "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n" {
					t.Fatalf("message after idleness: %q", got)
				}
				if got := c.do("PING"); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
					t.Fatalf("PING after idleness: %q", got)
				}
			} else {
				c.comeBack()
			}
			waitReleased(t, tc.srv, obs, "sleeper") // again
			killDuringWait(t, obs, c, "sleeper")
		})
	}
	t.Run("timeout", func(t *testing.T) {
		addr, srv := startCrescent(t, "timeout", "4")
		obs := dialRaw(t, addr)
		c := newIdleClient(t, plainDial(addr)(t))
		c.do("CLIENT", "SETNAME", "sleeper")
		start := time.Now()
		c.do("SET", "k", "v")
		waitReleased(t, srv, obs, "sleeper")
		if d := time.Since(start); d >= 4*time.Second {
			t.Fatalf("released after %v, not before the 4 s timeout", d)
		}
		c.nc.SetReadDeadline(time.Now().Add(6 * time.Second))
		if n, err := c.nc.Read(make([]byte, 16)); err == nil {
			t.Fatalf("read %d bytes, want the timeout's hang-up", n)
		}
		if d := time.Since(start); d < 4*time.Second || d > 7*time.Second {
			t.Fatalf("closed after %v, want 4-7 s (timeout 4)", d)
		}
	})
}

// TestIdleGoroutineMemory measures the heap and stacks the server holds
// per idle connection on a goroutine once its buffers are released. The
// clients run in a child process (idleClientsMain), so that only the
// server's side is counted (a TLS client holds buffers of its own).
func TestIdleGoroutineMemory(t *testing.T) {
	p := newPKI(t, "ca")
	tlsPort := freePort(t)
	_, srv := startCrescent(t, p.tlsArgs(tlsPort, "port", strconv.Itoa(freePort(t)), "event-loop", "no")...)
	for _, tc := range []struct {
		name  string
		n     int
		addr  string
		limit int64
	}{
		// a goroutine's stack (8 KiB once a command ran) and the client
		// structures: 36 KiB more with the buffers kept
		{"plain", 400, srv.Addr().String(), 12 << 10},
		// crypto/tls keeps its record buffer, the client's certificate
		// and the cipher state (about 10 KiB): 33 KiB before
		{"tls", 200, srv.TLSAddr().String(), 24 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.IdleReleases()
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			stop := runIdleClients(t, tc.addr, tc.name == "tls", p, tc.n)
			defer stop()
			for deadline := time.Now().Add(8 * time.Second); srv.IdleReleases()-before < int64(tc.n) && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
			}
			if got := srv.IdleReleases() - before; got < int64(tc.n) {
				t.Fatalf("%d of %d idle connections released their read buffers", got, tc.n)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms1)
			per := (int64(ms1.HeapAlloc+ms1.StackInuse) - int64(ms0.HeapAlloc+ms0.StackInuse)) / int64(tc.n)
			t.Logf("%s: server heap and stacks per idle connection on a goroutine: %d bytes", tc.name, per)
			if raceEnabled {
				return // the race detector's allocations are larger
			}
			if per > tc.limit {
				t.Fatalf("%d bytes per idle connection, want under %d", per, tc.limit)
			}
		})
	}
}

// runIdleClients starts a child process (this test binary, running
// TestIdleClientsChild) that opens n connections to addr, runs one SET on
// each and keeps them open until stop is called.
func runIdleClients(t *testing.T, addr string, useTLS bool, p *pki, n int) (stop func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsChild$")
	cmd.Env = append(os.Environ(), "IDLE_CLIENTS_ADDR="+addr, "IDLE_CLIENTS_N="+strconv.Itoa(n))
	if useTLS {
		cmd.Env = append(cmd.Env, "IDLE_CLIENTS_CA="+p.ca, "IDLE_CLIENTS_CERT="+p.clientCrt, "IDLE_CLIENTS_KEY="+p.client)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		in.Close()
		cmd.Wait()
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line := sc.Text(); line == "ready" {
			return stop
		} else if strings.HasPrefix(line, "error") {
			stop()
			t.Fatalf("idle clients: %s", line)
		}
	}
	stop()
	t.Fatal("idle clients: no ready line")
	return nil
}

// TestIdleClientsChild is the child process of runIdleClients (skipped
// otherwise).
func TestIdleClientsChild(t *testing.T) {
	addr := os.Getenv("IDLE_CLIENTS_ADDR")
	if addr == "" {
		t.Skip("child process of TestIdleGoroutineMemory")
	}
	n, _ := strconv.Atoi(os.Getenv("IDLE_CLIENTS_N"))
	var tc *tls.Config
	if ca := os.Getenv("IDLE_CLIENTS_CA"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			fmt.Println("error", err)
			return
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		pair, err := tls.LoadX509KeyPair(os.Getenv("IDLE_CLIENTS_CERT"), os.Getenv("IDLE_CLIENTS_KEY"))
		if err != nil {
			fmt.Println("error", err)
			return
		}
		tc = clientTLS(pool, &pair)
	}
	conns := make([]net.Conn, n)
	for i := range conns {
		var nc net.Conn
		var err error
		if tc != nil {
			nc, err = tls.Dial("tcp", addr, tc)
		} else {
			nc, err = net.Dial("tcp", addr)
		}
		if err != nil {
			fmt.Println("error", err)
			return
		}
		defer nc.Close()
		nc.Write([]byte(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$5\r\nk%04d\r\n$1\r\nv\r\n", i)))
		conns[i] = nc
	}
	buf := make([]byte, 5)
	for _, nc := range conns {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "+OK\r\n" {
			fmt.Println("error SET:", string(buf), err)
			return
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
}
