package persist_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

// inProc starts Crescent in-process on a free loopback port.
func inProc(tb testing.TB, args ...string) (*proc, func()) {
	tb.Helper()
	cfg := config.New()
	all := append([]string{"--port", "0", "--bind", "127.0.0.1", "--dir", tb.TempDir(), "--save", ""}, args...)
	if err := cfg.Load("", all); err != nil {
		tb.Fatal(err)
	}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	_, port, _ := strings.Cut(s.Addr().String(), ":")
	p := &proc{}
	p.port, _ = strconv.Atoi(port)
	return p, func() { cancel(); <-done }
}

// BenchmarkGroupCommit measures SET throughput from many clients with
// appendfsync always: every reply waits for its fsync, and one fsync
// serves every client whose write it covers.
func BenchmarkGroupCommit(b *testing.B) {
	for _, fsync := range []string{"always", "everysec"} {
		for _, clients := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/clients=%d", fsync, clients), func(b *testing.B) {
				p, stop := inProc(b, "--appendonly", "yes", "--appendfsync", fsync)
				defer stop()
				conns := make([]*client, clients)
				for i := range conns {
					conns[i] = dial(b, p)
				}
				b.ReportAllocs()
				b.ResetTimer()
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for i := range conns {
					wg.Add(1)
					go func(c *client, i int) {
						defer wg.Done()
						for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
							if r, err := c.do("SET", "key:"+strconv.FormatInt(n%10000, 10), "value"); err != nil || r != "OK" {
								b.Errorf("SET: %q %v", r, err)
								return
							}
						}
					}(conns[i], i)
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rps")
			})
		}
	}
}

// TestSnapshotPause1M measures how long a snapshot of 1M keys stops
// clients: the cut (whole keyspace locked) and the worst SET latency seen
// while the snapshot runs. Set CRESCENT_BIG=1 to run it.
func TestSnapshotPause1M(t *testing.T) {
	if os.Getenv("CRESCENT_BIG") == "" {
		t.Skip("set CRESCENT_BIG=1 to measure the snapshot pause with 1M keys")
	}
	p, stop := inProc(t)
	defer stop()
	c := dial(t, p)
	// load 1M keys with pipelined SETs
	const n = 1000000
	var buf []byte
	for i := 0; i < n; i++ {
		buf = append(buf, encode("SET", "key:"+strconv.Itoa(i), "value-"+strconv.Itoa(i))...)
		if i%10000 == 9999 {
			c.c.Write(buf)
			buf = buf[:0]
			for j := 0; j < 10000; j++ {
				c.read()
			}
		}
	}
	t.Logf("loaded %d keys", n)
	var worst atomic.Int64
	done := make(chan struct{})
	w := dial(t, p)
	infoc := dial(t, p)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			t0 := time.Now()
			w.do("SET", "key:"+strconv.Itoa(i*7919%n), "x")
			if d := int64(time.Since(t0)); d > worst.Load() {
				worst.Store(d)
			}
			if i%100 == 99 && strings.Contains(infoc.must(t, "INFO", "persistence"), "rdb_bgsave_in_progress:0") {
				return
			}
		}
	}()
	t0 := time.Now()
	c.expect(t, "Background saving started", "BGSAVE")
	<-done
	total := time.Since(t0)
	t1 := time.Now()
	c.expect(t, "OK", "SAVE") // a second snapshot, foreground: its duration
	t.Logf("SAVE of 1M keys took %v", time.Since(t1))
	info := c.must(t, "INFO", "persistence")
	i := strings.Index(info, "crescent_last_snapshot_pause_usec:")
	t.Logf("1M keys: BGSAVE took %v; cut pause %s; worst SET latency during the snapshot %v",
		total, strings.Fields(info[i:])[0], time.Duration(worst.Load()))
}

// TestInProcessJobsUnderLoad runs rewrites, BGSAVE and INFO while clients
// write, in-process (meant for -race).
func TestInProcessJobsUnderLoad(t *testing.T) {
	p, stop := inProc(t, "--appendonly", "yes", "--appendfsync", "always")
	defer stop()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		c := dial(t, p)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				c.do("SET", fmt.Sprintf("k%d:%d", w, i%100), "v")
			}
		}(w)
	}
	admin := dial(t, p)
	for i := 0; i < 5; i++ {
		admin.must(t, "BGREWRITEAOF")
		admin.must(t, "BGSAVE", "SCHEDULE")
		admin.must(t, "INFO", "persistence")
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
}
