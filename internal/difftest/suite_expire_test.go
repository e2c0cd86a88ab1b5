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

// TestSuiteExpireStream is Redis's expire.tcl propagation checks, in our
// words: every relative or absolute time to live reaches the replicas as
// an absolute one (SET ... PXAT, PEXPIREAT), an EXPIREAT in the past as
// DEL, GETEX as PEXPIREAT, PERSIST or DEL (nothing without an option),
// RESTORE with ABSTTL; a key found expired by a read (GET, SCAN,
// EXISTS, a script) is a lone DEL, not wrapped in MULTI/EXEC, and the
// read itself is not propagated; FLUSHALL and FLUSHDB of an empty dataset
// are propagated all the same.
func TestSuiteExpireStream(t *testing.T) {
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
		"DEBUG SET-ACTIVE-EXPIRE 1",
		"FLUSHALL",
		"FLUSHALL",
		"FLUSHDB",
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
			if strings.HasPrefix(l, "DEL lazy") {
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
	rr, rs := run(StartRedis(t, "--repl-diskless-sync", "no"))
	cr, cs := run(StartCrescent(t, "--repl-diskless-sync", "no"))
	if strings.Join(rr, "\n") != strings.Join(cr, "\n") {
		t.Errorf("replies:\n  redis:    %q\n  crescent: %q", rr, cr)
	}
	if strings.Join(rs, "\n") != strings.Join(cs, "\n") {
		t.Errorf("stream:\n  redis:    %q\n  crescent: %q", rs, cs)
	}
}
