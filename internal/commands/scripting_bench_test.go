package commands_test

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
	"github.com/crescent-db/crescent/internal/server"
)

// The seed's rate limiter.
const rateLimitScript = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])

local current = tonumber(redis.call('GET', key) or 0)
if current >= limit then
    return 0
end
redis.call('INCR', key)
if current == 0 then
    redis.call('EXPIRE', key, window)
end
return 1
`

func benchEvalsha(b *testing.B, body string, needs []string, args ...string) {
	cfg := config.New()
	if err := cfg.Load("", []string{"--save", ""}); err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		b.Fatal(err)
	}
	ex := srv.Exec()
	for _, n := range needs {
		if ex.Table.LookupString(n) == nil {
			b.Skipf("%s is not served yet (lands on merge)", n)
		}
	}
	cl := command.NewClient(1)
	w := resp.NewWriter()
	toArgs := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, a := range s {
			out[i] = []byte(a)
		}
		return out
	}
	ex.Execute(cl, toArgs("SCRIPT", "LOAD", body), w)
	sha := script.SHA1Hex([]byte(body))
	argv := toArgs(append([]string{"EVALSHA", sha}, args...)...)
	w.Reset()
	ex.Execute(cl, argv, w)
	if w.Buf[0] == '-' {
		b.Fatalf("EVALSHA: %s", w.Buf)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Reset()
		ex.Execute(cl, argv, w)
	}
}

// BenchmarkEvalshaRateLimiter measures EVALSHA of the seed's rate limiter
// (GET + INCR per call) through the executor, without the network.
func BenchmarkEvalshaRateLimiter(b *testing.B) {
	benchEvalsha(b, rateLimitScript, []string{"incr", "expire"}, "1", "ratelimit:user:1000:api", "1000000000000", "60")
}

// BenchmarkEvalshaGetSet measures a small read-modify-write script.
func BenchmarkEvalshaGetSet(b *testing.B) {
	benchEvalsha(b, "local v = redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], ARGV[1]) return v", nil, "1", "k", "value")
}

func newInProcess(t testing.TB) *server.Server {
	t.Helper()
	cfg := config.New()
	if err := cfg.Load("", []string{"--save", ""}); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func strArgs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

// TestScriptEffects checks that a script's writes are propagated as
// effects (wrapped in MULTI/EXEC when more than one), never the script.
func TestScriptEffects(t *testing.T) {
	srv := newInProcess(t)
	ex := srv.Exec()
	var got []string
	ex.Propagating = nil // record with the AOF off
	ex.Propagate = func(db int, cmds [][][]byte) {
		for _, c := range cmds {
			parts := make([]string, len(c))
			for i, a := range c {
				parts[i] = string(a)
			}
			got = append(got, fmt.Sprintf("%d:%s", db, strings.Join(parts, " ")))
		}
	}
	cl := command.NewClient(1)
	w := resp.NewWriter()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"EVAL", "redis.call('set', KEYS[1], 'v') return 1", "1", "a"}, []string{"0:set a v"}},
		{[]string{"EVAL", "redis.call('set', 'a', '1') redis.call('del', 'a') return 1", "0"},
			[]string{"0:MULTI", "0:set a 1", "0:del a", "0:EXEC"}},
		{[]string{"EVAL", "redis.call('get', 'a') return redis.call('del', 'nokey')", "0"}, nil},
		{[]string{"EVAL", "redis.call('select', 2) redis.call('set', 'b', 'x') return 1", "0"}, []string{"2:set b x"}},
		{[]string{"EVAL_RO", "return redis.call('get', 'a')", "0"}, nil},
		{[]string{"EVAL", "return redis.pcall('set', 'a', 'b', 'bad')", "0"}, nil},
	}
	for _, c := range cases {
		got = nil
		w.Reset()
		ex.Execute(cl, strArgs(c.args...), w)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: propagated %q, want %q (reply %q)", c.args, got, c.want, w.Buf)
		}
	}
	if cl.DB != 0 {
		t.Errorf("SELECT inside a script changed the caller's db to %d", cl.DB)
	}
}

// TestScriptInfo checks the INFO memory lines about scripts.
func TestScriptInfo(t *testing.T) {
	srv := newInProcess(t)
	ex := srv.Exec()
	cl := command.NewClient(1)
	w := resp.NewWriter()
	for _, s := range []string{"return 1", "return 2", "return 1"} {
		ex.Execute(cl, strArgs("EVAL", s, "0"), w)
	}
	ex.Execute(cl, strArgs("SCRIPT", "LOAD", "return 3"), w)
	w.Reset()
	ex.Execute(cl, strArgs("INFO", "memory"), w)
	info := string(w.Buf)
	for _, want := range []string{"number_of_cached_scripts:3\r\n", "used_memory_lua:", "used_memory_scripts:", "used_memory_vm_eval:"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO memory lacks %q", want)
		}
	}
	ex.Execute(cl, strArgs("SCRIPT", "FLUSH"), w)
	w.Reset()
	ex.Execute(cl, strArgs("INFO", "memory"), w)
	if !strings.Contains(string(w.Buf), "number_of_cached_scripts:0\r\n") {
		t.Error("SCRIPT FLUSH did not empty the cache")
	}
}

// BenchmarkEvalshaCPULoop measures a CPU-heavy script: a 1000-iteration
// Lua loop, then one SET (the side-by-side benchmark's cpu-script).
func BenchmarkEvalshaCPULoop(b *testing.B) {
	benchEvalsha(b, "local x = 0\nfor i = 1, 1000 do x = x + i % 7 end\nredis.call('SET', KEYS[1], x)\nreturn x", nil, "1", "cpu:1")
}

// The seed's inventory reservation.
const reserveScript = `
local inventory = tonumber(redis.call('GET', KEYS[1]) or 0)
if inventory > 0 then
    redis.call('DECR', KEYS[1])
    redis.call('RPUSH', KEYS[2], ARGV[1])
    return 1
end
return 0
`

// BenchmarkEvalshaReserve measures EVALSHA of the seed's inventory script
// (a GET per call on an empty inventory, as in bench/compare.sh).
func BenchmarkEvalshaReserve(b *testing.B) {
	benchEvalsha(b, reserveScript, nil, "2", "inv:1", "orders:1", "order")
}

// BenchmarkEvalshaFloatLoop is BenchmarkEvalshaCPULoop with non-integral
// values, which the VM cannot share and must box (8 bytes each).
func BenchmarkEvalshaFloatLoop(b *testing.B) {
	benchEvalsha(b, "local x = 0.5\nfor i = 1, 1000 do x = x + i * 1.5 end\nredis.call('SET', KEYS[1], x)\nreturn tostring(x)", nil, "1", "cpu:1")
}

// BenchmarkEvalshaRateLimiterNewKeys is the rate limiter as
// redis-benchmark drives it (bench/compare.sh, -r 100000): each call on a
// key not seen before, so GET misses, INCR creates the key and EXPIRE
// gives it a TTL (a volatile key per call).
func BenchmarkEvalshaRateLimiterNewKeys(b *testing.B) {
	benchEvalshaKeys(b, rateLimitScript, "rl:%d", func(key string) []string {
		return []string{"1", key, "100", "60"}
	})
}

// BenchmarkEvalshaReserveStocked is the inventory script with stock left:
// GET, DECR and an RPUSH to a new list per call.
func BenchmarkEvalshaReserveStocked(b *testing.B) {
	benchEvalshaKeys(b, reserveScript, "res:%d", func(key string) []string {
		return []string{"2", "inv", key, "u"}
	}, "SET", "inv", "100000000000")
}

// benchEvalshaKeys runs EVALSHA of body with the arguments args returns
// for a new key (format keyf, a counter) per call; setup runs first.
func benchEvalshaKeys(b *testing.B, body, keyf string, args func(key string) []string, setup ...string) {
	var pre [][]string
	if len(setup) > 0 {
		pre = append(pre, setup)
	}
	pre = append(pre, []string{"SCRIPT", "LOAD", body})
	benchScriptKeys(b, pre, []string{"EVALSHA", script.SHA1Hex([]byte(body))}, keyf, args)
}

// benchScriptKeys runs the commands setup, then per call the command
// prefix followed by what args returns for a new key (format keyf, a
// counter): EVAL, EVALSHA or FCALL as redis-benchmark drives them with
// -r 100000.
func benchScriptKeys(b *testing.B, setup [][]string, prefix []string, keyf string, args func(key string) []string) {
	benchScriptKeysOn(b, false, setup, prefix, keyf, args)
}

// benchScriptKeysOn is benchScriptKeys for a client on an event loop
// when noWait (Client.NoWait): a script takes its declared keys' shards
// at their first access (concurrency.md, "Script tail latency, second
// pass").
func benchScriptKeysOn(b *testing.B, noWait bool, setup [][]string, prefix []string, keyf string, args func(key string) []string) {
	srv := newInProcess(b)
	ex := srv.Exec()
	cl := command.NewClient(1)
	cl.NoWait = noWait
	w := resp.NewWriter()
	for _, s := range setup {
		w.Reset()
		ex.Execute(cl, strArgs(s...), w)
		if w.Buf[0] == '-' {
			b.Fatalf("%q: %s", s, w.Buf)
		}
	}
	// the argument vectors are built before the timer starts
	argvs := make([][][]byte, b.N+1)
	for i := range argvs {
		argvs[i] = strArgs(append(slices.Clone(prefix), args(fmt.Sprintf(keyf, i))...)...)
	}
	w.Reset()
	ex.Execute(cl, argvs[b.N], w)
	if w.Buf[0] == '-' {
		b.Fatalf("%s: %s", prefix[0], w.Buf)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Reset()
		ex.Execute(cl, argvs[i], w)
	}
}

// rateLimitLib is the rate limiter as a FUNCTION library, as
// bench/compare.sh loads it (FCALL rate 1 key limit window).
const rateLimitLib = "#!lua name=ratelib\nredis.register_function('rate', function(KEYS, ARGV)\n" + rateLimitScript + "\nend)"

// BenchmarkFcallRateLimiterNewKeys is BenchmarkEvalshaRateLimiterNewKeys
// through FCALL (bench/compare.sh's fcall-rate).
func BenchmarkFcallRateLimiterNewKeys(b *testing.B) {
	benchScriptKeys(b, [][]string{{"FUNCTION", "LOAD", rateLimitLib}}, []string{"FCALL", "rate"}, "rl:%d",
		func(key string) []string { return []string{"1", key, "100", "60"} })
}

// incrScript is bench/compare.sh's eval-body script, sent with each call.
const incrScript = "return redis.call('incr', KEYS[1])"

// BenchmarkEvalBodyNewKeys is EVAL with the script's body each call
// (bench/compare.sh's eval-body): the body's SHA1 and the cache lookup on
// top of what BenchmarkEvalshaIncrNewKeys does.
func BenchmarkEvalBodyNewKeys(b *testing.B) {
	benchScriptKeys(b, nil, []string{"EVAL", incrScript}, "ev:%d",
		func(key string) []string { return []string{"1", key} })
}

// BenchmarkEvalshaIncrNewKeys is BenchmarkEvalBodyNewKeys by sha.
func BenchmarkEvalshaIncrNewKeys(b *testing.B) {
	benchEvalshaKeys(b, incrScript, "ev:%d", func(key string) []string { return []string{"1", key} })
}

// BenchmarkEvalshaRateLimiterNewKeysLoop is
// BenchmarkEvalshaRateLimiterNewKeys as an event loop runs it: the
// declared key's shard is taken at its first access.
func BenchmarkEvalshaRateLimiterNewKeysLoop(b *testing.B) {
	benchScriptKeysOn(b, true, [][]string{{"SCRIPT", "LOAD", rateLimitScript}}, []string{"EVALSHA", script.SHA1Hex([]byte(rateLimitScript))}, "rl:%d",
		func(key string) []string { return []string{"1", key, "100", "60"} })
}

// BenchmarkEvalshaReserveOutOfStock is the inventory script as
// bench/compare.sh drives it: two unrelated new keys per call, so GET
// misses and the script returns 0 having touched only KEYS[1]; on a
// goroutine's client (both shards locked up front) and on an event
// loop's (only KEYS[1]'s shard taken).
func BenchmarkEvalshaReserveOutOfStock(b *testing.B) {
	for _, loop := range []bool{false, true} {
		name := "goroutine"
		if loop {
			name = "loop"
		}
		b.Run(name, func(b *testing.B) {
			benchScriptKeysOn(b, loop, [][]string{{"SCRIPT", "LOAD", reserveScript}}, []string{"EVALSHA", script.SHA1Hex([]byte(reserveScript))}, "%d",
				func(key string) []string { return []string{"2", "inv:" + key, "orders:" + key, "order"} })
		})
	}
}

// BenchmarkEvalshaTable measures a script returning a table of five
// elements: the conversion of a table reply (lim22's output-limit watch
// of it: a type switch and an Arm per reply, a length compare per
// element).
func BenchmarkEvalshaTable(b *testing.B) {
	benchEvalsha(b, "return {1, 2, 3, 'a', KEYS[1]}", nil, "1", "k")
}
