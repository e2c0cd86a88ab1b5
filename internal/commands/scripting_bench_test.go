package commands_test

import (
	"io"
	"log/slog"
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
