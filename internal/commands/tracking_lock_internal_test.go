package commands

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestTrackingNoGlobalLock checks that, while a client tracks keys,
// another client's commands on keys nobody tracks and under no BCAST
// prefix run without the tracker's process-wide lock (they ran while
// it is held), and that a write of a tracked key still takes it.
func TestTrackingNoGlobalLock(t *testing.T) {
	setups := []struct {
		name string
		cmds []string
	}{
		{"default", []string{"CLIENT TRACKING on", "GET cache:1", "MGET cache:2 cache:3 cache:4", "HGET cache:h f"}},
		{"bcast", []string{"CLIENT TRACKING on BCAST PREFIX cache: PREFIX user:"}},
		{"optin", []string{"CLIENT TRACKING on OPTIN", "CLIENT CACHING yes", "GET cache:1"}},
		{"stopped", []string{"CLIENT TRACKING on", "GET cache:1", "CLIENT TRACKING off"}},
	}
	cases := []struct {
		cmd   string
		block bool // takes the tracker's lock: writes a tracked key
	}{
		{"GET k:1", false},
		{"SET k:1 v", false},
		{"MSET k:2 a k:3 b k:4 c", false},
		{"INCR k:5", false},
		{"DEL k:2 k:3", false},
		{"EXPIRE k:4 100", false},
		{"MGET k:1 k:2 k:3", false},
		{"SET cache:1 v", true},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			h, e := newLockTestHandlers(t)
			tc := command.NewClient(100)
			tc.Proto = 3
			for _, c := range s.cmds {
				lockTestRun(t, e, tc, c)
			}
			cl := command.NewClient(200)
			for _, c := range cases {
				if c.block && s.name == "stopped" {
					continue // the key is forgotten: the write does not need the lock
				}
				done := make(chan struct{})
				h.ops.tr.mu.Lock()
				go func() {
					defer close(done)
					lockTestRun(t, e, cl, c.cmd)
				}()
				wait := 5 * time.Second
				if c.block {
					wait = 50 * time.Millisecond
				}
				select {
				case <-done:
					if c.block {
						t.Errorf("%s ran while the tracker's lock was held", c.cmd)
					}
				case <-time.After(wait):
					if !c.block {
						t.Errorf("%s waits for the tracker's lock", c.cmd)
					}
				}
				h.ops.tr.mu.Unlock()
				<-done
			}
		})
	}
}

func newLockTestHandlers(t *testing.T) (*Handlers, *exec.Executor) {
	tab, err := command.NewTable()
	if err != nil {
		t.Fatal(err)
	}
	store := keyspace.New(16, keyspace.Hooks{})
	e := exec.New(tab, store)
	h := New(Deps{Config: config.New(), Store: store, Exec: e, Table: tab,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return h, e
}

func lockTestRun(t *testing.T, e *exec.Executor, cl *command.Client, cmd string) {
	var args [][]byte
	for _, a := range strings.Fields(cmd) {
		args = append(args, []byte(a))
	}
	w := resp.NewWriter()
	e.Execute(cl, args, w)
	if len(w.Buf) > 0 && w.Buf[0] == '-' {
		t.Errorf("%s: %s", cmd, w.Buf)
	}
}
