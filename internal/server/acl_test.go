package server_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestACLDifferential runs the same ACL command sequences against Crescent
// and redis-server and compares raw replies.
func TestACLDifferential(t *testing.T) {
	cases := [][][]string{
		{
			{"ACL", "SETUSER", "alice"},
			{"ACL", "LIST"},
			{"ACL", "GETUSER", "alice"},
			{"ACL", "GETUSER", "nobody"},
			{"ACL", "SETUSER", "bob", "on", ">pw", "~foo*", "%R~bar", "%W~baz", "%RW~q", "&ch", "+set", "(+set ~x)", "(-@all %R~y)"},
			{"ACL", "LIST"},
			{"ACL", "GETUSER", "bob"},
			{"ACL", "USERS"},
			{"ACL", "SETUSER", "c1", "+@read"},
			{"ACL", "SETUSER", "c2", "+@all", "-@write", "+set"},
			// (single commands come in hash order in Redis: one per selector here)
			{"ACL", "SETUSER", "t3", "+config", "-config|set"},
			{"ACL", "SETUSER", "t1", "reset"},
			{"ACL", "SETUSER", "t4", "on", "nopass", "allkeys", "allchannels", "allcommands"},
			{"ACL", "LIST"},
			{"ACL", "DELUSER", "t1", "t4", "nosuch"},
			{"ACL", "USERS"},
			{"ACL", "WHOAMI"},
			{"ACL", "CAT"},
		},
		{ // errors
			{"ACL", "SETUSER", "x", "+config|get|x"},
			{"ACL", "SETUSER", "x", "-select|0"},
			{"ACL", "SETUSER", "x", "+get|"},
			{"ACL", "SETUSER", "x", "foo"},
			{"ACL", "SETUSER", "x", "+nosuch"},
			{"ACL", "SETUSER", "x", "<zz"},
			{"ACL", "SETUSER", "x", "#abc"},
			{"ACL", "SETUSER", "x", "allkeys", "~a"},
			{"ACL", "SETUSER", "x", "allchannels", "&a"},
			{"ACL", "SETUSER", "x", "(+get"},
			{"ACL", "SETUSER", "a b"},
			{"ACL", "USERS"},
			{"ACL", "CAT", "nosuch"},
			{"ACL", "GENPASS", "0"},
			{"ACL", "GENPASS", "x"},
			{"ACL", "SAVE"},
			{"ACL", "LOAD"},
			{"ACL", "DELUSER", "default"},
			{"ACL", "FOO"},
			{"ACL", "GETUSER"},
			{"ACL", "HELP"},
			{"ACL", "LOG", "x"},
			{"AUTH", "foo"},
			{"AUTH", "a", "b", "c"},
			{"AUTH", "a", "b"},
			{"HELLO", "2", "AUTH", "a", "b"},
		},
		{ // dry runs and enforcement
			{"ACL", "SETUSER", "w", "on", "nopass", "%W~w*", "%R~r*", "+@all", "-del", "&foo*"},
			{"ACL", "DRYRUN", "w", "set", "w1", "x"},
			{"ACL", "DRYRUN", "w", "set", "w1", "x", "get"},
			{"ACL", "DRYRUN", "w", "get", "r1"},
			{"ACL", "DRYRUN", "w", "get", "w1"},
			{"ACL", "DRYRUN", "w", "del", "w1"},
			{"ACL", "DRYRUN", "w", "config", "get", "x"},
			{"ACL", "DRYRUN", "w", "exists", "w1"},
			{"ACL", "DRYRUN", "w", "exists", "zz"},
			{"ACL", "DRYRUN", "w", "publish", "fooa", "x"},
			{"ACL", "DRYRUN", "w", "publish", "bar", "x"},
			{"ACL", "DRYRUN", "w", "get"},
			{"ACL", "DRYRUN", "w", "config"},
			{"ACL", "DRYRUN", "w", "config", "foo"},
			{"ACL", "DRYRUN", "nobody", "get", "a"},
			{"ACL", "DRYRUN", "w", "nocmd"},
			{"AUTH", "w", "x"},
			{"ACL", "WHOAMI"},
			{"GET", "w1"},
			{"GET", "r1"},
			{"DEL", "r1"},
			{"SET", "r1", "v"},
			{"ACL", "WHOAMI"},
		},
	}
	cr, _ := startCrescent(t)
	rd := startRedis(t)
	for i, seq := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			a, b := dialRaw(t, cr), dialRaw(t, rd)
			for _, cmd := range seq {
				got, want := a.mustDo(cmd...), b.mustDo(cmd...)
				if got != want {
					t.Errorf("%q:\ncrescent %q\nredis    %q", cmd, got, want)
				}
			}
		})
	}
}

// TestAuthRequirePass: requirepass sets the default user's password;
// AUTH and HELLO AUTH go through the ACL users.
func TestAuthRequirePass(t *testing.T) {
	addr, _ := startCrescent(t, "requirepass", "secret")
	ctx := context.Background()
	noauth := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer noauth.Close()
	if err := noauth.Get(ctx, "k").Err(); err == nil || err.Error() != "NOAUTH Authentication required." {
		t.Fatalf("no auth: %v", err)
	}
	bad := redis.NewClient(&redis.Options{Addr: addr, Password: "nope", Protocol: 2, DisableIdentity: true})
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("bad password: %v", err)
	}
	for _, proto := range []int{2, 3} {
		good := redis.NewClient(&redis.Options{Addr: addr, Password: "secret", Protocol: proto, DisableIdentity: true})
		if err := good.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("RESP%d: %v", proto, err)
		}
		if u, err := good.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || u != "default" {
			t.Fatalf("whoami %q %v", u, err)
		}
		good.Close()
	}
	admin := redis.NewClient(&redis.Options{Addr: addr, Password: "secret", Protocol: 2, DisableIdentity: true})
	defer admin.Close()
	// CONFIG SET requirepass changes the default user's password.
	if err := admin.ConfigSet(ctx, "requirepass", "other").Err(); err != nil {
		t.Fatal(err)
	}
	again := redis.NewClient(&redis.Options{Addr: addr, Password: "other", Protocol: 2, DisableIdentity: true})
	defer again.Close()
	if err := again.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	log, err := admin.Do(ctx, "ACL", "LOG").Slice()
	if err != nil || len(log) == 0 {
		t.Fatalf("ACL LOG after failed auth: %v %v", log, err)
	}
}

// TestLimitedUser: a user denied a command, a key and a channel; deleting
// the user disconnects its clients.
func TestLimitedUser(t *testing.T) {
	addr, _ := startCrescent(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "limited", "on", ">pw", "~app:*", "+get", "+set", "+publish", "&news").Err(); err != nil {
		t.Fatal(err)
	}
	u := redis.NewClient(&redis.Options{Addr: addr, Username: "limited", Password: "pw", Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1})
	defer u.Close()
	if err := u.Set(ctx, "app:1", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cmd  []any
		want string
	}{
		{[]any{"DEL", "app:1"}, "NOPERM this user has no permissions to run the 'del' command"},
		{[]any{"GET", "other"}, "NOPERM this user has no permissions to access one of the keys used as arguments"},
	} {
		err := u.Do(ctx, c.cmd...).Err()
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: got %v want %q", c.cmd, err, c.want)
		}
	}
	entries, err := admin.Do(ctx, "ACL", "LOG", "1").Slice()
	if err != nil || len(entries) != 1 {
		t.Fatalf("ACL LOG: %v %v", entries, err)
	}
	if n, err := admin.Do(ctx, "ACL", "DELUSER", "limited").Int(); err != nil || n != 1 {
		t.Fatalf("DELUSER %d %v", n, err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := u.Get(ctx, "app:1").Err(); err == nil {
		t.Fatal("client of a deleted user still served")
	}
}

// TestMaxmemoryEviction: allkeys-lru bounds the dataset and keeps the keys
// used recently.
func TestMaxmemoryEviction(t *testing.T) {
	addr, _ := startCrescent(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	info, _ := c.Info(ctx, "memory").Result()
	used := infoInt(info, "used_memory")
	val := strings.Repeat("x", 1000)
	limit := used + 200*1024
	if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-samples", "10").Err(); err != nil {
		t.Fatal(err)
	}
	// 150 keys fit; 50 of them are used again after a second, then 60 new
	// keys push the 100 idle ones out.
	for i := 0; i < 150; i++ {
		if err := c.Set(ctx, "old:"+strconv.Itoa(i), val, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the LRU clock has a one-second resolution
	for i := 0; i < 50; i++ {
		c.Get(ctx, "old:"+strconv.Itoa(i))
	}
	for i := 0; i < 60; i++ {
		if err := c.Set(ctx, "new:"+strconv.Itoa(i), val, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := c.DBSize(ctx).Result()
	if n >= 210 || n < 100 {
		t.Fatalf("dbsize %d not bounded by maxmemory", n)
	}
	hot := 0
	for j := 0; j < 50; j++ {
		if c.Exists(ctx, "old:"+strconv.Itoa(j)).Val() == 1 {
			hot++
		}
	}
	if hot < 45 {
		t.Fatalf("only %d/50 recently used keys survived", hot)
	}
	info, _ = c.Info(ctx, "stats").Result()
	if infoInt(info, "evicted_keys") == 0 {
		t.Fatal("evicted_keys is 0")
	}
}

// TestMaxmemoryNoEviction: denyoom commands get OOM; reads still work.
func TestMaxmemoryNoEviction(t *testing.T) {
	addr, _ := startCrescent(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	info, _ := c.Info(ctx, "memory").Result()
	limit := infoInt(info, "used_memory") + 50*1024
	c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10))
	val := strings.Repeat("x", 1000)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = c.Set(ctx, "k"+strconv.Itoa(i), val, 0).Err()
	}
	if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
		t.Fatalf("got %v", err)
	}
	if err := c.Get(ctx, "k1").Err(); err != nil {
		t.Fatalf("read under OOM: %v", err)
	}
	if err := c.Del(ctx, "k1", "k2").Err(); err != nil {
		t.Fatalf("DEL under OOM: %v", err)
	}
}

func infoInt(info, field string) int64 {
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
