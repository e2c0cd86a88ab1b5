package exec

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestStatCacheExact checks that the statistics record a client's frame
// remembers (frame.statOf) and the previous-command lookup shortcut
// (Spec.Repeats) keep commandstats exact: calls per command across
// command changes, CONFIG RESETSTAT, a new command's first call (which
// replaces the statistics map), wrong arities and unknown commands.
func TestStatCacheExact(t *testing.T) {
	e := newTestExecutor(t)
	for _, name := range []string{"get", "set", "incr", "del"} {
		e.Table.Handle(name, func(c *command.Ctx) { c.W.OK() })
	}
	cl := &command.Client{Authed: true}
	w := resp.NewWriter()
	run := func(args ...string) {
		a := make([][]byte, len(args))
		for i, s := range args {
			a[i] = []byte(s)
		}
		w.Reset()
		e.Execute(cl, a, w)
	}
	calls := func(name string) int64 {
		s := e.Table.LookupString(name)
		if s == nil {
			t.Fatalf("no command %s", name)
		}
		return e.StatFor(s).Calls.Load()
	}
	steps := []struct {
		do        func()
		get, set  int64
		incr, del int64
	}{
		{func() { run("GET", "a"); run("get", "b"); run("Get", "c") }, 3, 0, 0, 0},
		{func() { run("SET", "a", "1"); run("GET", "a") }, 4, 1, 0, 0},
		{func() { run("INCR", "n"); run("INCR", "n"); run("GET", "n") }, 5, 1, 2, 0},
		{func() { e.ResetStats(); run("GET", "a"); run("GET", "a") }, 2, 0, 0, 0},
		{func() { run("GET"); run("GET", "a", "b"); run("GETT", "a"); run("GET", "a") }, 3, 0, 0, 0},
		{func() { run("DEL", "a"); e.ResetStats(); run("DEL", "a") }, 0, 0, 0, 1},
		{func() { run("SET", "a", "1"); e.ResetStats(); run("SET", "a", "1"); run("SET", "b", "2") }, 0, 2, 0, 0},
	}
	for i, st := range steps {
		st.do()
		got := [4]int64{calls("get"), calls("set"), calls("incr"), calls("del")}
		if want := [4]int64{st.get, st.set, st.incr, st.del}; got != want {
			t.Fatalf("step %d: calls get/set/incr/del = %v, want %v", i, got, want)
		}
	}
	if string(w.Buf) != "+OK\r\n" {
		t.Fatalf("last reply %q", w.Buf)
	}
}
