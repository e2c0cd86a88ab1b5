package server_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestNodeClients runs testdata/node_clients.js, which drives the server
// with ioredis and node-redis (strings, the seed's rate limiter and
// inventory scripts through defineCommand and EVAL/EVALSHA, pipelines,
// MULTI, error replies, script conversions, streams, pub/sub), against
// redis-server and against Crescent, and compares what the clients
// returned. It needs node and the two packages: CRESCENT_NODE_MODULES
// names a node_modules folder holding ioredis and redis (.ci/run installs
// them with npm).
func TestNodeClients(t *testing.T) {
	mods := os.Getenv("CRESCENT_NODE_MODULES")
	node, err := exec.LookPath("node")
	if err != nil || mods == "" {
		t.Skip("node clients: needs node and CRESCENT_NODE_MODULES (a node_modules folder with ioredis and redis; .ci/run sets it up)")
	}
	for _, m := range []string{"ioredis", "redis"} {
		if _, err := os.Stat(filepath.Join(mods, m, "package.json")); err != nil {
			t.Skipf("node clients: %s is not installed in %s", m, mods)
		}
	}
	run := func(addr string) []byte {
		t.Helper()
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(node, "testdata/node_clients.js", port)
		cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		timer := time.AfterFunc(60*time.Second, func() {
			if cmd.Process != nil {
				cmd.Process.Kill()
			}
		})
		defer timer.Stop()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node against %s: %v\n%s", addr, err, stderr.String())
		}
		return out
	}
	want := run(startRedis(t))
	addr, _ := startCrescent(t)
	got := run(addr)
	if !bytes.Equal(got, want) {
		t.Fatalf("node clients differ\nredis:\n%s\ncrescent:\n%s", want, got)
	}
}
