package script

import "testing"

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
