package commands_test

import (
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestScriptRandomCountBound: a script's redis.call of a negative count
// whose reply must pass the 128 MB bound is refused at once, as the same
// command from a client is: redis.call('HRANDFIELD', k, -50000000) built a
// Lua table of 50 million entries (1.7 GB of RSS) before.
func TestScriptRandomCountBound(t *testing.T) {
	srv := newInProcess(t)
	ex := srv.Exec()
	cl := command.NewClient(1)
	w := resp.NewWriter()
	do := func(args ...string) string {
		w.Reset()
		ex.Execute(cl, strArgs(args...), w)
		return string(w.Buf)
	}
	do("HSET", "h", "a", "b")
	do("SADD", "s", "a")
	do("ZADD", "z", "1", "a")
	const refused = "-ERR reply too large: a negative count's reply is bounded to 128 MB\r\n"
	for _, tc := range [][]string{{"HRANDFIELD", "h"}, {"SRANDMEMBER", "s"}, {"ZRANDMEMBER", "z"}} {
		name := strings.Join(tc, " ")
		body := "return redis.pcall('" + tc[0] + "', KEYS[1], ARGV[1])"
		if got := do("EVAL", body, "1", tc[1], "-50000000"); got != refused {
			t.Errorf("%s -50000000 from a script: %q, want %q", name, got, refused)
		}
		if got := do("EVAL", body, "1", tc[1], "-3"); got != "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n" {
			t.Errorf("%s -3 from a script: %q", name, got)
		}
	}
}
