package commands_test

import (
	"strconv"
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
)

// dtExecutor returns a server's executor for direct command calls
// (rawExecutor with string arguments).
func dtExecutor(b *testing.B) func(args ...string) *resp.Writer {
	b.Helper()
	raw := rawExecutor(b)
	return func(args ...string) *resp.Writer {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		return raw(bs)
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
