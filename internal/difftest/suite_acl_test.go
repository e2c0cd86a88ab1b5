package difftest

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// step is one command of a transcript: sent on the named connection, then
// n replies read (a closed connection is recorded as "<closed>", and a
// connection that stays quiet past wait as "<quiet>").
type step struct {
	conn string
	n    int
	args []string
}

// transcript runs steps against addr, one connection per name, and returns
// what each step read.
func transcript(t *testing.T, addr string, steps []step) []string {
	t.Helper()
	conns := map[string]*Conn{}
	var out []string
	for _, s := range steps {
		c := conns[s.conn]
		if c == nil {
			c = Connect(t, addr)
			conns[s.conn] = c
		}
		if err := c.SendCmd(s.args...); err != nil {
			out = append(out, "<closed>")
			continue
		}
		var got []string
		for i := 0; i < s.n; i++ {
			r, err := c.ReadWithin(2 * time.Second)
			var ne net.Error
			switch {
			case err == nil:
				got = append(got, string(r))
				continue
			case errors.As(err, &ne) && ne.Timeout():
				got = append(got, "<quiet>")
			case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset"):
				got = append(got, "<closed>")
			default:
				got = append(got, "<error "+err.Error()+">")
			}
			break
		}
		out = append(out, strings.Join(got, " | "))
	}
	return out
}

// compareTranscripts runs steps on both servers of p and reports each step
// whose replies differ.
func compareTranscripts(t *testing.T, p *Pair, steps []step) {
	t.Helper()
	r := transcript(t, p.Redis.Addr, steps)
	c := transcript(t, p.Crescent.Addr, steps)
	for i := range steps {
		if r[i] != c[i] {
			t.Errorf("step %d %s %q:\n  redis:    %q\n  crescent: %q", i, steps[i].conn, steps[i].args, r[i], c[i])
		}
	}
}

func st(conn string, n int, args ...string) step { return step{conn: conn, n: n, args: args} }

// TestSuiteACLConnections covers the cases of Redis's acl.tcl and pubsub
// behaviour that a corpus cannot express: several replies to one command
// and connections the server closes (a subscriber losing the permission of
// its channel, a client whose user is deleted).
func TestSuiteACLConnections(t *testing.T) {
	p := StartPair(t)
	cases := []struct {
		name  string
		steps []step
	}{
		{"patterns-unsubscribed-in-order", []step{
			st("s", 4, "PSUBSCRIBE", "a", "b", "c*", "d"),
			st("s", 1, "PSUBSCRIBE", "0"),
			st("s", 5, "PUNSUBSCRIBE"),
			st("s", 1, "PING"),
		}},
		{"subscribers-killed-on-revoke", []step{
			st("m", 1, "ACL", "SETUSER", "sa:ps", "on", ">pspass", "+@all", "resetchannels", "&foo:1", "&bar:*"),
			st("s1", 1, "AUTH", "sa:ps", "pspass"),
			st("s1", 1, "SUBSCRIBE", "foo:1"),
			st("s2", 1, "AUTH", "sa:ps", "pspass"),
			st("s2", 1, "SSUBSCRIBE", "foo:1"),
			st("s3", 1, "AUTH", "sa:ps", "pspass"),
			st("s3", 1, "PSUBSCRIBE", "bar:*"),
			st("s4", 1, "AUTH", "sa:ps", "pspass"),
			st("m", 1, "ACL", "SETUSER", "sa:ps", "resetchannels"),
			st("s1", 1, "PING"),
			st("s2", 1, "PING"),
			st("s3", 1, "PING"),
			st("s4", 1, "PING"),
			st("m", 1, "ACL", "DELUSER", "sa:ps"),
		}},
		{"allchannels-revoked", []step{
			st("m", 1, "ACL", "SETUSER", "sa:ps", "on", ">pspass", "+@all", "allchannels"),
			st("s1", 1, "AUTH", "sa:ps", "pspass"),
			st("s1", 1, "PSUBSCRIBE", "foo"),
			st("m", 1, "ACL", "SETUSER", "sa:ps", "resetchannels"),
			st("s1", 1, "PING"),
			st("m", 1, "ACL", "DELUSER", "sa:ps"),
		}},
		{"subscribers-pardoned", []step{
			st("m", 1, "ACL", "SETUSER", "sa:ps", "on", ">pspass", "+@all", "resetchannels", "&foo:1", "&bar:*", "&orders"),
			st("s1", 1, "AUTH", "sa:ps", "pspass"),
			st("s1", 1, "SUBSCRIBE", "foo:1"),
			st("s1", 1, "SSUBSCRIBE", "orders"),
			st("s1", 1, "PSUBSCRIBE", "bar:*"),
			st("m", 1, "ACL", "SETUSER", "sa:ps", "resetchannels", "&foo:1", "&bar:*", "&orders", "&baz:qaz", "&zoo:*"),
			st("s1", 1, "PING"),
			st("m", 1, "ACL", "SETUSER", "sa:ps", "allchannels"),
			st("s1", 1, "PING"),
			st("m", 1, "ACL", "SETUSER", "sa:ps", "resetchannels", "&foo:*", "&bar:*", "&orders"),
			st("s1", 1, "PING"),
			st("m", 1, "ACL", "DELUSER", "sa:ps"),
		}},
		{"deleted-user-closes-its-clients", []step{
			st("m", 1, "ACL", "SETUSER", "sa:using", "on", "+acl", "+ping", ">passwd"),
			st("u", 1, "AUTH", "sa:using", "passwd"),
			st("u2", 1, "AUTH", "sa:using", "passwd"),
			st("u", 1, "ACL", "DELUSER", "sa:using"),
			st("u", 1, "PING"),
			st("u2", 1, "PING"),
			st("m", 1, "PING"),
		}},
		{"reset-user-closes-its-clients", []step{
			st("m", 1, "ACL", "SETUSER", "sa:r", "on", "+@all", "~*", ">passwd"),
			st("u", 1, "AUTH", "sa:r", "passwd"),
			st("m", 1, "ACL", "SETUSER", "sa:r", "off"),
			st("u", 1, "PING"),
			st("m", 1, "ACL", "SETUSER", "sa:r", "on", "resetkeys"),
			st("u2", 1, "AUTH", "sa:r", "passwd"),
			st("m", 1, "ACL", "SETUSER", "sa:r", "-ping"),
			st("u2", 1, "PING"),
			st("m", 1, "ACL", "SETUSER", "sa:r", "reset"),
			st("u2", 1, "PING"),
			st("m", 1, "ACL", "DELUSER", "sa:r"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { compareTranscripts(t, p, tc.steps) })
	}
}

// TestSuiteACLRevokeOwnChannels: a subscriber (RESP3) whose ACL SETUSER
// takes its own channel away gets its +OK and is then disconnected, as
// Redis 7.2 does; Redis 7.0.15 crashes on it (a use after free in
// ACLKillPubsubClientsIfNeeded), so this is checked on Crescent alone.
func TestSuiteACLRevokeOwnChannels(t *testing.T) {
	c := StartCrescent(t)
	got := transcript(t, c.Addr, []step{
		st("m", 1, "ACL", "SETUSER", "sa:ps", "on", ">pspass", "+@all", "resetchannels", "&foo:1"),
		st("s", 1, "HELLO", "3", "AUTH", "sa:ps", "pspass"),
		st("s", 1, "CLIENT", "SETNAME", "deathrow"),
		st("s", 1, "SUBSCRIBE", "foo:1"),
		st("s", 2, "ACL", "SETUSER", "sa:ps", "resetchannels"),
	})
	if got[4] != "+OK\r\n | <closed>" {
		t.Errorf("ACL SETUSER revoking the subscriber's own channel: got %q, want +OK then the connection closed", got[4])
	}
}
