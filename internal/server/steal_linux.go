//go:build linux

package server

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/crescent-db/crescent/internal/mono"
)

// Stealing the rest of a batch (docs/design/concurrency.md, "seventh
// session"). Edge-triggered epoll reports a ready connection to one
// worker only. A worker the kernel takes off its core in the middle of
// its batch would hold up the connections of that batch it has not
// reached yet until it runs again, milliseconds later on a loaded
// machine; no other worker would hear of them. So a worker's batch is
// shared: a worker whose own batch is done takes half of the unserved
// rest of another worker's batch before it polls, if that worker took
// nothing from it for stealAfter (stealBatch), and a
// worker that takes a batch of stealWakeMin connections or more wakes an
// idle worker to do that. claim still makes one worker serve a
// connection at a time, so replies keep their order.

// stealAfter is how long the owner of a batch must have made no progress
// (taken no event) before another worker steals from it: a worker that
// runs takes its next connection within microseconds, and sharing every
// batch between running workers cost 10–20% more CPU per request on a
// quiet machine (docs/design/concurrency.md, "seventh session").
const stealAfter = 200 * time.Microsecond

// stealWakeMin is the smallest batch whose taker wakes an idle worker
// (eventLoops.stealWake).
const stealWakeMin = 4

// setBatch makes events[:n], returned by a poll at polledAt, the worker's
// batch. The previous batch must be done.
func (l *eventLoop) setBatch(n int, polledAt int64) {
	l.bmu.Lock()
	l.next, l.n = 0, max(n, 0)
	l.clock = polledAt
	if n > 0 {
		l.polledAt, l.progress = polledAt, polledAt
	}
	l.bmu.Unlock()
}

// take returns the next unserved event of the worker's batch, if any is
// left (the owner's side; stealBatch is the other workers').
func (l *eventLoop) take() (unix.EpollEvent, bool) {
	l.bmu.Lock()
	if l.next >= l.n {
		l.bmu.Unlock()
		return unix.EpollEvent{}, false
	}
	ev := l.events[l.next]
	l.next++
	l.progress = l.clock // the worker's latest reading: its last command's end
	l.bmu.Unlock()
	return ev, true
}

// batchDone reports whether every event of the worker's batch was taken.
func (l *eventLoop) batchDone() bool {
	l.bmu.Lock()
	defer l.bmu.Unlock()
	return l.next >= l.n
}

// stealBatch makes half (rounded up) of the unserved rest of the fullest
// other batch whose owner made no progress for stealAfter l's batch, from
// its end, and reports whether there was one.
// l's own batch must be done.
func (l *eventLoop) stealBatch() bool {
	all := l.ls.all.Load()
	if all == nil {
		return false
	}
	var victim *eventLoop
	most := 0
	stale := mono.Now() - int64(l.ls.stealAfter)
	for _, w := range *all {
		if w == l {
			continue
		}
		w.bmu.Lock()
		r := w.n - w.next
		if w.progress > stale {
			r = 0 // its owner is running
		}
		w.bmu.Unlock()
		if r > most {
			victim, most = w, r
		}
	}
	if victim == nil {
		return false
	}
	var got [loopBatch]unix.EpollEvent
	victim.bmu.Lock()
	r := victim.n - victim.next
	k := min((r+1)/2, len(got), len(l.events))
	victim.n -= k
	copy(got[:k], victim.events[victim.n:victim.n+k])
	at := victim.polledAt
	victim.bmu.Unlock()
	if k <= 0 {
		return false
	}
	l.bmu.Lock()
	copy(l.events, got[:k])
	l.next, l.n = 0, k
	l.clock = mono.Now()
	l.polledAt, l.progress = at, l.clock
	l.bmu.Unlock()
	l.s.loopSteals.Add(int64(k))
	return true
}

// replaceWorker puts nw in old's place among the workers whose batches
// may be stolen from (a detaching worker's successor).
func (ls *eventLoops) replaceWorker(old, nw *eventLoop) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var ws []*eventLoop
	if p := ls.all.Load(); p != nil {
		ws = make([]*eventLoop, 0, len(*p))
		for _, w := range *p {
			if w != old {
				ws = append(ws, w)
			}
		}
	}
	ws = append(ws, nw)
	ls.all.Store(&ws)
}
