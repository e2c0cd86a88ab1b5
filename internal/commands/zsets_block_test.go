package commands

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestBlockingZPopRequest checks what BZPOPMIN/BZPOPMAX/BZMPOP ask of the
// executor when nothing can be served: a BlockRequest outside MULTI and
// scripts, the timeout reply inside them.
func TestBlockingZPopRequest(t *testing.T) {
	table, err := command.NewTable()
	if err != nil {
		t.Fatal(err)
	}
	store := keyspace.New(16, keyspace.Hooks{})
	New(Deps{Config: config.New(), Store: store, Table: table, Net: &NetStats{}, Exec: exec.New(table, store)})
	run := func(multi, script bool, args ...string) (*command.Ctx, string) {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		w := resp.NewWriter()
		cl := command.NewClient(1)
		if multi {
			cl.Flags |= command.ClientMulti
		}
		c := &command.Ctx{Args: bs, Spec: table.LookupString(args[0]), W: w, DB: store.DB(0, 1_000_000), Client: cl, InScript: script}
		c.Spec.Handler(c)
		return c, string(w.Buf)
	}
	for _, tc := range []struct {
		args []string
		keys []string
		dl   int64 // deadline in ms, 0: none
	}{
		{[]string{"bzpopmin", "a", "b", "0"}, []string{"a", "b"}, 0},
		{[]string{"bzpopmax", "a", "1.5"}, []string{"a"}, 1_001_500},
		{[]string{"bzmpop", "2", "2", "x", "y", "MIN", "COUNT", "3"}, []string{"x", "y"}, 1_002_000},
	} {
		c, out := run(false, false, tc.args...)
		if c.Block == nil || out != "" {
			t.Fatalf("%v: block=%v reply=%q", tc.args, c.Block, out)
		}
		if len(c.Block.Keys) != len(tc.keys) {
			t.Fatalf("%v: keys %q", tc.args, c.Block.Keys)
		}
		for i, k := range tc.keys {
			if string(c.Block.Keys[i]) != k {
				t.Fatalf("%v: keys %q", tc.args, c.Block.Keys)
			}
		}
		if (tc.dl == 0) != c.Block.Deadline.IsZero() || (tc.dl != 0 && c.Block.Deadline.UnixMilli() != tc.dl) {
			t.Fatalf("%v: deadline %v", tc.args, c.Block.Deadline)
		}
		w := resp.NewWriter()
		c.Block.OnTimeout(w)
		if string(w.Buf) != "*-1\r\n" {
			t.Fatalf("timeout reply %q", w.Buf)
		}
		for _, mode := range [][2]bool{{true, false}, {false, true}} {
			c, out := run(mode[0], mode[1], tc.args...)
			if c.Block != nil || out != "*-1\r\n" {
				t.Fatalf("%v multi/script %v: block=%v reply=%q", tc.args, mode, c.Block, out)
			}
		}
	}
	// served immediately: no block
	run(false, false, "zadd", "a", "1", "m")
	c, out := run(false, false, "bzpopmin", "a", "0")
	if c.Block != nil || out != "*3\r\n$1\r\na\r\n$1\r\nm\r\n$1\r\n1\r\n" {
		t.Fatalf("immediate: block=%v reply=%q", c.Block, out)
	}
}

// TestZSetEncoding checks the reported OBJECT ENCODING transitions.
func TestZSetEncoding(t *testing.T) {
	table, _ := command.NewTable()
	store := keyspace.New(16, keyspace.Hooks{})
	New(Deps{Config: config.New(), Store: store, Table: table, Net: &NetStats{}, Exec: exec.New(table, store)})
	db := store.DB(0, 1)
	run := func(args ...string) {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		c := &command.Ctx{Args: bs, Spec: table.LookupString(args[0]), W: resp.NewWriter(), DB: db, Client: command.NewClient(1)}
		c.Spec.Handler(c)
	}
	enc := func(key string) string {
		return db.Get([]byte(key)).(*keyspace.ZSet).Encoding()
	}
	for i := 0; i < 128; i++ {
		run("zadd", "z", "1", string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	if e := enc("z"); e != "listpack" {
		t.Fatalf("128 entries: %s", e)
	}
	run("zadd", "z", "1", "one-more")
	if e := enc("z"); e != "skiplist" {
		t.Fatalf("129 entries: %s", e)
	}
	run("zremrangebyrank", "z", "0", "-3")
	if e := enc("z"); e != "skiplist" {
		t.Fatalf("after shrinking: %s", e)
	}
	run("zunionstore", "u", "1", "z")
	if e := enc("u"); e != "listpack" {
		t.Fatalf("small union: %s", e)
	}
	long := string(make([]byte, 65))
	run("zadd", "l", "1", long)
	if e := enc("l"); e != "skiplist" {
		t.Fatalf("long member: %s", e)
	}
	run("zadd", "s", "1", "a")
	run("zadd", "s", "1", long)
	if e := enc("s"); e != "skiplist" {
		t.Fatalf("long member added: %s", e)
	}
}
