package commands

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
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

// TestTrackingConcurrentCounts runs tracking clients (default, BCAST,
// one turning tracking off and on), writers, FLUSHALL and changes of
// tracking-table-max-keys at once (run it with -race), then checks the
// sharded table's counts against its contents.
func TestTrackingConcurrentCounts(t *testing.T) {
	h, e := newLockTestHandlers(t)
	const rounds = 300
	key := func(i int) string { return "k:" + strconv.Itoa(i%40) }
	workers := []func(cl *command.Client, i int) string{
		func(cl *command.Client, i int) string { // tracking reader
			if i == 0 {
				return "CLIENT TRACKING on"
			}
			return "MGET " + key(i) + " " + key(i*7)
		},
		func(cl *command.Client, i int) string { // BCAST client writing
			if i == 0 {
				return "CLIENT TRACKING on BCAST PREFIX k:1"
			}
			return "SET " + key(i*3) + " 1"
		},
		func(cl *command.Client, i int) string { // on and off
			switch i % 5 {
			case 0:
				return "CLIENT TRACKING on NOLOOP"
			case 4:
				return "CLIENT TRACKING off"
			}
			return "GET " + key(i*11)
		},
		func(cl *command.Client, i int) string { // writer
			if i%50 == 49 {
				return "FLUSHALL"
			}
			return "INCR " + key(i*5)
		},
		func(cl *command.Client, i int) string { // the limit
			switch i % 20 {
			case 0:
				return "CONFIG SET tracking-table-max-keys 5"
			case 10:
				return "CONFIG SET tracking-table-max-keys 0"
			}
			return "DEL " + key(i*13)
		},
	}
	var wg sync.WaitGroup
	for n, work := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := command.NewClient(int64(100 + n))
			cl.Proto = 3
			for i := range rounds {
				lockTestRun(t, e, cl, work(cl, i))
			}
		}()
	}
	wg.Wait()
	tr := &h.ops.tr
	var keys, items int
	for i := range tr.shards {
		sh := &tr.shards[i]
		sh.mu.Lock()
		if int(sh.n.Load()) != len(sh.keys) {
			t.Errorf("shard %d: n %d, %d keys", i, sh.n.Load(), len(sh.keys))
		}
		n := 0
		for _, m := range sh.keys {
			n += len(m)
		}
		if n != sh.items {
			t.Errorf("shard %d: items %d, counted %d", i, sh.items, n)
		}
		keys += len(sh.keys)
		items += n
		sh.mu.Unlock()
	}
	if got := tr.keys.Load(); got != int64(keys) {
		t.Errorf("keys %d, the shards hold %d", got, keys)
	}
	if got, want := tr.live.Load(), int64(keys)+int64(tr.n.Load()); got != want {
		t.Errorf("live %d, want %d", got, want)
	}
	if _, k, it, _ := h.TrackingStats(); k != keys || it != items {
		t.Errorf("TrackingStats: %d keys %d items, want %d %d", k, it, keys, items)
	}
}
