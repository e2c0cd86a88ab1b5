package difftest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestBlockedStats compares the statistics a blocking command leaves when
// it blocks and is woken, served or not, with Redis's: one call in INFO
// commandstats and in total_commands_processed (Redis counts it in call(),
// when it blocks), its failure when it ends with one, one latency sample
// (LATENCY HISTOGRAM's calls), and no keyspace_hits or keyspace_misses for
// the runs that serve it (Redis serves a woken XREAD without a lookup), and
// one SLOWLOG entry, made when it is served, not when it blocks or is woken
// for nothing.
func TestBlockedStats(t *testing.T) {
	p := StartPair(t)
	cases := []struct {
		name  string
		setup []string // run before CONFIG RESETSTAT
		block string
		wake  []string
		cmds  []string // commandstats and latency entries compared
	}{
		{"blpop", nil, "BLPOP bs:k 0", []string{"RPUSH bs:k x"}, []string{"blpop"}},
		{"blpop woken in vain", nil, "BLPOP bs:k 0", []string{"SET bs:k v", "DEL bs:k", "RPUSH bs:k x"}, []string{"blpop"}},
		{"blmove wrongtype", []string{"SET bs:d str"}, "BLMOVE bs:k bs:d LEFT LEFT 0", []string{"RPUSH bs:k x"}, []string{"blmove"}},
		{"bzpopmin", nil, "BZPOPMIN bs:k 0", []string{"ZADD bs:k 1 x"}, []string{"bzpopmin"}},
		{"xread", nil, "XREAD BLOCK 0 STREAMS bs:s $", []string{"XADD bs:s 1-1 f v"}, []string{"xread"}},
		{"xread woken in vain", []string{"XADD bs:s 1-1 f v"}, "XREAD BLOCK 0 STREAMS bs:s 5-0", []string{"XADD bs:s 2-1 f v", "XADD bs:s 6-1 f v"}, []string{"xread"}},
		{"xreadgroup", []string{"XADD bs:s 1-1 f v", "XGROUP CREATE bs:s g $"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS bs:s >", []string{"XADD bs:s 2-1 f v"}, []string{"xreadgroup"}},
		{"blpop woken by a key added and emptied", nil, "BLPOP bs:k 0", []string{"MULTI", "RPUSH bs:k x", "LPOP bs:k", "EXEC", "RPUSH bs:k y"}, []string{"blpop"}},
		{"xread woken in vain on an empty stream", []string{"XADD bs:s 1-1 f v", "XDEL bs:s 1-1"}, "XREAD BLOCK 0 STREAMS bs:s 1-1", []string{"XGROUP CREATE bs:s g $", "XGROUP DESTROY bs:s g", "XADD bs:s 2-1 f v"}, []string{"xread"}},
		{"xreadgroup deleted", []string{"XADD bs:s 1-1 f v", "XGROUP CREATE bs:s g $"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS bs:s >", []string{"DEL bs:s"}, []string{"xreadgroup"}},
	}
	stats := regexp.MustCompile(`(keyspace_hits|keyspace_misses):\d+`)
	total := regexp.MustCompile(`total_commands_processed:(\d+)`)
	run := func(s *Server, setup []string, block string, wake, cmds []string) (string, error) {
		a, err := DialAddr(s.Addr)
		if err != nil {
			return "", err
		}
		defer a.Close()
		b, err := DialAddr(s.Addr)
		if err != nil {
			return "", err
		}
		defer b.Close()
		for _, l := range append(append([]string{"FLUSHALL"}, setup...), "CONFIG RESETSTAT", "CONFIG SET slowlog-log-slower-than 0", "SLOWLOG RESET") {
			if _, err := b.DoLine(l); err != nil {
				return "", err
			}
		}
		args := strings.Fields(block)
		if err := a.SendCmd(args...); err != nil {
			return "", err
		}
		if err := waitFor(b, "RPUSH"); err != nil { // blocked
			return "", err
		}
		// total_commands_processed from here: how long the client took
		// to show blocked, and so the number of INFOs, is the server's
		info, err := b.Do("INFO", "stats")
		if err != nil {
			return "", err
		}
		total0 := total.FindStringSubmatch(string(info))
		var out []string
		for _, l := range wake {
			r, err := b.DoLine(l)
			if err != nil {
				return "", err
			}
			out = append(out, fmt.Sprintf("%s -> %q", l, r))
		}
		r, err := a.Read()
		if err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("%s -> %q", block, r))
		if info, err = b.Do("INFO", "stats"); err != nil {
			return "", err
		}
		out = append(out, stats.FindAllString(string(info), -1)...)
		if total1 := total.FindStringSubmatch(string(info)); total0 != nil && total1 != nil {
			out = append(out, fmt.Sprintf("commands since blocked: %d", atoi(total1[1])-atoi(total0[1])))
		}
		info, err = b.Do("INFO", "commandstats")
		if err != nil {
			return "", err
		}
		for _, c := range cmds {
			m := regexp.MustCompile(`cmdstat_` + c + `:calls=(\d+),usec=\d+,usec_per_call=[\d.]+,(rejected_calls=\d+,failed_calls=\d+)`).FindStringSubmatch(string(info))
			if m == nil {
				return "", fmt.Errorf("no commandstats for %s in %q", c, info)
			}
			out = append(out, c+" calls="+m[1]+","+m[2])
			h, err := b.Do("LATENCY", "HISTOGRAM", c)
			if err != nil {
				return "", err
			}
			// the entry's "calls" and its count: the buckets depend on time
			n := regexp.MustCompile(`calls\r\n:(\d+)`).FindStringSubmatch(string(h))
			if n == nil {
				return "", fmt.Errorf("LATENCY HISTOGRAM %s: %q", c, h)
			}
			out = append(out, c+" latency samples="+n[1])
		}
		// SLOWLOG entries of the blocking command: one, when it is served
		// or times out (Redis: updateStatsOnUnblock), none when it blocks
		// or is woken for nothing
		sl, err := b.Do("SLOWLOG", "GET", "1000")
		if err != nil {
			return "", err
		}
		name := strings.Fields(block)[0]
		out = append(out, fmt.Sprintf("slowlog entries of %s: %d", name, strings.Count(string(sl), fmt.Sprintf("$%d\r\n%s\r\n", len(name), name))))
		if _, err := b.Do("CONFIG", "SET", "slowlog-log-slower-than", "10000"); err != nil {
			return "", err
		}
		return strings.Join(out, "\n"), nil
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := run(p.Redis, tc.setup, tc.block, tc.wake, tc.cmds)
			if err != nil {
				t.Fatalf("redis: %v", err)
			}
			c, err := run(p.Crescent, tc.setup, tc.block, tc.wake, tc.cmds)
			if err != nil {
				t.Fatalf("crescent: %v", err)
			}
			if r != c {
				t.Errorf("redis:\n%s\ncrescent:\n%s", r, c)
			}
		})
	}
}
