package command

import (
	"bytes"
	"testing"
)

// TestLookupFast checks the fast path of Lookup against the map for every
// command, in lower, upper and mixed case, and for names not served.
func TestLookupFast(t *testing.T) {
	tb, err := NewTable()
	if err != nil {
		t.Fatal(err)
	}
	nop := func(*Ctx) {}
	for name := range tb.meta {
		tb.Handle(name, nop)
	}
	if len(tb.byName) < 200 {
		t.Fatalf("only %d commands", len(tb.byName))
	}
	hits := 0
	for name, s := range tb.byName {
		up := bytes.ToUpper([]byte(name))
		mixed := []byte(name)
		mixed[0] = up[0]
		for _, n := range [][]byte{[]byte(name), up, mixed} {
			if got := tb.Lookup(n); got != s {
				t.Fatalf("Lookup(%q) = %v, want %s", n, got, s.Name)
			}
		}
		if b := tb.fast[fastSlot([]byte(name))]; b[0] == s || b[1] == s {
			hits++
		}
	}
	if hits != len(tb.byName) {
		t.Errorf("only %d of %d commands on the fast path", hits, len(tb.byName))
	}
	for _, n := range []string{"gett", "ge", "", "get\x00", "GET ", "\xff"} {
		if got := tb.Lookup([]byte(n)); got != nil {
			t.Errorf("Lookup(%q) = %s, want nil", n, got.Name)
		}
	}
}
