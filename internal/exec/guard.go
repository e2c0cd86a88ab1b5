package exec

import "github.com/crescent-db/crescent/internal/command"

// A replica's checks. Executor.Guard is 0 on a master, so that Execute
// pays one atomic load for them; a replica sets its bits.
const (
	// GuardReadOnly: a replica with replica-read-only yes. Clients'
	// write commands get ErrReadOnlyReplica; its master's do not.
	GuardReadOnly = 1 << iota
	// GuardLoading: a replica loads its master's snapshot. Commands
	// without the loading flag get ErrLoading.
	GuardLoading
	// GuardMasterDown: a replica whose link is down, with
	// replica-serve-stale-data no. Commands without the stale flag get
	// ErrMasterDown.
	GuardMasterDown
)

// Replica errors (Redis 7.0 texts).
const (
	ErrReadOnlyReplica = "READONLY You can't write against a read only replica."
	ErrLoading         = "LOADING Redis is loading the dataset in memory"
	ErrMasterDown      = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
)

// guard checks spec from cl against the replica states g (Guard), in
// Redis's processCommand order.
func (e *Executor) guard(g uint32, cl *command.Client, spec *command.Spec) string {
	if cl.Flags&(command.ClientMaster|command.ClientLoading) != 0 {
		return ""
	}
	if g&GuardReadOnly != 0 && spec.Has(command.FlagWrite) {
		return ErrReadOnlyReplica
	}
	if g&GuardMasterDown != 0 && !spec.Has(command.FlagStale) {
		return ErrMasterDown
	}
	if g&GuardLoading != 0 && !spec.Has(command.FlagLoading) {
		return ErrLoading
	}
	return ""
}

// SetGuard sets (on) or clears the bits of mask in Guard.
func (e *Executor) SetGuard(mask uint32, on bool) {
	if on {
		e.Guard.Or(mask)
	} else {
		e.Guard.And(^mask)
	}
}
