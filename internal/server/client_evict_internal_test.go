package server

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
)

// TestMemBucket checks Redis's getMemUsageBucket: log2 buckets, all
// clients under 32 KiB in the first, 8 GiB and up in the last.
func TestMemBucket(t *testing.T) {
	for _, tc := range []struct {
		mem  int64
		want int
	}{
		{0, 0}, {1856, 0}, {32767, 0}, {32768, 1}, {65535, 1}, {65536, 2},
		{1 << 20, 6}, {1<<33 - 1, 18}, {1 << 33, 18}, {1 << 40, 18},
	} {
		if got := memBucket(tc.mem); got != tc.want {
			t.Errorf("memBucket(%d) = %d, want %d", tc.mem, got, tc.want)
		}
	}
}

// TestClientEvictionLimit checks maxmemory-clients in bytes as Redis's
// getClientEvictionLimit: a percentage of maxmemory, off without maxmemory,
// at least 128 KiB.
func TestClientEvictionLimit(t *testing.T) {
	for _, tc := range []struct {
		maxmemory, clients string
		want               int64
	}{
		{"0", "0", 0},
		{"0", "1mb", 1 << 20},
		{"0", "1000", 128 * 1024},
		{"0", "10%", 0},
		{"100mb", "1%", 1048576},
		{"1mb", "10%", 128 * 1024},
		{"100mb", "0", 0},
	} {
		cfg := config.New()
		if err := cfg.Load("", []string{"--maxmemory", tc.maxmemory, "--maxmemory-clients", tc.clients}); err != nil {
			t.Fatal(err)
		}
		if got := clientEvictionLimit(cfg); got != tc.want {
			t.Errorf("maxmemory %s maxmemory-clients %s: %d, want %d", tc.maxmemory, tc.clients, got, tc.want)
		}
	}
}

// TestEvictionSparesReplicas: replicas and a master link count in no
// bucket and not in the total; a NO-EVICT client leaves its bucket and
// keeps the memory last measured.
func TestEvictionSparesReplicas(t *testing.T) {
	s := newTestServer(t)
	c := &conn{s: s}
	c.bucket = -1
	s.record(c, 100000, 0, true)
	if c.bucket != memBucket(100000) || s.evict.total.Load() != 100000 {
		t.Fatalf("normal client: bucket %d total %d", c.bucket, s.evict.total.Load())
	}
	s.record(c, 500000, command.ClientNoEvict, false)
	if c.bucket != -1 || s.evict.total.Load() != 100000 {
		t.Fatalf("no-evict client: bucket %d total %d", c.bucket, s.evict.total.Load())
	}
	for _, f := range []int{command.ClientReplica, command.ClientMaster} {
		s.record(c, 500000, f, true)
		if c.bucket != -1 || s.evict.total.Load() != 0 {
			t.Fatalf("flags %d: bucket %d total %d", f, c.bucket, s.evict.total.Load())
		}
	}
	s.record(c, 70000, 0, true)
	s.forget(c)
	s.record(c, 70000, 0, true) // closed: no more records
	if s.evict.total.Load() != 0 {
		t.Fatalf("after forget: total %d", s.evict.total.Load())
	}
}
