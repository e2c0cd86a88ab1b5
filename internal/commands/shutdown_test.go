package commands

import (
	"strings"
	"testing"
)

// TestParseShutdownFlags checks SHUTDOWN's option parsing as Redis's
// shutdownCommand: any order and case, repeats, ABORT alone, SAVE and
// NOSAVE exclusive; and the signal directives' values.
func TestParseShutdownFlags(t *testing.T) {
	cases := []struct {
		args      string
		flags     shutdownFlags
		abort, ok bool
	}{
		{"", 0, false, true},
		{"nosave", shutNoSave, false, true},
		{"SAVE now FORCE", shutSave | shutNow | shutForce, false, true},
		{"now now", shutNow, false, true},
		{"abort", 0, true, true},
		{"ABORT abort", 0, true, true},
		{"abort now", 0, false, false},
		{"force abort", 0, false, false},
		{"save nosave", 0, false, false},
		{"nosave x", 0, false, false},
		{"", 0, false, true},
	}
	for _, c := range cases {
		var args [][]byte
		for _, w := range strings.Fields(c.args) {
			args = append(args, []byte(w))
		}
		f, abort, ok := parseShutdownFlags(args)
		if ok != c.ok || ok && (f != c.flags || abort != c.abort) {
			t.Errorf("SHUTDOWN %s: flags %b abort %v ok %v, want %b %v %v", c.args, f, abort, ok, c.flags, c.abort, c.ok)
		}
	}
	for v, want := range map[string]shutdownFlags{
		"default": 0, "save": shutSave, "nosave now": shutNoSave | shutNow, "NOW force": shutNow | shutForce,
	} {
		if got := sigShutdownFlags(v); got != want {
			t.Errorf("shutdown-on-sigterm %q: %b, want %b", v, got, want)
		}
	}
	if w := (shutNoSave | shutNow).words(); len(w) != 2 || string(w[0]) != "nosave" || string(w[1]) != "now" {
		t.Errorf("words: %q", w)
	}
}
