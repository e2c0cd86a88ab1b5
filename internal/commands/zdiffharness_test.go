package commands_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/difftest"
)

// The data type tests' view of internal/difftest (sorted sets, bitmaps,
// HyperLogLog, geo, SORT): the same commands go to an in-process Crescent
// and to a real redis-server started by the test, and the raw replies are
// compared.

// dtConn is a raw RESP connection whose Do takes the arguments as bytes.
type dtConn struct{ *difftest.Conn }

// Do sends args and returns the raw reply.
func (d *dtConn) Do(args ...[]byte) ([]byte, error) { return d.DoArgs(args...) }

// dtPair holds connections to both servers with the same protocol.
type dtPair struct {
	t          testing.TB
	cres, real *dtConn
}

var dtKeys = []string{"k", "k1", "k2", "k3", "dst", "s", "str", "h", "l", "hll", "hll1", "hll2", "hll3", "geo", "geo2", "bm", "bm1", "bm2", "bm3", "{t}k", "{t}dst"}

// dtNewPair starts both servers and connects with protocol proto.
func dtNewPair(t testing.TB, proto int) *dtPair {
	t.Helper()
	p := &dtPair{t: t}
	p.real = &dtConn{difftest.Dial(t, difftest.StartRedis(t))}
	p.cres = &dtConn{difftest.Dial(t, difftest.StartCrescent(t))}
	if proto == 3 {
		p.both("HELLO 3")
	}
	return p
}

func (p *dtPair) both(line string) ([]byte, []byte) {
	p.t.Helper()
	a, err := p.cres.DoLine(line)
	if err != nil {
		p.t.Fatalf("crescent %q: %v", line, err)
	}
	b, err := p.real.DoLine(line)
	if err != nil {
		p.t.Fatalf("redis %q: %v", line, err)
	}
	return a, b
}

// reset deletes the keys the cases use.
func (p *dtPair) reset() {
	p.t.Helper()
	p.both("DEL " + strings.Join(dtKeys, " "))
}

// check runs each line on both servers and fails on the first difference.
func (p *dtPair) check(t *testing.T, lines []string) {
	t.Helper()
	for _, line := range lines {
		a, b := p.both(line)
		if !bytes.Equal(a, b) {
			t.Errorf("%s\n crescent: %q\n    redis: %q", line, a, b)
			return
		}
	}
}

// dtCase is a named sequence of commands.
type dtCase struct {
	name  string
	lines []string
}

// dtRun runs cases in RESP2 and RESP3.
func dtRun(t *testing.T, cases []dtCase) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			p := dtNewPair(t, proto)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					p.reset()
					p.check(t, tc.lines)
				})
			}
		})
	}
}
