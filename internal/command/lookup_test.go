package command

import (
	"bytes"
	"testing"
)

// TestLookupFast checks the fast path of Lookup against the map for every
// command, in lower, upper and mixed case, and for names not served.
func TestLookupFast(t *testing.T) {
	tb, err := NewTable()
	if err != nil {
		t.Fatal(err)
	}
	nop := func(*Ctx) {}
	for name := range tb.meta {
		tb.Handle(name, nop)
	}
	if len(tb.byName) < 200 {
		t.Fatalf("only %d commands", len(tb.byName))
	}
	hits := 0
	for name, s := range tb.byName {
		up := bytes.ToUpper([]byte(name))
		mixed := []byte(name)
		mixed[0] = up[0]
		for _, n := range [][]byte{[]byte(name), up, mixed} {
			if got := tb.Lookup(n); got != s {
				t.Fatalf("Lookup(%q) = %v, want %s", n, got, s.Name)
			}
		}
		if b := tb.fast[fastSlot([]byte(name))]; b[0] == s || b[1] == s {
			hits++
		}
	}
	if hits != len(tb.byName) {
		t.Errorf("only %d of %d commands on the fast path", hits, len(tb.byName))
	}
	for _, n := range []string{"gett", "ge", "", "get\x00", "GET ", "\xff"} {
		if got := tb.Lookup([]byte(n)); got != nil {
			t.Errorf("Lookup(%q) = %s, want nil", n, got.Name)
		}
	}
}

// TestRepeats checks Spec.Repeats, the executor's shortcut for a client
// repeating its previous command, against Resolve and CheckArity: for
// every served command and every argument count up to 6, with names in
// any case, other commands' names and near misses, Repeats must accept
// exactly the calls that Resolve sends to the spec itself with a valid
// arity, and only for top-level commands without subcommands.
func TestRepeats(t *testing.T) {
	tb, err := NewTable()
	if err != nil {
		t.Fatal(err)
	}
	nop := func(*Ctx) {}
	for name := range tb.meta {
		if name != "ping" { // one declared command left unserved
			tb.Handle(name, nop)
		}
	}
	specs := tb.All()
	var subs []*Spec
	for _, s := range specs {
		subs = append(subs, s.Subs...)
	}
	specs = append(append(specs, subs...), tb.meta["ping"])
	names := [][]byte{[]byte("get"), []byte("GET"), []byte("Get"), []byte("gett"), []byte("ge"),
		[]byte(""), []byte("get\x00"), []byte("g\xc5t"), []byte("restore\x0dasking"), []byte("RESTORE-ASKING")}
	for _, s := range specs {
		up := bytes.ToUpper([]byte(s.Name))
		names = append(names, []byte(s.Name), up)
	}
	for _, s := range specs {
		for _, name := range names {
			for n := 0; n <= 6; n++ {
				args := make([][]byte, n)
				for i := range args {
					args[i] = []byte("x")
				}
				if n > 0 {
					args[0] = name
				}
				cmd, sub := (*Spec)(nil), (*Spec)(nil)
				if n > 0 {
					cmd, sub = tb.Resolve(args)
				}
				want := cmd == s && sub == s && s.Parent == nil && len(s.Subs) == 0 &&
					s.Handler != nil && s.CheckArity(n)
				if got := s.Repeats(args); got != want {
					t.Fatalf("%s.Repeats(%q) = %v, want %v", s.Name, args, got, want)
				}
			}
		}
	}
}

// BenchmarkResolveGet and BenchmarkRepeatsGet compare the table lookup of
// a pipelined GET with the previous-command check the executor tries
// first (Spec.Repeats).
func BenchmarkResolveGet(b *testing.B) {
	tb, err := NewTable()
	if err != nil {
		b.Fatal(err)
	}
	tb.Handle("get", func(*Ctx) {})
	args := [][]byte{[]byte("GET"), []byte("key:000000000001")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, sub := tb.Resolve(args); sub == nil || !sub.CheckArity(len(args)) {
			b.Fatal("no get")
		}
	}
}

func BenchmarkRepeatsGet(b *testing.B) {
	tb, err := NewTable()
	if err != nil {
		b.Fatal(err)
	}
	s := tb.Handle("get", func(*Ctx) {})
	args := [][]byte{[]byte("GET"), []byte("key:000000000001")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !s.Repeats(args) {
			b.Fatal("not a repeat")
		}
	}
}
