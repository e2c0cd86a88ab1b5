package difftest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTrackingPushPosition checks, for write commands of every type,
// where the redirection target of a tracking client gets the
// invalidation its own command causes: Redis writes it into the
// target's output when the command's code signals the key, which is
// before the reply for SET, after it for HSET or LPUSH, between the
// header and the elements for ZPOPMIN, and on both sides of the reply
// for LMOVE (the destination before, the source after). The target (s1,
// RESP3) runs the command after c2 (RESP2, CLIENT TRACKING on REDIRECT
// s1) read its keys; everything s1 gets up to a PING's answer is
// compared byte for byte.
func TestTrackingPushPosition(t *testing.T) {
	cases := []struct {
		setup string // commands separated by ";"
		keys  string // the keys c2 reads (EXISTS)
		cmd   string
	}{
		{"", "a", "SET a 1"},
		{"set a 1", "a", "INCR a"},
		{"set a 1", "a", "GETDEL a"},
		{"set a 1", "a", "EXPIRE a 100"},
		{"set a 1", "a", "PEXPIREAT a 99999999999999"},
		{"set a 1", "a", "EXPIRE a 100 NX"},
		{"set a 1", "a", "EXPIRE a 0"},
		{"set a 1;expire a 100", "a", "PERSIST a"},
		{"set a 1", "a b", "COPY a b"},
		{"", "a", "LPUSH a x y"},
		{"rpush a 1", "a", "RPUSHX a x"},
		{"rpush a 1", "a", "LSET a 0 x"},
		{"rpush a 1 2", "a", "LPOP a"},
		{"rpush a 1 2", "a b", "LMOVE a b LEFT RIGHT"},
		{"rpush a 1", "a b", "RPOPLPUSH a b"},
		{"rpush a 1 2", "a", "LMOVE a a LEFT RIGHT"},
		{"rpush a 1 2", "a b", "BLMOVE a b RIGHT LEFT 0"},
		{"rpush a 1 2", "a", "LMPOP 1 a LEFT"},
		{"", "a", "HSET a f v"},
		{"", "a", "HMSET a f v"},
		{"", "a", "HSETNX a f v"},
		{"hset a f 1", "a", "HINCRBY a f 1"},
		{"hset a f 1", "a", "HINCRBYFLOAT a f 1"},
		{"hset a f v", "a", "HDEL a f"},
		{"", "a", "SADD a x"},
		{"sadd a 1 2 3", "a", "SPOP a 0"},
		{"sadd a x", "a", "SPOP a"},
		{"sadd a x", "a", "SPOP a 1"},
		{"sadd a x", "a b", "SMOVE a b x"},
		{"", "a", "ZADD a 1 m"},
		{"zadd a 1 m 2 n", "a", "ZPOPMIN a"},
		{"zadd a 1 m 2 n 3 o", "a", "ZPOPMAX a 2"},
		{"zadd a 1 m 2 n", "a", "BZPOPMIN a 0"},
		{"zadd a 1 m 2 n 3 o", "a", "ZMPOP 1 a MAX COUNT 2"},
		{"zadd a 1 m 2 n", "a b", "BZMPOP 0 2 b a MIN"},
		{"zadd a 1 m;zadd b 1 m", "a b c", "ZUNIONSTORE c 2 a b"},
		{"zadd a 1 m;zadd b 1 n", "a b c", "ZINTERSTORE c 2 a b"},
		{"zadd a 1 m;zadd b 1 n", "a b c", "ZDIFFSTORE c 2 a b"},
		{"zadd a 1 m 2 n", "a c", "ZRANGESTORE c a 0 -1"},
		{"", "a", "XADD a 1-1 f v"},
		{"pfadd a x;pfadd b y", "a b c", "PFMERGE c a b"},
		{"set a 1", "a", "EVAL return(redis.call('hset',KEYS[1]..'h','f','v')+redis.call('del',KEYS[1])) 1 a"},
		{"set a 1", "a", "MULTI;HSET a f v;LPUSH b x;EXEC"},
		{"set a 1", "a b", "MULTI;EXPIRE a 100;LPUSH b x;EXEC"},
	}
	p := StartPair(t)
	for _, tc := range cases {
		t.Run(tc.cmd, func(t *testing.T) {
			var got [2]string
			for i, s := range []*Server{p.Redis, p.Crescent} {
				ctl := Dial(t, s)
				flushAndRun(t, ctl, tc.setup)
				s1 := Dial(t, s)
				if err := s1.Hello3(); err != nil {
					t.Fatal(err)
				}
				c2 := Dial(t, s)
				c2.MustDo(t, "CLIENT", "TRACKING", "on", "REDIRECT", clientID(t, s1))
				for _, k := range strings.Fields(tc.keys) {
					c2.MustDo(t, "EXISTS", k)
				}
				for _, c := range strings.Split(tc.cmd, ";") {
					if err := s1.SendCmd(strings.Fields(c)...); err != nil {
						t.Fatal(err)
					}
				}
				got[i] += pushesUntilPong(t, s1, i, got[i])
				for _, c := range []*Conn{ctl, s1, c2} {
					c.Close()
				}
			}
			if got[0] != got[1] {
				t.Errorf("redis:    %q\ncrescent: %q", got[0], got[1])
			}
		})
	}
}

// TestTrackingNoloopServerDeletes checks the invalidation a tracking
// client gets for a key the server itself deletes while it runs a
// command, with and without NOLOOP: Redis compares its current_client,
// so a NOLOOP client whose own read finds the key expired (alone, in
// MULTI, in a script), whose command evicts it for maxmemory or whose
// command cuts the tracking table gets nothing; without NOLOOP the
// expiry's invalidation comes after the reply, an eviction's before it.
// The evicted table key is picked at random: its name is not compared.
func TestTrackingNoloopServerDeletes(t *testing.T) {
	type step struct {
		on   string // "c0" (the tracking client, RESP3) or "ctl"
		cmds [][]string
	}
	c0 := func(cmds ...[]string) step { return step{"c0", cmds} }
	ctl := func(args ...string) step { return step{"ctl", [][]string{args}} }
	expired := []step{ctl("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ctl("SET", "k", "v", "PX", "30"),
		c0([]string{"GET", "k"}), ctl("SLEEP")}
	cases := []struct {
		name  string
		steps []step
		loose bool // the command that evicts may differ: pushes compared apart
	}{
		{"lazy expiry by its read", append(expired, c0([]string{"GET", "k"})), false},
		{"lazy expiry by its EXISTS", append(expired, c0([]string{"EXISTS", "k"})), false},
		{"lazy expiry in its MULTI", append(expired, c0([]string{"MULTI"}, []string{"GET", "k"}, []string{"EXEC"})), false},
		{"lazy expiry in its script", append(expired, c0([]string{"EVAL", "return redis.call('GET', KEYS[1])", "1", "k"})), false},
		{"lazy expiry by another client", append(expired, ctl("GET", "k"), c0([]string{"PING"})), false},
		{"maxmemory eviction before its command", []step{
			ctl("CONFIG", "SET", "maxmemory-policy", "volatile-lru"), ctl("SET", "a", strings.Repeat("x", 20000), "EX", "1000"),
			// the client's own SETRANGE (a short command: Redis counts
			// query buffers) goes over maxmemory, its next command evicts
			// (Crescent's eviction samples may miss the key at first)
			c0([]string{"EXISTS", "a"}), ctl("MAXMEMORY"), c0([]string{"SETRANGE", "b", "399999", "y"}),
			c0([]string{"PING"}), c0([]string{"PING"})}, true},
		// the cron cuts the table too, with no current client (Redis's
		// serverCron as well): paused, so that the cut is the PING's (a
		// cron tick in between sent a NOLOOP client the key, once, under
		// load)
		{"table eviction before its command", []step{
			c0([]string{"MGET", "a", "b"}), ctl("DEBUG", "PAUSE-CRON", "1"),
			ctl("CONFIG", "SET", "tracking-table-max-keys", "1"), c0([]string{"PING"}),
			ctl("DEBUG", "PAUSE-CRON", "0")}, false},
	}
	p := StartPair(t, "--enable-debug-command", "yes")
	for _, tc := range cases {
		for _, noloop := range []bool{false, true} {
			name := tc.name
			if noloop {
				name += " noloop"
			}
			t.Run(name, func(t *testing.T) {
				var got [2]string
				for i, s := range []*Server{p.Redis, p.Crescent} {
					ctl, c0 := Dial(t, s), Dial(t, s)
					ctl.MustDo(t, "FLUSHALL")
					if err := c0.Hello3(); err != nil {
						t.Fatal(err)
					}
					on := []string{"CLIENT", "TRACKING", "on"}
					if noloop {
						on = append(on, "NOLOOP")
					}
					c0.MustDo(t, on...)
					for _, st := range tc.steps {
						switch {
						case st.on == "ctl" && st.cmds[0][0] == "SLEEP":
							time.Sleep(80 * time.Millisecond)
						case st.on == "ctl" && st.cmds[0][0] == "MAXMEMORY":
							used := infoInt(t, ctl, "memory", "used_memory")
							ctl.MustDo(t, "CONFIG", "SET", "maxmemory", fmt.Sprint(used+200000))
						case st.on == "ctl":
							ctl.MustDo(t, st.cmds[0]...)
						default:
							for _, c := range append(st.cmds, []string{"ECHO", "end"}) {
								if err := c0.SendCmd(c...); err != nil {
									t.Fatal(err)
								}
							}
							for {
								b, err := c0.ReadWithin(5 * time.Second)
								if err != nil {
									t.Fatalf("server %d: %v (got %q)", i, err, got[i])
								}
								if string(b) == "$3\r\nend\r\n" {
									break
								}
								got[i] += string(b)
							}
							got[i] += "|"
						}
					}
					ctl.MustDo(t, "CONFIG", "SET", "maxmemory", "0")
					ctl.MustDo(t, "CONFIG", "SET", "maxmemory-policy", "noeviction")
					ctl.MustDo(t, "CONFIG", "SET", "tracking-table-max-keys", "0")
					ctl.MustDo(t, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
					ctl.MustDo(t, "DEBUG", "PAUSE-CRON", "0")
					ctl.Close()
					c0.Close()
					// the table's evicted key is random
					got[i] = strings.NewReplacer("$1\r\na\r\n", "$1\r\n?\r\n", "$1\r\nb\r\n", "$1\r\n?\r\n").Replace(got[i])
					if tc.loose {
						const push = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\n?\r\n"
						got[i] = fmt.Sprintf("%s (%d pushes)", strings.ReplaceAll(got[i], push, ""), strings.Count(got[i], push))
					}
				}
				if got[0] != got[1] {
					t.Errorf("redis:    %q\ncrescent: %q", got[0], got[1])
				}
			})
		}
	}
}

// pushesUntilPong sends c a PING and returns what c receives before the
// PONG: the pushes (invalidations, messages) already on their way to it.
// server and sofar name the server and what the caller got so far, for
// the failure message.
func pushesUntilPong(t *testing.T, c *Conn, server int, sofar string) string {
	t.Helper()
	if err := c.SendCmd("PING"); err != nil {
		t.Fatal(err)
	}
	var got string
	for {
		b, err := c.ReadWithin(5 * time.Second)
		if err != nil {
			t.Fatalf("server %d: %v (got %q)", server, err, sofar+got)
		}
		if string(b) == "+PONG\r\n" {
			return got
		}
		got += string(b)
	}
}

// flushAndRun empties c's server and runs setup's commands on c, separated
// by ";" (fields separated by spaces).
func flushAndRun(t *testing.T, c *Conn, setup string) {
	t.Helper()
	c.MustDo(t, "FLUSHALL")
	for _, cmd := range strings.Split(setup, ";") {
		if cmd != "" {
			c.MustDo(t, strings.Fields(cmd)...)
		}
	}
}
