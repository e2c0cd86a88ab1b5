package persist_test

import (
	"testing"
	"time"
)

const fnLib = "#!lua name=mylib\nredis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)"

// TestFunctionsPersist: function libraries travel with the data through
// RDB files both ways between Redis and Crescent, and through the AOF
// (with and without a rewrite).
func TestFunctionsPersist(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	r := startRedis(t, dir, "--save", "")
	rc := dial(t, r)
	rc.expect(t, "mylib", "FUNCTION", "LOAD", fnLib)
	rc.expect(t, "OK", "SAVE")
	rc.do("SHUTDOWN", "NOSAVE")
	r.wait(t)

	p := startCrescent(t, dir, "--save", "")
	pc := dial(t, p)
	pc.expect(t, "hi you", "FCALL", "hello", "0", "you")
	pc.expect(t, "OK", "SAVE")
	pc.do("SHUTDOWN", "NOSAVE")
	p.wait(t)

	r2 := startRedis(t, dir, "--save", "")
	rc2 := dial(t, r2)
	rc2.expect(t, "hi back", "FCALL", "hello", "0", "back")
	rc2.do("SHUTDOWN", "NOSAVE")
	r2.wait(t)

	for _, rewrite := range []bool{false, true} {
		adir := t.TempDir()
		p := startCrescent(t, adir, "--appendonly", "yes", "--save", "")
		pc := dial(t, p)
		pc.expect(t, "mylib", "FUNCTION", "LOAD", fnLib)
		pc.expect(t, "OK", "SET", "k", "v")
		if rewrite {
			pc.do("BGREWRITEAOF")
			deadline := time.Now().Add(10 * time.Second)
			for {
				info, _ := pc.do("INFO", "persistence")
				if containsLine(info, "aof_rewrite_in_progress:0") && containsLine(info, "aof_rewrite_scheduled:0") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("rewrite did not finish: %s", info)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		pc.do("SHUTDOWN", "NOSAVE")
		p.wait(t)
		p2 := startCrescent(t, adir, "--appendonly", "yes", "--save", "")
		pc2 := dial(t, p2)
		pc2.expect(t, "hi aof", "FCALL", "hello", "0", "aof")
		pc2.expect(t, "v", "GET", "k")
		pc2.do("SHUTDOWN", "NOSAVE")
		p2.wait(t)
	}
}

func containsLine(info, line string) bool {
	for i := 0; i+len(line) <= len(info); i++ {
		if info[i:i+len(line)] == line {
			return true
		}
	}
	return false
}
