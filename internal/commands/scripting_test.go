package commands_test

import (
	"net"
	"os"
	"os/exec"
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
	admin   bool // sent on the second ("admin") connection
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
		if rest, ok := strings.CutPrefix(line, "@admin "); ok {
			c.admin = true
			line = rest
		}
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
func TestScriptingCorpus(t *testing.T) { runScriptCorpus(t, "testdata/scripting/corpus.txt") }

// TestScriptingFidelityCorpus runs testdata/scripting/fidelity.txt: number
// formatting, compile and runtime error messages, string.format, ACL, OOM
// and errorstats rules of scripts (docs/design/lua-engine.md).
func TestScriptingFidelityCorpus(t *testing.T) {
	runScriptCorpus(t, "testdata/scripting/fidelity.txt")
}

// runScriptCorpus runs a corpus file (see corpus.txt's header; lines
// starting with "@admin " go to a second connection) on fresh servers.
func runScriptCorpus(t *testing.T, path string) {
	cmds := loadCorpus(t, path)
	radd := scriptStartRedis(t)
	cadd, _ := startScriptCrescent(t)
	rc, cc := scriptDial(t, radd), scriptDial(t, cadd)
	ra, ca := scriptDial(t, radd), scriptDial(t, cadd)
	failed, known := 0, 0
	for _, c := range cmds {
		rc, cc := rc, cc
		if c.admin {
			rc, cc = ra, ca
		}
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

// runSeed runs the seed's redis-py code (testdata/seed/seed_scripts.py)
// with /usr/bin/python3 against addr.
func runSeed(t *testing.T, addr string) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("/usr/bin/python3 not installed")
	}
	if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
		t.Skip("redis-py not importable by /usr/bin/python3")
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(py, "testdata/seed/seed_scripts.py")
	cmd.Env = append(os.Environ(), "CRESCENT_PORT="+port)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("seed script failed: %v\n%s", err, out)
	}
}

// TestSeedScriptsRedis checks the seed test itself against a real Redis.
func TestSeedScriptsRedis(t *testing.T) {
	runSeed(t, scriptStartRedis(t))
}

// TestSeedScripts runs the seed's redis-py code, unchanged, against
// Crescent, including 16 clients racing the inventory script.
func TestSeedScripts(t *testing.T) {
	addr, _ := startScriptCrescent(t)
	c := scriptDial(t, addr)
	for _, name := range []string{"incr", "decr", "expire", "ttl", "rpush", "llen", "lrange"} {
		r, err := c.do("COMMAND", "INFO", name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(r, "*1\r\n*-1") {
			t.Skipf("%s is not served yet (strings/lists groups land on merge)", strings.ToUpper(name))
		}
	}
	runSeed(t, addr)
}
