package difftest

import (
	"strconv"
	"testing"
)

// accessCases are RESTORE's IDLETIME and FREQ options under each kind of
// maxmemory-policy, with the OBJECT subcommand that reads the result:
// Redis's objectSetLRUOrLFU sets an LFU counter under the *-lfu policies
// and an LRU idle time under every other (noeviction included), wrapping
// idle times on its 24-bit clock.
var accessCases = []struct {
	policy, opt, val, read string
}{
	{"noeviction", "IDLETIME", "1000", "IDLETIME"},
	{"allkeys-lru", "IDLETIME", "0", "IDLETIME"},
	{"allkeys-lru", "IDLETIME", "86400", "IDLETIME"},
	{"volatile-lru", "IDLETIME", "16777216", "IDLETIME"},
	{"allkeys-lru", "IDLETIME", "100000000", "IDLETIME"},
	{"allkeys-lru", "IDLETIME", "9223372036854775807", "IDLETIME"},
	{"allkeys-lru", "FREQ", "100", "IDLETIME"},
	{"allkeys-lfu", "FREQ", "0", "FREQ"},
	{"allkeys-lfu", "FREQ", "100", "FREQ"},
	{"volatile-lfu", "FREQ", "255", "FREQ"},
	{"allkeys-lfu", "IDLETIME", "1000", "FREQ"},
}

// TestRestoreAccessFields: RESTORE ... IDLETIME / FREQ set what OBJECT
// IDLETIME / FREQ then read, as in Redis (Crescent ignored both options).
// An idle time may differ by a second (the clock may tick between the two
// commands on one server only).
func TestRestoreAccessFields(t *testing.T) {
	p := StartPair(t)
	r, c := Dial(t, p.Redis), Dial(t, p.Crescent)
	for _, tc := range accessCases {
		t.Run(tc.policy+"-"+tc.opt+"-"+tc.val, func(t *testing.T) {
			var got [2]int64
			for i, conn := range []*Conn{r, c} {
				conn.MustDo(t, "CONFIG", "SET", "maxmemory-policy", tc.policy)
				// not a small integer: Redis shares those objects, and
				// their access field with them
				conn.MustDo(t, "SET", "src", "a string value")
				v, _, _ := Parse(conn.MustDo(t, "DUMP", "src"))
				if rep := conn.MustDo(t, "RESTORE", "k", "0", string(v.Str), "REPLACE", tc.opt, tc.val); string(rep) != "+OK\r\n" {
					t.Fatalf("RESTORE: %q", rep)
				}
				rv, _, _ := Parse(conn.MustDo(t, "OBJECT", tc.read, "k"))
				n, err := strconv.ParseInt(string(rv.Str), 10, 64)
				if rv.Type != ':' || err != nil {
					t.Fatalf("OBJECT %s: %q", tc.read, rv.Raw)
				}
				got[i] = n
				conn.MustDo(t, "CONFIG", "SET", "maxmemory-policy", "noeviction")
			}
			if d := got[0] - got[1]; d > 1 || d < -1 || (tc.read == "FREQ" && d != 0) {
				t.Fatalf("OBJECT %s after RESTORE %s %s: redis %d, crescent %d", tc.read, tc.opt, tc.val, got[0], got[1])
			}
		})
	}
}

// TestRDBAccessFields: under an LRU policy an RDB holds each key's idle
// time, under an LFU policy its counter (Redis's IDLE and FREQ records),
// and loading sets them back: a redis-server loading Crescent's file, a
// Crescent loading Redis's and Crescent after DEBUG RELOAD read what
// redis-server reads from its own file (Crescent wrote neither record and
// skipped both).
func TestRDBAccessFields(t *testing.T) {
	for _, tc := range []struct{ policy, opt, val, read string }{
		{"allkeys-lru", "IDLETIME", "1000", "IDLETIME"},
		{"volatile-lru", "IDLETIME", "86400", "IDLETIME"},
		{"allkeys-lfu", "FREQ", "100", "FREQ"},
		{"volatile-lfu", "FREQ", "7", "FREQ"},
		// noeviction writes neither record: a loaded key is fresh
		{"noeviction", "IDLETIME", "1000", "IDLETIME"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			rdir, cdir := persistDir(t), persistDir(t)
			args := []string{"--maxmemory-policy", tc.policy}
			r := Dial(t, StartRedis(t, append(args, "--dir", rdir)...))
			c := Dial(t, StartCrescent(t, append(args, "--dir", cdir)...))
			for _, conn := range []*Conn{r, c} {
				conn.MustDo(t, "SET", "src", "a string value")
				v, _, _ := Parse(conn.MustDo(t, "DUMP", "src"))
				conn.MustDo(t, "RESTORE", "k", "0", string(v.Str), tc.opt, tc.val)
				if rep := conn.MustDo(t, "SAVE"); string(rep) != "+OK\r\n" {
					t.Fatalf("SAVE: %q", rep)
				}
			}
			read := func(conn *Conn) int64 {
				t.Helper()
				v, _, _ := Parse(conn.MustDo(t, "OBJECT", tc.read, "k"))
				n, err := strconv.ParseInt(string(v.Str), 10, 64)
				if v.Type != ':' || err != nil {
					t.Fatalf("OBJECT %s: %q", tc.read, v.Raw)
				}
				return n
			}
			want := read(Dial(t, StartRedis(t, append(args, "--dir", copyDir(t, rdir))...)))
			c.MustDo(t, "DEBUG", "RELOAD")
			for name, conn := range map[string]*Conn{
				"redis loading crescent's RDB": Dial(t, StartRedis(t, append(args, "--dir", copyDir(t, cdir))...)),
				"crescent loading redis's RDB": Dial(t, StartCrescent(t, append(args, "--dir", copyDir(t, rdir))...)),
				"crescent after DEBUG RELOAD":  c,
			} {
				if got := read(conn); got-want > 1 || want-got > 1 {
					t.Errorf("%s: OBJECT %s %d, redis-server from its own file %d", name, tc.read, got, want)
				}
			}
		})
	}
}
