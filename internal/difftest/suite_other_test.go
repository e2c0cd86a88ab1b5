package difftest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// infoField returns field's value in INFO section's reply on c ("" when
// absent).
func infoField(t *testing.T, c *Conn, section, field string) string {
	t.Helper()
	r := c.MustDo(t, "INFO", section)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(field) + `:(.*)\r$`).FindSubmatch(r)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// TestFlushDirty compares, with Redis's, what FLUSHALL and FLUSHDB add to
// rdb_changes_since_last_save (the keys removed, nothing for an empty
// dataset) and that FLUSHALL with save points configured writes the
// snapshot at once, resetting the counter (Redis's other.tcl "FLUSHALL
// should reset the dirty counter"), without counting in rdb_saves.
func TestFlushDirty(t *testing.T) {
	p := StartPair(t)
	steps := []string{
		"SET a b", "FLUSHALL", "FLUSHALL", "MSET a b c d e f", "FLUSHDB", "FLUSHDB",
		"SELECT 2", "SET x y", "SELECT 0", "SET z w", "FLUSHALL ASYNC",
		"CONFIG SET save \"3600 1 300 100\"", "SET k v", "FLUSHALL", "SET k v", "FLUSHDB",
		"MSET a 1 b 2", "FLUSHALL SYNC", "MULTI", "SET q 1", "FLUSHALL", "SET r 2", "EXEC",
		"CONFIG SET save \"\"", "SET k v", "FLUSHALL",
	}
	run := func(s *Server) []string {
		c := Dial(t, s)
		defer c.Close()
		var out []string
		inMulti := false
		for _, st := range steps {
			r, err := c.DoLine(st)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, st, err)
			}
			inMulti = st == "MULTI" || inMulti && st != "EXEC"
			if inMulti {
				out = append(out, fmt.Sprintf("%s -> %q", st, r))
				continue
			}
			out = append(out, fmt.Sprintf("%s -> %q changes=%s saves=%s", st, r,
				infoField(t, c, "persistence", "rdb_changes_since_last_save"),
				infoField(t, c, "persistence", "rdb_saves")))
		}
		return out
	}
	want, got := run(p.Redis), run(p.Crescent)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		for i := range want {
			if want[i] != got[i] {
				t.Errorf("step %d:\n  redis:    %s\n  crescent: %s", i, want[i], got[i])
			}
		}
	}
}

// TestSuiteLazyfreeCounts is Redis's lazyfree.tcl counters, in our words,
// compared with redis-server 7.0.15: lazyfreed_objects counts the keys of
// an ASYNC flush (or a flush with lazyfree-lazy-user-flush yes), not of a
// SYNC one (the blocking FLUSHALL ASYNC of later versions is not 7.0's),
// nor of small values UNLINK frees at once.
func TestSuiteLazyfreeCounts(t *testing.T) {
	p := StartPair(t)
	steps := []string{
		"CONFIG RESETSTAT",
		"DEBUG POPULATE 100", "FLUSHALL",
		"DEBUG POPULATE 100", "FLUSHALL SYNC",
		"DEBUG POPULATE 100", "FLUSHDB",
		"DEBUG POPULATE 100", "FLUSHALL ASYNC",
		"DEBUG POPULATE 50", "FLUSHDB ASYNC",
		"SET x 1", "SET y 2", "MULTI", "FLUSHALL", "EXEC",
		"CONFIG SET lazyfree-lazy-user-flush yes",
		"DEBUG POPULATE 30", "FLUSHALL", "DEBUG POPULATE 20", "FLUSHDB SYNC",
		"CONFIG SET lazyfree-lazy-user-flush no",
		"XADD s 1-1 a b", "XGROUP CREATE s bla $", "XGROUP DESTROY s bla", "UNLINK s",
		"SADD small 1 2 3", "UNLINK small",
		// values over Redis's free effort threshold (64) and just under it
		"CONFIG SET stream-node-max-entries 5",
		"EVAL \"for j = 1, 1000 do redis.call('xadd', KEYS[1], j .. '-1', j % 10 == 0 and 'bar' or 'foo', j) end\" 1 stream",
		"XGROUP CREATE stream mygroup 0", "XREADGROUP GROUP mygroup Alice COUNT 2 STREAMS stream >",
		"XDEL stream 1-1", "XACK stream mygroup 2-1", "UNLINK stream",
		"EVAL \"for j = 1, 60 do redis.call('xadd', KEYS[1], j .. '-1', 'f', j) end\" 1 s60", "UNLINK s60",
		"CONFIG SET stream-node-max-entries 100",
		"EVAL \"for j = 1, 65 do redis.call('sadd', KEYS[1], 'm' .. j) end\" 1 hs", "UNLINK hs",
		"EVAL \"for j = 1, 64 do redis.call('sadd', KEYS[1], 'm' .. j) end\" 1 hs64", "UNLINK hs64",
		"EVAL \"for j = 1, 300 do redis.call('sadd', KEYS[1], j) end\" 1 is", "UNLINK is",
		"EVAL \"for j = 1, 200 do redis.call('zadd', KEYS[1], j, 'm' .. j) end\" 1 z", "UNLINK z",
		"EVAL \"for j = 1, 200 do redis.call('hset', KEYS[1], 'f' .. j, j) end\" 1 h", "UNLINK h",
		"CONFIG SET list-max-listpack-size 4",
		"EVAL \"for j = 1, 300 do redis.call('rpush', KEYS[1], j) end\" 1 l", "UNLINK l",
		"EVAL \"for j = 1, 200 do redis.call('rpush', KEYS[1], j) end\" 1 l2", "DEL l2",
		"CONFIG SET list-max-listpack-size -2",
		"SET str v", "UNLINK str nosuch",
		"CONFIG RESETSTAT",
	}
	run := func(s *Server) []string {
		c := Dial(t, s)
		defer c.Close()
		var out []string
		for _, st := range steps {
			r, err := c.DoLine(st)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, st, err)
			}
			if st == "MULTI" || st == "FLUSHALL" && out[len(out)-1] == "MULTI" {
				out = append(out, st)
				continue
			}
			for i := 0; i < 100 && infoField(t, c, "memory", "lazyfree_pending_objects") != "0"; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			out = append(out, fmt.Sprintf("%s -> %q lazyfreed=%s", st, r, infoField(t, c, "memory", "lazyfreed_objects")))
		}
		return out
	}
	want, got := run(p.Redis), run(p.Crescent)
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("step %d:\n  redis:    %s\n  crescent: %s", i, want[i], got[i])
		}
	}
}

// TestSuiteLazyfreeClasses compares lazyfreed_objects after the lazy
// deletions of the lazyfree-lazy-* directives: DEL under user-del, an
// overwrite (SET, a store command), RENAME's and COPY's destination,
// RESTORE REPLACE and an empty store result under server-del, a key whose
// time passed (on access, EXPIRE in the past, SET over it) under expire,
// and an eviction under eviction; each with a value over Redis's free
// effort threshold and, where it matters, one under it or the directive
// off. Redis counts them in lazyfreeFreeObject; Crescent counted none.
func TestSuiteLazyfreeClasses(t *testing.T) {
	p := StartPair(t)
	big := func(key string) string {
		return "EVAL \"for j = 1, 200 do redis.call('sadd', KEYS[1], 'm' .. j) end\" 1 " + key
	}
	small := "SADD " // 3 members: a listpack/intset, effort 1
	steps := []string{
		"CONFIG RESETSTAT",
		big("a"), "DEL a", // user-del off: freed at once
		"CONFIG SET lazyfree-lazy-user-del yes",
		big("a"), "DEL a", small + "a 1 2 3", "DEL a nosuch",
		"CONFIG SET lazyfree-lazy-user-del no",
		big("a"), "SET a x", // server-del off
		"CONFIG SET lazyfree-lazy-server-del yes",
		big("a"), "SET a x", "SET a y",
		big("a"), "SADD a extra", "SREM a m1", "SET a z GET",
		big("a"), big("b"), "SUNIONSTORE b a", "SINTERSTORE b nosuch", "EXISTS b",
		big("b"), "ZUNIONSTORE b 1 nosuch", big("b"), "SORT nosuch STORE b",
		big("a"), big("b"), "RENAME a b", "RENAMENX b a",
		big("a"), "COPY b a REPLACE", "COPY b a",
		"SET str v", "DUMP str", big("c"),
		"CONFIG SET lazyfree-lazy-server-del no",
		big("d"), big("e"), "SUNIONSTORE e d", "RENAME d e",
		"CONFIG SET lazyfree-lazy-expire yes",
		"DEBUG SET-ACTIVE-EXPIRE 0",
		big("x"), "PEXPIRE x 1", "DEBUG SLEEP 0.01", "EXISTS x",
		big("x"), "EXPIRE x -1", "EXISTS x",
		big("x"), "PEXPIRE x 1", "DEBUG SLEEP 0.01", "SET x v",
		small + "y 1 2", "PEXPIRE y 1", "DEBUG SLEEP 0.01", "EXISTS y",
		"CONFIG SET lazyfree-lazy-expire no",
		big("x"), "PEXPIRE x 1", "DEBUG SLEEP 0.01", "EXISTS x",
		"DEBUG SET-ACTIVE-EXPIRE 1",
		"FLUSHALL",
		"CONFIG SET lazyfree-lazy-eviction yes", "CONFIG SET maxmemory-policy allkeys-lru",
		big("v"), "SET w 1", "CONFIG SET maxmemory 1", "SET x y", "CONFIG SET maxmemory 0", "DBSIZE",
		"CONFIG SET lazyfree-lazy-eviction no", "CONFIG SET maxmemory-policy noeviction",
	}
	run := func(s *Server) []string {
		c := Dial(t, s)
		defer c.Close()
		var out []string
		var dump []byte
		for _, st := range steps {
			line := st
			if st == big("c") && dump != nil {
				// RESTORE REPLACE over a big value, with the DUMP taken above
				if _, err := c.DoLine(st); err != nil {
					t.Fatalf("%s: %s: %v", s.Name, st, err)
				}
				r, err := c.Do("RESTORE", "c", "0", string(dump), "REPLACE")
				if err != nil {
					t.Fatalf("%s: RESTORE: %v", s.Name, err)
				}
				out = append(out, fmt.Sprintf("RESTORE c REPLACE -> %q lazyfreed=%s", r, lazyfreed(t, c)))
				continue
			}
			r, err := c.DoLine(line)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, st, err)
			}
			if st == "DUMP str" {
				v, _, err := Parse(r)
				if err != nil {
					t.Fatalf("%s: DUMP: %v", s.Name, err)
				}
				dump = v.Str
				continue
			}
			out = append(out, fmt.Sprintf("%s -> %q lazyfreed=%s", st, r, lazyfreed(t, c)))
		}
		return out
	}
	want, got := run(p.Redis), run(p.Crescent)
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("step %d:\n  redis:    %s\n  crescent: %s", i, want[i], got[i])
		}
	}
}

// lazyfreed waits for the background frees to end (Redis's lazy-free
// thread) and returns lazyfreed_objects.
func lazyfreed(t *testing.T, c *Conn) string {
	t.Helper()
	for i := 0; i < 100 && infoField(t, c, "memory", "lazyfree_pending_objects") != "0"; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	return infoField(t, c, "memory", "lazyfreed_objects")
}

// histogramCalls renders a LATENCY HISTOGRAM reply as "name:calls" pairs,
// sorted (the buckets depend on timing, the order on Redis's dict).
func histogramCalls(t *testing.T, raw []byte) string {
	t.Helper()
	v, _, err := Parse(raw)
	if err != nil || v.Type != '*' && v.Type != '%' {
		return string(raw)
	}
	var out []string
	for i := 0; i+1 < len(v.Elems); i += 2 {
		calls := "?"
		h := v.Elems[i+1].Elems
		for j := 0; j+1 < len(h); j += 2 {
			if string(h[j].Str) == "calls" {
				calls = string(h[j+1].Str)
			}
		}
		out = append(out, string(v.Elems[i].Str)+":"+calls)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestSuiteLatencyHistogram is latency-monitor.tcl's LATENCY HISTOGRAM
// cases, in our words, compared with redis-server by command names and
// calls (the buckets depend on timing): after CONFIG RESETSTAT, all
// commands, a parent command with its subcommands, one subcommand, a
// subset, unknown names skipped.
func TestSuiteLatencyHistogram(t *testing.T) {
	p := StartPair(t)
	steps := []string{
		"CONFIG RESETSTAT", "LATENCY HISTOGRAM",
		"CONFIG RESETSTAT", "SET a b", "SET c d", "LATENCY HISTOGRAM",
		"CONFIG RESETSTAT", "CLIENT ID", "CLIENT LIST", "LATENCY HISTOGRAM client", "LATENCY HISTOGRAM client|id",
		"LATENCY HISTOGRAM CLIENT|ID CLIENT|LIST",
		"CONFIG RESETSTAT", "SET a b", "SET c d", "GET a", "HSET f k v", "HGETALL f",
		"LATENCY HISTOGRAM set hset", "LATENCY HISTOGRAM hgetall get zadd",
		"CONFIG RESETSTAT", "SET a b", "GET a", "LATENCY HISTOGRAM set get",
		"CONFIG RESETSTAT", "LATENCY HISTOGRAM blabla", "LATENCY HISTOGRAM blabla blabla2 set get",
		"SET a b", "GET a", "LATENCY HISTOGRAM blabla blabla2 set get", "LATENCY HISTOGRAM get|x config|nosuch",
		"CONFIG RESETSTAT", "EVAL \"return redis.call('set', 'a', 'b')\" 0", "LATENCY HISTOGRAM set eval",
	}
	run := func(s *Server) []string {
		c := Dial(t, s)
		defer c.Close()
		var out []string
		for _, st := range steps {
			r, err := c.DoLine(st)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, st, err)
			}
			if strings.HasPrefix(st, "LATENCY") {
				out = append(out, st+" -> "+histogramCalls(t, r))
			}
		}
		return out
	}
	want, got := run(p.Redis), run(p.Crescent)
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("step %d:\n  redis:    %s\n  crescent: %s", i, want[i], got[i])
		}
	}
}
