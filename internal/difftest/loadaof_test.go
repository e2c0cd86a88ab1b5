package difftest

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDebugLoadAOF compares DEBUG LOADAOF and the statistics of an AOF
// replayed at startup with redis-server: the replayed commands count in
// no commandstats or errorstats, in total_commands_processed only those
// of a MULTI/EXEC (Redis runs them through call()), and reset the changes
// since the last save after DEBUG LOADAOF;
// keys of every database and their TTLs come back, a function library
// comes back (DEBUG LOADAOF empties the libraries too, and the AOF's own
// FUNCTION LOAD loads it again), a WATCHing client's EXEC fails.
func TestDebugLoadAOF(t *testing.T) {
	args := []string{"--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no"}
	type side struct {
		name    string
		start   func(testing.TB, ...string) *Server
		replies []string
		dir     string
	}
	sides := []*side{{name: "redis", start: StartRedis}, {name: "crescent", start: StartCrescent}}
	script := []string{
		"SET a 1",
		"INCRBY a 41",
		"SET b hello PX 100000",
		`FUNCTION LOAD "#!lua name=lib\nredis.register_function('f', function() return 7 end)"`,
		"MULTI", "RPUSH l x y z", "LPOP l", "EXEC",
		"SELECT 3", "HSET h f v", "SET gone 1 PX 1", "@sleep", "SELECT 0",
		"EVAL \"redis.call('set', KEYS[1], 'from lua'); return 1\" 1 s",
		"GET nosuchkey", "LPUSH a x", // an error reply: no AOF entry
		"CONFIG RESETSTAT",
		"@watch WATCH a",
		"DEBUG LOADAOF",
		"@watch MULTI", "@watch GET a", "@watch EXEC",
		"GET a", "TTL b", "LRANGE l 0 -1", "FCALL f 0", "GET s",
		// gone expired: whether active expiry removed it yet is timing, so
		// EXISTS removes it on both before DBSIZE counts
		"SELECT 3", "EXISTS gone", "HGETALL h", "DBSIZE", "SELECT 0", "DBSIZE",
		"@stats",
	}
	stats := regexp.MustCompile(`(?m)^(cmdstat_[^:]+|errorstat_[^:]+|total_commands_processed:\d+|rdb_changes_since_last_save:\d+|total_error_replies:\d+)`)
	statLines := func(c *Conn) string {
		var out []string
		for _, sec := range []string{"commandstats", "errorstats", "stats", "persistence"} {
			for _, m := range stats.FindAllString(string(c.MustDo(t, "INFO", sec)), -1) {
				out = append(out, m)
			}
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	for _, sd := range sides {
		sd.dir = persistDir(t)
		s := sd.start(t, append(args, "--dir", sd.dir)...)
		c, w := Dial(t, s), Dial(t, s)
		for _, l := range script {
			conn := c
			if strings.HasPrefix(l, "@watch ") {
				conn, l = w, strings.TrimPrefix(l, "@watch ")
			}
			if l == "@sleep" { // gone's millisecond passes on both servers
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if l == "@stats" {
				sd.replies = append(sd.replies, "stats after DEBUG LOADAOF: "+statLines(c))
				continue
			}
			r, err := conn.DoLine(l)
			if err != nil {
				t.Fatalf("%s: %s: %v", sd.name, l, err)
			}
			sd.replies = append(sd.replies, l+" -> "+string(r))
		}
		// A server started on a copy of the files replays them at startup.
		// The harness's PINGs while redis-server loads are left out: its
		// total before any other command, less the PINGs commandstats saw,
		// is what the replay counted (the commands of its MULTI/EXEC).
		fresh := Dial(t, sd.start(t, append(args, "--dir", copyDir(t, sd.dir))...))
		total := atoiField(string(fresh.MustDo(t, "INFO", "stats")), "total_commands_processed:")
		cs := string(fresh.MustDo(t, "INFO", "commandstats"))
		pings := atoiField(cs, "cmdstat_ping:calls=")
		names := regexp.MustCompile(`(?m)^cmdstat_[^:]+`).FindAllString(cs, -1)
		names = slices.DeleteFunc(names, func(n string) bool { return n == "cmdstat_ping" || n == "cmdstat_info" })
		sd.replies = append(sd.replies,
			fmt.Sprintf("after a restart: %d commands counted by the replay, commandstats %q", total-pings, names),
			"keys after a restart: "+string(fresh.MustDo(t, "DBSIZE")))
	}
	for i := range sides[0].replies {
		if i >= len(sides[1].replies) || sides[0].replies[i] != sides[1].replies[i] {
			got := "(none)"
			if i < len(sides[1].replies) {
				got = sides[1].replies[i]
			}
			t.Errorf("step %d:\n  redis:    %q\n  crescent: %q", i, sides[0].replies[i], got)
		}
	}
}

// atoiField returns the number after field in text (0 when absent).
func atoiField(text, field string) int {
	i := strings.Index(text, field)
	if i < 0 {
		return 0
	}
	rest := text[i+len(field):]
	j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if j < 0 {
		j = len(rest)
	}
	n, _ := strconv.Atoi(rest[:j])
	return n
}

// TestDebugLoadAOFWithoutAOF: with appendonly no and no AOF files,
// redis-server 7.0 exits on DEBUG LOADAOF; Crescent answers an error and
// keeps its dataset.
func TestDebugLoadAOFWithoutAOF(t *testing.T) {
	c := Dial(t, StartCrescent(t))
	c.MustDo(t, "SET", "k", "v")
	if r := string(c.MustDo(t, "DEBUG", "LOADAOF")); !strings.HasPrefix(r, "-ERR DEBUG LOADAOF failed: no append only file") {
		t.Fatalf("DEBUG LOADAOF without an AOF: %q", r)
	}
	if r := string(c.MustDo(t, "GET", "k")); r != "$1\r\nv\r\n" {
		t.Fatalf("GET k after the refused DEBUG LOADAOF: %q", r)
	}
}
