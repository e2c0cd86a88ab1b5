package script

import (
	"strings"
	"testing"
)

// TestGetShaCase: EVALSHA's sha is matched case-insensitively (Redis
// lowercases it), whether it is sent in lower, upper or mixed case.
func TestGetShaCase(t *testing.T) {
	c := NewCache()
	body := "return 1"
	s := c.Add(&Script{Sha: SHA1Hex([]byte(body)), Body: body})
	mixed := []byte(s.Sha)
	for i := 0; i < len(mixed); i += 2 {
		mixed[i] = strings.ToUpper(string(mixed[i]))[0]
	}
	for _, tc := range []struct {
		sha  string
		want *Script
	}{
		{s.Sha, s},
		{strings.ToUpper(s.Sha), s},
		{string(mixed), s},
		{strings.Repeat("a", 40), nil},
		{s.Sha[:39], nil},
		{s.Sha + "0", nil},
	} {
		if got := c.GetSha([]byte(tc.sha)); got != tc.want {
			t.Errorf("GetSha(%q) = %v, want %v", tc.sha, got, tc.want)
		}
	}
}

// TestGetBody: EVAL finds a cached script by its text, as it would by
// the text's SHA1, and SCRIPT FLUSH forgets both.
func TestGetBody(t *testing.T) {
	c := NewCache()
	bodies := []string{"return 1", "return 2", "", "#!lua flags=no-writes\nreturn 1", strings.Repeat("x", 70000)}
	for _, b := range bodies[:3] {
		c.Add(&Script{Sha: SHA1Hex([]byte(b)), Body: b})
	}
	for i, b := range bodies {
		got := c.GetBody([]byte(b))
		if want := c.Get(SHA1Hex([]byte(b))); got != want {
			t.Errorf("GetBody(%.20q) = %v, Get by sha = %v", b, got, want)
		}
		if (got != nil) != (i < 3) || got != nil && got.Body != b {
			t.Errorf("GetBody(%.20q) = %v", b, got)
		}
	}
	c.Flush()
	for _, b := range bodies {
		if c.GetBody([]byte(b)) != nil {
			t.Errorf("GetBody(%.20q) found a script after Flush", b)
		}
	}
}

// FuzzGetBody compares the body index with the sha index.
func FuzzGetBody(f *testing.F) {
	f.Add([]byte("return 1"), []byte("return 1 "))
	f.Add([]byte(""), []byte("a"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := NewCache()
		c.Add(&Script{Sha: SHA1Hex(a), Body: string(a)})
		for _, x := range [][]byte{a, b} {
			if got, want := c.GetBody(x), c.Get(SHA1Hex(x)); got != want {
				t.Fatalf("GetBody(%q) = %v, by sha %v", x, got, want)
			}
		}
	})
}
