package server_test

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// TestBlockedClientsOnReplicaof is Redis's "BLPOP followed by role change,
// issue #2473" (replication.tcl), compared with redis-server 7.0.15: when
// a master becomes a replica, its clients parked in BLPOP and in WAIT get
// -UNBLOCKED and are disconnected, so that no pop runs later on the
// replica's data; REPLICAOF of the master it already follows unblocks
// nobody. Before, Crescent left them parked.
func TestBlockedClientsOnReplicaof(t *testing.T) {
	master := difftest.StartRedis(t)
	mhost, mport, _ := net.SplitHostPort(master.Addr)
	run := func(addr string) []string {
		c := difftest.Connect(t, addr)
		var out []string
		blocked := []*difftest.Conn{difftest.Connect(t, addr), difftest.Connect(t, addr)}
		blocked[0].SendCmd("BLPOP", "foo", "0")
		blocked[1].SendCmd("WAIT", "1", "0")
		replWaitFor(t, "two blocked clients", 5*time.Second, func() bool {
			return infoField(t, c, "clients", "blocked_clients") == "2"
		})
		out = append(out, string(c.MustDo(t, "REPLICAOF", mhost, mport)))
		for _, b := range blocked {
			r, err := b.ReadWithin(5 * time.Second)
			out = append(out, string(r)+" "+errString(err))
			// then the connection is closed
			_, err = b.ReadWithin(5 * time.Second)
			out = append(out, "then "+errString(err))
		}
		out = append(out, "blocked_clients:"+infoField(t, c, "clients", "blocked_clients"),
			"errorstat_UNBLOCKED:"+infoField(t, c, "errorstats", "errorstat_UNBLOCKED"))
		// a reader parked while it already follows that master stays
		// (XREAD: a replica refuses BLPOP and WAIT)
		b := difftest.Connect(t, addr)
		b.SendCmd("XREAD", "BLOCK", "300", "STREAMS", "s", "$")
		replWaitFor(t, "a blocked client", 5*time.Second, func() bool {
			return infoField(t, c, "clients", "blocked_clients") == "1"
		})
		out = append(out, string(c.MustDo(t, "REPLICAOF", mhost, mport)))
		r, err := b.ReadWithin(5 * time.Second)
		out = append(out, string(r)+" "+errString(err))
		c.MustDo(t, "REPLICAOF", "NO", "ONE")
		return out
	}
	want := run(difftest.StartRedis(t).Addr)
	addr, _ := startCrescent(t)
	got := run(addr)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("redis:    %q\ncrescent: %q", want, got)
	}
}

func errString(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, io.EOF):
		return "EOF"
	default:
		return "error"
	}
}
