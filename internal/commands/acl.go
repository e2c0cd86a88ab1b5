package commands

import (
	"fmt"
	"strings"

	"time"

	"github.com/crescent-db/crescent/internal/acl"
	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/pubsub"
)

// Errors of AUTH and ACL (Redis 7.0 texts).
const (
	ErrWrongPass   = "WRONGPASS invalid username-password pair or user is disabled."
	errAuthNoPass  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errNoACLFile   = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."
	errGenPassBits = "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
)

func (h *Handlers) registerACL() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("acl|setuser", h.aclSetUser, none)
	t.Handle("acl|getuser", h.aclGetUser, none)
	t.Handle("acl|deluser", h.aclDelUser, none)
	t.Handle("acl|list", h.aclList, none)
	t.Handle("acl|users", h.aclUsers, none)
	t.Handle("acl|whoami", h.aclWhoAmI, none)
	t.Handle("acl|cat", h.aclCat, none)
	t.Handle("acl|log", h.aclLog, none)
	t.Handle("acl|dryrun", h.aclDryRun, none)
	t.Handle("acl|genpass", h.aclGenPass, none)
	t.Handle("acl|save", h.aclSave, none)
	t.Handle("acl|load", h.aclLoad, none)
	t.Handle("acl|help", h.aclHelp, none)
}

// LoadACL applies the config file's user directives and the aclfile at
// startup. Both at once is an error, as in Redis.
func (h *Handlers) LoadACL() error {
	users := h.Config.Users()
	file := h.Config.Get("aclfile")
	if file != "" && len(users) > 0 {
		return fmt.Errorf("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.")
	}
	if err := h.ACL.LoadConfigUsers(users); err != nil {
		return fmt.Errorf("Critical error while loading ACLs: %w", err)
	}
	if file != "" {
		if _, err := h.ACL.LoadFile(file); err != nil {
			return fmt.Errorf("Aborting Redis startup because of ACL errors: %w", err)
		}
	}
	return nil
}

// authenticate checks credentials and, when valid, binds the client to
// the user; a failure is recorded in the ACL log.
func (h *Handlers) authenticate(c *command.Ctx, user, pass string) bool {
	u := h.ACL.Authenticate(user, pass)
	if u == nil {
		h.Exec.LogAuthFailure(c.Client, string(c.Args[0]), user)
		return false
	}
	c.Client.Authed = true
	c.Client.User = u.Name()
	c.Client.ACLUser = u
	return true
}

// setDefaultAuth binds cl to the default user, authenticated when it needs
// no password (new connections, RESET).
func (h *Handlers) setDefaultAuth(cl *command.Client) {
	cl.User = "default"
	cl.ACLUser = nil
	cl.Authed = !h.ACL.DefaultNeedsAuth()
}

// killUserClients disconnects the clients authenticated as one of users;
// the current client is closed after its reply.
func (h *Handlers) killUserClients(c *command.Ctx, users []*acl.User) {
	if len(users) == 0 {
		return
	}
	gone := map[*acl.User]bool{}
	for _, u := range users {
		gone[u] = true
	}
	for _, cl := range h.Server.ClientList() {
		u, _ := cl.ViewFrom(c.Client).ACLUser.(*acl.User)
		if u == nil || !gone[u] {
			continue
		}
		h.disconnect(c, cl)
	}
}

func (h *Handlers) aclSetUser(c *command.Ctx) {
	name := string(c.Args[2])
	ops := make([]string, len(c.Args)-3)
	for i, a := range c.Args[3:] {
		ops[i] = string(a)
	}
	// MONITOR and SLOWLOG show the user name and rules as "(redacted)",
	// as Redis's aclCommand redacts them before anything else
	for j := 2; j < len(c.Args); j++ {
		redact(c, j)
	}
	if !acl.ValidName(name) {
		c.Error("ERR Usernames can't contain spaces or null characters")
		return
	}
	u := h.ACL.Get(name)
	var old acl.Snapshot
	if u != nil {
		old = u.Snapshot()
	}
	if err := h.ACL.SetUser(name, ops); err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	if u != nil {
		h.killRevokedSubscribers(c, u, old)
	}
	c.W.OK()
}

// killRevokedSubscribers disconnects the clients of u subscribed to a
// channel, pattern or shard channel that u's rules, changed from old, no
// longer allow (Redis's ACLKillPubsubClientsIfNeeded). The current client
// is closed after its reply, as Redis 7.2 does (Redis 7.0.15 crashes when
// a subscriber revokes its own channels).
func (h *Handlers) killRevokedSubscribers(c *command.Ctx, u *acl.User, old acl.Snapshot) {
	allowed := h.ACL.ChannelsRevoked(u, old)
	if allowed == nil || h.PubSub == nil {
		return
	}
	isDefault := u == h.ACL.Default()
	for _, cl := range h.Server.ClientList() {
		v := cl.ViewFrom(c.Client)
		cu, _ := v.ACLUser.(*acl.User)
		if cu != u && !(cu == nil && isDefault && v.User == "default") {
			continue
		}
		if h.PubSub.Total(cl.ID) == 0 || h.subscriptionsAllowed(cl.ID, allowed) {
			continue
		}
		h.disconnect(c, cl)
	}
}

// subscriptionsAllowed reports whether every subscription of client id
// passes allowed: patterns first, then channels and shard channels, as
// Redis checks them.
func (h *Handlers) subscriptionsAllowed(id int64, allowed func(string, bool) bool) bool {
	for _, k := range []pubsub.Kind{pubsub.Pattern, pubsub.Channel, pubsub.Shard} {
		for _, name := range h.PubSub.Subscriptions(id, k) {
			if !allowed(name, k == pubsub.Pattern) {
				return false
			}
		}
	}
	return true
}

func (h *Handlers) aclGetUser(c *command.Ctx) {
	u := h.ACL.Get(string(c.Args[2]))
	if u == nil {
		c.W.Null()
		return
	}
	ui := h.ACL.Info(u)
	c.W.Map(6)
	c.W.BulkString("flags")
	c.W.Set(len(ui.Flags))
	for _, f := range ui.Flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("passwords")
	c.W.Array(len(ui.Passwords))
	for _, p := range ui.Passwords {
		c.W.BulkString(p)
	}
	writeSelectorInfo(c, ui.Root)
	c.W.BulkString("selectors")
	c.W.Array(len(ui.Selectors))
	for _, s := range ui.Selectors {
		c.W.Map(3)
		writeSelectorInfo(c, s)
	}
}

func writeSelectorInfo(c *command.Ctx, s acl.SelectorInfo) {
	c.W.BulkString("commands")
	c.W.BulkString(s.Commands)
	c.W.BulkString("keys")
	c.W.BulkString(s.Keys)
	c.W.BulkString("channels")
	c.W.BulkString(s.Channels)
}

func (h *Handlers) aclDelUser(c *command.Ctx) {
	names := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		if string(a) == "default" {
			c.Error("ERR The 'default' user cannot be removed")
			return
		}
		names = append(names, string(a))
	}
	deleted := h.ACL.DelUsers(names)
	h.killUserClients(c, deleted)
	c.W.Int(int64(len(deleted)))
}

func (h *Handlers) aclList(c *command.Ctx) {
	users := h.ACL.Users()
	c.W.Array(len(users))
	for _, u := range users {
		c.W.BulkString("user " + u.Name() + " " + h.ACL.Describe(u))
	}
}

func (h *Handlers) aclUsers(c *command.Ctx) {
	users := h.ACL.Users()
	c.W.Array(len(users))
	for _, u := range users {
		c.W.BulkString(u.Name())
	}
}

func (h *Handlers) aclWhoAmI(c *command.Ctx) { c.W.BulkString(h.Exec.UserOf(c.Client).Name()) }

func (h *Handlers) aclCat(c *command.Ctx) {
	if len(c.Args) == 2 {
		c.W.Array(len(acl.Categories))
		for _, cat := range acl.Categories {
			c.W.BulkString(cat)
		}
		return
	}
	if len(c.Args) > 3 {
		c.Error(subArityError(c, "ACL"))
		return
	}
	cat := acl.CategoryIndex(string(c.Args[2]))
	if cat < 0 {
		arg := c.Args[2]
		if len(arg) > 128 {
			arg = arg[:128]
		}
		c.Error(fmt.Sprintf("ERR Unknown category '%s'", arg))
		return
	}
	var names []string
	var walk func(specs []*command.Spec)
	walk = func(specs []*command.Spec) {
		for _, s := range specs {
			if s.HasCategory("@" + acl.Categories[cat]) {
				names = append(names, s.Name)
			}
			walk(s.Subs)
		}
	}
	walk(h.Table.Declared())
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func (h *Handlers) aclLog(c *command.Ctx) {
	count := 10
	if len(c.Args) > 3 {
		c.Error(subArityError(c, "ACL"))
		return
	}
	if len(c.Args) == 3 {
		if EqualFold(c.Args[2], "reset") {
			h.ACL.ResetLog()
			c.W.OK()
			return
		}
		n, ok := ParseInt(c.Args[2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		if n < 0 {
			n = 0
		}
		if n < 1<<30 {
			count = int(n)
		} else {
			count = 1 << 30
		}
	}
	entries := h.ACL.Log(count)
	now := time.Now().UnixMilli()
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Map(7)
		c.W.BulkString("count")
		c.W.Int(e.Count)
		c.W.BulkString("reason")
		c.W.BulkString(e.Reason.String())
		c.W.BulkString("context")
		c.W.BulkString(e.Context)
		c.W.BulkString("object")
		c.W.BulkString(e.Object)
		c.W.BulkString("username")
		c.W.BulkString(e.Username)
		c.W.BulkString("age-seconds")
		c.W.Double(float64(now-e.Created) / 1000)
		c.W.BulkString("client-info")
		c.W.BulkString(e.ClientInfo)
	}
}

func (h *Handlers) aclDryRun(c *command.Ctx) {
	u := h.ACL.Get(string(c.Args[2]))
	if u == nil {
		c.Error(fmt.Sprintf("ERR User '%s' not found", c.Args[2]))
		return
	}
	args := c.Args[3:]
	cmd, sub := h.resolveDeclared(args)
	if cmd == nil || sub == nil && len(args) >= 2 {
		c.Error(fmt.Sprintf("ERR Command '%s' not found", args[0]))
		return
	}
	if sub == nil {
		c.Error(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name))
		return
	}
	if !sub.CheckArity(len(args)) {
		c.Error(fmt.Sprintf("ERR wrong number of arguments for '%s' command", sub.Name))
		return
	}
	res, pos := h.ACL.Check(u, sub, args)
	switch res {
	case acl.OK:
		c.W.OK()
	case acl.DeniedCommand:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to run the '%s' command", sub.Name))
	case acl.DeniedKey:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' key", args[pos]))
	case acl.DeniedChannel:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' channel", args[pos]))
	}
}

func (h *Handlers) aclGenPass(c *command.Ctx) {
	bits := int64(256)
	if len(c.Args) > 3 {
		c.Error(subArityError(c, "ACL"))
		return
	}
	if len(c.Args) == 3 {
		n, ok := ParseInt(c.Args[2])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		c.Error(errGenPassBits)
		return
	}
	c.W.BulkString(acl.GenPass(int(bits)))
}

func (h *Handlers) aclSave(c *command.Ctx) {
	file := h.Config.Get("aclfile")
	if file == "" {
		c.Error(errNoACLFile)
		return
	}
	if err := h.ACL.SaveFile(file); err != nil {
		h.Log.Warn("ACL SAVE", "err", err)
		c.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.W.OK()
}

func (h *Handlers) aclLoad(c *command.Ctx) {
	file := h.Config.Get("aclfile")
	if file == "" {
		c.Error(errNoACLFile)
		return
	}
	old, err := h.ACL.LoadFile(file)
	if err != nil {
		c.Error("ERR " + err.Error())
		return
	}
	h.killUserClients(c, old)
	c.W.OK()
}

func (h *Handlers) aclHelp(c *command.Ctx) {
	lines := []string{
		"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
		"HELP",
		"    Prints this help.",
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}

// ProtectedModeMessage is the error Redis sends, then closes, to a
// non-loopback client in protected mode.
const ProtectedModeMessage = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// ProtectedModeDenied decides whether a new connection is refused by
// protected mode: protected-mode yes, the default user has no password
// (nopass), and the client is not local (loopback or unix socket).
func ProtectedModeDenied(protected, defaultNoPass, local bool) bool {
	return protected && defaultNoPass && !local
}

// resolveDeclared is Table.Resolve over every command Redis declares, served
// or not (ACL DRYRUN knows them all).
func (h *Handlers) resolveDeclared(args [][]byte) (cmd, sub *command.Spec) {
	name := strings.ToLower(string(args[0]))
	cmd = h.Table.Find(name)
	if cmd == nil || strings.Contains(name, "|") {
		return nil, nil
	}
	if len(cmd.Subs) == 0 {
		return cmd, cmd
	}
	if len(args) < 2 {
		return cmd, nil
	}
	return cmd, h.Table.Find(name + "|" + strings.ToLower(string(args[1])))
}
