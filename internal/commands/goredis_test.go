package commands_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crescent-db/crescent/internal/difftest"
)

// newClients starts Crescent and returns go-redis clients speaking RESP2
// and RESP3 to it.
func newClients(t *testing.T) map[string]*redis.Client {
	t.Helper()
	s := difftest.StartCrescent(t)
	out := map[string]*redis.Client{}
	for name, proto := range map[string]int{"resp2": 2, "resp3": 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: proto, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		out[name] = c
	}
	return out
}

func eachClient(t *testing.T, fn func(t *testing.T, ctx context.Context, c *redis.Client)) {
	for name, c := range newClients(t) {
		c := c
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			fn(t, ctx, c)
		})
	}
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGoRedisStrings(t *testing.T) {
	eachClient(t, func(t *testing.T, ctx context.Context, c *redis.Client) {
		noErr(t, c.Set(ctx, "k", "v", 0).Err())
		check(t, "GET", c.Get(ctx, "k").Val(), "v")
		_, err := c.Get(ctx, "nokey").Result()
		check(t, "GET missing", err, redis.Nil)

		noErr(t, c.Set(ctx, "e", "v", 100*time.Second).Err())
		if ttl := c.TTL(ctx, "e").Val(); ttl < 99*time.Second || ttl > 100*time.Second {
			t.Errorf("TTL = %v", ttl)
		}
		noErr(t, c.SetArgs(ctx, "e", "v2", redis.SetArgs{KeepTTL: true}).Err())
		if ttl := c.TTL(ctx, "e").Val(); ttl <= 0 {
			t.Errorf("KEEPTTL lost the TTL: %v", ttl)
		}
		old, err := c.SetArgs(ctx, "e", "v3", redis.SetArgs{Get: true}).Result()
		noErr(t, err)
		check(t, "SET GET", old, "v2")
		check(t, "SETNX existing", c.SetNX(ctx, "k", "x", 0).Val(), false)
		check(t, "SETNX new", c.SetNX(ctx, "n", "x", 0).Val(), true)
		check(t, "SET XX missing", c.SetXX(ctx, "missing", "x", 0).Val(), false)
		noErr(t, c.SetEx(ctx, "se", "v", time.Minute).Err())
		check(t, "GETSET", c.GetSet(ctx, "k", "v2").Val(), "v")
		check(t, "GETDEL", c.GetDel(ctx, "k").Val(), "v2")
		check(t, "EXISTS after GETDEL", c.Exists(ctx, "k").Val(), int64(0))
		check(t, "GETEX EX", c.GetEx(ctx, "se", time.Hour).Val(), "v")
		check(t, "TTL after GETEX EX", c.TTL(ctx, "se").Val(), time.Hour)
		check(t, "GETEX PERSIST", c.GetEx(ctx, "se", 0).Val(), "v") // 0 sends PERSIST
		check(t, "TTL after GETEX PERSIST", c.TTL(ctx, "se").Val(), time.Duration(-1))

		noErr(t, c.MSet(ctx, "a", "1", "b", "2").Err())
		vals := c.MGet(ctx, "a", "b", "nokey").Val()
		if len(vals) != 3 || vals[0] != "1" || vals[1] != "2" || vals[2] != nil {
			t.Errorf("MGET = %#v", vals)
		}
		check(t, "MSETNX", c.MSetNX(ctx, "a", "x", "z", "y").Val(), false)
		check(t, "APPEND", c.Append(ctx, "s", "hello").Val(), int64(5))
		check(t, "APPEND", c.Append(ctx, "s", " world").Val(), int64(11))
		check(t, "STRLEN", c.StrLen(ctx, "s").Val(), int64(11))
		check(t, "GETRANGE", c.GetRange(ctx, "s", -5, -1).Val(), "world")
		check(t, "SETRANGE", c.SetRange(ctx, "s", 6, "Redis").Val(), int64(11))
		check(t, "GET", c.Get(ctx, "s").Val(), "hello Redis")

		check(t, "INCR", c.Incr(ctx, "cnt").Val(), int64(1))
		check(t, "INCRBY", c.IncrBy(ctx, "cnt", 41).Val(), int64(42))
		check(t, "DECR", c.Decr(ctx, "cnt").Val(), int64(41))
		check(t, "DECRBY", c.DecrBy(ctx, "cnt", 40).Val(), int64(1))
		_, err = c.Incr(ctx, "s").Result()
		check(t, "INCR on text", err.Error(), "ERR value is not an integer or out of range")
		noErr(t, c.Set(ctx, "f", "10.5", 0).Err())
		check(t, "INCRBYFLOAT", c.IncrByFloat(ctx, "f", 0.1).Val(), 10.6)
		check(t, "GET float", c.Get(ctx, "f").Val(), "10.6")

		noErr(t, c.MSet(ctx, "l1", "ohmytext", "l2", "mynewtext").Err())
		lcs, err := c.LCS(ctx, &redis.LCSQuery{Key1: "l1", Key2: "l2"}).Result()
		noErr(t, err)
		check(t, "LCS", lcs.MatchString, "mytext")
		lcs, err = c.LCS(ctx, &redis.LCSQuery{Key1: "l1", Key2: "l2", Len: true}).Result()
		noErr(t, err)
		check(t, "LCS LEN", lcs.Len, int64(6))
		lcs, err = c.LCS(ctx, &redis.LCSQuery{Key1: "l1", Key2: "l2", Idx: true, WithMatchLen: true, MinMatchLen: 4}).Result()
		noErr(t, err)
		check(t, "LCS IDX len", lcs.Len, int64(6))
		if len(lcs.Matches) != 1 || lcs.Matches[0].Key1.Start != 4 || lcs.Matches[0].Key2.End != 8 || lcs.Matches[0].MatchLen != 4 {
			t.Errorf("LCS IDX matches = %+v", lcs.Matches)
		}
	})
}

func TestGoRedisKeys(t *testing.T) {
	eachClient(t, func(t *testing.T, ctx context.Context, c *redis.Client) {
		for i := 0; i < 50; i++ {
			noErr(t, c.Set(ctx, "key:"+string(rune('a'+i%26))+string(rune('0'+i/26)), i, 0).Err())
		}
		noErr(t, c.Set(ctx, "other", 1, 0).Err())
		check(t, "DBSIZE", c.DBSize(ctx).Val(), int64(51))
		keys := c.Keys(ctx, "key:*").Val()
		check(t, "KEYS count", len(keys), 50)

		var scanned []string
		it := c.Scan(ctx, 0, "key:*", 7).Iterator()
		for it.Next(ctx) {
			scanned = append(scanned, it.Val())
		}
		noErr(t, it.Err())
		sort.Strings(scanned)
		sort.Strings(keys)
		check(t, "SCAN == KEYS", len(scanned), len(keys))
		for i := range keys {
			if i < len(scanned) && scanned[i] != keys[i] {
				t.Fatalf("SCAN and KEYS differ at %d: %q vs %q", i, scanned[i], keys[i])
			}
		}
		typed, _, err := c.ScanType(ctx, 0, "", 1000, "string").Result()
		noErr(t, err)
		check(t, "SCAN TYPE string", len(typed), 51)

		check(t, "TYPE", c.Type(ctx, "other").Val(), "string")
		check(t, "TYPE none", c.Type(ctx, "nokey").Val(), "none")
		check(t, "EXISTS", c.Exists(ctx, "other", "other", "nokey").Val(), int64(2))
		check(t, "TOUCH", c.Touch(ctx, "other", "nokey").Val(), int64(1))
		noErr(t, c.Rename(ctx, "other", "renamed").Err())
		check(t, "RENAMENX", c.RenameNX(ctx, "renamed", "key:a0").Val(), false)
		err = c.Rename(ctx, "nokey", "x").Err()
		check(t, "RENAME missing", err.Error(), "ERR no such key")
		check(t, "COPY", c.Copy(ctx, "renamed", "copied", 0, false).Val(), int64(1))
		check(t, "COPY exists", c.Copy(ctx, "renamed", "copied", 0, false).Val(), int64(0))
		check(t, "COPY DB", c.Copy(ctx, "renamed", "copied", 2, false).Val(), int64(1))
		check(t, "MOVE", c.Move(ctx, "copied", 3).Val(), true)
		check(t, "OBJECT ENCODING", c.ObjectEncoding(ctx, "renamed").Val(), "int")
		noErr(t, c.Set(ctx, "str", "hello", 0).Err())
		check(t, "OBJECT ENCODING embstr", c.ObjectEncoding(ctx, "str").Val(), "embstr")
		if k := c.RandomKey(ctx).Val(); k == "" {
			t.Error("RANDOMKEY returned nothing")
		}
		check(t, "DEL", c.Del(ctx, "renamed", "str", "nokey").Val(), int64(2))
		check(t, "UNLINK", c.Unlink(ctx, "key:a0").Val(), int64(1))
		noErr(t, c.FlushDB(ctx).Err())
		check(t, "DBSIZE after FLUSHDB", c.DBSize(ctx).Val(), int64(0))
		_, err = c.RandomKey(ctx).Result()
		check(t, "RANDOMKEY empty", err, redis.Nil)
	})
}

func TestGoRedisExpire(t *testing.T) {
	eachClient(t, func(t *testing.T, ctx context.Context, c *redis.Client) {
		noErr(t, c.Set(ctx, "k", "v", 0).Err())
		check(t, "TTL none", c.TTL(ctx, "k").Val(), time.Duration(-1))
		check(t, "TTL missing", c.TTL(ctx, "nokey").Val(), time.Duration(-2))
		check(t, "EXPIRE XX no ttl", c.ExpireXX(ctx, "k", time.Minute).Val(), false)
		check(t, "EXPIRE NX", c.ExpireNX(ctx, "k", time.Minute).Val(), true)
		check(t, "EXPIRE NX again", c.ExpireNX(ctx, "k", time.Hour).Val(), false)
		check(t, "EXPIRE GT", c.ExpireGT(ctx, "k", time.Hour).Val(), true)
		check(t, "EXPIRE LT bigger", c.ExpireLT(ctx, "k", 2*time.Hour).Val(), false)
		check(t, "PEXPIRE", c.PExpire(ctx, "k", 90*time.Second).Val(), true)
		if ttl := c.PTTL(ctx, "k").Val(); ttl <= 89*time.Second || ttl > 90*time.Second {
			t.Errorf("PTTL = %v", ttl)
		}
		at := time.Now().Add(time.Hour).Truncate(time.Second)
		check(t, "EXPIREAT", c.ExpireAt(ctx, "k", at).Val(), true)
		check(t, "EXPIRETIME", c.ExpireTime(ctx, "k").Val(), time.Duration(at.Unix())*time.Second)
		check(t, "PEXPIREAT", c.PExpireAt(ctx, "k", at.Add(123*time.Millisecond)).Val(), true)
		check(t, "PEXPIRETIME", c.PExpireTime(ctx, "k").Val(), time.Duration(at.UnixMilli()+123)*time.Millisecond)
		check(t, "PERSIST", c.Persist(ctx, "k").Val(), true)
		check(t, "PERSIST again", c.Persist(ctx, "k").Val(), false)
		err := c.Do(ctx, "EXPIRE", "k", 10, "NX", "XX").Err()
		check(t, "EXPIRE NX XX", err.Error(), "ERR NX and XX, GT or LT options at the same time are not compatible")
		check(t, "EXPIRE past deletes", c.Expire(ctx, "k", -time.Second).Val(), true)
		check(t, "EXISTS", c.Exists(ctx, "k").Val(), int64(0))

		noErr(t, c.Set(ctx, "short", "v", 30*time.Millisecond).Err())
		time.Sleep(60 * time.Millisecond)
		_, err = c.Get(ctx, "short").Result()
		check(t, "GET expired", err, redis.Nil)
	})
}

// TestActiveExpire checks that keys nobody reads are reclaimed by the
// server's cron: DBSIZE counts keys not yet reclaimed, as Redis's does.
func TestActiveExpire(t *testing.T) {
	s := difftest.StartCrescent(t, "--hz", "50")
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	defer c.Close()
	ctx := context.Background()
	pipe := c.Pipeline()
	for i := 0; i < 500; i++ {
		pipe.Set(ctx, "vol:"+itoa(i), "v", 20*time.Millisecond)
	}
	pipe.Set(ctx, "keep", "v", 0)
	_, err := pipe.Exec(ctx)
	noErr(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := c.DBSize(ctx).Val()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DBSIZE still %d after 5s: active expiry did not reclaim keys", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(t, "kept key", c.Get(ctx, "keep").Val(), "v")
	info := c.Info(ctx, "stats").Val()
	if !strings.Contains(info, "expired_keys:500") {
		t.Errorf("INFO stats does not count 500 expired keys:\n%s", info)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
