package difftest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// withTx wraps a random test's generator: now and then (1 step in 24) it
// draws a transaction, the pseudo-command TX: 1 to 4 of gen's commands
// queued between MULTI and EXEC (DISCARD 1 time in 8), a third of the time
// after a WATCH of a key of gen's and maybe one more of gen's commands
// (which may touch that key: EXEC answers null then). The replies a
// transaction gives (queued errors and EXECABORT, each command's reply
// inside EXEC's array, a HELLO or SELECT that changes the connection
// halfway, blocking commands that do not block, SCRIPT and FUNCTION
// commands queued, a WATCH that aborts) are compared with Redis as the
// plain ones are. As often it draws PIPE, 1 to 4 commands written in one
// buffer before any reply is read (pipelined, as clients send them); half
// the transactions are written in one buffer too.
//
// A pseudo-command's arguments are "seq" or "pipe" (how it is sent) and
// then, for each command, its argument count and its arguments (see
// txCommands); gen's own pseudo-commands are not drawn into it.
func withTx(gen func(*rand.Rand) []string) func(*rand.Rand) []string {
	return withGroups(gen, true)
}

// withPipe is withTx without transactions: for TestRandomConfig, whose
// maxmemory values can fall between the two servers' used_memory (Redis's
// allocator's figure, about 1MB on an empty server, and Crescent's accounted
// one, 2MB; seed 62019 set maxmemory 1mb): there every command queued in a
// MULTI is refused with OOM on one server only (processCommand's
// reject_cmd_on_oom for a client in MULTI), which CONFIG SET alone is not.
func withPipe(gen func(*rand.Rand) []string) func(*rand.Rand) []string {
	return withGroups(gen, false)
}

// withGroups is withTx, with transactions or not.
func withGroups(gen func(*rand.Rand) []string, transactions bool) func(*rand.Rand) []string {
	return func(rng *rand.Rand) []string {
		var out []string
		add := func(cmd []string) {
			out = append(out, strconv.Itoa(len(cmd)))
			out = append(out, cmd...)
		}
		// some draws gen's own pseudo-commands left out
		some := func(n int) {
			for ; n > 0; n-- {
				cmd := gen(rng)
				switch cmd[0] {
				case "TX", "PIPE", "ROUNDTRIP", "FUNCTION-ROUNDTRIP":
					continue
				}
				add(cmd)
			}
		}
		switch rng.IntN(24) {
		case 0:
			out = []string{"PIPE", "pipe"}
			some(1 + rng.IntN(4))
		case 1:
			if !transactions {
				return gen(rng)
			}
			out = []string{"TX", "seq"}
			if rng.IntN(2) == 0 {
				out[1] = "pipe"
			}
			if rng.IntN(3) == 0 {
				if cmd := gen(rng); len(cmd) > 1 {
					add([]string{"WATCH", cmd[1]})
				}
				some(rng.IntN(2))
			}
			add([]string{"MULTI"})
			some(1 + rng.IntN(4))
			if rng.IntN(8) == 0 {
				add([]string{"DISCARD"})
			} else {
				add([]string{"EXEC"})
			}
		default:
			return gen(rng)
		}
		return out
	}
}

// txCommands splits a TX or PIPE pseudo-command's arguments into its
// commands.
func txCommands(args []string) [][]string {
	var cmds [][]string
	for i := 2; i < len(args); {
		n, err := strconv.Atoi(args[i])
		if err != nil || i+1+n > len(args) {
			panic(fmt.Sprintf("difftest: bad %s pseudo-command %q", args[0], args))
		}
		cmds = append(cmds, args[i+1:i+1+n])
		i += 1 + n
	}
	return cmds
}

// txRoundTrip runs a TX or PIPE pseudo-command on conn: its commands, each
// sent when the previous reply has come ("seq"), or all written at once
// ("pipe"). The reply is the concatenation of all their replies.
func txRoundTrip(t *testing.T, conn *Conn, args []string) []byte {
	t.Helper()
	cmds := txCommands(args)
	var out []byte
	if args[1] == "seq" {
		for _, cmd := range cmds {
			out = append(out, conn.MustDo(t, cmd...)...)
		}
		return out
	}
	var buf []byte
	for _, cmd := range cmds {
		buf = append(buf, EncodeStrings(cmd...)...)
	}
	if err := conn.Send(buf); err != nil {
		t.Fatalf("difftest: %q: %v", args, err)
	}
	for range cmds {
		r, err := conn.Read()
		if err != nil {
			t.Fatalf("difftest: %q: %v", args, err)
		}
		out = append(out, r...)
	}
	return out
}

// withTxNorm wraps a random test's normalisation for TX and PIPE
// pseudo-commands (see txNorm). A normalisation may learn from the
// replies it sees (streamClock marks a key once an XADD's reply shows a
// clock ID): the whole group is normalised once for that first, so that
// an earlier reply of the group is normalised alike for both servers
// whatever a later one teaches (seed 63075: XINFO STREAM s2, then XADD s2
// *, in one PIPE).
func withTxNorm(norm func(args []string, b []byte) []byte) func(args []string, b []byte) []byte {
	if norm == nil {
		norm = func(_ []string, b []byte) []byte { return b }
	}
	return func(args []string, b []byte) []byte {
		switch args[0] {
		case "TX", "PIPE":
			cmds := txCommands(args)
			txNorm(cmds, b, norm)
			return txNorm(cmds, b, norm)
		}
		return norm(args, b)
	}
}

// txNorm normalises b, the replies of cmds: each by norm as the reply of
// its own command, except the replies of commands queued in a MULTI (kept
// as they are: QUEUED or an error), and EXEC's array, whose elements are
// normalised each as the reply of the command queued for it.
func txNorm(cmds [][]string, b []byte, norm func(args []string, b []byte) []byte) []byte {
	var out []byte
	item := func(n []byte) {
		out = append(out, fmt.Sprintf("[%d:", len(n))...)
		out = append(out, n...)
		out = append(out, ']')
	}
	var queued [][]string
	inMulti := false
	for _, cmd := range cmds {
		v, r, err := Parse(b)
		if err != nil {
			return append(out, b...)
		}
		raw := b[:len(b)-len(r)]
		b = r
		name := strings.ToUpper(cmd[0])
		switch {
		case name == "MULTI" && !inMulti:
			inMulti = len(raw) > 0 && raw[0] == '+'
			item(raw)
		case inMulti && name == "DISCARD":
			inMulti = false
			item(raw)
		case inMulti && name == "EXEC":
			inMulti = false
			if v.Null || (v.Type != '*' && v.Type != '~') || len(v.Elems) != len(queued) {
				item(raw)
				continue
			}
			hdr := len(raw)
			for _, e := range v.Elems {
				hdr -= len(e.Raw)
			}
			out = append(out, raw[:hdr]...)
			for i, e := range v.Elems {
				item(norm(queued[i], e.Raw))
			}
		case inMulti:
			if len(raw) > 0 && raw[0] == '+' {
				queued = append(queued, cmd)
			}
			item(raw)
		default:
			item(norm(cmd, raw))
		}
	}
	return append(out, b...)
}

// TestTxCommands checks how withTx's pseudo-commands are split and how
// their replies are normalised command by command.
func TestTxCommands(t *testing.T) {
	args := []string{"TX", "seq", "2", "GET", "a", "1", "MULTI", "2", "GET", "b", "4", "SET", "a", "b", "c", "1", "PING", "1", "EXEC"}
	cmds := txCommands(args)
	if fmt.Sprint(cmds) != "[[GET a] [MULTI] [GET b] [SET a b c] [PING] [EXEC]]" {
		t.Fatalf("txCommands(%q) = %q", args, cmds)
	}
	norm := withTxNorm(func(args []string, b []byte) []byte {
		if args[0] == "GET" {
			return []byte("n" + args[1])
		}
		return b
	})
	for _, c := range []struct{ reply, want string }{
		{"$1\r\nx\r\n+OK\r\n+QUEUED\r\n-ERR syntax\r\n+QUEUED\r\n*2\r\n$1\r\ny\r\n+PONG\r\n",
			"[2:na][5:+OK\r\n][9:+QUEUED\r\n][13:-ERR syntax\r\n][9:+QUEUED\r\n]*2\r\n[2:nb][7:+PONG\r\n]"},
		{"$1\r\nx\r\n+OK\r\n+QUEUED\r\n-ERR syntax\r\n+QUEUED\r\n-EXECABORT y\r\n",
			"[2:na][5:+OK\r\n][9:+QUEUED\r\n][13:-ERR syntax\r\n][9:+QUEUED\r\n][14:-EXECABORT y\r\n]"},
		{"$1\r\nx\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n",
			"[2:na][5:+OK\r\n][9:+QUEUED\r\n][9:+QUEUED\r\n][9:+QUEUED\r\n][5:*-1\r\n]"},
	} {
		if got := string(norm(args, []byte(c.reply))); got != c.want {
			t.Errorf("withTxNorm(%q):\n got %q\nwant %q", c.reply, got, c.want)
		}
	}
	pipe := []string{"PIPE", "pipe", "2", "GET", "a", "1", "PING"}
	if got, want := string(norm(pipe, []byte("$1\r\nx\r\n+PONG\r\n"))), "[2:na][7:+PONG\r\n]"; got != want {
		t.Fatalf("withTxNorm: %q, want %q", got, want)
	}
}
