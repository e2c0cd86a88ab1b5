package exec

import (
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// A replica's checks, and a master's min-replicas-to-write. Executor.Guard
// is 0 on a master without min-replicas-to-write, so that Execute pays one
// atomic load for them; the replication code sets its bits.
const (
	// GuardReadOnly: a replica with replica-read-only yes. Clients'
	// write commands get ErrReadOnlyReplica; its master's do not.
	GuardReadOnly = 1 << iota
	// GuardLoading: a replica loads its master's snapshot. Commands
	// without the loading flag get ErrLoading.
	GuardLoading
	// GuardMasterDown: a replica whose link is down, with
	// replica-serve-stale-data no. Commands without the stale flag get
	// ErrMasterDown; inside a script, ErrScriptStale.
	GuardMasterDown
	// GuardNoReplicas: a master with min-replicas-to-write and
	// min-replicas-max-lag set whose good replicas are fewer than
	// min-replicas-to-write. Write commands get ErrNoReplicas.
	GuardNoReplicas
	// GuardIgnoreMaxmemory: a replica with replica-ignore-maxmemory yes
	// (the default): nothing is evicted and no command is refused for
	// maxmemory (Redis's isSafeToPerformEvictions). No command check.
	GuardIgnoreMaxmemory
	// GuardAsyncLoading: a replica loads its master's snapshot beside
	// the data it serves (repl-diskless-load swapdb). Commands with the
	// no_async_loading flag get ErrLoading.
	GuardAsyncLoading
	// GuardTrackLimit: client tracking's table holds more keys than
	// tracking-table-max-keys. Before the next command (of any client),
	// TrackLimit evicts keys from it, as Redis's processCommand calls
	// trackingLimitUsedSlots. No command check.
	GuardTrackLimit
	// GuardDiskError: the server cannot persist (Redis's
	// writeCommandsDeniedByDiskError): the last background save failed
	// with stop-writes-on-bgsave-error yes and save points set, or an
	// AOF write or fsync failed and has not succeeded since. Write
	// commands and PING get the MISCONF error SetDiskError gave.
	GuardDiskError
)

// guardChecks are the Guard bits that refuse commands.
const guardChecks = GuardReadOnly | GuardLoading | GuardMasterDown | GuardNoReplicas | GuardAsyncLoading | GuardDiskError

// MISCONF errors (Redis 7.0 texts): ErrDiskRDB for a failed background
// save, ErrDiskAOFPrefix followed by the error's text for the AOF; before
// a script declaring flags runs, the script forms.
const (
	ErrDiskRDB             = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
	ErrDiskAOFPrefix       = "MISCONF Errors writing to the AOF file: "
	ErrScriptDiskRDB       = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
	ErrScriptDiskAOFPrefix = "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: "
)

// DiskError describes why writes are refused (GuardDiskError).
type DiskError struct {
	// AOF is the AOF's write error text (strerror's form); empty for a
	// failed background save.
	AOF string
}

// Message is the error a refused command gets.
func (d *DiskError) Message() string {
	if d.AOF != "" {
		return ErrDiskAOFPrefix + d.AOF
	}
	return ErrDiskRDB
}

// ScriptMessage is the error a script declaring flags without no-writes
// gets before it runs (Redis's scriptPrepareForRun).
func (d *DiskError) ScriptMessage() string {
	if d.AOF != "" {
		return ErrScriptDiskAOFPrefix + d.AOF
	}
	return ErrScriptDiskRDB
}

// SetDiskError sets the reason writes are refused, or clears it (nil),
// with GuardDiskError.
func (e *Executor) SetDiskError(d *DiskError) {
	e.diskErr.Store(d)
	e.SetGuard(GuardDiskError, d != nil)
}

// diskError is the current reason writes are refused; never nil while
// GuardDiskError is set.
func (e *Executor) diskError() *DiskError {
	if d := e.diskErr.Load(); d != nil {
		return d
	}
	return &DiskError{}
}

// ScriptDiskError is the error a script that may write gets before it
// runs while the server cannot persist, or "".
func (e *Executor) ScriptDiskError() string {
	if e.Guard.Load()&GuardDiskError == 0 {
		return ""
	}
	return e.diskError().ScriptMessage()
}

// Replica and replication errors (Redis 7.0 texts).
const (
	ErrReadOnlyReplica = "READONLY You can't write against a read only replica."
	ErrLoading         = "LOADING Redis is loading the dataset in memory"
	ErrMasterDown      = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	ErrNoReplicas      = "NOREPLICAS Not enough good replicas to write."
	// ErrScriptStale is redis.call's error for a command without the
	// stale flag while the link is down (replica-serve-stale-data no).
	ErrScriptStale = "ERR Can not execute the command on a stale replica"
	// ErrScriptNotStale refuses a script that declares flags without
	// allow-stale while the link is down (Redis's scriptPrepareForRun).
	ErrScriptNotStale = "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set"
	errExecAbortFor   = "EXECABORT Transaction discarded because of: "
)

// guard checks spec from cl against the states g (Guard), in Redis's
// processCommand order, with the flags Redis's getCommandFlags gives:
// a script's declared flags (ScriptFlags) for EVAL and FCALL, and for
// EXEC its queue's (write when one queued command writes, not stale or
// not loading when one is not).
func (e *Executor) guard(g uint32, cl *command.Client, spec *command.Spec, args [][]byte) string {
	if g&guardChecks == 0 {
		return ""
	}
	if cl.Flags&(command.ClientMaster|command.ClientLoading) != 0 {
		// the master's stream is obeyed, but a write this replica cannot
		// persist is MasterDiskError's to judge (Redis's processCommand)
		if g&GuardDiskError != 0 && cl.Flags&command.ClientMaster != 0 && e.MasterDiskError != nil {
			if write, _, _ := e.guardFlags(spec, args); write || spec.Name == "ping" {
				e.MasterDiskError(spec.Name == "ping")
			}
		}
		return ""
	}
	write, stale, loading := e.guardFlags(spec, args)
	isExec := spec.Lock == command.LockTx && cl.Flags&command.ClientMulti != 0
	if isExec {
		for _, q := range cl.Queue {
			qs, _ := e.Lookup(q)
			if qs == nil {
				continue
			}
			w, s, l := e.guardFlags(qs, q)
			write = write || w
			stale = stale && s
			loading = loading && l
		}
	}
	msg := ""
	switch {
	case g&GuardDiskError != 0 && (write || spec.Name == "ping"):
		msg = e.diskError().Message()
	case g&GuardNoReplicas != 0 && write:
		msg = ErrNoReplicas
	case g&GuardReadOnly != 0 && write:
		msg = ErrReadOnlyReplica
	case g&GuardMasterDown != 0 && !stale:
		msg = ErrMasterDown
	case g&GuardLoading != 0 && !loading:
		msg = ErrLoading
	case g&GuardAsyncLoading != 0 && spec.Has(command.FlagNoAsyncLoading):
		msg = ErrLoading
	}
	if msg != "" && isExec {
		msg = errExecAbortFor + msg
	}
	return msg
}

// guardFlags returns the write, stale and loading flags guard checks for
// spec called with args.
func (e *Executor) guardFlags(spec *command.Spec, args [][]byte) (write, stale, loading bool) {
	write, stale, loading = spec.Has(command.FlagWrite), spec.Has(command.FlagStale), spec.Has(command.FlagLoading)
	if spec.Lock == command.LockScript && e.ScriptFlags != nil {
		if f, ok := e.ScriptFlags(spec, args); ok {
			write, stale = f.Write, f.Stale
		}
	}
	return write, stale, loading
}

// rejectGuard answers a command guard refused: a rejected call, and for
// EXEC the end of the transaction (Redis's execCommandAbort).
func (e *Executor) rejectGuard(cl *command.Client, spec *command.Spec, args [][]byte, w *resp.Writer, msg string) {
	if spec.Lock == command.LockTx && cl.Flags&command.ClientMulti != 0 {
		e.Discard(cl)
	}
	e.rejectSpec(cl, spec, args, w, msg)
}

// SetGuard sets (on) or clears the bits of mask in Guard.
func (e *Executor) SetGuard(mask uint32, on bool) {
	if on {
		e.Guard.Or(mask)
	} else {
		e.Guard.And(^mask)
	}
}

// ScriptCmdFlags are the command flags a script's declared flags stand for
// (Redis's scriptFlagsToCmdFlags).
type ScriptCmdFlags struct {
	// Write: the script may write (no no-writes flag).
	Write bool
	// Stale: it may run on a stale replica (allow-stale).
	Stale bool
	// DenyOOM: it is refused over maxmemory (neither allow-oom nor
	// no-writes).
	DenyOOM bool
}
