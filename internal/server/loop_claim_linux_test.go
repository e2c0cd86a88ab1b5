//go:build linux

package server

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestLoopClaim checks the hand-over between workers (loopState.claim and
// release): while one worker serves a connection, others record their
// events instead of serving it, and the serving worker sees every one of
// them before it lets go, so no event is lost and no two workers serve
// the connection at once.
func TestLoopClaim(t *testing.T) {
	const workers, perWorker = 4, 20000
	st := &loopState{}
	var serving atomic.Int32 // workers serving st now: never above 1
	var seen, sent atomic.Uint64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		l := &eventLoop{}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				bit := uint32(1) << (w % 8)
				sent.Add(1)
				if !st.claim(bit, l) {
					continue // the serving worker serves it again
				}
				for {
					if serving.Add(1) != 1 {
						t.Error("two workers serve one connection")
					}
					if st.loop != l {
						t.Error("claim did not record the worker")
					}
					// serve: consume what is pending (handle does this)
					st.pendEv.Swap(0)
					seen.Add(1)
					serving.Add(-1)
					if !st.release() {
						break
					}
				}
			}
		}(w)
	}
	wg.Wait()
	if st.claimed.Load() != 0 {
		t.Fatalf("left claimed: %d", st.claimed.Load())
	}
	if st.pendEv.Load() != 0 {
		t.Fatalf("events left unserved: %b", st.pendEv.Load())
	}
	if seen.Load() == 0 || seen.Load() > sent.Load() {
		t.Fatalf("served %d times for %d events", seen.Load(), sent.Load())
	}
}

// TestLoopClaimNoLostEvent: an event recorded while a worker serves the
// connection makes that worker's release report true.
func TestLoopClaimNoLostEvent(t *testing.T) {
	st := &loopState{}
	a, b := &eventLoop{}, &eventLoop{}
	if !st.claim(1, a) {
		t.Fatal("a free connection was not claimed")
	}
	if st.claim(4, b) {
		t.Fatal("a claimed connection was claimed again")
	}
	if !st.release() {
		t.Fatal("release lost the event recorded meanwhile")
	}
	if got := st.pendEv.Swap(0); got != 4 {
		t.Fatalf("pending events %d, want 4", got)
	}
	if st.release() {
		t.Fatal("release reported an event twice")
	}
	if !st.claim(2, b) || st.loop != b {
		t.Fatal("a released connection was not claimed")
	}
}
