package exec

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
)

// TestGuard checks a replica's LOADING and READONLY checks: which client,
// which command, which state.
func TestGuard(t *testing.T) {
	e := newTestExecutor(t)
	normal := command.NewClient(1)
	master := command.NewClient(2)
	master.Flags |= command.ClientMaster
	aof := command.NewClient(3)
	aof.Flags |= command.ClientLoading
	for _, tc := range []struct {
		guard uint32
		cl    *command.Client
		cmd   string
		want  string
	}{
		{GuardReadOnly, normal, "set", ErrReadOnlyReplica},
		{GuardReadOnly, normal, "del", ErrReadOnlyReplica},
		{GuardReadOnly, normal, "get", ""},
		{GuardReadOnly, normal, "eval", ""}, // its writes are refused inside
		{GuardReadOnly, normal, "ping", ""},
		{GuardReadOnly, master, "set", ""},
		{GuardReadOnly, aof, "set", ""},
		{GuardLoading, normal, "get", ErrLoading},
		{GuardLoading, normal, "set", ErrLoading},
		{GuardLoading, normal, "info", ""},     // loading flag
		{GuardLoading, normal, "replconf", ""}, // loading flag
		{GuardLoading, master, "set", ""},
		{GuardLoading | GuardReadOnly, normal, "set", ErrReadOnlyReplica},
		{GuardLoading | GuardReadOnly, normal, "get", ErrLoading},
		{GuardLoading | GuardReadOnly, normal, "info", ""},
		{GuardMasterDown, normal, "get", ErrMasterDown},
		{GuardMasterDown, normal, "ping", ErrMasterDown},
		{GuardMasterDown, normal, "info", ""},      // stale flag
		{GuardMasterDown, normal, "replicaof", ""}, // stale flag
		{GuardMasterDown, master, "set", ""},
		{GuardMasterDown | GuardLoading, normal, "get", ErrMasterDown},
	} {
		if e.Table.LookupString(tc.cmd) == nil {
			e.Table.Handle(tc.cmd, func(*command.Ctx) {}) // the metadata's flags
		}
		spec := e.Table.LookupString(tc.cmd)
		if spec == nil {
			t.Fatalf("no command %s", tc.cmd)
		}
		if got := e.guard(tc.guard, tc.cl, spec); got != tc.want {
			t.Errorf("guard %b, client flags %b, %s: %q, want %q", tc.guard, tc.cl.Flags, tc.cmd, got, tc.want)
		}
	}
	e.SetGuard(GuardReadOnly|GuardLoading, true)
	e.SetGuard(GuardLoading, false)
	if g := e.Guard.Load(); g != GuardReadOnly {
		t.Fatalf("Guard = %b after setting both and clearing LOADING", g)
	}
}
