package commands_test

import (
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// dtExecutor returns a server's executor for direct command calls.
func dtExecutor(b *testing.B) func(args ...string) *resp.Writer {
	b.Helper()
	srv, err := server.New(config.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		b.Fatal(err)
	}
	e := srv.Exec()
	cl := command.NewClient(1)
	w := resp.NewWriter()
	return func(args ...string) *resp.Writer {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		w.Reset()
		e.Execute(cl, bs, w)
		return w
	}
}

func BenchmarkZAdd(b *testing.B) {
	do := dtExecutor(b)
	args := [][]byte{[]byte("ZADD"), []byte("bk"), nil, nil}
	_ = args
	scores := make([]string, 1000)
	members := make([]string, 1000)
	for i := range scores {
		scores[i] = strconv.Itoa(i * 7 % 1000)
		members[i] = "member:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		do("ZADD", "bk", scores[i%1000], members[(i*13)%1000])
	}
}

func BenchmarkZRange(b *testing.B) {
	do := dtExecutor(b)
	for i := 0; i < 1000; i++ {
		do("ZADD", "bk", strconv.Itoa(i), "member:"+strconv.Itoa(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		do("ZRANGE", "bk", "100", "109", "WITHSCORES")
	}
}
