package difftest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// crescentOnly are directives Crescent has and Redis does not.
var crescentOnly = []string{"adaptive-procs", "event-loop", "event-loops", "log-format", "metrics-port"}

// TestConfigRewriteForceAll: DEBUG CONFIG-REWRITE-FORCE-ALL writes the
// directives redis-server 7.0.15 writes (every one, defaults included,
// but the empty ones Redis holds as NULL and bind at its default), plus
// Crescent's own; a server started from the file has the same
// configuration; and without a config file it fails as Redis's does.
func TestConfigRewriteForceAll(t *testing.T) {
	bin := RedisBinary()
	if bin == "" {
		t.Skip("difftest: redis-server not found in PATH (set REDIS_SERVER); skipping differential test")
	}
	conf := func(dir string, port int) string {
		p := filepath.Join(dir, "test.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\nsave \"\"\nenable-debug-command yes\ndir %s\nlogfile \"\"\n", port, dir)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	names := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0][0] != '#' && !slices.Contains(out, f[0]) {
				out = append(out, f[0])
			}
		}
		slices.Sort(out)
		return out
	}
	// redis-server from its own file
	rdir := t.TempDir()
	rport := FreePort(t)
	rconf := conf(rdir, rport)
	cmd := exec.Command(bin, rconf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() { cmd.Process.Kill(); <-done }()
	raddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(rport))
	if err := waitReady(raddr, done); err != nil {
		t.Fatal(err)
	}
	rc := Connect(t, raddr)
	if rep, err := rc.Do("DEBUG", "CONFIG-REWRITE-FORCE-ALL"); err != nil || string(rep) != "+OK\r\n" {
		t.Fatalf("redis: %q %v", rep, err)
	}
	// Crescent from its own file
	start := func(path string) *Server {
		cfg := config.New()
		server.DeclareConfig(cfg)
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Load(string(text), []string{"--port", "0"}); err != nil {
			t.Fatalf("crescent config %s: %v", path, err)
		}
		srv, err := server.New(cfg, Logger(), path)
		if err != nil {
			t.Fatal(err)
		}
		return ServeCrescent(t, srv, nil)
	}
	cdir := t.TempDir()
	cconf := conf(cdir, 0)
	c := start(cconf)
	cc := Connect(t, c.Addr)
	if rep, err := cc.Do("DEBUG", "CONFIG-REWRITE-FORCE-ALL"); err != nil || string(rep) != "+OK\r\n" {
		t.Fatalf("crescent: %q %v", rep, err)
	}
	want := names(rconf)
	got := slices.DeleteFunc(names(cconf), func(n string) bool { return slices.Contains(crescentOnly, n) })
	if !slices.Equal(got, want) {
		t.Errorf("directives written:\n redis:    %v\n crescent: %v", want, got)
	}
	// the file starts a server with the same configuration
	before, err := cc.Do("CONFIG", "GET", "*")
	if err != nil {
		t.Fatal(err)
	}
	c2 := start(cconf)
	after, err := Connect(t, c2.Addr).Do("CONFIG", "GET", "*")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(b []byte) string { // the ports differ (0 in the file: a free one)
		v, _, _ := Parse(b)
		var out []string
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if k := string(v.Elems[i].Str); k != "port" {
				out = append(out, k+"="+string(v.Elems[i+1].Str))
			}
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	if a, b := norm(before), norm(after); a != b {
		t.Errorf("configuration after a restart from the rewritten file differs:\nbefore:\n%s\nafter:\n%s", a, b)
	}
	// no config file: Redis's error
	r2 := StartRedis(t)
	c3 := StartCrescent(t)
	for _, s := range []*Server{r2, c3} {
		rep, err := Connect(t, s.Addr).Do("DEBUG", "CONFIG-REWRITE-FORCE-ALL")
		if err != nil || string(rep) != "-ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address\r\n" {
			t.Errorf("%s without a config file: %q %v", s.Name, rep, err)
		}
	}
}
