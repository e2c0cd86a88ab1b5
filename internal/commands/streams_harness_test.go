package commands_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/server"
)

// The streams tests' view of internal/difftest: a Crescent server started
// in-process, a real redis-server started by the test, and a raw RESP
// client that returns each reply's exact bytes and a parsed tree.

// startRedis starts a real redis-server on a free loopback port, or skips.
func startRedis(t testing.TB) string {
	t.Helper()
	return difftest.StartRedis(t).Addr
}

// startStreamsCrescent runs a Crescent server in-process on a free port.
func startStreamsCrescent(t testing.TB) (*server.Server, string) {
	t.Helper()
	s := difftest.StartCrescent(t)
	return s.Crescent, s.Addr
}

// node is a parsed RESP reply: difftest.Parse's Value with every bulk type
// as '$' and a null as "nil", in the form maskTimes works on.
type node struct {
	kind byte
	s    string
	kids []node
}

func toNode(v difftest.Value) node {
	switch v.Type {
	case '$', '=', '!':
		if v.Null {
			return node{kind: v.Type, s: "nil"}
		}
		return node{kind: '$', s: string(v.Str)}
	case '*', '%', '~', '>', '|':
		if v.Null {
			return node{kind: v.Type, s: "nil"}
		}
		out := node{kind: v.Type, kids: []node{}}
		for _, e := range v.Elems {
			out.kids = append(out.kids, toNode(e))
		}
		return out
	}
	return node{kind: v.Type, s: string(v.Str)}
}

func (n node) String() string {
	if n.kids == nil && n.kind != '*' && n.kind != '%' && n.kind != '~' {
		return string(n.kind) + n.s
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = k.String()
	}
	return string(n.kind) + "[" + strings.Join(parts, " ") + "]"
}

type rawConn struct{ c *difftest.Conn }

func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c := difftest.Connect(t, addr)
	c.Timeout = 5 * time.Second
	return &rawConn{c: c}
}

func (rc *rawConn) do(t testing.TB, args ...string) (string, node) {
	t.Helper()
	raw, err := rc.c.Do(args...)
	if err != nil {
		t.Fatalf("read reply: %v (so far %q)", err, raw)
	}
	v, _, err := difftest.Parse(raw)
	if err != nil {
		t.Fatalf("parse reply %q: %v", raw, err)
	}
	return string(raw), toNode(v)
}

// maskTimes zeroes what depends on the clock or on internal layout:
// timestamps, idle times, radix-tree-nodes.
func maskTimes(n node) node {
	if n.kids == nil {
		if n.kind == ':' {
			if v, err := strconv.ParseInt(n.s, 10, 64); err == nil && v > 1e12 {
				n.s = "T"
			}
		}
		return n
	}
	kids := make([]node, len(n.kids))
	for i, k := range n.kids {
		kids[i] = maskTimes(k)
	}
	for i := 0; i+1 < len(kids); i++ {
		switch kids[i].s {
		case "idle", "seen-time", "radix-tree-nodes":
			if kids[i].kind == '$' && kids[i+1].kind == ':' {
				kids[i+1].s = "X"
			}
		}
	}
	// XPENDING extended rows: [id consumer idle count]
	if len(kids) == 4 && kids[0].kind == '$' && kids[1].kind == '$' && kids[2].kind == ':' && kids[3].kind == ':' && strings.Contains(kids[0].s, "-") {
		kids[2].s = "X"
	}
	n.kids = kids
	return n
}

// blockingSupported reports whether the server answers a blocking command
// once its timeout passes (the executor's blocking support may live on
// another branch).
func blockingSupported(t testing.TB, addr string) bool {
	t.Helper()
	c, err := difftest.DialAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SendCmd("XREAD", "BLOCK", "10", "STREAMS", "blocking-probe", "0")
	if _, err := c.ReadWithin(time.Second); err != nil {
		t.Log("the executor does not serve blocked clients: skipping blocking cases")
		return false
	}
	return true
}
