package persist

// min-replicas-to-write and replica-ignore-maxmemory: the Guard bits
// replication keeps up to date (exec/guard.go). See docs/design/
// persistence.md, "Replication: the gaps closed".

import (
	"strconv"
	"time"

	"github.com/crescent-db/crescent/internal/exec"
)

// startReplGuards hooks the options into the configuration and sets the
// bits for the starting configuration (Start).
func (m *Manager) startReplGuards() {
	for _, name := range []string{"min-replicas-to-write", "min-replicas-max-lag", "replica-ignore-maxmemory"} {
		m.cfg.OnChange(name, func(string) { m.refreshGoodReplicas() })
	}
	m.refreshGoodReplicas()
}

// refreshGoodReplicas is refreshGoodLocked with repl.mu taken.
func (m *Manager) refreshGoodReplicas() {
	m.repl.mu.Lock()
	m.refreshGoodLocked()
	m.repl.mu.Unlock()
}

// refreshGoodLocked counts the good replicas (online, acknowledged within
// min-replicas-max-lag seconds) as Redis's refreshGoodSlavesCount, and
// sets GuardNoReplicas on a master that has fewer than
// min-replicas-to-write, and GuardIgnoreMaxmemory on a replica with
// replica-ignore-maxmemory yes. Like Redis, it runs when a replica goes
// online or away, every second (pingReplicas), on CONFIG SET and on a
// change of role; an ACK alone does not change the count. Requires
// repl.mu.
func (m *Manager) refreshGoodLocked() {
	rp := &m.repl
	toWrite, maxLag := m.cfg.Int("min-replicas-to-write"), m.cfg.Int("min-replicas-max-lag")
	on := toWrite > 0 && maxLag > 0
	good := 0
	if on {
		now := time.Now().Unix()
		for _, r := range rp.replicas {
			if *r.state.Load() == replStateOnline && now-r.ackTime.Load()/1000 <= maxLag {
				good++
			}
		}
	}
	rp.good.Store(int64(good))
	replica := m.link.Load() != nil
	m.exec.SetGuard(exec.GuardNoReplicas, on && !replica && int64(good) < toWrite)
	m.exec.SetGuard(exec.GuardIgnoreMaxmemory, replica && m.cfg.Bool("replica-ignore-maxmemory"))
}

// goodReplicasInfo is INFO replication's min_slaves_good_slaves line, shown
// while both options are set ("" otherwise): the count of the last refresh,
// as Redis shows it.
func (m *Manager) goodReplicasInfo() string {
	if m.cfg.Int("min-replicas-to-write") == 0 || m.cfg.Int("min-replicas-max-lag") == 0 {
		return ""
	}
	return "min_slaves_good_slaves:" + strconv.FormatInt(m.repl.good.Load(), 10)
}
