package commands_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// TestMigrateSuite runs the MIGRATE cases of Redis's dump.tcl that
// TestMigrate does not (a value of more than 64 KB, a hash, the TTL, fifteen
// keys at once, busy keys among them, a target too slow to answer, the
// cached connection: migrate_cached_sockets and the SELECTs it spares) from
// Redis to Redis, then with Crescent as the source, the target or both,
// and compares every transcript with Redis's.
func TestMigrateSuite(t *testing.T) {
	if difftest.RedisBinary() == "" {
		t.Skip("redis-server not found")
	}
	var want []string
	for _, pair := range [][2]string{{"redis", "redis"}, {"crescent", "crescent"}, {"crescent", "redis"}, {"redis", "crescent"}} {
		t.Run(pair[0]+"->"+pair[1], func(t *testing.T) {
			src, dst := migrateServers(t, pair[0], pair[1])
			got := migrateSuite(t, src, dst)
			if want == nil {
				want = got
				return
			}
			for i := range want {
				if i >= len(got) || got[i] != want[i] {
					t.Fatalf("step %d: got %q, Redis to Redis %q", i, got[i:], want[i])
				}
			}
		})
	}
}

// migrateSuite runs the steps and returns the transcript of replies.
func migrateSuite(t *testing.T, srcS, dstS *difftest.Server) []string {
	src, dst := difftest.Dial(t, srcS), difftest.Dial(t, dstS)
	host, p := "127.0.0.1", port(t, dstS)
	var out []string
	do := func(c *difftest.Conn, args ...string) string {
		t.Helper()
		r := string(c.MustDo(t, args...))
		out = append(out, strings.ReplaceAll(strings.Join(args, " "), p, "PORT")+" -> "+r)
		return r
	}
	intOf := func(r string) int {
		t.Helper()
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(r, ":")))
		if err != nil {
			t.Fatalf("not an integer reply: %q", r)
		}
		return n
	}
	note := func(s string) { out = append(out, s) }
	// infoField notes a field of INFO section of c
	infoField := func(c *difftest.Conn, section, field string) {
		t.Helper()
		for _, l := range strings.Split(string(c.MustDo(t, "INFO", section)), "\r\n") {
			if strings.HasPrefix(l, field) {
				// commandstats: the counts only, not the times
				var keep []string
				for _, part := range strings.Split(l, ",") {
					if !strings.Contains(part, "usec") {
						keep = append(keep, part)
					}
				}
				note(strings.Join(keep, ","))
				return
			}
		}
		note(field + " missing")
	}
	do(dst, "CONFIG", "RESETSTAT")
	infoField(src, "stats", "migrate_cached_sockets:")

	// a list whose payload is past 64 KB
	do(src, "EVAL", "for j=1,2000 do redis.call('RPUSH',KEYS[1],1,2,3,4,5,6,7,8,9,10,'item 1','item 2','item 3','item 4','item 5','item 6','item 7','item 8','item 9','item 10') end return redis.call('LLEN',KEYS[1])", "1", "key")
	do(src, "EVAL", "return #redis.call('DUMP',KEYS[1]) > 65536", "1", "key")
	do(src, "MIGRATE", host, p, "key", "9", "10000")
	do(src, "EXISTS", "key")
	do(dst, "SELECT", "9")
	do(dst, "LLEN", "key")
	do(dst, "TTL", "key")
	do(dst, "LRANGE", "key", "-3", "-1")
	infoField(src, "stats", "migrate_cached_sockets:")

	// a hash
	do(src, "HMSET", "hkey", "field1", "item 1", "field2", "item 2", "field3", "item 3", "field4", "item 4", "field5", "item 5", "field6", "item 6")
	do(src, "MIGRATE", host, p, "hkey", "9", "10000")
	do(src, "EXISTS", "hkey")
	do(dst, "HLEN", "hkey")
	do(dst, "HGET", "hkey", "field6")
	do(dst, "TTL", "hkey")

	// the TTL goes along
	do(src, "SET", "tkey", "Some Value")
	do(src, "EXPIRE", "tkey", "10")
	do(src, "MIGRATE", host, p, "tkey", "9", "5000")
	do(src, "EXISTS", "tkey")
	do(dst, "GET", "tkey")
	ttl := intOf(string(dst.MustDo(t, "TTL", "tkey")))
	note(fmt.Sprintf("TTL in [7,10]: %v", ttl >= 7 && ttl <= 10))

	// fifteen keys at once (c given twice in MSET)
	do(src, "FLUSHDB")
	do(dst, "FLUSHDB")
	mset := []string{"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "c", "5", "e", "6", "f", "7", "g", "8", "h", "9", "i", "10", "l", "11", "m", "12", "n", "13", "o", "14", "p", "15", "q", "16"}
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "q"}
	do(src, mset...)
	do(src, append([]string{"MIGRATE", host, p, "", "9", "5000", "KEYS"}, keys...)...)
	do(src, "DBSIZE")
	do(dst, "DBSIZE")
	do(dst, "MGET", "a", "c", "q")

	// two busy keys on the target and no REPLACE: the error, and only the
	// acknowledged keys are deleted here
	do(src, "FLUSHDB")
	do(dst, "FLUSHDB")
	do(src, mset...)
	do(dst, "MSET", "c", "_", "d", "_")
	do(src, append([]string{"MIGRATE", host, p, "", "9", "5000", "KEYS"}, keys...)...)
	do(src, "DBSIZE")
	do(dst, "DBSIZE")
	do(src, "EXISTS", "c", "d")
	do(dst, "MGET", "c", "d", "e")

	// a target that does not answer within the timeout
	do(src, "SET", "skey", "Some Value")
	sleeper := difftest.Dial(t, dstS)
	if err := sleeper.Send(difftest.EncodeStrings("DEBUG", "SLEEP", "1.5")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the target is asleep
	do(src, "MIGRATE", host, p, "skey", "9", "500")
	if _, err := sleeper.ReadWithin(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	do(src, "EXISTS", "skey")
	// the timed-out connection was closed; the target saw one SELECT per
	// connection and database change (the cached connection spares the rest)
	infoField(src, "stats", "migrate_cached_sockets:")
	infoField(dst, "commandstats", "cmdstat_select:calls=")
	do(src, "MIGRATE", host, p, "skey", "9", "5000", "COPY")
	do(src, "MIGRATE", host, p, "skey", "3", "5000", "COPY")
	do(src, "MIGRATE", host, p, "skey", "3", "5000", "COPY", "REPLACE")
	infoField(src, "stats", "migrate_cached_sockets:")
	infoField(dst, "commandstats", "cmdstat_select:calls=")
	infoField(dst, "commandstats", "cmdstat_restore:calls=")

	// a database the target does not have: its error, nothing deleted, and
	// the next MIGRATE selects again
	do(src, "SET", "dkey", "v")
	do(src, "MIGRATE", host, p, "dkey", "99", "5000")
	do(src, "EXISTS", "dkey")
	do(src, "MIGRATE", host, p, "dkey", "3", "5000")
	do(src, "EXISTS", "dkey")
	infoField(dst, "commandstats", "cmdstat_select:calls=")
	// the target closes the cached connection: the next MIGRATE fails on
	// it before any reply and retries on a new one
	do(dst, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
	do(src, "SET", "rkey", "v")
	do(src, "MIGRATE", host, p, "rkey", "3", "5000")
	do(src, "EXISTS", "rkey")
	do(dst, "SELECT", "3")
	do(dst, "GET", "rkey")
	infoField(src, "stats", "migrate_cached_sockets:")
	infoField(dst, "commandstats", "cmdstat_select:calls=")
	return out
}
