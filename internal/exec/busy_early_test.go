package exec

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// clockScript is a BusyMonitor whose script started at start, BUSY after
// busy, running until ended. It turns slow slow after the first time it
// is asked: the command then surely comes before the script is slow,
// however late the test's goroutine runs.
type clockScript struct {
	start      time.Time
	slow, busy time.Duration
	asked      atomic.Int64 // first Slow call, Unix ns
	ended      atomic.Bool
}

func (m *clockScript) Running() bool { return !m.ended.Load() }
func (m *clockScript) Slow() bool {
	now := time.Now().UnixNano()
	m.asked.CompareAndSwap(0, now)
	return m.Running() && time.Duration(now-m.asked.Load()) >= m.slow
}
func (m *clockScript) BusyError() string {
	if m.Running() && time.Since(m.start) >= m.busy {
		return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	}
	return ""
}

// A command on a goroutine of its own (no event loop) that comes while a
// script holding its key has just started (not slow yet) gets BUSY past
// the threshold, as on an event loop and in Redis, instead of queueing on
// the key's lock until the script ends. With the script ending before
// the threshold, it runs once the lock is free.
func TestBusyEarlyCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		endAt   time.Duration // when the script ends (0: never, during the test)
		wantErr bool
	}{
		{"script runs on: BUSY", 0, true},
		{"script ends first: runs", 20 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestExecutor(t)
			e.Table.Handle("set", func(c *command.Ctx) { c.W.OK() })
			m := &clockScript{start: time.Now(), slow: time.Millisecond, busy: 100 * time.Millisecond}
			e.Busy = m
			held := &Locks{Shards: []int{e.Store.ShardOf([]byte("k"))}, Shared: true}
			e.Lock(held) // the script's key
			released := false
			release := func() {
				if !released {
					released = true
					m.ended.Store(true)
					e.Unlock(held)
				}
			}
			defer release()
			done := make(chan string, 1)
			go func() {
				w := resp.NewWriter()
				e.Execute(command.NewClient(7), [][]byte{[]byte("SET"), []byte("k"), []byte("v")}, w)
				done <- string(w.Buf)
			}()
			var got string
			if tc.endAt > 0 {
				time.Sleep(tc.endAt)
				release()
			}
			select {
			case got = <-done:
			case <-time.After(20 * time.Second):
				release() // let the command finish before failing
				<-done
				t.Fatal("the command waited for the script's lock past the busy threshold")
			}
			if isErr := strings.HasPrefix(got, "-BUSY"); isErr != tc.wantErr || !isErr && got != "+OK\r\n" {
				t.Fatalf("reply %q, want BUSY: %v", got, tc.wantErr)
			}
		})
	}
}
