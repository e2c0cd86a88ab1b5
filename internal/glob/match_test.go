package glob

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// refMatch is a literal port of Redis 7.0.15's stringmatchlen_impl
// (util.c), recursion and skipLongerMatches included, over NUL-terminated
// copies of its arguments (the C code reads the terminator: pattern[1]
// after the last '*', the set loop and the trailing-star loop past the
// end). It is the reference Match is checked against.
func refMatch(pattern, s string, nocase bool) bool {
	p := append([]byte(pattern), 0)
	str := append([]byte(s), 0)
	skip := false
	return refImpl(p, 0, len(pattern), str, 0, len(s), nocase, &skip)
}

func refImpl(p []byte, pi, plen int, s []byte, si, slen int, nocase bool, skip *bool) bool {
	tolower := func(c int) int {
		if c >= 'A' && c <= 'Z' {
			return c + 32
		}
		return c
	}
	for plen > 0 && slen > 0 {
		switch p[pi] {
		case '*':
			for plen > 0 && p[pi+1] == '*' {
				pi++
				plen--
			}
			if plen == 1 {
				return true
			}
			for slen > 0 {
				if refImpl(p, pi+1, plen-1, s, si, slen, nocase, skip) {
					return true
				}
				if *skip {
					return false
				}
				si++
				slen--
			}
			*skip = true
			return false
		case '?':
			si++
			slen--
		case '[':
			pi++
			plen--
			not := p[pi] == '^'
			if not {
				pi++
				plen--
			}
			match := false
			for {
				if p[pi] == '\\' && plen >= 2 {
					pi++
					plen--
					if p[pi] == s[si] {
						match = true
					}
				} else if p[pi] == ']' {
					break
				} else if plen == 0 {
					pi--
					plen++
					break
				} else if plen >= 3 && p[pi+1] == '-' {
					start, end, c := int(int8(p[pi])), int(int8(p[pi+2])), int(int8(s[si]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = tolower(start), tolower(end), tolower(c)
					}
					pi += 2
					plen -= 2
					if c >= start && c <= end {
						match = true
					}
				} else if !nocase {
					if p[pi] == s[si] {
						match = true
					}
				} else if tolower(int(int8(p[pi]))) == tolower(int(int8(s[si]))) {
					match = true
				}
				pi++
				plen--
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			si++
			slen--
		case '\\':
			if plen >= 2 {
				pi++
				plen--
			}
			fallthrough
		default:
			if !nocase {
				if p[pi] != s[si] {
					return false
				}
			} else if tolower(int(int8(p[pi]))) != tolower(int(int8(s[si]))) {
				return false
			}
			si++
			slen--
		}
		pi++
		plen--
		if slen == 0 {
			for p[pi] == '*' {
				pi++
				plen--
			}
			break
		}
	}
	return plen == 0 && slen == 0
}

// TestMatchTable: cases of Redis's own tests (keyspace.tcl, pubsub.tcl,
// util.c) and the quirks Match documents, each checked against both Match
// and the reference port.
func TestMatchTable(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		nocase bool
		want   bool
	}{
		{"*", "", false, false}, {"**", "", false, false}, {"", "", false, true},
		{"?", "", false, false}, {"[a]", "", false, false}, {"\\", "", false, false},
		{"*", "a", false, true}, {"", "a", false, false}, {"a*", "a", false, true},
		{"a**", "a", false, true}, {"*a", "a", false, true}, {"**a", "ba", false, true},
		{"*?", "a", false, true}, {"?*", "a", false, true}, {"*?*", "ab", false, true},
		{"h?llo", "hello", false, true}, {"h*llo", "hllo", false, true},
		{"h[ae]llo", "hallo", false, true}, {"h[^e]llo", "hello", false, false},
		{"h[^e]llo", "hallo", false, true}, {"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hbllo", false, true}, {"h[a-]llo", "h]llo", false, false},
		{"h[a-]llo", "h]", false, true},
		{"h[a-]llo", "h-llo", false, false}, {"[]", "]", false, false},
		{"[]]", "]", false, false}, {"[", "[", false, false}, {"[a", "a", false, true},
		{"[^", "x", false, true}, {"[^", "", false, false}, {"[\\", "\\", false, true},
		{"[\\]]", "]", false, true}, {"[\\a]", "A", true, false}, {"[a]", "A", true, true},
		{"[A-C]", "b", true, true}, {"[a-c]", "B", true, true}, {"a\\", "a\\", false, true},
		{"\\*", "*", false, true}, {"\\*", "a", false, false}, {"a\\*b", "a*b", false, true},
		{"[\x80-a]", "0", false, true}, {"[\x80-a]", "b", false, false},
		{"[\x80-a]", "\xff", false, true}, {"[a-\xff]", "b", false, false},
		{"[a-\xff]", "!", false, true}, {"\xe9", "\xc9", true, false},
		{"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false, false},
		{"*a*", "ba", false, true}, {"*[", "a[", false, false}, {"*[a", "ba", false, true},
		{"a*[^", "ab", false, true}, {"a*[^", "a", false, false},
	} {
		if got := refMatch(tc.pat, tc.s, tc.nocase); got != tc.want {
			t.Errorf("ref(%q, %q, %v) = %v, want %v", tc.pat, tc.s, tc.nocase, got, tc.want)
		}
		if got := Match(tc.pat, tc.s, tc.nocase); got != tc.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", tc.pat, tc.s, tc.nocase, got, tc.want)
		}
	}
}

// globAlphabet is what random patterns and strings are made of: the
// pattern syntax, both cases, a range's neighbours and bytes that are
// negative as C chars.
const globAlphabet = "*?[]^-\\aAbBz]\x80\xff\x00"

func randGlob(r *rand.Rand, max int) string {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = globAlphabet[r.IntN(len(globAlphabet))]
	}
	return string(b)
}

// TestMatchRandom compares Match with the reference port on random
// patterns and strings.
func TestMatchRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		p, s, nc := randGlob(r, 8), randGlob(r, 6), r.IntN(2) == 0
		if got, want := Match(p, s, nc), refMatch(p, s, nc); got != want {
			t.Fatalf("Match(%q, %q, %v) = %v, reference %v", p, s, nc, got, want)
		}
	}
}

// FuzzMatch compares Match with the reference port.
func FuzzMatch(f *testing.F) {
	f.Add("*a*[b-c]\\", "xabc", false)
	f.Add("[^", "", true)
	f.Fuzz(func(t *testing.T, p, s string, nocase bool) {
		if len(p) > 64 || len(s) > 64 {
			return // the reference recursion is exponential without skip
		}
		if got, want := Match(p, s, nocase), refMatch(p, s, nocase); got != want {
			t.Fatalf("Match(%q, %q, %v) = %v, reference %v", p, s, nocase, got, want)
		}
	})
}

// TestMatchLongPattern: a pattern of many stars against a long string
// that does not match returns at once (no backtracking blow-up, no
// recursion depth).
func TestMatchLongPattern(t *testing.T) {
	p := strings.Repeat("*a", 100000) + "b"
	s := strings.Repeat("a", 200000)
	if Match(p, s, false) {
		t.Fatal("matched")
	}
	if !Match(strings.Repeat("*a", 100000), s, false) {
		t.Fatal("no match")
	}
}

func BenchmarkMatch(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Match("user:*:session[0-9]*", "user:12345:session7abc", false)
	}
}
