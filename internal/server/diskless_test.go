package server_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// repl-diskless-load on a Crescent replica: a fake master sends snapshots
// taken from another Crescent, in pieces, so that the replica can be
// observed in the middle of a load.

// snapshotOf returns the RDB a full sync of the server at addr sends.
func snapshotOf(t *testing.T, addr string) []byte {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(nc)
	nc.Write(difftest.EncodeStrings("REPLCONF", "rdb-only", "1"))
	if l, _ := rd.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("REPLCONF rdb-only: %q", l)
	}
	nc.Write(difftest.EncodeStrings("SYNC"))
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\n" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "$")))
		if err != nil {
			t.Fatalf("bulk header %q", l)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(rd, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// fakeMaster accepts a replica's connections one at a time and answers its
// handshake; each connection is handed to the test.
type fakeMaster struct {
	t     *testing.T
	ln    net.Listener
	conns chan *fakeLink
}

type fakeLink struct {
	nc    net.Conn
	rd    *bufio.Reader
	psync []string // the replica's PSYNC arguments
}

func startFakeMaster(t *testing.T) *fakeMaster {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fm := &fakeMaster{t: t, ln: ln, conns: make(chan *fakeLink, 4)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go fm.handshake(nc)
		}
	}()
	return fm
}

func (fm *fakeMaster) handshake(nc net.Conn) {
	fm.t.Cleanup(func() { nc.Close() })
	rd := bufio.NewReader(nc)
	for {
		v, err := difftest.ReadReply(rd)
		if err != nil {
			nc.Close()
			return
		}
		p, _, err := difftest.Parse(v)
		if err != nil {
			nc.Close()
			return
		}
		var args []string
		for _, a := range p.Elems {
			args = append(args, string(a.Str))
		}
		if len(args) == 0 {
			continue
		}
		switch strings.ToUpper(args[0]) {
		case "PING":
			nc.Write([]byte("+PONG\r\n"))
		case "REPLCONF":
			nc.Write([]byte("+OK\r\n"))
		case "PSYNC":
			fm.conns <- &fakeLink{nc: nc, rd: rd, psync: args[1:]}
			return
		default:
			nc.Write([]byte("-ERR unexpected\r\n"))
		}
	}
}

func (fm *fakeMaster) next(t *testing.T) *fakeLink {
	t.Helper()
	select {
	case l := <-fm.conns:
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("the replica did not connect to the fake master")
		return nil
	}
}

func (fm *fakeMaster) port() string {
	_, p, _ := net.SplitHostPort(fm.ln.Addr().String())
	return p
}

const fakeID = "1234567890123456789012345678901234567890"

// TestDisklessLoadSwapdb: with repl-diskless-load swapdb a full sync of
// the same history (the master's replid is the replica's) keeps serving
// the old data until the new is loaded (INFO async_loading:1), as Redis
// 7.0; a load that fails leaves the old data; a sync of another history
// answers LOADING meanwhile; the EOF-mark form is read from the socket too.
func TestDisklessLoadSwapdb(t *testing.T) {
	src, _ := startCrescent(t)
	sc := difftest.Connect(t, src)
	sc.MustDo(t, "SET", "gen", "1")
	rdb1 := snapshotOf(t, src)
	sc.MustDo(t, "SET", "gen", "2")
	for i := range 2000 {
		sc.MustDo(t, "SET", "k:"+strconv.Itoa(i), strings.Repeat("v", 100))
	}
	rdb2 := snapshotOf(t, src)

	fm := startFakeMaster(t)
	raddr, _ := startCrescent(t, "repl-diskless-load", "swapdb")
	rc := difftest.Connect(t, raddr)
	rc.MustDo(t, "SET", "local", "x")
	rc.MustDo(t, "REPLICAOF", "127.0.0.1", fm.port())
	get := func(k string) string { return string(rc.MustDo(t, "GET", k)) }

	// first sync: another history (the replica's own id)
	l := fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 0\r\n$%d\r\n", fakeID, len(rdb1))
	l.nc.Write(rdb1)
	replWaitFor(t, "the first sync", 10*time.Second, func() bool { return get("gen") == "$1\r\n1\r\n" })
	if r := get("local"); r != "$-1\r\n" {
		t.Fatalf("the replica's own key after the sync: %q", r)
	}

	// the same history: the old data serves while the new loads
	l.nc.Close()
	l = fm.next(t)
	if len(l.psync) != 2 || l.psync[0] != fakeID {
		t.Fatalf("PSYNC %q", l.psync)
	}
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 100\r\n$%d\r\n", fakeID, len(rdb2))
	half := len(rdb2) / 2
	l.nc.Write(rdb2[:half])
	replWaitFor(t, "the async load to start", 10*time.Second, func() bool {
		return infoField(t, rc, "persistence", "async_loading") == "1"
	})
	if r := get("gen"); r != "$1\r\n1\r\n" {
		t.Fatalf("GET during the async load = %q, want the old data", r)
	}
	if r := string(rc.MustDo(t, "REPLICAOF", "NO", "ONE")); !strings.HasPrefix(r, "-LOADING") {
		t.Fatalf("REPLICAOF NO ONE during the async load = %q", r)
	}
	l.nc.Write(rdb2[half:])
	replWaitFor(t, "the new data", 10*time.Second, func() bool { return get("gen") == "$1\r\n2\r\n" })
	if r := string(rc.MustDo(t, "DBSIZE")); r != ":2001\r\n" {
		t.Fatalf("DBSIZE = %q", r)
	}
	if a := infoField(t, rc, "persistence", "async_loading"); a != "0" {
		t.Fatalf("async_loading:%s after the load", a)
	}

	// a load that breaks off leaves the old data
	l.nc.Close()
	l = fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 200\r\n$%d\r\n", fakeID, len(rdb1))
	l.nc.Write(rdb1[:len(rdb1)/2])
	replWaitFor(t, "the async load to start", 10*time.Second, func() bool {
		return infoField(t, rc, "persistence", "async_loading") == "1"
	})
	l.nc.Close()
	l = fm.next(t) // it reconnects
	if r := get("gen"); r != "$1\r\n2\r\n" {
		t.Fatalf("GET after a broken load = %q, want the old data", r)
	}

	// another history: LOADING meanwhile; the $EOF:<mark> form
	other := strings.Repeat("ab", 20)
	mark := strings.Repeat("m", 40)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 0\r\n$EOF:%s\r\n", other, mark)
	l.nc.Write(rdb1[:len(rdb1)/2])
	replWaitFor(t, "LOADING", 10*time.Second, func() bool { return strings.HasPrefix(get("gen"), "-LOADING") })
	l.nc.Write(rdb1[len(rdb1)/2:])
	l.nc.Write([]byte(mark))
	replWaitFor(t, "the other history's data", 10*time.Second, func() bool { return get("gen") == "$1\r\n1\r\n" })
	// the replica acknowledges at once after a diskless load
	v, err := difftest.ReadReply(l.rd)
	if err != nil || !strings.Contains(string(v), "ACK") {
		t.Fatalf("after the load the replica sent %q, %v", v, err)
	}
}

// TestDisklessLoadNoDisk: a replica whose dir went away still syncs with
// repl-diskless-load swapdb, or on-empty-db while it has no key (the RDB
// never touches the disk); with disabled the temporary file cannot be made.
func TestDisklessLoadNoDisk(t *testing.T) {
	maddr, _ := startCrescent(t)
	mc := difftest.Connect(t, maddr)
	for i := range 100 {
		mc.MustDo(t, "SET", "k:"+strconv.Itoa(i), "v")
	}
	host, port, _ := net.SplitHostPort(maddr)
	for _, tc := range []struct {
		mode  string
		local bool // the replica has a key of its own
		sync  bool // the sync can complete
	}{
		{"swapdb", true, true},
		{"on-empty-db", false, true},
		{"on-empty-db", true, false}, // through a file
		{"disabled", false, false},
	} {
		t.Run(fmt.Sprintf("%s-local:%v", tc.mode, tc.local), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "gone")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			raddr, _ := startCrescent(t, "repl-diskless-load", tc.mode, "dir", dir)
			rc := difftest.Connect(t, raddr)
			if tc.local {
				rc.MustDo(t, "SET", "local", "1")
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			full0, _ := strconv.Atoi(infoField(t, mc, "stats", "sync_full"))
			rc.MustDo(t, "REPLICAOF", host, port)
			if !tc.sync {
				// a failed attempt shows as the master's second full sync
				// (the replica retries a second later)
				replWaitFor(t, "a second sync attempt", 10*time.Second, func() bool {
					n, _ := strconv.Atoi(infoField(t, mc, "stats", "sync_full"))
					return n >= full0+2
				})
				if s := infoField(t, rc, "replication", "master_link_status"); s != "down" {
					t.Fatalf("master_link_status:%s without a dir for the temporary file", s)
				}
				rc.MustDo(t, "REPLICAOF", "NO", "ONE")
				return
			}
			replWaitFor(t, "the sync", 10*time.Second, func() bool {
				return infoField(t, rc, "replication", "master_link_status") == "up"
			})
			if r := string(rc.MustDo(t, "DBSIZE")); r != ":100\r\n" {
				t.Fatalf("DBSIZE = %q", r)
			}
			rc.MustDo(t, "REPLICAOF", "NO", "ONE")
		})
	}
}

// TestDisklessSwapFunctions: a swapdb load replaces the data and the
// function libraries in one step. A client calling a function that reads
// a key throughout the swap sees the old library with the old data or the
// new library with the new data: never "Function not found" (the
// libraries were flushed before the keyspace was taken) nor a mix.
func TestDisklessSwapFunctions(t *testing.T) {
	src, _ := startCrescent(t)
	sc := difftest.Connect(t, src)
	lib := func(v string) string {
		return "#!lua name=swaplib\nredis.register_function{function_name='f', flags={'no-writes'}, callback=function(keys) return {'" + v + "', redis.call('GET', keys[1])} end}"
	}
	sc.MustDo(t, "FUNCTION", "LOAD", lib("1"))
	sc.MustDo(t, "SET", "gen", "1")
	rdb1 := snapshotOf(t, src)
	sc.MustDo(t, "FUNCTION", "LOAD", "REPLACE", lib("2"))
	sc.MustDo(t, "SET", "gen", "2")
	sc.MustDo(t, "XADD", "st", "1-1", "f", "v")
	for i := range 2000 {
		sc.MustDo(t, "SET", "k:"+strconv.Itoa(i), strings.Repeat("v", 100))
	}
	rdb2 := snapshotOf(t, src)

	fm := startFakeMaster(t)
	raddr, _ := startCrescent(t, "repl-diskless-load", "swapdb")
	rc := difftest.Connect(t, raddr)
	rc.MustDo(t, "REPLICAOF", "127.0.0.1", fm.port())
	const old, neu = "*2\r\n$1\r\n1\r\n$1\r\n1\r\n", "*2\r\n$1\r\n2\r\n$1\r\n2\r\n"
	fcall := func(c *difftest.Conn) string { return string(c.MustDo(t, "FCALL_RO", "f", "1", "gen")) }
	l := fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 0\r\n$%d\r\n", fakeID, len(rdb1))
	l.nc.Write(rdb1)
	replWaitFor(t, "the first sync", 10*time.Second, func() bool { return fcall(rc) == old })

	// the same history: the old data and library serve while the new load
	l.nc.Close()
	l = fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 100\r\n$%d\r\n", fakeID, len(rdb2))
	half := len(rdb2) / 2
	l.nc.Write(rdb2[:half])
	replWaitFor(t, "the async load to start", 10*time.Second, func() bool {
		return infoField(t, rc, "persistence", "async_loading") == "1"
	})
	// a client blocked on a stream the new data has is served at the swap
	// (Redis's scanDatabaseForReadyKeys)
	bc := difftest.Connect(t, raddr)
	if err := bc.SendCmd("XREAD", "BLOCK", "0", "STREAMS", "st", "0"); err != nil {
		t.Fatal(err)
	}
	replWaitFor(t, "XREAD to block", 10*time.Second, func() bool {
		return infoField(t, rc, "clients", "blocked_clients") == "1"
	})
	hc := difftest.Connect(t, raddr)
	seen := make(chan string, 1)
	go func() {
		for {
			r := fcall(hc)
			if r != old {
				seen <- r
				return
			}
		}
	}()
	l.nc.Write(rdb2[half:])
	select {
	case r := <-seen:
		if r != neu {
			t.Fatalf("FCALL during the swap = %q, want the old or the new library and data", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("FCALL never saw the new library")
	}
	if r, err := bc.ReadWithin(10 * time.Second); err != nil || !strings.Contains(string(r), "1-1") {
		t.Fatalf("XREAD BLOCK on a stream that came with the swap: %q, %v", r, err)
	}

	// a snapshot whose library fails to load on the replica fails the
	// sync as Redis's does: the data and the library stay as they were
	// (the library's code is altered and the RDB's checksum made again)
	bad := bytes.Replace(rdb1, []byte("register_function{"), []byte("register_functioX{"), 1)
	if bytes.Equal(bad, rdb1) {
		t.Fatal("the library's code is not in the snapshot")
	}
	binary.LittleEndian.PutUint64(bad[len(bad)-8:], rdb.NewCRCTable().Update(0, bad[:len(bad)-8]))
	l.nc.Close()
	l = fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 300\r\n$%d\r\n", fakeID, len(bad))
	l.nc.Write(bad)
	select {
	case <-fm.conns: // the sync failed: it reconnects
	case <-time.After(10 * time.Second):
	}
	if r := fcall(rc); r != neu {
		t.Fatalf("FCALL after a sync whose library failed = %q, want the data and library before it", r)
	}
}

// TestDisklessSwapSignalsStreams: a diskless load with swapdb signals the
// waited streams the new data no longer holds, as Redis 7.0's
// swapMainDbWithTempDb does (scanDatabaseForDeletedStreams): an
// XREADGROUP client blocked on one (replica-read-only no) is answered that
// the key is gone; one blocked on a stream the new data still holds stays
// blocked.
func TestDisklessSwapSignalsStreams(t *testing.T) {
	src, _ := startCrescent(t)
	sc := difftest.Connect(t, src)
	for _, k := range []string{"gone", "kept"} {
		sc.MustDo(t, "XADD", k, "1-1", "f", "v")
		sc.MustDo(t, "XGROUP", "CREATE", k, "g", "$")
	}
	rdb1 := snapshotOf(t, src)
	sc.MustDo(t, "DEL", "gone")
	sc.MustDo(t, "SET", "gone", "now a string")
	rdb2 := snapshotOf(t, src)

	fm := startFakeMaster(t)
	raddr, _ := startCrescent(t, "repl-diskless-load", "swapdb", "replica-read-only", "no")
	rc := difftest.Connect(t, raddr)
	rc.MustDo(t, "REPLICAOF", "127.0.0.1", fm.port())
	l := fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 0\r\n$%d\r\n", fakeID, len(rdb1))
	l.nc.Write(rdb1)
	replWaitFor(t, "the first sync", 10*time.Second, func() bool {
		return string(rc.MustDo(t, "TYPE", "gone")) == "+stream\r\n"
	})
	waiters := map[string]*rawConn{}
	for _, k := range []string{"gone", "kept"} {
		w := dialRaw(t, raddr)
		w.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", k, ">")
		waiters[k] = w
	}
	replWaitFor(t, "two blocked clients", 5*time.Second, func() bool {
		return infoField(t, rc, "clients", "blocked_clients") == "2"
	})
	// the same history: swapdb
	l.nc.Close()
	l = fm.next(t)
	fmt.Fprintf(l.nc, "+FULLRESYNC %s 100\r\n$%d\r\n", fakeID, len(rdb2))
	l.nc.Write(rdb2)
	if got := waiters["gone"].read(10 * time.Second); got != "-UNBLOCKED the stream key no longer exists\r\n" {
		t.Fatalf("XREADGROUP on a stream the load replaced: %q", got)
	}
	if b := infoField(t, rc, "clients", "blocked_clients"); b != "1" {
		t.Fatalf("blocked_clients=%s after the load, want 1 (the kept stream's)", b)
	}
}
