package commands_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/resp"
)

// BenchmarkRandomKeys drives the commands of redis-benchmark's -t tests
// through Executor.Execute as redis-benchmark -r 100000 sends them: a
// random key (or member) out of 100,000 per call, the argument vectors
// built before the timer starts (an argument vector is used again when
// its key comes again). In process, without the network, for
// counting instructions per command under callgrind (concurrency.md,
// "Instructions per request, session 15").
func BenchmarkRandomKeys(b *testing.B) {
	tests := []struct {
		name string
		argv func(r int) []string
	}{
		{"set", func(r int) []string { return []string{"SET", fmt.Sprintf("key:%012d", r), "xxx"} }},
		{"get", func(r int) []string { return []string{"GET", fmt.Sprintf("key:%012d", r)} }},
		{"incr", func(r int) []string { return []string{"INCR", fmt.Sprintf("counter:%012d", r)} }},
		{"lpush", func(r int) []string { return []string{"LPUSH", "mylist", "xxx"} }},
		{"sadd", func(r int) []string { return []string{"SADD", "myset", fmt.Sprintf("element:%012d", r)} }},
		{"hset", func(r int) []string { return []string{"HSET", "myhash", fmt.Sprintf("element:%012d", r), "xxx"} }},
		{"zadd", func(r int) []string {
			return []string{"ZADD", "myzset", fmt.Sprint(r % 1000), fmt.Sprintf("element:%012d", r)}
		}},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			srv := newInProcess(b)
			ex := srv.Exec()
			cl := command.NewClient(1)
			w := resp.NewWriter()
			rng := rand.New(rand.NewSource(1))
			// warm: the keys of the SETs that GET reads
			for r := range 100000 {
				w.Reset()
				ex.Execute(cl, strArgs("SET", fmt.Sprintf("key:%012d", r), "xxx"), w)
			}
			// one argument vector per key, then a random one per call:
			// what scales with b.N is the call (for callgrind's difference
			// of two runs)
			cmds := make([][][]byte, 100000)
			for r := range cmds {
				cmds[r] = strArgs(tc.argv(r)...)
			}
			argvs := make([][][]byte, b.N)
			for i := range argvs {
				argvs[i] = cmds[rng.Intn(len(cmds))]
			}
			b.ReportAllocs()
			b.ResetTimer()
			executeAll(ex, cl, w, argvs)
		})
	}
}

// executeAll executes argvs in turn: callgrind counts the calls alone
// with --toggle-collect on this function.
//
//go:noinline
func executeAll(ex *exec.Executor, cl *command.Client, w *resp.Writer, argvs [][][]byte) {
	for _, a := range argvs {
		w.Reset()
		ex.Execute(cl, a, w)
	}
}
