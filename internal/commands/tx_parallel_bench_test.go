package commands_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
)

// benchParallelCmds runs, from GOMAXPROCS goroutines each on its own keys
// (disjoint shards most of the time), the command batch mk builds for key
// k of goroutine g, through the executor without the network. Besides
// ns/op it reports "cores": process CPU over wall time, how many cores
// the run kept busy.
func benchParallelCmds(b *testing.B, setup [][]string, mk func(g int64, k int) [][]string) {
	srv := newInProcess(b)
	ex := srv.Exec()
	w0 := resp.NewWriter()
	for _, s := range setup {
		w0.Reset()
		ex.Execute(command.NewClient(1), strArgs(s...), w0)
		if w0.Buf[0] == '-' {
			b.Fatalf("%v: %s", s, w0.Buf)
		}
	}
	var id atomic.Int64
	defer reportCores(b)()
	b.RunParallel(func(pb *testing.PB) {
		g := id.Add(1)
		cl := command.NewClient(g + 1)
		w := resp.NewWriter()
		var batches [][][][]byte
		for k := 0; k < 64; k++ {
			var batch [][][]byte
			for _, c := range mk(g, k) {
				batch = append(batch, strArgs(c...))
			}
			batches = append(batches, batch)
		}
		for i := 0; pb.Next(); i++ {
			w.Reset()
			for _, args := range batches[i&63] {
				ex.Execute(cl, args, w)
			}
			if bytesHasError(w.Buf) {
				b.Errorf("%s", w.Buf)
				return
			}
		}
	})
}

func bytesHasError(buf []byte) bool {
	for i, c := range buf {
		if c == '-' && (i == 0 || buf[i-1] == '\n') {
			return true
		}
	}
	return false
}

// BenchmarkExecParallel is MULTI, INCR, INCRBY, GET, EXEC on two keys of
// the goroutine's own (compare -cpu 1,2: disjoint transactions run in
// parallel once EXEC locks only their shards).
func BenchmarkExecParallel(b *testing.B) {
	benchParallelCmds(b, nil, func(g int64, k int) [][]string {
		a, c := fmt.Sprintf("tx:%d:%d:a", g, k), fmt.Sprintf("tx:%d:%d:b", g, k)
		return [][]string{{"MULTI"}, {"INCR", a}, {"INCRBY", c, "2"}, {"GET", a}, {"EXEC"}}
	})
}

// benchLib is a function library for BenchmarkFcallParallel*.
const benchLib = "#!lua name=benchlib\n" +
	"redis.register_function('incr2', function(keys, args) redis.call('INCR', keys[1]) return redis.call('INCRBY', keys[2], 2) end)\n" +
	"redis.register_function('cpu', function(keys, args) local x = 0 for i = 1, 1000 do x = x + i % 7 end redis.call('SET', keys[1], x) return x end)"

// BenchmarkFcallParallel is FCALL of a two-key function on the goroutine's
// own keys.
func BenchmarkFcallParallel(b *testing.B) {
	benchParallelCmds(b, [][]string{{"FUNCTION", "LOAD", benchLib}}, func(g int64, k int) [][]string {
		return [][]string{{"FCALL", "incr2", "2", fmt.Sprintf("fc:%d:%d:a", g, k), fmt.Sprintf("fc:%d:%d:b", g, k)}}
	})
}

// BenchmarkFcallParallelWithGets runs, from each goroutine, the CPU-heavy
// function (1000-iteration loop and a SET) and 20 GETs on its own keys:
// with partial locks the GETs of other goroutines do not wait for the
// functions, and a function finding the functions' Lua state busy runs in
// a clone of its library.
func BenchmarkFcallParallelWithGets(b *testing.B) {
	benchParallelCmds(b, [][]string{{"FUNCTION", "LOAD", benchLib}}, func(g int64, k int) [][]string {
		cmds := [][]string{{"FCALL", "cpu", "1", fmt.Sprintf("fg:%d:%d", g, k)}}
		for i := 0; i < 20; i++ {
			cmds = append(cmds, []string{"GET", fmt.Sprintf("fg:%d:%d:%d", g, k, i)})
		}
		return cmds
	})
}
