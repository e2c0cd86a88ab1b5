package difftest

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestReplicaLoadEvents compares the keyspace events a replica's
// subscriber gets while the replica loads its master's snapshot in a full
// sync (from a file, from the socket into the empty keyspace, into a new
// dataset swapped in) and then applies the stream: Redis loads the snapshot
// with dbAddRDBLoad, which sends no "new" event, so only the keys the
// stream adds afterwards are "new".
func TestReplicaLoadEvents(t *testing.T) {
	master := StartRedis(t, "--repl-diskless-sync-delay", "0")
	m := Dial(t, master)
	for _, l := range []string{"SET a 1", "RPUSH l x y", "HSET h f v", "ZADD z 1 m", "XADD s 1-1 f v", "SELECT 1", "SET b 2", "SELECT 0"} {
		if r, err := m.DoLine(l); err != nil || r[0] == '-' {
			t.Fatalf("master %s: %q %v", l, r, err)
		}
	}
	host, port, _ := net.SplitHostPort(master.Addr)
	for i, mode := range []string{"disabled", "on-empty-db", "swapdb"} {
		t.Run(mode, func(t *testing.T) {
			events := func(s *Server) string {
				c, sub := Dial(t, s), Dial(t, s)
				for _, l := range []string{"CONFIG SET repl-diskless-load " + mode, "CONFIG SET notify-keyspace-events KEAn"} {
					if r, err := c.DoLine(l); err != nil || r[0] == '-' {
						t.Fatalf("%s: %s: %q %v", s.Name, l, r, err)
					}
				}
				if _, err := sub.Do("PSUBSCRIBE", "__keyevent@*__:new"); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Do("REPLICAOF", host, port); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(20 * time.Second)
				for {
					r, err := c.Do("INFO", "replication")
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(r, []byte("master_link_status:up")) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: the link did not come up: %s", s.Name, r)
					}
					time.Sleep(20 * time.Millisecond)
				}
				// a key the stream adds ends what the subscriber reads (its
				// name differs between the servers: left out)
				marker := fmt.Sprintf("marker%d-%s", i, s.Name)
				if _, err := m.Do("SET", marker, "v"); err != nil {
					t.Fatal(err)
				}
				var got []string
				for {
					r, err := sub.Read()
					if err != nil {
						t.Fatalf("%s: reading events (got %q): %v", s.Name, got, err)
					}
					if bytes.Contains(r, []byte(marker)) {
						break
					}
					got = append(got, string(r))
				}
				c.Do("REPLICAOF", "NO", "ONE")
				return strings.Join(got, "\n")
			}
			r := events(StartRedis(t))
			c := events(StartCrescent(t))
			if r != c {
				t.Errorf("new events on the replica:\n  redis:    %q\n  crescent: %q", r, c)
			}
		})
	}
}
