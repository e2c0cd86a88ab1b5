package exec

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/resp"
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

// TestExecuteNotesKeyHash: a command whose only key is args[1] (GET,
// SET, INCR, LPUSH...) runs with the hash LocksFor computed for its lock
// noted in its view (keyspace.DB.NoteHash), so that the keyspace does not
// hash the key again; multi-key and keyless commands, and scripts, get no
// note. The note is the right hash: the handler's write is found by a
// fresh lookup.
func TestExecuteNotesKeyHash(t *testing.T) {
	tests := []struct {
		args  []string
		noted bool
	}{
		{[]string{"set", "k1", "v"}, true},
		{[]string{"get", "k1"}, true},
		{[]string{"incr", "k2"}, true},
		{[]string{"lpush", "k3", "a", "b"}, true},
		{[]string{"mset", "k1", "v", "k2", "v"}, false},
		{[]string{"del", "k1", "k2"}, false},
		{[]string{"ping"}, false},
		{[]string{"eval", "return 1", "1", "k1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.args[0], func(t *testing.T) {
			e := newTestExecutor(t)
			var noted, copyNoted bool
			ran := false
			opts := []command.Option{}
			if tc.args[0] == "eval" {
				opts = append(opts, command.WithLock(command.LockScript))
			}
			e.Table.Handle(tc.args[0], func(c *command.Ctx) {
				ran = true
				if len(c.Args) > 1 {
					noted = c.DB.Noted(c.Args[1])
					copyNoted = c.DB.Noted(slices.Clone(c.Args[1]))
					if tc.args[0] == "set" {
						c.DB.Set(c.Args[1], []byte("v"), 0)
					}
				}
				c.W.OK()
			}, opts...)
			a := make([][]byte, len(tc.args))
			for i, s := range tc.args {
				a[i] = []byte(s)
			}
			e.Execute(command.NewClient(1), a, resp.NewWriter())
			if !ran {
				t.Fatal("the handler did not run")
			}
			if noted != tc.noted || copyNoted {
				t.Fatalf("noted %v (a copy: %v), want %v", noted, copyNoted, tc.noted)
			}
			if tc.args[0] == "set" && e.Store.DB(0, 0).Get([]byte("k1")) == nil {
				t.Fatal("SET's key is not found by a fresh lookup")
			}
		})
	}
}
