package resp

import "testing"

// TestWriterGuardSteps checks when a growing reply asks its Guard: not
// before GuardStep bytes past Arm, then every GuardStep bytes or a
// sixteenth of the buffer, whichever is more (a reply of n bytes asks
// O(log n) times), and never without a Guard.
func TestWriterGuardSteps(t *testing.T) {
	w := NewWriter()
	w.Buf = append(w.Buf, make([]byte, 1000)...)
	if start := w.Arm(); start != 1000 {
		t.Fatalf("Arm: %d, want 1000", start)
	}
	calls := 0
	w.Guard = func() bool { calls++; return len(w.Buf) > 1<<20 }
	value := make([]byte, 100)
	checks, stoppedAt := 0, 0
	for i := 0; i < 1<<20; i++ {
		w.Bulk(value)
		if !w.Due() {
			continue
		}
		if checks == 0 && len(w.Buf) < 1000+GuardStep {
			t.Fatalf("first check at %d bytes, before %d", len(w.Buf), 1000+GuardStep)
		}
		checks++
		if w.Check() {
			stoppedAt = len(w.Buf)
			break
		}
	}
	if calls != checks {
		t.Errorf("Guard called %d times for %d checks", calls, checks)
	}
	if stoppedAt < 1<<20 || stoppedAt > (1<<20)+(1<<20)/16+GuardStep {
		t.Errorf("stopped at %d bytes, want just past 1 MiB", stoppedAt)
	}
	// 16 KiB steps up to 256 KiB, then a sixteenth: about 16 + 16*ln(4)
	if checks < 20 || checks > 50 {
		t.Errorf("%d checks for 1 MiB", checks)
	}
	w.Guard = nil
	w.Arm()
	w.Buf = append(w.Buf, make([]byte, GuardStep)...)
	if !w.Due() || w.Check() {
		t.Error("without a Guard: Check must report false")
	}
}
