package acl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestCheck(t *testing.T) {
	r := newTestRegistry(t)
	users := map[string][]string{
		"w":    {"on", "nopass", "%W~w*", "%R~r*", "+@all", "-del", "&foo*"},
		"sel":  {"on", "+get", "~a*", "(+set ~b*)"},
		"fa":   {"on", "allkeys", "+select|0", "+config|get"},
		"none": {"on"},
		"ro":   {"on", "%R~r*", "%W~w*", "+@all"},
		"star": {"on", "%RW~*", "+@all"}, // a listed *, not allkeys
	}
	for n, rules := range users {
		if err := r.SetUser(n, rules); err != nil {
			t.Fatal(n, err)
		}
	}
	cases := []struct {
		user, cmd string
		want      Reason
		pos       int
	}{
		{"w", "set w1 x", OK, 0},
		{"w", "set w1 x get", DeniedKey, 1},
		{"w", "get r1", OK, 0},
		{"w", "get w1", DeniedKey, 1},
		{"w", "del w1", DeniedCommand, 0},
		{"w", "exists zz", DeniedKey, 1},
		{"w", "exists w1", OK, 0},
		{"w", "copy r1 w1", OK, 0},
		{"w", "lmove r1 w1 left left", DeniedKey, 1},
		{"w", "mget r1 r2 w3", DeniedKey, 3},
		{"w", "publish fooa x", OK, 0},
		{"w", "publish bar x", DeniedChannel, 1},
		{"w", "subscribe foo1 bar", DeniedChannel, 2},
		{"w", "psubscribe foo*", OK, 0},
		{"w", "psubscribe fo*", DeniedChannel, 1},
		{"w", "auth x", OK, 0},
		{"sel", "get a1", OK, 0},
		{"sel", "set b1 x", OK, 0},
		{"sel", "set a1 x", DeniedKey, 1},
		{"sel", "get b1", DeniedKey, 1},
		{"sel", "del a1", DeniedCommand, 0},
		{"fa", "select 0", OK, 0},
		{"fa", "select 1", DeniedCommand, 0},
		{"fa", "config get x", OK, 0},
		{"fa", "config set x y", DeniedCommand, 0},
		{"none", "ping", DeniedCommand, 0},
		{"none", "hello 3", OK, 0},
		{"default", "flushall", OK, 0},
		// (SORT's STORE key: the getkeys function is the commands
		// package's; testdata/acl_random.txt checks it)
		// BITFIELD is read-only only when every operation is GET/OVERFLOW
		{"ro", "bitfield r1 get u8 0", OK, 0},
		{"ro", "bitfield r1 get u8 0 overflow sat get i4 1", OK, 0},
		{"ro", "bitfield r1 get u8 0 1", DeniedKey, 1},
		{"ro", "bitfield r1 get u8", DeniedKey, 1},
		{"ro", "bitfield r1 set u8 0 1", DeniedKey, 1},
		{"ro", "bitfield r1", OK, 0},
		{"star", "get k", OK, 0},
	}
	// stringmatchlen: a listed * does not match the empty key
	if res, _ := r.Check(r.Get("star"), r.table.Find("get"), [][]byte{[]byte("get"), {}}); res != DeniedKey {
		t.Errorf("get \"\" as %%RW~*: %v, want key", res)
	}
	for _, c := range cases {
		t.Run(c.user+" "+c.cmd, func(t *testing.T) {
			a := args(c.cmd)
			cmd := r.table.Find(string(a[0]))
			if len(cmd.Subs) > 0 {
				cmd = r.table.Find(string(a[0]) + "|" + string(a[1]))
			}
			res, pos := r.Check(r.Get(c.user), cmd, a)
			if res != c.want || pos != c.pos {
				t.Fatalf("got %v@%d want %v@%d", res, pos, c.want, c.pos)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	cases := []struct {
		rules []string
		want  string
	}{
		{[]string{"+config|get|x"}, "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"},
		{[]string{"-select|0"}, "Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"},
		{[]string{"+get|"}, "Error in ACL SETUSER modifier '+get|': Syntax error"},
		{[]string{"foo"}, "Error in ACL SETUSER modifier 'foo': Syntax error"},
		{[]string{"+@nosuch"}, "Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL"},
		{[]string{"<zz"}, "Error in ACL SETUSER modifier '<zz': The password you are trying to remove from the user does not exist"},
		{[]string{"#ABC"}, "Error in ACL SETUSER modifier '#ABC': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{[]string{"allkeys", "~a"}, "Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{[]string{"%X~a"}, "Error in ACL SETUSER modifier '%X~a': Syntax error"},
		{[]string{"(+get", "~a"}, "Unmatched parenthesis in acl selector starting at '(+get'."},
		{[]string{"(+nosuch ~a)"}, "Error in ACL SETUSER modifier '(+nosuch ~a)': Unknown command or category name in ACL"},
		{[]string{"%~a"}, "Error in ACL SETUSER modifier '%~a': Syntax error"},
		{[]string{"%"}, "Error in ACL SETUSER modifier '%': Syntax error"},
		// a "(" word inside an open selector starts it over
		{[]string{"( ", "(+nosuch", "~a)"}, "Error in ACL SETUSER modifier '(+nosuch ~a)': Unknown command or category name in ACL"},
		{[]string{"(+get", "~a", "(+set"}, "Unmatched parenthesis in acl selector starting at '(+set'."},
	}
	for _, c := range cases {
		r := newTestRegistry(t)
		err := r.SetUser("x", c.rules)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v\nwant %s", c.rules, err, c.want)
		}
		if r.Get("x") != nil {
			t.Errorf("%v: user created despite the error", c.rules)
		}
	}
}

func TestPasswords(t *testing.T) {
	r := newTestRegistry(t)
	if err := r.SetUser("u", []string{"on", ">a", ">b", "#" + HashPassword("c")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c"} {
		if r.Authenticate("u", p) == nil {
			t.Errorf("password %q refused", p)
		}
	}
	r.SetUser("u", []string{"<a", "!" + HashPassword("c")})
	if r.Authenticate("u", "a") != nil || r.Authenticate("u", "c") != nil || r.Authenticate("u", "b") == nil {
		t.Error("removing passwords")
	}
	r.SetUser("u", []string{"off"})
	if r.Authenticate("u", "b") != nil {
		t.Error("disabled user authenticated")
	}
	r.SetUser("u", []string{"on", "nopass"})
	if r.Authenticate("u", "anything") == nil {
		t.Error("nopass")
	}
	r.SetDefaultPassword("pw")
	if !r.DefaultNeedsAuth() || r.Authenticate("default", "pw") == nil {
		t.Error("requirepass")
	}
	r.SetDefaultPassword("")
	if r.DefaultNeedsAuth() {
		t.Error("requirepass cleared")
	}
	// the same requirepass again changes nothing (Redis 7.0 applies a
	// directive only when its value changes)
	r.SetDefaultPassword("pw")
	r.SetUser("default", []string{"nopass"})
	r.SetDefaultPassword("pw")
	if r.DefaultNeedsAuth() {
		t.Error("an unchanged requirepass was applied again")
	}
}

func TestLogGrouping(t *testing.T) {
	r := newTestRegistry(t)
	e := LogEntry{Reason: DeniedCommand, Context: "toplevel", Object: "get", Username: "u", Created: 1000}
	r.AddLog(e)
	e.Created = 2000
	r.AddLog(e)
	other := e
	other.Object = "set"
	r.AddLog(other)
	e.Created = 3000
	r.AddLog(e) // folds into the "get" entry and moves it first
	e.Created = 100000
	r.AddLog(e) // over a minute later: a new entry
	got := r.Log(10)
	if len(got) != 3 || got[0].Count != 1 || got[1].Count != 3 || got[1].Object != "get" || got[2].Object != "set" {
		t.Fatalf("%+v", got)
	}
	r.ResetLog()
	if len(r.Log(10)) != 0 {
		t.Fatal("reset")
	}
}

func TestFileSaveLoad(t *testing.T) {
	r := newTestRegistry(t)
	path := filepath.Join(t.TempDir(), "users.acl")
	r.SetUser("a", []string{"on", ">x", "~k*", "+get", "(+set ~s*)"})
	r.SetUser("default", []string{">dp"})
	if err := r.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	r2 := newTestRegistry(t)
	r2.SetUser("gone", nil)
	old, err := r2.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 1 || old[0].Name() != "gone" || r2.Get("gone") != nil {
		t.Fatalf("replaced users %v", old)
	}
	for _, n := range []string{"a", "default"} {
		if r.Describe(r.Get(n)) != r2.Describe(r2.Get(n)) {
			t.Errorf("%s: %q vs %q", n, r.Describe(r.Get(n)), r2.Describe(r2.Get(n)))
		}
	}
	os.WriteFile(path, []byte("user a on +nosuch\nfoo\n"), 0o644)
	_, err = r2.LoadFile(path)
	want := path + ":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. " + path + ":2 should start with user keyword followed by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestLoadConfigUsers(t *testing.T) {
	r := newTestRegistry(t)
	err := r.LoadConfigUsers([][]string{{"default", "on", "nopass", "+@all", "~*"}, {"bob", "on", ">p", "(+get", "~x)"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Describe(r.Get("default")); got != "on nopass sanitize-payload ~* resetchannels +@all" {
		t.Errorf("default: %q", got)
	}
	if err := r.LoadConfigUsers([][]string{{"a"}, {"a"}}); err == nil {
		t.Error("duplicate user accepted")
	}
}

func TestGenPass(t *testing.T) {
	for _, bits := range []int{1, 5, 9, 256, 4096} {
		if got := len(GenPass(bits)); got != (bits+3)/4 {
			t.Errorf("%d bits: %d chars", bits, got)
		}
	}
}

func BenchmarkCheckDefault(b *testing.B) {
	r := newTestRegistry(b)
	spec := r.table.Find("get")
	a := args("get key")
	u := r.Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Check(u, spec, a)
	}
}

func BenchmarkCheckLimited(b *testing.B) {
	r := newTestRegistry(b)
	r.SetUser("u", []string{"on", "+@read", "~app:*", "%R~cache:*"})
	spec := r.table.Find("get")
	a := args("get cache:1")
	u := r.Get("u")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Check(u, spec, a)
	}
}
