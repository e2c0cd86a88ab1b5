package script

import (
	"testing"

	"github.com/crescent-db/crescent/internal/procid"
)

// TestRunReusable checks that a Run the Monitor handed out (SCRIPT KILL,
// FUNCTION STATS, BUSY checks may still hold it) is never reused.
func TestRunReusable(t *testing.T) {
	var m Monitor
	var a, b Run
	m.Begin(&a)
	m.End(&a)
	if !a.Reusable() {
		t.Fatal("a run nobody saw is not reusable")
	}
	m.Begin(&a)
	m.Begin(&b)
	if m.Current() != &a {
		t.Fatal("Current is not the oldest run")
	}
	m.End(&a)
	m.End(&b)
	if a.Reusable() {
		t.Fatal("a run Current returned is reusable")
	}
	if !b.Reusable() {
		t.Fatal("a run Current never returned is not reusable")
	}
	m.Begin(&b)
	m.KillAny()
	m.End(&b)
	if b.Reusable() || !b.Killed() {
		t.Fatal("a run KillAny reached is reusable")
	}
	b.Reset()
	if !b.Reusable() || b.Killed() || b.Elapsed() != 0 {
		t.Fatal("Reset left state")
	}
}

// TestMonitorSlots checks the registry kept by processor: runs registered
// in different slots (as on different cores) are one registry for
// Running, Slow, Current, Kill and KillAny, and End finds each run's slot
// wherever it is called from.
func TestMonitorSlots(t *testing.T) {
	var m Monitor
	if m.Running() || m.Slow() || m.Current() != nil || m.Kill(false) != ErrNotBusy {
		t.Fatal("an empty monitor reports a running script")
	}
	now := monoNow()
	young, old, middle := &Run{}, &Run{}, &Run{}
	m.beginIn(young, now, 0)
	m.beginIn(old, now-int64(10*slowAfter), 5)
	m.beginIn(middle, now-int64(slowAfter/2), 0)
	if !m.Running() {
		t.Fatal("not running")
	}
	if !m.Slow() {
		t.Fatal("a run older than slowAfter in slot 5 is not slow")
	}
	if m.Current() != old {
		t.Fatal("Current is not the oldest run of all slots")
	}
	old.Function = true
	if got := m.Kill(false); got != ErrBusyFunction {
		t.Fatalf("SCRIPT KILL with a function oldest: %q", got)
	}
	m.End(old)
	if m.slots[5].oldest.Load() != 0 || len(m.slots[5].runs) != 0 {
		t.Fatal("End left the run in its slot")
	}
	if m.Slow() {
		t.Fatal("slow after the old run ended")
	}
	if m.Current() != young {
		t.Fatal("Current is not the oldest run of slot 0 (registered first)")
	}
	m.End(young)
	if m.Current() != middle || m.slots[0].oldest.Load() != middle.start.Load() {
		t.Fatal("slot 0's oldest not updated by End")
	}
	m.beginIn(young, now, procid.Slots-1)
	m.KillAny()
	if !young.Killed() || !middle.Killed() {
		t.Fatal("KillAny missed a slot")
	}
	m.End(young)
	m.End(middle)
	if m.Running() {
		t.Fatal("running after every run ended")
	}
}
