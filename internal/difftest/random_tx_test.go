package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestRandomTxPubSub runs seeded random sequences of transaction, pub/sub
// and connection-state commands on two clients (A and B, one pair of
// connections per server) against Redis and Crescent, in RESP2 and RESP3,
// and compares every reply each client receives, pushes included.
//
// A command may produce any number of replies (SUBSCRIBE a b c, UNSUBSCRIBE
// without arguments) and a PUBLISH on one client delivers messages to the
// other, so every step ends with a sentinel on each client: PING <marker>
// outside a transaction (its reply, bulk or RESP2's subscribed-mode
// ["pong", marker], ends what the step produced), MULTI inside one (the
// "nested" error changes nothing; only RESP3 pushes can come before it).
// Everything read up to and including the sentinel is compared byte for
// byte, so the order of replies and pushes on each client is checked.
func TestRandomTxPubSub(t *testing.T) {
	p := StartPair(t)
	for _, seed := range randomSeeds() {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runTxSeed(t, p, seed)
		})
	}
}

// txClient is one simulated client: its connection to each server and what
// the test knows of its state (from Redis's replies).
type txClient struct {
	name    string
	r, c    *Conn
	inMulti bool
}

const txLib = "#!lua name=rtxlib\n" +
	"redis.register_function('rtx_incr', function(keys, args) return redis.call('INCR', keys[1]) end)\n" +
	"redis.register_function('rtx_pub', function(keys, args) return redis.call('PUBLISH', args[1], args[2]) end)\n"

func runTxSeed(t *testing.T, p *Pair, seed uint64) {
	var cl [2]*txClient
	for i := range cl {
		cl[i] = &txClient{name: string(rune('A' + i)), r: Dial(t, p.Redis), c: Dial(t, p.Crescent)}
		cl[i].r.Timeout, cl[i].c.Timeout = 5*time.Second, 5*time.Second
	}
	for _, conn := range []*Conn{cl[0].r, cl[0].c} {
		conn.MustDo(t, "FLUSHALL")
		conn.MustDo(t, "FUNCTION", "FLUSH")
		if rep := conn.MustDo(t, "FUNCTION", "LOAD", txLib); rep[0] == '-' {
			t.Fatalf("FUNCTION LOAD: %s", rep)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x7c5))
	var hist, all []string // all: every command, written to $CRESCENT_TX_DUMP on a failure
	marker := 0
	defer func() {
		if f := os.Getenv("CRESCENT_TX_DUMP"); f != "" && t.Failed() {
			os.WriteFile(f, []byte(strings.Join(all, "\n")+"\n"), 0o644)
		}
	}()
	for step := 0; step < 1500; step++ {
		x := rng.IntN(2)
		me := cl[x]
		args := randomTxCommand(rng, x, me.inMulti)
		hist = append(hist, me.name+": "+strings.Join(args, " "))
		all = append(all, fmt.Sprintf("%s:%q", me.name, args))
		if len(hist) > 40 {
			hist = hist[1:]
		}
		marker++
		for i, who := range []*txClient{me, cl[1-x]} {
			var cmd []string
			if i == 0 {
				cmd = args
			}
			rrep, rerr := txExchange(who.r, cmd, who.inMulti, marker)
			crep, cerr := txExchange(who.c, cmd, who.inMulti, marker)
			if rerr != nil {
				t.Fatalf("step %d: %q on %s: redis: %v\nlast commands:\n  %s", step, args, who.name, rerr, strings.Join(hist, "\n  "))
			}
			if cerr != nil {
				t.Fatalf("step %d: %q on %s: crescent: %v (redis: %q)\nlast commands:\n  %s", step, args, who.name, cerr, rrep, strings.Join(hist, "\n  "))
			}
			rrep, crep = pmessageOrder(rrep), pmessageOrder(crep)
			if i == 0 {
				rrep, crep = txNormalize(args, rrep), txNormalize(args, crep)
			}
			if !bytes.Equal(rrep, crep) {
				t.Fatalf("step %d: %q, replies on %s differ\n  redis:    %q\n  crescent: %q\nlast commands:\n  %s",
					step, args, who.name, rrep, crep, strings.Join(hist, "\n  "))
			}
			if i == 0 && len(rrep) > 0 {
				me.track(args, rrep)
			}
		}
	}
}

// track updates what the test knows of the client after it ran args and
// Redis answered first (the reply to args, pushes aside).
func (tc *txClient) track(args []string, replies []byte) {
	first := replies
	for len(first) > 0 && first[0] == '>' {
		_, rest, err := Parse(first)
		if err != nil {
			break
		}
		first = rest
	}
	switch strings.ToUpper(args[0]) {
	case "MULTI":
		if bytes.HasPrefix(first, []byte("+OK\r\n")) {
			tc.inMulti = true
		}
	default:
		if leavesMulti(args, first) {
			tc.inMulti = false
		}
	}
}

// leavesMulti reports whether cmd, answered rep, ends a transaction: EXEC
// always does (refused, it aborts), DISCARD and RESET unless refused (with
// the wrong arity they are flagged errors and the transaction goes on).
func leavesMulti(cmd []string, rep []byte) bool {
	switch strings.ToUpper(cmd[0]) {
	case "EXEC":
		return true
	case "DISCARD", "RESET":
		return len(rep) > 0 && rep[0] != '-'
	}
	return false
}

// txExchange sends cmd (nil: none) and a sentinel on conn and returns every
// reply read up to the sentinel's, included. Outside a transaction the
// sentinel is PING <marker>; inside one a nested MULTI (an error that
// changes nothing). In a transaction, or for MULTI, the command's reply
// is read first (after any RESP3 pushes) to know which sentinel follows.
func txExchange(conn *Conn, cmd []string, inMulti bool, marker int) ([]byte, error) {
	var out []byte
	isMulti := len(cmd) > 0 && strings.EqualFold(cmd[0], "MULTI") && !inMulti
	if cmd != nil {
		if err := conn.SendCmd(cmd...); err != nil {
			return nil, err
		}
		if inMulti || isMulti {
			// One reply, after any RESP3 pushes (a subscribed RESP3
			// client); no sentinel: the state may have changed.
			var rep []byte
			for {
				var err error
				rep, err = conn.Read()
				out = append(out, rep...)
				if err != nil {
					return out, err
				}
				if rep[0] != '>' {
					break
				}
			}
			// then a sentinel as below, in the state the command left:
			// an EXEC may answer more than its array announces (a
			// SUBSCRIBE of several channels in it, as Redis does)
			if isMulti {
				inMulti = bytes.Equal(rep, []byte("+OK\r\n"))
			} else if leavesMulti(cmd, rep) {
				inMulti = false
			}
		}
	}
	mark := fmt.Sprintf("sentinel-%d", marker)
	var end [][]byte
	if inMulti {
		if err := conn.SendCmd("MULTI"); err != nil {
			return out, err
		}
		end = [][]byte{[]byte("-ERR MULTI calls can not be nested\r\n")}
	} else {
		if err := conn.SendCmd("PING", mark); err != nil {
			return out, err
		}
		end = [][]byte{
			[]byte(fmt.Sprintf("$%d\r\n%s\r\n", len(mark), mark)),
			[]byte(fmt.Sprintf("*2\r\n$4\r\npong\r\n$%d\r\n%s\r\n", len(mark), mark)),
		}
	}
	for n := 0; n < 200; n++ {
		rep, err := conn.Read()
		if err != nil {
			return out, err
		}
		for _, e := range end {
			if bytes.Equal(rep, e) {
				return out, nil
			}
		}
		out = append(out, rep...)
	}
	return out, fmt.Errorf("no sentinel reply after 200 replies")
}

// txNormalize maps replies that legitimately differ to a common form:
// HELLO's (server name, version, client id) and the lists of channels
// whose order Redis leaves to its dict.
func txNormalize(args []string, b []byte) []byte {
	switch strings.ToUpper(args[0]) {
	case "HELLO":
		if len(b) > 0 && b[0] != '-' {
			return []byte("<hello>")
		}
	case "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE":
		if len(args) == 1 {
			return unsubscribeOrder(strings.ToLower(args[0]), b)
		}
	case "PUBSUB":
		if len(b) > 0 && (b[0] == '*' || b[0] == '~') {
			return SortedReply(b)
		}
	}
	return b
}

// randomTxCommand draws one command for client x (0: A, 1: B); inMulti says
// whether it is in a transaction (commands whose reply cannot be compared
// inside EXEC's array, HELLO's and PUBSUB CHANNELS', are not drawn there).
//
// Left out as inherent: QUIT (closes the connection), keys expiring by
// time under a WATCH (whether a 1 ms TTL has passed by the next step is
// timing), CLIENT ID/LIST/INFO (ids, addresses, ages).
//
// Known gap, left out: a script's PUBLISH to a channel its own client
// subscribes to. Redis writes that message into the client's output at
// once, before EVAL's reply; Crescent delivers it after (a script's
// commands write to the script's reply, not the client's). So scripts
// publish to "lua.ch" only, run by A, which only B subscribes to, and no
// pattern matches it.
func randomTxCommand(rng *rand.Rand, x int, inMulti bool) []string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	key := func() string { return pick("k", "w", "x", "") }
	channel := func() string {
		if x == 1 && rng.IntN(5) == 0 {
			return "lua.ch"
		}
		return pick("ch1", "ch2", "news.a", "news.b", "")
	}
	pattern := func() string { return pick("ch*", "news.*", "*[ab]", "ch1", "[", "n*") }
	shard := func() string { return pick("s1", "s2", "{s}1") }
	// without arguments the UNSUBSCRIBE family goes through Redis's dict
	// order: normalized (unsubscribeOrder) outside MULTI, not drawn inside
	unsubMin := 0
	if inMulti {
		unsubMin = 1
	}
	some := func(f func() string, min int) []string {
		var a []string
		for i, n := 0, min+rng.IntN(4); i < n; i++ {
			a = append(a, f())
		}
		return a
	}
	switch rng.IntN(47) {
	case 0, 1, 2:
		return []string{"MULTI"}
	case 3, 4:
		return []string{"EXEC"}
	case 5:
		return []string{"DISCARD"}
	case 6, 7:
		return append([]string{"WATCH"}, some(key, 1)...)
	case 8:
		return []string{"UNWATCH"}
	case 9, 10:
		return []string{"SET", key(), pick("1", "v", "10", "")}
	case 11, 12:
		return []string{"INCR", key()} // a runtime error on "v" or a list
	case 13:
		return []string{"GET", key()}
	case 14:
		return []string{"LPUSH", key(), "e"}
	case 15:
		return []string{"DEL", key()}
	case 16:
		// negative expiry deletes the key: touches a watched key. The
		// positive one outlives the seed in both units (100 s): a key
		// expiring during a seed (PEXPIRE k 100) races the servers'
		// active expiry and the step between the two servers (DBSIZE
		// and EXISTS differed, seeds 30087 and 30236, 1 run in 3).
		cmd := pick("EXPIRE", "PEXPIRE")
		k := key()
		ttl := pick("-1", "100", "0", "x", "9223372036854775807")
		if cmd == "PEXPIRE" && ttl == "100" {
			ttl = "100000"
		}
		return []string{cmd, k, ttl}
	case 17:
		return []string{pick("FLUSHDB", "FLUSHALL")}
	case 18:
		return []string{"SELECT", pick("0", "1", "1", "16", "-1", "x")}
	case 19:
		return []string{"SWAPDB", pick("0", "1"), pick("0", "1", "99")}
	case 20:
		return []string{"MOVE", key(), pick("0", "1", "x")}
	case 21:
		// wrong arity and unknown commands: EXECABORT inside MULTI
		return pick2(rng, []string{"GET"}, []string{"SET", "k"}, []string{"NOSUCHCMD", "x"},
			[]string{"EXEC", "x"}, []string{"MULTI", "x"}, []string{"WATCH"}, []string{"DISCARD", "y"},
			[]string{"SUBSCRIBE"}, []string{"PUBLISH", "ch1"}, []string{"PUBSUB"}, []string{"PUBSUB", "NOPE"})
	case 22:
		if x == 0 && rng.IntN(3) == 0 {
			return []string{"EVAL", "return redis.call('PUBLISH', 'lua.ch', 'from-lua')", "0"}
		}
		return []string{"EVAL", pick("return redis.call('INCR', KEYS[1])",
			"return redis.pcall('LPUSH', KEYS[1], 'a')",
			"return redis.call('GET', KEYS[1])"), "1", pick("k", "w", "x")}
	case 23:
		if rng.IntN(2) == 0 {
			return []string{"FCALL", "rtx_incr", "1", pick("k", "w", "x")}
		}
		if x == 0 {
			return []string{"FCALL", "rtx_pub", "0", "lua.ch", "fmsg"}
		}
		return []string{"FCALL", "rtx_incr", "1", "w"}
	case 24, 25:
		return append([]string{"SUBSCRIBE"}, some(channel, 1)...)
	case 26, 27:
		return append([]string{"UNSUBSCRIBE"}, some(channel, unsubMin)...)
	case 28:
		return append([]string{"PSUBSCRIBE"}, some(pattern, 1)...)
	case 29:
		return append([]string{"PUNSUBSCRIBE"}, some(pattern, unsubMin)...)
	case 30:
		return append([]string{"SSUBSCRIBE"}, some(shard, 1)...)
	case 31:
		return append([]string{"SUNSUBSCRIBE"}, some(shard, unsubMin)...)
	case 32, 33, 34:
		return []string{"PUBLISH", channel(), pick("hello", "", "m2")}
	case 35:
		return []string{"SPUBLISH", shard(), "smsg"}
	case 36:
		if inMulti {
			return []string{"PUBSUB", "NUMPAT"}
		}
		switch rng.IntN(6) {
		case 0:
			return []string{"PUBSUB", "CHANNELS"}
		case 1:
			return []string{"PUBSUB", "CHANNELS", pattern()}
		case 2:
			return append([]string{"PUBSUB", "NUMSUB"}, some(channel, 0)...)
		case 3:
			return []string{"PUBSUB", "NUMPAT"}
		case 4:
			return []string{"PUBSUB", "SHARDCHANNELS"}
		}
		return append([]string{"PUBSUB", "SHARDNUMSUB"}, some(shard, 0)...)
	case 37:
		return []string{"PING"}
	case 38:
		return []string{pick("PING", "ECHO"), pick("hi", "")}
	case 39:
		return []string{"RESET"}
	case 40:
		if rng.IntN(2) == 0 {
			return []string{"CLIENT", "SETNAME", pick("alice", "", "bad name", "b\nc")}
		}
		return []string{"CLIENT", "GETNAME"}
	case 41:
		if inMulti {
			return []string{"DBSIZE"}
		}
		// HELLO's reply is normalized away; inside EXEC it could not be
		return pick2(rng, []string{"HELLO", "3"}, []string{"HELLO", "2"}, []string{"HELLO", "3", "SETNAME", "carol"},
			[]string{"HELLO", "4"}, []string{"HELLO", "x"})
	case 42:
		return []string{"EXISTS", key(), key()}
	case 44, 45:
		// other writes to a watched key: each must abort the WATCH as in
		// Redis (signalModifiedKey), a no-op write (a missing source, an
		// unchanged value) must not
		k, k2 := key(), key()
		return pick2(rng, []string{"RENAME", k, k2}, []string{"RENAMENX", k, k2}, []string{"COPY", k, k2},
			[]string{"COPY", k, k2, "REPLACE"}, []string{"COPY", k, k2, "DB", "1"}, []string{"GETDEL", k},
			[]string{"APPEND", k, pick("", "a")}, []string{"SETRANGE", k, "0", pick("", "z")},
			[]string{"UNLINK", k, k2}, []string{"GETEX", k, "PERSIST"}, []string{"GETEX", k, "EX", "100"},
			[]string{"SET", k, "v", pick("NX", "XX", "GET", "KEEPTTL")}, []string{"PERSIST", k},
			[]string{"LMOVE", k, k2, "LEFT", "RIGHT"}, []string{"RPOP", k}, []string{"LTRIM", k, "0", pick("0", "-1", "5")},
			[]string{"SORT", k, "STORE", k2}, []string{"MSETNX", k, "1", k2, "2"}, []string{"INCRBYFLOAT", k, pick("0", "1.5")},
			[]string{"OBJECT", "ENCODING", k}, []string{"TOUCH", k}, []string{"TYPE", k})
	default:
		return []string{"DBSIZE"}
	}
}

// pick2 returns one of the given commands (shared by the random tests).
func pick2(rng *rand.Rand, s ...[]string) []string { return s[rng.IntN(len(s))] }

// unsubscribeOrder normalizes the replies of an UNSUBSCRIBE-family command
// without arguments, which leaves the client's channels in the order of
// Redis's dict: the channel names of its confirmations are blanked (the
// counts, which only go down by one, stay) and listed, sorted, at the end.
func unsubscribeOrder(kind string, b []byte) []byte {
	var out []byte
	var names []string
	for len(b) > 0 {
		v, rest, err := Parse(b)
		if err != nil {
			return append(out, b...)
		}
		raw := b[:len(b)-len(rest)]
		b = rest
		if (v.Type == '*' || v.Type == '>') && len(v.Elems) == 3 && string(v.Elems[0].Str) == kind && !v.Elems[1].Null {
			names = append(names, string(v.Elems[1].Str))
			out = fmt.Appendf(out, "%c[%s ? %s]", v.Type, kind, v.Elems[2].Raw)
			continue
		}
		out = append(out, raw...)
	}
	sort.Strings(names)
	return fmt.Appendf(out, " channels %q", names)
}

// pmessageOrder sorts each run of consecutive pmessages in b, and in the
// arrays of b (EXEC's): one PUBLISH reaches a client's patterns in the
// order of Redis's dict of patterns.
func pmessageOrder(b []byte) []byte {
	var out []byte
	var run [][]byte
	flush := func() {
		sort.Slice(run, func(i, j int) bool { return bytes.Compare(run[i], run[j]) < 0 })
		for _, r := range run {
			out = append(out, r...)
		}
		run = run[:0]
	}
	for len(b) > 0 {
		v, rest, err := Parse(b)
		if err != nil {
			flush()
			return append(out, b...)
		}
		raw := b[:len(b)-len(rest)]
		if (v.Type == '*' || v.Type == '>') && len(v.Elems) == 4 && string(v.Elems[0].Str) == "pmessage" {
			run = append(run, raw)
			b = rest
			continue
		}
		flush()
		if v.Type == '*' && len(v.Elems) > 0 {
			// EXEC's array: only its header is kept as it is, its
			// elements go on as the stream, for RESP3 pushes come among
			// them (two pmessages of one PUBLISH in a MULTI, seed 5044,
			// were the array's first element and the next item)
			hdr := bytes.Index(raw, []byte("\r\n")) + 2
			out = append(out, raw[:hdr]...)
			b = b[hdr:]
			continue
		}
		out = append(out, raw...)
		b = rest
	}
	flush()
	return out
}
