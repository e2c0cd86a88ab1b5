package commands_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestScriptObservedArgs checks the arguments the Observe hook sees for
// a script's inner calls, which a partial-lock script holds back until it
// ends (the engine builds them in the held-back log, script.Run.ArgBytes):
// each call's own arguments, whatever the later calls wrote, including
// after a rerun with the whole keyspace (KEYS escalates) and for FCALL.
func TestScriptObservedArgs(t *testing.T) {
	srv := newInProcess(t)
	ex := srv.Exec()
	var got []string
	prev := ex.Observe
	ex.Observe = func(c *command.Ctx, d time.Duration) {
		if c.InScript {
			parts := make([]string, len(c.Args))
			for i, a := range c.Args {
				parts[i] = string(a)
			}
			got = append(got, strings.Join(parts, " "))
		}
		if prev != nil {
			prev(c, d)
		}
	}
	cl := command.NewClient(1)
	w := resp.NewWriter()
	long := strings.Repeat("v", 700)
	ex.Execute(cl, strArgs("FUNCTION", "LOAD", "#!lua name=obslib\nredis.register_function('obs', function(k, a) redis.call('set', k[1], a[1]) return redis.call('get', k[1]) end)"), w)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('incrby', KEYS[2], 7) return redis.call('get', KEYS[1])", "2", "o:a", "o:n", "x"},
			[]string{"set o:a x", "incrby o:n 7", "get o:a"}},
		{[]string{"EVAL", "for i = 1, 40 do redis.call('set', KEYS[1], ARGV[1] .. i) end return redis.call('strlen', KEYS[1])", "1", "o:b", long},
			nil}, // filled below: 40 growing SETs
		{[]string{"EVAL", "redis.call('set', KEYS[1], 1.5) redis.call('append', KEYS[1], 'zz') redis.call('keys', 'o:*') return 1", "1", "o:c"},
			[]string{"set o:c 1.5", "append o:c zz", "keys o:*"}},
		{[]string{"EVAL", "redis.call('set', 'o:undeclared', 'u') return redis.call('get', KEYS[1])", "1", "o:a"},
			[]string{"set o:undeclared u", "get o:a"}},
		{[]string{"FCALL", "obs", "1", "o:f", "fv"}, []string{"set o:f fv", "get o:f"}},
	}
	for i := 1; i <= 40; i++ {
		cases[1].want = append(cases[1].want, fmt.Sprintf("set o:b %s%d", long, i))
	}
	cases[1].want = append(cases[1].want, "strlen o:b")
	for _, c := range cases {
		got = nil
		w.Reset()
		ex.Execute(cl, strArgs(c.args...), w)
		if w.Buf[0] == '-' {
			t.Fatalf("%.60q: %s", c.args, w.Buf)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%.60q: observed\n%.300q\nwant\n%.300q", c.args, got, c.want)
		}
	}
}
