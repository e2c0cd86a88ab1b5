package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
)

// Scripts run in parallel on the shards of their keys (partial locks) and
// rerun with the whole keyspace when they need more. These scripts cover
// the paths: declared keys only, an undeclared key taken by try-lock,
// math.random after writes (rerun after an undo), and KEYS (a command
// that needs the whole keyspace) after writes.
const (
	// transfer moves ARGV[1] from KEYS[1] to KEYS[2] when it can.
	transferScript = `local a = tonumber(redis.call('GET', KEYS[1]) or 0)
local amt = tonumber(ARGV[1])
if a >= amt then
  redis.call('DECRBY', KEYS[1], amt)
  redis.call('INCRBY', KEYS[2], amt)
end
redis.call('INCR', KEYS[3])
return 1`
	// transferUndeclared is transfer with the destination and the call
	// counter not declared.
	transferUndeclared = `local a = tonumber(redis.call('GET', KEYS[1]) or 0)
local amt = tonumber(ARGV[1])
if a >= amt then
  redis.call('DECRBY', KEYS[1], amt)
  redis.call('INCRBY', ARGV[2], amt)
end
redis.call('INCR', ARGV[3])
return 1`
	// shuffle writes, then draws a random number (which needs the whole
	// keyspace), then writes again: a partial run is undone and rerun.
	shuffleScript = `redis.call('DECRBY', KEYS[1], 1)
redis.call('INCR', KEYS[3])
local r = math.random(2)
redis.call('INCRBY', KEYS[2], 1)
return r`
	// pairScript sets two keys to the same new value, then runs KEYS.
	pairScript = `local v = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], v)
redis.call('RPUSH', KEYS[3], v)
if tonumber(ARGV[1]) == 1 then redis.call('KEYS', 'nomatch*') end
return v`
)

// atomicLib holds the scripts above as functions (FCALL runs them in
// partial-lock mode like EVAL: the library keeps no state).
const atomicLib = "#!lua name=atomic\n" +
	"redis.register_function('t', function(KEYS, ARGV)\n" + transferScript + "\nend)\n" +
	"redis.register_function('u', function(KEYS, ARGV)\n" + transferUndeclared + "\nend)\n" +
	"redis.register_function('s', function(KEYS, ARGV)\n" + shuffleScript + "\nend)\n" +
	"redis.register_function('p', function(KEYS, ARGV)\n" + pairScript + "\nend)"

// TestParallelScriptsAtomic runs scripts, functions and transactions on
// overlapping and disjoint keys at once.
func TestParallelScriptsAtomic(t *testing.T) {
	s := difftest.StartCrescent(t)
	ctx := context.Background()
	const naccts, start = 16, 1000
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true, PoolSize: 4})
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := newClient()
	accts := make([]string, naccts)
	for i := range accts {
		accts[i] = fmt.Sprintf("acct:%d", i)
		if err := c.Set(ctx, accts[i], start, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	shas := map[string]string{}
	for name, body := range map[string]string{"t": transferScript, "u": transferUndeclared, "s": shuffleScript, "p": pairScript} {
		sha, err := c.ScriptLoad(ctx, body).Result()
		if err != nil {
			t.Fatal(err)
		}
		shas[name] = sha
	}
	if err := c.FunctionLoad(ctx, atomicLib).Err(); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64 // script calls that count in "calls"
	var pairs atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	fail := func(format string, a ...any) {
		t.Errorf(format, a...)
	}
	// writers: each worker runs one kind of script on random accounts
	// 0-5: EVALSHA, 6-8: FCALL, 9-10: MULTI/EXEC
	for w := 0; w < 11; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cl := newClient()
			n := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				n++
				i, j := (n*7+w*3)%naccts, (n*5+w)%naccts
				if i == j {
					j = (j + 1) % naccts
				}
				var err error
				switch {
				case w >= 9: // a transfer as a transaction
					amt := 1 + n%50
					_, err = cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.DecrBy(ctx, accts[i], int64(amt))
						p.IncrBy(ctx, accts[j], int64(amt))
						p.Incr(ctx, "calls")
						return nil
					})
				case w >= 6:
					switch w % 3 {
					case 0:
						err = cl.FCall(ctx, "t", []string{accts[i], accts[j], "calls"}, 1+n%50).Err()
					case 1:
						err = cl.FCall(ctx, "u", []string{accts[i]}, 1+n%50, accts[j], "calls").Err()
					case 2:
						err = cl.FCall(ctx, "s", []string{accts[i], accts[j], "calls"}).Err()
					}
				case w%3 == 0:
					err = cl.EvalSha(ctx, shas["t"], []string{accts[i], accts[j], "calls"}, 1+n%50).Err()
				case w%3 == 1:
					err = cl.EvalSha(ctx, shas["u"], []string{accts[i]}, 1+n%50, accts[j], "calls").Err()
				default:
					err = cl.EvalSha(ctx, shas["s"], []string{accts[i], accts[j], "calls"}).Err()
				}
				if err != nil {
					fail("writer %d: %v", w, err)
					return
				}
				calls.Add(1)
				if w < 2 || w == 6 || w == 9 {
					k := strconv.Itoa(n % 4)
					keys := []string{"pa:" + k, "pb:" + k, "pl:" + k}
					var err error
					switch w {
					case 6:
						err = cl.FCall(ctx, "p", keys, n%2).Err()
					case 9: // the pair as a transaction (KEYS: the whole keyspace)
						_, err = cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Eval(ctx, "local v = redis.call('INCR', KEYS[1]) redis.call('SET', KEYS[2], v) return v", keys[:2])
							p.RPush(ctx, keys[2], "x")
							if n%2 == 1 {
								p.Keys(ctx, "nomatch*")
							}
							return nil
						})
					default:
						err = cl.EvalSha(ctx, shas["p"], keys, n%2).Err()
					}
					if err != nil {
						fail("pair: %v", err)
						return
					}
					pairs.Add(1)
				}
			}
		}(w)
	}
	// readers: plain multi-key commands and a read-only script see whole
	// scripts or nothing of them
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			cl := newClient()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				vals, err := cl.MGet(ctx, accts...).Result()
				if err != nil {
					fail("mget: %v", err)
					return
				}
				sum := 0
				for _, v := range vals {
					x, _ := strconv.Atoi(v.(string))
					sum += x
				}
				if sum != naccts*start {
					fail("reader %d saw sum %d, want %d", r, sum, naccts*start)
					return
				}
				if r == 0 { // the accounts read one GET at a time inside EXEC
					cmds, err := cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
						for _, a := range accts {
							p.Get(ctx, a)
						}
						return nil
					})
					if err != nil {
						fail("exec read: %v", err)
						return
					}
					sum = 0
					for _, cmd := range cmds {
						x, _ := strconv.Atoi(cmd.(*redis.StringCmd).Val())
						sum += x
					}
					if sum != naccts*start {
						fail("EXEC reader saw sum %d, want %d", sum, naccts*start)
						return
					}
				}
				k := strconv.Itoa(n % 4)
				pv, err := cl.EvalRO(ctx, "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('LLEN', KEYS[3])}",
					[]string{"pa:" + k, "pb:" + k, "pl:" + k}).Slice()
				if err != nil {
					fail("pair read: %v", err)
					return
				}
				a, b := fmt.Sprint(pv[0]), fmt.Sprint(pv[1])
				if a != b || fmt.Sprint(pv[2]) != a && !(pv[0] == nil && pv[2] == int64(0)) {
					fail("reader %d saw a half-done pair script: %v", r, pv)
					return
				}
			}
		}(r)
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	vals, err := c.MGet(ctx, accts...).Result()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, v := range vals {
		x, _ := strconv.Atoi(v.(string))
		sum += x
	}
	if sum != naccts*start {
		t.Errorf("final sum %d, want %d", sum, naccts*start)
	}
	got, _ := c.Get(ctx, "calls").Int64()
	if got != calls.Load() {
		t.Errorf("calls counter %d, want %d (a script ran twice or not at all)", got, calls.Load())
	}
	var plen int64
	for k := 0; k < 4; k++ {
		n, _ := c.LLen(ctx, "pl:"+strconv.Itoa(k)).Result()
		plen += n
	}
	if plen != pairs.Load() {
		t.Errorf("pair lists hold %d entries, want %d", plen, pairs.Load())
	}
	if calls.Load() < 100 {
		t.Errorf("only %d script calls ran", calls.Load())
	}
}

// benchEvalshaParallel runs EVALSHA of body from GOMAXPROCS goroutines,
// each on its own keys (disjoint shards most of the time), through the
// executor without the network.
func benchEvalshaParallel(b *testing.B, body string, args ...string) {
	srv := newInProcess(b)
	ex := srv.Exec()
	w0 := resp.NewWriter()
	ex.Execute(command.NewClient(1), strArgs("SCRIPT", "LOAD", body), w0)
	sha := script.SHA1Hex([]byte(body))
	var id atomic.Int64
	defer reportCores(b)()
	b.RunParallel(func(pb *testing.PB) {
		g := id.Add(1)
		cl := command.NewClient(g + 1)
		w := resp.NewWriter()
		var argvs [][][]byte
		for k := 0; k < 64; k++ {
			argvs = append(argvs, strArgs(append([]string{"EVALSHA", sha, "1", fmt.Sprintf("bench:%d:%d", g, k)}, args...)...))
		}
		for i := 0; pb.Next(); i++ {
			w.Reset()
			ex.Execute(cl, argvs[i&63], w)
			if w.Buf[0] == '-' {
				b.Errorf("EVALSHA: %s", w.Buf)
				return
			}
		}
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEvalshaParallelRate is the seed's rate limiter on disjoint keys
// from GOMAXPROCS goroutines (compare -cpu 1,2).
func BenchmarkEvalshaParallelRate(b *testing.B) {
	benchEvalshaParallel(b, rateLimitScript, "1000000000000", "60")
}

// BenchmarkEvalshaParallelCPU is the CPU-heavy script (a 1000-iteration
// loop, then one SET) on disjoint keys.
func BenchmarkEvalshaParallelCPU(b *testing.B) {
	benchEvalshaParallel(b, "local x = 0\nfor i = 1, 1000 do x = x + i % 7 end\nredis.call('SET', KEYS[1], x)\nreturn x")
}

// TestScriptOverlap checks that a script on other keys runs while a long
// script holds its own: before partial locks it waited for the whole
// long script.
func TestScriptOverlap(t *testing.T) {
	s := difftest.StartCrescent(t)
	ctx := context.Background()
	long := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true, ReadTimeout: -1})
	short := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	defer long.Close()
	defer short.Close()
	if err := short.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	longErr := make(chan error, 1)
	go func() {
		err := long.Eval(ctx, "local x = 0 for i = 1, 20000000 do x = x + i % 7 end redis.call('SET', KEYS[1], x) return 1", []string{"overlap:a"}).Err()
		done.Store(true)
		longErr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := short.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{"overlap:b"}).Err(); err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	longDone := done.Load()
	if err := <-longErr; err != nil {
		t.Fatal(err)
	}
	t.Logf("short script took %v while the long one ran", d)
	if longDone {
		t.Errorf("the short script waited for the long one (%v)", d)
	}
}

// reportCores starts b's timer and returns the func that reports "cores":
// process CPU time over wall time, how many cores the run kept busy (GC
// included); robust to a loaded machine where ns/op is not.
func reportCores(b *testing.B) func() {
	b.ReportAllocs()
	cpu0, wall0 := cpuTime(), time.Now()
	b.ResetTimer()
	return func() {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Since(wall0)), "cores")
	}
}
