package commands_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crescent-db/crescent/internal/difftest"
)

// startCrescent runs an in-process server on a free loopback port and
// returns its address; it stops when the test ends.
func startCrescent(t testing.TB) string {
	t.Helper()
	return difftest.StartCrescent(t).Addr
}

func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, PoolSize: 1,
		ReadTimeout: -1, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// waitBlocked waits until INFO reports n blocked clients.
func waitBlocked(t *testing.T, c *redis.Client, n int) {
	t.Helper()
	waitBlockedFn(t, c, func(b int) bool { return b == n })
}

func waitBlockedFn(t *testing.T, c *redis.Client, ok func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		info, err := c.Info(context.Background(), "clients").Result()
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(info, "blocked_clients:")
		num, _, _ := strings.Cut(rest, "\r\n")
		last, _ = strconv.Atoi(num)
		if ok(last) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("blocked_clients stuck at %d", last)
}

func TestBlockingPopFIFO(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl := newClient(t, addr)
	const n = 3
	results := make([]chan []string, n)
	for i := 0; i < n; i++ {
		results[i] = make(chan []string, 1)
		cl := newClient(t, addr)
		go func(i int) {
			v, err := cl.BLPop(ctx, 0, "k").Result()
			if err != nil {
				t.Error(err)
			}
			results[i] <- v
		}(i)
		waitBlocked(t, ctl, i+1) // arrival order is the order we started them
	}
	// one push serves every waiter, in arrival order
	if err := ctl.RPush(ctx, "k", "a", "b", "c", "d").Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"a", "b", "c"} {
		got := <-results[i]
		if len(got) != 2 || got[0] != "k" || got[1] != want {
			t.Errorf("client %d got %v, want [k %s]", i, got, want)
		}
	}
	if got := ctl.LRange(ctx, "k", 0, -1).Val(); len(got) != 1 || got[0] != "d" {
		t.Errorf("left over %v, want [d]", got)
	}
	waitBlocked(t, ctl, 0)
}

func TestBlockingPopOnePushAtATime(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl := newClient(t, addr)
	out := make(chan string, 3)
	for i := 0; i < 3; i++ {
		cl := newClient(t, addr)
		name := string(rune('A' + i))
		go func() {
			v, err := cl.BRPop(ctx, 0, "k1", "k2").Result()
			if err != nil {
				t.Error(err)
				out <- "err"
				return
			}
			out <- name + ":" + v[0] + "=" + v[1]
		}()
		waitBlocked(t, ctl, i+1)
	}
	ctl.LPush(ctx, "k2", "x")
	ctl.LPush(ctx, "k1", "y")
	ctl.LPush(ctx, "k2", "z")
	// Which client got which element shows the serving order; the order
	// in which the three goroutines report is up to the scheduler.
	got := map[string]bool{}
	for i := 0; i < 3; i++ {
		got[<-out] = true
	}
	for _, want := range []string{"A:k2=x", "B:k1=y", "C:k2=z"} {
		if !got[want] {
			t.Errorf("got %v, want %s among them", got, want)
		}
	}
}

func TestBlockingTimeout(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	cl := newClient(t, addr)
	start := time.Now()
	_, err := cl.Do(ctx, "BLPOP", "nokey", "0.15").Result()
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("BLPOP timeout: err %v, want redis.Nil", err)
	}
	if d := time.Since(start); d < 140*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
	// fractional seconds through the raw command
	v, err := cl.Do(ctx, "BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.05").Result()
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("BLMOVE timeout: %v %v", v, err)
	}
	if err := cl.Do(ctx, "BLPOP", "k", "-1").Err(); err == nil || err.Error() != "ERR timeout is negative" {
		t.Errorf("negative timeout: %v", err)
	}
	if err := cl.Do(ctx, "BLPOP", "k", "abc").Err(); err == nil || err.Error() != "ERR timeout is not a float or out of range" {
		t.Errorf("bad timeout: %v", err)
	}
	// the connection keeps working after a timeout
	if err := cl.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, cl, 0)
}

func TestBlockingMoveChain(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl := newClient(t, addr)
	a, b := newClient(t, addr), newClient(t, addr)
	moved := make(chan string, 1)
	popped := make(chan []string, 1)
	go func() { moved <- a.BRPopLPush(ctx, "src", "mid", 0).Val() }()
	waitBlocked(t, ctl, 1)
	go func() { popped <- b.BLPop(ctx, 0, "mid").Val() }()
	waitBlocked(t, ctl, 2)
	ctl.RPush(ctx, "src", "v")
	if got := <-moved; got != "v" {
		t.Errorf("BRPOPLPUSH got %q", got)
	}
	if got := <-popped; len(got) != 2 || got[1] != "v" {
		t.Errorf("BLPOP got %v", got)
	}
	if n := ctl.Exists(ctx, "src", "mid").Val(); n != 0 {
		t.Errorf("%d keys left", n)
	}
}

func TestBlockingMPopCount(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl, cl := newClient(t, addr), newClient(t, addr)
	got := make(chan any, 1)
	go func() { got <- cl.Do(ctx, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2").Val() }()
	waitBlocked(t, ctl, 1)
	ctl.RPush(ctx, "b", "1", "2", "3")
	v := <-got
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 || arr[0] != "b" {
		t.Fatalf("BLMPOP got %#v", v)
	}
	if els := arr[1].([]any); len(els) != 2 || els[0] != "3" || els[1] != "2" {
		t.Errorf("BLMPOP elements %#v", els)
	}
}

func TestBlockingWrongTypeKeepsWaiting(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl, cl := newClient(t, addr), newClient(t, addr)
	got := make(chan []string, 1)
	go func() { got <- cl.BLPop(ctx, 0, "k").Val() }()
	waitBlocked(t, ctl, 1)
	ctl.Set(ctx, "k", "str", 0)
	ctl.Del(ctx, "k")
	ctl.RPush(ctx, "k", "x")
	if v := <-got; len(v) != 2 || v[1] != "x" {
		t.Errorf("got %v", v)
	}
}

func TestClientUnblock(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl, cl := newClient(t, addr), newClient(t, addr)
	id := cl.ClientID(ctx).Val()
	for _, mode := range []string{"TIMEOUT", "ERROR", ""} {
		errc := make(chan error, 1)
		go func() { errc <- cl.BLPop(ctx, 0, "k").Err() }()
		waitBlocked(t, ctl, 1)
		if list := ctl.ClientList(ctx).Val(); !strings.Contains(list, "flags=b") {
			t.Errorf("CLIENT LIST has no blocked client: %s", list)
		}
		args := []any{"CLIENT", "UNBLOCK", id}
		if mode != "" {
			args = append(args, mode)
		}
		if n, err := ctl.Do(ctx, args...).Int(); n != 1 || err != nil {
			t.Fatalf("CLIENT UNBLOCK %s: %d %v", mode, n, err)
		}
		err := <-errc
		switch mode {
		case "ERROR":
			if err == nil || err.Error() != "UNBLOCKED client unblocked via CLIENT UNBLOCK" {
				t.Errorf("ERROR mode: %v", err)
			}
		default:
			if !errors.Is(err, redis.Nil) {
				t.Errorf("%q mode: %v", mode, err)
			}
		}
		waitBlocked(t, ctl, 0)
	}
	if n := ctl.Do(ctx, "CLIENT", "UNBLOCK", id).Val(); n != int64(0) {
		t.Errorf("unblocking a client not blocked: %v", n)
	}
	if err := ctl.Do(ctx, "CLIENT", "UNBLOCK", id, "FOO").Err(); err == nil ||
		err.Error() != "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR" {
		t.Errorf("bad reason: %v", err)
	}
}

func TestBlockingManyWaitersConcurrentPushers(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl := newClient(t, addr)
	const waiters, pushers = 20, 4
	var wg sync.WaitGroup
	got := make(chan string, waiters)
	for i := 0; i < waiters; i++ {
		cl := newClient(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := cl.BLPop(ctx, 5*time.Second, "q").Result()
			if err != nil {
				t.Error(err)
				return
			}
			got <- v[1]
		}()
	}
	// at least some are parked; the rest race the pushes
	waitBlockedFn(t, ctl, func(n int) bool { return n >= waiters/2 })
	for p := 0; p < pushers; p++ {
		cl := newClient(t, addr)
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for j := 0; j < waiters/pushers; j++ {
				cl.RPush(ctx, "q", string(rune('a'+p))+string(rune('a'+j)))
			}
		}(p)
	}
	wg.Wait()
	close(got)
	seen := map[string]bool{}
	for v := range got {
		if seen[v] {
			t.Errorf("%s served twice", v)
		}
		seen[v] = true
	}
	if len(seen) != waiters {
		t.Errorf("%d served, want %d", len(seen), waiters)
	}
	if n := ctl.LLen(ctx, "q").Val(); n != 0 {
		t.Errorf("%d left in q", n)
	}
}

// A blocked client that hangs up stops waiting, so a later push is not
// consumed by a dead connection.
func TestBlockedClientDisconnects(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl := newClient(t, addr)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n")); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, ctl, 1)
	nc.Close()
	waitBlocked(t, ctl, 0)
	ctl.RPush(ctx, "k", "v")
	if n := ctl.LLen(ctx, "k").Val(); n != 1 {
		t.Errorf("LLEN %d after the waiter left, want 1", n)
	}
}

// Commands pipelined after a blocking command run once it is served.
func TestBlockedClientPipeline(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	ctl := newClient(t, addr)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n"))
	waitBlocked(t, ctl, 1)
	nc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	time.Sleep(20 * time.Millisecond)
	ctl.RPush(ctx, "k", "v")
	want := "*2\r\n$1\r\nk\r\n$1\r\nv\r\n+PONG\r\n"
	buf := make([]byte, 0, 64)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(buf) < len(want) {
		tmp := make([]byte, 64)
		n, err := nc.Read(tmp)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, buf)
		}
		buf = append(buf, tmp[:n]...)
	}
	if string(buf) != want {
		t.Errorf("got %q, want %q", buf, want)
	}
}

// A push made by a script wakes a blocked client once the script ends.
func TestBlockedClientWokenByScript(t *testing.T) {
	addr := startCrescent(t)
	ctx := context.Background()
	waiter, pusher := newClient(t, addr), newClient(t, addr)
	got := make(chan []string, 1)
	go func() {
		v, err := waiter.BLPop(ctx, 5*time.Second, "q").Result()
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	waitBlocked(t, pusher, 1)
	if err := pusher.Eval(ctx, "redis.call('RPUSH', KEYS[1], 'a', 'b') return 1", []string{"q"}).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if strings.Join(v, ",") != "q,a" {
			t.Fatalf("BLPOP got %v", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the script's push did not wake the blocked client")
	}
	if n := pusher.LLen(ctx, "q").Val(); n != 1 {
		t.Fatalf("LLEN %d", n)
	}
}
