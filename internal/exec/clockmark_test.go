package exec

import (
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestClockMark: an event-loop client's command starts at the end of its
// previous command (Client.ClockMark) when it took its locks at once, and
// leaves its own end there; any other client's mark is ignored and
// cleared. The connection clears the mark when time may pass between
// commands (server tests).
func TestClockMark(t *testing.T) {
	e := newTestExecutor(t)
	e.Table.Handle("ping", func(c *command.Ctx) { c.W.Simple("PONG") })
	e.Table.Handle("get", func(c *command.Ctx) { c.W.Null() })
	hour := time.Hour
	for _, tc := range []struct {
		name     string
		noWait   bool
		mark     time.Duration // before now; 0: none
		args     []string
		minUsec  int64 // recorded duration bounds
		maxUsec  int64
		wantMark bool
	}{
		{"loop, no mark", true, 0, []string{"PING"}, 0, int64(time.Second / time.Microsecond), true},
		{"loop, mark used", true, hour, []string{"PING"}, int64(hour / time.Microsecond), int64(2 * hour / time.Microsecond), true},
		{"loop, keyed command", true, hour, []string{"GET", "k"}, int64(hour / time.Microsecond), int64(2 * hour / time.Microsecond), true},
		{"goroutine: mark ignored and cleared", false, hour, []string{"PING"}, 0, int64(time.Second / time.Microsecond), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.ResetStats()
			cl := command.NewClient(1)
			cl.NoWait = tc.noWait
			if tc.mark != 0 {
				cl.ClockMark = e.clock.read() - int64(tc.mark)
			}
			args := make([][]byte, len(tc.args))
			for i, a := range tc.args {
				args[i] = []byte(a)
			}
			w := resp.NewWriter()
			e.Execute(cl, args, w)
			spec, _ := e.Lookup(args)
			st := e.StatFor(spec)
			if n := st.Calls.Load(); n != 1 {
				t.Fatalf("calls = %d", n)
			}
			if u := st.Usec.Load(); u < tc.minUsec || u > tc.maxUsec {
				t.Errorf("usec = %d, want [%d, %d]", u, tc.minUsec, tc.maxUsec)
			}
			if got := cl.ClockMark != 0; got != tc.wantMark {
				t.Errorf("mark set = %v, want %v", got, tc.wantMark)
			}
			if tc.wantMark && e.clock.read()-cl.ClockMark > int64(time.Second) {
				t.Errorf("mark %v is not the command's end", cl.ClockMark)
			}
		})
	}
}

// TestExecuteScratchReused: a client's commands reuse its scratch frame.
func TestExecuteScratchReused(t *testing.T) {
	e := newTestExecutor(t)
	e.Table.Handle("ping", func(c *command.Ctx) { c.W.Simple("PONG") })
	cl := command.NewClient(1)
	w := resp.NewWriter()
	e.Execute(cl, [][]byte{[]byte("PING")}, w)
	f := cl.Scratch
	if f == nil {
		t.Fatal("no scratch frame after a command")
	}
	e.Execute(cl, [][]byte{[]byte("PING")}, w)
	if cl.Scratch != f {
		t.Error("the second command used another frame")
	}
	if string(w.Buf) != "+PONG\r\n+PONG\r\n" {
		t.Errorf("replies %q", w.Buf)
	}
}

// TestClockUnixMs: the executor's wall time follows the system clock.
func TestClockUnixMs(t *testing.T) {
	var k clock
	for i := 0; i < 3; i++ {
		before := time.Now().UnixMilli()
		got := k.unixMs(k.read())
		after := time.Now().UnixMilli()
		if got < before-1 || got > after+1 {
			t.Fatalf("unixMs = %d, want within [%d, %d]", got, before, after)
		}
		if r := k.read(); r <= 0 {
			t.Fatalf("read = %d, want > 0", r)
		}
		time.Sleep(60 * time.Millisecond) // past reanchor: a new anchor
	}
}

// TestCtxEnd: a handler that leaves its last clock read in Ctx.End (a
// script) has it taken as the command's end, on the same clock as Start;
// without it the executor reads the clock.
func TestCtxEnd(t *testing.T) {
	e := newTestExecutor(t)
	hour := int64(time.Hour)
	e.Table.Handle("ping", func(c *command.Ctx) {
		if string(c.Args[len(c.Args)-1]) == "late" {
			c.End = c.Start + hour
		}
		c.W.Simple("PONG")
	})
	for _, tc := range []struct {
		args             []string
		minUsec, maxUsec int64
	}{
		{[]string{"PING", "late"}, hour / 1000, hour/1000 + int64(time.Second/time.Microsecond)},
		{[]string{"PING"}, 0, int64(time.Second / time.Microsecond)},
	} {
		e.ResetStats()
		cl := command.NewClient(1)
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		e.Execute(cl, args, resp.NewWriter())
		spec, _ := e.Lookup(args)
		if u := e.StatFor(spec).Usec.Load(); u < tc.minUsec || u > tc.maxUsec {
			t.Errorf("%v: usec = %d, want [%d, %d]", tc.args, u, tc.minUsec, tc.maxUsec)
		}
	}
}
