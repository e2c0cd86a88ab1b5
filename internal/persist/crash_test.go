package persist_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCrashKeepsAcknowledgedWrites kills Crescent with SIGKILL while
// clients write with appendfsync always, restarts it, and checks that
// every acknowledged write is there: plain commands and scripts alike.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(cl *client, key, val string) (string, error)
	}{
		{"SET", func(cl *client, key, val string) (string, error) { return cl.do("SET", key, val) }},
		{"EVAL", func(cl *client, key, val string) (string, error) {
			return cl.do("EVAL", "redis.call('SET', KEYS[1], ARGV[1]) redis.call('INCR', 'n') return redis.status_reply('OK')", "1", key, val)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { crashKeepsAcked(t, tc.write) })
	}
}

func crashKeepsAcked(t *testing.T, write func(cl *client, key, val string) (string, error)) {
	dir := t.TempDir()
	p := startCrescent(t, dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	const clients = 8
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < clients; c++ {
		cl := dial(t, p)
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// overwrite a small key set too, so order matters
				key := fmt.Sprintf("c%d:%d", c, i%50)
				val := fmt.Sprintf("v%d", i)
				r, err := write(cl, key, val)
				if err != nil {
					return // killed
				}
				if r != "OK" {
					t.Errorf("SET: %s", r)
					return
				}
				mu.Lock()
				acked[key] = val
				mu.Unlock()
			}
		}(c)
	}
	// mid-stream: after 400 ms and some acknowledged writes (fsyncs can
	// be slow on a loaded machine)
	time.Sleep(400 * time.Millisecond)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
	}
	p.kill() // SIGKILL
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no write acknowledged")
	}
	p2 := startCrescent(t, dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	cl := dial(t, p2)
	for k, v := range acked {
		// a later write may have reached the disk without its ack: the
		// value is then newer, never older
		got := cl.must(t, "GET", k)
		if got != v && !newer(got, v) {
			t.Fatalf("key %s: got %q, acknowledged %q", k, got, v)
		}
	}
	t.Logf("%d keys verified after SIGKILL", len(acked))
}

func newer(got, acked string) bool {
	var a, b int
	fmt.Sscanf(got, "v%d", &a)
	fmt.Sscanf(acked, "v%d", &b)
	return a > b
}

// TestRewriteUnderLoad rewrites the AOF while clients write, then checks
// after a restart that nothing written during the rewrite was lost.
func TestRewriteUnderLoad(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--aof-use-rdb-preamble", preamble}
			p := startCrescent(t, dir, args...)
			var wg sync.WaitGroup
			const clients, per = 4, 3000
			for c := 0; c < clients; c++ {
				cl := dial(t, p)
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					for i := 0; i < per; i++ {
						cl.do("SET", fmt.Sprintf("k%d:%d", c, i), fmt.Sprintf("%d", i))
					}
				}(c)
			}
			admin := dial(t, p)
			for i := 0; i < 3; i++ {
				time.Sleep(30 * time.Millisecond)
				r := admin.must(t, "BGREWRITEAOF")
				if !strings.HasPrefix(r, "Background append only file rewriting") && r != "-ERR Background append only file rewriting already in progress" {
					t.Fatalf("BGREWRITEAOF: %s", r)
				}
			}
			wg.Wait()
			// wait for the last rewrite to end
			for i := 0; i < 200 && strings.Contains(admin.must(t, "INFO", "persistence"), "aof_rewrite_in_progress:1"); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			admin.do("SHUTDOWN", "NOSAVE") // no reply: the connection closes
			p.wait(t)
			files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*"))
			p2 := startCrescent(t, dir, args...)
			cl := dial(t, p2)
			for c := 0; c < clients; c++ {
				for i := 0; i < per; i++ {
					if got := cl.must(t, "GET", fmt.Sprintf("k%d:%d", c, i)); got != fmt.Sprint(i) {
						t.Fatalf("k%d:%d = %q after restart (files %v)", c, i, got, files)
					}
				}
			}
		})
	}
}

// TestTruncatedAOF covers aof-load-truncated and a corrupt file.
func TestTruncatedAOF(t *testing.T) {
	dir := t.TempDir()
	p := startCrescent(t, dir, "--appendonly", "yes", "--save", "")
	cl := dial(t, p)
	cl.expect(t, "OK", "SET", "a", "1")
	cl.expect(t, "OK", "SET", "b", "2")
	cl.do("SHUTDOWN", "NOSAVE") // no reply: the connection closes
	p.wait(t)
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	good, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	// a half-written last record
	os.WriteFile(incr, append(append([]byte{}, good...), "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1"...), 0o644)

	t.Run("refused-when-no", func(t *testing.T) {
		q := startProcNoWait(t, dir, "--appendonly", "yes", "--save", "", "--aof-load-truncated", "no")
		if !strings.Contains(q, "appendonly.aof.1.incr.aof at offset") {
			t.Fatalf("startup error does not name the file and offset: %s", q)
		}
	})
	t.Run("truncated-when-yes", func(t *testing.T) {
		p := startCrescent(t, dir, "--appendonly", "yes", "--save", "")
		cl := dial(t, p)
		cl.expect(t, "1", "GET", "a")
		cl.expect(t, "2", "GET", "b")
		cl.expect(t, "(nil)", "GET", "c")
		cl.do("SHUTDOWN", "NOSAVE") // no reply: the connection closes
		p.wait(t)
		if b, _ := os.ReadFile(incr); len(b) != len(good) {
			t.Fatalf("file not truncated to %d bytes: %d", len(good), len(b))
		}
	})
	t.Run("corrupt-refused", func(t *testing.T) {
		bad := append(append([]byte{}, good[:10]...), "garbage"...)
		bad = append(bad, good[10:]...)
		os.WriteFile(incr, bad, 0o644)
		out := startProcNoWait(t, dir, "--appendonly", "yes", "--save", "")
		if !strings.Contains(out, "appendonly.aof.1.incr.aof at offset 0") || !strings.Contains(out, "bad") {
			t.Fatalf("corrupt AOF: %s", out)
		}
	})
}

// startProcNoWait runs Crescent expecting it to fail at startup and
// returns its output.
func startProcNoWait(t *testing.T, dir string, args ...string) string {
	t.Helper()
	p := &proc{port: freePort(t)}
	all := append([]string{"--port", fmt.Sprint(p.port), "--dir", dir}, args...)
	out, err := execCommand(crescentBin, all...).CombinedOutput()
	if err == nil {
		t.Fatalf("server started: %s", out)
	}
	return string(out)
}
