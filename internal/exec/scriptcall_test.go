package exec

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
)

// TestInitScriptCallReuse checks that a ScriptCall in caller-owned storage
// starts each script from its caller's state, whatever the previous
// script on the same storage (and script client) left behind.
func TestInitScriptCallReuse(t *testing.T) {
	e := newTestExecutor(t)
	var s ScriptCall
	client := command.NewClient(0)
	cases := []struct {
		callerDB int
		readOnly bool
		held     *Locks
		partial  bool
	}{
		{3, false, nil, false},
		{0, true, &Locks{Shared: true}, true},
		{5, false, &Locks{All: true}, false},
		{0, false, &Locks{Shared: true}, true},
	}
	for i, c := range cases {
		caller := command.NewClient(int64(100 + i))
		caller.DB = c.callerDB
		e.InitScriptCall(&s, caller, client, 1234, c.readOnly)
		if s.pooled {
			t.Fatalf("case %d: caller-owned storage marked pooled", i)
		}
		if client.DB != c.callerDB || client.Proto != 2 || client.Caller != caller || s.Caller != caller {
			t.Errorf("case %d: script client db %d proto %d caller %p, want db %d proto 2 caller %p",
				i, client.DB, client.Proto, client.Caller, c.callerDB, caller)
		}
		if s.Now != 1234 || s.ReadOnly != c.readOnly || s.Wrote() || s.Restarting() || s.Partial() {
			t.Errorf("case %d: now %d readOnly %v wrote %v restarting %v partial %v: state left from before",
				i, s.Now, s.ReadOnly, s.Wrote(), s.Restarting(), s.Partial())
		}
		if got := s.StartPartial(c.held, nil); got != c.partial {
			t.Errorf("case %d: StartPartial = %v, want %v", i, got, c.partial)
		}
		// leave state behind for the next case
		s.SetResp(3)
		client.DB = 9
		s.wrote.Store(true)
		s.Finish()
		s.Release()
		if client.Caller != nil || s.Client != nil || s.Partial() {
			t.Errorf("case %d: Release left the caller or partial mode set", i)
		}
	}
}

// TestScriptCallResolve checks the command cache of redis.call against
// Table.Resolve: exact spellings, case variants, containers (not cached:
// the spec depends on the subcommand), unknown and long names, and more
// distinct names than the cache holds, each resolved several times.
func TestScriptCallResolve(t *testing.T) {
	e := newTestExecutor(t)
	serve(e.Table)
	var s ScriptCall
	names := [][]string{
		{"GET", "k"}, {"get", "k"}, {"GeT", "k"}, {"incr", "k"}, {"INCR", "k"},
		{"config", "get", "x"}, {"CONFIG", "set", "x", "y"}, {"config", "nosuch"}, {"config"},
		{"nosuchcommand"}, {"georadiusbymember_ro", "k", "m", "1", "km"}, {""},
		{"set", "k", "v"}, {"expire", "k", "1"}, {"rpush", "k", "v"}, {"decr", "k"},
	}
	for round := 0; round < 3; round++ {
		for _, n := range names {
			args := make([][]byte, len(n))
			for i, a := range n {
				args[i] = []byte(a)
			}
			wc, ws := e.Table.Resolve(args)
			if len(n[0]) > 0 && n[0] != "nosuchcommand" && wc == nil {
				t.Fatalf("%q is not served", n)
			}
			gc, gs := s.resolve(e.Table, args)
			if gc != wc || gs != ws {
				t.Errorf("round %d, %q: resolve = %v, %v; Table.Resolve = %v, %v", round, n, gc, gs, wc, ws)
			}
		}
	}
	// another table drops what the cache holds
	other := newTestExecutor(t)
	serve(other.Table)
	if c, _ := s.resolve(other.Table, [][]byte{[]byte("GET"), []byte("k")}); c == nil || c != other.Table.LookupString("get") {
		t.Errorf("a spec of the previous table served for another table")
	}
}

// TestStatCache checks statFor against StatFor: the same records while
// the record map stands (with more specs than the cache holds, and first
// calls that grow the map), fresh ones after ResetStats.
func TestStatCache(t *testing.T) {
	e := newTestExecutor(t)
	var c statCache
	var specs []*command.Spec
	for _, n := range []string{"get", "set", "incr", "decr", "expire", "rpush", "get", "set"} {
		s := e.Table.Find(n)
		if s == nil {
			t.Fatalf("no spec for %s", n)
		}
		specs = append(specs, s)
	}
	for round := 0; round < 3; round++ {
		for _, s := range specs {
			if got, want := e.statFor(&c, s), e.StatFor(s); got != want {
				t.Fatalf("round %d, %s: statFor %p, StatFor %p", round, s.Name, got, want)
			}
		}
		old := e.StatFor(specs[0])
		old.Calls.Add(1)
		e.ResetStats()
		got := e.statFor(&c, specs[0])
		if got == old || got != e.StatFor(specs[0]) || got.Calls.Load() != 0 {
			t.Fatalf("round %d: after ResetStats statFor gave the old record", round)
		}
	}
}

// serve attaches a no-op handler to the commands the tests above call.
func serve(t *command.Table) {
	for _, n := range []string{"get", "incr", "config|get", "config|set", "georadiusbymember_ro", "set", "expire", "rpush", "decr"} {
		t.Handle(n, func(*command.Ctx) {})
	}
}
