package difftest

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
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
	compareMasked(t, p, steps, [2]string{})
}

// compareMasked is compareTranscripts with mask[0] replaced in Redis's
// replies and mask[1] in Crescent's (each server's own file path) by
// "<path>".
func compareMasked(t *testing.T, p *Pair, steps []step, mask [2]string) {
	t.Helper()
	r := transcript(t, p.Redis.Addr, steps)
	c := transcript(t, p.Crescent.Addr, steps)
	for i := range steps {
		if mask[0] != "" {
			r[i] = strings.ReplaceAll(r[i], mask[0], "<path>")
			c[i] = strings.ReplaceAll(c[i], mask[1], "<path>")
		}
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
		{"killed-subscriber-not-counted", []step{
			st("s", 1, "SUBSCRIBE", "kch"),
			st("s2", 1, "PSUBSCRIBE", "kc*"),
			st("m", 1, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub"),
			st("m", 1, "PUBLISH", "kch", "x"),
			st("m", 1, "PUBSUB", "NUMSUB", "kch"),
			st("m", 1, "PUBSUB", "NUMPAT"),
			// in one transaction: the PUBLISH right after the kill
			st("s3", 1, "SUBSCRIBE", "kch"),
			st("m", 1, "MULTI"),
			st("m", 1, "CLIENT", "KILL", "SKIPME", "yes", "TYPE", "pubsub"),
			st("m", 1, "PUBLISH", "kch", "x"),
			st("m", 1, "EXEC"),
			st("m", 1, "ACL", "SETUSER", "sa:k", "on", "nopass", "+@all", "allchannels"),
			st("s4", 1, "AUTH", "sa:k", "x"),
			st("s4", 1, "SUBSCRIBE", "kch"),
			st("m", 1, "MULTI"),
			st("m", 1, "ACL", "SETUSER", "sa:k", "resetchannels"),
			st("m", 1, "PUBLISH", "kch", "x"),
			st("m", 1, "ACL", "DELUSER", "sa:k"),
			st("m", 1, "EXEC"),
		}},
		{"deleted-user-closes-its-clients", []step{

			st("m", 1, "ACL", "SETUSER", "sa:using", "on", "+acl", "+ping", "+subscribe", "allchannels", ">passwd"),
			st("u", 1, "AUTH", "sa:using", "passwd"),
			st("u2", 1, "AUTH", "sa:using", "passwd"),
			st("u3", 1, "AUTH", "sa:using", "passwd"),
			st("u3", 1, "SUBSCRIBE", "dch"),
			st("u", 1, "ACL", "DELUSER", "sa:using"),
			st("m", 1, "PUBLISH", "dch", "x"),
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

// aclFilePair starts Redis and Crescent each with an ACL file of its own
// holding text, and returns the pair and the two files' paths.
func aclFilePair(t *testing.T, text string, args ...string) (*Pair, [2]string) {
	t.Helper()
	var paths [2]string
	for i := range paths {
		paths[i] = filepath.Join(t.TempDir(), "users.acl")
		if err := os.WriteFile(paths[i], []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := StartRedis(t, append([]string{"--aclfile", paths[0]}, args...)...)
	c := StartCrescent(t, append([]string{"--aclfile", paths[1]}, args...)...)
	return &Pair{Redis: r, Crescent: c}, paths
}

// writeBoth replaces the content of both servers' ACL files.
func writeBoth(t *testing.T, paths [2]string, text string) {
	t.Helper()
	for _, p := range paths {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSuiteACLFile covers acl.tcl's and acl-v2.tcl's cases with an ACL
// file: users loaded at startup, acl-pubsub-default, ACL LOAD and SAVE
// (and the clients they disconnect), duplicate users, selectors in a file.
func TestSuiteACLFile(t *testing.T) {
	const users = "user alice on allcommands allkeys &* >alice\n" +
		"user bob on -@all +@set +acl ~set* &* >bob\n" +
		"user default on nopass ~* &* +@all\n"
	t.Run("users", func(t *testing.T) {
		p, paths := aclFilePair(t, users, "--acl-pubsub-default", "allchannels")
		compareTranscripts(t, p, []step{
			st("m", 1, "SUBSCRIBE", "foo"),
			st("m", 1, "PSUBSCRIBE", "bar*"),
			st("m", 1, "UNSUBSCRIBE", "foo"),
			st("m", 1, "PUNSUBSCRIBE", "bar*"),
			st("m", 1, "PUBLISH", "hello", "world"),
			st("m", 1, "ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "+@all"),
			st("m", 1, "ACL", "GETUSER", "default"),
			st("m", 1, "PUBLISH", "hello", "world"),
			st("m", 1, "CONFIG", "SET", "acl-pubsub-default", "resetchannels"),
			st("m", 1, "ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "+@all"),
			st("m", 1, "SUBSCRIBE", "foo"),
			st("m", 1, "PSUBSCRIBE", "bar*"),
			st("m", 1, "PUBLISH", "hello", "world"),
			st("m", 1, "ACL", "SETUSER", "default", "allchannels"),
			st("a", 1, "AUTH", "alice", "alice"),
			st("a", 1, "ACL", "WHOAMI"),
			st("a", 1, "SET", "key", "value"),
			st("b", 1, "AUTH", "bob", "bob"),
			st("b", 1, "SADD", "set", "1", "2", "3"),
			st("b", 1, "SET", "key", "value"),
			st("m", 1, "ACL", "LIST"),
		})
		// ACL LOAD: Redis 7.0 disconnects every client of a user other than
		// default, whether its rules changed or not
		compareTranscripts(t, p, []step{
			st("m", 1, "ACL", "SETUSER", "doug", "on", "nopass", "resetchannels", "&test*", "+@all", "~*"),
			st("s1", 1, "AUTH", "alice", "alice"),
			st("s1", 1, "SUBSCRIBE", "test1"),
			st("s2", 1, "AUTH", "doug", "doug"),
			st("s2", 1, "SUBSCRIBE", "test1"),
			st("d", 1, "SUBSCRIBE", "test1"),
			st("m", 1, "ACL", "LOAD"),
			st("m", 1, "PUBLISH", "test1", "test-message"),
			st("s1", 1, "PING"),
			st("s2", 1, "PING"),
			st("d", 1, "PING"),
			st("m", 1, "ACL", "USERS"),
		})
		compareTranscripts(t, p, []step{
			st("m", 1, "ACL", "SETUSER", "eve", "+get", "allkeys", ">eve", "on"),
			st("m", 1, "ACL", "SETUSER", "harry", "on", "nopass", "resetchannels", "&test", "+@all", "~*"),
			st("m", 1, "ACL", "SETUSER", "sel", "on", "nopass", "(+get %R~r*)", "(+set %W~w*)"),
			st("m", 1, "ACL", "SAVE"),
			st("m", 1, "ACL", "LOAD"),
			st("m", 1, "ACL", "LIST"),
			st("e", 1, "AUTH", "eve", "eve"),
			st("e", 1, "GET", "key"),
			st("e", 1, "SET", "key", "value"),
			st("h", 1, "AUTH", "harry", "anything"),
			st("h", 1, "PUBLISH", "test", "bar"),
			st("h", 1, "PUBLISH", "test1", "bar"),
		})
		for i, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				defer func(redis string) {
					cb, _ := os.ReadFile(paths[1])
					if string(cb) != redis {
						t.Errorf("ACL SAVE:\n  redis:    %q\n  crescent: %q", redis, cb)
					}
				}(string(b))
			}
		}
	})
	t.Run("bad-files", func(t *testing.T) {
		p, paths := aclFilePair(t, users)
		for _, extra := range []string{
			"user alice on nopass ~* -@all\n",
			"user default on nopass ~* -@all\n",
			"# a comment\n",
			"user y on +nosuch\nuser z on ~a allkeys ~b\n",
			"user w on \"(+get ~x)\"\n",
			"usr q\n",
			"user\n",
		} {
			writeBoth(t, paths, users+extra)
			compareMasked(t, p, []step{
				st("m", 1, "ACL", "LOAD"),
				st("m", 1, "ACL", "LIST"),
			}, paths)
		}
		writeBoth(t, paths, "user alice on (+get ~rw*)\nuser bob on (+set %W~w*) (+get %R~r*)\n\nuser default on nopass ~* &* +@all\n")
		compareTranscripts(t, p, []step{
			st("m", 1, "ACL", "LOAD"),
			st("m", 1, "ACL", "GETUSER", "alice"),
			st("m", 1, "ACL", "GETUSER", "bob"),
		})
		if err := os.Remove(paths[0]); err != nil {
			t.Fatal(err)
		}
		os.Remove(paths[1])
		compareMasked(t, p, []step{st("m", 1, "ACL", "LOAD")}, paths)
	})
	t.Run("no-default-user", func(t *testing.T) {
		for _, def := range []string{"resetchannels", "allchannels"} {
			p, _ := aclFilePair(t, "user alice on nopass ~* +@all\n", "--acl-pubsub-default", def)
			compareTranscripts(t, p, []step{
				st("m", 1, "ACL", "GETUSER", "default"),
				st("m", 1, "ACL", "GETUSER", "alice"),
				st("m", 1, "CONFIG", "SET", "acl-pubsub-default", "allchannels"),
				st("m", 1, "ACL", "SETUSER", "mydefault"),
				st("m", 1, "ACL", "GETUSER", "mydefault"),
				st("m", 1, "ACL", "SETUSER", "onechannel", "&test"),
				st("m", 1, "CONFIG", "SET", "acl-pubsub-default", "resetchannels"),
				st("m", 1, "ACL", "GETUSER", "mydefault"),
				st("m", 1, "ACL", "SETUSER", "onechannel", "&test"),
				st("m", 1, "ACL", "GETUSER", "onechannel"),
			})
		}
	})
	t.Run("user-directive", func(t *testing.T) {
		for _, u := range []string{"default on nopass ~* +@all", "default on nopass ~* &* +@all"} {
			p := StartPair(t, append([]string{"--user"}, strings.Fields(u)...)...)
			compareTranscripts(t, p, []step{
				st("m", 1, "SUBSCRIBE", "foo"),
				st("m", 1, "PSUBSCRIBE", "bar*"),
				st("m", 1, "PUBLISH", "hello", "world"),
			})
		}
	})
}

// TestSuiteACLFileUnmatchedParen: an ACL file line with a selector left
// open makes ACL LOAD fail with Redis's error text; Redis 7.0.15 itself
// crashes on it (it frees the line's arguments twice), so this is checked
// on Crescent alone.
func TestSuiteACLFileUnmatchedParen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(path, []byte("user default on nopass ~* &* +@all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := StartCrescent(t, "--aclfile", path)
	if err := os.WriteFile(path, []byte("user default on nopass ~* &* +@all\nuser x on (+get\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := transcript(t, c.Addr, []step{st("m", 1, "ACL", "LOAD"), st("m", 1, "ACL", "USERS")})
	want := "-ERR " + path + ":2: Unmatched parenthesis in selector definition.WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n"
	if got[0] != want || got[1] != "*1\r\n$7\r\ndefault\r\n" {
		t.Errorf("ACL LOAD of a file with an open selector:\n  got  %q\n  want %q, then the users unchanged", got, want)
	}
}
