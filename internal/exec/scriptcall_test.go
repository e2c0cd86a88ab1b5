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
			gc, gs := s.resolve(e.Table, args)
			if gc != wc || gs != ws {
				t.Errorf("round %d, %q: resolve = %v, %v; Table.Resolve = %v, %v", round, n, gc, gs, wc, ws)
			}
		}
	}
	// another table drops what the cache holds
	other := newTestExecutor(t)
	if c, _ := s.resolve(other.Table, [][]byte{[]byte("GET"), []byte("k")}); c != other.Table.LookupString("get") {
		t.Errorf("a spec of the previous table served for another table")
	}
}
