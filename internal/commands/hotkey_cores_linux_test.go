package commands_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// BenchmarkHotKeyCores measures what a hot key's data moving between
// cores costs a command: two goroutines, each on its own thread pinned
// to a CPU with its own client, take turns running redis-benchmark's
// ZADD (SADD, LPUSH) on one key, like two loop workers serving the same key.
// "same" pins both threads to CPU 0, "cross" to CPUs 0 and 1, so that in
// "cross" every command finds the lines the previous one wrote in the
// other core's cache. Only the command is timed, not the hand-over:
// p50-ns and mean-ns per command. Needs CPUs 0 and 1.
func BenchmarkHotKeyCores(b *testing.B) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil || !allowed.IsSet(0) || !allowed.IsSet(1) {
		b.Skip("needs CPUs 0 and 1")
	}
	mks := map[string]func(r *rand.Rand) []string{
		"zadd": func(r *rand.Rand) []string {
			return []string{"ZADD", "myzset", fmt.Sprint(r.IntN(100000)), randElem(r)}
		},
		"sadd":  func(r *rand.Rand) []string { return []string{"SADD", "myset", randElem(r)} },
		"lpush": func(*rand.Rand) []string { return []string{"LPUSH", "mylist", "xxx"} },
	}
	for _, cmd := range []string{"zadd", "sadd", "lpush"} {
		for _, mode := range []string{"same", "cross"} {
			b.Run(cmd+"/"+mode, func(b *testing.B) {
				srv, err := server.New(config.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), "")
				if err != nil {
					b.Fatal(err)
				}
				e := srv.Exec()
				w := resp.NewWriter()
				fill := command.NewClient(1)
				for _, a := range hotkeyArgs(100000, 1, mks[cmd]) {
					w.Reset()
					e.Execute(fill, a, w)
				}
				const n = 1 << 16
				args := hotkeyArgs(n, 2, mks[cmd])
				cpus := [2]int{0, 1}
				if mode == "same" {
					cpus[1] = 0
				}
				turn := [2]chan int{make(chan int), make(chan int)}
				done := make(chan []time.Duration, 2)
				for k := range 2 {
					go func() {
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						var set unix.CPUSet
						set.Set(cpus[k])
						if err := unix.SchedSetaffinity(0, &set); err != nil {
							b.Error(err)
						}
						cl := command.NewClient(int64(2 + k))
						w := resp.NewWriter()
						d := make([]time.Duration, 0, b.N/2+1)
						for i := range turn[k] {
							if i < 0 {
								break
							}
							if i >= b.N {
								turn[1-k] <- -1
								break
							}
							w.Reset()
							t0 := time.Now()
							e.Execute(cl, args[i&(n-1)], w)
							d = append(d, time.Since(t0))
							turn[1-k] <- i + 1
						}
						done <- d
					}()
				}
				b.ResetTimer()
				turn[0] <- 0
				all := append(<-done, <-done...)
				b.StopTimer()
				slices.Sort(all)
				var sum time.Duration
				for _, x := range all {
					sum += x
				}
				b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(sum.Nanoseconds())/float64(len(all)), "mean-ns")
			})
		}
	}
}
