package server_test

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// blockedInputOutcome blocks a client on BLPOP, sends a 2 MB SET behind
// it (in the same write or in a later one), and reports what another
// client's CLIENT LIST shows of its query buffer, whether it is still
// there, and, once an RPUSH serves the BLPOP, the blocked client's replies
// and the SET's result.
func blockedInputOutcome(t *testing.T, addr string, sameWrite bool, evictLimit string) string {
	t.Helper()
	ctl := dialRaw(t, addr)
	if evictLimit != "" {
		ctl.mustDo("CONFIG", "SET", "maxmemory-clients", evictLimit)
		defer ctl.mustDo("CONFIG", "SET", "maxmemory-clients", "0")
	}
	ctl.mustDo("DEL", "ql", "big")
	blk := dialRaw(t, addr)
	blk.mustDo("CLIENT", "SETNAME", "blk")
	set := encodeCmd([]string{"SET", "big", strings.Repeat("x", 2_000_000)})
	blpop := encodeCmd([]string{"BLPOP", "ql", "0"})
	if sameWrite {
		blk.nc.Write(append(blpop, set...))
	} else {
		blk.nc.Write(blpop)
		time.Sleep(100 * time.Millisecond)
		blk.nc.Write(set)
	}
	qbuf := regexp.MustCompile(`qbuf=\d+`)
	var seen string
	for i := 0; i < 100; i++ { // until the whole SET is read (or the client gone)
		seen = "gone"
		for _, l := range strings.Split(ctl.mustDo("CLIENT", "LIST"), "\n") {
			if strings.Contains(l, "name=blk") {
				seen = qbuf.FindString(l)
			}
		}
		if seen == "gone" || seen == "qbuf=2000034" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctl.mustDo("RPUSH", "ql", "v")
	replies := blk.read(2*time.Second) + blk.read(2*time.Second)
	return seen + " " + strings.ReplaceAll(replies, "\r\n", " ") + " strlen=" + ctl.mustDo("STRLEN", "big")
}

// TestBlockedClientReadsOn: a blocked client's input is read on into its
// query buffer, as Redis reads it: CLIENT LIST shows it, client eviction
// takes the client for it, and the commands in it still run after the
// blocked one. Crescent left it in the socket (qbuf 0 or the first 16 kB).
func TestBlockedClientReadsOn(t *testing.T) {
	redis := startRedis(t)
	crescent, _ := startCrescent(t)
	for _, tc := range []struct {
		name      string
		sameWrite bool
		limit     string
	}{
		{"same write", true, ""},
		{"later write", false, ""},
		{"evicted", false, "1mb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := blockedInputOutcome(t, redis, tc.sameWrite, tc.limit)
			got := blockedInputOutcome(t, crescent, tc.sameWrite, tc.limit)
			if got != want {
				t.Errorf("\n  redis:    %s\n  crescent: %s", want, got)
			}
		})
	}
}
