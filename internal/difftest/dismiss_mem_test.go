package difftest

import (
	"fmt"
	"strings"
	"testing"
)

// TestDismissMem: Redis's dismiss-mem tests (tests/integration/
// dismiss-mem.tcl) exercise its fork child's freeing of big values,
// output and query buffers: they check that the server survives and that
// an AOF rewrite then DEBUG LOADAOF keep DEBUG DIGEST. Crescent has no
// fork, but the same sequences run here against both servers: big values
// of every type and encoding, rewritten with and without the RDB
// preamble and reloaded (digest kept, and equal to Redis's); BGSAVE
// while a client's output buffer holds 2 MB and while another client's
// query is half sent; keys in four databases with TTLs, rewritten and
// reloaded.
func TestDismissMem(t *testing.T) {
	p := StartPair(t, "--appendonly", "yes")
	big := "local big = string.rep('A', 8192) local b64 = string.rep('A', 64) " +
		"for i = 1, 100 do redis.call('set', 'bigstring:' .. i, big) end " +
		"redis.call('lpush', 'biglist1', big) " +
		"for i = 1, 16 do redis.call('lpush', 'biglist2', big) end " +
		"redis.call('sadd', 'bigset1', big) " +
		"for i = 1, 512 do redis.call('sadd', 'bigset2', string.rep('1', 18) .. (i % 10)) end " +
		"redis.call('zadd', 'bigzset1', 1, big) " +
		"for i = 1, 128 do redis.call('zadd', 'bigzset2', 1, b64 .. i) end " +
		"redis.call('hset', 'bighash1', 'field1', big) " +
		"for i = 1, 128 do redis.call('hset', 'bighash2', i, b64) end " +
		"redis.call('xadd', 'bigstream', '1-1', 'entry1', big, 'entry2', big) return 1"
	var digests [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "list-compress-depth", "1")
		if r := c.MustDo(t, "EVAL", big, "0"); string(r) != ":1\r\n" {
			t.Fatalf("%s: %q", s.Name, r)
		}
		digests[i] = string(c.MustDo(t, "DEBUG", "DIGEST"))
		for _, preamble := range []string{"yes", "no"} {
			c.MustDo(t, "CONFIG", "SET", "aof-use-rdb-preamble", preamble)
			rewriteAndReload(t, s, c)
			if d := string(c.MustDo(t, "DEBUG", "DIGEST")); d != digests[i] {
				t.Errorf("%s: preamble %s: digest %q after the rewrite, %q before", s.Name, preamble, d, digests[i])
			}
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("digests differ: redis %q, crescent %q", digests[0], digests[1])
	}

	item := strings.Repeat("x", 100000)
	var completed [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "EVAL", "for i = 1, 20 do redis.call('lpush', 'mylist', ARGV[1]) end return 1", "0", item)
		// output buffer: the reply is not read while BGSAVE runs
		o := Dial(t, s)
		if err := o.SendCmd("LRANGE", "mylist", "0", "-1"); err != nil {
			t.Fatal(err)
		}
		// query buffer: half a command
		q := Dial(t, s)
		if err := q.Send([]byte("*2\r\n$8192\r\n" + strings.Repeat("A", 8192) + "\r\n")); err != nil {
			t.Fatal(err)
		}
		bgsaveAndWait(t, s, c)
		if r := c.MustDo(t, "LPOP", "mylist"); string(r) != fmt.Sprintf("$%d\r\n%s\r\n", len(item), item) {
			t.Errorf("%s: LPOP after BGSAVE: %.40q", s.Name, r)
		}
		if r, err := o.Read(); err != nil || !strings.HasPrefix(string(r), "*20\r\n") {
			t.Errorf("%s: the held LRANGE reply: %.40q %v", s.Name, r, err)
		}
		if err := q.Send([]byte("$1\r\nx\r\n")); err != nil {
			t.Fatal(err)
		}
		r, err := q.Read()
		if err != nil {
			t.Errorf("%s: the completed query: %v", s.Name, err)
		}
		completed[i] = string(r)
	}
	if completed[0] != completed[1] {
		t.Errorf("the completed query: redis %q, crescent %q", completed[0], completed[1])
	}

	// four databases of 2000 keys with TTLs
	var sizes [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "FLUSHALL")
		for db := 0; db < 4; db++ {
			c.MustDo(t, "SELECT", fmt.Sprint(db))
			c.MustDo(t, "EVAL", "for i = 1, 2000 do redis.call('set', ARGV[1] .. i, 'v' .. i, 'ex', 3600) end return 1", "0", fmt.Sprintf("db%dkey:", db))
		}
		before := string(c.MustDo(t, "DEBUG", "DIGEST"))
		for _, preamble := range []string{"yes", "no"} {
			c.MustDo(t, "CONFIG", "SET", "aof-use-rdb-preamble", preamble)
			rewriteAndReload(t, s, c)
			if d := string(c.MustDo(t, "DEBUG", "DIGEST")); d != before {
				t.Errorf("%s: four databases, preamble %s: digest changed", s.Name, preamble)
			}
		}
		info := string(c.MustDo(t, "INFO", "keyspace"))
		for _, m := range reKeyspace.FindAllStringSubmatch(info, -1) {
			sizes[i] += m[0] + "\n"
		}
	}
	if sizes[0] != sizes[1] {
		t.Errorf("keyspace after the reloads: redis\n%s\ncrescent\n%s", sizes[0], sizes[1])
	}
}

func rewriteAndReload(t *testing.T, s *Server, c *Conn) {
	t.Helper()
	if r := string(c.MustDo(t, "BGREWRITEAOF")); !strings.HasPrefix(r, "+Background append only file rewriting") {
		t.Fatalf("%s: BGREWRITEAOF: %q", s.Name, r)
	}
	pollUntil(t, func() bool {
		return infoField(t, c, "persistence", "aof_rewrite_in_progress") == "0" &&
			infoField(t, c, "persistence", "aof_rewrite_scheduled") == "0"
	})
	if r := string(c.MustDo(t, "DEBUG", "LOADAOF")); r != "+OK\r\n" {
		t.Fatalf("%s: DEBUG LOADAOF: %q", s.Name, r)
	}
}

func bgsaveAndWait(t *testing.T, s *Server, c *Conn) {
	t.Helper()
	pollUntil(t, func() bool { return infoField(t, c, "persistence", "rdb_bgsave_in_progress") == "0" })
	if r := string(c.MustDo(t, "BGSAVE")); r != "+Background saving started\r\n" {
		t.Fatalf("%s: BGSAVE: %q", s.Name, r)
	}
	pollUntil(t, func() bool { return infoField(t, c, "persistence", "rdb_bgsave_in_progress") == "0" })
	if st := infoField(t, c, "persistence", "rdb_last_bgsave_status"); st != "ok" {
		t.Errorf("%s: rdb_last_bgsave_status %q", s.Name, st)
	}
}
