package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.conf")
	orig := "# header\nport 7000\n\nhz 10\nhz 20 # dup\nmaxmemory 1gb\nunknown-directive x\n"
	os.WriteFile(path, []byte(orig), 0o644)
	c := New()
	lines, _ := ParseText("port 7000\nhz 10\nmaxmemory 1gb")
	for _, l := range lines {
		c.set(l.Args[0], strings.Join(l.Args[1:], " "), true)
	}
	c.Set("hz", "15")
	c.Set("maxmemory", "0")
	c.Set("timeout", "30")
	c.Set("notify-keyspace-events", "KA")
	if err := c.Rewrite(path, map[string][]string{"user": {"user default on nopass ~* &* +@all"}}, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{
		"# header\nport 7000\n\nhz 15\n\nmaxmemory 0\nunknown-directive x\n\n" + RewriteSignature + "\n",
		"\ntimeout 30\n", "\nnotify-keyspace-events \"KA\"\n", "\nuser default on nopass ~* &* +@all\n",
		"\ndir \"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten file lacks %q:\n%s", want, got)
		}
	}
	// a second rewrite is stable
	if err := c.Rewrite(path, map[string][]string{"user": {"user default on nopass ~* &* +@all"}}, false); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != got {
		t.Errorf("second rewrite changed the file:\n%s\nvs\n%s", b2, got)
	}
	for in, want := range map[int64]string{0: "0", 1024: "1kb", 3 << 20: "3mb", 2 << 30: "2gb", 1500: "1500"} {
		if g := FormatMemory(in); g != want {
			t.Errorf("FormatMemory(%d) = %s", in, g)
		}
	}
	if r := Repr("a \"b\"\n\x01"); r != `"a \"b\"\n\x01"` {
		t.Errorf("Repr = %s", r)
	}
}

// TestRewriteSave checks that save points are written one per line, as
// Redis's rewriteConfigSaveOption: the file's save line takes the first,
// the others are appended.
func TestRewriteSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.conf")
	os.WriteFile(path, []byte("port 7000\nsave \"\"\n# a comment\n"), 0o644)
	c := New()
	c.Set("save", "100 10 60 1000")
	if err := c.Rewrite(path, nil, false); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	if !strings.Contains(got, "\nsave 100 10\n# a comment\n") || !strings.Contains(got, "\nsave 60 1000\n") {
		t.Errorf("rewritten file:\n%s", got)
	}
}
