package difftest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitPersistIdle waits until no snapshot nor AOF rewrite runs or is
// scheduled on c's server (Redis's waitForBgsave and waitForBgrewriteaof).
func waitPersistIdle(t *testing.T, name string, c *Conn) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info := string(c.MustDo(t, "INFO", "persistence"))
		if strings.Contains(info, "rdb_bgsave_in_progress:0") &&
			strings.Contains(info, "aof_rewrite_in_progress:0") &&
			strings.Contains(info, "aof_rewrite_scheduled:0") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: persistence still busy after 20s", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSuiteAofrw is Redis's aofrw.tcl, in our words, compared with
// redis-server 7.0.15: for lists, sets, hashes and sorted sets in both
// encodings, with string and integer members (built by one EVAL each,
// the same pseudo-random values on both servers), the encoding, the
// DEBUG DIGEST, then BGREWRITEAOF and DEBUG LOADAOF give the same digest;
// BGREWRITEAOF while a BGSAVE runs (both in one MULTI) is scheduled and
// INFO shows it; a second BGREWRITEAOF in the same MULTI is refused;
// CONFIG SET appendonly no in the MULTI of a BGREWRITEAOF stops it.
func TestSuiteAofrw(t *testing.T) {
	args := []string{"--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--save", ""}
	// the values: string (letters, 0-16 bytes) or integer (< 4000000000)
	// members from a linear congruential sequence
	gen := `local seed = tonumber(ARGV[2]) local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end ` +
		`local function val() if ARGV[3] == 'int' then return tostring(rnd(2000000000) * 2 + rnd(2)) end local t = {} for i = 1, rnd(17) do t[i] = string.char(97 + rnd(26)) end return table.concat(t) end `
	add := map[string]string{
		"list": `redis.call('lpush', KEYS[1], val())`,
		"set":  `redis.call('sadd', KEYS[1], val())`,
		"hash": `local v = val() redis.call('hset', KEYS[1], v, v)`,
		"zset": `redis.call('zadd', KEYS[1], rnd(1000000) / 1000000, val())`,
	}
	var steps [][]string
	for _, typ := range []string{"list", "set", "hash", "zset"} {
		for _, d := range []string{"string", "int"} {
			for _, n := range []int{10, 1000} {
				body := gen + fmt.Sprintf("for j = 1, tonumber(ARGV[1]) do %s end return redis.call('object', 'encoding', KEYS[1])", add[typ])
				steps = append(steps,
					[]string{"FLUSHALL"},
					[]string{"EVAL", body, "1", "key", fmt.Sprint(n), fmt.Sprint(len(steps) + 7), d},
					[]string{"DEBUG", "DIGEST"},
					[]string{"BGREWRITEAOF"},
					[]string{"@wait"},
					[]string{"DEBUG", "LOADAOF"},
					[]string{"DEBUG", "DIGEST"},
					[]string{"OBJECT", "ENCODING", "key"},
				)
			}
		}
	}
	steps = append(steps,
		[]string{"@wait"},
		[]string{"MULTI"}, []string{"BGSAVE"}, []string{"BGREWRITEAOF"}, []string{"@info"}, []string{"EXEC"},
		[]string{"@wait"},
		[]string{"MULTI"}, []string{"BGREWRITEAOF"}, []string{"BGREWRITEAOF"}, []string{"EXEC"},
		[]string{"@wait"},
		[]string{"MULTI"}, []string{"BGREWRITEAOF"}, []string{"CONFIG", "SET", "appendonly", "no"}, []string{"EXEC"},
		[]string{"@wait"},
		[]string{"CONFIG", "GET", "appendonly"},
	)
	run := func(s *Server) []string {
		c := Dial(t, s)
		defer c.Close()
		var out []string
		for _, st := range steps {
			switch st[0] {
			case "@wait":
				waitPersistIdle(t, s.Name, c)
				continue
			case "@info": // INFO persistence in the MULTI: only its scheduling fields
				st = []string{"INFO", "persistence"}
			}
			r, err := c.Do(st...)
			if err != nil {
				t.Fatalf("%s: %q: %v", s.Name, st, err)
			}
			got := string(r)
			if st[0] == "EXEC" && strings.Contains(got, "aof_rewrite_scheduled") {
				// keep the replies of BGSAVE and BGREWRITEAOF and the
				// scheduled flags of the INFO reply
				v, _, err := Parse(r)
				if err != nil || len(v.Elems) != 3 {
					t.Fatalf("%s: EXEC reply %q", s.Name, r)
				}
				var keep []string
				for _, l := range strings.Split(string(v.Elems[2].Str), "\r\n") {
					if strings.HasPrefix(l, "aof_rewrite_scheduled:") || strings.HasPrefix(l, "aof_enabled:") {
						keep = append(keep, l)
					}
				}
				got = fmt.Sprintf("%q %q %v", v.Elems[0].Str, v.Elems[1].Str, keep)
			}
			if st[0] == "EVAL" {
				st = st[3:] // the script's text is long
			}
			out = append(out, fmt.Sprintf("%q -> %q", st, got))
		}
		return out
	}
	r := StartRedis(t, append(args, "--dir", persistDir(t))...)
	c := StartCrescent(t, append(args, "--dir", persistDir(t))...)
	want, got := run(r), run(c)
	compareSteps(t, want, got)
}
