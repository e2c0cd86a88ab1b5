package command

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// TestKeysSimpleShape checks KeySpec.Keys's shortcut for index/range key
// specs against the general path, for every declared command and
// argument counts from 0 to 9.
func TestKeysSimpleShape(t *testing.T) {
	tb, err := NewTable()
	if err != nil {
		t.Fatal(err)
	}
	var specs []*Spec
	for _, s := range tb.meta {
		specs = append(specs, s)
		specs = append(specs, s.Subs...)
	}
	simple := 0
	for _, s := range specs {
		for i := range s.KeySpecs {
			k := s.KeySpecs[i]
			if !k.simple {
				continue
			}
			simple++
			general := k
			general.simple = false
			for argc := 0; argc < 10; argc++ {
				args := make([][]byte, argc)
				for j := range args {
					args[j] = []byte(fmt.Sprint(j))
				}
				got, want := k.Keys(args, nil), general.Keys(args, nil)
				if !slices.Equal(got, want) {
					t.Fatalf("%s key spec %d, %d args: %v, want %v", s.Name, i, argc, got, want)
				}
			}
		}
	}
	if simple < 100 {
		t.Errorf("only %d key specs take the shortcut", simple)
	}
}

// BenchmarkKeysInto is GET's key extraction, with the shortcut and the
// general path.
func BenchmarkKeysInto(b *testing.B) {
	tb, err := NewTable()
	if err != nil {
		b.Fatal(err)
	}
	get := *tb.meta["get"]
	general := get
	general.KeySpecs = slices.Clone(get.KeySpecs)
	general.KeySpecs[0].simple = false
	args := [][]byte{[]byte("GET"), []byte("key:000000000001")}
	for _, bc := range []struct {
		name string
		s    *Spec
	}{{"simple", &get}, {"general", &general}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var kb [8]int
			for i := 0; i < b.N; i++ {
				if k := bc.s.KeysInto(args, kb[:0]); len(k) != 1 {
					b.Fatal(k)
				}
			}
		})
	}
}

// FuzzKeyNum checks keyNum against strconv.Atoi, the parse it shortcuts.
func FuzzKeyNum(f *testing.F) {
	for _, s := range []string{"0", "1", "2", "007", "123456789", "1234567890", "-1", "+1", " 1", "1x", "", "99999999999999999999", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := keyNum([]byte(s))
		want, err := strconv.Atoi(s)
		wantOK := err == nil && want >= 0
		if ok != wantOK || ok && n != want {
			t.Fatalf("keyNum(%q) = %d, %v; want %d, %v", s, n, ok, want, wantOK)
		}
	})
}

// TestOnlyKeyIs1 checks OnlyKeyIs1, the executor's shortcut for choosing
// a command's lock, against KeysInto: for every command and subcommand
// it reports, calls of 2 to 7 arguments have exactly the key args[1].
func TestOnlyKeyIs1(t *testing.T) {
	tb, err := NewTable()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range tb.meta {
		for _, x := range append([]*Spec{s}, s.Subs...) {
			if !x.OnlyKeyIs1() {
				continue
			}
			n++
			for argc := 2; argc <= 7; argc++ {
				args := make([][]byte, argc)
				for i := range args {
					args[i] = []byte("1")
				}
				if got := x.KeysInto(args, nil); len(got) != 1 || got[0] != 1 {
					t.Fatalf("%s with %d arguments: keys %v, want [1]", x.Name, argc, got)
				}
			}
		}
	}
	for _, name := range []string{"get", "set", "incr", "hset", "lpush", "sadd", "zadd"} {
		if !tb.meta[name].OnlyKeyIs1() {
			t.Errorf("%s: OnlyKeyIs1 false", name)
		}
	}
	for _, name := range []string{"mget", "mset", "del", "eval", "rename", "ping"} {
		if tb.meta[name].OnlyKeyIs1() {
			t.Errorf("%s: OnlyKeyIs1 true", name)
		}
	}
	if n < 100 {
		t.Errorf("only %d commands with one key at 1", n)
	}
}
