package commands_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// rawExecutor returns a server's executor taking prepared arguments.
func rawExecutor(b *testing.B) func(args [][]byte) *resp.Writer {
	b.Helper()
	srv, err := server.New(config.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		b.Fatal(err)
	}
	e := srv.Exec()
	cl := command.NewClient(1)
	w := resp.NewWriter()
	return func(args [][]byte) *resp.Writer {
		w.Reset()
		e.Execute(cl, args, w)
		return w
	}
}

// hotkeyArgs returns n argument vectors built by mk.
func hotkeyArgs(n int, seed uint64, mk func(r *rand.Rand) []string) [][][]byte {
	r := rand.New(rand.NewPCG(seed, 9))
	out := make([][][]byte, n)
	for i := range out {
		a := mk(r)
		bs := make([][]byte, len(a))
		for j, s := range a {
			bs[j] = []byte(s)
		}
		out[i] = bs
	}
	return out
}

// randElem is redis-benchmark's element:__rand_int__ with -r 100000.
func randElem(r *rand.Rand) string { return fmt.Sprintf("element:%012d", r.IntN(100000)) }

// BenchmarkHotKey runs redis-benchmark's one-key write commands (-r 100000)
// through the executor (lookup, ACL, locks, handler, reply), after 100k of
// the same commands filled the key as a redis-benchmark run would.
func BenchmarkHotKey(b *testing.B) {
	cases := []struct {
		name string
		mk   func(r *rand.Rand) []string
	}{
		{"zadd", func(r *rand.Rand) []string {
			return []string{"ZADD", "myzset", fmt.Sprint(r.IntN(100000)), randElem(r)}
		}},
		{"sadd", func(r *rand.Rand) []string { return []string{"SADD", "myset", randElem(r)} }},
		{"hset", func(r *rand.Rand) []string { return []string{"HSET", "myhash", randElem(r), "xxx"} }},
		{"lpush", func(r *rand.Rand) []string { return []string{"LPUSH", "mylist", "xxx"} }},
		{"lpop", nil}, // LPOP of a list the fill's 100k LPUSHes made (empty past that)
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			exe := rawExecutor(b)
			mk, run := tc.mk, tc.mk
			if mk == nil {
				mk = func(*rand.Rand) []string { return []string{"LPUSH", "mylist", "xxx"} }
				run = func(*rand.Rand) []string { return []string{"LPOP", "mylist"} }
			}
			for _, a := range hotkeyArgs(100000, 1, mk) {
				exe(a)
			}
			const n = 1 << 16
			args := hotkeyArgs(n, 2, run)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				exe(args[i&(n-1)])
			}
		})
	}
}
