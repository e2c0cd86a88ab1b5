package exec

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
)

// spinLock takes a free shard, and gives up, holding nothing, on one held
// past lockSpin. (That it gets a shard released while it spins depends on
// two threads running at once, which a loaded machine does not promise;
// the trace measurements in docs/design/concurrency.md show it.)
func TestSpinLock(t *testing.T) {
	tests := []struct {
		name  string
		held  bool
		procs int // GOMAXPROCS for the call (0: unchanged)
		want  bool
	}{
		{"free", false, 0, true},
		{"held past the spin", true, 0, false},
		{"free, one P", false, 1, true},
		{"held, one P", true, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.procs > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tt.procs))
			}
			e := newTestExecutor(t)
			l := &Locks{Shards: []int{e.Store.ShardOf([]byte("k"))}}
			var done atomic.Bool
			released := make(chan struct{})
			if tt.held {
				e.Lock(l)
				go func() {
					for !done.Load() {
						runtime.Gosched()
					}
					e.Unlock(l)
					close(released)
				}()
			} else {
				close(released)
			}
			got := e.spinLock(l)
			if got {
				e.Unlock(l)
			}
			done.Store(true)
			<-released
			if got != tt.want {
				t.Fatalf("spinLock = %v, want %v", got, tt.want)
			}
			if !e.tryLock(l) { // nothing left held
				t.Fatal("shard still held")
			}
			e.Unlock(l)
		})
	}
}

// Two event-loop workers on one hot key (ZADD myzset): lockNoWait with
// the shard held for a moment at a time by each.
func BenchmarkLockNoWaitHotShard(b *testing.B) {
	e := newTestExecutor(b)
	spec, _ := e.Lookup([][]byte{[]byte("ZADD")})
	shard := e.Store.ShardOf([]byte("myzset"))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		l := &Locks{Shards: []int{shard}}
		cl := &command.Client{}
		for pb.Next() {
			if ok, _ := e.lockNoWait(cl, spec, l); !ok {
				b.Fatal("declined")
			}
			for i := 0; i < 50; i++ { // a short command
				_ = i
			}
			e.Unlock(l)
		}
	})
}

// A worker that parks on a lock after its spin first calls the client's
// BeforePark (an event loop wakes an idle worker to watch for events
// meanwhile); one that gets the lock at once or while spinning does not.
func TestLockNoWaitBeforePark(t *testing.T) {
	e := newTestExecutor(t)
	spec, _ := e.Lookup([][]byte{[]byte("GET")})
	l := &Locks{Shards: []int{e.Store.ShardOf([]byte("k"))}}
	var parks atomic.Int32
	cl := &command.Client{NoWait: true, BeforePark: func() { parks.Add(1) }}

	if ok, first := e.lockNoWait(cl, spec, l); !ok || !first {
		t.Fatalf("free lock: ok %v, first %v", ok, first)
	}
	e.Unlock(l)
	if n := parks.Load(); n != 0 {
		t.Fatalf("free lock: BeforePark called %d times", n)
	}

	e.Lock(l) // held until the worker is about to park (or 5 s: a failure)
	go func() {
		for deadline := time.Now().Add(5 * time.Second); parks.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(lockSpin)
		}
		e.Unlock(l)
	}()
	if ok, first := e.lockNoWait(cl, spec, l); !ok || first {
		t.Fatalf("held lock: ok %v, first %v", ok, first)
	}
	e.Unlock(l)
	if n := parks.Load(); n != 1 {
		t.Fatalf("held lock: BeforePark called %d times, want 1", n)
	}
}

// runningScript is a BusyMonitor with a short script always running.
type runningScript struct{}

func (runningScript) Running() bool     { return true }
func (runningScript) Slow() bool        { return false }
func (runningScript) BusyError() string { return "" }

// An event-loop command that finds its shard held while a script runs
// counts a conflict, and a decline when it gives up after noWaitSpin; one
// that gets its shard at once counts neither (LockConflicts,
// LockDeclines on /metrics).
func TestLockNoWaitConflictCounts(t *testing.T) {
	tests := []struct {
		name              string
		held              bool
		wantOK            bool
		conflicts, declin int64
	}{
		{"free", false, true, 0, 0},
		{"held by a script past the spin", true, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestExecutor(t)
			e.Busy = runningScript{}
			spec, _ := e.Lookup([][]byte{[]byte("EVALSHA")})
			l := &Locks{Shards: []int{e.Store.ShardOf([]byte("k"))}}
			cl := &command.Client{NoWait: true}
			if tt.held {
				e.Lock(l)
			}
			ok, _ := e.lockNoWait(cl, spec, l)
			if ok || tt.held {
				e.Unlock(l)
			}
			if ok != tt.wantOK {
				t.Fatalf("lockNoWait = %v, want %v", ok, tt.wantOK)
			}
			if c, d := e.LockConflicts.Load(), e.LockDeclines.Load(); c != tt.conflicts || d != tt.declin {
				t.Fatalf("conflicts %d, declines %d; want %d, %d", c, d, tt.conflicts, tt.declin)
			}
			// the wait is timed: at least noWaitSpin when declined
			if w := time.Duration(e.LockConflictWait.Load()); tt.declin > 0 && w < noWaitSpin || tt.conflicts == 0 && w != 0 {
				t.Fatalf("LockConflictWait %v", w)
			}
		})
	}
}
