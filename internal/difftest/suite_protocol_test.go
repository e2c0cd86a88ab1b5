package difftest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSuiteProtocol compares Redis's protocol.tcl cases that need raw
// input: malformed requests, the protocol desync regressions, inline
// quoting, many arguments, RESP3 attributes and pushes, and blocking
// commands pipelined on one connection.
func TestSuiteProtocol(t *testing.T) {
	p := StartPair(t)
	big := strings.Repeat("A", 1024) + "\n"
	cases := []string{
		"\r\n*1\r\n$4\r\nPING\r\n",
		"*-10\r\n*1\r\n$4\r\nPING\r\n",
		"*20000000\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
		"*1\r\nfoo\r\n",
		"set \"\"\"test-key\"\"\" test-value\r\n",
		"set \"\"\"test-value\"\"\"\r\n",
		"set 'a' 'b\r\n",
		"\x00" + strings.Repeat(big, 70),
		"*\x00" + strings.Repeat(big, 70),
		"$\x00" + strings.Repeat(big, 70),
	}
	t.Run("raw", func(t *testing.T) {
		for i, in := range cases {
			in := in
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
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
					t.Errorf("input %q:\n  redis:    %q closed=%v\n  crescent: %q closed=%v", shorten(in), rout, rclosed, cout, cclosed)
				}
			})
		}
	})
	t.Run("resp3-raw", func(t *testing.T) {
		// HELLO's reply holds the client id, which differs: it is read
		// and dropped, then the raw replies are compared
		for _, cmd := range []string{"attrib", "push", "bignum", "verbatim", "map", "set", "double", "null", "true"} {
			var out [2]string
			for i, addr := range []string{p.Redis.Addr, p.Crescent.Addr} {
				c := Connect(t, addr)
				if _, err := c.Do("HELLO", "3"); err != nil {
					t.Fatal(err)
				}
				if err := c.SendCmd("DEBUG", "PROTOCOL", cmd); err != nil {
					t.Fatal(err)
				}
				if err := c.SendCmd("PING"); err != nil {
					t.Fatal(err)
				}
				var b []byte
				buf := make([]byte, 4096)
				for !strings.HasSuffix(string(b), "+PONG\r\n") {
					c.NetConn().SetReadDeadline(time.Now().Add(3 * time.Second))
					n, err := c.Reader().Read(buf)
					b = append(b, buf[:n]...)
					if err != nil {
						break
					}
				}
				out[i] = string(b)
			}
			if out[0] != out[1] {
				t.Errorf("RESP3 DEBUG PROTOCOL %s:\n  redis:    %q\n  crescent: %q", cmd, out[0], out[1])
			}
		}
	})
	t.Run("many-args", func(t *testing.T) {
		args := []string{"SADD", "sp:set"}
		for i := 0; i < 10000; i++ {
			args = append(args, strconv.Itoa(i))
		}
		for _, s := range []*Server{p.Redis, p.Crescent} {
			c := Connect(t, s.Addr)
			if r := string(c.MustDo(t, args...)); r != ":10000\r\n" {
				t.Errorf("%s: SADD of 10000 members: %q", s.Name, r)
			}
			if r := string(c.MustDo(t, "SCARD", "sp:set")); r != ":10000\r\n" {
				t.Errorf("%s: SCARD: %q", s.Name, r)
			}
			c.MustDo(t, "DEL", "sp:set")
		}
	})
	t.Run("blocking-pipelined", func(t *testing.T) {
		var out [2]string
		for i, s := range []*Server{p.Redis, p.Crescent} {
			a, b := Connect(t, s.Addr), Connect(t, s.Addr)
			blpop := EncodeStrings("BLPOP", "sp:nolist", "0")
			if err := a.Send(append(append([]byte(nil), blpop...), blpop...)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			var got []string
			got = append(got, string(b.MustDo(t, "RPUSH", "sp:nolist", "a")))
			got = append(got, string(b.MustDo(t, "RPUSH", "sp:nolist", "b")))
			for j := 0; j < 2; j++ {
				r, err := a.ReadWithin(3 * time.Second)
				if err != nil {
					t.Fatalf("%s: BLPOP reply %d: %v", s.Name, j, err)
				}
				got = append(got, string(r))
			}
			out[i] = strings.Join(got, " ")
		}
		if out[0] != out[1] {
			t.Errorf("two pipelined BLPOPs:\n  redis:    %q\n  crescent: %q", out[0], out[1])
		}
	})
}

func shorten(s string) string {
	if len(s) > 60 {
		return fmt.Sprintf("%s...(%d bytes)", s[:60], len(s))
	}
	return s
}
