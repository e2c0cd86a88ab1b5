package commands

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/resp"
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
	return string(h.appendClientInfo(nil, cl, from, self, now))
}

// appendClientInfo appends clientInfoLine's line to dst.
func (h *Handlers) appendClientInfo(dst []byte, cl, from *command.Client, self [][]byte, now int64) []byte {
	v := h.viewFrom(cl, from)
	if v.Flags&command.ClientScript != 0 { // only ever its own CLIENT INFO
		return h.appendScriptClient(dst, cl, v, now)
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
	return fmt.Appendf(dst, "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=0 rbs=%d rbp=%d obl=%d oll=%d omem=%d tot-mem=%d events=r cmd=%s user=%s redir=%d resp=%d",
		cl.ID, cl.Addr, cl.LAddr, cl.FD.Load(), cl.Name(), (now-cl.Created)/1000, (now-cl.LastTime.Load())/1000,
		flags, v.DB, sub, psub, ssub, multi, m.Qbuf, qfree, argv, m.Rbs, m.Rbp, obl, oll, omem, total, last, v.User, redir, v.Proto)
}

// appendScriptClient appends CLIENT INFO run by a script (with DEBUG
// SET-DISABLE-DENY-SCRIPTS): Redis's Lua or functions client, a fake
// client made at startup with no socket, no query buffer but an empty
// string (4 bytes free), an unused 16 KiB reply buffer and a fixed size.
func (h *Handlers) appendScriptClient(dst []byte, cl *command.Client, v command.ClientView, now int64) []byte {
	last := "NULL"
	if spec := cl.LastCmd.Load(); spec != nil {
		last = spec.Name
	}
	return fmt.Appendf(dst, "id=%d addr=?:0 laddr=?:0 fd=-1 name=%s age=%d idle=%d flags=N db=%d sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=4 argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=17176 events= cmd=%s user=%s redir=-1 resp=%d",
		cl.ID, cl.Name(), (now-cl.Created)/1000, (now-cl.LastTime.Load())/1000, v.DB, last, v.User, v.Proto)
}

// clientList is CLIENT LIST [TYPE type | ID id ...], parsed as Redis 7.0
// does: TYPE only as the one option, ID with any integers (0 and negative
// ones name no client), each ID's line in argument order, repeats kept.
// The reply is built in place in the connection's writer, where lim20's
// guard watches it: past the client's output limit (which closes it after
// the command; Redis builds the whole string first, then closes it) the
// lines stop; with no limit, a reply of IDs named many times (about 300
// bytes a line for a few bytes of argument) is bounded by maxRandomReply
// and answered errClientListReply past it, where Redis runs out of memory.
func (h *Handlers) clientList(c *command.Ctx) {
	var ids []int64
	typ := ""
	switch {
	case len(c.Args) == 4 && EqualFold(c.Args[2], "type"):
		typ = strings.ToLower(string(c.Args[3]))
		if typ != "normal" && typ != "master" && typ != "replica" && typ != "slave" && typ != "pubsub" {
			c.Error(fmt.Sprintf("ERR Unknown client type '%s'", c.Args[3]))
			return
		}
	case len(c.Args) > 3 && EqualFold(c.Args[2], "id"):
		ids = make([]int64, 0, len(c.Args)-3)
		for _, a := range c.Args[3:] {
			id, ok := ParseInt(a)
			if !ok {
				c.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(c.Args) != 2:
		c.Error(ErrSyntax)
		return
	}
	now := time.Now().UnixMilli()
	clients := h.allClients()
	// the caller's own line, made once before any of the reply is (its
	// buffers are what they were before the command, as in Redis, where
	// the reply is added once built, and its argv-mem sums the arguments
	// once, not once per repeat of its ID)
	selfLine := append(h.appendClientInfo(nil, c.Client, c.Client, c.Args, now), '\n')
	line := func(dst []byte, cl *command.Client) []byte {
		if cl == c.Client {
			return append(dst, selfLine...)
		}
		dst = h.appendClientInfo(dst, cl, c.Client, nil, now)
		return append(dst, '\n')
	}
	w, _ := c.W.(*resp.Writer)
	if w == nil { // a script's (DEBUG SET-DISABLE-DENY-SCRIPTS)
		var b []byte
		h.eachListed(clients, ids, typ, c.Client, func(cl *command.Client) bool {
			b = line(b, cl)
			return true
		})
		c.W.Verbatim("txt", string(b))
		return
	}
	bound := 0 // the clients bound the reply without IDs
	if ids != nil {
		bound = maxRandomReply
	}
	g := c.ReplyGuard(bound)
	start := w.Len()
	cut := false // at the bound: the error replaced the lines
	h.eachListed(clients, ids, typ, c.Client, func(cl *command.Client) bool {
		w.Buf = line(w.Buf, cl)
		if !w.Due() {
			return true
		}
		// the guard sees the lines so far as the one bulk string they
		// become (the chunk Redis's output limit counts whole): past the
		// limit the whole reply is over it too
		n, marks := w.Len(), len(w.Marks)
		w.Marks = append(w.Marks, resp.Mark{Off: start, Len: n - start})
		if g.Stop(c, errClientListReply) {
			cut = w.Len() < n
			if !cut {
				w.Marks = w.Marks[:marks]
			}
			return false
		}
		w.Marks = w.Marks[:marks]
		return true
	})
	if !cut {
		w.VerbatimEnd(start, "txt")
	}
}

// errClientListReply is the error of a CLIENT LIST ID reply past
// maxRandomReply (Crescent's own: Redis has none).
const errClientListReply = "ERR reply too large: CLIENT LIST ID's reply is bounded to 128 MB"

// eachListed calls f on the clients CLIENT LIST shows, in its order (by
// ID, or as ids names them), until f returns false.
func (h *Handlers) eachListed(clients []*command.Client, ids []int64, typ string, from *command.Client, f func(*command.Client) bool) {
	if ids != nil {
		byID := make(map[int64]*command.Client, len(clients))
		for _, cl := range clients {
			byID[cl.ID] = cl
		}
		for _, id := range ids {
			if cl := byID[id]; cl != nil && !f(cl) {
				return
			}
		}
		return
	}
	slices.SortFunc(clients, func(a, b *command.Client) int { return cmp.Compare(a.ID, b.ID) })
	for _, cl := range clients {
		if clientOfType(h.viewFrom(cl, from).Flags, typ) && !f(cl) {
			return
		}
	}
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
