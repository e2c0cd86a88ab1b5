package difftest

import (
	"strconv"
	"testing"
)

// TestSuiteIntrospection2AccessTime: TTL, TYPE and EXISTS read a key
// without touching its access time, TOUCH (and a GET) set it to now, as in
// Redis's introspection-2 tests. The key starts 1000 s idle (RESTORE
// IDLETIME) instead of sleeping; idle times are compared by bounds.
func TestSuiteIntrospection2AccessTime(t *testing.T) {
	p := StartPair(t)
	for _, tc := range []struct {
		cmd      []string
		touching bool
	}{
		{[]string{"TTL", "k"}, false},
		{[]string{"TYPE", "k"}, false},
		{[]string{"EXISTS", "k"}, false},
		{[]string{"PTTL", "k"}, false},
		{[]string{"TOUCH", "k"}, true},
		{[]string{"GET", "k"}, true},
	} {
		t.Run(tc.cmd[0], func(t *testing.T) {
			for _, s := range []*Server{p.Redis, p.Crescent} {
				c := Dial(t, s)
				c.MustDo(t, "SET", "src", "a string value")
				v, _, _ := Parse(c.MustDo(t, "DUMP", "src"))
				if rep := c.MustDo(t, "RESTORE", "k", "0", string(v.Str), "REPLACE", "IDLETIME", "1000"); string(rep) != "+OK\r\n" {
					t.Fatalf("%s: RESTORE: %q", s.Name, rep)
				}
				c.MustDo(t, tc.cmd...)
				rv, _, _ := Parse(c.MustDo(t, "OBJECT", "IDLETIME", "k"))
				idle, err := strconv.Atoi(string(rv.Str))
				if rv.Type != ':' || err != nil {
					t.Fatalf("%s: OBJECT IDLETIME: %q", s.Name, rv.Raw)
				}
				if tc.touching && idle > 1 {
					t.Errorf("%s: %v left the key %d s idle, want 0", s.Name, tc.cmd, idle)
				}
				if !tc.touching && idle < 999 {
					t.Errorf("%s: %v reset the idle time to %d s, want about 1000", s.Name, tc.cmd, idle)
				}
			}
		})
	}
}
