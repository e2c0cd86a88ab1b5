package exec

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

func newTestExecutor(t testing.TB) *Executor {
	t.Helper()
	tab, err := command.NewTable()
	if err != nil {
		t.Fatal(err)
	}
	e := New(tab, keyspace.New(4, keyspace.Hooks{}))
	e.Clock = func() int64 { return 1000 }
	return e
}

func (e *Executor) testCtx(cl *command.Client, w *resp.Writer, args ...string) *command.Ctx {
	a := make([][]byte, len(args))
	for i, s := range args {
		a[i] = []byte(s)
	}
	var c command.Ctx
	e.NewCtx(&c, cl, nil, a, w, e.Clock())
	return &c
}

// execEmpty runs MULTI + EXEC with nothing queued and returns the reply.
func execEmpty(e *Executor, cl *command.Client) string {
	w := resp.NewWriter()
	e.Multi(e.testCtx(cl, w, "MULTI"))
	w.Reset()
	e.Exec(e.testCtx(cl, w, "EXEC"))
	return string(w.Buf)
}

func TestWatchSignals(t *testing.T) {
	const ok, failed = "*0\r\n", "*-1\r\n"
	tests := []struct {
		name  string
		setup func(db keyspace.DB) // before WATCH k in db 0
		act   func(e *Executor)
		want  string
	}{
		{"untouched", nil, func(e *Executor) {}, ok},
		{"touched", nil, func(e *Executor) { e.Touched(0, []byte("k")) }, failed},
		{"other db", nil, func(e *Executor) { e.Touched(1, []byte("k")) }, ok},
		{"other key", nil, func(e *Executor) { e.Touched(0, []byte("k2")) }, ok},
		{"flushdb missing key", nil, func(e *Executor) { e.TouchAllWatched(0, -1) }, ok},
		{"flushdb existing key", func(db keyspace.DB) { db.Set([]byte("k"), []byte("v"), 0) },
			func(e *Executor) { e.TouchAllWatched(0, -1) }, failed},
		{"swapdb key appears", nil, func(e *Executor) {
			e.Store.DB(1, 0).Set([]byte("k"), []byte("v"), 0)
			e.TouchAllWatched(0, 1)
		}, failed},
		{"expired since watch", func(db keyspace.DB) { db.Set([]byte("k"), []byte("v"), 1500) },
			func(e *Executor) { e.Clock = func() int64 { return 2000 } }, failed},
		{"expired at watch, deleted", func(db keyspace.DB) { db.Set([]byte("k"), []byte("v"), 500) },
			func(e *Executor) {
				e.Store.DB(0, 1000).Delete([]byte("k")) // the expired key goes away
				e.KeyExpired(0, "k", nil, nil)
			}, ok},
		{"expired at watch, rewritten", func(db keyspace.DB) { db.Set([]byte("k"), []byte("v"), 500) },
			func(e *Executor) {
				e.Store.DB(0, 0).Set([]byte("k"), []byte("new"), 0)
				e.Touched(0, []byte("k"))
			}, failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestExecutor(t)
			if tt.setup != nil {
				tt.setup(e.Store.DB(0, 0))
			}
			cl := command.NewClient(1)
			w := resp.NewWriter()
			e.Watch(e.testCtx(cl, w, "WATCH", "k"))
			tt.act(e)
			if got := execEmpty(e, cl); got != tt.want {
				t.Fatalf("EXEC = %q, want %q", got, tt.want)
			}
			if n := e.watches.n.Load(); n != 0 {
				t.Fatalf("%d registrations left after EXEC", n)
			}
		})
	}
}

func TestUnitPropagation(t *testing.T) {
	e := newTestExecutor(t)
	var calls [][][][]byte
	var dbs []int
	e.Propagate = func(db int, cmds [][][]byte) { dbs = append(dbs, db); calls = append(calls, cmds) }
	var u Unit
	e.PropagateUnit(&u, nil)
	if len(calls) != 0 {
		t.Fatal("empty unit propagated")
	}
	u.Add(2, [][][]byte{{[]byte("SET"), []byte("a"), []byte("1")}})
	u.Add(0, [][][]byte{{[]byte("DEL"), []byte("a")}})
	e.PropagateUnit(&u, nil)
	// ends in database 0: the next unit selects again if it needs to
	want := []string{"MULTI", "SET", "SELECT", "DEL", "EXEC"}
	if len(calls) != 1 || dbs[0] != 2 || len(calls[0]) != len(want) {
		t.Fatalf("calls %q dbs %v", calls, dbs)
	}
	for i, w := range want {
		if string(calls[0][i][0]) != w {
			t.Fatalf("cmd %d = %q, want %s", i, calls[0][i], w)
		}
	}
}

func BenchmarkTouchedNoWatchers(b *testing.B) {
	e := newTestExecutor(b)
	key := []byte("some:key")
	b.ReportAllocs()
	for b.Loop() {
		e.Touched(0, key)
	}
}

func BenchmarkTouchedWithWatchers(b *testing.B) {
	e := newTestExecutor(b)
	cl := command.NewClient(1)
	e.Watch(e.testCtx(cl, resp.NewWriter(), "WATCH", "other"))
	key := []byte("some:key")
	b.ReportAllocs()
	for b.Loop() {
		e.Touched(0, key)
	}
}
