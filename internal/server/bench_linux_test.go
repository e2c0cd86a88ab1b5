//go:build linux

package server

import (
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// processCPU returns the process's user and system CPU time in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// batchConn is a loop connection's socket for benchmarks: each batch is
// read once, then the input is drained (errWouldBlock, as loopFD reports
// it); replies are discarded.
type batchConn struct {
	batch []byte
	ready bool
	out   int
}

func (b *batchConn) Read(p []byte) (int, error) {
	if !b.ready {
		return 0, errWouldBlock
	}
	b.ready = false
	return copy(p, b.batch), nil
}

func (b *batchConn) Write(p []byte) (int, error) { b.out += len(p); return len(p), nil }
func (b *batchConn) Close() error                { return nil }
func (b *batchConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379}
}
func (b *batchConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (b *batchConn) SetDeadline(time.Time) error      { return nil }
func (b *batchConn) SetReadDeadline(time.Time) error  { return nil }
func (b *batchConn) SetWriteDeadline(time.Time) error { return nil }

// benchPipeline runs one pipelined batch of 16 commands per iteration
// through a loop connection's whole path without the network: conn.run
// (read, parse, conn.execute, exec.Execute, handler, statistics), then
// the batch's flush as eventLoop.flushBatch does it. ns/op and allocs/op are per batch; ns/cmd is per
// command. It is redis-benchmark -P 16 as the server sees it.
func benchPipeline(b *testing.B, cmd func(i int) string) {
	var batch []byte
	for i := 0; i < 16; i++ {
		batch = append(batch, cmd(i)...)
	}
	benchPipelineBatches(b, 0, [][]byte{batch})
}

// benchPipelineBatches is benchPipeline over a rotation of batches, on a
// keyspace of keys keys (key:%012d, 3-byte values) set beforehand.
func benchPipelineBatches(b *testing.B, keys int, batches [][]byte) {
	benchPipelineKeys(b, keys, "key:", "xxx", batches)
}

// benchPipelineKeys is benchPipelineBatches with keys named prefix%012d
// holding val.
func benchPipelineKeys(b *testing.B, keys int, prefix, val string, batches [][]byte) {
	s := newTestServer(b)
	nc := &batchConn{}
	c := s.newConn(nc)
	for i := 0; i < keys; i++ {
		s.exec.Execute(c.cl, [][]byte{[]byte("SET"), fmt.Appendf(nil, "%s%012d", prefix, i), []byte(val)}, c.w)
		c.w.Reset()
	}
	c.lp = &loopState{fd: &loopFD{fd: -1}}
	c.cl.NoWait = true
	s.exec.Execute(c.cl, [][]byte{[]byte("SET"), []byte("key:000000000001"), []byte("xxx")}, c.w)
	c.w.Reset()
	// one thread for the whole run: callgrind's instruction counts
	// (docs/design/introspection-and-events.md) then do not depend on
	// which thread the scheduler picks
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		nc.batch = batches[i%len(batches)]
		nc.ready = true
		if !c.run() || c.lp.leave || c.lp.args != nil {
			b.Fatal("the connection left the loop")
		}
		c.flush() // the loop writes after the batch (flushBatch)
		c.endBatch()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/cmd")
	// CPU time is steadier than wall time on a shared machine: time spent
	// descheduled does not count.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/16, "cpu-ns/cmd")
	if nc.out == 0 {
		b.Fatal("no replies")
	}
}

// BenchmarkPipelineSet is 16 pipelined SETs of 3-byte values on 16 keys.
func BenchmarkPipelineSet(b *testing.B) {
	benchPipeline(b, func(i int) string {
		return fmt.Sprintf("*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i)
	})
}

// BenchmarkPipelineGet is 16 pipelined GETs (hits and misses).
func BenchmarkPipelineGet(b *testing.B) {
	benchPipeline(b, func(i int) string {
		return fmt.Sprintf("*2\r\n$3\r\nGET\r\n$16\r\nkey:%012d\r\n", i%2)
	})
}

// randomBatches returns n batches of 16 pipelined commands on keys drawn
// at random from keys keys (redis-benchmark -r keys -P 16).
func randomBatches(n, keys int, cmd func(key string) string) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		for j := 0; j < 16; j++ {
			out[i] = append(out[i], cmd(fmt.Sprintf("key:%012d", rng.IntN(keys)))...)
		}
	}
	return out
}

// BenchmarkPipelineGetRandom is 16 pipelined GETs of random keys of a
// 100,000-key keyspace: unlike BenchmarkPipelineGet, the key table and
// records are mostly out of the L1/L2 caches, as under redis-benchmark -r.
func BenchmarkPipelineGetRandom(b *testing.B) {
	benchPipelineBatches(b, 100000, randomBatches(8192, 100000, func(k string) string {
		return fmt.Sprintf("*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(k), k)
	}))
}

// BenchmarkPipelineSetRandom is BenchmarkPipelineGetRandom with SETs of
// 3-byte values (every key exists: overwrites).
func BenchmarkPipelineSetRandom(b *testing.B) {
	benchPipelineBatches(b, 100000, randomBatches(8192, 100000, func(k string) string {
		return fmt.Sprintf("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n", len(k), k)
	}))
}

// BenchmarkPipelineMSetRandom is 16 pipelined MSETs of 10 random keys of
// the 100,000-key keyspace each (redis-benchmark's mset, pipelined):
// ten shards locked per command, every key an overwrite.
func BenchmarkPipelineMSetRandom(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	batches := make([][]byte, 1024)
	for i := range batches {
		for j := 0; j < 16; j++ {
			batches[i] = append(batches[i], "*21\r\n$4\r\nMSET\r\n"...)
			for k := 0; k < 10; k++ {
				batches[i] = fmt.Appendf(batches[i], "$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", rng.IntN(100000))
			}
		}
	}
	benchPipelineBatches(b, 100000, batches)
}

// BenchmarkPipelineIncrRandom is BenchmarkPipelineSetRandom with INCRs
// of random keys of 100,000 that hold 3-digit numbers (a value that keeps
// its length, as most of redis-benchmark's increments do).
func BenchmarkPipelineIncrRandom(b *testing.B) {
	benchPipelineKeys(b, 100000, "counter:", "100", randomBatches(8192, 100000, func(k string) string {
		k = "counter:" + k[len("key:"):]
		return fmt.Sprintf("*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n", len(k), k)
	}))
}
