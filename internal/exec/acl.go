package exec

import (
	"github.com/crescent-db/crescent/internal/acl"
	"github.com/crescent-db/crescent/internal/command"
)

// UserOf returns the ACL user cl is authenticated as (the default user
// when none was set).
func (e *Executor) UserOf(cl *command.Client) *acl.User {
	if u, ok := cl.ACLUser.(*acl.User); ok && u != nil {
		return u
	}
	return e.ACL.Default()
}

// CheckACL checks that cl's user may run spec with args. It returns "" when
// allowed, else the NOPERM error reply Redis 7.0 sends, after recording the
// denial in the ACL log (context "multi" inside MULTI, "lua" when cl has
// ClientScript set, else "toplevel").
//
// Every path that runs a command must call it: Execute does for client
// commands; EXEC for queued commands; scripts should call CheckACLScript
// (which words the error as Redis does inside scripts) with a client that
// carries the caller's ACLUser.
func (e *Executor) CheckACL(cl *command.Client, spec *command.Spec, args [][]byte) string {
	if e.ACL == nil {
		return ""
	}
	u := e.UserOf(cl)
	res, pos := e.ACL.Check(u, spec, args)
	if res == acl.OK {
		return "" // the common case: no context to name, nothing to log
	}
	if cl.Flags&command.ClientMaster != 0 {
		return "" // a replica obeys its master
	}
	ctx := "toplevel"
	if cl.Flags&command.ClientScript != 0 {
		ctx = "lua"
	} else if cl.Flags&command.ClientMulti != 0 {
		ctx = "multi"
	}
	e.logDenied(cl, u, spec, args, res, pos, ctx)
	switch res {
	case acl.OK:
		return ""
	case acl.DeniedCommand:
		return acl.ErrNoPermCommand(spec.Name)
	case acl.DeniedKey:
		return acl.ErrNoPermKey
	case acl.DeniedChannel:
		return acl.ErrNoPermChannel
	}
	_ = pos
	return "NOPERM no permission"
}

// CheckACLScript is CheckACL for redis.call/pcall and redis.acl_check_cmd:
// it logs with context "lua" and returns Redis's script error text
// (without "ERR ") or "".
func (e *Executor) CheckACLScript(cl *command.Client, spec *command.Spec, args [][]byte) string {
	return e.checkACLScript(cl, spec, args, nil)
}

// checkACLScript is CheckACLScript for a script's call; a denial's log
// entry waits in p when it is in partial mode (Commit adds it, an attempt
// stopped for a rerun drops it), but in a debugging session, which never
// reruns.
func (e *Executor) checkACLScript(cl *command.Client, spec *command.Spec, args [][]byte, p *partial) string {
	if e.ACL == nil {
		return ""
	}
	u := e.UserOf(cl)
	res, pos := e.ACL.Check(u, spec, args)
	if res != acl.OK {
		le := e.deniedEntry(cl, u, spec, args, res, pos, "lua")
		if p != nil && p.on && !p.whole {
			p.holdACL(le)
		} else {
			e.ACL.AddLog(le)
		}
	}
	switch res {
	case acl.OK:
		return ""
	case acl.DeniedCommand:
		return "The user executing the script can't run this command or subcommand"
	case acl.DeniedKey:
		return "The user executing the script can't access at least one of the keys mentioned in the command arguments"
	case acl.DeniedChannel:
		return "The user executing the script can't publish to the channel mentioned in the command"
	}
	return "The user executing the script is lacking the permissions for the command"
}

func (e *Executor) checkACL(cl *command.Client, spec *command.Spec, args [][]byte, ctx string) (acl.Reason, int) {
	u := e.UserOf(cl)
	res, pos := e.ACL.Check(u, spec, args)
	if res != acl.OK {
		e.logDenied(cl, u, spec, args, res, pos, ctx)
	}
	return res, pos
}

// logDenied records a denial in the ACL log.
func (e *Executor) logDenied(cl *command.Client, u *acl.User, spec *command.Spec, args [][]byte, res acl.Reason, pos int, ctx string) {
	e.ACL.AddLog(e.deniedEntry(cl, u, spec, args, res, pos, ctx))
}

// deniedEntry is the ACL log entry of a denial.
func (e *Executor) deniedEntry(cl *command.Client, u *acl.User, spec *command.Spec, args [][]byte, res acl.Reason, pos int, ctx string) acl.LogEntry {
	le := acl.LogEntry{Reason: res, Context: ctx, Username: u.Name(), Created: e.Now()}
	switch res {
	case acl.DeniedCommand:
		le.Object = spec.Name
	default:
		le.Object = string(args[pos])
	}
	if e.ClientInfo != nil {
		le.ClientInfo = e.ClientInfo(cl)
	}
	return le
}

// LogAuthFailure records a failed AUTH or HELLO AUTH in the ACL log.
func (e *Executor) LogAuthFailure(cl *command.Client, cmdName, user string) {
	if e.ACL == nil {
		return
	}
	ctx := "toplevel"
	if cl.Flags&command.ClientMulti != 0 {
		ctx = "multi"
	}
	le := acl.LogEntry{Reason: acl.DeniedAuth, Context: ctx, Object: cmdName, Username: user, Created: e.Now()}
	if e.ClientInfo != nil {
		le.ClientInfo = e.ClientInfo(cl)
	}
	e.ACL.AddLog(le)
}

// CheckACLExec re-checks a queued command at EXEC time, as Redis does in
// case the rules changed after it was queued. It returns "" when allowed,
// else the NOPERM reply, after logging the denial with context "multi".
func (e *Executor) CheckACLExec(cl *command.Client, spec *command.Spec, args [][]byte) string {
	if e.ACL == nil {
		return ""
	}
	res, _ := e.checkACL(cl, spec, args, "multi")
	var reason string
	switch res {
	case acl.OK:
		return ""
	case acl.DeniedCommand:
		reason = "no permission to execute the command or subcommand"
	case acl.DeniedKey:
		reason = "no permission to touch the specified keys"
	case acl.DeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	default:
		reason = "no permission"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. " +
		"This command is no longer allowed for the following reason: " + reason
}

// FullKeyRead reports whether cl's user may run spec with args with read
// access to every key, as SORT's BY and GET options require; clients that
// apply a master's stream or the AOF have no user and may.
func (e *Executor) FullKeyRead(cl *command.Client, spec *command.Spec, args [][]byte) bool {
	if e.ACL == nil || cl.Flags&(command.ClientMaster|command.ClientLoading) != 0 {
		return true
	}
	return e.ACL.UnrestrictedKeyRead(e.UserOf(cl), spec, args)
}
