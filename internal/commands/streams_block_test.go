package commands_test

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// End-to-end blocking reads: XREAD and XREADGROUP parked in the executor,
// woken by XADD from clients and from scripts, and timing out.
func TestStreamBlockingReads(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	admin := newClient(t, addr)

	t.Run("XREAD $ woken by a client XADD", func(t *testing.T) {
		reader := newClient(t, addr)
		got := make(chan []redis.XStream, 1)
		go func() {
			v, err := reader.XRead(ctx, &redis.XReadArgs{Streams: []string{"s1", "$"}, Block: 0}).Result()
			if err != nil {
				t.Error(err)
			}
			got <- v
		}()
		waitBlocked(t, admin, 1)
		if err := admin.XAdd(ctx, &redis.XAddArgs{Stream: "s1", ID: "1-1", Values: []string{"f", "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-got:
			if len(v) != 1 || len(v[0].Messages) != 1 || v[0].Messages[0].ID != "1-1" {
				t.Fatalf("XREAD got %+v", v)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("XREAD not woken")
		}
	})

	t.Run("XREAD times out", func(t *testing.T) {
		reader := newClient(t, addr)
		start := time.Now()
		_, err := reader.XRead(ctx, &redis.XReadArgs{Streams: []string{"s1", "$"}, Block: 150 * time.Millisecond}).Result()
		if !errors.Is(err, redis.Nil) {
			t.Fatalf("want nil reply, got %v", err)
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("returned after %v", d)
		}
	})

	t.Run("XREADGROUP consumers woken by a script", func(t *testing.T) {
		if err := admin.XGroupCreateMkStream(ctx, "s2", "g", "$").Err(); err != nil {
			t.Fatal(err)
		}
		ids := make(chan string, 2)
		for _, name := range []string{"c1", "c2"} {
			c := newClient(t, addr)
			go func(name string) {
				v, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: name,
					Streams: []string{"s2", ">"}, Count: 1, Block: 5 * time.Second}).Result()
				if err != nil || len(v) != 1 || len(v[0].Messages) != 1 {
					t.Errorf("%s: %v %+v", name, err, v)
					ids <- ""
					return
				}
				ids <- v[0].Messages[0].ID
			}(name)
		}
		waitBlocked(t, admin, 2)
		err := admin.Eval(ctx, "redis.call('XADD', KEYS[1], '5-1', 'f', 'a') redis.call('XADD', KEYS[1], '5-2', 'f', 'b') return 1",
			[]string{"s2"}).Err()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := 0; i < 2; i++ {
			select {
			case id := <-ids:
				got = append(got, id)
			case <-time.After(5 * time.Second):
				t.Fatal("consumer not woken by the script's XADD")
			}
		}
		sort.Strings(got)
		if got[0] != "5-1" || got[1] != "5-2" {
			t.Fatalf("consumers got %v, want each entry once", got)
		}
		if n := admin.XPending(ctx, "s2", "g").Val().Count; n != 2 {
			t.Fatalf("pending %d", n)
		}
	})
}
