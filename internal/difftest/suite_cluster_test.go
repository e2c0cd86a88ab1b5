package difftest

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSuiteCluster runs the corpora of testdata/cluster (Redis's cluster
// tests, docs/design/fidelity.md "Redis's cluster tests, checked") against
// a redis-server and a Crescent, each a single-node cluster serving every
// slot.
func TestSuiteCluster(t *testing.T) {
	files, err := filepath.Glob("testdata/cluster/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cluster corpora: %v", err)
	}
	p := StartClusterPair(t)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			p.RunFile(t, f)
			// a corpus may leave slots unassigned or epochs changed:
			// every slot served again for the next one
			for _, s := range []*Server{p.Redis, p.Crescent} {
				c := Dial(t, s)
				c.Do("FLUSHALL")
				c.Do("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
			}
			waitClusterOK(t, p)
		})
	}
}

// StartClusterPair starts a redis-server and a Crescent in cluster mode,
// each on a bus port of its own, gives each every slot and waits until
// both report cluster_state:ok.
func StartClusterPair(t *testing.T) *Pair {
	t.Helper()
	// node-timeout 1000: Redis waits that long (its rejoin delay) before
	// it is ok again after a time without slots
	r := StartRedis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(FreePort(t)),
		"--cluster-node-timeout", "1000")
	c := StartCrescent(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(FreePort(t)),
		"--cluster-node-timeout", "1000")
	p := &Pair{Redis: r, Crescent: c}
	for _, s := range []*Server{r, c} {
		if rep, err := Dial(t, s).Do("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil || string(rep) != "+OK\r\n" {
			t.Fatalf("%s: ADDSLOTSRANGE: %q %v", s.Name, rep, err)
		}
	}
	waitClusterOK(t, p)
	return p
}

// waitClusterOK waits until both servers of p report cluster_state:ok.
func waitClusterOK(t *testing.T, p *Pair) {
	t.Helper()
	for _, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		deadline := time.Now().Add(10 * time.Second)
		for {
			info, err := c.Do("CLUSTER", "INFO")
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(info, []byte("cluster_state:ok")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: cluster not ok: %q", s.Name, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
	}
}
