package difftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMisconf compares the MISCONF state with redis-server: a failed SAVE
// leaves it off; after a background save fails (here: dbfilename names a directory, so the
// rename fails) with save points set and stop-writes-on-bgsave-error yes,
// write commands and PING are refused, inside MULTI, by redis.call and
// redis.pcall and for scripts declaring flags; reads and no-writes
// scripts go on; turning either option off lifts it, and a save that
// succeeds ends it.
func TestMisconf(t *testing.T) {
	fn := `FUNCTION LOAD "#!lua name=mlib\nredis.register_function('w', function(k) return redis.call('set', k[1], 'f') end)\nredis.register_function{function_name='r', callback=function(k) return redis.call('get', k[1]) end, flags={'no-writes'}}"`
	script := []string{
		"SET a 1", fn,
		// a failed SAVE leaves rdb_last_bgsave_status alone: no MISCONF
		"@block-rdb", "SAVE", "PING", "SET a 1",
		"@bgsave-fail",
		"SET a 2", "PING", "GET a", "DEL a", "INCR n",
		"MULTI", "SET a 3", "GET a", "EXEC",
		"MULTI", "GET a", "EXEC",
		`EVAL "return redis.call('set', KEYS[1], '4')" 1 a`,
		`EVAL "return redis.pcall('set', KEYS[1], '4')" 1 a`,
		`EVAL "return redis.call('get', KEYS[1])" 1 a`,
		`EVAL "#!lua\nreturn redis.call('set', KEYS[1], '5')" 1 a`,
		`EVAL "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])" 1 a`,
		"FCALL w 1 a", "FCALL r 1 a", "FCALL_RO r 1 a",
		"CONFIG SET stop-writes-on-bgsave-error no", "SET a 6", "PING",
		"CONFIG SET stop-writes-on-bgsave-error yes", "SET a 7", "PING",
		`CONFIG SET save ""`, "SET a 8",
		`CONFIG SET save "3600 1"`, "SET a 9",
		"@bgsave-ok",
		"SET a 10", "PING", "GET a",
		"@errorstats",
	}
	run := func(start func(testing.TB, ...string) *Server) []string {
		dir := t.TempDir()
		s := start(t, "--dir", dir, "--save", "3600 1", "--dbfilename", "dump.rdb")
		c := Dial(t, s)
		rdb := filepath.Join(dir, "dump.rdb")
		bgsave := func(wantOK bool) {
			if r := string(c.MustDo(t, "BGSAVE")); !strings.Contains(r, "Background saving started") {
				t.Fatalf("%s: BGSAVE: %q", s.Name, r)
			}
			want := "rdb_last_bgsave_status:err"
			if wantOK {
				want = "rdb_last_bgsave_status:ok"
			}
			for deadline := time.Now().Add(20 * time.Second); ; {
				info := string(c.MustDo(t, "INFO", "persistence"))
				if strings.Contains(info, "rdb_bgsave_in_progress:0") && strings.Contains(info, want) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: BGSAVE did not end with %s:\n%s", s.Name, want, info)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		var out []string
		for _, l := range script {
			switch l {
			case "@block-rdb": // a directory where the file goes: the rename fails
				if err := os.Mkdir(rdb, 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			case "@bgsave-fail":
				bgsave(false)
				continue
			case "@bgsave-ok":
				if err := os.Remove(rdb); err != nil {
					t.Fatal(err)
				}
				bgsave(true)
				continue
			case "@errorstats":
				out = append(out, l+" "+string(c.MustDo(t, "INFO", "errorstats")))
				continue
			}
			r, err := c.DoLine(l)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, l, err)
			}
			out = append(out, l+" -> "+string(r))
		}
		return out
	}
	want, got := run(StartRedis), run(StartCrescent)
	compareSteps(t, want, got)
}
