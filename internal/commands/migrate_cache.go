package commands

import (
	"bufio"
	"net"
	"sync"
	"time"
)

const (
	// migrateCacheMax is how many target connections MIGRATE keeps
	// (Redis's MIGRATE_SOCKET_CACHE_ITEMS): a new target past it closes
	// one of them.
	migrateCacheMax = 64
	// migrateCacheTTL is how long an unused connection is kept (Redis's
	// MIGRATE_SOCKET_CACHE_TTL, checked once a second, so a connection
	// goes after more than 10 s without use).
	migrateCacheTTL = 10 * time.Second
)

// migrateConn is a connection to a MIGRATE target.
type migrateConn struct {
	conn    net.Conn
	rd      *bufio.Reader
	lastDB  int64     // the database selected on it, -1 for none yet
	lastUse time.Time // when a MIGRATE last took it
}

// migrateCache holds MIGRATE's connections by "host:port" as Redis's
// server.migrate_cached_sockets does: a MIGRATE reuses the target's
// connection (and sends SELECT only when it changes the database), and
// Cron closes the connections unused for more than migrateCacheTTL. A
// MIGRATE takes its connection out while it uses it, so that two running
// at once on different cores never share one.
type migrateCache struct {
	mu    sync.Mutex
	conns map[string]*migrateConn
}

// get returns the cached connection to addr (taken out of the cache) or
// dials a new one within timeout.
func (m *migrateCache) get(addr string, timeout time.Duration, now time.Time) (*migrateConn, error) {
	m.mu.Lock()
	mc := m.conns[addr]
	delete(m.conns, addr)
	m.mu.Unlock()
	if mc != nil {
		mc.lastUse = now
		return mc, nil
	}
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &migrateConn{conn: conn, rd: bufio.NewReader(conn), lastDB: -1, lastUse: now}, nil
}

// put gives mc back to the cache after a MIGRATE that left it usable. A
// full cache first closes one of its connections, as Redis closes a
// random one; a connection cached meanwhile by another MIGRATE to the same
// target is kept and mc closed.
func (m *migrateCache) put(addr string, mc *migrateConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns == nil {
		m.conns = make(map[string]*migrateConn)
	}
	if _, ok := m.conns[addr]; ok {
		mc.conn.Close()
		return
	}
	if len(m.conns) >= migrateCacheMax {
		for a, old := range m.conns { // map order: any one of them
			old.conn.Close()
			delete(m.conns, a)
			break
		}
	}
	m.conns[addr] = mc
}

// count is INFO's migrate_cached_sockets.
func (m *migrateCache) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.conns)
}

// expire closes the connections unused for more than migrateCacheTTL.
func (m *migrateCache) expire(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for a, mc := range m.conns {
		if now.Sub(mc.lastUse) > migrateCacheTTL {
			mc.conn.Close()
			delete(m.conns, a)
		}
	}
}

// closeAll closes every cached connection (the server stops).
func (m *migrateCache) closeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for a, mc := range m.conns {
		mc.conn.Close()
		delete(m.conns, a)
	}
}
