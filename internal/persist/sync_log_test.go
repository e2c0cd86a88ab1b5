package persist_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDiskSyncLogLines: the log lines of a disk-based full sync on both
// sides are Redis 7.0.15's, in its order (repl-diskless-sync no; the
// replica loads from the file it received): the master saves a BGSAVE
// for the sync, the replica receives to disk, empties its data and loads.
// Before, Crescent logged neither the BGSAVE nor the receiving and
// loading steps, and said "Flushing old data, loading the DB in memory".
func TestDiskSyncLogLines(t *testing.T) {
	masterLines := []string{
		"Starting BGSAVE for SYNC with target: disk",
		"Background saving started",
		"DB saved on disk",
		"Background saving terminated with success",
		"Synchronization with replica",
	}
	replicaLines := []string{
		"Full resync from master: ",
		"MASTER <-> REPLICA sync: receiving ",
		"MASTER <-> REPLICA sync: Flushing old data",
		"MASTER <-> REPLICA sync: Loading DB in memory",
		"Done loading RDB, keys loaded: 3, keys expired: 0.",
		"MASTER <-> REPLICA sync: Finished with success",
	}
	for _, kind := range []string{"redis-server", "crescent"} {
		t.Run(kind, func(t *testing.T) {
			start := startCrescent
			if kind == "redis-server" {
				start = startRedis
			}
			m := start(t, t.TempDir(), "--save", "", "--repl-diskless-sync", "no")
			r := start(t, t.TempDir(), "--save", "")
			dial(t, m).must(t, "MSET", "a", "1", "b", "2", "c", "3")
			rc := dial(t, r)
			rc.must(t, "SET", "x", "1")
			rc.must(t, "REPLICAOF", "127.0.0.1", strconv.Itoa(m.port))
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(rc.must(t, "INFO", "replication"), "master_link_status:up") {
				if time.Now().After(deadline) {
					t.Fatal("the replica's link did not come up")
				}
				time.Sleep(20 * time.Millisecond)
			}
			m.kill() // their output is read once they stopped writing it
			r.kill()
			for _, side := range []struct {
				name  string
				out   string
				lines []string
			}{{"master", m.out.String(), masterLines}, {"replica", r.out.String(), replicaLines}} {
				rest := side.out
				for _, l := range side.lines {
					i := strings.Index(rest, l)
					if i < 0 {
						t.Errorf("%s's log lacks %q (in this order):\n%s", side.name, l, side.out)
						break
					}
					rest = rest[i+len(l):]
				}
			}
		})
	}
}
