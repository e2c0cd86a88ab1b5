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
