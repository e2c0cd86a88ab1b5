package difftest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestRandomACL runs seeded random sequences of ACL and AUTH commands
// against Redis and Crescent and compares every reply. Two clients per
// server: the admin client, authenticated as the user "racl:admin" that the
// generator never names (so it keeps every permission whatever happens to
// the default user), draws ACL SETUSER rule lists, the other ACL
// subcommands, CONFIG SET requirepass and acl-pubsub-default; the user
// client authenticates (AUTH, HELLO AUTH) as random users with right and
// wrong passwords and runs random commands as them: directly, from a script
// (EVAL redis.call/pcall, FCALL), inside MULTI/EXEC, and SUBSCRIBE-family
// commands, in RESP2 and RESP3. Both clients see the ACL changes the other
// makes, so rules change under authenticated connections and queued
// transactions.
//
// Normalised as inherent: HELLO's reply (ids, version); ACL GENPASS to its
// length; ACL LOG entries without age-seconds and client-info (times, ids,
// addresses); the single +cmd/-cmd rules that end a commands description
// (ACL LIST, GETUSER), which Redis lists in the order of its command hash
// table, sorted; ACL CAT <category> sorted (the same table).
func TestRandomACL(t *testing.T) {
	p := StartPair(t)
	for _, seed := range randomSeeds() {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runACLSeed(t, p, seed)
		})
	}
}

const aclAdmin = "racl:admin"

// aclLib is the function library the user client calls through FCALL.
const aclLib = "#!lua name=racllib\n" +
	"redis.register_function('racl_call', function(keys, args) return redis.call(unpack(args)) end)\n" +
	"redis.register_function('racl_pcall', function(keys, args) return redis.pcall(unpack(args)) end)\n" +
	"redis.register_function('racl_get', function(keys, args) return redis.call('GET', keys[1]) end)\n"

// aclSide is one server's pair of connections.
type aclSide struct {
	srv         *Server
	admin, user *Conn
}

// dialUser opens a new user client and waits until the server has it: a
// client starts authenticated when the default user needs no password at
// that moment, so an accept still pending when the admin's next CONFIG SET
// requirepass runs would make it a race. HELLO without arguments answers
// on any client (NOAUTH or the server's map), changes nothing and logs
// nothing.
func (s *aclSide) dialUser(t *testing.T) {
	s.user = Dial(t, s.srv)
	s.user.Timeout = 5 * time.Second
	s.user.MustDo(t, "HELLO")
}

func runACLSeed(t *testing.T, p *Pair, seed uint64) {
	sides := []*aclSide{{srv: p.Redis}, {srv: p.Crescent}}
	for _, s := range sides {
		boot := Dial(t, s.srv)
		boot.MustDo(t, "ACL", "SETUSER", aclAdmin, "reset", "on", "nopass", "+@all", "~*", "&*")
		s.admin = Dial(t, s.srv)
		s.admin.Timeout = 5 * time.Second
		if rep := s.admin.MustDo(t, "AUTH", aclAdmin, "x"); string(rep) != "+OK\r\n" {
			t.Fatalf("AUTH %s on %s: %q", aclAdmin, s.srv.Name, rep)
		}
		a := s.admin
		a.MustDo(t, "FLUSHALL")
		a.MustDo(t, "FUNCTION", "FLUSH")
		if rep := a.MustDo(t, "FUNCTION", "LOAD", aclLib); rep[0] == '-' {
			t.Fatalf("FUNCTION LOAD: %s", rep)
		}
		// the users of an earlier seed, and the default user's rules
		a.MustDo(t, "ACL", "DELUSER", "u1", "u2", "u3", "")
		a.MustDo(t, "ACL", "SETUSER", "default", "reset", "on", "nopass", "+@all", "~*", "&*")
		setConfigFor(t, a, "requirepass", "", "acl-pubsub-default", "resetchannels", "acllog-max-len", "128")
		a.MustDo(t, "ACL", "LOG", "RESET")
		s.dialUser(t)
		boot.Close()
	}
	t.Cleanup(func() {
		for _, s := range sides {
			s.admin.Do("ACL", "SETUSER", "default", "reset", "on", "nopass", "+@all", "~*", "&*")
			s.admin.Do("ACL", "DELUSER", "u1", "u2", "u3", "")
		}
	})
	rng := rand.New(rand.NewPCG(seed, 0xac1))
	g := &aclGen{rng: rng}
	var hist, all []string
	defer func() {
		if f := os.Getenv("CRESCENT_ACL_DUMP"); f != "" && t.Failed() {
			os.WriteFile(f, []byte(strings.Join(all, "\n")+"\n"), 0o644)
		}
	}()
	for step := 0; step < 1500; step++ {
		onUser, args := g.next()
		who := "admin"
		if onUser {
			who = "user"
		}
		line := who + ": " + strings.Join(args, " ")
		hist = append(hist, line)
		all = append(all, fmt.Sprintf("%s:%q", who, args))
		if len(hist) > 30 {
			hist = hist[1:]
		}
		var reps [2][]byte
		var errs [2]error
		for i, s := range sides {
			conn := s.admin
			if onUser {
				conn = s.user
			}
			reps[i], errs[i] = aclExchange(conn, args)
		}
		if (errs[0] != nil) != (errs[1] != nil) {
			t.Fatalf("step %d: %q\n  redis:    %q %v\n  crescent: %q %v\nlast commands:\n  %s",
				step, args, reps[0], errs[0], reps[1], errs[1], strings.Join(hist, "\n  "))
		}
		if errs[0] != nil {
			if !onUser {
				t.Fatalf("step %d: %q: admin connection: %v / %v", step, args, errs[0], errs[1])
			}
			// the user client was disconnected (ACL DELUSER of its user)
			// on both servers: a new one, as the default user
			for _, s := range sides {
				s.user.Close()
				s.dialUser(t)
			}
			g.userReset()
			continue
		}
		for i := range reps {
			reps[i] = aclNormalize(args, reps[i])
		}
		if !bytes.Equal(reps[0], reps[1]) {
			var users []string
			for _, s := range sides {
				l, _ := s.admin.Do("ACL", "LIST")
				users = append(users, fmt.Sprintf("%s: %q", s.srv.Name, l))
			}
			t.Fatalf("step %d: %q\n  redis:    %q\n  crescent: %q\nlast commands:\n  %s\nusers:\n  %s",
				step, args, reps[0], reps[1], strings.Join(hist, "\n  "), strings.Join(users, "\n  "))
		}
		if onUser {
			g.track(args, reps[0])
			if g.stuck {
				// subscribed and not allowed to unsubscribe: RESET (no
				// ACL check) leaves subscribed mode, as the default
				// user (closing the client instead would race with the
				// admin's next CLIENT KILL USER)
				var resets [2][]byte
				for i, s := range sides {
					resets[i], _ = aclExchange(s.user, []string{"RESET"})
				}
				if !bytes.Equal(resets[0], resets[1]) {
					t.Fatalf("step %d: RESET after a refused UNSUBSCRIBE: redis %q, crescent %q", step, resets[0], resets[1])
				}
				g.userReset()
			}
		}
	}
}

// aclExchange sends args and reads its replies: one, or for the pseudo
// command SUBUNSUB (a SUBSCRIBE-family command, then its UNSUBSCRIBE of the
// same channels) the confirmations of both.
func aclExchange(conn *Conn, args []string) ([]byte, error) {
	if args[0] != "SUBUNSUB" {
		if err := conn.SendCmd(args...); err != nil {
			return nil, err
		}
		return conn.Read()
	}
	// SUBUNSUB kind ch...: kind is "", "P" or "S"
	kind, chans := args[1], args[2:]
	var out []byte
	read := func(cmd string, n int) (bool, error) {
		if err := conn.SendCmd(append([]string{cmd}, chans...)...); err != nil {
			return false, err
		}
		for i := 0; i < n; i++ {
			rep, err := conn.Read()
			out = append(out, rep...)
			if err != nil {
				return false, err
			}
			if rep[0] == '-' {
				return false, nil
			}
		}
		return true, nil
	}
	ok, err := read(kind+"SUBSCRIBE", len(chans))
	if err != nil || !ok {
		return out, err
	}
	out = append(out, '|')
	_, err = read(kind+"UNSUBSCRIBE", len(chans))
	return out, err
}

// aclNormalize maps replies that legitimately differ to a common form.
func aclNormalize(args []string, b []byte) []byte {
	if len(b) == 0 || b[0] == '-' {
		return b
	}
	up := func(i int) string {
		if i < len(args) {
			return strings.ToUpper(args[i])
		}
		return ""
	}
	switch up(0) {
	case "EXEC", "EVAL", "FCALL":
		// ACL GETUSER run in a transaction or a script
		return aclRewrite(b, aclSortSingles)
	case "HELLO":
		return []byte("<hello>")
	case "ACL":
		switch up(1) {
		case "GENPASS":
			v, _, err := Parse(b)
			if err == nil && v.Type == '$' {
				return []byte(fmt.Sprintf("<genpass of %d chars>", len(v.Str)))
			}
		case "LIST", "GETUSER":
			return aclRewrite(b, aclSortSingles)
		case "CAT":
			if len(args) > 2 {
				return SortedReply(b)
			}
		case "LOG":
			return aclLogNorm(b)
		}
	}
	return b
}

// aclRewrite re-encodes reply b with every bulk string passed through f.
func aclRewrite(b []byte, f func(string) string) []byte {
	v, _, err := Parse(b)
	if err != nil {
		return b
	}
	var out []byte
	var walk func(v Value)
	walk = func(v Value) {
		switch {
		case v.Type == '$' && !v.Null:
			s := f(string(v.Str))
			out = fmt.Appendf(out, "$%d\r\n%s\r\n", len(s), s)
		case len(v.Elems) > 0:
			out = append(out, v.Raw[:bytes.Index(v.Raw, []byte("\r\n"))+2]...)
			for _, e := range v.Elems {
				walk(e)
			}
		default:
			out = append(out, v.Raw...)
		}
	}
	walk(v)
	return out
}

// aclSortSingles sorts each run of single-command rules (+get, -config|set)
// of an ACL description: Redis lists them in its command table's order.
func aclSortSingles(s string) string {
	toks := strings.Split(s, " ")
	single := func(tok string) bool {
		tok = strings.TrimPrefix(tok, "(")
		return len(tok) > 1 && (tok[0] == '+' || tok[0] == '-') && tok[1] != '@'
	}
	for i := 0; i < len(toks); {
		if !single(toks[i]) {
			i++
			continue
		}
		j := i
		for j < len(toks) && single(toks[j]) && !strings.HasPrefix(toks[j], "(") {
			j++
			if strings.HasSuffix(toks[j-1], ")") {
				break
			}
		}
		run := toks[i:j]
		closing := strings.HasSuffix(run[len(run)-1], ")")
		if closing {
			run[len(run)-1] = strings.TrimSuffix(run[len(run)-1], ")")
		}
		sort.Strings(run)
		if closing {
			run[len(run)-1] += ")"
		}
		if j == i {
			j++
		}
		i = j
	}
	return strings.Join(toks, " ")
}

// aclLogNorm keeps of each ACL LOG entry what does not depend on time or
// the client's id and address.
func aclLogNorm(b []byte) []byte {
	v, _, err := Parse(b)
	if err != nil || v.Type != '*' {
		return b
	}
	var out []string
	for _, e := range v.Elems {
		var fields []string
		for i := 0; i+1 < len(e.Elems); i += 2 {
			k := string(e.Elems[i].Str)
			if k == "age-seconds" || k == "client-info" {
				continue
			}
			fields = append(fields, k+"="+strings.TrimSpace(string(e.Elems[i+1].Raw)))
		}
		out = append(out, "{"+strings.Join(fields, " ")+"}")
	}
	return []byte(fmt.Sprintf("log%d%s", len(v.Elems), strings.Join(out, "")))
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// aclGen draws the commands; it tracks what it needs of the user client
// (in a transaction, subscribed and stuck).
type aclGen struct {
	rng     *rand.Rand
	inMulti bool
	stuck   bool
}

func (g *aclGen) userReset() { g.inMulti, g.stuck = false, false }

func (g *aclGen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

// track follows the user client's state from Redis's reply to args.
func (g *aclGen) track(args []string, rep []byte) {
	switch strings.ToUpper(args[0]) {
	case "MULTI":
		if !g.inMulti && bytes.HasPrefix(rep, []byte("+OK")) {
			g.inMulti = true
		}
	case "EXEC":
		g.inMulti = false
	case "DISCARD", "RESET":
		if rep[0] != '-' {
			g.inMulti = false
		}
	case "SUBUNSUB":
		// subscribed, then the UNSUBSCRIBE refused: the client stays
		// subscribed
		if i := bytes.IndexByte(rep, '|'); i >= 0 && bytes.HasPrefix(rep[i+1:], []byte("-")) {
			g.stuck = true
		}
	}
}

func (g *aclGen) user() string { return g.pick("u1", "u1", "u2", "u3", "default") }

func (g *aclGen) password() string { return g.pick("p1", "p2", "p1", "", "wrong") }

func (g *aclGen) key() string {
	return g.pick("k1", "k2", "rk", "rk2", "wk", "wk2", "obj:1", "obj:2", "x", "")
}

func (g *aclGen) channel() string { return g.pick("ch1", "ch2", "news.a", "news.b", "x", "ch*") }

// rule draws one ACL SETUSER rule, valid or not.
func (g *aclGen) rule() []string {
	r := g.rng
	switch r.IntN(16) {
	case 0:
		return []string{g.pick("on", "off", "on", "ON", "nopass", "resetpass", "skip-sanitize-payload", "sanitize-payload")}
	case 1:
		pw := g.pick("p1", "p2", "p3", "")
		switch r.IntN(5) {
		case 0:
			return []string{"<" + pw}
		case 1:
			return []string{"#" + sha(pw)}
		case 2:
			return []string{"!" + sha(pw)}
		case 3:
			return []string{g.pick("#abc", "!"+strings.ToUpper(sha("p1")), "#"+sha("p1")+"0", "#")}
		}
		return []string{">" + pw}
	case 2, 3:
		return []string{g.pick("~k*", "~rk*", "~wk*", "~obj:*", "~x", "~", "~*", "%R~rk*", "%W~wk*",
			"%RW~obj:*", "%R~*", "%W~*", "%r~k1", "%WR~k2", "%X~k", "%~k", "%R", "%RR~k", "~k 1", "allkeys", "resetkeys",
			"~k[12]", "%R~?k*", "~\\*", "%W~[^r]*")}
	case 4:
		return []string{g.pick("&ch1", "&ch*", "&news.*", "&*", "&", "allchannels", "resetchannels", "&x y",
			"&ch[12]", "&news.?", "&\\*")}
	case 5, 6, 7:
		cmd := g.pick("get", "set", "mget", "mset", "del", "incr", "lpush", "lmove", "sort", "sort_ro", "publish",
			"subscribe", "psubscribe", "unsubscribe", "eval", "evalsha", "fcall", "multi", "exec", "ping", "copy",
			"rename", "object", "config", "client", "acl", "bitfield", "bitfield_ro", "zunionstore", "exists",
			"select", "flushdb", "keys", "nosuchcmd", "GET", "hello", "auth", "spublish", "ssubscribe",
			"pfcount", "watch", "xread", "lmpop", "eval_ro", "fcall_ro", "pubsub", "command", "strlen", "geosearchstore")
		return []string{g.pick("+", "-", "+", "+") + cmd}
	case 8:
		return []string{g.pick("+config|get", "-config|set", "+config|set", "+client|setname", "+client|getname",
			"+acl|whoami", "+acl|getuser", "-acl|setuser", "+select|0", "+select|1", "+get|k1", "+config|nosuch",
			"+config|", "+config|get|x", "-select|0", "+object|encoding", "-client|getname", "+nosuch|x", "+acl|log")}
	case 9, 10:
		return []string{g.pick("+", "-") + "@" + g.pick("read", "write", "keyspace", "string", "list", "pubsub",
			"scripting", "transaction", "connection", "admin", "dangerous", "fast", "slow", "all", "bogus", "READ",
			"hyperloglog", "stream", "geo", "sortedset", "set", "hash", "bitmap", "blocking")}
	case 11:
		return []string{g.pick("allcommands", "nocommands", "reset", "clearselectors")}
	case 12:
		// a selector, in one word or over several
		n := 1 + r.IntN(3)
		var body []string
		for i := 0; i < n; i++ {
			body = append(body, g.pick("~k*", "%R~rk*", "%W~wk*", "+get", "+set", "+@read", "+@write",
				"&ch*", "allkeys", "-@all", "+publish", "~obj:*", "bogus", "on", "resetkeys", "+@all"))
		}
		if r.IntN(3) == 0 {
			body[0] = "(" + body[0]
			body[len(body)-1] += ")"
			return body
		}
		return []string{"(" + strings.Join(body, " ") + ")"}
	case 13:
		return []string{g.pick("(", "()", "( ", "(~k*", "bogus", "", ")", "+", "-", "~k*)")}
	case 14:
		return []string{"clearselectors"}
	}
	return []string{g.pick("+@all", "-@all", "~*", "&*", "on", ">p1", "nopass")}
}

// next draws the next command and whether the user client runs it.
func (g *aclGen) next() (bool, []string) {
	r := g.rng
	if g.inMulti {
		// in the user's transaction: mostly queue commands, then end it
		switch r.IntN(10) {
		case 0, 1:
			return true, []string{g.pick("EXEC", "EXEC", "DISCARD")}
		case 2, 3:
			return false, g.adminCommand()
		}
		return true, g.userCommand(true)
	}
	if r.IntN(5) < 2 {
		return false, g.adminCommand()
	}
	return true, g.userCommand(false)
}

func (g *aclGen) adminCommand() []string {
	r := g.rng
	switch r.IntN(20) {
	case 0, 1, 2, 3, 4, 5:
		a := []string{"ACL", "SETUSER", g.user()}
		if r.IntN(30) == 0 {
			a[2] = g.pick("bad name", "", "u\x00x")
		}
		for i, n := 0, r.IntN(5); i < n; i++ {
			a = append(a, g.rule()...)
		}
		return a
	case 6:
		// a usable user, so that the user client gets somewhere
		return []string{"ACL", "SETUSER", g.pick("u1", "u2"), "on", ">" + g.pick("p1", "p2"),
			g.pick("~k*", "%R~rk*", "~*", "%W~wk*"), g.pick("+@all", "+@read", "+@write", "+get", "+@string"),
			g.pick("&ch*", "resetchannels", "allchannels")}
	case 7:
		return []string{"ACL", "GETUSER", g.pick("u1", "u2", "u3", "default", "nosuch", "")}
	case 8:
		return []string{"ACL", "LIST"}
	case 9:
		return []string{"ACL", g.pick("USERS", "WHOAMI", "LOG", "LOG", "CAT")}
	case 10:
		return []string{"ACL", "CAT", g.pick("read", "pubsub", "scripting", "bogus", "READ", "connection")}
	case 11:
		if r.IntN(3) == 0 {
			return []string{"ACL", "DELUSER", g.user(), g.user()}
		}
		return []string{"ACL", "DELUSER", g.pick("u3", "nosuch")}
	case 12, 13:
		a := []string{"ACL", "DRYRUN", g.user()}
		if r.IntN(15) == 0 {
			a[2] = "nosuch"
		}
		return append(a, g.plainCommand()...)
	case 14:
		if r.IntN(3) == 0 {
			return []string{"ACL", "LOG", g.pick("RESET", "2", "-1", "x", "0")}
		}
		return []string{"ACL", "GENPASS", g.pick("1", "5", "256", "4096", "4097", "0", "-3", "x", "64")}
	case 15:
		return []string{"CONFIG", "SET", "requirepass", g.pick("p1", "p2", "", "")}
	case 16:
		if r.IntN(4) == 0 {
			return []string{"CONFIG", "SET", "acl-pubsub-default", g.pick("allchannels", "resetchannels", "bogus")}
		}
		if r.IntN(4) == 0 {
			return []string{"CONFIG", "SET", "acllog-max-len", g.pick("2", "0", "128", "-1")}
		}
		return []string{"CONFIG", "GET", g.pick("requirepass", "acl-pubsub-default", "acllog-max-len")}
	case 17:
		if r.IntN(3) == 0 {
			// the user client too when it is one of theirs (not the
			// default user: a client of an earlier seed may linger)
			return []string{"CLIENT", "KILL", "USER", g.pick("u1", "u2", "u3", "nosuch")}
		}
		return []string{"PUBLISH", g.channel(), "m"}
	case 18:
		if r.IntN(4) == 0 {
			// ACL LOG, GETUSER, LIST... in RESP3 too
			return []string{"HELLO", g.pick("2", "3")}
		}
		return []string{"SET", g.key(), g.pick("1", "v", "w_1")}
	}
	return g.pick2([]string{"ACL"}, []string{"ACL", "NOSUCH"}, []string{"ACL", "SETUSER"}, []string{"ACL", "GETUSER"},
		[]string{"ACL", "DRYRUN", "u1"}, []string{"ACL", "DRYRUN", "u1", "nosuchcmd"}, []string{"ACL", "DRYRUN", "u1", "get"},
		[]string{"ACL", "DRYRUN", "u1", "config"}, []string{"ACL", "DRYRUN", "u1", "config", "nosuch"},
		[]string{"ACL", "DRYRUN", "u1", "get", "a", "b"}, []string{"ACL", "CAT", "a", "b"}, []string{"ACL", "WHOAMI", "x"},
		[]string{"ACL", "USERS", "x"}, []string{"ACL", "LIST", "x"}, []string{"ACL", "LOG", "1", "2"},
		[]string{"ACL", "DELUSER"}, []string{"ACL", "DELUSER", "default"}, []string{"ACL", "GETUSER", "a", "b"})
}

func (g *aclGen) pick2(s ...[]string) []string { return s[g.rng.IntN(len(s))] }

// plainCommand draws a data or pub/sub command whose permissions depend
// on keys, channels, subcommands or first arguments.
func (g *aclGen) plainCommand() []string {
	r := g.rng
	k := g.key
	switch r.IntN(30) {
	case 0, 1:
		return []string{"GET", k()}
	case 2, 3:
		a := []string{"SET", k(), g.pick("1", "v")}
		if r.IntN(3) == 0 {
			a = append(a, "GET")
		}
		return a
	case 4:
		return []string{"MGET", k(), k(), k()}
	case 5:
		return []string{"MSET", k(), "1", k(), "2"}
	case 6:
		return []string{"DEL", k(), k()}
	case 7:
		return []string{"INCR", k()}
	case 8:
		return []string{"LPUSH", k(), "e"}
	case 9:
		return []string{"LMOVE", k(), k(), "LEFT", "RIGHT"}
	case 10:
		return []string{"COPY", k(), k(), "REPLACE"}
	case 11:
		return []string{"RENAME", k(), k()}
	case 12:
		a := []string{g.pick("SORT", "SORT_RO"), k()}
		if r.IntN(2) == 0 {
			a = append(a, "BY", g.pick("w_*", "nosort", "k*", "w_*->f"))
		}
		if r.IntN(2) == 0 {
			a = append(a, "GET", g.pick("#", "w_*", "k*->f"))
		}
		if a[0] == "SORT" && r.IntN(3) == 0 {
			a = append(a, "STORE", k())
		}
		return a
	case 13:
		return []string{"OBJECT", g.pick("ENCODING", "FREQ"), k()}
	case 14:
		return []string{"EXISTS", k()}
	case 15:
		return []string{"ZUNIONSTORE", k(), "2", k(), k()}
	case 16:
		if r.IntN(2) == 0 {
			return []string{"BITFIELD", k(), "GET", "u8", "0"}
		}
		return []string{g.pick("BITFIELD", "BITFIELD_RO"), k(), g.pick("SET", "GET", "INCRBY"), "u8", "0", "1"}
	case 17, 18:
		return []string{g.pick("PUBLISH", "SPUBLISH"), g.channel(), "m"}
	case 19:
		return []string{"CONFIG", g.pick("GET", "SET"), g.pick("maxmemory-policy", "requirepass")}
	case 20:
		return []string{"CLIENT", g.pick("GETNAME", "SETNAME"), "n1"}
	case 21:
		return []string{"SELECT", g.pick("0", "1", "0", "x")}
	case 22:
		return []string{"PING"}
	case 23:
		return []string{"ACL", g.pick("WHOAMI", "GETUSER", "CAT", "USERS"), "u1"}
	case 24:
		// patterns that match one key at most: KEYS's order is the
		// hash table's
		return []string{"KEYS", g.pick("k1", "rk2*", "w?")}
	case 25:
		return []string{"DBSIZE"}
	case 26:
		return []string{"EVAL", "return redis.call('GET', KEYS[1])", "1", k()}
	case 27:
		return []string{"FCALL", "racl_get", "1", k()}
	case 28:
		return []string{g.pick("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"), g.channel(), g.channel()}
	case 29:
		return g.moreCommand()
	}
	return []string{"TYPE", k()}
}

// moreCommand draws commands whose key specs differ: keynum, keyword,
// several keys with different flags, keys that need no permission.
func (g *aclGen) moreCommand() []string {
	k := g.key
	switch g.rng.IntN(22) {
	case 0:
		return []string{"PFCOUNT", k(), k()} // RW: a read-only user may not
	case 1:
		return []string{"PFADD", k(), "a"}
	case 2:
		// explicit ids: generated ones are the clock's
		return []string{"XADD", k(), g.pick("1-1", "2-1", "3-0"), "f", "v"}
	case 3:
		return []string{"XREAD", "COUNT", "1", "STREAMS", k(), k(), "0", "0"}
	case 4:
		return []string{"LMPOP", "2", k(), k(), "LEFT"}
	case 5:
		return []string{"SINTERCARD", "2", k(), k()}
	case 6:
		return []string{"SMOVE", k(), k(), "m"}
	case 7:
		return []string{g.pick("GETEX", "GETDEL"), k()}
	case 8:
		return []string{"EXPIRE", k(), "100"}
	case 9:
		return []string{"WATCH", k()} // no access flag: any pattern will do
	case 10:
		return []string{"LCS", k(), k()}
	case 11:
		return []string{"RENAMENX", k(), k()}
	case 12:
		return []string{"TOUCH", k(), k()}
	case 13:
		return []string{"EVAL_RO", "return redis.call('GET', KEYS[1])", "1", k()}
	case 14:
		return []string{"FCALL_RO", "racl_get", "1", k()}
	case 15:
		return []string{"PUBSUB", g.pick("NUMSUB", "CHANNELS", "SHARDNUMSUB"), g.channel()}
	case 16:
		return []string{"GEOSEARCHSTORE", k(), k(), "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"}
	case 17:
		return []string{"ZADD", k(), "1", "m"}
	case 18:
		return []string{"SETRANGE", k(), "0", "x"}
	case 19:
		return []string{"COMMAND", "GETKEYS", "SET", k(), "v"}
	case 20:
		return []string{"UNLINK", k()}
	}
	// (not MEMORY USAGE: its figures are the allocator's)
	return []string{"STRLEN", k()}
}

// userCommand draws a command for the user client (inMulti: queued in
// its transaction, where SUBSCRIBE and HELLO are not drawn: their replies
// do not fit EXEC's array).
func (g *aclGen) userCommand(inMulti bool) []string {
	r := g.rng
	n := r.IntN(24)
	if inMulti && n >= 14 {
		n = r.IntN(14)
	}
	switch n {
	case 0, 1, 2, 3, 4, 5, 6:
		cmd := g.plainCommand()
		if strings.HasSuffix(cmd[0], "SUBSCRIBE") {
			if inMulti {
				return []string{"PUBLISH", cmd[1], "m"}
			}
			return append([]string{"SUBUNSUB", strings.TrimSuffix(cmd[0], "SUBSCRIBE")}, cmd[1:]...)
		}
		return cmd
	case 7, 8:
		// the same command from a script
		cmd := g.plainCommand()
		if cmd[0] == "SUBSCRIBE" || cmd[0] == "PSUBSCRIBE" || cmd[0] == "SSUBSCRIBE" {
			cmd = []string{"PUBLISH", g.channel(), "m"}
		}
		if r.IntN(20) == 0 {
			cmd = g.pick2([]string{"AUTH", "u1", "p1"}, []string{"ACL", "WHOAMI"}, []string{"HELLO"}, []string{"MULTI"})
		}
		switch r.IntN(4) {
		case 0:
			return append([]string{"EVAL", "return redis.pcall(unpack(ARGV))", "0"}, cmd...)
		case 1:
			return append([]string{"FCALL", g.pick("racl_call", "racl_pcall"), "0"}, cmd...)
		case 2:
			return append([]string{"EVAL", "return redis.acl_check_cmd(unpack(ARGV))", "0"}, cmd...)
		}
		return append([]string{"EVAL", "return redis.call(unpack(ARGV))", "0"}, cmd...)
	case 9:
		if inMulti {
			return []string{"PING"}
		}
		return []string{"MULTI"}
	case 10:
		return []string{"ACL", "WHOAMI"}
	case 11:
		return []string{"AUTH", g.user(), g.password()}
	case 12:
		return []string{"AUTH", g.password()}
	case 13:
		if inMulti {
			// ACL LOG's times and ids could not be normalized in EXEC's array
			return []string{"AUTH", "u1", "p1"}
		}
		return g.pick2([]string{"AUTH"}, []string{"AUTH", "a", "b", "c"}, []string{"AUTH", "u1", "p1"},
			[]string{"AUTH", "u2", "p2"}, []string{"ACL", "LOG", "1"})
	case 14, 15:
		return []string{"SUBUNSUB", g.pick("", "P", "S"), g.channel()}
	case 16:
		return []string{"SUBUNSUB", g.pick("", "P"), g.channel(), g.channel()}
	case 17:
		switch r.IntN(4) {
		case 0:
			// its own user included: the reply, then the connection
			// closes
			return []string{"ACL", "DELUSER", g.user()}
		case 1:
			a := []string{"ACL", "SETUSER", g.user()}
			return append(a, g.rule()...)
		}
		return []string{"RESET"}
	case 18, 19:
		a := []string{"HELLO", g.pick("2", "3", "3")}
		switch r.IntN(5) {
		case 0:
			return a
		case 1:
			return append(a, "AUTH", g.user())
		case 2:
			return append(a, "AUTH", g.user(), g.password(), "SETNAME", "n2")
		}
		return append(a, "AUTH", g.user(), g.password())
	case 20:
		return []string{"HELLO", "AUTH", g.user(), g.password()}
	case 21:
		return []string{"SUBUNSUB", "", "ch1", "ch1"}
	}
	return []string{"PUBLISH", g.channel(), "m"}
}
