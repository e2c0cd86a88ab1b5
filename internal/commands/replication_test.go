package commands_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crescent-db/crescent/internal/difftest"
)

// TestWaitBlocks checks WAIT without replicas, on Crescent and on Redis
// alike: numreplicas > 0 blocks only the calling client until the
// timeout, or until CLIENT UNBLOCK (0, or -UNBLOCKED with ERROR), or the
// client goes away; numreplicas <= 0 and MULTI answer 0 at once.
func TestWaitBlocks(t *testing.T) {
	servers := map[string]string{"crescent": startCrescent(t)}
	if difftest.RedisBinary() != "" {
		servers["redis"] = difftest.StartRedis(t).Addr
	}
	for name, addr := range servers {
		t.Run(name, func(t *testing.T) { testWaitBlocks(t, addr) })
	}
}

func testWaitBlocks(t *testing.T, addr string) {
	ctx := context.Background()
	admin := newClient(t, addr)

	t.Run("times out after the timeout, others go on", func(t *testing.T) {
		waiter := newClient(t, addr)
		done := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			n, err := waiter.Do(ctx, "WAIT", 1, 1500).Int64()
			if err != nil || n != 0 {
				t.Errorf("WAIT 1 1500 = %d, %v; want 0", n, err)
			}
			done <- time.Since(start)
		}()
		waitBlocked(t, admin, 1)
		// another client's PING is answered while WAIT still waits (a
		// server serving PING behind WAIT would answer it only after the
		// 1.5 s timeout; no wall-clock bound, which a loaded machine breaks)
		if err := admin.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-done:
			t.Fatalf("PING answered only after WAIT returned (%v)", d)
		default:
		}
		select {
		case d := <-done:
			if d < 1400*time.Millisecond {
				t.Errorf("WAIT returned after %v, before its timeout", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("WAIT 1 1500 did not time out")
		}
		waitBlocked(t, admin, 0)
	})

	t.Run("answers at once", func(t *testing.T) {
		c := newClient(t, addr)
		for _, n := range []int{0, -1} {
			start := time.Now()
			got, err := c.Do(ctx, "WAIT", n, 0).Int64()
			if err != nil || got != 0 {
				t.Fatalf("WAIT %d 0 = %d, %v", n, got, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("WAIT %d 0 took %v", n, d)
			}
		}
		cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Do(ctx, "WAIT", 1, 0)
			return nil
		})
		if err != nil || len(cmds) != 1 {
			t.Fatalf("MULTI WAIT 1 0 EXEC: %v %v", cmds, err)
		}
		if n, err := cmds[0].(*redis.Cmd).Int64(); err != nil || n != 0 {
			t.Fatalf("WAIT 1 0 in MULTI = %d, %v", n, err)
		}
	})

	for _, mode := range []string{"", "TIMEOUT", "ERROR"} {
		t.Run("CLIENT UNBLOCK "+mode, func(t *testing.T) {
			waiter := newClient(t, addr)
			id, err := waiter.ClientID(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan *redis.Cmd, 1)
			go func() { got <- waiter.Do(ctx, "WAIT", 2, 0) }()
			waitBlocked(t, admin, 1)
			args := []any{"CLIENT", "UNBLOCK", id}
			if mode != "" {
				args = append(args, mode)
			}
			if n, err := admin.Do(ctx, args...).Int64(); err != nil || n != 1 {
				t.Fatalf("CLIENT UNBLOCK = %d, %v", n, err)
			}
			select {
			case cmd := <-got:
				n, err := cmd.Int64()
				if mode == "ERROR" {
					if err == nil || !strings.HasPrefix(err.Error(), "UNBLOCKED ") {
						t.Fatalf("WAIT unblocked with ERROR = %d, %v", n, err)
					}
				} else if err != nil || n != 0 {
					t.Fatalf("WAIT unblocked = %d, %v", n, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("CLIENT UNBLOCK did not unblock WAIT")
			}
			waitBlocked(t, admin, 0)
		})
	}

	t.Run("client closed while waiting", func(t *testing.T) {
		raw, err := difftest.DialAddr(addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.SendCmd("WAIT", "1", "0"); err != nil {
			t.Fatal(err)
		}
		waitBlocked(t, admin, 1)
		raw.Close()
		waitBlocked(t, admin, 0)
	})
}

// TestReplicationRefused checks the replication commands' answers with
// no master to reach (REPLICAOF answers at once, as Redis, and the link
// keeps trying), and what differs from Redis on purpose (replication
// itself is tested in internal/server, repl_test.go and replica_test.go).
func TestReplicationRefused(t *testing.T) {
	s := difftest.StartCrescent(t)
	c := difftest.Dial(t, s)
	port := strconv.Itoa(difftest.FreePort(t)) // nothing listens there
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"REPLICAOF", "127.0.0.1", "65536"}, "-ERR Invalid master port"},
		{[]string{"REPLICAOF", "127.0.0.1", port}, "+OK\r\n"},
		{[]string{"SLAVEOF", "127.0.0.1", port}, "+OK Already connected to specified master\r\n"},
		{[]string{"ROLE"}, "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:" + port + "\r\n$"},
		{[]string{"SET", "k", "v"}, "-READONLY You can't write against a read only replica.\r\n"},
		{[]string{"GET", "k"}, "$-1\r\n"},
		{[]string{"CONFIG", "SET", "replica-serve-stale-data", "no"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"},
		{[]string{"SET", "k", "v"}, "-READONLY You can't write against a read only replica.\r\n"},
		{[]string{"CONFIG", "SET", "replica-serve-stale-data", "yes"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$-1\r\n"},
		{[]string{"SYNC"}, "-NOMASTERLINK Can't SYNC while not connected with my master\r\n"},
		{[]string{"REPLICAOF", "NO", "ONE"}, "+OK"},
		{[]string{"SET", "k", "v"}, "+OK"},
		{[]string{"LOLWUT", "VERSION", "5"}, "$9817\r\n"},
		{[]string{"LOLWUT", "VERSION", "6", "1", "1"}, "$146\r\n\x1b[0;97;107m \x1b[0m\nDedicated"},
		{[]string{"ROLE"}, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"},
		{[]string{"REPLICAOF", "NO", "ONE"}, "+OK"},
	} {
		got := string(c.MustDo(t, tc.args...))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v = %q, want %q...", tc.args, got, tc.want)
		}
	}
	// REPLCONF ACK and GETACK get no reply, as in Redis: the next reply
	// read is PING's
	if err := c.Send(difftest.EncodeStrings("REPLCONF", "ACK", "1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(difftest.EncodeStrings("REPLCONF", "GETACK", "*")); err != nil {
		t.Fatal(err)
	}
	if got := string(c.MustDo(t, "PING")); got != "+PONG\r\n" {
		t.Fatalf("after REPLCONF ACK, PING = %q", got)
	}
}

// TestModuleCommandEnabled compares MODULE with enable-module-command yes,
// where Redis tries to load the library: Crescent loads no module and
// fails as Redis does for one it cannot load.
func TestModuleCommandEnabled(t *testing.T) {
	p := difftest.StartPair(t, "--enable-module-command", "yes")
	p.Run(t, "module_enabled", `
MODULE LIST
MODULE LOAD /nonexistent/module.so
MODULE LOAD /nonexistent/module.so a b
MODULE LOADEX /nonexistent/module.so
MODULE LOADEX /nonexistent/module.so CONFIG a b ARGS c
MODULE LOADEX /nonexistent/module.so foo
MODULE UNLOAD nosuchmodule
MODULE LIST
`)
}

// migrateServers starts the source and target servers of a MIGRATE test:
// "crescent" or "redis" each, with extra directives for the target.
func migrateServers(t *testing.T, src, dst string, dstArgs ...string) (*difftest.Server, *difftest.Server) {
	t.Helper()
	start := func(kind string, args ...string) *difftest.Server {
		if kind == "redis" {
			return difftest.StartRedis(t, args...)
		}
		return difftest.StartCrescent(t, args...)
	}
	return start(src), start(dst, dstArgs...)
}

func port(t *testing.T, s *difftest.Server) string {
	t.Helper()
	_, p, ok := strings.Cut(s.Addr, ":")
	if !ok {
		t.Fatalf("address %q", s.Addr)
	}
	return p
}

// TestMigrate moves keys of every type between Crescent and Crescent,
// Crescent and Redis, Redis and Crescent, and checks what each side holds
// after each option (COPY, REPLACE, KEYS, AUTH, AUTH2, the destination db).
func TestMigrate(t *testing.T) {
	for _, pair := range [][2]string{{"crescent", "crescent"}, {"crescent", "redis"}, {"redis", "crescent"}} {
		t.Run(pair[0]+"->"+pair[1], func(t *testing.T) {
			if (pair[0] == "redis" || pair[1] == "redis") && difftest.RedisBinary() == "" {
				t.Skip("redis-server not found")
			}
			src, dst := migrateServers(t, pair[0], pair[1])
			testMigrate(t, src, dst)
		})
	}
}

func testMigrate(t *testing.T, srcS, dstS *difftest.Server) {
	src, dst := difftest.Dial(t, srcS), difftest.Dial(t, dstS)
	host, p := "127.0.0.1", port(t, dstS)
	expect := func(c *difftest.Conn, want string, args ...string) {
		t.Helper()
		if got := string(c.MustDo(t, args...)); got != want {
			t.Errorf("%s %v = %q, want %q", c.NetConn().RemoteAddr(), args, got, want)
		}
	}
	expect(src, "+OK\r\n", "SET", "str", "hello")
	expect(src, ":3\r\n", "RPUSH", "list", "a", "b", "c")
	expect(src, ":2\r\n", "HSET", "hash", "f1", "v1", "f2", "v2")
	expect(src, ":2\r\n", "SADD", "set", "x", "y")
	expect(src, ":2\r\n", "ZADD", "zset", "1", "m1", "2.5", "m2")
	expect(src, "+OK\r\n", "SET", "ttl", "v", "PX", "100000")

	// one key, moved
	expect(src, "+OK\r\n", "MIGRATE", host, p, "str", "0", "5000")
	expect(src, ":0\r\n", "EXISTS", "str")
	expect(dst, "$5\r\nhello\r\n", "GET", "str")
	// a key with a TTL keeps it
	expect(src, "+OK\r\n", "MIGRATE", host, p, "ttl", "0", "5000")
	got := string(dst.MustDo(t, "PTTL", "ttl"))
	if ms, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n")); err != nil || ms < 90000 || ms > 100000 {
		t.Errorf("PTTL ttl on the target = %q", got)
	}
	// missing keys
	expect(src, "+NOKEY\r\n", "MIGRATE", host, p, "nokey", "0", "5000")
	// several keys, copied, to db 3
	expect(src, "+OK\r\n", "MIGRATE", host, p, "", "3", "5000", "COPY", "KEYS", "list", "hash", "nokey", "set", "zset")
	expect(src, ":4\r\n", "EXISTS", "list", "hash", "set", "zset")
	expect(dst, "+OK\r\n", "SELECT", "3")
	expect(dst, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "LRANGE", "list", "0", "-1")
	expect(dst, "$2\r\nv2\r\n", "HGET", "hash", "f2")
	expect(dst, ":2\r\n", "SCARD", "set")
	expect(dst, "$3\r\n2.5\r\n", "ZSCORE", "zset", "m2")
	// the target refuses an existing key: nothing is deleted here
	expect(src, "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n",
		"MIGRATE", host, p, "", "3", "5000", "KEYS", "list", "hash")
	expect(src, ":2\r\n", "EXISTS", "list", "hash")
	// REPLACE overwrites and, without COPY, deletes here
	expect(src, ":4\r\n", "RPUSH", "list", "d")
	expect(src, "+OK\r\n", "MIGRATE", host, p, "", "3", "5000", "REPLACE", "KEYS", "list", "hash")
	expect(src, ":0\r\n", "EXISTS", "list", "hash")
	expect(dst, ":4\r\n", "LLEN", "list")
	// AUTH to a server without a password: the target's error, although
	// its RESTORE went through; nothing is deleted here
	expect(src, "-ERR Target instance replied with error: ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
		"MIGRATE", host, p, "set", "0", "5000", "AUTH", "pw")
	expect(src, ":1\r\n", "EXISTS", "set")
	expect(dst, "+OK\r\n", "SELECT", "0")
	expect(dst, ":1\r\n", "EXISTS", "set")
	// a target that is not there
	expect(src, "-IOERR error or timeout writing to target instance\r\n", "MIGRATE", host, "1", "set", "0", "100")
	expect(src, ":1\r\n", "EXISTS", "set")

	// from a script
	expect(src, "+OK\r\n", "SET", "scripted", "v")
	expect(src, "+OK\r\n", "EVAL", "return redis.call('migrate', ARGV[1], ARGV[2], KEYS[1], 0, 5000)", "1", "scripted", host, p)
	expect(src, ":0\r\n", "EXISTS", "scripted")
	expect(dst, "+OK\r\n", "SELECT", "0")
	expect(dst, "$1\r\nv\r\n", "GET", "scripted")

	// a target with a password and an ACL user
	expect(dst, "+OK\r\n", "ACL", "SETUSER", "mover", "on", ">secret", "~*", "+@all")
	expect(dst, "+OK\r\n", "CONFIG", "SET", "requirepass", "topsecret")
	// (no NOAUTH here: the source reuses its cached connection of the
	// earlier calls, made before requirepass was set)
	expect(src, "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n",
		"MIGRATE", host, p, "set", "0", "5000", "AUTH", "wrong")
	expect(src, "+OK\r\n", "MIGRATE", host, p, "set", "0", "5000", "REPLACE", "AUTH", "topsecret")
	expect(src, "+OK\r\n", "MIGRATE", host, p, "", "0", "5000", "AUTH2", "mover", "secret", "KEYS", "zset")
	expect(src, ":0\r\n", "EXISTS", "set", "zset")
	expect(dst, "+OK\r\n", "AUTH", "topsecret")
	expect(dst, ":2\r\n", "EXISTS", "set", "zset")
}

// TestMigratePropagatesDel checks that a MIGRATE reaches the AOF as DEL of
// the keys moved (replaying MIGRATE would move them again), and that
// MIGRATE COPY writes nothing.
func TestMigratePropagatesDel(t *testing.T) {
	dir := t.TempDir()
	srcS := difftest.StartCrescent(t, "--appendonly", "yes", "--appendfsync", "always", "--dir", dir)
	dstS := difftest.StartCrescent(t)
	src := difftest.Dial(t, srcS)
	p := port(t, dstS)
	src.MustDo(t, "MSET", "k1", "v1", "k2", "v2", "k3", "v3")
	if got := string(src.MustDo(t, "MIGRATE", "127.0.0.1", p, "", "0", "5000", "COPY", "KEYS", "k3")); got != "+OK\r\n" {
		t.Fatalf("MIGRATE COPY = %q", got)
	}
	if got := string(src.MustDo(t, "MIGRATE", "127.0.0.1", p, "", "0", "5000", "KEYS", "k1", "nokey", "k2")); got != "+OK\r\n" {
		t.Fatalf("MIGRATE = %q", got)
	}
	aof := readIncrAOF(t, dir)
	want := string(difftest.EncodeStrings("DEL", "k1", "k2"))
	if !strings.Contains(aof, want) {
		t.Errorf("AOF lacks %q:\n%q", want, aof)
	}
	if strings.Contains(strings.ToUpper(aof), "MIGRATE") {
		t.Errorf("AOF holds MIGRATE:\n%q", aof)
	}
	if n := strings.Count(aof, "DEL"); n != 1 {
		t.Errorf("AOF holds %d DEL, want 1:\n%q", n, aof)
	}
}

// readIncrAOF returns the contents of the incremental AOF files in dir.
func readIncrAOF(t *testing.T, dir string) string {
	t.Helper()
	var all bytes.Buffer
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".incr.aof") {
			return err
		}
		b, err := os.ReadFile(path)
		all.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.String()
}

// TestMigrateRedactsCredentials checks that MIGRATE's AUTH and AUTH2
// values reach neither SLOWLOG nor MONITOR, as in Redis.
func TestMigrateRedactsCredentials(t *testing.T) {
	s := difftest.StartCrescent(t, "--slowlog-log-slower-than", "0")
	mon := difftest.Dial(t, s)
	if got := string(mon.MustDo(t, "MONITOR")); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	c := difftest.Dial(t, s)
	c.MustDo(t, "SET", "k", "v")
	c.MustDo(t, "MIGRATE", "127.0.0.1", "1", "k", "0", "10", "COPY", "AUTH", "secret1")
	c.MustDo(t, "MIGRATE", "127.0.0.1", "1", "k", "0", "10", "AUTH2", "user1", "secret2")
	slow := string(c.MustDo(t, "SLOWLOG", "GET", "4"))
	var fed strings.Builder
	for i := 0; i < 3; i++ { // SET and the two MIGRATEs
		line, err := mon.ReadWithin(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		fed.Write(line)
	}
	for what, out := range map[string]string{"SLOWLOG": slow, "MONITOR": fed.String()} {
		for _, secret := range []string{"secret1", "user1", "secret2"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %q: %q", what, secret, out)
			}
		}
		if n := strings.Count(out, "(redacted)"); n != 3 {
			t.Errorf("%s shows (redacted) %d times, want 3: %q", what, n, out)
		}
	}
}
