package difftest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// msTimes masks absolute times (Unix seconds or milliseconds) in a
// replication stream line.
var msTimes = regexp.MustCompile(`\b1\d{9}(\d{3})?\b`)

// lazyDel matches the stream's DELs of the keys GET, SCAN, EXISTS and a
// script found expired (lazy1 to lazy4), in SCAN's hash-table order.
var lazyDel = regexp.MustCompile(`^(DEL|UNLINK) lazy[1-4]$`)

// TestSuiteExpireStream is Redis's expire.tcl propagation checks, in our
// words: every relative or absolute time to live reaches the replicas as
// an absolute one (SET ... PXAT, PEXPIREAT), an EXPIREAT in the past as
// DEL, GETEX as PEXPIREAT, PERSIST or DEL (nothing without an option),
// RESTORE with ABSTTL; a key found expired by a read (GET, SCAN,
// EXISTS, a script) is a lone DEL, not wrapped in MULTI/EXEC, and the
// read itself is not propagated; FLUSHALL and FLUSHDB of an empty dataset
// are propagated all the same. A key found expired inside MULTI/EXEC or a
// script goes in the transaction's MULTI/EXEC with its effects, and one
// removed by the active expiry goes alone. Run again with
// lazyfree-lazy-expire yes, where every such DEL is an UNLINK, as is the
// DEL of an evicted key with lazyfree-lazy-eviction yes.
func TestSuiteExpireStream(t *testing.T) {
	t.Run("default", func(t *testing.T) { expireStream(t) })
	t.Run("lazyfree-lazy-expire", func(t *testing.T) {
		expireStream(t, "--lazyfree-lazy-expire", "yes", "--lazyfree-lazy-eviction", "yes")
	})
}

func expireStream(t *testing.T, opts ...string) {
	now := time.Now()
	sec := func(d int64) string { return fmt.Sprint(now.Unix() + d) }
	ms := func(d int64) string { return fmt.Sprint(now.UnixMilli() + d) }
	cmds := []string{
		"SET foo1 bar EX 200",
		"SET foo1 bar PX 100000",
		"SET foo1 bar EXAT " + sec(100),
		"SET foo1 bar PXAT " + ms(100000),
		"SETEX foo1 100 bar",
		"PSETEX foo1 100000 bar",
		"SET foo2 bar",
		"EXPIRE foo2 100",
		"PEXPIRE foo2 100000",
		"EXPIRE foo2 100 NX",
		"EXPIRE foo2 50 GT",
		"EXPIRE foo2 500 GT",
		"SET foo3 bar",
		"EXPIREAT foo3 " + sec(100),
		"PEXPIREAT foo3 " + ms(100000),
		"EXPIREAT foo3 " + sec(-100),
		"SET foo4 bar",
		"GETEX foo4 EX 200",
		"GETEX foo4 PX 200000",
		"GETEX foo4 EXAT " + sec(100),
		"GETEX foo4 PXAT " + ms(100000),
		"GETEX foo4",
		"GETEX foo4 PERSIST",
		"GETEX foo4 PERSIST",
		"GETEX foo4 EXAT " + sec(-100),
		"SET foo5 bar",
		"RESTORES",
		"SET foo8 bar EX -1",
		"EXPIRE foo5 -1",
		"SET foo5 bar",
		"PERSIST foo5",
		"EXPIRE foo5 100",
		"PERSIST foo5",
		"DEBUG SET-ACTIVE-EXPIRE 0",
		"SET lazy1 v PX 1",
		"SET lazy2 v PX 1",
		"SET lazy3 v PX 1",
		"SET lazy4 v PX 1",
		"SLEEP",
		"GET lazy1",
		"SCAN 0 COUNT 100",
		"EXISTS lazy3",
		"EVAL \"return redis.call('get', KEYS[1])\" 1 lazy4",
		"SET lazy5 v PX 1",
		"SET lazy6 v PX 1",
		"SET lazy7 v PX 1",
		"SET active1 v PX 1",
		"SLEEP",
		"MULTI",
		"GET lazy5",
		"SET tx1 1",
		"EXEC",
		"EVAL \"redis.call('get', KEYS[1]) return redis.call('set', KEYS[2], '1')\" 2 lazy6 sc1",
		"EVAL \"return redis.call('get', KEYS[1])\" 1 lazy7",
		"DEBUG SET-ACTIVE-EXPIRE 1",
		"GONE active1",
		"FLUSHALL",
		"FLUSHALL",
		"FLUSHDB",
		"SET big xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"CONFIG SET maxmemory-policy allkeys-random",
		"CONFIG SET maxmemory 1",
		"SET k2 v",
		"CONFIG SET maxmemory 0",
		"SET end 1",
	}
	run := func(s *Server) (replies, stream []string) {
		c, sync := Dial(t, s), Dial(t, s)
		defer c.Close()
		defer sync.Close()
		if err := sync.SendCmd("SYNC"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the snapshot is taken before the commands
		for _, l := range cmds {
			if l == "SLEEP" {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if k, ok := strings.CutPrefix(l, "GONE "); ok {
				// until the active expiry removed k (DEBUG OBJECT
				// finds an expired key not yet removed)
				for end := time.Now().Add(10 * time.Second); strings.HasPrefix(string(c.MustDo(t, "DEBUG", "OBJECT", k)), "+"); {
					if time.Now().After(end) {
						t.Fatalf("%s: %s still there after 10 s", s.Name, k)
					}
					time.Sleep(5 * time.Millisecond)
				}
				continue
			}
			if l == "RESTORES" { // a relative and an absolute RESTORE of foo5's payload
				v, _, err := Parse(c.MustDo(t, "DUMP", "foo5"))
				if err != nil {
					t.Fatal(err)
				}
				for _, args := range [][]string{{"RESTORE", "foo6", "100000", string(v.Str)},
					{"RESTORE", "foo7", ms(100000), string(v.Str), "ABSTTL"}, {"RESTORE", "foo9", "0", string(v.Str), "REPLACE"}} {
					replies = append(replies, args[0]+" "+args[1]+" -> "+string(c.MustDo(t, args...)))
				}
				continue
			}
			r, err := c.DoLine(l)
			if err != nil {
				t.Fatalf("%s: %s: %v", s.Name, l, err)
			}
			if strings.HasPrefix(l, "SCAN") {
				r = []byte(Shape(r))
			}
			replies = append(replies, l+" -> "+string(r))
		}
		for _, l := range readStream(t, sync, "SET end 1") {
			stream = append(stream, msTimes.ReplaceAllString(l, "*"))
		}
		// SCAN expires the keys it visits in its hash table's order: the
		// DELs of the lazy keys are compared as a set
		var lazy []int
		for i, l := range stream {
			if lazyDel.MatchString(l) {
				lazy = append(lazy, i)
			}
		}
		dels := make([]string, len(lazy))
		for j, i := range lazy {
			dels[j] = stream[i]
		}
		sort.Strings(dels)
		for j, i := range lazy {
			stream[i] = dels[j]
		}
		return replies, stream
	}
	opts = append([]string{"--repl-diskless-sync", "no"}, opts...)
	rr, rs := run(StartRedis(t, opts...))
	cr, cs := run(StartCrescent(t, opts...))
	if strings.Join(rr, "\n") != strings.Join(cr, "\n") {
		t.Errorf("replies:\n  redis:    %q\n  crescent: %q", rr, cr)
	}
	if strings.Join(rs, "\n") != strings.Join(cs, "\n") {
		t.Errorf("stream:\n  redis:    %q\n  crescent: %q", rs, cs)
	}
}
