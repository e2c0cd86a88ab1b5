//go:build linux

package server

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/crescent-db/crescent/internal/mono"
)

// TestLoopStealBatch: a worker with an empty batch takes half of the
// unserved rest of another's, from its end; the owner and any number of
// thieves together take every event exactly once.
func TestLoopStealBatch(t *testing.T) {
	ls := &eventLoops{s: &Server{}, stealAfter: stealAfter}
	owner, thief := ls.newWorker(), ls.newWorker()
	ls.all.Store(&[]*eventLoop{owner, thief})
	for i := range 10 {
		owner.events[i] = unix.EpollEvent{Fd: int32(100 + i)}
	}
	at := mono.Now()
	owner.setBatch(10, at)
	if ev, ok := owner.take(); !ok || ev.Fd != 100 {
		t.Fatalf("owner took %v %v", ev.Fd, ok)
	}
	if thief.stealBatch() {
		t.Fatal("stole from a batch whose owner is running")
	}
	owner.bmu.Lock()
	owner.progress -= int64(time.Second) // the owner stalls
	owner.bmu.Unlock()
	if !thief.stealBatch() {
		t.Fatal("nothing stolen from a batch with 9 events left")
	}
	var got []int32
	for ev, ok := thief.take(); ok; ev, ok = thief.take() {
		got = append(got, ev.Fd)
	}
	if len(got) != 5 || got[0] != 105 || got[4] != 109 || thief.polledAt != at {
		t.Fatalf("stole %v at %d, want 105..109 at %d", got, thief.polledAt, at)
	}
	if ls.s.loopSteals.Load() != 5 {
		t.Fatalf("steals counted %d, want 5", ls.s.loopSteals.Load())
	}
	for want := int32(101); want < 105; want++ {
		if ev, ok := owner.take(); !ok || ev.Fd != want {
			t.Fatalf("owner took %v %v, want %d", ev.Fd, ok, want)
		}
	}
	if _, ok := owner.take(); ok || !owner.batchDone() {
		t.Fatal("owner's batch not done")
	}
	if thief.stealBatch() || owner.stealBatch() {
		t.Fatal("stole from done batches")
	}
}

// TestLoopStealBatchRace: batches published by owners while thieves steal
// from them: every event is served once (run with -race).
func TestLoopStealBatchRace(t *testing.T) {
	const workers, batches = 4, 3000
	ls := &eventLoops{s: &Server{}, stealAfter: time.Nanosecond} // steal at once
	ws := make([]*eventLoop, workers)
	for i := range ws {
		ws[i] = ls.newWorker()
	}
	ls.all.Store(&ws)
	var mu sync.Mutex
	seen := map[int32]int{}
	var wg sync.WaitGroup
	for w, l := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := int32(w * batches * loopBatch)
			for b := 0; b < batches; {
				if !l.batchDone() {
					t.Error("a batch not done at the top")
					return
				}
				if !l.stealBatch() {
					for i := range loopBatch {
						l.events[i] = unix.EpollEvent{Fd: next + int32(i)}
					}
					next += loopBatch
					l.setBatch(loopBatch, 1)
					b++
				}
				for ev, ok := l.take(); ok; ev, ok = l.take() {
					mu.Lock()
					seen[ev.Fd]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*batches*loopBatch {
		t.Fatalf("%d events served, want %d", len(seen), workers*batches*loopBatch)
	}
	for fd, n := range seen {
		if n != 1 {
			t.Fatalf("event %d served %d times", fd, n)
		}
	}
}
