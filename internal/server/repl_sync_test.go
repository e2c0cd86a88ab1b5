package server_test

// Full syncs as Redis 7.0.15 makes them (repl22): what a disk-based sync
// leaves on disk and in INFO persistence on both sides, a replica's full
// sync that runs no FLUSHALL of its own, and repl-diskless-sync-delay /
// repl-diskless-sync-max-replicas with one snapshot for the replicas that
// wait. Each scenario runs on a redis-server pair (or chain) and on a
// Crescent one, and both must give Redis's answers.

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
)

// syncKind starts servers of one kind with a data directory of the test's.
type syncKind struct {
	name  string
	start func(t *testing.T, dir string, args ...string) string
}

func syncKinds(t *testing.T) []syncKind {
	if difftest.RedisBinary() == "" {
		t.Skip("redis-server not found: the full sync scenarios compare with it")
	}
	return []syncKind{
		{"redis-server", func(t *testing.T, dir string, args ...string) string {
			return difftest.StartRedis(t, append([]string{"--dir", dir}, args...)...).Addr
		}},
		{"crescent", func(t *testing.T, dir string, args ...string) string {
			return difftest.StartCrescent(t, append([]string{"--dir", dir}, args...)...).Addr
		}},
	}
}

// replicaOfAddr sends REPLICAOF to c for the master at addr.
func replicaOfAddr(t *testing.T, c *difftest.Conn, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	if r := c.MustDo(t, "REPLICAOF", host, port); !bytes.HasPrefix(r, []byte("+OK")) {
		t.Fatalf("REPLICAOF: %q", r)
	}
}

func linkUp(t *testing.T, c *difftest.Conn) {
	t.Helper()
	replWaitFor(t, "the replica's link", 30*time.Second, func() bool {
		return infoField(t, c, "replication", "master_link_status") == "up"
	})
}

// sortedKeys is KEYS * sorted.
func sortedKeys(t *testing.T, c *difftest.Conn) string {
	t.Helper()
	v, _, err := difftest.Parse(c.MustDo(t, "KEYS", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range v.Elems {
		keys = append(keys, string(e.Str))
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// dirFiles lists dir's regular files.
func dirFiles(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return strings.Join(names, ",")
}

// TestDiskSyncSavesDumpRDB: with repl-diskless-sync no, Redis 7.0.15's
// master saves the sync's snapshot as a BGSAVE would (dump.rdb even with
// save "", rdb_saves 1, rdb_changes_since_last_save 0, lastsave now), and
// its replica (repl-diskless-load disabled) renames the file it received
// to its own dump.rdb, its own counters untouched (the flush of its old
// data is no change: 2 before, 2 after; lastsave unchanged). The replica's
// dump.rdb is the master's, byte for byte, and a server started on it has
// the master's keys. A replica that cannot read the EOF form (a plain
// SYNC without REPLCONF capa eof) gets a disk sync even with
// repl-diskless-sync yes.
func TestDiskSyncSavesDumpRDB(t *testing.T) {
	for _, k := range syncKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			mdir, rdir := t.TempDir(), t.TempDir()
			maddr := k.start(t, mdir, "--repl-diskless-sync", "no")
			raddr := k.start(t, rdir)
			mc, rc := difftest.Connect(t, maddr), difftest.Connect(t, raddr)
			mc.MustDo(t, "MSET", "a", "1", "b", "2", "c", "3")
			rc.MustDo(t, "SET", "x", "1")
			rc.MustDo(t, "SET", "y", "1")
			rLast := infoField(t, rc, "persistence", "rdb_last_save_time")
			before := time.Now().Unix()
			replicaOfAddr(t, rc, maddr)
			linkUp(t, rc)
			if got := sortedKeys(t, rc); got != "a,b,c" {
				t.Fatalf("replica keys %q after the sync, want a,b,c", got)
			}
			want := map[string]string{
				"master rdb_changes_since_last_save":  "0",
				"master rdb_saves":                    "1",
				"master rdb_last_bgsave_status":       "ok",
				"replica rdb_changes_since_last_save": "2",
				"replica rdb_saves":                   "0",
				"replica rdb_last_save_time":          rLast,
			}
			for name, w := range want {
				side, field, _ := strings.Cut(name, " ")
				c := mc
				if side == "replica" {
					c = rc
				}
				if got := infoField(t, c, "persistence", field); got != w {
					t.Errorf("%s: %s, want %s", name, got, w)
				}
			}
			if s, _ := strconv.ParseInt(infoField(t, mc, "persistence", "rdb_last_save_time"), 10, 64); s < before {
				t.Errorf("master rdb_last_save_time %d, before the sync %d", s, before)
			}
			if got := dirFiles(t, mdir); got != "dump.rdb" {
				t.Errorf("master's dir: %q, want dump.rdb", got)
			}
			if got := dirFiles(t, rdir); got != "dump.rdb" {
				t.Errorf("replica's dir: %q, want dump.rdb", got)
			}
			mrdb, err := os.ReadFile(filepath.Join(mdir, "dump.rdb"))
			if err != nil {
				t.Fatal(err)
			}
			rrdb, err := os.ReadFile(filepath.Join(rdir, "dump.rdb"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mrdb, rrdb) {
				t.Errorf("the replica's dump.rdb (%d bytes) is not the master's (%d bytes)", len(rrdb), len(mrdb))
			}
			// loadable: a server started on a copy of the replica's file
			ldir := t.TempDir()
			if err := os.WriteFile(filepath.Join(ldir, "dump.rdb"), rrdb, 0o644); err != nil {
				t.Fatal(err)
			}
			lc := difftest.Connect(t, k.start(t, ldir))
			if got := sortedKeys(t, lc); got != "a,b,c" {
				t.Errorf("a server started on the replica's dump.rdb has %q, want a,b,c", got)
			}
		})
		t.Run(k.name+"/sync without capa eof", func(t *testing.T) {
			mdir := t.TempDir()
			maddr := k.start(t, mdir, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
			mc := difftest.Connect(t, maddr)
			mc.MustDo(t, "SET", "k", "v")
			sc := difftest.Connect(t, maddr)
			if err := sc.SendCmd("SYNC"); err != nil {
				t.Fatal(err)
			}
			// the bulk's header, after the newlines that may come first
			// (its payload has no CRLF after it)
			sc.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
			var head string
			for head == "" {
				l, err := sc.Reader().ReadString('\n')
				if err != nil {
					t.Fatalf("SYNC: %v", err)
				}
				head = strings.TrimSpace(l)
			}
			if head[0] != '$' {
				t.Fatalf("SYNC: %q", head)
			}
			if got := infoField(t, mc, "persistence", "rdb_saves"); got != "1" {
				t.Errorf("rdb_saves %s after a SYNC without capa eof, want 1", got)
			}
			replWaitFor(t, "the master's dump.rdb", 10*time.Second, func() bool {
				return dirFiles(t, mdir) == "dump.rdb"
			})
		})
	}
}

// TestFullSyncRunsNoFlush: a full sync empties the replica's data as Redis
// 7.0's emptyData, not as a FLUSHALL and a FUNCTION FLUSH run as the
// master client: in a chain A, B <- R where B (an old master) becomes A's
// replica, R resyncs from B and ends up with A's data, and R's MONITOR,
// commandstats and AOF show no FLUSHALL nor FUNCTION FLUSH (Crescent's R
// showed both, as commands from its master's address).
func TestFullSyncRunsNoFlush(t *testing.T) {
	for _, k := range syncKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			rdir := t.TempDir()
			aaddr := k.start(t, t.TempDir())
			baddr := k.start(t, t.TempDir())
			raddr := k.start(t, rdir, "--appendonly", "yes")
			ac, bc, rc := difftest.Connect(t, aaddr), difftest.Connect(t, baddr), difftest.Connect(t, raddr)
			ac.MustDo(t, "MSET", "a", "1", "b", "2", "c", "3")
			bc.MustDo(t, "MSET", "q", "1", "w", "2")
			replicaOfAddr(t, rc, baddr)
			linkUp(t, rc)
			bc.MustDo(t, "SET", "e", "5")
			replWaitFor(t, "the replica's first data", 30*time.Second, func() bool {
				return sortedKeys(t, rc) == "e,q,w"
			})
			rc.MustDo(t, "CONFIG", "RESETSTAT")
			mon := difftest.Connect(t, raddr)
			if r := mon.MustDo(t, "MONITOR"); string(r) != "+OK\r\n" {
				t.Fatalf("MONITOR: %q", r)
			}
			replicaOfAddr(t, bc, aaddr)
			replWaitFor(t, "the new master's data through the chain", 30*time.Second, func() bool {
				return sortedKeys(t, rc) == "a,b,c"
			})
			linkUp(t, rc)
			var seen []string
			for {
				line, err := mon.ReadWithin(300 * time.Millisecond)
				if err != nil {
					break
				}
				seen = append(seen, strings.TrimSpace(string(line)))
			}
			for _, l := range seen {
				if u := strings.ToUpper(l); strings.Contains(u, `"FLUSHALL"`) || strings.Contains(u, `"FUNCTION"`) {
					t.Errorf("the replica's MONITOR shows %s", l)
				}
			}
			stats := string(rc.MustDo(t, "INFO", "commandstats"))
			for _, c := range []string{"cmdstat_flushall", "cmdstat_function|flush"} {
				if strings.Contains(stats, c+":") {
					t.Errorf("the replica's commandstats count %s", c)
				}
			}
			aofDir := filepath.Join(rdir, "appendonlydir")
			ents, err := os.ReadDir(aofDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".incr.aof") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(aofDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(bytes.ToUpper(b), []byte("FLUSHALL")) {
					t.Errorf("the replica's %s holds a FLUSHALL", e.Name())
				}
			}
		})
	}
}

// replicaStates returns the state= of each slaveN line of INFO
// replication on a master.
func replicaStates(t *testing.T, c *difftest.Conn) []string {
	t.Helper()
	v, _, err := difftest.Parse(c.MustDo(t, "INFO", "replication"))
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, l := range strings.Split(string(v.Str), "\r\n") {
		if !strings.HasPrefix(l, "slave") || !strings.Contains(l, ":ip=") {
			continue
		}
		for _, f := range strings.Split(l, ",") {
			if s, ok := strings.CutPrefix(f, "state="); ok {
				states = append(states, s)
			}
		}
	}
	return states
}

// TestDisklessSyncDelay: a diskless sync waits repl-diskless-sync-delay
// seconds for more replicas (they are listed in wait_bgsave meanwhile, and
// ROLE lists none), then one snapshot serves them all (total_forks counts
// one, sync_full two); with repl-diskless-sync-max-replicas it starts as
// soon as that many wait. Crescent synced each replica at once, one
// snapshot each.
func TestDisklessSyncDelay(t *testing.T) {
	for _, k := range syncKinds(t) {
		t.Run(k.name+"/delay", func(t *testing.T) {
			const delay = 3
			maddr := k.start(t, t.TempDir(), "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", strconv.Itoa(delay))
			mc := difftest.Connect(t, maddr)
			mc.MustDo(t, "MSET", "a", "1", "b", "2")
			r1 := difftest.Connect(t, k.start(t, t.TempDir()))
			r2 := difftest.Connect(t, k.start(t, t.TempDir()))
			start := time.Now()
			replicaOfAddr(t, r1, maddr)
			replicaOfAddr(t, r2, maddr)
			replWaitFor(t, "two replicas listed", 10*time.Second, func() bool {
				return len(replicaStates(t, mc)) == 2
			})
			states := replicaStates(t, mc)
			role := mc.MustDo(t, "ROLE")
			// a check of the waiting state holds only while the delay has
			// not passed: on a machine too slow for that, it is skipped
			if time.Since(start) < (delay-1)*time.Second {
				if !slices.Equal(states, []string{"wait_bgsave", "wait_bgsave"}) {
					t.Errorf("replica states during the delay %v, want both wait_bgsave", states)
				}
				if v, _, err := difftest.Parse(role); err != nil || len(v.Elems) != 3 || len(v.Elems[2].Elems) != 0 {
					t.Errorf("ROLE during the delay %q, want no replica", role)
				}
			} else {
				t.Logf("the delay passed before the check (%v): waiting states not checked", time.Since(start))
			}
			linkUp(t, r1)
			linkUp(t, r2)
			// Redis counts the delay in whole seconds of its clock: at
			// least delay-1 seconds pass
			if el := time.Since(start); el < (delay-1)*time.Second {
				t.Errorf("both replicas synced after %v, before the delay of %d s", el, delay)
			}
			if got := infoField(t, mc, "stats", "total_forks"); got != "1" {
				t.Errorf("total_forks %s, want 1 (one snapshot for both replicas)", got)
			}
			if got := infoField(t, mc, "stats", "sync_full"); got != "2" {
				t.Errorf("sync_full %s, want 2", got)
			}
			for _, r := range []*difftest.Conn{r1, r2} {
				if got := sortedKeys(t, r); got != "a,b" {
					t.Errorf("replica keys %q, want a,b", got)
				}
			}
		})
		t.Run(k.name+"/max-replicas", func(t *testing.T) {
			maddr := k.start(t, t.TempDir(), "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "60",
				"--repl-diskless-sync-max-replicas", "2")
			mc := difftest.Connect(t, maddr)
			mc.MustDo(t, "SET", "a", "1")
			r1 := difftest.Connect(t, k.start(t, t.TempDir()))
			r2 := difftest.Connect(t, k.start(t, t.TempDir()))
			replicaOfAddr(t, r1, maddr)
			replicaOfAddr(t, r2, maddr)
			// well before the 60 s delay
			linkUp(t, r1)
			linkUp(t, r2)
			if got := infoField(t, mc, "stats", "total_forks"); got != "1" {
				t.Errorf("total_forks %s, want 1", got)
			}
		})
	}
}

// TestDiskSyncSharedSnapshot: a replica asking for a disk-based sync while
// another one's snapshot is being written joins it, as Redis's syncCommand
// attaches it to the BGSAVE in progress (one fork), and gets the stream
// from that snapshot's cut on: a write made after the cut, before it
// joined, reaches it.
func TestDiskSyncSharedSnapshot(t *testing.T) {
	for _, k := range syncKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			maddr := k.start(t, t.TempDir(), "--repl-diskless-sync", "no")
			mc := difftest.Connect(t, maddr)
			mc.MustDo(t, "DEBUG", "POPULATE", "2000")
			mc.MustDo(t, "CONFIG", "SET", "rdb-key-save-delay", "2000") // about 4 s for the snapshot
			r1 := difftest.Connect(t, k.start(t, t.TempDir()))
			r2 := difftest.Connect(t, k.start(t, t.TempDir()))
			replicaOfAddr(t, r1, maddr)
			replWaitFor(t, "the first replica's snapshot", 10*time.Second, func() bool {
				return infoField(t, mc, "persistence", "rdb_bgsave_in_progress") == "1"
			})
			mc.MustDo(t, "SET", "after-cut", "1")
			replicaOfAddr(t, r2, maddr)
			replWaitFor(t, "two replicas listed", 10*time.Second, func() bool {
				return len(replicaStates(t, mc)) == 2
			})
			// the check of a shared snapshot holds only if the second
			// replica came while it was being written
			shared := infoField(t, mc, "persistence", "rdb_bgsave_in_progress") == "1"
			mc.MustDo(t, "SET", "after-join", "1")
			mc.MustDo(t, "CONFIG", "SET", "rdb-key-save-delay", "0")
			for _, r := range []*difftest.Conn{r1, r2} {
				linkUp(t, r)
				replWaitFor(t, "the writes after the cut", 30*time.Second, func() bool {
					return string(r.MustDo(t, "DBSIZE")) == ":2002\r\n"
				})
			}
			if !shared {
				t.Logf("the snapshot ended before the second replica came: total_forks not checked")
				return
			}
			if got := infoField(t, mc, "stats", "total_forks"); got != "1" {
				t.Errorf("total_forks %s, want 1 (the second replica joins the running snapshot)", got)
			}
		})
	}
}
