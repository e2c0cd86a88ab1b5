package persist

import (
	"strings"
	"testing"
)

// TestArrayErrors: the errors among an EXEC reply's elements are found
// past nested arrays, bulks (holding "-" and CRLF), nulls and integers.
func TestArrayErrors(t *testing.T) {
	for _, c := range []struct{ reply, want string }{
		{"*0\r\n", ""},
		{"*-1\r\n", ""},
		{"*3\r\n-ERR a\r\n:1\r\n-WRONGTYPE b\r\n", "-ERR a\r\n|-WRONGTYPE b\r\n"},
		{"*4\r\n*2\r\n$3\r\n-x\n\r\n-ERR nested\r\n$-1\r\n*-1\r\n-ERR c\r\n", "-ERR c\r\n"},
		{"*2\r\n$7\r\n-ERR d\r\r\n+OK\r\n", ""},
		{"*2\r\n%1\r\n+k\r\n-ERR v\r\n-ERR e\r\n", "-ERR e\r\n"},
		{"*2\r\n-ERR f\r\n$10\r\nshort\r\n", "-ERR f\r\n"}, // cut short: stops
		{"*x\r\n-ERR g\r\n", ""},
	} {
		var got []string
		arrayErrors([]byte(c.reply), func(e []byte) { got = append(got, string(e)) })
		if strings.Join(got, "|") != c.want {
			t.Errorf("%q: %q, want %q", c.reply, got, c.want)
		}
	}
}

// TestErrorLogText: the text afterErrorReply logs.
func TestErrorLogText(t *testing.T) {
	for full, want := range map[string]string{
		"ERR value is not an integer or out of range": "value is not an integer or out of range",
		"ERR syntax error":                            "-ERR syntax error",
		"ERR":                                         "-ERR",
		"WRONGTYPE Operation":                         "-WRONGTYPE Operation",
		"ERR unknown command 'x'":                     "unknown command 'x'",
	} {
		if got := errorLogText(full); got != want {
			t.Errorf("%q: %q, want %q", full, got, want)
		}
	}
}
