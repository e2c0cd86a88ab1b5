package exec

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
)

// retries counts Retry calls (the engine's stop for a rerun).
type retries struct{ n int }

func (r *retries) Retry() { r.n++ }

// twoShardKeys returns two keys of different shards.
func twoShardKeys(e *Executor) (string, string) {
	a := "x"
	for n := 0; ; n++ {
		b := "y" + string(rune('a'+n%26)) + string(rune('a'+n/26))
		if e.Store.ShardOf([]byte(b)) != e.Store.ShardOf([]byte(a)) {
			return a, b
		}
	}
}

// A script on an event loop holds none of its declared shards at its
// start (Locks.lazyScript): it takes each at its key's first access, or
// all that are left at Settle. A busy one stops it for a rerun
// (ShardBusy), and what it took is released by Decline.
func TestLazyDeclaredShards(t *testing.T) {
	tests := []struct {
		name      string
		busy      string // the key whose shard another client holds
		settle    bool   // Settle instead of an access to the first key
		wantRetry bool
	}{
		{"first access, all free", "", false, false},
		{"first access, the other key's shard busy", "b", false, false},
		{"first access, its shard busy", "a", false, true},
		{"settle, all free", "", true, false},
		{"settle, one busy", "b", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestExecutor(t)
			a, b := twoShardKeys(e)
			keys := map[string]string{"a": a, "b": b}
			sa, sb := e.Store.ShardOf([]byte(a)), e.Store.ShardOf([]byte(b))
			l := Locks{Shards: []int{min(sa, sb), max(sa, sb)}}
			if !l.lazyScript() || len(l.Shards) != 0 || !l.Shared || len(l.Declared) != 2 {
				t.Fatalf("lazyScript: shards %v shared %v declared %v", l.Shards, l.Shared, l.Declared)
			}
			var other Locks
			if tt.busy != "" {
				other.Shards = []int{e.Store.ShardOf([]byte(keys[tt.busy]))}
				e.Lock(&other)
				defer e.Unlock(&other)
			}
			if !e.tryLock(&l) {
				t.Fatal("the global lock shared was not free")
			}
			var s ScriptCall
			caller, client := command.NewClient(1), command.NewClient(2)
			e.InitScriptCall(&s, caller, client, 1000, false)
			var r retries
			if !s.StartPartial(&l, &r) || !s.Lazy() {
				t.Fatal("not a lazy partial-mode script")
			}
			var ok bool
			if tt.settle {
				s.Settle()
				ok = !s.Restarting()
			} else {
				ok = s.take(sa) // what acquire does at a's first access
			}
			if got := r.n == 1; got != tt.wantRetry || ok == tt.wantRetry || s.ShardBusy() != tt.wantRetry {
				t.Fatalf("retries %d, ok %v, ShardBusy %v; want a retry: %v", r.n, ok, s.ShardBusy(), tt.wantRetry)
			}
			want := map[string]bool{"a": !tt.wantRetry, "b": tt.settle && !tt.wantRetry}
			if tt.settle && tt.wantRetry {
				delete(want, "a") // taken or not, by the order of the shards
			}
			for k, held := range want {
				if got := s.part.has(e.Store.ShardOf([]byte(keys[k]))); got != held {
					t.Errorf("shard of %s held: %v, want %v", k, got, held)
				}
			}
			if tt.wantRetry {
				s.Decline() // releases what it took and the global lock
			} else {
				s.Finish()
				e.Unlock(&l)
			}
			s.Release()
			// nothing left held: every shard but the other client's is free
			for k, key := range keys {
				if k == tt.busy {
					continue
				}
				x := Locks{Shards: []int{e.Store.ShardOf([]byte(key))}}
				if !e.tryLock(&x) {
					t.Fatalf("shard of %s still held", k)
				}
				e.Unlock(&x)
			}
		})
	}
}

// slowScript is a BusyMonitor with a script running long (not yet BUSY).
type slowScript struct{}

func (slowScript) Running() bool     { return true }
func (slowScript) Slow() bool        { return true }
func (slowScript) BusyError() string { return "" }

// While a script runs long, an event-loop command that needs no shard is
// declined (its goroutine answers BUSY past the threshold), but a lazy
// script with declared keys is not: it holds the global lock shared
// only, as a command on free shards would hold those.
func TestLockNoWaitLazyWhileSlow(t *testing.T) {
	tests := []struct {
		name string
		l    Locks
		want bool
	}{
		{"lazy script with declared keys", Locks{Shared: true, Declared: []int{1, 2}}, true},
		{"no keys", Locks{Shared: true}, false},
		{"shards", Locks{Shards: []int{3}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestExecutor(t)
			e.Busy = slowScript{}
			l := tt.l
			ok, _ := e.lockNoWait(&command.Client{NoWait: true}, &command.Spec{Name: "eval"}, &l)
			if ok {
				e.Unlock(&l)
			}
			if ok != tt.want {
				t.Fatalf("lockNoWait = %v, want %v", ok, tt.want)
			}
		})
	}
}
