package commands

import (
	"fmt"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// BenchmarkSetOps measures what SINTER, SINTERCARD, SINTERSTORE, SUNION
// and SDIFF allocate per command over two sets of 10,000 members of 100
// bytes sharing half of them (hashtables), and SINTER over two intsets
// of 500 members: the intersections look members up with no copy of them
// (lim22); the stores copy only what they store.
func BenchmarkSetOps(b *testing.B) {
	s := keyspace.New(1, keyspace.Hooks{})
	db := s.DB(0, 1_000_000)
	h := &Handlers{}
	run := func(fn command.Handler, w *resp.Writer, args ...string) {
		a := make([][]byte, len(args))
		for i, s := range args {
			a[i] = []byte(s)
		}
		w.Reset()
		fn(&command.Ctx{Args: a, W: w, DB: db, Spec: &command.Spec{Name: args[0]}})
	}
	w := resp.NewWriter()
	member := func(i int) string { return fmt.Sprintf("%0100d", i) }
	for i := 0; i < 10000; i++ {
		run(h.sadd, w, "sadd", "a", member(i))
		run(h.sadd, w, "sadd", "b", member(i+5000))
	}
	for i := 0; i < 500; i++ {
		run(h.sadd, w, "sadd", "ia", fmt.Sprint(i))
		run(h.sadd, w, "sadd", "ib", fmt.Sprint(i+250))
	}
	for _, bc := range []struct {
		fn   command.Handler
		args []string
	}{
		{h.sinter, []string{"sinter", "a", "b"}},
		{h.sintercard, []string{"sintercard", "2", "a", "b"}},
		{h.sinterstore, []string{"sinterstore", "d", "a", "b"}},
		{h.sunion, []string{"sunion", "a", "b"}},
		{h.sdiff, []string{"sdiff", "a", "b"}},
		{h.sinter, []string{"sinter", "ia", "ib"}},
	} {
		b.Run(fmt.Sprint(bc.args), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				run(bc.fn, w, bc.args...)
			}
		})
	}
}
