package server_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMaxClients: the connection past maxclients gets Redis's error and
// is closed; the others go on.
func TestMaxClients(t *testing.T) {
	run := func(addr string) []string {
		c1 := dialRaw(t, addr)
		out := []string{c1.do("CONFIG", "SET", "maxclients", "2")}
		c2 := dialRaw(t, addr)
		out = append(out, c2.do("PING"))
		c3 := dialRaw(t, addr)
		out = append(out, c3.read(2*time.Second), c1.do("PING"))
		c3.nc.Close()
		out = append(out, c1.do("CONFIG", "SET", "maxclients", "0"), c1.do("CONFIG", "SET", "maxclients", "10000"))
		return out
	}
	want := run(startRedis(t))
	addr, _ := startCrescent(t)
	got := run(addr)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("\nredis:    %q\ncrescent: %q", want, got)
	}
}

// TestOutputLimitNormal: with a normal-class hard limit a reply bigger
// than it closes the client without sending anything; a transaction
// still runs to its end.
func TestOutputLimitNormal(t *testing.T) {
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		big := strings.Repeat("x", 300000)
		out := []string{c.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0"),
			c.do("SET", "big", big), c.do("DEL", "k2"), c.do("GET", "k1")}
		c.send("GET", "big")
		out = append(out, c.read(2*time.Second))
		c = dialRaw(t, addr)
		out = append(out, c.do("MULTI"), c.do("GET", "big"), c.do("SET", "k2", "v2"))
		c.send("EXEC")
		out = append(out, c.read(2*time.Second))
		c = dialRaw(t, addr)
		out = append(out, c.do("GET", "k2"), c.do("STRLEN", "big"),
			c.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"),
			c.do("CONFIG", "GET", "client-output-buffer-limit"))
		return out
	}
	want := run(startRedis(t))
	addr, _ := startCrescent(t)
	got := run(addr)
	compareSteps(t, want, got)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// clientCount returns the number of lines of CLIENT LIST.
func clientCount(c *rawConn) int {
	r := c.do("CLIENT", "LIST")
	return strings.Count(r, "id=")
}

// TestNonReadingClient: a client that pipelines 100 GETs of a 10MB value
// and never reads costs the server about one reply, not 1GB; others are
// served meanwhile; CLIENT KILL, the idle timeout and the soft output
// limit each end such a client.
func TestNonReadingClient(t *testing.T) {
	addr, _ := startCrescent(t)
	ctl := dialRaw(t, addr)
	const size = 10 << 20
	if r := ctl.do("SET", "big", strings.Repeat("v", size)); r != "+OK\r\n" {
		t.Fatal(r)
	}
	stuck := func() *rawConn {
		c := dialRaw(t, addr)
		var b strings.Builder
		for i := 0; i < 100; i++ {
			b.Write(encodeCmd([]string{"GET", "big"}))
		}
		if _, err := c.nc.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		return c
	}
	before := heapInUse()
	c := stuck()
	time.Sleep(time.Second)
	var peak uint64
	for i := 0; i < 5; i++ {
		// a server waiting on the stuck client never answers; a loaded
		// machine may delay an answer by a second or more
		start := time.Now()
		ctl.send("PING")
		if r := ctl.read(10 * time.Second); r != "+PONG\r\n" {
			t.Fatalf("other client: %q", r)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("PING took %v while a client is stuck", d)
		}
		if h := heapInUse(); h > peak {
			peak = h
		}
		time.Sleep(100 * time.Millisecond)
	}
	growth := int64(peak) - int64(before)
	t.Logf("heap before %d MB, with the stuck client %d MB (growth %.1f MB for 1000 MB requested)",
		before>>20, peak>>20, float64(growth)/(1<<20))
	if growth > 3*size {
		t.Fatalf("heap grew by %d bytes for a client that does not read", growth)
	}
	n := clientCount(ctl)
	// CLIENT KILL frees a client stuck in a write
	r := ctl.do("CLIENT", "KILL", "SKIPME", "yes", "TYPE", "normal")
	if r != ":1\r\n" {
		t.Fatalf("CLIENT KILL: %q", r)
	}
	waitClients(t, ctl, n-1)
	c.nc.Close()

	// the idle timeout closes a stuck client (Redis counts write progress
	// as interaction)
	ctl.do("CONFIG", "SET", "timeout", "1")
	stuck()
	waitClients(t, ctl, n)
	start := time.Now()
	waitClients(t, ctl, n-1)
	t.Logf("timeout 1: stuck client closed after %v", time.Since(start).Round(100*time.Millisecond))
	ctl.do("CONFIG", "SET", "timeout", "0")

	// soft limit: over 1MB for more than 1s
	ctl.do("CONFIG", "SET", "client-output-buffer-limit", "normal 0 1mb 1")
	stuck()
	waitClients(t, ctl, n)
	start = time.Now()
	waitClients(t, ctl, n-1)
	t.Logf("soft limit 1mb/1s: stuck client closed after %v", time.Since(start).Round(100*time.Millisecond))
}

// waitClients waits until CLIENT LIST shows n clients.
func waitClients(t *testing.T, ctl *rawConn, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := clientCount(ctl)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients, want %d", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIdleTimeout: timeout closes idle clients but not subscribers nor
// clients blocked in BLPOP, as in Redis.
func TestIdleTimeout(t *testing.T) {
	run := func(addr string) []string {
		ctl := dialRaw(t, addr)
		ctl.do("CONFIG", "SET", "timeout", "1")
		idle, sub, blocked := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
		out := []string{idle.do("PING"), sub.do("SUBSCRIBE", "ch")}
		blocked.send("BLPOP", "nolist", "0")
		time.Sleep(3500 * time.Millisecond)
		ctl = dialRaw(t, addr) // the first one timed out too
		defer ctl.do("CONFIG", "SET", "timeout", "0")
		out = append(out, idle.read(time.Second), ctl.do("PUBLISH", "ch", "m"), sub.read(time.Second),
			ctl.do("LPUSH", "nolist", "x"), blocked.read(time.Second))
		return out
	}
	want := run(startRedis(t))
	addr, _ := startCrescent(t)
	got := run(addr)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("\nredis:    %q\ncrescent: %q", want, got)
	}
	if !strings.HasSuffix(got[2], "<eof>") {
		t.Fatalf("idle client not closed: %q", got[2])
	}
}

// TestKeepAliveConfig: tcp-keepalive is accepted and shown as set.
func TestKeepAliveConfig(t *testing.T) {
	addr, _ := startCrescent(t, "tcp-keepalive", "60")
	c := dialRaw(t, addr)
	if r := c.do("CONFIG", "GET", "tcp-keepalive"); !strings.Contains(r, strconv.Itoa(60)) {
		t.Fatal(r)
	}
	if r := c.do("PING"); r != "+PONG\r\n" {
		t.Fatal(r)
	}
}

// totalAlloc is the bytes the process allocated so far (in-process
// Crescent included).
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// TestOutputLimitMidRun follows obuf-limits.tcl's "Obuf limit, HRANDFIELD
// with huge count stopped mid-run" and "KEYS stopped mid-run", at a small
// scale: with a 100 KB hard limit, a reply that would be about 100 MB
// (HRANDFIELD, SRANDMEMBER and ZRANDMEMBER with a negative count of 15
// million on a one-element key; KEYS * over 300,000 keys of 100 bytes)
// closes the client without a reply, as in Redis, and Crescent stops
// building it once the limit is passed: it allocates a few MB for the
// command, not the hundreds the whole reply takes (the old code). A
// transaction holding such a command still runs its other commands
// (obuf-limits.tcl's "Execute transactions completely even if client
// output buffer limit is enforced").
func TestOutputLimitMidRun(t *testing.T) {
	const maxAlloc = 40 << 20
	const prefix = "long-key-name-prefix-of-100-chars-------------------------------------------------------------------"
	bombs := [][]string{
		{"HRANDFIELD", "h", "-15000000"},
		{"HRANDFIELD", "h", "-15000000", "WITHVALUES"},
		{"SRANDMEMBER", "s", "-15000000"},
		{"SRANDMEMBER", "i", "-15000000"},
		{"ZRANDMEMBER", "z", "-15000000", "WITHSCORES"},
	}
	// a key, field or GET pattern named many times: 20,000 copies of a
	// 10 KB value (Redis's loops do not stop there, but add nothing more
	// to the reply once the client is to be closed)
	repeat := func(head []string, arg ...string) []string {
		for i := 0; i < 20000/len(arg); i++ {
			head = append(head, arg...)
		}
		return head
	}
	bombs = append(bombs, repeat([]string{"MGET"}, "v"), repeat([]string{"MGET"}, "v", "nokey"),
		repeat([]string{"HMGET", "hb"}, "f"),
		repeat([]string{"SORT", "l", "BY", "nosort"}, "GET", "k*"),
		append(repeat([]string{"XREAD", "STREAMS"}, "st"), repeat(nil, "0")...),
		repeat(repeat([]string{"COMMAND", "INFO"}, "georadius"), "georadius", "georadius", "georadius", "georadius"))
	run := func(addr string, inProcess bool) []string {
		c := dialRaw(t, addr)
		out := []string{c.do("CONFIG", "SET", "client-output-buffer-limit", "normal 100000 0 0"),
			c.do("HSET", "h", "a", "b"), c.do("SADD", "s", "a"), c.do("SADD", "i", "7"),
			c.do("ZADD", "z", "1", "a"), c.do("SET", "k1", "v1"),
			c.do("SET", "v", strings.Repeat("v", 10000)), c.do("HSET", "hb", "f", strings.Repeat("f", 10000)),
			c.do("SET", "kx", strings.Repeat("k", 10000)), c.do("RPUSH", "l", "x", "x"),
			c.do("XADD", "st", "1-1", "f", strings.Repeat("x", 10000)), c.do("CONFIG", "RESETSTAT")}
		// bomb sends args on a connection of its own and reads its fate
		// (a reply, or <eof>); in-process, it checks what the command
		// allocated
		bomb := func(args ...string) string {
			b := dialRaw(t, addr)
			before := totalAlloc()
			b.send(args...)
			r := b.read(60 * time.Second) // a bound for a hang only
			if inProcess {
				if n := totalAlloc() - before; n > maxAlloc {
					t.Errorf("%v: %d MB allocated, want at most %d", args, n>>20, maxAlloc>>20)
				}
			}
			if len(r) > 100 {
				r = r[:100] + "..."
			}
			return r
		}
		for _, args := range bombs {
			name := strings.Join(args, " ")
			if len(name) > 60 {
				name = name[:60] + "..."
			}
			out = append(out, name+": "+bomb(args...))
		}
		// the lookups of the stopped loops still counted, as in Redis
		for _, l := range strings.Split(c.do("INFO", "stats"), "\r\n") {
			if strings.HasPrefix(l, "keyspace_") {
				out = append(out, l)
			}
		}
		// the slow steps get read with a bound for a hang only (do's 2 s is
		// too short for them on a loaded machine)
		slow := func(c *rawConn, args ...string) string {
			c.send(args...)
			return c.read(60 * time.Second)
		}
		out = append(out, slow(c, "DEBUG", "POPULATE", "300000", prefix), c.do("DBSIZE"))
		out = append(out, "KEYS *: "+bomb("KEYS", "*"))
		// a muted client: nothing to build (Redis adds nothing to its
		// reply), and it is not closed
		m := dialRaw(t, addr)
		m.send("CLIENT", "REPLY", "OFF")
		before := totalAlloc()
		m.send(repeat([]string{"MGET"}, "v")...)
		m.send("HRANDFIELD", "h", "-15000000")
		// Redis runs the muted HRANDFIELD's 15 million picks (seconds)
		out = append(out, "muted: "+slow(m, "CLIENT", "REPLY", "ON"))
		if n := totalAlloc() - before; inProcess && n > maxAlloc {
			t.Errorf("muted MGET and HRANDFIELD: %d MB allocated, want at most %d", n>>20, maxAlloc>>20)
		}
		// a transaction: the bomb stops, the commands after it run
		x := dialRaw(t, addr)
		x.do("CLIENT", "SETNAME", "transactionclient")
		out = append(out, x.do("MULTI"), x.do("SET", "k2", "v2"), x.do("HRANDFIELD", "h", "-15000000"),
			x.do("SET", "k3", "v3"), x.do("DEL", "k1"))
		before = totalAlloc()
		x.send("EXEC")
		out = append(out, "EXEC: "+x.read(60*time.Second))
		if n := totalAlloc() - before; inProcess && n > maxAlloc {
			t.Errorf("EXEC: %d MB allocated, want at most %d", n>>20, maxAlloc>>20)
		}
		c = dialRaw(t, addr)
		out = append(out, c.do("MGET", "k1", "k2", "k3"),
			strconv.FormatBool(strings.Contains(c.do("CLIENT", "LIST"), "transactionclient")),
			c.do("HRANDFIELD", "h", "-2"))
		// obuf-limits.tcl's own transaction: an LRANGE of 150 KB in it
		item := strings.Repeat("x", 1000)
		for i := 0; i < 150; i++ {
			c.do("LPUSH", "mylist2", item)
		}
		out = append(out, c.do("SET", "k1", "v1"), c.do("DEL", "k2", "k3"))
		x = dialRaw(t, addr)
		out = append(out, x.do("MULTI"), x.do("SET", "k2", "v2"), x.do("GET", "k2"),
			x.do("LRANGE", "mylist2", "0", "-1"), x.do("SET", "k3", "v3"), x.do("DEL", "k1"))
		x.send("EXEC")
		out = append(out, "EXEC: "+x.read(60*time.Second), c.do("MGET", "k1", "k2", "k3"))
		return out
	}
	want := run(startRedis(t), false)
	addr, _ := startCrescent(t)
	got := run(addr, true)
	compareSteps(t, want, got)
}

// compareSteps fails t for each step whose reply differs between redis
// (want) and Crescent (got), and at once when the step counts differ.
func compareSteps(t *testing.T, want, got []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("\nredis:    %q\ncrescent: %q", want, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\nredis:    %.200q\ncrescent: %.200q", i, want[i], got[i])
		}
	}
}
