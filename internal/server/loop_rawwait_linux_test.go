//go:build linux

package server_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/crescent-db/crescent/internal/server"
)

// inRawWait reports whether a thread of this process is blocked in
// epoll_pwait(2) on epfd with a timeout of msec milliseconds: a loop
// worker's raw wait (eventLoop.wait), as /proc/self/task/*/syscall shows
// it (number and arguments of the system call a thread is blocked in).
func inRawWait(t *testing.T, epfd, msec int) bool {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/syscall")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprint(unix.SYS_EPOLL_PWAIT), fmt.Sprintf("%#x", epfd), "", "", fmt.Sprintf("%#x", msec)}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) >= 5 && f[0] == want[0] && f[1] == want[1] && f[4] == want[4] {
			return true
		}
	}
	return false
}

// TestLoopRawWait checks the raw wait of the watching loop worker, which
// blocks in epoll_pwait(2) holding its P (eventLoop.wait), here with a
// 10 s timeout: a GC (which stops the world, so needs that P) finishes
// without waiting for the timeout, a request wakes the worker, and the
// server stops promptly. With GOMAXPROCS 1 there are no raw waits.
func TestLoopRawWait(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("raw waits need GOMAXPROCS >= 2")
	}
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("needs /proc")
	}
	const rawWait = 10 * time.Second
	addr, s := startCrescentWith(t, func(s *server.Server) { server.SetLoopRawWait(s, rawWait) }, "event-loop", "yes")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rd := bufio.NewReader(nc)
	ping := func() time.Duration {
		start := time.Now()
		fmt.Fprintf(nc, "PING\r\n")
		nc.SetReadDeadline(time.Now().Add(rawWait / 2))
		if line, err := rd.ReadString('\n'); err != nil || line != "+PONG\r\n" {
			t.Fatalf("PING: %q, %v", line, err)
		}
		return time.Since(start)
	}
	ping()
	waitFor(t, "the client on a loop", func() bool { return s.LoopConns() == 1 })
	epfd := server.LoopEpollFD(s)
	msec := int(rawWait / time.Millisecond)
	waitRaw := func() {
		waitFor(t, "a worker in a raw wait", func() bool { return inRawWait(t, epfd, msec) })
	}

	for i := 0; i < 3; i++ {
		waitRaw()
		start := time.Now()
		runtime.GC()
		if d := time.Since(start); d > rawWait/10 {
			t.Fatalf("GC took %v while a worker waited raw", d)
		}
	}
	for i := 0; i < 3; i++ {
		waitRaw()
		if d := ping(); d > rawWait/10 {
			t.Fatalf("PING took %v while a worker waited raw", d)
		}
	}

	waitRaw()
	start := time.Now()
	s.Shutdown()
	nc.SetReadDeadline(time.Now().Add(rawWait / 2))
	if _, err := rd.ReadByte(); err == nil {
		t.Fatal("a byte after shutdown")
	}
	if d := time.Since(start); d > rawWait/10 {
		t.Fatalf("the loops took %v to close the connection at shutdown", d)
	}
}
