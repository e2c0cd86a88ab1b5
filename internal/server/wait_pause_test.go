package server_test

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSuiteWaitPause is Redis's wait.tcl "WAIT implicitly blocks on
// client pause since ACKs aren't sent", in our words, compared with
// redis-server 7.0.15: a replica attached by hand never acknowledges;
// during CLIENT PAUSE WRITE, WAIT answers 0 after its timeout and no
// REPLCONF GETACK goes to the replica (Redis does not ask for ACKs while
// paused); after CLIENT UNPAUSE, WAIT sends it. What the replica receives
// after the sync is compared byte for byte.
func TestSuiteWaitPause(t *testing.T) {
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		c.mustDo("CONFIG", "SET", "repl-ping-replica-period", "3600")
		nc, rd, _ := rawReplica(t, addr)
		var out []string
		stream := func(what string) {
			out = append(out, what+": "+strconv.Quote(readStream(nc, rd, 300*time.Millisecond)))
		}
		c.mustDo("MULTI")
		c.mustDo("INCR", "foo")
		c.mustDo("CLIENT", "PAUSE", "10000", "WRITE")
		out = append(out, "EXEC: "+c.do("EXEC"))
		out = append(out, "WAIT in the pause: "+c.do("WAIT", "1", "200"))
		stream("stream in the pause")
		c.mustDo("CLIENT", "UNPAUSE")
		out = append(out, "WAIT after: "+c.do("WAIT", "1", "200"))
		stream("stream after the pause")
		return out
	}
	want := run(startRedis(t))
	addr, _ := startCrescent(t)
	got := run(addr)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("redis:\n  %s\ncrescent:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
}

// readStream returns what arrives on a replica's connection within d
// (keepalive newlines dropped).
func readStream(nc net.Conn, rd *bufio.Reader, d time.Duration) string {
	var b strings.Builder
	nc.SetReadDeadline(time.Now().Add(d))
	defer nc.SetReadDeadline(time.Time{})
	for {
		by, err := rd.ReadByte()
		if err != nil {
			return b.String()
		}
		if by == '\n' && b.Len() > 0 && !strings.HasSuffix(b.String(), "\r") {
			continue
		}
		b.WriteByte(by)
	}
}
