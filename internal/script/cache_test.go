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
