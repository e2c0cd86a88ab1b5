package difftest

import (
	"fmt"
	"testing"
)

// TestSuiteBgsave is Redis's bgsave.tcl (the stored version is later than
// 7.0; its cases are 7.0 behaviour), in our words, compared with
// redis-server 7.0.15: the snapshot BGSAVE writes is the dataset at the
// moment it started, whatever changes while it is written: SET, APPEND,
// SETBIT, SETRANGE, INCR/DECR(BY), RENAME/RENAMENX, DEL, MOVE between
// databases, list pops, pushes, LINSERT, RPOPLPUSH. Each change is done
// by one EVAL right after BGSAVE; DEBUG RELOAD NOSAVE then loads the file
// and DEBUG DIGEST must be the digest before the changes.
func TestSuiteBgsave(t *testing.T) {
	fill := `for i = 0, 999 do redis.call('set', tostring(i), tostring(i)) end ` +
		`redis.call('select', 1) for i = 0, 999 do redis.call('set', tostring(i + 1000), tostring(i + 1000)) end redis.call('select', 0) ` +
		`for i = 0, 9 do redis.call('rpush', 'mylist', i) redis.call('rpush', 'mylist2', i) end return redis.call('dbsize')`
	changes := map[string]string{
		"set":      `for i = 0, 999 do redis.call('set', tostring(i), tostring(i + 5000)) end`,
		"append":   `for i = 0, 999 do redis.call('append', tostring(i), 'xyz') end`,
		"setbit":   `for i = 0, 999 do redis.call('setbit', tostring(i), 7, i % 2) end`,
		"setrange": `for i = 0, 999 do redis.call('setrange', tostring(i), 7, 'x') end`,
		"incr":     `for i = 0, 499 do redis.call('incr', tostring(i)) redis.call('decrby', tostring(i + 500), 3) end`,
		"rename":   `for i = 0, 499 do redis.call('rename', tostring(i), tostring(i + 6000)) redis.call('renamenx', tostring(i + 500), tostring(i + 7000)) end`,
		"del":      `for i = 0, 999 do redis.call('del', tostring(i)) end`,
		"move":     `for i = 0, 499 do redis.call('move', tostring(i), 1) end redis.call('select', 1) for i = 1500, 1999 do redis.call('move', tostring(i), 0) end redis.call('select', 0)`,
		"lists": `for i = 1, 5 do redis.call('rpop', 'mylist') redis.call('lpop', 'mylist') redis.call('lpush', 'mylist2', 'abc') redis.call('rpushx', 'mylist2', 'xyz') end ` +
			`redis.call('linsert', 'mylist2', 'after', 5, 'abc') redis.call('rpoplpush', 'mylist2', 'mylist')`,
	}
	names := []string{"set", "append", "setbit", "setrange", "incr", "rename", "del", "move", "lists"}
	run := func(s *Server) []string {
		c := Dial(t, s)
		defer c.Close()
		var out []string
		do := func(args ...string) string {
			r, err := c.Do(args...)
			if err != nil {
				t.Fatalf("%s: %q: %v", s.Name, args, err)
			}
			return string(r)
		}
		for _, n := range names {
			waitPersistIdle(t, s.Name, c)
			do("FLUSHALL")
			out = append(out, n+" fill: "+do("EVAL", fill, "0"))
			before := do("DEBUG", "DIGEST")
			out = append(out, n+" BGSAVE: "+do("BGSAVE"))
			out = append(out, n+" change: "+do("EVAL", changes[n]+" return redis.call('dbsize')", "0"))
			changed := do("DEBUG", "DIGEST")
			waitPersistIdle(t, s.Name, c)
			out = append(out, n+" reload: "+do("DEBUG", "RELOAD", "NOSAVE"))
			after := do("DEBUG", "DIGEST")
			out = append(out, fmt.Sprintf("%s digest: before=%q changed-differs=%v after-equals-before=%v",
				n, before, changed != before, after == before))
			out = append(out, n+" lists: "+do("LRANGE", "mylist", "0", "-1")+do("LRANGE", "mylist2", "0", "-1"))
		}
		return out
	}
	dir := []string{"--save", "", "--dir"}
	want := run(StartRedis(t, append(dir, persistDir(t))...))
	got := run(StartCrescent(t, append(dir, persistDir(t))...))
	compareSteps(t, want, got)
}
