package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRandomStreamCommands runs seeded random stream commands over a few keys
// against Redis and Crescent and compares every reply, in RESP2 and RESP3:
// XADD with explicit, partial and automatic IDs, NOMKSTREAM and every
// trimming option, range reads, deletion and trimming, consumer groups and
// their pending entries lists (XREADGROUP, XACK, XPENDING, XCLAIM,
// XAUTOCLAIM), XINFO and XSETID, with malformed IDs, counts and options and
// keys of other types. Small node limits make approximate trimming remove
// whole nodes.
//
// Automatic IDs follow the clock when the stream's last ID is in the past,
// so they differ between the servers: the generator's explicit IDs are
// either small or past the year 2100 (then * is deterministic), and
// streamNormalize writes IDs of the current era as TIME-ID. Idle times and
// delivery or seen times depend on the clock too and are zeroed.
func TestRandomStreamCommands(t *testing.T) {
	clock := streamClock{}
	randomRun{gen: withTx(randomStreamCommand), salt: 0x57e4, clockStreams: true,
		setup: func(t *testing.T, conn *Conn) {
			clear(clock)
			// The byte limit changes only between seeds, on empty servers:
			// lowering it below the size of a stream's last node makes
			// redis-server 7.0.15 build a corrupt listpack (an assertion
			// fails on the next read; TestStreamNodeBytesLowered checks
			// Crescent there). A node holds at least one entry, and a new one starts
			// when the next entry would pass the limit.
			// It follows the seed (not the seeds played before) so that
			// a seed replays alone with CRESCENT_RANDOM_SEED_FROM.
			bytes := []string{"4096", "60", "1", "200", "0"}[(seedOf(t)-1)%5]
			setConfigFor(t, conn, "stream-node-max-entries", "4", "stream-node-max-bytes", bytes)
		},
		normalize: withTxNorm(func(args []string, b []byte) []byte {
			return clock.mark(args, streamNormalize(args, b))
		})}.run(t)
}

// streamClock holds the stream keys that may hold IDs XADD * made from the
// clock (an XADD replied one; COPY and RENAME pass the mark on), for one
// seed. Such IDs differ between the servers, and so does the shape of the
// rax keyed by the nodes' first IDs: XINFO STREAM's radix-tree-nodes of a
// marked key is not compared even when no clock ID shows in its reply (seed
// 5618 of TestRandomStreamCommands failed one run in about ten on it).
type streamClock map[string]bool

// mark updates c for the command args, whose reply b is already
// normalized by streamNormalize (clock IDs written as TIME-ID), and returns
// b with radix-tree-nodes zeroed for a marked key. It may see each
// command's reply from both servers: marks are only ever added.
func (c streamClock) mark(args []string, b []byte) []byte {
	if len(args) < 3 {
		return b
	}
	switch strings.ToUpper(args[0]) {
	case "XADD":
		if bytes.Contains(b, []byte("TIME-ID")) {
			c[args[1]] = true
		}
	case "COPY", "RENAME":
		if c[args[1]] {
			c[args[2]] = true
		}
	case "XINFO":
		if strings.EqualFold(args[1], "STREAM") && c[args[2]] {
			b = radixNodesRe.ReplaceAll(b, []byte("${1}0\r\n"))
		}
	}
	return b
}

// streamNormalize drops HELLO's reply (server name, version and client id
// differ) and rewrites what depends on the clock: stream IDs whose
// milliseconds are a time of this era, timestamps, and the idle field of
// XPENDING's extended form and XINFO's replies.
func streamNormalize(args []string, b []byte) []byte {
	if args[0] == "HELLO" {
		return nil
	}
	v, _, err := Parse(b)
	if err != nil {
		return b
	}
	xpending := args[0] == "XPENDING" && len(args) > 3
	var out bytes.Buffer
	writeNormalized(&out, v, xpending, false)
	b = out.Bytes()
	if args[0] == "XINFO" && bytes.Contains(b, []byte("TIME-ID")) {
		// the rax's shape depends on the IDs' bytes: those made by * differ
		b = radixNodesRe.ReplaceAll(b, []byte("${1}0\r\n"))
	}
	return b
}

var radixNodesRe = regexp.MustCompile(`(\$16\r\nradix-tree-nodes\r\n:)\d+\r\n`)

// timeKeys are XINFO fields holding times.
var timeKeys = map[string]bool{"seen-time": true, "active-time": true, "idle": true, "inactive": true}

// eraID reports whether s is a stream ID whose milliseconds are a Unix
// time in milliseconds between 2001 and 2096: an ID made by * on a stream
// whose last ID was in the past.
func eraID(s []byte) bool {
	i := bytes.IndexByte(s, '-')
	if i != 13 || s[0] < '1' || s[0] > '3' {
		return false
	}
	_, err1 := strconv.ParseUint(string(s[:i]), 10, 64)
	_, err2 := strconv.ParseUint(string(s[i+1:]), 10, 64)
	return err1 == nil && err2 == nil
}

func writeNormalized(out *bytes.Buffer, v Value, xpending, zero bool) {
	switch v.Type {
	case ':':
		n, err := strconv.ParseInt(string(v.Str), 10, 64)
		if zero || (err == nil && n >= 1e12 && n < 4e12) {
			out.WriteString(":0\r\n")
			return
		}
	case '$':
		if !v.Null && eraID(v.Str) {
			out.WriteString("$7\r\nTIME-ID\r\n")
			return
		}
	case '*', '%', '~', '>', '|':
		if v.Null {
			break
		}
		n := len(v.Elems)
		if v.Type == '%' || v.Type == '|' {
			n /= 2
		}
		fmt.Fprintf(out, "%c%d\r\n", v.Type, n)
		for i, e := range v.Elems {
			z := false
			if i > 0 && (v.Elems[i-1].Type == '$' || v.Elems[i-1].Type == '+') && timeKeys[string(v.Elems[i-1].Str)] {
				z = true // the value of a time field
			}
			if xpending && i == 2 && len(v.Elems) == 4 && v.Elems[1].Type == '$' {
				z = true // an XPENDING entry's idle time
			}
			writeNormalized(out, e, xpending, z)
		}
		return
	}
	out.Write(v.Raw)
}

// pick2 returns one of cmds.
func randomStreamCommand(rng *rand.Rand) []string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	keys := []string{"s1", "s2", "s3", "str", "lst"}
	key := func() string {
		if rng.IntN(12) == 0 {
			return pick("", "nokey")
		}
		return keys[rng.IntN(len(keys))]
	}
	skey := func() string { return keys[rng.IntN(3)] }
	group := func() string { return pick("g1", "g1", "g2", "g3", "") }
	consumer := func() string { return pick("c1", "c1", "c2", "c3", "") }
	// ms is a small millisecond value or one past the year 2100.
	ms := func() string {
		if rng.IntN(6) == 0 {
			return strconv.Itoa(5000000000000 + rng.IntN(4))
		}
		return strconv.Itoa(rng.IntN(12))
	}
	// id is a full or partial ID, or a malformed one.
	id := func() string {
		switch rng.IntN(14) {
		case 0:
			return ms()
		case 1:
			return pick("0-0", "0-1", "18446744073709551615-18446744073709551615",
				"18446744073709551615-0", "18446744073709551616-0", "1-18446744073709551616",
				"-1", "1-", "-", "+", "abc", "1-1-1", "1.5-0", " 1-0", "1-x", "", "0x10-0", "$", ">")
		default:
			return fmt.Sprintf("%s-%d", ms(), rng.IntN(4))
		}
	}
	// bound is an XRANGE interval end.
	bound := func(lo bool) string {
		switch rng.IntN(8) {
		case 0:
			if lo {
				return "-"
			}
			return "+"
		case 1:
			return pick("-", "+", "(-", "(+", "(18446744073709551615-18446744073709551615", "(0-0", "(0")
		case 2, 3:
			return "(" + id()
		}
		return id()
	}
	count := func() string {
		switch rng.IntN(6) {
		case 0:
			return pick("-1", "0", "-5", "1.5", "x", "inf", "9223372036854775807", "9223372036854775808", "")
		}
		return strconv.Itoa(rng.IntN(6))
	}
	field := func() string { return pick("f", "g", "h", "", "field-with-a-longer-name", "1") }
	value := func() string {
		switch rng.IntN(4) {
		case 0:
			return strconv.Itoa(rng.IntN(2000) - 1000)
		case 1:
			return pick("", "v", "3.5", "-0")
		}
		return fmt.Sprintf("v%d", rng.IntN(50))
	}
	// trim is MAXLEN or MINID with = or ~ and an optional LIMIT.
	trim := func() []string {
		var a []string
		if rng.IntN(2) == 0 {
			a = append(a, "MAXLEN")
		} else {
			a = append(a, "MINID")
		}
		switch rng.IntN(3) {
		case 0:
			a = append(a, "=")
		case 1:
			a = append(a, "~")
		}
		if a[0] == "MAXLEN" {
			a = append(a, pick("0", "1", "2", "3", "5", "8", "-1", "x", "1.5"))
		} else {
			a = append(a, id())
		}
		if rng.IntN(4) == 0 {
			a = append(a, "LIMIT", pick("0", "1", "2", "10", "-1", "x"))
		}
		return a
	}
	idle := func() string { return pick("0", "0", "3600000", "-1", "x") }
	switch rng.IntN(52) {
	case 0, 1, 2, 3, 4, 5, 6:
		a := []string{"XADD", skey()}
		if rng.IntN(8) == 0 {
			a[1] = key()
		}
		if rng.IntN(6) == 0 {
			a = append(a, "NOMKSTREAM")
		}
		if rng.IntN(4) == 0 {
			a = append(a, trim()...)
		}
		switch rng.IntN(5) {
		case 0:
			a = append(a, "*")
		case 1:
			a = append(a, ms()+"-*")
		default:
			a = append(a, id())
		}
		n := 1 + rng.IntN(3)
		if rng.IntN(15) == 0 {
			n = 0
		}
		for i := 0; i < n; i++ {
			a = append(a, field(), value())
		}
		if rng.IntN(20) == 0 {
			a = append(a, "dangling")
		}
		return a
	case 7, 8:
		a := []string{"XRANGE", key(), bound(true), bound(false)}
		if rng.IntN(2) == 0 {
			a[0] = "XREVRANGE"
			a[2], a[3] = bound(false), bound(true)
		}
		if rng.IntN(3) == 0 {
			a = append(a, "COUNT", count())
		}
		return a
	case 9:
		return []string{"XRANGE", skey(), "-", "+"}
	case 10:
		return []string{"XLEN", key()}
	case 11:
		a := []string{"XDEL", key(), id()}
		for rng.IntN(2) == 0 {
			a = append(a, id())
		}
		return a
	case 12:
		return append([]string{"XTRIM", key()}, trim()...)
	case 13, 14:
		a := []string{"XREAD"}
		if rng.IntN(2) == 0 {
			a = append(a, "COUNT", count())
		}
		a = append(a, "STREAMS")
		n := 1 + rng.IntN(2)
		for i := 0; i < n; i++ {
			a = append(a, key())
		}
		if rng.IntN(10) != 0 {
			for i := 0; i < n; i++ {
				a = append(a, pick(id(), "0", "0-0", "$", "+"))
			}
		}
		return a
	case 15, 16:
		a := []string{"XGROUP", "CREATE", skey(), group(), pick("$", "0", "0-0", id())}
		if rng.IntN(3) == 0 {
			a[2] = key()
		}
		if rng.IntN(3) == 0 {
			a = append(a, "MKSTREAM")
		}
		if rng.IntN(4) == 0 {
			a = append(a, "ENTRIESREAD", pick("0", "1", "3", "-1", "-2", "x", "100"))
		}
		return a
	case 17:
		a := []string{"XGROUP", "SETID", key(), group(), pick("$", "0", id())}
		if rng.IntN(3) == 0 {
			a = append(a, "ENTRIESREAD", pick("0", "2", "-1", "x", "100"))
		}
		return a
	case 18:
		return []string{"XGROUP", "DESTROY", key(), group()}
	case 19:
		return []string{"XGROUP", pick("CREATECONSUMER", "DELCONSUMER"), key(), group(), consumer()}
	case 20:
		return []string{"XGROUP", pick("HELP", "NOSUCH", "CREATE", "SETID"), skey()}
	case 21, 22, 23, 24:
		a := []string{"XREADGROUP", "GROUP", group(), consumer()}
		if rng.IntN(2) == 0 {
			a = append(a, "COUNT", count())
		}
		if rng.IntN(4) == 0 {
			a = append(a, "NOACK")
		}
		a = append(a, "STREAMS")
		n := 1 + rng.IntN(2)
		for i := 0; i < n; i++ {
			a = append(a, skey())
		}
		if rng.IntN(10) == 0 {
			a[len(a)-1] = key()
		}
		for i := 0; i < n; i++ {
			if rng.IntN(3) == 0 {
				a = append(a, pick("0", "0-0", id(), "$"))
			} else {
				a = append(a, ">")
			}
		}
		return a
	case 25, 26:
		a := []string{"XACK", key(), group(), id()}
		for rng.IntN(2) == 0 {
			a = append(a, id())
		}
		return a
	case 27, 28:
		a := []string{"XPENDING", skey(), group()}
		if rng.IntN(6) == 0 {
			a[1] = key()
		}
		if rng.IntN(4) != 0 {
			if rng.IntN(4) == 0 {
				a = append(a, "IDLE", idle())
			}
			a = append(a, bound(true), bound(false), count())
			if rng.IntN(3) == 0 {
				a = append(a, consumer())
			}
		}
		return a
	case 29, 30:
		a := []string{"XCLAIM", skey(), group(), consumer(), idle(), id()}
		for rng.IntN(2) == 0 {
			a = append(a, id())
		}
		for rng.IntN(2) == 0 {
			switch rng.IntN(7) {
			case 0:
				a = append(a, "IDLE", pick("0", "5000000", "-1", "x"))
			case 1:
				a = append(a, "TIME", pick("0", "1000", "-1", "x"))
			case 2:
				a = append(a, "RETRYCOUNT", pick("0", "3", "-1", "x"))
			case 3:
				a = append(a, "FORCE")
			case 4:
				a = append(a, "JUSTID")
			case 5:
				a = append(a, "LASTID", id())
			default:
				a = append(a, pick("NOSUCH", "IDLE"))
			}
		}
		return a
	case 31, 32:
		a := []string{"XAUTOCLAIM", skey(), group(), consumer(), idle(), pick("0", "0-0", "-", id(), bound(true))}
		if rng.IntN(2) == 0 {
			a = append(a, "COUNT", pick("1", "2", "3", "10", "0", "-1", "x", "1000000"))
		}
		if rng.IntN(3) == 0 {
			a = append(a, "JUSTID")
		}
		return a
	case 33, 34:
		a := []string{"XINFO", "STREAM", key()}
		if rng.IntN(2) == 0 {
			a = append(a, "FULL")
			if rng.IntN(2) == 0 {
				a = append(a, "COUNT", pick("0", "1", "2", "-1", "x"))
			}
		}
		return a
	case 35:
		return []string{"XINFO", "GROUPS", key()}
	case 36:
		return []string{"XINFO", "CONSUMERS", key(), group()}
	case 37:
		a := []string{"XSETID", key(), id()}
		if rng.IntN(3) == 0 {
			a = append(a, "ENTRIESADDED", pick("0", "3", "10", "-1", "x"), "MAXDELETEDID", id())
		}
		return a
	case 38:
		return []string{"HELLO", pick("2", "3")}
	case 39:
		return []string{"DEL", key()}
	case 40:
		return []string{pick("SET", "RPUSH"), pick("str", "lst"), "x"}
	case 41:
		return []string{"TYPE", key()}
	case 42:
		return []string{"COPY", skey(), skey(), "REPLACE"}
	case 43:
		if rng.IntN(2) == 0 {
			return []string{"ROUNDTRIP", skey()} // see roundTrip
		}
		return []string{"RENAME", skey(), skey()}
	case 44:
		return []string{"OBJECT", "ENCODING", key()}
	case 45:
		// the entry limit of nodes, 0 for none (the byte limit is set per
		// seed: see TestRandomStreamCommands)
		return []string{"CONFIG", "SET", "stream-node-max-entries", pick("0", "1", "2", "4", "100")}
	case 46:
		// options that never block: a stream with new entries, or a
		// malformed timeout
		if rng.IntN(2) == 0 {
			return []string{"XREAD", "BLOCK", pick("-1", "x", "1.5"), "STREAMS", skey(), "0"}
		}
		return []string{"XREADGROUP", "GROUP", group(), consumer(), "BLOCK", pick("-1", "x"), "STREAMS", skey(), ">"}
	case 47:
		// malformed and misplaced options
		return pick2(rng,
			[]string{"XADD", skey(), "MAXLEN", "~", "2", "LIMIT"},
			[]string{"XADD", skey(), "LIMIT", "2", "*", "f", "v"},
			[]string{"XADD", skey(), "MAXLEN", "2", "LIMIT", "5", "*", "f", "v"},
			[]string{"XADD", skey(), "MAXLEN", "~", "2", "MINID", "3", "*", "f", "v"},
			[]string{"XADD", skey(), "MAXLEN", "1", "MAXLEN", "~", "3", ms() + "-*", "f", "v"},
			[]string{"xadd", skey(), "nomkstream", "maxlen", "~", "1", "limit", "1", ms() + "-*", "f", "v"},
			[]string{"XADD", skey()},
			[]string{"XADD", skey(), "*"},
			[]string{"XADD", skey(), "18446744073709551615-*", "f", "v"},
			[]string{"XTRIM", skey()},
			[]string{"XTRIM", skey(), "MAXLEN"},
			[]string{"XTRIM", skey(), "MAXLEN", "~"},
			[]string{"XTRIM", skey(), "MAXLEN", "1", "extra"},
			[]string{"XTRIM", skey(), "LIMIT", "1"},
			[]string{"XTRIM", skey(), "MINID", "~", id(), "LIMIT", "0"},
			[]string{"XRANGE", skey(), "-"},
			[]string{"XRANGE", skey(), "-", "+", "COUNT"},
			[]string{"XRANGE", skey(), "-", "+", "LIMIT", "1"},
			[]string{"XREAD", "STREAMS"},
			[]string{"XREAD", "STREAMS", skey()},
			[]string{"XREAD", "COUNT", "1"},
			[]string{"XREAD", "STREAMS", skey(), skey(), "0"},
			[]string{"XREAD", "NOACK", "STREAMS", skey(), "0"},
			[]string{"XREAD", "GROUP", "g1", "c1", "STREAMS", skey(), "0"},
			[]string{"XREADGROUP", "STREAMS", skey(), ">"},
			[]string{"XREADGROUP", "GROUP", "g1", "STREAMS", skey(), ">"},
			[]string{"XREADGROUP", "GROUP", "g1", "c1", "STREAMS", skey(), "$"},
			[]string{"XPENDING", skey(), "g1", "IDLE", "0"},
			[]string{"XPENDING", skey(), "g1", "-", "+"},
			[]string{"XPENDING", skey(), "g1", "-", "+", "-3"},
			[]string{"XPENDING", skey(), "g1", "IDLE", "x", "-", "+", "3"},
			[]string{"XPENDING", skey(), "g1", "-", "+", "3", "c1", "extra"},
			[]string{"XCLAIM", skey(), "g1", "c1", "0"},
			[]string{"XCLAIM", skey(), "g1", "c1", "0", "1-0", "RETRYCOUNT"},
			[]string{"XAUTOCLAIM", skey(), "g1", "c1", "0"},
			[]string{"XAUTOCLAIM", skey(), "g1", "c1", "0", "0", "COUNT"},
			[]string{"XAUTOCLAIM", skey(), "g1", "c1", "0", "0", "JUSTID", "extra"},
			[]string{"XINFO", "STREAM"},
			[]string{"XINFO", "STREAM", skey(), "COUNT", "1"},
			[]string{"XINFO", "STREAM", skey(), "FULL", "COUNT"},
			[]string{"XINFO", "STREAM", skey(), "FULL", "extra"},
			[]string{"XINFO", "NOSUCH", skey()},
			[]string{"XINFO", "CONSUMERS", skey()},
			[]string{"XGROUP", "CREATE", skey(), "g1", "$", "ENTRIESREAD"},
			[]string{"XGROUP", "CREATE", skey(), "g1", "$", "MKSTREAM", "extra"},
			[]string{"XGROUP", "SETID", skey(), "g1"},
			[]string{"XGROUP", "DESTROY", skey()},
			[]string{"XSETID", skey()},
			[]string{"XSETID", skey(), id(), "ENTRIESADDED", "5"},
			[]string{"XSETID", skey(), id(), "MAXDELETEDID", id()},
			[]string{"XDEL", skey()},
			[]string{"XACK", skey(), "g1"},
			[]string{"XLEN", skey(), "extra"},
		)
	case 48:
		return []string{"XINFO", "STREAM", skey(), "FULL", "COUNT", pick("1", "3", "0")}
	case 49:
		// a trim of a stream with consumer groups, then their lag
		a := append([]string{"XTRIM", skey()}, trim()...)
		return a
	case 50:
		return []string{"XINFO", "GROUPS", skey()}
	default:
		return []string{"EXISTS", key()}
	}
}

// TestStreamNodeBytesLowered checks Crescent where redis-server 7.0.15
// fails an assertion: stream-node-max-bytes lowered below the size of a
// stream's last node, then an XADD that starts a new node.
func TestStreamNodeBytesLowered(t *testing.T) {
	c := Dial(t, StartCrescent(t))
	for _, line := range []string{
		"CONFIG SET stream-node-max-bytes 60",
		"XADD s 9-3 h v32 field-with-a-longer-name v20",
		"XADD s 10-3 f -18",
		"CONFIG SET stream-node-max-bytes 1",
		"XADD s 11-0 field-with-a-longer-name -27 h x",
		"XADD s 12-0 f v",
	} {
		if _, err := c.DoLine(line); err != nil {
			t.Fatal(err)
		}
	}
	got := c.MustDo(t, "XRANGE", "s", "-", "+", "COUNT", "1")
	if want := "*1\r\n*2\r\n$3\r\n9-3\r\n*4\r\n$1\r\nh\r\n$3\r\nv32\r\n$24\r\nfield-with-a-longer-name\r\n$3\r\nv20\r\n"; string(got) != want {
		t.Errorf("XRANGE: %q, want %q", got, want)
	}
	v, _, err := Parse(c.MustDo(t, "XINFO", "STREAM", "s"))
	if err != nil || len(v.Elems) < 4 || string(v.Elems[1].Str) != "4" || string(v.Elems[3].Str) != "4" {
		t.Errorf("XINFO STREAM: %q, want length 4 in 4 nodes", v.Raw)
	}
	c.MustDo(t, "CONFIG", "SET", "stream-node-max-bytes", "4096")
}
