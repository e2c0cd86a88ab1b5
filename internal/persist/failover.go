package persist

// FAILOVER, as Redis 7.0: the master pauses writes, waits for a replica
// to acknowledge its whole stream, then becomes that replica's replica
// with "PSYNC <replid> <offset> FAILOVER", which makes the target promote
// itself (REPLICAOF NO ONE) and continue the old master with +CONTINUE.

import (
	"errors"
	"time"
)

// Failover states, as INFO's master_failover_state names them.
const (
	failoverNone       = "no-failover"
	failoverWaitSync   = "waiting-for-sync"
	failoverInProgress = "failover-in-progress"
)

// FailoverRequest is a FAILOVER command's options.
type FailoverRequest struct {
	Host    string // TO host port ("": any replica that caught up)
	Port    int
	Timeout time.Duration // 0: none
	Force   bool
	// Pause holds clients' writes back; Unpause releases them.
	Pause, Unpause func()
}

// Failover errors (Redis 7.0 texts, without "ERR ").
var (
	ErrFailoverRunning   = errors.New("FAILOVER already in progress.")
	ErrFailoverNoReplica = errors.New("FAILOVER requires connected replicas.")
	ErrFailoverNotTarget = errors.New("FAILOVER target HOST and PORT is not a replica.")
	ErrFailoverOffline   = errors.New("FAILOVER target replica is not online.")
	ErrFailoverNone      = errors.New("No failover in progress.")
)

// failover is the running FAILOVER (Manager.fo, under Manager.foMu).
type failover struct {
	req   FailoverRequest
	abort chan struct{}
}

// FailoverState is INFO's master_failover_state.
func (m *Manager) FailoverState() string {
	if s := m.foState.Load(); s != nil {
		return *s
	}
	return failoverNone
}

func (m *Manager) setFailoverState(s string) { m.foState.Store(&s) }

// Failover starts FAILOVER on a master: it checks the target, pauses
// writes and returns; a goroutine runs the hand-over.
func (m *Manager) Failover(req FailoverRequest) error {
	m.foMu.Lock()
	defer m.foMu.Unlock()
	if m.fo != nil {
		return ErrFailoverRunning
	}
	reps := m.Replicas()
	if len(reps) == 0 {
		return ErrFailoverNoReplica
	}
	if req.Host != "" {
		found := false
		for _, r := range reps {
			if r.IP == req.Host && r.Port == req.Port {
				if r.State != replStateOnline {
					return ErrFailoverOffline
				}
				found = true
			}
		}
		if !found {
			return ErrFailoverNotTarget
		}
	}
	fo := &failover{req: req, abort: make(chan struct{})}
	m.fo = fo
	m.setFailoverState(failoverWaitSync)
	req.Pause()
	m.RequestAcks()
	go m.runFailover(fo)
	return nil
}

// AbortFailover is FAILOVER ABORT.
func (m *Manager) AbortFailover() error {
	m.foMu.Lock()
	defer m.foMu.Unlock()
	if m.fo == nil {
		return ErrFailoverNone
	}
	close(m.fo.abort)
	m.fo = nil // the goroutine ends the pause
	return nil
}

// runFailover waits for a replica to catch up, then hands over.
func (m *Manager) runFailover(fo *failover) {
	req := fo.req
	end := func(msg string) {
		m.foMu.Lock()
		if m.fo == fo {
			m.fo = nil
		}
		m.foMu.Unlock()
		m.setFailoverState(failoverNone)
		req.Unpause()
		m.log.Info(msg)
	}
	var deadline <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	host, port := req.Host, req.Port
	for host == "" || !m.caughtUp(host, port) {
		if req.Host == "" {
			if h, p, ok := m.caughtUpReplica(); ok {
				host, port = h, p
				break
			}
		}
		select {
		case <-fo.abort:
			end("FAILOVER aborted")
			return
		case <-deadline:
			if req.Force && req.Host != "" {
				m.log.Warn("FAILOVER timed out: forcing the hand-over")
				deadline = nil
				goto handover
			}
			end("FAILOVER to a replica timed out: aborted")
			return
		case <-tick.C:
		}
	}
handover:
	m.setFailoverState(failoverInProgress)
	m.log.Info("FAILOVER: the target caught up, becoming its replica", "host", host, "port", port)
	m.replicaOf(host, port, true)
	// the hand-over is done when the link to the new master is up; a
	// refused PSYNC FAILOVER turns this server back into a master
	for {
		l := m.link.Load()
		if l == nil {
			end("FAILOVER aborted")
			return
		}
		if l.State() == linkConnected {
			end("FAILOVER done: now a replica of the promoted replica")
			return
		}
		if l.failoverRefused.Load() {
			m.ReplicaOfNoOne()
			end("FAILOVER aborted: the target refused PSYNC FAILOVER")
			return
		}
		select {
		case <-fo.abort:
			m.ReplicaOfNoOne()
			end("FAILOVER aborted")
			return
		case <-tick.C:
		}
	}
}

// caughtUp reports whether the replica at host:port acknowledged the
// whole stream.
func (m *Manager) caughtUp(host string, port int) bool {
	off := m.ReplOffset()
	for _, r := range m.Replicas() {
		if r.IP == host && r.Port == port && r.State == replStateOnline && r.Offset >= off {
			return true
		}
	}
	return false
}

// caughtUpReplica returns a replica that acknowledged the whole stream.
func (m *Manager) caughtUpReplica() (string, int, bool) {
	off := m.ReplOffset()
	for _, r := range m.Replicas() {
		if r.State == replStateOnline && r.Offset >= off {
			return r.IP, r.Port, true
		}
	}
	return "", 0, false
}
