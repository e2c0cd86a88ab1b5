package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRandomBlocking runs seeded random sequences of blocking commands
// (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN/MAX, BZMPOP, XREAD
// and XREADGROUP with BLOCK) and the commands that wake, move, delete or
// retype their keys, on three clients (A, B, C) plus a control connection
// per server, against Redis and Crescent, in RESP2 and RESP3.
//
// Each step runs one command on a client that is not blocked (on the
// control connection when all three are). Whether a command blocked is
// decided without timing: the harness waits until either its reply
// arrives or CLIENT LIST on the control connection shows the client with
// the b flag (both servers must agree). After every step each blocked
// client is looked at again the same way (a push serves its waiters
// before the pusher's reply goes out, on both servers), and the reply of
// every client that was woken is read and compared. Timeouts are either
// long enough that nothing times out during a run (0, 1000 s, 100000 ms)
// or short (10 ms) and then waited for: no other command runs while a
// short one may be blocked, so it times out, or not, alike on both.
func TestRandomBlocking(t *testing.T) {
	p := StartPair(t)
	ctlR, ctlC := Dial(t, p.Redis), Dial(t, p.Crescent)
	for _, seed := range randomSeeds() {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runBlockingSeed(t, p, ctlR, ctlC, seed)
		})
	}
}

// bClient is one simulated client on both servers.
type bClient struct {
	name     string
	r, c     *Conn
	rid, cid string // CLIENT ID on each server
	blocked  bool
	cmd      []string // the command it is blocked in
	inMulti  bool     // in a transaction (from Redis's replies)
}

// blockKind says how the harness waits for a command's reply.
type blockKind int

const (
	bPlain   blockKind = iota // answers at once (or blocks: CLIENT LIST tells)
	bShort                    // may block briefly: its reply is awaited
	bForever                  // may block until woken
)

func runBlockingSeed(t *testing.T, p *Pair, ctlR, ctlC *Conn, seed uint64) {
	var cl [3]*bClient
	for i := range cl {
		bc := &bClient{name: string(rune('A' + i)), r: Dial(t, p.Redis), c: Dial(t, p.Crescent)}
		bc.r.Timeout, bc.c.Timeout = 10*time.Second, 10*time.Second
		bc.rid = clientID(t, bc.r)
		bc.cid = clientID(t, bc.c)
		cl[i] = bc
	}
	ctlR.MustDo(t, "SELECT", "0")
	ctlC.MustDo(t, "SELECT", "0")
	ctlR.MustDo(t, "FLUSHALL")
	ctlC.MustDo(t, "FLUSHALL")
	g := &blockGen{rng: rand.New(rand.NewPCG(seed, 0xb10c)), seq: 1}
	var hist, all []string
	defer func() {
		if f := os.Getenv("CRESCENT_BLOCK_DUMP"); f != "" && t.Failed() {
			os.WriteFile(f, []byte(strings.Join(all, "\n")+"\n"), 0o644)
		}
	}()
	note := func(s string) {
		hist = append(hist, s)
		all = append(all, s)
		if len(hist) > 40 {
			hist = hist[1:]
		}
	}
	fail := func(step int, format string, a ...any) {
		t.Helper()
		t.Fatalf("step %d: %s\nlast commands:\n  %s", step, fmt.Sprintf(format, a...), strings.Join(hist, "\n  "))
	}
	ids := func(args []string, redis bool) []string {
		out := append([]string(nil), args...)
		for i, a := range out {
			if len(a) == 2 && a[0] == '@' && a[1] >= 'A' && a[1] <= 'C' {
				if redis {
					out[i] = cl[a[1]-'A'].rid
				} else {
					out[i] = cl[a[1]-'A'].cid
				}
			}
		}
		return out
	}
	// wakeCheck reads the replies of the blocked clients that are not
	// blocked any more.
	wakeCheck := func(step int) {
		for _, bc := range cl {
			if !bc.blocked {
				continue
			}
			rb, err := IsBlocked(ctlR, bc.rid)
			if err != nil {
				fail(step, "redis: CLIENT LIST: %v", err)
			}
			cb, err := IsBlocked(ctlC, bc.cid)
			if err != nil {
				fail(step, "crescent: CLIENT LIST: %v", err)
			}
			if rb != cb {
				fail(step, "%s blocked in %q: still blocked on redis %v, on crescent %v", bc.name, bc.cmd, rb, cb)
			}
			if rb {
				continue
			}
			rrep, err := bc.r.Read()
			if err != nil {
				fail(step, "%s woken from %q: redis: %v", bc.name, bc.cmd, err)
			}
			crep, err := bc.c.Read()
			if err != nil {
				fail(step, "%s woken from %q: crescent: %v (redis: %q)", bc.name, bc.cmd, err, rrep)
			}
			note(fmt.Sprintf("   %s woken: %q", bc.name, rrep))
			if !bytes.Equal(rrep, crep) {
				fail(step, "%s woken from %q, replies differ\n  redis:    %q\n  crescent: %q", bc.name, bc.cmd, rrep, crep)
			}
			bc.blocked = false
		}
	}
	replay := loadBlockReplay(t)
	steps := 1500
	if replay != nil {
		steps = len(replay)
	}
	for step := 0; step < steps; step++ {
		var free []*bClient
		for _, bc := range cl {
			if !bc.blocked {
				free = append(free, bc)
			}
		}
		var me *bClient
		var args []string
		var kind blockKind
		var rconn, cconn *Conn
		name := "ctl"
		if replay != nil {
			// a recorded run (CRESCENT_BLOCK_REPLAY), cut down by hand
			rs := replay[step]
			args, kind = rs.args, replayKind(rs.args)
			if rs.name == "ctl" {
				rconn, cconn = ctlR, ctlC
			} else {
				me = cl[rs.name[0]-'A']
				if me.blocked {
					t.Skipf("replay step %d: %s is blocked", step, rs.name)
				}
				rconn, cconn, name = me.r, me.c, me.name
			}
		} else if len(free) == 0 {
			args = g.waker()
			rconn, cconn = ctlR, ctlC
		} else {
			me = free[g.rng.IntN(len(free))]
			args, kind = g.command(me.inMulti)
			rconn, cconn, name = me.r, me.c, me.name
		}
		if swapsMultiKeyWaiter(args, cl[:]) {
			// inherent: SWAPDB signals the keys that exist after it in
			// the order of Redis's dict of blocking keys (a random hash
			// seed per process); a client waiting on two of them is
			// served from either
			args = []string{"DBSIZE"}
		}
		note(fmt.Sprintf("%s: %q", name, args))
		rargs, cargs := ids(args, true), ids(args, false)
		if args[0] == "BLOCKEDCLIENTS" {
			rargs = []string{"INFO", "clients"}
			cargs = rargs
		}
		var rrep, crep []byte
		var rblk, cblk bool
		var err error
		if me == nil {
			rrep, err = rconn.Do(rargs...)
			if err != nil {
				fail(step, "redis: %v", err)
			}
			crep, err = cconn.Do(cargs...)
			if err != nil {
				fail(step, "crescent: %v (redis: %q)", err, rrep)
			}
		} else {
			rrep, rblk, err = blockExchange(rconn, ctlR, me.rid, rargs, kind)
			if err != nil {
				fail(step, "redis: %v", err)
			}
			crep, cblk, err = blockExchange(cconn, ctlC, me.cid, cargs, kind)
			if err != nil {
				fail(step, "crescent: %v (redis: %q, blocked %v)", err, rrep, rblk)
			}
		}
		if rblk != cblk {
			fail(step, "%s: %q: blocked on redis %v (reply %q), on crescent %v (reply %q)", name, args, rblk, rrep, cblk, crep)
		}
		if rblk {
			me.blocked, me.cmd = true, args
			note("   blocked")
		} else {
			if me != nil {
				switch strings.ToUpper(args[0]) {
				case "MULTI":
					me.inMulti = me.inMulti || bytes.Equal(rrep, []byte("+OK\r\n"))
				case "EXEC", "DISCARD", "RESET":
					me.inMulti = me.inMulti && rrep[0] == '-' && strings.ToUpper(args[0]) != "EXEC"
				}
			}
			rrep, crep = blockNormalize(args, rrep), blockNormalize(args, crep)
			if !bytes.Equal(rrep, crep) {
				fail(step, "%s: %q, replies differ\n  redis:    %q\n  crescent: %q", name, args, rrep, crep)
			}
		}
		wakeCheck(step)
	}
	// unblock whoever is left, comparing what they answer
	for _, bc := range cl {
		if bc.blocked {
			note(fmt.Sprintf("ctl: CLIENT UNBLOCK %s", bc.name))
			ctlR.MustDo(t, "CLIENT", "UNBLOCK", bc.rid)
			ctlC.MustDo(t, "CLIENT", "UNBLOCK", bc.cid)
		}
	}
	wakeCheck(steps)
}

type replayStep struct {
	name string
	args []string
}

// loadBlockReplay reads the commands of $CRESCENT_BLOCK_REPLAY (a
// $CRESCENT_BLOCK_DUMP file, lines "A: [\"CMD\" \"arg\"]"; other lines are
// skipped), to replay a failure cut down by hand. Nil when unset.
func loadBlockReplay(t *testing.T) []replayStep {
	f := os.Getenv("CRESCENT_BLOCK_REPLAY")
	if f == "" {
		return nil
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []replayStep
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ": [")
		if !ok || strings.HasPrefix(name, " ") {
			continue
		}
		var args []string
		rest = strings.TrimSuffix(rest, "]")
		for rest != "" {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("replay line %q: %v", line, err)
			}
			a, _ := strconv.Unquote(q)
			args = append(args, a)
			rest = strings.TrimPrefix(rest[len(q):], " ")
		}
		out = append(out, replayStep{name, args})
	}
	return out
}

// clientID returns conn's CLIENT ID.
func clientID(t *testing.T, conn *Conn) string {
	t.Helper()
	v, _, err := Parse(conn.MustDo(t, "CLIENT", "ID"))
	if err != nil || v.Type != ':' {
		t.Fatalf("CLIENT ID: %v %q", err, v.Raw)
	}
	return string(v.Str)
}

// blockExchange sends args on conn and returns its reply, or blocked when
// CLIENT LIST on ctl shows conn's client (id) blocked before a reply
// came. A bShort command's reply is awaited.
func blockExchange(conn, ctl *Conn, id string, args []string, kind blockKind) ([]byte, bool, error) {
	if kind == bShort {
		rep, err := conn.Do(args...)
		return rep, false, err
	}
	return SendAndWaitBlocked(conn, ctl, id, args...)
}

// blockNormalize maps replies that legitimately differ to a common form:
// HELLO's (server name, version, client id), INFO clients to its
// blocked_clients line.
func blockNormalize(args []string, b []byte) []byte {
	switch strings.ToUpper(args[0]) {
	case "HELLO":
		if len(b) > 0 && b[0] != '-' {
			return []byte("<hello>")
		}
	case "BLOCKEDCLIENTS":
		var out []byte
		for _, line := range strings.Split(string(b), "\r\n") {
			if strings.HasPrefix(line, "blocked_clients:") || strings.HasPrefix(line, "clients_in_timeout_table:") {
				out = append(out, line+" "...)
			}
		}
		return out
	}
	return b
}

// blockGen draws the commands of TestRandomBlocking.
//
// Left out as inherent: XADD with * or a partial ID (the time picks the
// ID), XINFO CONSUMERS and XPENDING's extended form (idle times), XINFO
// STREAM (radix tree sizes), CLIENT ID/LIST/INFO on the clients (ids,
// addresses, ages: the harness reads them itself and writes @A, @B, @C
// for the clients' ids in CLIENT UNBLOCK).
//
// Redis 7.0 signals blocked clients only when a key is added (dbAdd), by
// XADD and XGROUP DESTROY, and for deleted streams, and Crescent does the
// same (exec/block.go): STOREs (SORT, ZUNIONSTORE...) write to the keys
// clients block on too, replacing them with a value of another type, after
// which both leave the clients blocked through later pushes.
type blockGen struct {
	rng *rand.Rand
	seq int // the next stream entry ID's milliseconds
}

func (g *blockGen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

// key returns a key of the wanted kind ("l", "z" or "s"), now and then
// one of another type.
func (g *blockGen) key(kind string) string {
	if g.rng.IntN(8) == 0 {
		return g.pick("l1", "z1", "s1", "str", "")
	}
	return kind + g.pick("1", "1", "2")
}

func (g *blockGen) keys(kind string) []string {
	a := []string{g.key(kind)}
	for g.rng.IntN(3) == 0 && len(a) < 4 {
		a = append(a, g.key(kind))
	}
	return a
}

// timeout returns a blocking command's timeout in seconds and how it may
// block.
func (g *blockGen) timeout() (string, blockKind) {
	switch g.rng.IntN(20) {
	case 0:
		return g.pick("0.01", "1e-2", "0.0001"), bShort
	case 1:
		return g.pick("-1", "x", "", "nan", "inf", "-inf", "1e400", "9223372036854775807",
			"-0.5", " 1", "1 ", "0x"), bPlain
	case 2:
		return g.pick("0x10", "-0.0001", "-0", "1e5", "3600.5", "999999999999"), bForever
	}
	return g.pick("0", "0", "1000"), bForever
}

// msTimeout is timeout for XREAD/XREADGROUP BLOCK (milliseconds).
func (g *blockGen) msTimeout() (string, blockKind) {
	switch g.rng.IntN(20) {
	case 0:
		return g.pick("10", "1"), bShort
	case 1:
		return g.pick("-1", "x", "", "1.5", "-9223372036854775808", "99999999999999999999"), bPlain
	case 2:
		return g.pick("9223372036854775807", "100000000"), bForever
	}
	return g.pick("0", "0", "100000"), bForever
}

func (g *blockGen) end() string  { return g.pick("LEFT", "RIGHT", "left", "UP") }
func (g *blockGen) elem() string { return g.pick("a", "b", "c", "d", "", "1", "2.5") }

// nextID is a stream entry ID after every ID drawn so far, or now and
// then an old one (an error when the stream has passed it).
func (g *blockGen) nextID() string {
	if g.rng.IntN(12) == 0 {
		return g.pick("1-1", "0-1", "0-0", "bad")
	}
	g.seq++
	return fmt.Sprintf("%d-%d", g.seq, g.rng.IntN(2))
}

func (g *blockGen) streamID() string {
	return g.pick("$", "0", "0-0", "$", strconv.Itoa(g.rng.IntN(g.seq+1)), "+", "x")
}

// blocking draws a blocking command.
func (g *blockGen) blocking() ([]string, blockKind) {
	rng := g.rng
	switch rng.IntN(9) {
	case 0, 1:
		to, k := g.timeout()
		return append(append([]string{g.pick("BLPOP", "BRPOP")}, g.keys("l")...), to), k
	case 2:
		to, k := g.timeout()
		return []string{"BLMOVE", g.key("l"), g.key("l"), g.end(), g.end(), to}, k
	case 3:
		to, k := g.timeout()
		return []string{"BRPOPLPUSH", g.key("l"), g.key("l"), to}, k
	case 4:
		to, k := g.timeout()
		ks := g.keys("l")
		n := strconv.Itoa(len(ks))
		if rng.IntN(10) == 0 {
			n = g.pick("0", "-1", "x", "9")
		}
		a := append([]string{"BLMPOP", to, n}, ks...)
		a = append(a, g.pick("LEFT", "RIGHT", "right", "MIDDLE"))
		if rng.IntN(3) == 0 {
			a = append(a, "COUNT", g.pick("1", "2", "5", "0", "-1"))
		}
		return a, k
	case 5:
		to, k := g.timeout()
		return append(append([]string{g.pick("BZPOPMIN", "BZPOPMAX")}, g.keys("z")...), to), k
	case 6:
		to, k := g.timeout()
		ks := g.keys("z")
		n := strconv.Itoa(len(ks))
		if rng.IntN(10) == 0 {
			n = g.pick("0", "-1", "x", "9")
		}
		a := append([]string{"BZMPOP", to, n}, ks...)
		a = append(a, g.pick("MIN", "MAX", "max", "MID"))
		if rng.IntN(3) == 0 {
			a = append(a, "COUNT", g.pick("1", "2", "5", "0", "-1"))
		}
		return a, k
	case 7:
		to, k := g.msTimeout()
		a := []string{"XREAD"}
		if rng.IntN(3) == 0 {
			a = append(a, "COUNT", g.pick("1", "2", "0", "-1"))
		}
		a = append(a, "BLOCK", to, "STREAMS")
		ks := g.keys("s")
		a = append(a, ks...)
		for range ks {
			a = append(a, g.streamID())
		}
		if rng.IntN(20) == 0 {
			a = a[:len(a)-1] // unbalanced
		}
		return a, k
	default:
		to, k := g.msTimeout()
		a := []string{"XREADGROUP", "GROUP", g.pick("g1", "g1", "g2"), g.pick("c1", "c2", "c3")}
		if rng.IntN(3) == 0 {
			a = append(a, "COUNT", g.pick("1", "2", "0"))
		}
		a = append(a, "BLOCK", to)
		if rng.IntN(4) == 0 {
			a = append(a, "NOACK")
		}
		a = append(a, "STREAMS")
		ks := g.keys("s")
		a = append(a, ks...)
		for range ks {
			a = append(a, g.pick(">", ">", ">", "0", "$"))
		}
		return a, k
	}
}

// waker draws a command that never blocks: pushes, moves, deletes,
// retypes, group changes, CLIENT UNBLOCK and the commands that show the
// state.
func (g *blockGen) waker() []string {
	rng := g.rng
	switch rng.IntN(40) {
	case 0, 1, 2, 3:
		a := []string{g.pick("LPUSH", "RPUSH", "RPUSH", "LPUSHX", "RPUSHX"), g.key("l")}
		for i, n := 0, 1+rng.IntN(4); i < n; i++ {
			a = append(a, g.elem())
		}
		return a
	case 4:
		return []string{"LMOVE", g.key("l"), g.key("l"), g.end(), g.end()}
	case 5:
		return []string{"RPOPLPUSH", g.key("l"), g.key("l")}
	case 6:
		return []string{"LINSERT", g.key("l"), "BEFORE", g.elem(), g.elem()}
	case 7, 8, 9:
		a := []string{"ZADD", g.key("z")}
		if rng.IntN(5) == 0 {
			a = append(a, g.pick("NX", "XX", "GT", "INCR", "CH"))
		}
		for i, n := 0, 1+rng.IntN(3); i < n; i++ {
			a = append(a, g.pick("1", "2", "-1", "inf", "-inf", "1.5", "nan"), g.elem())
		}
		return a
	case 10:
		return []string{"ZINCRBY", g.key("z"), "1", g.elem()}
	case 11:
		dst := g.pick("z3", g.key(g.pick("z", "l", "s")))
		return []string{g.pick("ZUNIONSTORE", "ZINTERSTORE"), dst, "2", g.key("z"), g.key("z")}
	case 12, 13, 14:
		a := []string{"XADD", g.key("s")}
		if rng.IntN(6) == 0 {
			a = append(a, "NOMKSTREAM")
		}
		if rng.IntN(6) == 0 {
			a = append(a, "MAXLEN", g.pick("1", "2", "0"))
		}
		return append(a, g.nextID(), "f", g.elem())
	case 15:
		return []string{"XGROUP", "CREATE", g.key("s"), g.pick("g1", "g2"), g.pick("$", "0"), g.pick("MKSTREAM", "MKSTREAM", "ENTRIESREAD")}
	case 16:
		return []string{"XGROUP", "DESTROY", g.key("s"), g.pick("g1", "g2", "nog")}
	case 17:
		return []string{"XGROUP", g.pick("CREATECONSUMER", "DELCONSUMER"), g.key("s"), g.pick("g1", "g2"), g.pick("c1", "c2", "c3")}
	case 18:
		return []string{"XGROUP", "SETID", g.key("s"), g.pick("g1", "g2"), g.pick("$", "0", "1-0")}
	case 19:
		return []string{"XACK", g.key("s"), g.pick("g1", "g2"), g.streamID() + "-0"}
	case 20:
		return []string{g.pick("XDEL", "XTRIM"), g.key("s"), g.pick(fmt.Sprint(g.seq)+"-0", "MAXLEN", "MINID"), "1"}
	case 21, 22:
		return []string{g.pick("DEL", "UNLINK"), g.key(g.pick("l", "z", "s"))}
	case 23:
		return []string{"SET", g.key(g.pick("l", "z", "s")), "v"}
	case 24:
		return []string{"RENAME", g.key(g.pick("l", "z", "s")), g.pick(g.key(g.pick("l", "z", "s")), "l3", "z3")}
	case 25:
		return []string{g.pick("MOVE", "COPY"), g.key(g.pick("l", "z", "s")), g.pick("1", "0")}
	case 26:
		return []string{"SWAPDB", "0", "1"}
	case 27:
		return []string{g.pick("FLUSHALL", "FLUSHDB", "FLUSHDB", "DBSIZE")}
	case 28:
		a := []string{"CLIENT", "UNBLOCK", g.pick("@A", "@B", "@C", "@A", "@B", "@C", "x", "-1", "0")}
		if rng.IntN(2) == 0 {
			a = append(a, g.pick("TIMEOUT", "ERROR", "error", "BOGUS"))
		}
		return a
	case 29:
		return []string{"LLEN", g.key("l")}
	case 30:
		return []string{"LRANGE", g.key("l"), "0", "-1"}
	case 31:
		return []string{"ZRANGE", g.key("z"), "0", "-1", "WITHSCORES"}
	case 32:
		return []string{"XRANGE", g.key("s"), "-", "+"}
	case 33:
		return []string{"XPENDING", g.key("s"), g.pick("g1", "g2")}
	case 34:
		return []string{"XINFO", "GROUPS", g.key("s")}
	case 35:
		return []string{"TYPE", g.key(g.pick("l", "z", "s"))}
	case 36:
		return []string{"BLOCKEDCLIENTS"} // INFO clients' blocked_clients
	case 37:
		return []string{"SORT", g.key("l"), "ALPHA", "STORE", g.pick("l3", g.key(g.pick("l", "z", "s")))}
	case 38:
		return []string{"GEOADD", g.key("z"), "1", "2", g.elem()}
	default:
		return []string{"XLEN", g.key("s")}
	}
}

// command draws the next command of a client that is not blocked.
func (g *blockGen) command(inMulti bool) ([]string, blockKind) {
	rng := g.rng
	switch rng.IntN(24) {
	case 0, 1, 2, 3, 4, 5, 6:
		return g.blocking()
	case 7:
		return []string{g.pick("MULTI", "EXEC", "EXEC", "DISCARD")}, bPlain
	case 8:
		// blocking commands do not block from scripts
		a, _ := g.blocking()
		if rng.IntN(2) == 0 {
			return append([]string{"EVAL", "return redis.pcall(unpack(ARGV))", "0"}, a...), bShort
		}
		return append([]string{"EVAL", "redis.setresp(3) return redis.pcall(unpack(ARGV))", "0"}, a...), bShort
	case 9:
		a := g.waker()
		if a[0] == "BLOCKEDCLIENTS" || a[0] == "CLIENT" {
			if inMulti { // INFO inside EXEC could not be normalized
				return []string{"DBSIZE"}, bPlain
			}
			return a, bPlain
		}
		return append([]string{"EVAL", "return redis.pcall(unpack(ARGV))", "0"}, a...), bPlain
	case 10:
		return []string{"SELECT", g.pick("0", "0", "1")}, bPlain
	case 11:
		if inMulti { // HELLO's reply could not be normalized inside EXEC's
			return []string{"RESET"}, bPlain
		}
		return pick2(rng, []string{"HELLO", "3"}, []string{"HELLO", "2"}, []string{"RESET"}), bPlain
	default:
		a := g.waker()
		if inMulti && a[0] == "BLOCKEDCLIENTS" {
			return []string{"DBSIZE"}, bPlain
		}
		return a, bPlain
	}
}

// TestBlockingInfoCounts compares INFO clients' blocked_clients and
// clients_in_timeout_table (only the clients blocked with a timeout) with
// one client blocked forever and one with a timeout.
func TestBlockingInfoCounts(t *testing.T) {
	p := StartPair(t)
	for _, srv := range []*Server{p.Redis, p.Crescent} {
		t.Run(srv.Name, func(t *testing.T) {
			ctl := Dial(t, srv)
			var ids []string
			for _, cmd := range [][]string{{"BLPOP", "ic1", "0"}, {"XREAD", "BLOCK", "100000", "STREAMS", "ic2", "$"}} {
				conn := Dial(t, srv)
				id := clientID(t, conn)
				if _, blk, err := SendAndWaitBlocked(conn, ctl, id, cmd...); err != nil || !blk {
					t.Fatalf("%q: blocked %v, %v", cmd, blk, err)
				}
				ids = append(ids, id)
			}
			got := string(blockNormalize([]string{"BLOCKEDCLIENTS"}, ctl.MustDo(t, "INFO", "clients")))
			if want := "blocked_clients:2 clients_in_timeout_table:1 "; got != want {
				t.Errorf("INFO clients: %q, want %q", got, want)
			}
			// CLIENT UNBLOCK takes effect before it returns (Crescent
			// once left the client counted until its goroutine ran)
			ctl.MustDo(t, "CLIENT", "UNBLOCK", ids[0])
			if blk, err := IsBlocked(ctl, ids[0]); err != nil || blk {
				t.Errorf("CLIENT LIST right after CLIENT UNBLOCK: blocked %v, %v", blk, err)
			}
			ctl.MustDo(t, "CLIENT", "UNBLOCK", ids[1], "ERROR")
			got = string(blockNormalize([]string{"BLOCKEDCLIENTS"}, ctl.MustDo(t, "INFO", "clients")))
			if want := "blocked_clients:0 clients_in_timeout_table:0 "; got != want {
				t.Errorf("INFO clients right after CLIENT UNBLOCK: %q, want %q", got, want)
			}
		})
	}
}

// replayKind is the blockKind the generator gave args.
func replayKind(args []string) blockKind {
	switch args[0] {
	case "EVAL":
		return bShort
	case "BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX", "BLMOVE", "BRPOPLPUSH":
		switch args[len(args)-1] {
		case "0.01", "1e-2", "0.0001":
			return bShort
		}
	case "BLMPOP", "BZMPOP":
		switch args[1] {
		case "0.01", "1e-2", "0.0001":
			return bShort
		}
	case "XREAD", "XREADGROUP":
		for i, a := range args[:len(args)-1] {
			if a == "BLOCK" && (args[i+1] == "10" || args[i+1] == "1") {
				return bShort
			}
		}
	}
	return bForever
}

// swapsMultiKeyWaiter reports whether args runs SWAPDB (maybe from a
// script) while a client is blocked on more than one key.
func swapsMultiKeyWaiter(args []string, cl []*bClient) bool {
	swap := false
	for _, a := range args {
		swap = swap || strings.EqualFold(a, "SWAPDB")
	}
	if !swap {
		return false
	}
	for _, bc := range cl {
		if !bc.blocked {
			continue
		}
		keys := map[string]bool{}
		for _, a := range bc.cmd {
			switch a {
			case "l1", "l2", "l3", "z1", "z2", "z3", "s1", "s2", "str", "":
				keys[a] = true
			}
		}
		if len(keys) > 1 {
			return true
		}
	}
	return false
}

// TestBlockingUnblockErrorLeavesNothing: after CLIENT UNBLOCK ... ERROR of
// a blocked XREADGROUP, the client's next XREADGROUP answers as a fresh
// one (Crescent once kept a marker that made it answer as woken).
func TestBlockingUnblockErrorLeavesNothing(t *testing.T) {
	p := StartPair(t)
	var out [2][]string
	for i, srv := range []*Server{p.Redis, p.Crescent} {
		ctl, b := Dial(t, srv), Dial(t, srv)
		ctl.MustDo(t, "XGROUP", "CREATE", "ux", "g", "$", "MKSTREAM")
		id := clientID(t, b)
		if _, blk, err := SendAndWaitBlocked(b, ctl, id, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "ux", ">"); err != nil || !blk {
			t.Fatalf("%s: blocked %v, %v", srv.Name, blk, err)
		}
		out[i] = append(out[i], string(ctl.MustDo(t, "CLIENT", "UNBLOCK", id, "ERROR")))
		rep, err := b.Read()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = append(out[i], string(rep))
		ctl.MustDo(t, "DEL", "ux")
		out[i] = append(out[i], string(b.MustDo(t, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "ux", ">")))
	}
	if fmt.Sprint(out[0]) != fmt.Sprint(out[1]) {
		t.Errorf("redis %q\ncrescent %q", out[0], out[1])
	}
}
