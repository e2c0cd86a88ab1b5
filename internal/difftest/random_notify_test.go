package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestRandomNotifications plays the commands of TestRandomStrings,
// TestRandomZsets and TestRandomStreamCommands (scripted ones included)
// with keyspace notifications on (notify-keyspace-events, every class, new
// keys and key misses) and compares, after each command, the notifications
// a second client subscribed to every key event received: their events,
// keys and order, as well as the command's reply. Redis writes a command's
// notifications before it reads the next command, so a PING on the
// subscriber after the command's reply marks their end.
func TestRandomNotifications(t *testing.T) {
	type gen struct {
		next func(*rand.Rand) []string
		norm func([]string, []byte) []byte
	}
	gens := []gen{
		{randomStringsCommand, normStrings},
		{randomZsetCommand, normZsets},
		{randomStreamCommand, nil}, // clock.mark after streamNormalize (below)
	}
	clock := streamClock{}
	gens[2].norm = func(args []string, b []byte) []byte { return clock.mark(args, streamNormalize(args, b)) }
	// transactions and pipelines of each generator's commands (withTx),
	// each reply normalised as its command's
	for i, g := range gens {
		gens[i] = gen{withTx(g.next), withTxNorm(func(args []string, b []byte) []byte {
			return mixedNormalize(args, g.norm(args, b))
		})}
	}
	flags := []string{"KEA", "KEAn", "Kgxe$lshztn", "EAm", "KEAnm"}
	p := StartPair(t)
	for _, seed := range randomSeeds() {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			clear(clock)
			servers := []*Server{p.Redis, p.Crescent}
			var main, sub [2]*Conn
			for i, s := range servers {
				main[i], sub[i] = Dial(t, s), Dial(t, s)
				main[i].MustDo(t, "FLUSHALL")
				setConfigFor(t, main[i], "hash-max-listpack-entries", "8", "set-max-intset-entries", "8",
					"list-max-listpack-size", "4", "zset-max-listpack-entries", "8",
					"stream-node-max-entries", "4", "notify-keyspace-events", flags[int(seed)%len(flags)])
				sub[i].MustDo(t, "PSUBSCRIBE", "__key*__:*")
			}
			rng := rand.New(rand.NewPCG(seed, 0x4e07))
			var hist []string
			for i := 0; i < 1500; i++ {
				g := gens[rng.IntN(len(gens))]
				args := g.next(rng)
				hist = append(hist, strings.Join(args, " "))
				if len(hist) > histLen {
					hist = hist[1:]
				}
				var reps, notes [2][]byte
				for j := range servers {
					reps[j] = g.norm(args, roundTrip(t, main[j], args))
					notes[j] = notifications(t, sub[j])
					if anyCommand(args, isScanType) {
						// SCAN's TYPE filter looks each key up (keymiss for
						// one whose time passed) only if the server's active
						// expiry has not deleted it yet (seed 5268)
						notes[j] = dropLines(notes[j], "keymiss")
					}
					if anyCommand(args, isSort) {
						// SORT looks its BY and GET keys up in the order of
						// the set's elements: a hash table's, per process
						notes[j] = sortLines(notes[j])
					}
					if anyCommand(args, isSortLimitUnsorted) {
						// and with a BY that does not sort, LIMIT takes
						// some of them in that order: GET looks up other
						// keys (seed 63054)
						notes[j] = dropLines(notes[j], "keymiss")
					}
				}
				if !bytes.Equal(reps[0], reps[1]) || !bytes.Equal(notes[0], notes[1]) {
					t.Fatalf("step %d: %q\n  redis:    %q\n            %s\n  crescent: %q\n            %s\nlast commands:\n  %s",
						i, args, reps[0], notes[0], reps[1], notes[1], strings.Join(hist, "\n  "))
				}
			}
		})
	}
}

// mixedNormalize completes a generator's normalisation for commands that
// meet the other generators' keys: the IDs XADD * gives a stream (in any
// reply, and in DUMP's payload of a stream) are the clock's.
func mixedNormalize(args []string, b []byte) []byte {
	if b == nil {
		return nil
	}
	cmd := args
	if args[0] == "EVAL" && len(args) > 3 {
		cmd = args[3:] // a scripted command (see scripted)
	}
	if strings.EqualFold(cmd[0], "DUMP") {
		if v, _, err := Parse(b); err == nil && v.Type == '$' && !v.Null && len(v.Str) > 0 &&
			(v.Str[0] == 15 || v.Str[0] == 19 || v.Str[0] == 21) {
			return replyShape(b)
		}
	}
	return streamNormalize(args, b)
}

// anyCommand reports whether f holds for args or, for withTx's
// pseudo-commands, for any of their commands.
func anyCommand(args []string, f func([]string) bool) bool {
	switch args[0] {
	case "TX", "PIPE":
		for _, cmd := range txCommands(args) {
			if f(cmd) {
				return true
			}
		}
		return false
	}
	return f(args)
}

// isSort reports whether args is a SORT or SORT_RO, scripted or not.
func isSort(args []string) bool {
	if args[0] == "EVAL" && len(args) > 3 {
		args = args[3:]
	}
	return strings.EqualFold(args[0], "SORT") || strings.EqualFold(args[0], "SORT_RO")
}

// isSortLimitUnsorted reports whether args, unwrapped from a script as
// isSort does, is a SORT or SORT_RO with LIMIT and a BY pattern without
// '*' (nosort): a set's elements are then taken in its hash table's order
// (normStrings compares the reply's shape only).
func isSortLimitUnsorted(args []string) bool {
	if !isSort(args) {
		return false
	}
	if args[0] == "EVAL" && len(args) > 3 {
		args = args[3:]
	}
	by, limit := false, false
	for i, a := range args[1:] {
		switch strings.ToUpper(a) {
		case "BY":
			by = by || (i+2 < len(args) && !strings.Contains(args[i+2], "*"))
		case "LIMIT":
			limit = true
		}
	}
	return by && limit
}

// isScanType reports whether args, unwrapped from a script as isSort
// does, is a SCAN with a TYPE filter.
func isScanType(args []string) bool {
	if args[0] == "EVAL" && len(args) > 3 {
		args = args[3:]
	}
	if !strings.EqualFold(args[0], "SCAN") {
		return false
	}
	for _, a := range args[1:] {
		if strings.EqualFold(a, "TYPE") {
			return true
		}
	}
	return false
}

// dropLines removes the lines of b that hold word.
func dropLines(b []byte, word string) []byte {
	var out []byte
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(l, word) {
			out = append(out, l...)
		}
	}
	return out
}

// sortLines sorts b's lines.
func sortLines(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	sort.Strings(lines)
	return []byte(strings.Join(lines, ""))
}

// notifications reads what the subscriber sub received up to the reply to
// a PING sent now: the pmessages' channels and payloads, one per line.
func notifications(t *testing.T, sub *Conn) []byte {
	t.Helper()
	if err := sub.SendCmd("PING"); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for {
		b, err := sub.ReadWithin(10 * time.Second)
		if err != nil {
			t.Fatalf("subscriber: %v", err)
		}
		v, _, err := Parse(b)
		if err != nil || v.Type != '*' || len(v.Elems) < 2 {
			t.Fatalf("subscriber got %q", b)
		}
		switch string(v.Elems[0].Str) {
		case "pong":
			return out
		case "pmessage":
			// "expired" comes when a key whose time passed is found,
			// which the servers' active expiry cycles do at their own
			// moments (the generators set times in the past)
			if string(v.Elems[3].Str) != "expired" && !bytes.HasSuffix(v.Elems[2].Str, []byte("__:expired")) {
				out = fmt.Appendf(out, "%s %s\n", v.Elems[2].Str, v.Elems[3].Str)
			}
		default:
			t.Fatalf("subscriber got %q", b)
		}
	}
}

// TestKeyspaceEvents compares the notifications of cases TestRandomNotifications
// found different: the "new" event (n, which CONFIG GET hides behind A)
// of every way a key is created, SETBIT and BITFIELD only when they change
// something, OBJECT without a "keymiss" event.
func TestKeyspaceEvents(t *testing.T) {
	cases := []struct {
		flags string
		cmds  [][]string
	}{
		{"KEAn", [][]string{{"SET", "a", "1"}, {"SET", "a", "2"}, {"APPEND", "b", "x"}, {"INCR", "c"},
			{"LPUSH", "l", "x"}, {"HSET", "h", "f", "v"}, {"SADD", "s", "m"}, {"ZADD", "z", "1", "m"},
			{"XADD", "x", "1-1", "f", "v"}, {"PFADD", "p", "e"}, {"SETRANGE", "r", "2", "x"},
			{"RENAME", "a", "a2"}, {"COPY", "a2", "a3"}, {"MOVE", "a3", "1"}, {"LMOVE", "l", "l2", "LEFT", "LEFT"},
			{"SMOVE", "s", "s2", "m"}, {"SUNIONSTORE", "d", "s2"}, {"BITOP", "OR", "bo", "b"}}},
		{"KEA", [][]string{{"SETBIT", "b", "55", "1"}, {"SETBIT", "b", "55", "1"}, {"SETBIT", "b", "3", "0"},
			{"SETBIT", "b", "100", "0"}, {"BITFIELD", "b", "SET", "u8", "0", "0"},
			{"BITFIELD", "b", "INCRBY", "u8", "0", "0"}, {"BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"},
			{"BITFIELD", "b", "SET", "i8", "0", "-1"}, {"BITFIELD", "b", "SET", "i8", "0", "-1"},
			{"BITFIELD", "b", "SET", "u8", "400", "0"}, {"BITFIELD", "nb", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"}}},
		{"KEAm", [][]string{{"OBJECT", "ENCODING", "nokey"}, {"OBJECT", "FREQ", "nokey"}, {"GET", "nokey"},
			{"EXISTS", "nokey"}, {"HGET", "nokey", "f"}}},
		// the read lookups of write commands (lookupKeyRead): keymiss, and
		// INFO's keyspace_hits and keyspace_misses
		{"KEAm", [][]string{{"SET", "a", "1", "GET"}, {"SET", "a", "2", "GET"}, {"GETDEL", "n1"}, {"GETEX", "a"},
			{"GETSET", "n2", "v"}, {"SADD", "s", "m"}, {"SUNIONSTORE", "d", "s", "n3"}, {"SINTERSTORE", "d", "n4"},
			{"SDIFFSTORE", "d", "s", "n5"}, {"ZADD", "z", "1", "m"}, {"ZUNIONSTORE", "d", "2", "z", "n6"},
			{"ZINTERSTORE", "d", "1", "n7"}, {"ZDIFFSTORE", "d", "1", "z"}, {"ZRANGESTORE", "d", "n8", "0", "1"},
			{"GEORADIUS", "n9", "0", "0", "1", "m", "STORE", "d"}, {"GEOSEARCHSTORE", "d", "n10", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"},
			{"BITOP", "OR", "d", "a", "n11"}, {"PFMERGE", "h", "n12"}, {"PFMERGE", "h", "n12"}, {"COPY", "n13", "d"},
			{"COPY", "a", "d2"}, {"BITFIELD", "n14", "GET", "u8", "0"}, {"BITFIELD", "a", "SET", "u8", "0", "1"},
			{"SORT", "n15"}, {"SORT", "n16", "STORE", "d"}, {"RPUSH", "l", "1", "2"},
			{"SORT", "l", "BY", "w_*", "GET", "h_*->f", "GET", "#"}, {"XACK", "n17", "g", "1-1"},
			{"XCLAIM", "n18", "g", "c", "0", "1-1"}, {"XAUTOCLAIM", "n19", "g", "c", "0", "0"},
			{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "n20", ">"}}},
		// SCAN reclaims the expired keys it visits that pass MATCH (an
		// "expired" event each); with TYPE each is a read: a hit, or a
		// miss and a "keymiss" for an expired one
		{"KEAm", [][]string{{"DEBUG", "SET-ACTIVE-EXPIRE", "0"}, {"SET", "a", "1"}, {"SET", "b", "1", "PX", "1"},
			{"SET", "xb", "1", "PX", "1"}, {"DEBUG", "SLEEP", "0.02"}, {"DBSIZE"}, {"SCAN", "0", "MATCH", "x*", "COUNT", "100"},
			{"DBSIZE"}, {"SCAN", "0", "TYPE", "string", "COUNT", "100"}, {"DBSIZE"}, {"DEBUG", "SET-ACTIVE-EXPIRE", "1"}}},
	}
	p := StartPair(t)
	for _, tc := range cases {
		var main, sub [2]*Conn
		for i, s := range []*Server{p.Redis, p.Crescent} {
			main[i], sub[i] = Dial(t, s), Dial(t, s)
			main[i].MustDo(t, "FLUSHALL")
			setConfigFor(t, main[i], "notify-keyspace-events", tc.flags)
			sub[i].MustDo(t, "PSUBSCRIBE", "__key*__:*")
			main[i].MustDo(t, "CONFIG", "RESETSTAT")
		}
		for _, cmd := range tc.cmds {
			var reps, notes [2][]byte
			for i := range main {
				reps[i], notes[i] = main[i].MustDo(t, cmd...), notifications(t, sub[i])
			}
			if !bytes.Equal(reps[0], reps[1]) || !bytes.Equal(notes[0], notes[1]) {
				t.Errorf("%s %q:\n  redis:    %q %s\n  crescent: %q %s", tc.flags, cmd, reps[0], notes[0], reps[1], notes[1])
			}
		}
		var stats [2]string
		for i := range main {
			for _, l := range strings.Split(string(main[i].MustDo(t, "INFO", "stats")), "\r\n") {
				if strings.HasPrefix(l, "keyspace_") {
					stats[i] += l + " "
				}
			}
		}
		if stats[0] != stats[1] {
			t.Errorf("%s %q: INFO stats\n  redis:    %s\n  crescent: %s", tc.flags, tc.cmds, stats[0], stats[1])
		}
	}
}
