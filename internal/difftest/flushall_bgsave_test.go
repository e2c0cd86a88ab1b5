package difftest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFlushallKillsBgsave: FLUSHALL while a BGSAVE runs (made slow with
// rdb-key-save-delay) kills it, as Redis 7.0's killRDBChild: dump.rdb is
// then FLUSHALL's own empty snapshot (save points set) or the file an
// earlier SAVE wrote (none set), never the BGSAVE's pre-flush data.
// DEBUG RELOAD NOSAVE loads the file to count its keys. Crescent let the
// BGSAVE finish and rename its snapshot over the file.
func TestFlushallKillsBgsave(t *testing.T) {
	p := StartPair(t)
	run := func(s *Server, save string) []string {
		c := Dial(t, s)
		defer c.Close()
		do := func(line string) string {
			r, err := c.DoLine(line)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, line, err)
			}
			return strings.TrimSpace(string(r))
		}
		do("CONFIG SET save ''")
		do("FLUSHALL")
		do("DEBUG POPULATE 1000")
		do("SAVE")
		do("CONFIG SET save '" + save + "'")
		saves := infoField(t, c, "persistence", "rdb_saves")
		do("CONFIG SET rdb-key-save-delay 1000") // 1 ms a key: 3 s for the BGSAVE
		do("DEBUG POPULATE 2000 k2")
		out := []string{do("BGSAVE")}
		time.Sleep(100 * time.Millisecond)
		out = append(out, "in progress: "+infoField(t, c, "persistence", "rdb_bgsave_in_progress"), do("FLUSHALL"))
		for i := 0; i < 800 && infoField(t, c, "persistence", "rdb_bgsave_in_progress") != "0"; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		do("CONFIG SET rdb-key-save-delay 0")
		do("CONFIG SET save ''")
		for _, f := range []string{"rdb_last_bgsave_status", "rdb_changes_since_last_save", "rdb_saves"} {
			out = append(out, f+": "+infoField(t, c, "persistence", f))
		}
		out = append(out, "rdb_saves before: "+saves, do("DEBUG RELOAD NOSAVE"), "dbsize: "+do("DBSIZE"))
		return out
	}
	for _, save := range []string{"", "3600 1"} {
		t.Run(fmt.Sprintf("save %q", save), func(t *testing.T) {
			want, got := run(p.Redis, save), run(p.Crescent, save)
			for i := range want {
				if want[i] != got[i] {
					t.Errorf("step %d:\n  redis:    %s\n  crescent: %s", i, want[i], got[i])
				}
			}
		})
	}
}
