package commands_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// A script on an event loop (Client.NoWait) takes the shards of its
// declared keys at their first access (concurrency.md, "Script tail
// latency, second pass"). While another command holds the shard of the
// declared key "block":
//   - a script that never touches it runs at once;
//   - one that touches it after a write, or runs long enough to take the
//     rest of its declared shards (Settle), is stopped, its write undone
//     (no other client sees it), and it runs again holding both shards
//     once they are free: its write is applied once.
func TestLazyDeclaredKeys(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		waits   bool   // touches "block": runs again after it is released
		want    string // the script's reply
		wantKey string // its key's value afterwards
	}{
		{"declared key not touched", "return redis.call('incr', KEYS[1])", false, ":1\r\n", "1"},
		{"declared key touched after a write", "redis.call('incr', KEYS[1]) return redis.call('get', KEYS[2])", true, "$1\r\nx\r\n", "1"},
		// runs long enough for the engine's periodic check: Settle takes
		// the declared shards it has not, and finds block's busy
		{"long script, declared key not touched", "redis.call('incr', KEYS[1]) local i = 0 while i < 300000 do i = i + 1 end return 'done'", true, "$4\r\ndone\r\n", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLockHarness(t)
			// a key whose shard comes after block's if there is one: the
			// rerun, waiting for block's shard, then holds nothing of its
			// own meanwhile (the shards are taken in ascending order)
			a := h.otherShard("a", "block")
			after := false
			for n := 0; n < 4096 && !after; n++ {
				k := fmt.Sprintf("a%d", n)
				after = h.ex.Store.ShardOf([]byte(k)) > h.ex.Store.ShardOf([]byte("block"))
				if after {
					a = k
				}
			}
			first := h.blockInside("SET block x")
			reruns := h.ex.LazyReruns.Load()
			cl := command.NewClient(0)
			cl.NoWait = true
			done := make(chan string, 1)
			go func() {
				w := resp.NewWriter()
				h.ex.Execute(cl, strArgs("EVAL", tt.body, "2", a, "block"), w)
				done <- string(w.Buf)
			}()
			if !tt.waits {
				if got := h.mustFinish("a script not touching the busy key", done); got != tt.want {
					t.Fatalf("script replied %q, want %q", got, tt.want)
				}
			} else {
				for deadline := time.Now().Add(10 * time.Second); h.ex.LazyReruns.Load() == reruns; {
					if time.Now().After(deadline) {
						t.Fatal("the script never found block's shard busy")
					}
					time.Sleep(time.Millisecond)
				}
				// only when a's shard comes after block's: otherwise the
				// rerun holds a's shard while it waits for block's, and the
				// GET would wait for it (the shard hash is seeded per store,
				// so block's shard is the last one in one run in 256: this
				// GET then hung the test, and a CI run)
				if after {
					if got := h.run(command.NewClient(0), "GET "+a); got != "$-1\r\n" {
						t.Fatalf("the stopped attempt's write is visible: GET %s = %q", a, got)
					}
				}
				h.mustWait("the rerun", done)
				h.unblock()
				if got := h.mustFinish("the rerun", done); got != tt.want {
					t.Fatalf("script replied %q, want %q", got, tt.want)
				}
			}
			h.unblock()
			h.mustFinish("SET block", first)
			if got, want := h.run(command.NewClient(0), "GET "+a), "$1\r\n"+tt.wantKey+"\r\n"; got != want {
				t.Fatalf("GET %s = %q, want %q", a, got, want)
			}
			if cl.WouldWait || cl.LockBusy {
				t.Fatalf("declined: WouldWait %v, LockBusy %v", cl.WouldWait, cl.LockBusy)
			}
		})
	}
}

// A script stopped for a rerun (its declared key's shard busy) leaves no
// keyspace hit or miss of its own: the reads of the stopped attempt wait
// in the shards it holds and are dropped with it (keyspace.DB.HoldingHits),
// so a GET of a missing key and a GET of the busy one count one miss and
// one hit, as the one run Redis makes.
func TestLazyRerunCountsOnce(t *testing.T) {
	h := newLockHarness(t)
	a := h.otherShard("a", "block")
	hits0, misses0 := h.ex.Store.KeyspaceStats() // SET block (rerunLazy's) counts neither
	got := h.rerunLazy(command.NewClient(0), "redis.call('get', KEYS[1]) return redis.call('get', KEYS[2])", a)
	if got != "$1\r\nx\r\n" {
		t.Fatalf("script replied %q", got)
	}
	hits, misses := h.ex.Store.KeyspaceStats()
	if hits-hits0 != 1 || misses-misses0 != 1 {
		t.Fatalf("keyspace hits +%d, misses +%d; want +1 and +1", hits-hits0, misses-misses0)
	}
}
