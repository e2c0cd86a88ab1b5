package config

import (
	"strings"
	"testing"
)

func TestLoadFileAndFlags(t *testing.T) {
	file := `# a comment
port 7000
bind 127.0.0.1 ::1
maxmemory 2mb
save 900 1
save 300 10
requirepass "with space"
appendonly yes
`
	c := New()
	if err := c.Load(file, []string{"--port", "7001", "--appendfsync", "always"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"port", "7001"},
		{"bind", "127.0.0.1 ::1"},
		{"maxmemory", "2097152"},
		{"save", "900 1 300 10"},
		{"requirepass", "with space"},
		{"appendonly", "yes"},
		{"appendfsync", "always"},
		{"lua-time-limit", "5000"},
		{"databases", "16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Get(tt.name); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestEmptySaveDisablesSnapshots(t *testing.T) {
	c := New()
	if err := c.Load("", []string{"--save", ""}); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("save"); got != "" {
		t.Fatalf("save = %q", got)
	}
	c = New()
	if err := c.Load("save \"\"\n", nil); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("save"); got != "" {
		t.Fatalf("save = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		args       []string
		want       string
	}{
		{"unknown directive", "port 1\nfrobnicate 3\n", nil, "line 2"},
		{"bad int", "port abc\n", nil, "port abc"},
		{"bad bool", "appendonly maybe\n", nil, "appendonly maybe"},
		{"bad enum", "appendfsync sometimes\n", nil, "appendfsync"},
		{"unbalanced", "requirepass \"abc\n", nil, "Unbalanced quotes"},
		{"flag without dashes", "", []string{"port"}, "expected --directive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Load(tt.file, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestSetRuntime(t *testing.T) {
	c := New()
	if err := c.Set("maxmemory", "1gb"); err != nil {
		t.Fatal(err)
	}
	if c.Get("maxmemory") != "1073741824" {
		t.Fatal(c.Get("maxmemory"))
	}
	if err := c.Set("databases", "4"); err == nil {
		t.Fatal("databases is immutable")
	}
	if err := c.Set("lua-time-limit", "100"); err != nil || c.Get("busy-reply-threshold") != "100" {
		t.Fatalf("alias: %v %q", err, c.Get("busy-reply-threshold"))
	}
	called := ""
	c.OnChange("hz", func(v string) { called = v })
	c.Set("hz", "20")
	if called != "20" {
		t.Fatal("hook not called")
	}
}

func TestMatch(t *testing.T) {
	c := New()
	got := c.Match("maxmemory-p*")
	if len(got) != 1 || got[0][0] != "maxmemory-policy" || got[0][1] != "noeviction" {
		t.Fatalf("%v", got)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("port 6379\nsave 900 1\n")
	f.Add("requirepass \"a\\x41\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		_ = New().Load(text, nil)
	})
}

func TestUserDirectives(t *testing.T) {
	c := New()
	if err := c.Load("user alice on >pw ~*\nuser bob off\nport 7000\n", nil); err != nil {
		t.Fatal(err)
	}
	got := c.Users()
	if len(got) != 2 || got[0][0] != "alice" || got[0][3] != "~*" || got[1][1] != "off" {
		t.Fatalf("%q", got)
	}
	if c.Get("\x00user") != "" {
		t.Fatal("user lines leaked into directives")
	}
}

// TestParseTextCStrings checks the lines ParseText finds where redis-server
// reads a config file as C strings: a NUL ends its fgets chunk (newline
// included, so the line goes on with the next one), a line with no
// arguments is skipped, and only sdstrim's spaces are trimmed (redis-server
// 7.0.15 answered each case by hand: a NUL line once made Load panic).
func TestParseTextCStrings(t *testing.T) {
	long := strings.Repeat("a", configMaxLine-1)
	for _, tc := range []struct {
		name, text string
		want       string // the lines' arguments, "|" between lines
	}{
		{"nul line", "\x00", ""},
		{"nul joins", "port 7500\n\x00\n\x00junk here\nfoo\x00bar\nhz 5\n", "port 7500|foohz 5"},
		{"nul mid-args", "port 7500\x00 x\nhz 5", "port 7500hz 5"},
		{"nul in a second chunk", "x" + long + "\x00y\nhz 5", "x" + long + "hz 5"},
		{"nul past a chunk", long + "\nhz 5\x00", long + "|hz 5"},
		{"spaces only", " \v\f\t\r", ""},
		{"nel is no space", "\xc2\x85\nport 1", "\xc2\x85|port 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := ParseText(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lines {
				got = append(got, strings.Join(l.Args, " "))
			}
			if g := strings.Join(got, "|"); g != tc.want {
				t.Errorf("ParseText(%q) = %q, want %q", tc.text, g, tc.want)
			}
		})
	}
}
