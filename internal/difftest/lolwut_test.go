package difftest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLolwutStructure compares the art of LOLWUT VERSION 5 and 6 where it
// is random (rand(), seeded per process in both servers): the line count,
// every line's width in characters (braille for 5, "\033[...m \033[0m"
// cells for 6), Schotter's first line (drawn before any random row) and the
// captions must be Redis's. The deterministic cases are in lolwut.txt.
func TestLolwutStructure(t *testing.T) {
	p := StartPair(t)
	r, c := Dial(t, p.Redis), Dial(t, p.Crescent)
	for _, args := range [][]string{
		{"LOLWUT", "VERSION", "5"},
		{"LOLWUT", "VERSION", "5", "40", "5", "9"},
		{"LOLWUT", "VERSION", "5", "7", "1", "30"},
		{"LOLWUT", "VERSION", "6"},
		{"LOLWUT", "VERSION", "6", "17", "9"},
		{"LOLWUT", "VERSION", "6", "1", "1"},
		{"LOLWUT", "VERSION", "6", "200", "50"},
	} {
		rv, _, err1 := Parse(r.MustDo(t, args...))
		cv, _, err2 := Parse(c.MustDo(t, args...))
		if err1 != nil || err2 != nil {
			t.Fatalf("%q: %v %v", args, err1, err2)
		}
		rl, cl := strings.Split(string(rv.Str), "\n"), strings.Split(string(cv.Str), "\n")
		if len(rl) != len(cl) {
			t.Fatalf("%q: %d lines, Redis %d", args, len(cl), len(rl))
		}
		width := func(s string) int {
			if args[2] == "6" {
				return strings.Count(s, "\033[0m")
			}
			return utf8.RuneCountInString(s)
		}
		for i := range rl {
			if width(rl[i]) != width(cl[i]) {
				t.Errorf("%q line %d: width %d, Redis %d", args, i, width(cl[i]), width(rl[i]))
			}
		}
		captions := 2
		if args[2] == "6" {
			captions = 3
		}
		for i := len(rl) - captions; i < len(rl); i++ {
			if rl[i] != cl[i] {
				t.Errorf("%q caption line %d: %q, Redis %q", args, i, cl[i], rl[i])
			}
		}
		if args[2] == "5" && rl[0] != cl[0] {
			t.Errorf("%q first line: %q, Redis %q", args, cl[0], rl[0])
		}
	}
}
