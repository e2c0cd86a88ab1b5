package server_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// Redis's psync2-master-restart.tcl and psync2.tcl ("Partial resync after
// restart using RDB aux fields"), checked on Crescent: an RDB saved by
// SHUTDOWN records the replication stream's id and offset, and a server
// restarted from it continues the stream, so that its replicas (or its
// master) need no full resynchronization.

// restartable is an in-process Crescent on a fixed port and directory
// that can be shut down and started again from its files.
type restartable struct {
	t      *testing.T
	port   int
	dir    string
	args   []string
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func (r *restartable) start() *difftest.Conn {
	r.t.Helper()
	argv := append([]string{"--port", strconv.Itoa(r.port), "--dir", r.dir, "--save", "3600 1",
		"--repl-ping-replica-period", "3600"}, r.args...)
	srv := difftest.NewCrescent(r.t, argv...)
	if err := srv.Listen(); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- srv.Run(ctx) }()
	r.addr = srv.Addr().String()
	return difftest.Connect(r.t, r.addr)
}

// stop runs SHUTDOWN with args on c and waits for the server to end.
func (r *restartable) stop(c *difftest.Conn, args ...string) {
	r.t.Helper()
	c.Do(append([]string{"SHUTDOWN"}, args...)...)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the server did not stop after SHUTDOWN")
	}
	r.cancel()
}

func (r *restartable) close() {
	if r.cancel != nil {
		r.cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
		}
	}
}

func newRestartable(t *testing.T, args ...string) *restartable {
	r := &restartable{t: t, port: freePort(t), dir: t.TempDir(), args: args}
	t.Cleanup(r.close)
	return r
}

// TestMasterRestartPartialResync: a Crescent master restarted from the RDB
// its SHUTDOWN saved keeps the old id as master_replid2 (second_repl_offset
// one past the saved offset) and its backlog starts there, as Redis 7.0;
// a redis-server replica and a Crescent replica continue with +CONTINUE.
// Keys whose time passed while it was down are dropped at the load and
// their DELs go to the backlog, so the replicas drop them too. Before,
// every restart made each replica resynchronize fully.
func TestMasterRestartPartialResync(t *testing.T) {
	for _, redisReplica := range []bool{true, false} {
		name := "crescent replica"
		if redisReplica {
			name = "redis-server replica"
		}
		t.Run(name, func(t *testing.T) {
			var raddr string
			if redisReplica {
				raddr = difftest.StartRedis(t).Addr
			} else {
				raddr, _ = startCrescent(t)
			}
			m := newRestartable(t)
			mc := m.start()
			rc := difftest.Connect(t, raddr)
			mc.MustDo(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
			rc.MustDo(t, "REPLICAOF", "127.0.0.1", strconv.Itoa(m.port))
			replicaWrites(t, mc, 0, 30)
			replOffsetsMeet(t, mc, rc)
			replWaitFor(t, "the replica's ACK", 10*time.Second, func() bool {
				return replicaAckedOffset(t, mc) == infoField(t, mc, "replication", "master_repl_offset")
			})
			id := infoField(t, mc, "replication", "master_replid")
			off, _ := strconv.ParseInt(infoField(t, mc, "replication", "master_repl_offset"), 10, 64)
			fullBefore := infoField(t, rc, "stats", "sync_full")

			m.stop(mc, "NOW")
			mc = m.start()
			replWaitFor(t, "the replica's link up again", 20*time.Second, func() bool {
				return infoField(t, rc, "replication", "master_link_status") == "up"
			})
			for field, want := range map[string]string{
				"master_replid2":                 id,
				"second_repl_offset":             strconv.FormatInt(off+1, 10),
				"master_repl_offset":             strconv.FormatInt(off, 10),
				"repl_backlog_active":            "1",
				"repl_backlog_first_byte_offset": strconv.FormatInt(off+1, 10),
				"repl_backlog_histlen":           "0",
			} {
				if got := infoField(t, mc, "replication", field); got != want {
					t.Errorf("restarted master %s:%s, want %s", field, got, want)
				}
			}
			if got := infoField(t, mc, "replication", "master_replid"); got == id {
				t.Errorf("restarted master kept master_replid %s", id)
			}
			if got := infoField(t, mc, "stats", "sync_partial_ok"); got != "1" {
				t.Errorf("restarted master sync_partial_ok:%s (sync_full:%s), want 1", got, infoField(t, mc, "stats", "sync_full"))
			}
			if got := infoField(t, rc, "stats", "sync_full"); got != fullBefore {
				t.Errorf("replica sync_full:%s, was %s", got, fullBefore)
			}
			replicaWrites(t, mc, 30, 40)
			replOffsetsMeet(t, mc, rc)
			compareDatasets(t, replDataset(t, m.addr), replDataset(t, raddr))
			if a, b := mc.MustDo(t, "DEBUG", "DIGEST"), rc.MustDo(t, "DEBUG", "DIGEST"); string(a) != string(b) {
				t.Fatalf("DEBUG DIGEST master %q, replica %q", a, b)
			}

			// keys whose time passes while the master is down: dropped
			// at its load, DELs in the backlog for the replica
			mc.MustDo(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
			for i := range 20 {
				mc.MustDo(t, "SELECT", strconv.Itoa(i%4))
				mc.MustDo(t, "SET", "short:"+strconv.Itoa(i), "v", "PX", "400")
			}
			mc.MustDo(t, "SELECT", "0")
			replOffsetsMeet(t, mc, rc)
			replWaitFor(t, "the replica's ACK", 10*time.Second, func() bool {
				return replicaAckedOffset(t, mc) == infoField(t, mc, "replication", "master_repl_offset")
			})
			off, _ = strconv.ParseInt(infoField(t, mc, "replication", "master_repl_offset"), 10, 64)
			m.stop(mc, "NOW")
			time.Sleep(500 * time.Millisecond)
			mc = m.start()
			if got := infoField(t, mc, "persistence", "rdb_last_load_keys_expired"); got != "20" {
				t.Errorf("rdb_last_load_keys_expired:%s, want 20", got)
			}
			hist, _ := strconv.ParseInt(infoField(t, mc, "replication", "repl_backlog_histlen"), 10, 64)
			if got := infoField(t, mc, "replication", "master_repl_offset"); hist == 0 || got != strconv.FormatInt(off+hist, 10) {
				t.Errorf("master_repl_offset:%s with %d bytes of DELs, want %d", got, hist, off+hist)
			}
			replWaitFor(t, "the replica's link up again", 20*time.Second, func() bool {
				return infoField(t, rc, "replication", "master_link_status") == "up"
			})
			replOffsetsMeet(t, mc, rc)
			if got := infoField(t, mc, "stats", "sync_partial_ok"); got != "1" {
				t.Errorf("restarted master sync_partial_ok:%s (sync_full:%s), want 1", got, infoField(t, mc, "stats", "sync_full"))
			}
			if got := infoField(t, rc, "stats", "sync_full"); got != fullBefore {
				t.Errorf("replica sync_full:%s, was %s", got, fullBefore)
			}
			if a, b := mc.MustDo(t, "DEBUG", "DIGEST"), rc.MustDo(t, "DEBUG", "DIGEST"); string(a) != string(b) {
				t.Fatalf("DEBUG DIGEST master %q, replica %q", a, b)
			}
		})
	}
}

// replicaAckedOffset is the offset slave0 acknowledged (INFO replication).
func replicaAckedOffset(t *testing.T, c *difftest.Conn) string {
	t.Helper()
	for _, kv := range splitFields(infoField(t, c, "replication", "slave0")) {
		if len(kv) > 7 && kv[:7] == "offset=" {
			return kv[7:]
		}
	}
	return ""
}

func splitFields(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestReplicaRestartPartialResync: a Crescent replica restarted (the
// replicaof directive) from the RDB its SHUTDOWN saved continues from its
// master's stream with a partial resync, of a redis-server master and of
// a Crescent one, as a Redis replica does (its cached master from the
// RDB's repl-id and repl-offset).
func TestReplicaRestartPartialResync(t *testing.T) {
	for _, redisMaster := range []bool{true, false} {
		name := "crescent master"
		if redisMaster {
			name = "redis-server master"
		}
		t.Run(name, func(t *testing.T) {
			var maddr string
			if redisMaster {
				maddr = difftest.StartRedis(t, "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "3600").Addr
			} else {
				maddr, _ = startCrescent(t, "repl-ping-replica-period", "3600")
			}
			mhost, mport, _ := net.SplitHostPort(maddr)
			r := newRestartable(t, "--replicaof", mhost+" "+mport)
			rc := r.start()
			mc := difftest.Connect(t, maddr)
			replicaWrites(t, mc, 0, 30)
			replOffsetsMeet(t, mc, rc)
			mc.MustDo(t, "SELECT", "5")
			mc.MustDo(t, "SET", "in5", "1") // the stream is in database 5 at the save
			replOffsetsMeet(t, mc, rc)
			fullBefore := infoField(t, mc, "stats", "sync_full")
			partialBefore := infoField(t, mc, "stats", "sync_partial_ok")
			r.stop(rc, "NOW")
			mc.MustDo(t, "SET", "in5-while-down", "2") // no SELECT: the replica must still be in 5
			mc.MustDo(t, "SELECT", "0")
			replicaWrites(t, mc, 30, 35)
			rc = r.start()
			replOffsetsMeet(t, mc, rc)
			if got := infoField(t, mc, "stats", "sync_full"); got != fullBefore {
				t.Errorf("master sync_full:%s, was %s", got, fullBefore)
			}
			if got, _ := strconv.Atoi(infoField(t, mc, "stats", "sync_partial_ok")); strconv.Itoa(got-1) != partialBefore {
				t.Errorf("master sync_partial_ok:%d, was %s", got, partialBefore)
			}
			compareDatasets(t, replDataset(t, maddr), replDataset(t, r.addr))
			if a, b := mc.MustDo(t, "DEBUG", "DIGEST"), rc.MustDo(t, "DEBUG", "DIGEST"); string(a) != string(b) {
				t.Fatalf("DEBUG DIGEST master %q, replica %q", a, b)
			}
		})
	}
}
