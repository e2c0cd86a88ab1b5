package difftest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// withTx wraps a random test's generator: now and then (1 step in 12) it
// draws the pseudo-command TX, 1 to 4 of gen's commands queued between
// MULTI and EXEC (DISCARD 1 time in 8): the replies a transaction gives
// (queued errors and EXECABORT, each command's reply inside EXEC's array,
// a HELLO or SELECT that changes the connection halfway, blocking commands
// that do not block, SCRIPT and FUNCTION commands queued) are compared
// with Redis as the plain ones are. As often it draws PIPE, 1 to 4
// commands written in one buffer before any reply is read (pipelined, as
// clients send them), and half the TXs are pipelined too (PEXEC, PDISCARD).
// The pseudo-commands' arguments are the end command ("-" for PIPE) and
// then, for each command, its argument count and its arguments (see
// txCommands); gen's own pseudo-commands are not queued.
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
		var tx []string
		switch rng.IntN(24) {
		case 0:
			tx = []string{"PIPE", "-"}
		case 1:
			if !transactions {
				return gen(rng)
			}
			end := "EXEC"
			if rng.IntN(8) == 0 {
				end = "DISCARD"
			}
			if rng.IntN(2) == 0 {
				end = "P" + end
			}
			tx = []string{"TX", end}
		default:
			return gen(rng)
		}
		for n := 1 + rng.IntN(4); n > 0; n-- {
			cmd := gen(rng)
			switch cmd[0] {
			case "TX", "PIPE", "ROUNDTRIP", "FUNCTION-ROUNDTRIP":
				continue
			}
			tx = append(tx, strconv.Itoa(len(cmd)))
			tx = append(tx, cmd...)
		}
		return tx
	}
}

// txCommands splits a TX pseudo-command's arguments into the commands it
// queues.
func txCommands(args []string) [][]string {
	var cmds [][]string
	for i := 2; i < len(args); {
		n, err := strconv.Atoi(args[i])
		if err != nil || i+1+n > len(args) {
			panic(fmt.Sprintf("difftest: bad TX pseudo-command %q", args))
		}
		cmds = append(cmds, args[i+1:i+1+n])
		i += 1 + n
	}
	return cmds
}

// txRoundTrip runs a TX or PIPE pseudo-command on conn: MULTI, the queued
// commands, EXEC or DISCARD, each sent when the previous reply has come,
// or all written at once (PIPE, PEXEC, PDISCARD). The reply is the
// concatenation of all their replies.
func txRoundTrip(t *testing.T, conn *Conn, args []string) []byte {
	t.Helper()
	cmds := txCommands(args)
	if args[0] == "TX" {
		end := strings.TrimPrefix(args[1], "P")
		cmds = append(append([][]string{{"MULTI"}}, cmds...), []string{end})
		if end == args[1] {
			var out []byte
			for _, cmd := range cmds {
				out = append(out, conn.MustDo(t, cmd...)...)
			}
			return out
		}
	}
	var buf []byte
	for _, cmd := range cmds {
		buf = append(buf, EncodeStrings(cmd...)...)
	}
	if err := conn.Send(buf); err != nil {
		t.Fatalf("difftest: %q: %v", args, err)
	}
	var out []byte
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
// pseudo-commands: MULTI's reply and the queued replies are kept as they
// are; each element of EXEC's array, and each reply of a PIPE, is
// normalised by norm as the reply of its own command.
func withTxNorm(norm func(args []string, b []byte) []byte) func(args []string, b []byte) []byte {
	return func(args []string, b []byte) []byte {
		if norm == nil {
			norm = func(_ []string, b []byte) []byte { return b }
		}
		switch args[0] {
		case "PIPE":
			return pipeNorm(txCommands(args), b, norm)
		case "TX":
		default:
			return norm(args, b)
		}
		cmds := txCommands(args)
		var out []byte
		rest := b
		for range 1 + len(cmds) {
			_, r, err := Parse(rest)
			if err != nil {
				return b
			}
			rest = r
		}
		out = append(out, b[:len(b)-len(rest)]...)
		v, r, err := Parse(rest)
		if err != nil || len(r) != 0 || v.Null || (v.Type != '*' && v.Type != '~') || len(v.Elems) != len(cmds) {
			return append(out, rest...)
		}
		hdr := len(rest)
		for _, e := range v.Elems {
			hdr -= len(e.Raw)
		}
		out = append(out, rest[:hdr]...)
		for i, e := range v.Elems {
			n := norm(cmds[i], e.Raw)
			out = append(out, fmt.Sprintf("[%d:", len(n))...)
			out = append(out, n...)
			out = append(out, ']')
		}
		return out
	}
}

// pipeNorm normalises each of a PIPE's replies, b, by norm as the reply of
// its own command.
func pipeNorm(cmds [][]string, b []byte, norm func(args []string, b []byte) []byte) []byte {
	var out []byte
	for _, cmd := range cmds {
		_, r, err := Parse(b)
		if err != nil {
			return append(out, b...)
		}
		n := norm(cmd, b[:len(b)-len(r)])
		out = append(out, fmt.Sprintf("[%d:", len(n))...)
		out = append(out, n...)
		out = append(out, ']')
		b = r
	}
	return append(out, b...)
}

// TestTxCommands checks how withTx's pseudo-command is split and how its
// replies are normalised element by element.
func TestTxCommands(t *testing.T) {
	args := []string{"TX", "EXEC", "2", "GET", "a", "1", "PING"}
	cmds := txCommands(args)
	if len(cmds) != 2 || fmt.Sprint(cmds) != "[[GET a] [PING]]" {
		t.Fatalf("txCommands(%q) = %q", args, cmds)
	}
	upper := func(args []string, b []byte) []byte {
		if args[0] == "GET" {
			return []byte("normalised")
		}
		return b
	}
	got := string(withTxNorm(upper)(args, []byte("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$1\r\nx\r\n+PONG\r\n")))
	if want := "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n[10:normalised][7:+PONG\r\n]"; got != want {
		t.Fatalf("withTxNorm: %q, want %q", got, want)
	}
	got = string(withTxNorm(upper)(args, []byte("+OK\r\n+QUEUED\r\n-ERR x\r\n-EXECABORT y\r\n")))
	if want := "+OK\r\n+QUEUED\r\n-ERR x\r\n-EXECABORT y\r\n"; got != want {
		t.Fatalf("withTxNorm: %q, want %q", got, want)
	}
	args[0], args[1] = "PIPE", "-"
	got = string(withTxNorm(upper)(args, []byte("$1\r\nx\r\n+PONG\r\n")))
	if want := "[10:normalised][7:+PONG\r\n]"; got != want {
		t.Fatalf("withTxNorm: %q, want %q", got, want)
	}
}
