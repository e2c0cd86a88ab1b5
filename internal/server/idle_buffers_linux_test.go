//go:build linux

package server_test

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// idleQbufFree waits until the CLIENT LIST line of the client named name
// shows qbuf-free=0 (its query buffer was freed), up to 6 s, and returns
// the last value seen.
func idleQbufFree(t *testing.T, obs *rawConn, name string) int64 {
	t.Helper()
	var free int64
	for deadline := time.Now().Add(6 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if free = clientFields(t, obs.mustDo("CLIENT", "LIST"), name)["qbuf-free"]; free == 0 {
			break
		}
	}
	return free
}

// TestIdleClientBuffers: a client idle for more than 2 s has its query
// buffer freed, as Redis 7.0's clientsCronResizeQueryBuffer does (CLIENT
// LIST qbuf-free=0 on both servers), and is served as before when it
// comes back: a pipeline, a command split across reads, a big argument.
// On the event loops the memory is really returned: 400 idle clients hold
// under 8 KiB each (36 KiB each before: a 16 KiB read buffer, a 16 KiB
// reply buffer and a goroutine waiting for CLIENT KILL).
func TestIdleClientBuffers(t *testing.T) {
	redisAddr := startRedis(t)
	addr, srv := startCrescent(t)
	for _, tc := range []struct{ name, addr string }{{"redis", redisAddr}, {"crescent", addr}} {
		t.Run(tc.name, func(t *testing.T) {
			obs := dialRaw(t, tc.addr)
			c := dialRaw(t, tc.addr)
			c.mustDo("CLIENT", "SETNAME", "sleeper")
			c.mustDo("SET", "k", "v")
			if free := idleQbufFree(t, obs, "sleeper"); free != 0 {
				t.Fatalf("qbuf-free=%d after more than 2 s idle, want 0", free)
			}
			// Redis: 1,800 bytes (its client struct); Crescent 2,048
			if mem := clientFields(t, obs.mustDo("CLIENT", "LIST"), "sleeper")["tot-mem"]; mem > 4096 {
				t.Fatalf("tot-mem=%d after the query buffer was freed, want at most 4096", mem)
			}
			// back from idleness: a pipeline, then a command in two pieces
			c.nc.Write([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhel"))
			if got := c.read(5*time.Second) + c.read(5*time.Second); got != "$1\r\nv\r\n+PONG\r\n" {
				t.Fatalf("pipeline after idleness: %q", got)
			}
			time.Sleep(50 * time.Millisecond)
			c.nc.Write([]byte("lo\r\n"))
			if got := c.read(5 * time.Second); got != "$5\r\nhello\r\n" {
				t.Fatalf("split command after idleness: %q", got)
			}
			big := strings.Repeat("b", 300000)
			c.mustDo("SET", "big", big)
			if got := c.mustDo("STRLEN", "big"); got != ":300000\r\n" {
				t.Fatalf("STRLEN big = %q", got)
			}
		})
	}
	// a subscriber (on a goroutine, in both event-loop modes) frees its
	// query buffer the same way, and still gets messages and runs commands
	for _, tc := range []struct{ name, addr string }{{"redis subscriber", redisAddr}, {"crescent subscriber", addr}} {
		t.Run(tc.name, func(t *testing.T) {
			obs := dialRaw(t, tc.addr)
			c := dialRaw(t, tc.addr)
			c.mustDo("CLIENT", "SETNAME", "listener")
			c.send("SUBSCRIBE", "news")
			c.read(5 * time.Second)
			if free := idleQbufFree(t, obs, "listener"); free != 0 {
				t.Fatalf("subscriber qbuf-free=%d after more than 2 s idle, want 0", free)
			}
			obs.mustDo("PUBLISH", "news", "hello")
			if got := c.read(5 * time.Second); got != "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n" {
				t.Fatalf("message after idleness: %q", got)
			}
			c.send("PING")
			if got := c.read(5 * time.Second); got != "*2\r\n$4\r\npong\r\n$0\r\n\r\n" {
				t.Fatalf("PING after idleness: %q", got)
			}
			// killed while it waits with its buffer released
			obs.mustDo("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub")
			c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.nc.Read(make([]byte, 16)); err == nil {
				t.Fatalf("killed subscriber: read %d bytes, no hang-up", n)
			}
		})
	}
	t.Run("memory", func(t *testing.T) {
		const n = 400
		before := srv.IdleReleases()
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		conns := make([]net.Conn, n)
		for i := range conns {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write([]byte(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$5\r\nk%04d\r\n$1\r\nv\r\n", i)))
			conns[i] = nc
		}
		buf := make([]byte, 5)
		for _, nc := range conns {
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := nc.Read(buf); err != nil || string(buf) != "+OK\r\n" {
				t.Fatalf("SET: %q %v", buf, err)
			}
		}
		if srv.LoopConns() == 0 {
			t.Skip("connections on goroutines (event-loop no)")
		}
		for deadline := time.Now().Add(6 * time.Second); srv.IdleReleases()-before < n && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		if got := srv.IdleReleases() - before; got < n {
			t.Fatalf("%d of %d idle connections released their read buffers", got, n)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		per := (int64(ms1.HeapAlloc+ms1.StackInuse) - int64(ms0.HeapAlloc+ms0.StackInuse)) / n
		t.Logf("heap and stacks per idle connection (server and client side): %d bytes", per)
		if per > 8<<10 {
			t.Fatalf("%d bytes per idle connection, want under 8 KiB", per)
		}
	})
}

// TestClientListFD: CLIENT LIST shows the client's socket descriptor (it
// showed fd=0 for every client), on an event loop and after a blocking
// command moved the connection to a goroutine.
func TestClientListFD(t *testing.T) {
	addr, _ := startCrescent(t)
	c := dialRaw(t, addr)
	c.mustDo("CLIENT", "SETNAME", "fdcheck")
	check := func(when string) {
		t.Helper()
		fd := clientFields(t, c.mustDo("CLIENT", "LIST"), "fdcheck")["fd"]
		link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if fd <= 0 || err != nil || !strings.HasPrefix(link, "socket:") {
			t.Fatalf("%s: fd=%d (%q, %v), want the socket's descriptor", when, fd, link, err)
		}
	}
	check("on a loop")
	c.mustDo("BLPOP", "nolist", "0.01")
	check("after BLPOP")
}
