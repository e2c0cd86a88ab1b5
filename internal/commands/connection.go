package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
)

// RedisVersion is the Redis version Crescent is compatible with.
const RedisVersion = "7.0.15"

func (h *Handlers) registerConnection() {
	t := h.Table
	none := command.WithLock(command.LockNone)
	t.Handle("ping", h.ping, none)
	t.Handle("echo", h.echo, none)
	t.Handle("quit", h.quit, none)
	t.Handle("reset", h.reset, none)
	t.Handle("select", h.selectDB, none)
	t.Handle("hello", h.hello, none)
	t.Handle("auth", h.auth, none)
	t.Handle("time", h.time, none)
	t.Handle("client|id", h.clientID, none)
	t.Handle("client|setname", h.clientSetName, none)
	t.Handle("client|getname", h.clientGetName, none)
	t.Handle("client|list", h.clientList, none)
	t.Handle("client|info", h.clientInfo, none)
	t.Handle("client|kill", h.clientKill, none)
	t.Handle("client|reply", h.clientReply, none)
	t.Handle("client|no-evict", h.clientNoEvict, none)
	t.Handle("client|unblock", h.clientUnblock, none)
	t.Handle("client|help", h.clientHelp, none)
}

func (h *Handlers) ping(c *command.Ctx) {
	if len(c.Args) > 2 {
		c.Error(exec.WrongArity("ping"))
		return
	}
	if c.Client.Flags&command.ClientPubSub != 0 && c.Client.Proto == 2 {
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Args) == 2 {
			c.W.Bulk(c.Args[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.Bulk(c.Args[1])
		return
	}
	c.W.Simple("PONG")
}

func (h *Handlers) echo(c *command.Ctx) { c.W.Bulk(c.Args[1]) }

func (h *Handlers) quit(c *command.Ctx) {
	c.W.OK()
	c.Client.Flags |= command.ClientCloseAfterReply
}

func (h *Handlers) reset(c *command.Ctx) {
	cl := c.Client
	cl.DB = 0
	cl.Proto = 2
	cl.Flags &^= command.ClientMulti | command.ClientDirtyCAS | command.ClientDirtyExec |
		command.ClientReplyOff | command.ClientReplySkip | command.ClientReplySkipNext | command.ClientNoEvict
	cl.Queue = nil
	cl.Watched = nil
	cl.SetName("")
	h.setDefaultAuth(cl)
	if h.OnReset != nil {
		h.OnReset(cl)
	}
	c.W.Simple("RESET")
}

func (h *Handlers) selectDB(c *command.Ctx) {
	n, ok := ParseInt(c.Args[1])
	if !ok {
		c.Error(ErrNotInt)
		return
	}
	if n < -1<<31 || n > 1<<31-1 {
		c.Error(errIntRange)
		return
	}
	if h.Cluster != nil && n != 0 {
		c.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	if n < 0 || n >= int64(h.Store.NumDBs()) {
		c.Error(ErrDBIndex)
		return
	}
	c.Client.DB = int(n)
	c.DB = h.Store.DB(int(n), c.DB.Now)
	c.W.OK()
}

func (h *Handlers) auth(c *command.Ctx) {
	if len(c.Args) > 3 {
		c.Error(ErrSyntax)
		return
	}
	user, pass := "default", string(c.Args[1])
	if len(c.Args) == 3 {
		user, pass = string(c.Args[1]), string(c.Args[2])
	}
	// MONITOR and SLOWLOG show the credentials as "(redacted)", as
	// Redis's authCommand redacts them (migrate.go).
	for j := 1; j < len(c.Args); j++ {
		redact(c, j)
	}
	if len(c.Args) == 2 && h.ACL.Default().NoPass() {
		c.Error(errAuthNoPass)
		return
	}
	if !h.authenticate(c, user, pass) {
		c.Error(ErrWrongPass)
		return
	}
	c.W.OK()
}

func (h *Handlers) hello(c *command.Ctx) {
	proto := c.Client.Proto
	i := 1
	if len(c.Args) >= 2 {
		v, ok := ParseInt(c.Args[1])
		if !ok {
			c.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Error("NOPROTO unsupported protocol version")
			return
		}
		proto = int(v)
		i = 2
	}
	for ; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		switch {
		case EqualFold(c.Args[i], "auth") && more >= 2:
			// as Redis 7.0's helloCommand: authenticated at once (an
			// option after it is not parsed if it fails), the
			// credentials redacted for MONITOR and SLOWLOG
			user, pass := string(c.Args[i+1]), string(c.Args[i+2])
			redact(c, i+1)
			redact(c, i+2)
			if !h.authenticate(c, user, pass) {
				c.Error(ErrWrongPass)
				return
			}
			i += 2
		case EqualFold(c.Args[i], "setname") && more >= 1:
			// as Redis 7.0: the name is set at once, before the options
			// after it are parsed and before the NOAUTH check (a chain
			// keeps the names set before a bad one)
			if !validClientName(c.Args[i+1]) {
				c.Error("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			c.Client.SetName(string(c.Args[i+1]))
			i++
		default:
			c.Error(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", c.Args[i]))
			return
		}
	}
	if !c.Client.Authed {
		c.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	c.Client.Proto = proto
	setProto(c.W, proto)
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(RedisVersion)
	c.W.BulkString("proto")
	c.W.Int(int64(proto))
	c.W.BulkString("id")
	c.W.Int(c.Client.ID)
	c.W.BulkString("mode")
	c.W.BulkString("standalone")
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

// setProto switches the reply encoding mid-batch when the writer supports it.
func setProto(w any, proto int) {
	if pw, ok := w.(interface{ SetProto(int) }); ok {
		pw.SetProto(proto)
	}
}

// time is TIME: the wall clock, with microseconds, also inside a script
// (Redis 7.0's timeCommand calls gettimeofday; only key expiry sees the
// script's frozen time), so a script can wait for time to pass.
func (h *Handlers) time(c *command.Ctx) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func (h *Handlers) clientID(c *command.Ctx) { c.W.Int(c.Client.ID) }

func (h *Handlers) clientSetName(c *command.Ctx) {
	if !validClientName(c.Args[2]) {
		c.Error("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.Client.SetName(string(c.Args[2]))
	c.W.OK()
}

func (h *Handlers) clientGetName(c *command.Ctx) {
	n := c.Client.Name()
	if n == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(n)
}

func (h *Handlers) clientSetInfo(c *command.Ctx) {
	c.Error(fmt.Sprintf("ERR unknown subcommand '%s'. Try CLIENT HELP.", c.Args[1]))
}

// clientInfoLine renders cl for the client from (CLIENT LIST, CLIENT
// INFO): cl's own state when from is cl, else what cl last published.
// self is the arguments of the command cl is running when the line is
// for cl itself, from its serving goroutine (its argv-mem, and it sees its
// own batch's replies and query buffer); nil otherwise.
func (h *Handlers) clientInfoLine(cl, from *command.Client, self [][]byte, now int64) string {
	v := h.viewFrom(cl, from)
	if v.Flags&command.ClientScript != 0 { // only ever its own CLIENT INFO
		return h.scriptClientLine(cl, v, now)
	}
	flags := ""
	if v.Flags&command.ClientReplica != 0 {
		flags += "S"
	}
	if v.Flags&command.ClientMaster != 0 {
		flags += "M"
	}
	if v.Flags&command.ClientMulti != 0 {
		flags += "x"
	}
	if v.Flags&command.ClientPubSub != 0 {
		flags += "P"
	}
	if h.Exec.IsBlocked(cl.ID) || h.pauseHeld(cl.ID) {
		flags += "b"
	}
	if v.Flags&command.ClientNoEvict != 0 {
		flags += "e"
	}
	if h.IsMonitor(cl) {
		flags += "O"
	}
	tflags, redir := h.TrackingFlags(cl) // client-side caching (tracking.go)
	flags += tflags
	if flags == "" {
		flags = "N"
	}
	multi := -1
	if v.Flags&command.ClientMulti != 0 {
		multi = v.Multi
	}
	m := h.Server.ClientMemory(cl.ID, self != nil)
	argv := int(m.Argv)
	for _, a := range self {
		argv += len(a)
	}
	last := "NULL"
	if spec := cl.LastCmd.Load(); spec != nil {
		last = spec.Name
	}
	sub, psub, ssub := 0, 0, 0
	if h.SubCounts != nil {
		sub, psub, ssub = h.SubCounts(cl)
	}
	// replies not written yet, as Redis's reply buffer (obl) and its
	// list of reply blocks (oll, omem) would hold them (the server's model)
	obl, oll, omem := m.Obl, m.Oll, m.Omem
	// the query buffer: the read buffer (16 KiB, none once an idle client
	// released it), or the size Redis allocates for a big argument (being
	// read, or kept after one)
	qfree := max(m.Cap-m.Qbuf, m.Room, m.Fat-m.Qbuf, 0)
	// the query buffer's allocation holds its bytes and the room for the
	// rest of a big argument (queryMemory in the server)
	total := m.Base + max(m.Cap, m.Qbuf+m.Room, m.Fat) + int64(argv) + m.Out
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=0 rbs=%d rbp=%d obl=%d oll=%d omem=%d tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d",
		cl.ID, cl.Addr, cl.LAddr, cl.FD.Load(), cl.Name(), (now-cl.Created)/1000, (now-cl.LastTime.Load())/1000,
		flags, v.DB, sub, psub, ssub, multi, m.Qbuf, qfree, argv, m.Rbs, m.Rbp, obl, oll, omem, total, last, v.User, redir, v.Proto)
}

// scriptClientLine is CLIENT INFO run by a script (with DEBUG
// SET-DISABLE-DENY-SCRIPTS): Redis's Lua or functions client, a fake
// client made at startup with no socket, no query buffer but an empty
// string (4 bytes free), an unused 16 KiB reply buffer and a fixed size.
func (h *Handlers) scriptClientLine(cl *command.Client, v command.ClientView, now int64) string {
	last := "NULL"
	if spec := cl.LastCmd.Load(); spec != nil {
		last = spec.Name
	}
	return fmt.Sprintf("id=%d addr=?:0 laddr=?:0 fd=-1 name=%s age=%d idle=%d flags=N db=%d sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=4 argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=17176 events= cmd=%s user=%s redir=-1 resp=%d",
		cl.ID, cl.Name(), (now-cl.Created)/1000, (now-cl.LastTime.Load())/1000, v.DB, last, v.User, v.Proto)
}

func (h *Handlers) clientList(c *command.Ctx) {
	var ids map[int64]bool
	typ := ""
	for i := 2; i < len(c.Args); i++ {
		switch {
		case EqualFold(c.Args[i], "type") && i+1 < len(c.Args):
			typ = strings.ToLower(string(c.Args[i+1]))
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "slave" && typ != "pubsub" {
				c.Error(fmt.Sprintf("ERR Unknown client type '%s'", c.Args[i+1]))
				return
			}
			i++
		case EqualFold(c.Args[i], "id") && i+1 < len(c.Args):
			ids = map[int64]bool{}
			for i++; i < len(c.Args); i++ {
				id, ok := ParseInt(c.Args[i])
				if !ok || id <= 0 {
					c.Error("ERR Invalid client ID")
					return
				}
				ids[id] = true
			}
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	now := time.Now().UnixMilli()
	var b strings.Builder
	clients := h.allClients()
	sortClients(clients)
	for _, cl := range clients {
		if ids != nil && !ids[cl.ID] {
			continue
		}
		if !clientOfType(h.viewFrom(cl, c.Client).Flags, typ) {
			continue
		}
		var self [][]byte
		if cl == c.Client {
			self = c.Args
		}
		b.WriteString(h.clientInfoLine(cl, c.Client, self, now))
		b.WriteByte('\n')
	}
	c.W.Verbatim("txt", b.String())
}

// allClients is the connections' clients and, on a replica, the client
// applying its master's stream (CLIENT LIST, CLIENT KILL). Clients already
// killed are left out, though their connections may not have closed yet:
// Redis frees another client at once (a second CLIENT KILL USER finds 0).
func (h *Handlers) allClients() []*command.Client {
	clients := h.Server.ClientList()
	live := clients[:0]
	for _, cl := range clients {
		if !cl.Killed() {
			live = append(live, cl)
		}
	}
	clients = live
	if h.Repl != nil {
		if mc := h.Repl.MasterClient(); mc != nil {
			clients = append(clients, mc)
		}
	}
	return clients
}

func sortClients(cs []*command.Client) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].ID < cs[j-1].ID; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func (h *Handlers) clientInfo(c *command.Ctx) {
	c.W.Verbatim("txt", h.clientInfoLine(c.Client, c.Client, c.Args, time.Now().UnixMilli())+"\n")
}

// disconnect closes client cl for the command of c: the current client
// after its reply, another at once, its subscriptions dropped before the
// command returns (Redis frees it synchronously: a PUBLISH that follows
// does not count it).
func (h *Handlers) disconnect(c *command.Ctx, cl *command.Client) {
	if cl == c.Client {
		cl.Flags |= command.ClientCloseAfterReply
		return
	}
	if h.PubSub != nil {
		h.PubSub.Remove(cl.ID)
	}
	cl.Close()
}

func (h *Handlers) clientKill(c *command.Ctx) {
	args := c.Args[2:]
	if len(args) == 1 {
		// old form: CLIENT KILL addr:port
		for _, cl := range h.Server.ClientList() {
			if cl.Addr == string(args[0]) {
				h.disconnect(c, cl)
				c.W.OK()
				return
			}
		}
		c.Error("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.Error(ErrSyntax)
		return
	}
	var id int64 = -1
	addr, laddr, user, typ := "", "", "", ""
	skipme := true
	for i := 0; i < len(args); i += 2 {
		v := string(args[i+1])
		switch {
		case EqualFold(args[i], "id"):
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				c.Error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case EqualFold(args[i], "addr"):
			addr = v
		case EqualFold(args[i], "laddr"):
			laddr = v
		case EqualFold(args[i], "user"):
			if !h.userExists(v) {
				c.Error(fmt.Sprintf("ERR No such user '%s'", v))
				return
			}
			user = v
		case EqualFold(args[i], "type"):
			typ = strings.ToLower(v)
			if typ != "normal" && typ != "master" && typ != "replica" && typ != "slave" && typ != "pubsub" {
				c.Error(fmt.Sprintf("ERR Unknown client type '%s'", v))
				return
			}
		case EqualFold(args[i], "skipme"):
			switch strings.ToLower(v) {
			case "yes":
				skipme = true
			case "no":
				skipme = false
			default:
				c.Error(ErrSyntax)
				return
			}
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	killed := 0
	for _, cl := range h.allClients() {
		v := h.viewFrom(cl, c.Client)
		if id != -1 && cl.ID != id || addr != "" && cl.Addr != addr || laddr != "" && cl.LAddr != laddr || user != "" && v.User != user {
			continue
		}
		if !clientOfType(v.Flags, typ) {
			continue
		}
		if cl == c.Client && skipme {
			continue
		}
		h.disconnect(c, cl)
		killed++
	}
	c.W.Int(int64(killed))
}

func (h *Handlers) clientReply(c *command.Ctx) {
	switch {
	case EqualFold(c.Args[2], "on"):
		c.Client.Flags &^= command.ClientReplyOff | command.ClientReplySkip
		c.W.OK()
	case EqualFold(c.Args[2], "off"):
		c.Client.Flags |= command.ClientReplyOff
	case EqualFold(c.Args[2], "skip"):
		c.Client.Flags |= command.ClientReplySkipNext
	default:
		c.Error(ErrSyntax)
	}
}

func (h *Handlers) clientNoEvict(c *command.Ctx) {
	switch {
	case EqualFold(c.Args[2], "on"):
		c.Client.Flags |= command.ClientNoEvict
	case EqualFold(c.Args[2], "off"):
		c.Client.Flags &^= command.ClientNoEvict
	default:
		c.Error(ErrSyntax)
		return
	}
	c.W.OK()
}

// userExists reports whether an ACL user exists (only "default" until ACL
// users are served).
func (h *Handlers) userExists(name string) bool {
	if h.ACL == nil {
		return name == "default"
	}
	return h.ACL.Get(name) != nil
}

var clientHelpLines = []string{
	"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
	"HELP",
	"    Prints this help.",
}

func (h *Handlers) clientHelp(c *command.Ctx) { writeHelp(c, clientHelpLines) }

// viewFrom is cl.ViewFrom(from) without the subscribed-mode flag of a
// client whose subscriptions were all ended from elsewhere (the shard
// channels of a slot its cluster node stopped serving): Redis clears it
// at once; the client's own goroutine clears it at its next command
// (Executor.Subscribed).
func (h *Handlers) viewFrom(cl, from *command.Client) command.ClientView {
	v := cl.ViewFrom(from)
	if v.Flags&command.ClientPubSub != 0 && h.Exec.Subscribed != nil && !h.Exec.Subscribed(cl.ID) {
		v.Flags &^= command.ClientPubSub
	}
	return v
}

// clientOfType reports whether a client with flags is of CLIENT LIST/KILL
// TYPE typ ("": any): replicas and a replica's link to its master are
// their own types.
func clientOfType(flags int, typ string) bool {
	replica := flags&command.ClientReplica != 0
	pubsub := flags&command.ClientPubSub != 0
	master := flags&command.ClientMaster != 0
	switch typ {
	case "":
		return true
	case "master":
		return master
	case "normal":
		return !replica && !pubsub && !master
	case "pubsub":
		return pubsub
	case "replica", "slave":
		return replica
	}
	return false
}
