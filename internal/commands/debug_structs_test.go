package commands

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestLpRepr: DEBUG LISTPACK's print of a listpack is Redis 7.0.15's
// lpRepr (testdata/lprepr.txt: redis-server's stdout for two listpack
// hashes, the entries' addresses masked): strings with 1- and 2-byte
// headers and backlens, 7-, 13- and 24-bit integers, a number past int64.
func TestLpRepr(t *testing.T) {
	want, err := os.ReadFile("testdata/lprepr.txt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, elems := range [][]string{
		{"f", "v", "g", "1"},
		{strings.Repeat("x", 200), "-5", "100000", "12345678901234567890"},
	} {
		bs := make([][]byte, len(elems))
		for i, e := range elems {
			bs[i] = []byte(e)
		}
		lpRepr(&b, bs)
	}
	got := regexp.MustCompile(`addr: 0x[0-9a-f]+`).ReplaceAllString(b.String(), "addr: X")
	if got != string(want) {
		t.Errorf("lpRepr:\n%s\nwant (redis-server):\n%s", got, want)
	}
}
