package server

import (
	"math"
	"slices"
	"testing"
	"time"
)

// TestProcGovernorNext drives the governor's decision with made-up
// windows: each step is the process's CPU use and the machine's idle
// cores in one window, and the P count expected after it.
func TestProcGovernorNext(t *testing.T) {
	type step struct {
		busy, idle float64 // cores
		want       int
	}
	rep := func(n int, st step) []step { return slices.Repeat([]step{st}, n) }
	seq := func(parts ...[]step) []step { return slices.Concat(parts...) }
	const w = procWindow
	hold := int(minHold / w) // windows of the first back-off
	tests := []struct {
		name  string
		max   int
		start int
		steps []step
	}{
		{"idle server drops to one P after four windows", 2, 2, seq(
			rep(3, step{0.01, 1.9, 2}), rep(2, step{0.01, 1.9, 1}),
		)},
		{"one core's worth of work (unpipelined) goes to one P and stays", 2, 2, seq(
			rep(3, step{0.95, 0.2, 2}), rep(1, step{0.95, 0.2, 1}), rep(5, step{0.97, 0.15, 1}),
		)},
		{"saturated P with idle machine (pipelined scripts) gets two after two windows", 2, 1, seq(
			rep(1, step{0.98, 0.7, 1}), rep(1, step{0.98, 0.7, 2}), rep(5, step{1.7, 0.1, 2}),
		)},
		{"a lone window with room (unpipelined, now and then) keeps one", 2, 1, seq(
			rep(3, step{0.97, 0.1, 1}), rep(1, step{0.97, 0.7, 1}), rep(3, step{0.97, 0.1, 1}),
			rep(1, step{0.97, 0.7, 1}), rep(1, step{0.97, 0.2, 1}), rep(1, step{0.97, 0.7, 1}),
		)},
		{"saturated P without idle CPU keeps one", 2, 1, []step{
			{0.99, 0.3, 1}, {0.99, 0.39, 1}, {0.99, 0.1, 1},
		}},
		{"idle machine but an unbusy P keeps one", 2, 1, []step{
			{0.5, 1.4, 1}, {0.84, 1.0, 1},
		}},
		{"a dip shorter than four windows keeps two", 2, 2, seq(
			rep(1, step{1.6, 0.2, 2}), rep(3, step{0.3, 1.5, 2}), rep(1, step{1.6, 0.2, 2}),
			rep(3, step{0.3, 1.5, 2}), rep(1, step{0.3, 1.5, 1}),
		)},
		{"going up that does not pay backs off", 2, 1, seq(
			// up, then the second P is not used: down after 4 windows,
			// within flapWindow, so no new try for minHold
			rep(1, step{0.95, 1.0, 1}), rep(1, step{0.95, 1.0, 2}),
			rep(3, step{1.0, 0.9, 2}), rep(1, step{1.0, 0.9, 1}),
			rep(hold, step{0.95, 1.0, 1}),
			rep(1, step{0.95, 1.0, 2}), // the hold is over: tries again
			rep(3, step{1.0, 0.9, 2}), rep(1, step{1.0, 0.9, 1}),
			rep(2*hold, step{0.95, 1.0, 1}), // the hold doubled
			rep(1, step{0.95, 1.0, 2}),
			// this time the second P is used: it stays, and a later
			// down (long after going up) clears the back-off
			rep(int(flapWindow/w)+1, step{1.7, 0.2, 2}),
			rep(3, step{0.3, 1.5, 2}), rep(1, step{0.3, 1.5, 1}),
			rep(1, step{0.95, 1.0, 1}), rep(1, step{0.95, 1.0, 2}),
		)},
		{"an idle window ends the load and its back-off", 2, 1, seq(
			rep(1, step{0.95, 1.0, 1}), rep(1, step{0.95, 1.0, 2}),
			rep(3, step{1.0, 0.9, 2}), rep(1, step{1.0, 0.9, 1}),
			rep(2, step{0.95, 1.0, 1}),                             // held
			rep(1, step{0.01, 1.9, 1}),                             // the load ends
			rep(1, step{0.95, 1.0, 1}), rep(1, step{0.95, 1.0, 2}), // a new one goes up at its second window
		)},
		{"more cores: doubling up and halving down", 8, 1, seq(
			[]step{{1.0, 6.0, 1}, {1.0, 6.0, 2}, {1.9, 5.0, 2}, {1.9, 5.0, 4}, {3.8, 3.0, 4}, {3.8, 3.0, 8}, {5.0, 1.5, 8}},
			rep(3, step{2.0, 5.0, 8}), rep(2, step{2.0, 5.0, 4}),
		)},
		{"never above max nor below one", 2, 2, seq(
			rep(1, step{2.0, 0.9, 2}), rep(3, step{0, 2, 2}), rep(4, step{0, 2, 1}),
		)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &procGovernor{max: tc.max}
			cur := tc.start
			now := int64(time.Hour) // any clock
			for i, st := range tc.steps {
				now += int64(w)
				cur = g.next(cur, procSample{now: now, wall: w,
					cpu: time.Duration(st.busy * float64(w)), idle: st.idle})
				if cur != st.want {
					t.Fatalf("step %d (busy %.2f, idle %.2f): %d Ps, want %d", i, st.busy, st.idle, cur, st.want)
				}
			}
		})
	}
}

// TestProcGovernorNoWindow: a sample without a window changes nothing.
func TestProcGovernorNoWindow(t *testing.T) {
	g := &procGovernor{max: 2}
	if got := g.next(2, procSample{}); got != 2 {
		t.Fatalf("got %d", got)
	}
}

// TestProcGovernorUp checks the loops' early request (a whole batch at
// one P): only up, only with room, not during a back-off.
func TestProcGovernorUp(t *testing.T) {
	const w = procPokeMin
	smp := func(now int64, busy, idle float64) procSample {
		return procSample{now: now, wall: w, cpu: time.Duration(busy * float64(w)), idle: idle}
	}
	g := &procGovernor{max: 2}
	now := int64(time.Hour)
	if got := g.up(1, smp(now, 0.6, 1.5)); got != 1 {
		t.Fatalf("not busy: %d", got)
	}
	if got := g.up(1, smp(now, 1.0, 0.2)); got != 1 {
		t.Fatalf("no room: %d", got)
	}
	if got := g.up(1, smp(now, 1.0, 0.5)); got != 1 {
		t.Fatalf("half a core idle over a short window: %d, want 1 (one idle tick may be chance)", got)
	}
	if got := g.up(2, smp(now, 1.0, 1.0)); got != 2 {
		t.Fatalf("at max: %d", got)
	}
	exact := smp(now, 1.0, 0.5)
	exact.exact = true
	if got := g.up(1, exact); got != 1 {
		t.Fatalf("half a core idle, measured exactly: %d, want 1 (an unpipelined load's 99th percentile)", got)
	}
	exact.idle = 0.65
	if got := g.up(1, exact); got != 1 {
		t.Fatalf("0.65 cores idle, measured exactly, once: %d, want 1 (an unpipelined load's, now and then)", got)
	}
	if got := g.up(1, exact); got != 2 {
		t.Fatalf("0.65 cores idle, measured exactly, twice running: %d, want 2 (a pipelined load's)", got)
	}
	g.upAt = 0
	if got := g.up(1, smp(now, 1.0, 1.0)); got != 1 {
		t.Fatalf("busy with room, once: %d, want 1", got)
	}
	if got := g.up(1, smp(now, 0.5, 1.0)); got != 1 {
		t.Fatalf("not busy: %d", got)
	}
	if got := g.up(1, smp(now, 1.0, 1.0)); got != 1 {
		t.Fatalf("busy with room, once after a look without: %d, want 1", got)
	}
	if got := g.up(1, smp(now, 1.0, 1.0)); got != 2 {
		t.Fatalf("busy with room, twice running: %d, want 2", got)
	}
	g.up(1, smp(now, 1.0, 1.0))
	g.holdUntil = now + int64(time.Second)
	if got := g.up(1, smp(now+int64(w), 1.0, 1.0)); got != 1 {
		t.Fatalf("held: %d", got)
	}
}

// TestProcGovernorPokeAt checks when the loops may ask for a look: a
// procPokeMin window after the last one, not during a back-off, and never
// at the most Ps.
func TestProcGovernorPokeAt(t *testing.T) {
	now := int64(time.Hour)
	tests := []struct {
		name      string
		max, cur  int
		holdUntil int64
		want      int64
	}{
		{"one P: a window later", 2, 1, 0, now + int64(procPokeMin)},
		{"every P: never", 2, 2, 0, math.MaxInt64},
		{"held: when the back-off ends", 2, 1, now + int64(time.Second), now + int64(time.Second)},
		{"back-off over: a window later", 2, 1, now - 1, now + int64(procPokeMin)},
		{"4 of 8 Ps: a window later", 8, 4, 0, now + int64(procPokeMin)},
	}
	for _, tc := range tests {
		g := &procGovernor{max: tc.max, holdUntil: tc.holdUntil}
		if got := g.pokeAt(tc.cur, now); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got-now, tc.want-now)
		}
	}
}
