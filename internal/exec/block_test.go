package exec_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/commands"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

func args(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

// A push made by a command holding the whole keyspace (a script or EXEC)
// wakes blocked clients only once that command has finished.
func TestBlockedWokenAfterLockAllCommand(t *testing.T) {
	tab, err := command.NewTable()
	if err != nil {
		t.Fatal(err)
	}
	store := keyspace.New(16, keyspace.Hooks{})
	e := exec.New(tab, store)
	commands.New(commands.Deps{Config: config.New(), Store: store, Exec: e, Table: tab,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	// stand-in for EXEC: two pushes under LockAll, with a pause between
	inside := make(chan struct{})
	release := make(chan struct{})
	rpush := tab.LookupString("rpush")
	tab.Handle("exec", func(c *command.Ctx) {
		for i, v := range []string{"x", "y"} {
			var sub command.Ctx
			e.NewCtx(&sub, c.Client, rpush, args("RPUSH", "k", v), c.W, c.Now())
			e.Run(&sub)
			if i == 0 {
				close(inside)
				<-release
			}
		}
	}, command.WithLock(command.LockAll))

	waiter := command.NewClient(1)
	ww := resp.NewWriter()
	served := make(chan struct{})
	go func() {
		e.Execute(waiter, args("BLPOP", "k", "0"), ww)
		close(served)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for e.BlockedClients() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("waiter never blocked")
		}
		time.Sleep(time.Millisecond)
	}
	pusher := command.NewClient(2)
	pw := resp.NewWriter()
	execDone := make(chan struct{})
	go func() {
		e.Execute(pusher, args("EXEC"), pw)
		close(execDone)
	}()
	<-inside
	select {
	case <-served:
		t.Fatal("waiter served while the transaction was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-execDone
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not served after the transaction")
	}
	if got, want := string(ww.Buf), "*2\r\n$1\r\nk\r\n$1\r\nx\r\n"; got != want {
		t.Errorf("waiter got %q, want %q", got, want)
	}
	if e.BlockedClients() != 0 {
		t.Errorf("blocked_clients %d", e.BlockedClients())
	}
}

// Inside MULTI (and scripts) a blocking command answers as on timeout.
func TestBlockingInMultiDoesNotBlock(t *testing.T) {
	tab, _ := command.NewTable()
	store := keyspace.New(16, keyspace.Hooks{})
	e := exec.New(tab, store)
	commands.New(commands.Deps{Config: config.New(), Store: store, Exec: e, Table: tab,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cl := command.NewClient(1)
	for _, tc := range []struct{ cmd, want string }{
		{"BLPOP k 0", "*1\r\n*-1\r\n"},
		{"BLMPOP 0 1 k LEFT", "*1\r\n*-1\r\n"},
		{"BLMOVE k d LEFT LEFT 0", "*1\r\n$-1\r\n"},
		{"BRPOPLPUSH k d 0", "*1\r\n$-1\r\n"},
	} {
		w := resp.NewWriter()
		for _, cmd := range []string{"MULTI", tc.cmd} {
			a, _ := resp.SplitArgs([]byte(cmd), nil)
			e.Execute(cl, a, w)
		}
		w.Reset()
		e.Execute(cl, [][]byte{[]byte("EXEC")}, w)
		if string(w.Buf) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, w.Buf, tc.want)
		}
	}
}
