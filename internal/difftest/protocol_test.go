package difftest

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawExchange sends raw bytes on a new connection and collects everything
// the server sends until it closes the connection or stays quiet for quiet.
func rawExchange(t *testing.T, addr string, in []byte, quiet time.Duration) (out string, closed bool) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(in); err != nil {
		t.Fatal(err)
	}
	var b []byte
	buf := make([]byte, 64<<10)
	for {
		nc.SetReadDeadline(time.Now().Add(quiet))
		n, err := nc.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			return string(b), !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}

// TestProtocol compares how Redis and Crescent answer well-formed and
// malformed raw input, including whether they close the connection.
func TestProtocol(t *testing.T) {
	p := StartPair(t)
	cases := []string{
		"*abc\r\n",
		"*1\r\n+foo\r\n",
		"*1\r\n$abc\r\n",
		"*1\r\n$-1\r\n",
		"*1\r\n$536870913\r\n",
		"*-1\r\nPING\r\n",
		"*0\r\nPING\r\n",
		"SET \"a b\r\n",
		"SET \"a\"b c\r\n",
		"\r\nPING\r\n",
		"*1\r\n$4\r\nPINGxx",
		"*2\r\n$4\r\nECHO\r\n$3\r\nabcde\r\n",
		"*1\r\n$04\r\nPING\r\n",
		"*01\r\n$4\r\nPING\r\n",
		"*+1\r\n$4\r\nPING\r\n",
		"*1\r\n$+4\r\nPING\r\n",
		"*1\n$4\nPING\n",
		"ECHO 'a\\'b'\r\n",
		"ECHO \"\\x41\\n\"\r\n",
		"ECHO \"a\\\"b\" x\r\n",
		"ECHO a\x00b\r\n",
		"*1\x00\r\n$4\r\nPING\r\n",
		"ECHO \"a\x00\"\r\n",
		"*1\r\n$4\r\nPING\r\n\r\n*1\r\n$4\r\nPING\r\n",
		"PING\nPING\r\nPING\n",
		"   PING   \r\n",
		"ping\r\nEcHo x\r\n",
		"NOSUCH a b\r\n",
		"GET\r\n",
		"*1\r\n$4\r\nPING\r\n*1\r\n+x\r\n*1\r\n$4\r\nPING\r\n",
		strings.Repeat("x", 70000),
		"*" + strings.Repeat("1", 70000),
		"*1\r\n$" + strings.Repeat("1", 70000),
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nabc\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	}
	t.Run("cases", func(t *testing.T) {
		for i, in := range cases {
			in := in
			name := in
			if len(name) > 40 {
				name = name[:40]
			}
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				// A quiet period ends the exchange; on a loaded machine a
				// server can be slower than a short one, so a difference is
				// checked again with a long one before it counts.
				var rout, cout string
				var rclosed, cclosed bool
				for _, quiet := range []time.Duration{300 * time.Millisecond, 3 * time.Second} {
					rout, rclosed = rawExchange(t, p.Redis.Addr, []byte(in), quiet)
					cout, cclosed = rawExchange(t, p.Crescent.Addr, []byte(in), quiet)
					if rout == cout && rclosed == cclosed {
						break
					}
				}
				if rout != cout || rclosed != cclosed {
					t.Errorf("input %q:\n  redis:    %q closed=%v\n  crescent: %q closed=%v", name, rout, rclosed, cout, cclosed)
				}
			})
		}
	})
}
