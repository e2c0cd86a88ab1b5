package config

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/persist/listpack"
)

// TestSetValues checks values against Redis 7.0.15's answers (verified on
// redis-server 7.0.15; TestRandomConfig in internal/difftest compares
// many more).
func TestSetValues(t *testing.T) {
	tests := []struct {
		name, value, want, err string
	}{
		{"slowlog-max-len", "-5", "", "argument must be between 0 and 9223372036854775807 inclusive"},
		{"hash-max-listpack-entries", "-1", "", "argument must be between 0 and 9223372036854775807 inclusive"},
		{"maxclients", "4294967296", "", "argument must be between 1 and 4294967295 inclusive"},
		{"hz", "1k", "", "argument couldn't be parsed into an integer"},
		{"hz", "+5", "", "argument couldn't be parsed into an integer"},
		{"hz", "0", "1", ""},
		{"hz", "1000", "500", ""},
		{"repl-backlog-size", "10", "16384", ""},
		{"maxmemory", "abc", "", "argument must be a memory value"},
		{"maxmemory", "1Mb", "1048576", ""},
		{"maxmemory", "b", "0", ""},
		{"maxmemory", "18446744073709551616", "18446744073709551615", ""},
		{"maxmemory", "20000000000gb", "3028092406290448384", ""},
		{"proto-max-bulk-len", "18446744073709551616", "", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"maxmemory-clients", "50%", "50%", ""},
		{"maxmemory-clients", "0%", "0", ""},
		{"maxmemory-clients", "101%", "", "percentage argument must be less or equal to 100"},
		{"maxmemory-clients", "-5", "", "argument must be a memory or percent value"},
		{"appendfsync", "x", "", "argument(s) must be one of the following: everysec, always, no"},
		{"appendfsync", "ALWAYS", "always", ""},
		{"oom-score-adj", "relative", "yes", ""},
		{"shutdown-on-sigint", "nosave now", "nosave now", ""},
		{"shutdown-on-sigint", "now default", "now", ""},
		{"shutdown-on-sigint", "force NOW", "now force", ""},
		{"shutdown-on-sigint", "save nosave", "", "shutdown options SAVE and NOSAVE can't be used simultaneously"},
		{"shutdown-on-sigint", "", "", "argument(s) must be one of the following: default, save, nosave, now, force"},
		{"latency-tracking-info-percentiles", "0x10 1e-7 -0 99.99999999", "16 0 -0 100", ""},
		{"latency-tracking-info-percentiles", "inf", "", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"},
		{"latency-tracking-info-percentiles", "50  99", "", "Invalid latency-tracking-info-percentiles parameters"},
		{"oom-score-adj-values", "0 200 ", "0 200 0", ""},
		{"oom-score-adj-values", "0 200", "", "wrong number of arguments"},
		{"save", "3600 1 300", "", "Invalid save parameters"},
		{"save", "0 1", "", "Invalid save parameters"},
		{"save", "+5 1", "5 1", ""},
		{"proc-title-template", "{title}", "", "template format is invalid or contains unknown variables"},
		{"proc-title-template", "{{ {port}", "{{ {port}", ""},
		{"cluster-announce-hostname", "a_b", "", "Hostnames may only contain alphanumeric characters, hyphens or dots"},
		{"activedefrag", "yes", "", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			c := New()
			err := c.SetArgs([]string{tt.name, tt.value}, false, false)
			if tt.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), " - "+tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Get(tt.name); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

// TestSetArgsOrder checks configSetCommand's order: names first (the first
// problem wins), then values in order, restored when one fails.
func TestSetArgsOrder(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"hz", "abc", "databases", "1"}, "CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{[]string{"databases", "1", "nosuch", "1"}, "CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		{[]string{"nosuch", "1", "databases", "1"}, "Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{[]string{"hz", "11", "HZ", "12", "databases", "1"}, "CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"},
		{[]string{"dir", "/tmp"}, "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"},
		{[]string{"hz", "11", "MAXMEMORY", "x"}, "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[]string{"lua-time-limit", "x"}, "CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer"},
	}
	for _, tt := range tests {
		c := New()
		err := c.SetArgs(tt.args, false, false)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%q: err = %v, want %q", tt.args, err, tt.err)
		}
		if c.Get("hz") != "10" {
			t.Errorf("%q: hz = %s, not restored", tt.args, c.Get("hz"))
		}
	}
	c := New()
	if err := c.SetArgs([]string{"lua-time-limit", "1", "busy-reply-threshold", "2"}, false, false); err != nil || c.Get("busy-reply-threshold") != "2" {
		t.Fatalf("alias and directive: %v %s", err, c.Get("busy-reply-threshold"))
	}
	if err := c.SetArgs([]string{"appendonly", "yes"}, false, true); err != ErrLoading {
		t.Fatalf("deny loading: %v", err)
	}
}

// TestGetArgs checks CONFIG GET's names: as given for exact names (hidden
// ones too), once per name, hidden ones never by pattern.
func TestGetArgs(t *testing.T) {
	c := New()
	got := c.GetArgs([]string{"MAXMEMORY", "maxmemory", "rdb-key-save-delay", "rdb-key*", "lua-time-limit"})
	want := [][2]string{{"MAXMEMORY", "0"}, {"rdb-key-save-delay", "0"}, {"lua-time-limit", "5000"}}
	if len(got) != len(want) {
		t.Fatalf("%q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%q, want %q", got, want)
		}
	}
}

// TestHooksSeeCanonical checks that Var readers and hooks get the value
// CONFIG GET shows: memory units resolved, huge unsigned values clamped
// for Int.
func TestHooksSeeCanonical(t *testing.T) {
	c := New()
	v := c.Var("maxmemory")
	var hooked string
	c.OnChange("maxmemory", func(s string) { hooked = s })
	if err := c.SetArgs([]string{"maxmemory", "1kb"}, false, false); err != nil {
		t.Fatal(err)
	}
	if v.Int() != 1024 || hooked != "1024" || c.Int("maxmemory") != 1024 {
		t.Fatalf("Var %d hook %q Int %d", v.Int(), hooked, c.Int("maxmemory"))
	}
	c.SetArgs([]string{"maxmemory", "18446744073709551615"}, false, false)
	if v.Int() != math.MaxInt64 || c.Int("maxmemory") != math.MaxInt64 {
		t.Fatalf("Var %d Int %d", v.Int(), c.Int("maxmemory"))
	}
	c.SetArgs([]string{"hz", "0"}, false, false)
	if c.Int("hz") != 1 {
		t.Fatalf("hz %d", c.Int("hz"))
	}
}

// FuzzString2LL: Redis's string2ll, which CONFIG SET's integers go
// through (listpack.ParseInt), accepts exactly the canonical decimal form
// of an int64.
func FuzzString2LL(f *testing.F) {
	for _, s := range []string{"0", "-0", "007", "+1", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "", "-", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := listpack.ParseInt([]byte(s))
		p, err := strconv.ParseInt(s, 10, 64)
		want := err == nil && strconv.FormatInt(p, 10) == s
		if ok != want || ok && n != p {
			t.Fatalf("String2LL(%q) = %d %v, want %v", s, n, ok, want)
		}
	})
}

// FuzzMemToULL: digits then a unit; what it accepts without overflow
// matches the digits times the unit.
func FuzzMemToULL(f *testing.F) {
	for _, s := range []string{"1k", "1KB", "b", "", "-1", "1.5", "18446744073709551616", "5 "} {
		f.Add(s)
	}
	units := map[string]uint64{"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1e6, "mb": 1 << 20, "g": 1e9, "gb": 1 << 30}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := MemToULL(s)
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		mul, unitOK := units[strings.ToLower(s[i:])]
		if ok != (unitOK && i < 128) {
			t.Fatalf("MemToULL(%q) ok = %v", s, ok)
		}
		if ok && i > 0 && i < 19 {
			d, _ := strconv.ParseUint(s[:i], 10, 64)
			if n != d*mul {
				t.Fatalf("MemToULL(%q) = %d, want %d", s, n, d*mul)
			}
		}
	})
}
