package commands_test

import (
	"os"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
)

type corpusCmd struct {
	line    int
	group   string
	args    []string
	compare bool // false: run only
	known   bool // known difference: log, don't fail
}

func loadCorpus(t *testing.T, path string) []corpusCmd {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusCmd
	group := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if g, ok := strings.CutPrefix(line, "=== "); ok {
			group = g
			continue
		}
		c := corpusCmd{line: i + 1, group: group, compare: true}
		switch line[0] {
		case '!':
			c.compare = false
			line = line[1:]
		case '?':
			c.known = true
			line = line[1:]
		}
		parts, err := resp.SplitArgs([]byte(line), nil)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, p := range parts {
			c.args = append(c.args, string(p))
		}
		out = append(out, c)
	}
	return out
}

// TestScriptingCorpus runs testdata/scripting/corpus.txt against Crescent
// and a real redis-server and compares the raw replies.
func TestScriptingCorpus(t *testing.T) {
	cmds := loadCorpus(t, "testdata/scripting/corpus.txt")
	radd := startRedis(t)
	cadd, _ := startCrescent(t)
	rc, cc := dial(t, radd), dial(t, cadd)
	failed, known := 0, 0
	for _, c := range cmds {
		want, err := rc.do(c.args...)
		if err != nil {
			t.Fatalf("line %d: redis: %v", c.line, err)
		}
		got, err := cc.do(c.args...)
		if err != nil {
			t.Fatalf("line %d: crescent: %v", c.line, err)
		}
		if !c.compare || got == want {
			continue
		}
		if c.known {
			known++
			t.Logf("known difference, line %d [%s] %q:\n redis:    %q\n crescent: %q", c.line, c.group, c.args, want, got)
			continue
		}
		failed++
		t.Errorf("line %d [%s] %q:\n redis:    %q\n crescent: %q", c.line, c.group, c.args, want, got)
	}
	t.Logf("%d commands, %d known differences, %d failures", len(cmds), known, failed)
}
