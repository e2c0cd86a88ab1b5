package difftest

import (
	"strings"
	"testing"
)

// TestSlowlogRedacted compares the arguments SLOWLOG records for commands
// carrying credentials (AUTH, HELLO AUTH, MIGRATE AUTH/AUTH2, CONFIG SET
// requirepass): Redis shows them as "(redacted)", as MONITOR does
// (TestRedisCLIModes/monitor, with redis-cli).
func TestSlowlogRedacted(t *testing.T) {
	p := StartPair(t)
	cmds := [][]string{
		{"AUTH", "secret"},
		{"AUTH", "user", "secret"},
		{"AUTH", "a", "b", "c"},
		{"HELLO", "3", "AUTH", "default", "secret"},
		{"HELLO", "2", "AUTH", "default", "x", "SETNAME", "n1"},
		{"HELLO", "3", "AUTH", "nouser", "x", "BOGUS"},
		{"MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH2", "u", "secret"},
		{"CONFIG", "SET", "masterauth", "secret"},
	}
	var got [2]string
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "slowlog-log-slower-than", "0")
		c.MustDo(t, "SLOWLOG", "RESET")
		for _, cmd := range cmds {
			c.MustDo(t, cmd...)
		}
		v, _, err := Parse(c.MustDo(t, "SLOWLOG", "GET", "-1"))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for j := len(v.Elems) - 1; j >= 0; j-- { // oldest first
			for _, a := range v.Elems[j].Elems[3].Elems {
				b.WriteString(string(a.Str) + " ")
			}
			b.WriteString("\n")
		}
		got[i] = b.String()
	}
	if got[0] != got[1] {
		t.Errorf("SLOWLOG arguments differ\nredis:\n%s\ncrescent:\n%s", got[0], got[1])
	}
	if strings.Contains(got[1], "secret") {
		t.Errorf("crescent's SLOWLOG shows a password:\n%s", got[1])
	}
}
