package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
)

// TestRandomZsets runs seeded random sequences of sorted set, geo,
// HyperLogLog and bitmap commands against Redis and Crescent, in RESP2 and
// RESP3, and compares every reply: ZADD's flag combinations with infinite,
// fractional and invalid scores, every ZRANGE form with exclusive, infinite
// and lexicographic bounds, the pops, removals and set operations (with
// plain sets as inputs), geo searches with every option, HyperLogLog
// registers (compared byte for byte with GET), and bit operations over
// strings of different lengths. A few keys of each kind share one keyspace,
// so that commands also meet wrong types.
func TestRandomZsets(t *testing.T) {
	randomRun{gen: withTx(randomZsetCommand), salt: 0x25e7,
		setup: func(t *testing.T, conn *Conn) {
			// small thresholds so that sorted sets convert both ways
			setConfigFor(t, conn, "zset-max-listpack-entries", "8", "hll-sparse-max-bytes", "200")
		},
		normalize: withTxNorm(normZsets)}.run(t)
}

// normZsets maps the replies of randomZsetCommand's commands that may
// legitimately differ to a common form.
func normZsets(args []string, b []byte) []byte {
	switch args[0] {
	case "HELLO":
		return nil // server name, version and client id differ
	case "ZRANDMEMBER":
		return randomReplyShape(b) // the members are random
	case "ZSCAN":
		return scanPairsSorted(b) // a skiplist's members come in its dict's order
	}
	return b
}

// randomReplyShape keeps what a random reply says independently of the
// draw: an error as it is, otherwise its type and, for an aggregate, its
// length.
func randomReplyShape(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	switch b[0] {
	case '-', '_':
		return b
	case '*':
		if i := bytes.IndexByte(b, '\r'); i > 0 {
			return b[:i]
		}
	case '$':
		if bytes.HasPrefix(b, []byte("$-1")) {
			return b
		}
		return []byte("$")
	}
	return b
}

func randomZsetCommand(rng *rand.Rand) []string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	zkey := func() string { return pick("z1", "z2", "z3", "z1", "z2", "s", "str", "g", "none") }
	// Lexicographic ranges are only specified over equal scores (with
	// different ones Redis's answer depends on the encoding and on the
	// skiplist's random levels): they go to zl, whose scores are all 0.
	// zlstr is only ever a string and nolex never exists: keys that other
	// commands can turn into sorted sets of any scores stay out.
	lkey := func() string { return pick("zl", "zl", "zl", "zl", "zlstr", "nolex") }
	gkey := func() string { return pick("g", "g", "g", "g2", "z1", "str", "none") }
	// Bit writes (SETBIT, BITFIELD, BITOP, APPEND) never reach a
	// HyperLogLog key: a sparse HLL with a damaged or trailing opcode makes
	// Redis read past its end (undefined, and its answers differ from run
	// to run of the C code's allocation). HLL keys are read as bitmaps; the
	// PF commands meet a plain string (hstr) and a sorted set (zl).
	hkey := func() string { return pick("h1", "h2", "h3", "h1", "hstr", "zl", "hnone") }
	bkey := func() string { return pick("b1", "b2", "b3", "b1", "z1", "none", "str") }
	bread := func() string { return pick(bkey(), hkey()) }
	member := func() string {
		switch rng.IntN(8) {
		case 0:
			return strconv.Itoa(rng.IntN(20))
		case 1:
			return pick("", "a", "b", "aa", "ab", "b\x00", "zz", "m\xff")
		case 2:
			if rng.IntN(4) == 0 {
				return fmt.Sprintf("long%070d", rng.IntN(3)) // past the listpack value limit
			}
		}
		return fmt.Sprintf("m%d", rng.IntN(14))
	}
	score := func() string {
		switch rng.IntN(10) {
		case 0:
			return pick("inf", "-inf", "+inf", "1.5", "-0", "0.1", "1e300", "-2.5e-3", "3.0000000000000001",
				"9007199254740993", "1e-320", "0x10", "nan", "abc", "", " 1", "1 ")
		case 1:
			return fmt.Sprintf("%d.%d", rng.IntN(10)-5, rng.IntN(100))
		}
		return strconv.Itoa(rng.IntN(10) - 2)
	}
	// min/max of a score range
	sbound := func() string {
		switch rng.IntN(8) {
		case 0:
			return pick("-inf", "+inf", "inf", "(-inf", "(+inf", "(1.5", "1.5", "(", "abc", "((1", "nan")
		case 1, 2:
			return "(" + strconv.Itoa(rng.IntN(10)-2)
		}
		return strconv.Itoa(rng.IntN(10) - 2)
	}
	lbound := func() string {
		switch rng.IntN(6) {
		case 0:
			return pick("-", "+", "[", "(", "a", "[-", "(+", "[+", "")
		case 1, 2:
			return "(" + member()
		}
		return "[" + member()
	}
	index := func() string {
		switch rng.IntN(8) {
		case 0:
			return pick("9223372036854775807", "-9223372036854775808", "1.5", "x", "-0", "100")
		}
		return strconv.Itoa(rng.IntN(12) - 5)
	}
	count := func() string {
		switch rng.IntN(8) {
		case 0:
			return pick("0", "-1", "-5", "9223372036854775807", "1.5", "x", "100", "")
		}
		return strconv.Itoa(rng.IntN(6))
	}
	limit := func(a []string) []string {
		if rng.IntN(3) == 0 {
			a = append(a, "LIMIT", strconv.Itoa(rng.IntN(5)-1), strconv.Itoa(rng.IntN(6)-2))
		}
		return a
	}
	withscores := func(a []string) []string {
		if rng.IntN(2) == 0 {
			a = append(a, "WITHSCORES")
		}
		return a
	}
	keys := func(a []string, n int, key func() string) []string {
		for i := 0; i < n; i++ {
			a = append(a, key())
		}
		return a
	}
	lon := func() string {
		switch rng.IntN(8) {
		case 0:
			return pick("180", "-180", "180.1", "-181", "0", "x", "inf", "nan", "1e3")
		}
		return fmt.Sprintf("%.4f", 13+rng.Float64()*2)
	}
	lat := func() string {
		switch rng.IntN(8) {
		case 0:
			return pick("85.05112878", "-85.05112878", "85.06", "-90", "0", "x", "-inf")
		}
		return fmt.Sprintf("%.4f", 37+rng.Float64()*2)
	}
	gmember := func() string { return pick("Palermo", "Catania", "Rome", "x", "", "m1", "a") }
	unit := func() string { return pick("m", "km", "mi", "ft", "M", "KM", "yd") }
	dist := func() string {
		return pick("0", "1", "50", "100", "200", "1000", "-1", "x", "1e6", "0.5", "inf")
	}
	// geoCenterShape appends GEOSEARCH's center (FROMMEMBER/FROMLONLAT)
	// and shape (BYRADIUS/BYBOX) to a
	geoCenterShape := func(a []string) []string {
		if rng.IntN(2) == 0 {
			a = append(a, "FROMMEMBER", gmember())
		} else {
			a = append(a, "FROMLONLAT", lon(), lat())
		}
		if rng.IntN(2) == 0 {
			return append(a, "BYRADIUS", dist(), unit())
		}
		return append(a, "BYBOX", dist(), dist(), unit())
	}
	geoOpts := func(a []string, store bool) []string {
		if rng.IntN(2) == 0 {
			a = append(a, pick("ASC", "DESC", "asc"))
		}
		if rng.IntN(3) == 0 {
			a = append(a, "COUNT", count())
			if rng.IntN(3) == 0 {
				a = append(a, "ANY")
			}
		}
		if !store {
			for _, o := range []string{"WITHCOORD", "WITHDIST", "WITHHASH"} {
				if rng.IntN(3) == 0 {
					a = append(a, o)
				}
			}
		} else if rng.IntN(2) == 0 {
			a = append(a, "STOREDIST")
		}
		return a
	}
	bitType := func() string {
		switch rng.IntN(8) {
		case 0:
			return pick("i0", "u0", "u64", "i65", "x8", "i", "U8", "I64")
		case 1:
			return pick("i64", "u63", "i1", "u1")
		}
		if rng.IntN(2) == 0 {
			return "i" + strconv.Itoa(1+rng.IntN(64))
		}
		return "u" + strconv.Itoa(1+rng.IntN(63))
	}
	bitOffset := func() string {
		switch rng.IntN(6) {
		case 0:
			// (no valid huge offsets: they allocate 512MB on both servers)
			return pick("#0", "#1", "#3", "-1", "x", "#-1", "4294967296", "#")
		case 1:
			return "#" + strconv.Itoa(rng.IntN(6))
		}
		return strconv.Itoa(rng.IntN(100))
	}
	bitVal := func() string {
		switch rng.IntN(6) {
		case 0:
			return pick("9223372036854775807", "-9223372036854775808", "18446744073709551615", "x", "1.5")
		}
		return strconv.Itoa(rng.IntN(600) - 300)
	}

	switch rng.IntN(80) {
	case 0, 1, 2, 3, 4:
		a := []string{"ZADD", zkey()}
		for _, f := range []string{"NX", "XX", "GT", "LT", "CH", "INCR"} {
			if rng.IntN(7) == 0 {
				a = append(a, f)
			}
		}
		for n := 1 + rng.IntN(3); n > 0; n-- {
			a = append(a, score(), member())
		}
		if rng.IntN(20) == 0 {
			a = append(a, score()) // odd argument count
		}
		return a
	case 5, 6:
		a := []string{"ZRANGE", zkey(), index(), index()}
		if rng.IntN(4) == 0 {
			a = append(a, "REV")
		}
		return withscores(a)
	case 7, 8:
		a := []string{"ZRANGE", zkey(), sbound(), sbound(), "BYSCORE"}
		if rng.IntN(3) == 0 {
			a = append(a, "REV")
		}
		return withscores(limit(a))
	case 9:
		a := []string{"ZRANGE", lkey(), lbound(), lbound(), "BYLEX"}
		if rng.IntN(3) == 0 {
			a = append(a, "REV")
		}
		if rng.IntN(8) == 0 {
			a = append(a, "WITHSCORES") // an error with BYLEX
		}
		return limit(a)
	case 10:
		a := []string{"ZRANGESTORE", zkey(), zkey()}
		switch rng.IntN(3) {
		case 0:
			a = append(a, index(), index())
		case 1:
			a = append(a, sbound(), sbound(), "BYSCORE")
		default:
			a[2] = lkey()
			a = append(a, lbound(), lbound(), "BYLEX")
		}
		if rng.IntN(3) == 0 {
			a = append(a, "REV")
		}
		return limit(a)
	case 11:
		a := []string{pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), zkey(), sbound(), sbound()}
		return limit(withscores(a))
	case 12:
		return limit([]string{pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), lkey(), lbound(), lbound()})
	case 13:
		return withscores([]string{"ZREVRANGE", zkey(), index(), index()})
	case 14:
		return []string{"ZCOUNT", zkey(), sbound(), sbound()}
	case 15:
		return []string{"ZLEXCOUNT", lkey(), lbound(), lbound()}
	case 16:
		return []string{pick("ZRANK", "ZREVRANK"), zkey(), member()}
	case 17:
		return []string{"ZSCORE", zkey(), member()}
	case 18:
		return keys([]string{"ZMSCORE", zkey()}, rng.IntN(4), member)
	case 19, 20:
		return []string{"ZINCRBY", zkey(), score(), member()}
	case 21:
		a := []string{pick("ZPOPMIN", "ZPOPMAX"), zkey()}
		if rng.IntN(2) == 0 {
			a = append(a, count())
		}
		return a
	case 22:
		n := 1 + rng.IntN(3)
		a := []string{"ZMPOP", strconv.Itoa(n)}
		if rng.IntN(10) == 0 {
			a[1] = pick("0", "-1", "x", "5")
		}
		a = append(keys(a, n, zkey), pick("MIN", "MAX", "min", "mid"))
		if rng.IntN(2) == 0 {
			a = append(a, "COUNT", count())
		}
		return a
	case 23:
		return keys([]string{"ZREM", zkey()}, 1+rng.IntN(3), member)
	case 24:
		return []string{"ZREMRANGEBYSCORE", zkey(), sbound(), sbound()}
	case 25:
		return []string{"ZREMRANGEBYLEX", lkey(), lbound(), lbound()}
	case 26:
		return []string{"ZREMRANGEBYRANK", zkey(), index(), index()}
	case 27, 28, 29:
		op := pick("ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
		n := 1 + rng.IntN(3)
		var a []string
		if op[len(op)-1] == 'E' {
			a = []string{op, zkey()}
		} else {
			a = []string{op}
		}
		if rng.IntN(12) == 0 {
			a = append(a, pick("0", "-1", "x", "4"))
		} else {
			a = append(a, strconv.Itoa(n))
		}
		a = keys(a, n, zkey)
		if op != "ZDIFF" && op != "ZDIFFSTORE" || rng.IntN(8) == 0 {
			if rng.IntN(3) == 0 {
				a = append(a, "WEIGHTS")
				m := n
				if rng.IntN(10) == 0 {
					m = n + 1 - 2*rng.IntN(2)
				}
				for i := 0; i < m; i++ {
					a = append(a, pick("1", "2", "-1", "0", "0.5", "inf", "-inf", "x", "1e308"))
				}
			}
			if rng.IntN(3) == 0 {
				a = append(a, "AGGREGATE", pick("SUM", "MIN", "MAX", "sum", "AVG"))
			}
		}
		if op[len(op)-1] != 'E' {
			a = withscores(a)
		}
		return a
	case 30:
		n := 1 + rng.IntN(3)
		a := keys([]string{"ZINTERCARD", strconv.Itoa(n)}, n, zkey)
		if rng.IntN(2) == 0 {
			a = append(a, "LIMIT", count())
		}
		return a
	case 31:
		a := []string{"ZRANDMEMBER", zkey()}
		if rng.IntN(3) > 0 {
			a = append(a, count())
			if rng.IntN(2) == 0 {
				a = append(a, "WITHSCORES")
			}
		}
		return a
	case 32:
		return []string{pick("ZCARD", "TYPE", "OBJECT"), zkey()}
	case 33:
		return []string{"SADD", pick("s", "s", "z1"), member(), member()}
	case 34, 35, 36:
		a := []string{"GEOADD", gkey()}
		for _, f := range []string{"NX", "XX", "CH"} {
			if rng.IntN(6) == 0 {
				a = append(a, f)
			}
		}
		for n := 1 + rng.IntN(2); n > 0; n-- {
			a = append(a, lon(), lat(), gmember())
		}
		return a
	case 37:
		a := []string{"GEODIST", gkey(), gmember(), gmember()}
		if rng.IntN(2) == 0 {
			a = append(a, unit())
		}
		return a
	case 38:
		return keys([]string{"GEOPOS", gkey()}, rng.IntN(3), gmember)
	case 39:
		return keys([]string{"GEOHASH", gkey()}, rng.IntN(3), gmember)
	case 40, 41, 42:
		a := geoCenterShape([]string{"GEOSEARCH", gkey()})
		if rng.IntN(15) == 0 { // both or neither center/shape
			a = append(a, pick("FROMMEMBER", "BYRADIUS", "BYBOX"), "a", "1", "m")
		}
		return geoOpts(a, false)
	case 43:
		return geoOpts(geoCenterShape([]string{"GEOSEARCHSTORE", gkey(), gkey()}), true)
	case 44, 45:
		var a []string
		if rng.IntN(2) == 0 {
			a = []string{pick("GEORADIUS", "GEORADIUS_RO"), gkey(), lon(), lat(), dist(), unit()}
		} else {
			a = []string{pick("GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"), gkey(), gmember(), dist(), unit()}
		}
		a = geoOpts(a, false)
		if rng.IntN(8) == 0 && a[0][len(a[0])-1] != 'O' {
			a = append(a, pick("STORE", "STOREDIST"), gkey())
		}
		return a
	case 46:
		return []string{"ZRANGE", gkey(), "0", "-1", "WITHSCORES"}
	case 47, 48, 49, 50:
		a := []string{"PFADD", hkey()}
		for n := rng.IntN(4); n > 0; n-- {
			a = append(a, fmt.Sprintf("e%d", rng.IntN(3000)))
		}
		if rng.IntN(6) == 0 {
			for n := 0; n < 40; n++ { // grow towards the dense encoding
				a = append(a, fmt.Sprintf("d%d", rng.IntN(100000)))
			}
		}
		return a
	case 51, 52:
		return keys([]string{"PFCOUNT"}, 1+rng.IntN(3), hkey)
	case 53:
		return keys([]string{"PFMERGE", hkey()}, rng.IntN(3), hkey)
	case 54, 55:
		return []string{"GET", pick(hkey(), bkey())}
	case 56:
		return []string{"STRLEN", pick(hkey(), bkey())}
	case 57, 58, 59:
		off := strconv.Itoa(rng.IntN(80))
		if rng.IntN(10) == 0 {
			off = pick("-1", "4294967296", "x", "1.0") // 4294967295 would allocate 512MB
		}
		return []string{"SETBIT", bkey(), off, pick("0", "1", "1", "2", "x", "-1")}
	case 60:
		off := strconv.Itoa(rng.IntN(100))
		if rng.IntN(10) == 0 {
			off = pick("-1", "4294967295", "4294967296", "x")
		}
		return []string{"GETBIT", bread(), off}
	case 61, 62:
		a := []string{"BITCOUNT", bread()}
		if rng.IntN(4) > 0 {
			a = append(a, index(), index())
			if rng.IntN(2) == 0 {
				a = append(a, pick("BYTE", "BIT", "bit", "WORD"))
			}
		} else if rng.IntN(3) == 0 {
			a = append(a, index()) // start without end: a syntax error
		}
		return a
	case 63, 64:
		a := []string{"BITPOS", bread(), pick("0", "1", "1", "2", "x")}
		if rng.IntN(4) > 0 {
			a = append(a, index())
			if rng.IntN(2) == 0 {
				a = append(a, index())
				if rng.IntN(2) == 0 {
					a = append(a, pick("BYTE", "BIT", "bit", "WORD"))
				}
			}
		}
		return a
	case 65, 66:
		op := pick("AND", "OR", "XOR", "NOT", "and", "NAND")
		a := []string{"BITOP", op, bkey()}
		n := 1 + rng.IntN(3)
		if op == "NOT" && rng.IntN(4) > 0 {
			n = 1
		}
		return keys(a, n, bread)
	case 67, 68, 69, 70:
		ro := rng.IntN(5) == 0
		a := []string{"BITFIELD", bkey()}
		if ro {
			a = []string{"BITFIELD_RO", bread()}
		}
		for n := 1 + rng.IntN(3); n > 0; n-- {
			switch op := rng.IntN(5); {
			case op == 0 && !ro || op == 0 && rng.IntN(4) == 0:
				a = append(a, "SET", bitType(), bitOffset(), bitVal())
			case op == 1 && !ro || op == 1 && rng.IntN(4) == 0:
				a = append(a, "INCRBY", bitType(), bitOffset(), bitVal())
			case op == 2 && !ro || op == 2 && rng.IntN(4) == 0:
				a = append(a, "OVERFLOW", pick("WRAP", "SAT", "FAIL", "wrap", "sat", "BAD"))
			default:
				a = append(a, "GET", bitType(), bitOffset())
			}
		}
		return a
	case 71:
		return []string{"SET", pick("str", bkey(), "hstr", "zlstr"), pick("abc", "", "\xff\x00\x0f", "HYLL", "12345678901234567890")}
	case 72:
		return []string{"APPEND", bkey(), pick("a", "\xff", "\x00\x00")}
	case 73:
		return []string{"DEL", pick(zkey(), gkey(), hkey(), bkey())}
	case 74:
		return []string{"HELLO", pick("2", "3")}
	case 75:
		key := []func() string{zkey, hkey, bkey}[rng.IntN(3)] // within one family: see hkey
		return []string{"COPY", key(), key(), "REPLACE"}
	case 76:
		switch rng.IntN(6) {
		case 0, 1:
			return []string{"ROUNDTRIP", pick(zkey(), gkey(), hkey(), bkey())} // see roundTrip
		case 2:
			// only cursor 0 (or an invalid one) and a COUNT past the
			// set's size: another cursor, or a short COUNT, stops in
			// the middle of a hash table, whose layout differs
			a := []string{"ZSCAN", pick(zkey(), lkey(), gkey()), pick("0", "0", "0", "x", "1.5", "")}
			if rng.IntN(2) == 0 {
				a = append(a, "MATCH", pick("m*", "*1*", "[a-b]*", "long*", "?", "", "m[0-9]"))
			}
			a = append(a, "COUNT", pick("1000", "1000", "1000", "0", "-1", "x"))
			if rng.IntN(8) == 0 {
				a = append(a, pick("NOVALUES", "COUNT", "MATCH"))
			}
			return a
		}
		return []string{"OBJECT", "ENCODING", pick(zkey(), hkey(), bkey())}
	case 77:
		return []string{"ZADD", zkey(), pick("GT", "LT", "NX"), pick("XX", "GT", "LT", "NX"), score(), member()}
	case 78:
		if rng.IntN(2) == 0 {
			return []string{"ZADD", zkey(), "INCR", score(), member(), score(), member()}
		}
		a := []string{"ZADD", "zl"}
		if rng.IntN(3) == 0 {
			a = append(a, pick("NX", "XX", "CH"))
		}
		for n := 1 + rng.IntN(3); n > 0; n-- {
			a = append(a, "0", member())
		}
		return a
	default:
		return withscores([]string{"ZRANGE", zkey(), "0", "-1"})
	}
}

// scanPairsSorted is a ZSCAN or HSCAN reply, [cursor, [field, value, ...]],
// with its pairs sorted (by field, then value): the order of a hash table's
// elements differs between the servers. Any other reply is returned as it is.
func scanPairsSorted(b []byte) []byte {
	v, _, err := Parse(b)
	if err != nil || v.Type != '*' || len(v.Elems) != 2 || len(v.Elems[1].Elems)%2 != 0 {
		return b
	}
	elems := v.Elems[1].Elems
	pairs := make([][]byte, 0, len(elems)/2)
	for i := 0; i+1 < len(elems); i += 2 {
		pairs = append(pairs, append(append([]byte(nil), elems[i].Raw...), elems[i+1].Raw...))
	}
	sort.Slice(pairs, func(i, j int) bool { return bytes.Compare(pairs[i], pairs[j]) < 0 })
	out := append([]byte(nil), v.Elems[0].Raw...)
	out = fmt.Appendf(out, "*%d\r\n", len(elems))
	for _, p := range pairs {
		out = append(out, p...)
	}
	return out
}
