package difftest

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// TestSuitePubSubReplica: PUBLISH and SPUBLISH on a master reach the
// subscribers of its replicas (both go down the replication stream), as
// Redis's pubsubshard tests check. Every pairing of a master and a
// replica, Redis or Crescent, gives the replica's subscriber what a Redis
// replica of a Redis master gives it.
func TestSuitePubSubReplica(t *testing.T) {
	type server struct {
		name  string
		start func(testing.TB, ...string) *Server
	}
	kinds := []server{{"redis", StartRedis}, {"crescent", StartCrescent}}
	run := func(t *testing.T, master, replica server) string {
		m := master.start(t, "--repl-diskless-sync-delay", "0")
		r := replica.start(t)
		mc, rc, sub := Dial(t, m), Dial(t, r), Dial(t, r)
		host, port, _ := net.SplitHostPort(m.Addr)
		if rep, err := rc.Do("REPLICAOF", host, port); err != nil || string(rep) != "+OK\r\n" {
			t.Fatalf("REPLICAOF: %q %v", rep, err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			info, err := rc.Do("INFO", "replication")
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(info, []byte("master_link_status:up")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the link did not come up: %s", info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var out []string
		for _, l := range []string{"SSUBSCRIBE chan1", "SUBSCRIBE chan2"} {
			rep, err := sub.DoLine(l)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, l+" -> "+string(rep))
		}
		for _, l := range []string{"SPUBLISH chan1 hello", "PUBLISH chan2 world", "SPUBLISH chan1 world", "SPUBLISH chan2 nobody"} {
			rep, err := mc.DoLine(l)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, "master "+l+" -> "+string(rep))
		}
		for range 3 {
			rep, err := sub.Read()
			if err != nil {
				t.Fatalf("reading the replica's messages (got %q): %v", out, err)
			}
			out = append(out, "replica <- "+string(rep))
		}
		// nothing more: a PING's reply comes next
		rep, err := sub.Do("PING")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "PING -> "+string(rep))
		return strings.Join(out, "\n")
	}
	want := ""
	for _, master := range kinds {
		for _, replica := range kinds {
			t.Run(master.name+"-"+replica.name, func(t *testing.T) {
				got := run(t, master, replica)
				if want == "" {
					want = got // Redis replicating from Redis
					return
				}
				if got != want {
					t.Errorf("replica's subscriber:\n  redis-redis: %q\n  this:        %q", want, got)
				}
			})
		}
	}
}

// TestSuitePubSubStream compares the replication stream of PUBLISH and
// SPUBLISH: plain, in another database, inside MULTI/EXEC (alone, twice,
// beside a write, changing database) and from scripts (alone, beside a
// write, under redis.set_repl), each where Redis 7.0 puts it, and the
// SELECTs of units that change database.
func TestSuitePubSubStream(t *testing.T) {
	cmds := []string{
		"PUBLISH ch a",
		"SPUBLISH ch b",
		"SELECT 2",
		"PUBLISH ch c",
		"SET k2 v",
		"SELECT 0",
		"MULTI", "PUBLISH ch d", "EXEC",
		"MULTI", "PUBLISH ch e", "SPUBLISH ch f", "EXEC",
		"MULTI", "SET k v", "PUBLISH ch g", "SET k w", "EXEC",
		// a unit that changes database: the stream selects database 0
		// again after EXEC, before the next command (it did before EXEC)
		"MULTI", "PUBLISH ch h", "SELECT 3", "SET k3 v", "EXEC",
		"SET k3 w",
		"SELECT 0",
		`EVAL "redis.call('set', 'a', '1') redis.call('select', '4') redis.call('set', 'b', '1') return 1" 0`,
		"SET c 1",
		"MULTI", "SET d 1", "SELECT 5", "SET e 1", "SELECT 0", "SET f 1", "EXEC",
		`EVAL "return redis.call('publish', 'ch', 'i')" 0`,
		`EVAL "redis.call('set', 'k', 'x') redis.call('publish', 'ch', 'j') return 1" 0`,
		`EVAL "redis.call('publish', 'ch', 'k') redis.call('set', 'k', 'y') return 1" 0`,
		`EVAL "redis.set_repl(redis.REPL_AOF) redis.call('publish', 'ch', 'l') return 1" 0`,
		`EVAL "redis.set_repl(redis.REPL_NONE) redis.call('spublish', 'ch', 'm') redis.set_repl(redis.REPL_REPLICA) redis.call('publish', 'ch', 'n') return 1" 0`,
		"SET end 1",
	}
	run := func(s *Server) (replies, stream []string) {
		c, sync := Dial(t, s), Dial(t, s)
		if err := sync.SendCmd("SYNC"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the snapshot is taken before the commands
		for _, l := range cmds {
			r, err := c.DoLine(l)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, l, err)
			}
			replies = append(replies, string(r))
		}
		return replies, readStream(t, sync, "SET end 1")
	}
	rr, rs := run(StartRedis(t, "--repl-diskless-sync", "no"))
	cr, cs := run(StartCrescent(t, "--repl-diskless-sync", "no"))
	if strings.Join(rr, "") != strings.Join(cr, "") {
		t.Errorf("replies:\n  redis:    %q\n  crescent: %q", rr, cr)
	}
	if strings.Join(rs, "\n") != strings.Join(cs, "\n") {
		t.Errorf("stream:\n  redis:    %q\n  crescent: %q", rs, cs)
	}
}
