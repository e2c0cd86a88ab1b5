//go:build linux

package server_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/server"
)

// TestAdaptiveProcs runs the P-count governor on windows the test makes
// up: an idle server goes to one P, a busy one with CPU to spare gets its
// Ps back, the event loops serve plain, pipelined and script traffic at
// either count, CONFIG SET adaptive-procs no gives every P back and keeps
// them, and a stopped server leaves GOMAXPROCS as it found it.
func TestAdaptiveProcs(t *testing.T) {
	maxP := runtime.GOMAXPROCS(0)
	if maxP < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	t.Cleanup(func() { // registered first: runs after the server stopped
		if got := runtime.GOMAXPROCS(0); got != maxP {
			t.Errorf("GOMAXPROCS %d after the server stopped, want %d", got, maxP)
			runtime.GOMAXPROCS(maxP)
		}
	})
	var win atomic.Pointer[server.ProcWindow]
	set := func(busy, idle float64) { win.Store(&server.ProcWindow{Busy: busy, Idle: idle}) }
	set(0.01, float64(maxP)-0.1)
	addr, s := startCrescentWith(t, func(s *server.Server) {
		server.SetProcSource(s, func() (server.ProcWindow, bool) { return *win.Load(), true })
	}, "event-loop", "yes", "adaptive-procs", "yes")
	c := dialRaw(t, addr)
	expect := func(want string, args ...string) {
		t.Helper()
		if got := c.mustDo(args...); got != want {
			t.Fatalf("%q: %q, want %q", args, got, want)
		}
	}
	traffic := func(tag string) { // plain, pipelined and a script, on the loop
		t.Helper()
		expect("+OK\r\n", "SET", "k"+tag, tag)
		expect("$1\r\n"+tag+"\r\n", "GET", "k"+tag)
		var batch []byte
		for range 50 {
			batch = append(batch, encodeCmd([]string{"INCR", "n" + tag})...)
		}
		if _, err := c.nc.Write(batch); err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			if got, want := c.read(5*time.Second), fmt.Sprintf(":%d\r\n", i+1); got != want {
				t.Fatalf("INCR %d: %q", i+1, got)
			}
		}
		expect(":1\r\n", "EVAL", "return redis.call('EXISTS', KEYS[1])", "1", "k"+tag)
		// a subscriber is served on a goroutine of its own: the runtime
		// must still poll its socket
		sub := dialRaw(t, addr)
		defer sub.nc.Close()
		if got := sub.mustDo("SUBSCRIBE", "ch"+tag); !strings.Contains(got, "subscribe") {
			t.Fatalf("SUBSCRIBE: %q", got)
		}
		expect(":1\r\n", "PUBLISH", "ch"+tag, "m"+tag)
		if got := sub.read(time.Second); !strings.HasSuffix(got, "$2\r\nm"+tag+"\r\n") {
			t.Fatalf("message: %q", got)
		}
		if got := sub.mustDo("PING"); !strings.Contains(got, "pong") {
			t.Fatalf("PING while subscribed: %q", got)
		}
	}

	expect("+PONG\r\n", "PING")
	if server.LoopNetpoll(s) {
		t.Fatal("the workers wait in the netpoller with every P")
	}
	waitFor(t, "one P while idle", func() bool { return runtime.GOMAXPROCS(0) == 1 })
	if !server.LoopNetpoll(s) { // switched on before GOMAXPROCS goes down
		t.Fatal("one P, and the workers do not wait in the netpoller")
	}
	traffic("a")
	set(0.95, 1.0) // one busy P, a core to spare
	waitFor(t, "every P back under load, raw waits", func() bool {
		return runtime.GOMAXPROCS(0) == maxP && !server.LoopNetpoll(s)
	})
	traffic("b")
	set(0.8*float64(maxP), 0.1) // the Ps in use: stays
	time.Sleep(500 * time.Millisecond)
	if got := runtime.GOMAXPROCS(0); got != maxP {
		t.Fatalf("%d Ps after a busy window at %d Ps, want %d", got, maxP, maxP)
	}
	set(0.01, float64(maxP)-0.1)
	waitFor(t, "one P while idle again", func() bool { return runtime.GOMAXPROCS(0) == 1 })
	expect("+OK\r\n", "CONFIG", "SET", "adaptive-procs", "no")
	waitFor(t, "every P back with adaptive-procs no", func() bool { return runtime.GOMAXPROCS(0) == maxP })
	n := server.ProcChanges(s)
	time.Sleep(500 * time.Millisecond)
	if got := runtime.GOMAXPROCS(0); got != maxP || server.ProcChanges(s) != n {
		t.Fatalf("adaptive-procs no: GOMAXPROCS %d (want %d), %d changes after %d", got, maxP, server.ProcChanges(s), n)
	}
	traffic("c")
	expect("+OK\r\n", "CONFIG", "SET", "adaptive-procs", "yes")
	waitFor(t, "one P once adaptive again", func() bool { return runtime.GOMAXPROCS(0) == 1 })
}

// TestProcSampler reads the machine's statistics around a busy loop: the
// process used CPU, and the idle CPU is within what the machine has.
func TestProcSampler(t *testing.T) {
	w, wall, err := server.SampleProcs(20*time.Millisecond, func() {
		end := time.Now().Add(50 * time.Millisecond)
		x := 0
		for time.Now().Before(end) {
			x++
		}
		_ = x
	})
	if err != nil {
		t.Fatal(err)
	}
	if wall < 60*time.Millisecond {
		t.Fatalf("window %v, want >= 70ms", wall)
	}
	if w.Busy <= 0 || w.Busy > float64(runtime.NumCPU())+0.5 {
		t.Fatalf("busy %.2f cores, want > 0 and at most the machine", w.Busy)
	}
	if w.Idle < 0 || w.Idle > float64(runtime.NumCPU())+0.01 {
		t.Fatalf("idle %.2f cores, want within [0, %d]", w.Idle, runtime.NumCPU())
	}
}

// TestCPUIdle checks how a CPU's idle time over a window combines its
// cpuidle states' time (exact, without an idle period still going on)
// with /proc/stat's ticks (10 ms each, with it).
func TestCPUIdle(t *testing.T) {
	const wall = 20 * time.Millisecond
	tests := []struct {
		name   string
		states time.Duration
		ticks  uint64
		want   time.Duration
	}{
		{"busy", 0, 0, 0},
		{"short idle periods: the exact figure", 3 * time.Millisecond, 1, 3 * time.Millisecond},
		{"a tick's chance does not count", 1 * time.Millisecond, 1, 1 * time.Millisecond},
		{"asleep the whole window: the ticks less one", 0, 2, 10 * time.Millisecond},
		{"asleep since the middle", 4 * time.Millisecond, 3, 20 * time.Millisecond},
		{"never more than the window", 25 * time.Millisecond, 2, wall},
	}
	for _, tc := range tests {
		if got := server.CPUIdle(wall, tc.states, tc.ticks); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
