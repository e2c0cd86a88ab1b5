package commands_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/commands"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestScanNeverMisses: HSCAN and SSCAN over hashtable encodings return every
// element present for the whole scan, while others are added and removed
// between calls.
func TestScanNeverMisses(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	c := newClient(t, addr)
	for i := 0; i < 1000; i++ {
		c.SAdd(ctx, "s", fmt.Sprint("m", i))
		c.HSet(ctx, "h", fmt.Sprint("f", i), i)
	}
	type scanFn func(cursor uint64) ([]string, uint64)
	for name, scan := range map[string]scanFn{
		"sscan": func(cur uint64) ([]string, uint64) { return c.SScan(ctx, "s", cur, "", 7).Val() },
		"hscan": func(cur uint64) ([]string, uint64) {
			kv, next := c.HScan(ctx, "h", cur, "", 7).Val()
			var keys []string
			for i := 0; i < len(kv); i += 2 {
				keys = append(keys, kv[i])
			}
			return keys, next
		},
	} {
		seen := map[string]bool{}
		var cur uint64
		for iter := 0; ; iter++ {
			els, next := scan(cur)
			for _, e := range els {
				seen[e] = true
			}
			// churn: remove elements 0..499 progressively, add new ones
			if iter < 500 {
				c.SRem(ctx, "s", fmt.Sprint("m", iter))
				c.HDel(ctx, "h", fmt.Sprint("f", iter))
				c.SAdd(ctx, "s", fmt.Sprint("new", iter))
				c.HSet(ctx, "h", fmt.Sprint("new", iter), 1)
			}
			if next == 0 {
				break
			}
			cur = next
			if iter > 100000 {
				t.Fatal("scan never ends")
			}
		}
		prefix := "m"
		if name == "hscan" {
			prefix = "f"
		}
		for i := 500; i < 1000; i++ {
			if !seen[fmt.Sprint(prefix, i)] {
				t.Errorf("%s missed %s%d", name, prefix, i)
			}
		}
	}
}

func benchExec(b *testing.B) (*exec.Executor, *command.Client, *resp.Writer) {
	tab, err := command.NewTable()
	if err != nil {
		b.Fatal(err)
	}
	store := keyspace.New(16, keyspace.Hooks{})
	e := exec.New(tab, store)
	commands.New(commands.Deps{Config: config.New(), Store: store, Exec: e, Table: tab,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return e, command.NewClient(1), resp.NewWriter()
}

func BenchmarkLPushLPop(b *testing.B) {
	e, cl, w := benchExec(b)
	push := [][]byte{[]byte("LPUSH"), []byte("list"), []byte("some-value")}
	pop := [][]byte{[]byte("RPOP"), []byte("list")}
	// keep the list non-empty so the key is not recreated every time
	e.Execute(cl, [][]byte{[]byte("RPUSH"), []byte("list"), []byte("x")}, w)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Reset()
		e.Execute(cl, push, w)
		e.Execute(cl, pop, w)
	}
}

func BenchmarkHSet(b *testing.B) {
	e, cl, w := benchExec(b)
	fields := make([][]byte, 1024)
	for i := range fields {
		fields[i] = []byte(fmt.Sprint("field:", i))
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"listpack", 64}, {"hashtable", 1024}} {
		b.Run(size.name, func(b *testing.B) {
			args := [][]byte{[]byte("HSET"), []byte("h:" + size.name), nil, []byte("value")}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				w.Reset()
				args[2] = fields[i%size.n]
				e.Execute(cl, args, w)
			}
		})
	}
}

func BenchmarkSAdd(b *testing.B) {
	e, cl, w := benchExec(b)
	members := make([][]byte, 4096)
	for i := range members {
		members[i] = []byte(fmt.Sprint("member:", i))
	}
	args := [][]byte{[]byte("SADD"), []byte("s"), nil}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Reset()
		args[2] = members[i%len(members)]
		e.Execute(cl, args, w)
	}
}
