package server_test

import (
	"strings"
	"testing"
	"time"
)

// evictionOutcome fills the output of a subscriber that never reads
// (noEvict: every client said CLIENT NO-EVICT ON), then sets maxmemory-clients
// below what it holds, and reports whether the server closed it, whether
// the publisher survived, and INFO's evicted_clients.
func evictionOutcome(t *testing.T, addr string, noEvict bool) (subGone, pubAlive bool, evicted string) {
	t.Helper()
	admin, pub, sub := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	admin.mustDo("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0") // only eviction closes it
	if noEvict {                                                                // everyone: else the others would go in its place
		for _, c := range []*rawConn{admin, pub, sub} {
			c.mustDo("CLIENT", "NO-EVICT", "ON")
		}
	}
	sub.mustDo("CLIENT", "SETNAME", "slowsub")
	sub.mustDo("SUBSCRIBE", "ch")
	msg := strings.Repeat("x", 100000)
	for i := 0; i < 100; i++ { // 10 MB: past the socket buffers
		pub.mustDo("PUBLISH", "ch", msg)
	}
	admin.mustDo("CONFIG", "SET", "maxmemory-clients", "2mb")
	deadline := time.Now().Add(1500 * time.Millisecond) // the cron runs every 100 ms
	for time.Now().Before(deadline) {
		if !strings.Contains(admin.mustDo("CLIENT", "LIST"), "name=slowsub") {
			subGone = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	pubAlive = pub.do("PING") == "+PONG\r\n"
	evicted = infoField(t, admin.dc, "stats", "evicted_clients")
	admin.mustDo("CONFIG", "SET", "maxmemory-clients", "0")
	return subGone, pubAlive, evicted
}

// TestClientEviction compares maxmemory-clients with redis-server: a
// subscriber holding megabytes of unread messages is evicted (counted in
// evicted_clients), the small clients stay, and CLIENT NO-EVICT protects
// it. maxmemory-clients was accepted and did nothing.
func TestClientEviction(t *testing.T) {
	for _, noEvict := range []bool{false, true} {
		redis := startRedis(t)
		cres, _ := startCrescent(t)
		rg, rp, re := evictionOutcome(t, redis, noEvict)
		cg, cp, ce := evictionOutcome(t, cres, noEvict)
		if rg != cg || rp != cp || re != ce {
			t.Errorf("no-evict %v: subscriber gone %v, publisher alive %v, evicted_clients %s; redis: %v %v %s",
				noEvict, cg, cp, ce, rg, rp, re)
		}
		if cg == noEvict {
			t.Errorf("no-evict %v: subscriber gone %v", noEvict, cg)
		}
	}
}
