package difftest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
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
