package exec

import (
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
)

// TestGuard checks replication's checks (NOREPLICAS, READONLY,
// MASTERDOWN, LOADING): which client, which command (a script's declared
// flags, EXEC's queue), which state.
func TestGuard(t *testing.T) {
	e := newTestExecutor(t)
	e.Table.Handle("eval", func(*command.Ctx) {}, command.WithLock(command.LockScript))
	e.Table.Handle("exec", func(*command.Ctx) {}, command.WithLock(command.LockTx))
	// a script's flags as commands.scriptCmdFlags reports them: "w" writes,
	// "s" is allow-stale, "" is a script without flags
	e.ScriptFlags = func(spec *command.Spec, args [][]byte) (ScriptCmdFlags, bool) {
		if len(args) < 2 || len(args[1]) == 0 {
			return ScriptCmdFlags{}, false
		}
		f := string(args[1])
		return ScriptCmdFlags{Write: strings.Contains(f, "w"), Stale: strings.Contains(f, "s")}, true
	}
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
		args  []string   // after the command's name
		queue [][]string // EXEC's, when not nil
	}{
		{GuardReadOnly, normal, "set", ErrReadOnlyReplica, nil, nil},
		{GuardReadOnly, normal, "del", ErrReadOnlyReplica, nil, nil},
		{GuardReadOnly, normal, "get", "", nil, nil},
		{GuardReadOnly, normal, "eval", "", nil, nil}, // its writes are refused inside
		{GuardReadOnly, normal, "ping", "", nil, nil},
		{GuardReadOnly, master, "set", "", nil, nil},
		{GuardReadOnly, aof, "set", "", nil, nil},
		{GuardLoading, normal, "get", ErrLoading, nil, nil},
		{GuardLoading, normal, "set", ErrLoading, nil, nil},
		{GuardLoading, normal, "info", "", nil, nil},     // loading flag
		{GuardLoading, normal, "replconf", "", nil, nil}, // loading flag
		{GuardLoading, master, "set", "", nil, nil},
		{GuardLoading | GuardReadOnly, normal, "set", ErrReadOnlyReplica, nil, nil},
		{GuardLoading | GuardReadOnly, normal, "get", ErrLoading, nil, nil},
		{GuardLoading | GuardReadOnly, normal, "info", "", nil, nil},
		{GuardMasterDown, normal, "get", ErrMasterDown, nil, nil},
		{GuardMasterDown, normal, "ping", ErrMasterDown, nil, nil},
		{GuardMasterDown, normal, "info", "", nil, nil},      // stale flag
		{GuardMasterDown, normal, "replicaof", "", nil, nil}, // stale flag
		{GuardMasterDown, master, "set", "", nil, nil},
		{GuardMasterDown | GuardLoading, normal, "get", ErrMasterDown, nil, nil},
		{GuardMasterDown, normal, "eval", "", []string{""}, nil}, // refused when it runs
		{GuardMasterDown, normal, "eval", ErrMasterDown, []string{"w"}, nil},
		{GuardMasterDown, normal, "eval", ErrMasterDown, []string{"-"}, nil}, // no-writes
		{GuardMasterDown, normal, "eval", "", []string{"s"}, nil},
		{GuardMasterDown | GuardReadOnly, normal, "eval", ErrReadOnlyReplica, []string{"ws"}, nil},
		{GuardNoReplicas, normal, "set", ErrNoReplicas, nil, nil},
		{GuardNoReplicas, normal, "del", ErrNoReplicas, nil, nil},
		{GuardNoReplicas, normal, "get", "", nil, nil},
		{GuardNoReplicas, normal, "publish", "", nil, nil},
		{GuardNoReplicas, normal, "eval", "", []string{""}, nil}, // its writes are refused inside
		{GuardNoReplicas, normal, "eval", ErrNoReplicas, []string{"w"}, nil},
		{GuardNoReplicas, normal, "eval", "", []string{"-"}, nil},
		{GuardNoReplicas, aof, "set", "", nil, nil},
		{GuardIgnoreMaxmemory, normal, "set", "", nil, nil},
		// MISCONF: writes and PING, before NOREPLICAS and READONLY
		{GuardDiskError, normal, "set", ErrDiskRDB, nil, nil},
		{GuardDiskError, normal, "ping", ErrDiskRDB, nil, nil},
		{GuardDiskError, normal, "get", "", nil, nil},
		{GuardDiskError, normal, "publish", "", nil, nil},
		{GuardDiskError, master, "set", "", nil, nil},
		{GuardDiskError, aof, "set", "", nil, nil},
		{GuardDiskError | GuardNoReplicas | GuardReadOnly, normal, "set", ErrDiskRDB, nil, nil},
		{GuardDiskError, normal, "eval", "", []string{""}, nil}, // its writes are refused inside
		{GuardDiskError, normal, "eval", ErrDiskRDB, []string{"w"}, nil},
		{GuardDiskError, normal, "eval", "", []string{"-"}, nil},
		{GuardDiskError, normal, "exec", errExecAbortFor + ErrDiskRDB, nil, [][]string{{"set", "a", "1"}}},
		{GuardIgnoreMaxmemory | GuardNoReplicas, normal, "set", ErrNoReplicas, nil, nil},
		// EXEC: its queue's flags; outside MULTI, its own
		{GuardNoReplicas, normal, "exec", "", nil, [][]string{{"get", "a"}}},
		{GuardNoReplicas, normal, "exec", errExecAbortFor + ErrNoReplicas, nil, [][]string{{"get", "a"}, {"set", "a", "1"}}},
		{GuardNoReplicas, normal, "exec", errExecAbortFor + ErrNoReplicas, nil, [][]string{{"eval", "w", "0"}}},
		{GuardNoReplicas, normal, "exec", "", nil, [][]string{{"eval", "", "0"}}},
		{GuardNoReplicas, normal, "exec", "", nil, nil},
		{GuardMasterDown, normal, "exec", "", nil, [][]string{{"info"}, {"eval", "", "0"}}},
		{GuardMasterDown, normal, "exec", errExecAbortFor + ErrMasterDown, nil, [][]string{{"info"}, {"get", "a"}}},
		{GuardReadOnly, normal, "exec", errExecAbortFor + ErrReadOnlyReplica, nil, [][]string{{"set", "a", "1"}}},
		{GuardLoading, normal, "exec", errExecAbortFor + ErrLoading, nil, [][]string{{"info"}, {"get", "a"}}},
		{GuardLoading, normal, "exec", "", nil, [][]string{{"info"}}},
		{GuardAsyncLoading, normal, "get", "", nil, nil},
		{GuardAsyncLoading, normal, "set", "", nil, nil},
		{GuardAsyncLoading, normal, "replicaof", ErrLoading, nil, nil},
		{GuardAsyncLoading, normal, "bgsave", ErrLoading, nil, nil},
	} {
		if e.Table.LookupString(tc.cmd) == nil {
			e.Table.Handle(tc.cmd, func(*command.Ctx) {}) // the metadata's flags
		}
		spec := e.Table.LookupString(tc.cmd)
		if spec == nil {
			t.Fatalf("no command %s", tc.cmd)
		}
		args := [][]byte{[]byte(tc.cmd)}
		for _, a := range tc.args {
			args = append(args, []byte(a))
		}
		cl := tc.cl
		if tc.queue != nil {
			cl = command.NewClient(4)
			cl.Flags |= command.ClientMulti
			for _, q := range tc.queue {
				if e.Table.LookupString(q[0]) == nil {
					e.Table.Handle(q[0], func(*command.Ctx) {})
				}
				var qa [][]byte
				for _, a := range q {
					qa = append(qa, []byte(a))
				}
				cl.Queue = append(cl.Queue, qa)
			}
		}
		if got := e.guard(tc.guard, cl, spec, args); got != tc.want {
			t.Errorf("guard %b, client flags %b, %s %q (queue %q): %q, want %q", tc.guard, cl.Flags, tc.cmd, tc.args, tc.queue, got, tc.want)
		}
	}
	e.SetGuard(GuardReadOnly|GuardLoading, true)
	e.SetGuard(GuardLoading, false)
	if g := e.Guard.Load(); g != GuardReadOnly {
		t.Fatalf("Guard = %b after setting both and clearing LOADING", g)
	}
}

// TestDiskErrorMessages: a failed background save and an AOF write error
// give Redis's two MISCONF texts, for commands and for scripts declaring
// flags; clearing the state lifts the guard.
func TestDiskErrorMessages(t *testing.T) {
	e := newTestExecutor(t)
	cl := command.NewClient(1)
	if e.Table.LookupString("set") == nil {
		e.Table.Handle("set", func(*command.Ctx) {}) // the metadata's flags
	}
	set := e.Table.LookupString("set")
	check := func(wantCmd, wantScript string) {
		t.Helper()
		if got := e.guard(e.Guard.Load(), cl, set, nil); got != wantCmd {
			t.Errorf("guard: %q, want %q", got, wantCmd)
		}
		if got := e.ScriptDiskError(); got != wantScript {
			t.Errorf("ScriptDiskError: %q, want %q", got, wantScript)
		}
	}
	check("", "")
	e.SetDiskError(&DiskError{})
	check(ErrDiskRDB, ErrScriptDiskRDB)
	e.SetDiskError(&DiskError{AOF: "No space left on device"})
	check("MISCONF Errors writing to the AOF file: No space left on device",
		"MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: No space left on device")
	e.SetDiskError(nil)
	check("", "")
}
