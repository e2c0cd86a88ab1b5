package exec

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
)

// BenchmarkStatFor measures the per-command statistics lookup, run by
// every command on every core (-cpu 1,2 shows the cost of sharing).
func BenchmarkStatFor(b *testing.B) {
	t, err := command.NewTable()
	if err != nil {
		b.Fatal(err)
	}
	e := New(t, keyspace.New(1, keyspace.Hooks{}))
	spec, _ := e.Lookup([][]byte{[]byte("GET"), []byte("k")})
	e.StatFor(spec)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if e.StatFor(spec) == nil {
				b.Fatal("no stat")
			}
		}
	})
}
