package exec

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
)

// locksForRef is LocksFor's key path as it was: every key's shard, sorted
// with duplicates dropped.
func locksForRef(e *Executor, args [][]byte) []int {
	spec := e.Table.LookupString(string(args[0]))
	var shards []int
	for _, k := range spec.KeysInto(args, nil) {
		if k < len(args) {
			shards = append(shards, e.Store.ShardOf(args[k]))
		}
	}
	slices.Sort(shards)
	return slices.Compact(shards)
}

// served attaches a no-op handler to the test table's command name
// (EVAL locks as a script) and returns it.
func served(e *Executor, name string) *command.Spec {
	if name == "eval" {
		return e.Table.Handle(name, func(*command.Ctx) {}, command.WithLock(command.LockScript))
	}
	return e.Table.Handle(name, func(*command.Ctx) {})
}

// TestLocksForShards: the shards LocksFor takes for multi-key commands
// are every key's shard, ascending and unique (the lock order), for 0 to
// 40 keys, with repeated keys and keys sharing a shard.
func TestLocksForShards(t *testing.T) {
	e := newTestExecutor(t)
	for _, name := range []string{"mset", "del", "mget", "eval", "sinterstore"} {
		served(e, name)
	}
	rng := rand.New(rand.NewSource(1))
	key := func() []byte {
		if rng.Intn(4) == 0 {
			return []byte(fmt.Sprintf("k%d", rng.Intn(3))) // repeats
		}
		return []byte(fmt.Sprintf("key:%012d", rng.Intn(100000)))
	}
	for n := 0; n <= 40; n++ {
		for round := 0; round < 20; round++ {
			for _, shape := range []string{"mset", "del", "mget", "eval", "sinterstore"} {
				args := [][]byte{[]byte(shape)}
				switch shape {
				case "mset":
					if n == 0 {
						continue
					}
					for i := 0; i < n; i++ {
						args = append(args, key(), []byte("v"))
					}
				case "eval":
					args = append(args, []byte("return 1"), []byte(fmt.Sprint(n)))
					for i := 0; i < n; i++ {
						args = append(args, key())
					}
					args = append(args, []byte("argv"))
				default:
					if n == 0 {
						continue
					}
					for i := 0; i < n; i++ {
						args = append(args, key())
					}
				}
				spec := e.Table.LookupString(string(args[0]))
				var l Locks
				e.LocksFor(spec, args, &l)
				want := locksForRef(e, args)
				if !slices.Equal(l.Shards, want) && !(len(want) == 0 && len(l.Shards) == 0) {
					t.Fatalf("%s with %d keys: shards %v, want %v", shape, n, l.Shards, want)
				}
				if shape == "eval" && n == 0 && !l.All {
					t.Fatalf("EVAL without keys: not LockAll")
				}
			}
		}
	}
}

// BenchmarkLocksForMSET is the locks of redis-benchmark's MSET (10 keys).
func BenchmarkLocksForMSET(b *testing.B) {
	e := newTestExecutor(b)
	args := [][]byte{[]byte("MSET")}
	for i := 0; i < 10; i++ {
		args = append(args, []byte(fmt.Sprintf("key:%012d", i*7919)), []byte("xxx"))
	}
	spec := served(e, "mset")
	var l Locks
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.LocksFor(spec, args, &l)
	}
	if len(l.Shards) == 0 {
		b.Fatal("no shards")
	}
}

// TestLocksForMSETAllocs: the locks of an MSET of 10 keys allocate nothing.
func TestLocksForMSETAllocs(t *testing.T) {
	e := newTestExecutor(t)
	args := [][]byte{[]byte("MSET")}
	for i := 0; i < 10; i++ {
		args = append(args, []byte(fmt.Sprintf("key:%012d", i*7919)), []byte("xxx"))
	}
	spec := served(e, "mset")
	var l Locks
	if n := testing.AllocsPerRun(100, func() { e.LocksFor(spec, args, &l) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
