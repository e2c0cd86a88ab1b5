package commands

import (
	"net"
	"testing"
	"time"
)

// TestMigrateCacheExpiry checks the cache's rules with a moved clock: a
// connection is kept for 10 s after its last use (Redis's
// MIGRATE_SOCKET_CACHE_TTL) and closed after that, a cached connection is
// handed out once, and the cache holds at most 64 of them.
func TestMigrateCacheExpiry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	addr := ln.Addr().String()
	var m migrateCache
	t0 := time.Unix(1000, 0)

	mc, err := m.get(addr, time.Second, t0)
	if err != nil {
		t.Fatal(err)
	}
	if mc.lastDB != -1 {
		t.Fatalf("a new connection has database %d, want -1", mc.lastDB)
	}
	mc.lastDB = 9
	m.put(addr, mc)
	if n := m.count(); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}
	// taken out while in use: a second MIGRATE to the same target dials
	got, err := m.get(addr, time.Second, t0.Add(5*time.Second))
	if err != nil || got != mc || m.count() != 0 {
		t.Fatalf("get = %p, %v (count %d), want the cached %p", got, err, m.count(), mc)
	}
	other, err := m.get(addr, time.Second, t0.Add(5*time.Second))
	if err != nil || other == mc {
		t.Fatalf("a second get = %p, %v: want a new connection", other, err)
	}
	m.put(addr, mc)
	m.put(addr, other) // the target has one already: other is closed
	if n := m.count(); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}
	// kept 10 s after its last use (t0+5s), closed after
	m.expire(t0.Add(15 * time.Second))
	if n := m.count(); n != 1 {
		t.Fatalf("count after 10 s = %d, want 1", n)
	}
	m.expire(t0.Add(15*time.Second + time.Millisecond))
	if n := m.count(); n != 0 {
		t.Fatalf("count after more than 10 s = %d, want 0", n)
	}
	if _, err := mc.conn.Write([]byte("x")); err == nil {
		t.Fatal("the expired connection is still open")
	}

	// at most migrateCacheMax connections
	for i := 0; i < migrateCacheMax+3; i++ {
		c, err := m.get(addr, time.Second, t0)
		if err != nil {
			t.Fatal(err)
		}
		m.put(addr+"/"+string(rune('A'+i)), c) // distinct cache names
	}
	if n := m.count(); n != migrateCacheMax {
		t.Fatalf("count = %d, want %d", n, migrateCacheMax)
	}
	m.closeAll()
	if n := m.count(); n != 0 {
		t.Fatalf("count after closeAll = %d", n)
	}
}
