package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/server"
	"github.com/redis/go-redis/v9"
)

func goRedis(t *testing.T, addr string, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedisTxPipelined(t *testing.T) {
	addr, _ := startCrescent(t)
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ctx := context.Background()
			rdb := goRedis(t, addr, func(o *redis.Options) { o.Protocol = proto })
			var get *redis.StringCmd
			var exists *redis.IntCmd
			cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "txp:a", "1", 0)
				p.Set(ctx, "txp:b", "2", 0)
				get = p.Get(ctx, "txp:a")
				exists = p.Exists(ctx, "txp:a", "txp:b", "txp:c")
				p.Del(ctx, "txp:b")
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(cmds) != 5 || get.Val() != "1" || exists.Val() != 2 {
				t.Fatalf("cmds=%v get=%q exists=%d", cmds, get.Val(), exists.Val())
			}
			// a queued command with a wrong arity aborts the transaction
			_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "txp:c", "1", 0)
				p.Do(ctx, "get")
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), "EXECABORT") {
				t.Fatalf("want EXECABORT, got %v", err)
			}
			if n, _ := rdb.Exists(ctx, "txp:c").Result(); n != 0 {
				t.Fatal("aborted transaction wrote")
			}
		})
	}
}

// TestGoRedisWatchContention: racing clients increment one key with
// WATCH/GET/MULTI/SET/EXEC and retry on conflict; no increment is lost.
func TestGoRedisWatchContention(t *testing.T) {
	addr, _ := startCrescent(t)
	ctx := context.Background()
	rdb := goRedis(t, addr, func(o *redis.Options) { o.PoolSize = 25 })
	const key = "watch:counter"
	rdb.Del(ctx, key)
	const clients, incrs = 20, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	retries := 0
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < incrs; j++ {
				for {
					err := rdb.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, key).Int()
						if err != nil && !errors.Is(err, redis.Nil) {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, key, strconv.Itoa(n+1), 0)
							return nil
						})
						return err
					}, key)
					if errors.Is(err, redis.TxFailedErr) {
						mu.Lock()
						retries++
						mu.Unlock()
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := rdb.Get(ctx, key).Int()
	if err != nil || n != clients*incrs {
		t.Fatalf("counter = %d, %v; want %d", n, err, clients*incrs)
	}
	t.Logf("%d increments, %d retries", n, retries)
}

func TestGoRedisPubSub(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			// A server per protocol: the previous subscriber's close is
			// asynchronous and would still count as a receiver.
			addr, _ := startCrescent(t)
			ctx := context.Background()
			rdb := goRedis(t, addr, func(o *redis.Options) { o.Protocol = proto })
			pub := goRedis(t, addr)
			ps := rdb.Subscribe(ctx, "news", "sport")
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil { // first confirmation
				t.Fatal(err)
			}
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ps.PSubscribe(ctx, "new*"); err != nil {
				t.Fatal(err)
			}
			if m, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			} else if s, ok := m.(*redis.Subscription); !ok || s.Kind != "psubscribe" || s.Count != 3 {
				t.Fatalf("psubscribe confirmation %#v", m)
			}
			if n, err := pub.Publish(ctx, "news", "hello").Result(); err != nil || n != 2 {
				t.Fatalf("publish = %d, %v; want 2", n, err)
			}
			if n, _ := pub.Publish(ctx, "sport", "goal").Result(); n != 1 {
				t.Fatalf("publish sport = %d", n)
			}
			if n, _ := pub.Publish(ctx, "weather", "rain").Result(); n != 0 {
				t.Fatalf("publish weather = %d", n)
			}
			ch := ps.Channel()
			var got []string
			timeout := time.After(3 * time.Second)
			for len(got) < 3 {
				select {
				case m := <-ch:
					got = append(got, m.Pattern+"|"+m.Channel+"|"+m.Payload)
				case <-timeout:
					t.Fatalf("timeout, got %v", got)
				}
			}
			want := []string{"|news|hello", "new*|news|hello", "|sport|goal"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v want %v", got, want)
			}
			if n, _ := pub.PubSubNumSub(ctx, "news", "x").Result(); n["news"] != 1 || n["x"] != 0 {
				t.Fatalf("numsub %v", n)
			}
			if n, _ := pub.PubSubNumPat(ctx).Result(); n != 1 {
				t.Fatalf("numpat %d", n)
			}
			if err := ps.Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ps.PUnsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestClientListAndInfoCounts(t *testing.T) {
	addr, _ := startCrescent(t)
	sub := dialRaw(t, addr)
	sub.send("SUBSCRIBE", "a", "b")
	sub.read(time.Second)
	sub.read(time.Second)
	sub.do("PSUBSCRIBE", "p*")
	sub.do("SSUBSCRIBE", "s")
	c := dialRaw(t, addr)
	list := c.do("CLIENT", "LIST")
	if !strings.Contains(list, "flags=P db=0 sub=2 psub=1 ssub=1") {
		t.Fatalf("CLIENT LIST: %s", list)
	}
	info := c.do("INFO", "stats")
	for _, l := range []string{"pubsub_channels:2", "pubsub_patterns:1", "pubsubshard_channels:1"} {
		if !strings.Contains(info, l) {
			t.Fatalf("INFO lacks %s: %s", l, info)
		}
	}
	sub.do("RESET")
	if list := c.do("CLIENT", "LIST"); strings.Contains(list, "sub=2") {
		t.Fatalf("RESET kept subscriptions: %s", list)
	}
	if info := c.do("INFO", "stats"); !strings.Contains(info, "pubsub_channels:0") {
		t.Fatalf("INFO after RESET: %s", info)
	}
}

// TestSlowSubscriberDisconnected: a subscriber that never reads is
// disconnected by the pubsub output buffer limit and the server's memory
// stays bounded.
func TestSlowSubscriberDisconnected(t *testing.T) {
	addr, srv := startCrescent(t)
	_ = srv
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(encodeCmd([]string{"SUBSCRIBE", "flood"}))
	time.Sleep(50 * time.Millisecond) // subscribed; never read again

	ctx := context.Background()
	pub := goRedis(t, addr)
	payload := strings.Repeat("x", 1000)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	disconnectedAt := -1
	const batch = 1000
	for i := 0; i < 100000; i += batch {
		p := pub.Pipeline()
		for j := 0; j < batch; j++ {
			p.Publish(ctx, "flood", payload)
		}
		cmds, err := p.Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if disconnectedAt < 0 && cmds[len(cmds)-1].(*redis.IntCmd).Val() == 0 {
			disconnectedAt = i
		}
		if i%10000 == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if disconnectedAt < 0 {
		t.Fatal("slow subscriber was never disconnected")
	}
	runtime.GC()
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	t.Logf("disconnected after ~%d messages; heap in use: base %d MB, peak %d MB, end %d MB",
		disconnectedAt, base.HeapInuse>>20, peak>>20, end.HeapInuse>>20)
	// the hard limit is 32 MB of buffered output
	if peak > base.HeapInuse+80<<20 {
		t.Fatalf("heap grew to %d MB", peak>>20)
	}
	if end.HeapInuse > base.HeapInuse+16<<20 {
		t.Fatalf("heap not released: %d MB", end.HeapInuse>>20)
	}
	// the server dropped the client and its subscription
	if n, _ := pub.PubSubNumSub(ctx, "flood").Result(); n["flood"] != 0 {
		t.Fatalf("subscriber still registered: %v", n)
	}
	if list, _ := pub.ClientList(ctx).Result(); strings.Contains(list, "flags=P") || strings.Contains(list, "id=1 ") {
		t.Fatalf("subscriber still listed:\n%s", list)
	}
}

// TestPropagateUnit checks the propagation contract: a command alone is
// propagated as itself; an EXEC with more than one write is one Propagate
// call wrapped in MULTI/EXEC, with SELECTs when it changes database and a
// final SELECT restoring the unit's database.
func TestPropagateUnit(t *testing.T) {
	var mu sync.Mutex
	var got []string
	record := func(db int, cmds [][][]byte) {
		var parts []string
		for _, c := range cmds {
			var a []string
			for _, x := range c {
				a = append(a, string(x))
			}
			parts = append(parts, strings.Join(a, " "))
		}
		mu.Lock()
		got = append(got, fmt.Sprintf("db%d: %s", db, strings.Join(parts, " | ")))
		mu.Unlock()
	}
	addr, _ := startCrescentWith(t, func(s *server.Server) { s.Exec().Propagate, s.Exec().Propagating = record, nil })
	c := dialRaw(t, addr)
	tests := []struct {
		name string
		cmds [][]string
		want []string
	}{
		{"plain", [][]string{{"SET", "p:a", "1"}}, []string{"db0: SET p:a 1"}},
		{"no-op not propagated", [][]string{{"DEL", "p:none"}}, nil},
		{"multi single write", [][]string{{"MULTI"}, {"SET", "p:a", "2"}, {"GET", "p:a"}, {"EXEC"}},
			[]string{"db0: SET p:a 2"}},
		{"multi two writes", [][]string{{"MULTI"}, {"SET", "p:a", "3"}, {"DEL", "p:a"}, {"EXEC"}},
			[]string{"db0: MULTI | SET p:a 3 | DEL p:a | EXEC"}},
		{"multi across dbs", [][]string{{"MULTI"}, {"SET", "p:b", "1"}, {"SELECT", "2"}, {"SET", "p:b", "2"},
			{"SELECT", "0"}, {"EXEC"}},
			// the unit ends in database 2, as Redis's stream: the next
			// command of database 0 selects it again
			[]string{"db0: MULTI | SET p:b 1 | SELECT 2 | SET p:b 2 | EXEC"}},
		{"multi starting elsewhere", [][]string{{"MULTI"}, {"SELECT", "3"}, {"SET", "p:c", "1"}, {"SELECT", "0"}, {"EXEC"}},
			[]string{"db3: SET p:c 1"}},
		{"read-only multi", [][]string{{"MULTI"}, {"GET", "p:a"}, {"EXEC"}}, nil},
		{"discarded", [][]string{{"MULTI"}, {"SET", "p:a", "1"}, {"DISCARD"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			for _, cmd := range tt.cmds {
				c.do(cmd...)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("propagated %q, want %q", got, tt.want)
			}
		})
	}
}
