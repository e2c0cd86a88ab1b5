package server

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// oomScorePath is the Linux file of the process's OOM-killer score
// adjustment; elsewhere it does not exist and oom-score-adj does nothing.
const oomScorePath = "/proc/self/oom_score_adj"

// oomScore is the state of Redis's setOOMScoreAdj: whether the server set
// the process's score, and the score it found before (restored when
// oom-score-adj goes back to no, and the base of relative values).
type oomScore struct {
	mu       sync.Mutex
	path     string // oomScorePath; tests may point it elsewhere
	adjusted bool
	base     int
}

// oom-score-adj-values' classes (Redis's CONFIG_OOM_*): Crescent has no
// background child, so the third value is never applied.
const (
	oomMaster = iota
	oomReplica
)

// applyOOMScore writes the process's OOM score as Redis 7.0's
// setOOMScoreAdj(-1) does at startup, at CONFIG SET oom-score-adj and
// oom-score-adj-values, and when the server becomes a replica or a
// master: with oom-score-adj relative (or yes) the class's value plus the
// score found before, with absolute the value, clamped to [-1000, 1000];
// back to no, the score found before. A failure is logged and returned
// (CONFIG SET then fails), as Redis.
func (s *Server) applyOOMScore() error {
	o := &s.oom
	o.mu.Lock()
	defer o.mu.Unlock()
	mode := s.cfg.Get("oom-score-adj")
	var val int
	switch {
	case mode != "no":
		if !o.adjusted {
			b, err := os.ReadFile(o.path)
			if err != nil {
				s.log.Warn("Unable to read oom_score_adj", "err", err)
				return errOOMScore
			}
			o.base, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			o.adjusted = true
		}
		class := oomMaster
		if _, _, ok := s.persist.IsReplica(); ok {
			class = oomReplica
		}
		vals := strings.Fields(s.cfg.Get("oom-score-adj-values"))
		if class < len(vals) {
			val, _ = strconv.Atoi(vals[class])
		}
		if mode == "relative" || mode == "yes" {
			val += o.base
		}
		val = min(max(val, -1000), 1000)
	case o.adjusted:
		o.adjusted = false
		val = o.base
	default:
		return nil
	}
	if err := os.WriteFile(o.path, []byte(fmt.Sprintf("%d\n", val)), 0o644); err != nil {
		s.log.Warn("Unable to write oom_score_adj", "err", err)
		return errOOMScore
	}
	return nil
}

// errOOMScore is CONFIG SET's error when the score could not be set.
var errOOMScore = errors.New("Failed to set current oom_score_adj. Check server logs.")

// setupOOMScore applies oom-score-adj now (on Linux) and whenever it, its
// values or the server's role change.
func (s *Server) setupOOMScore() {
	if s.oom.path == "" {
		s.oom.path = oomScorePath
	}
	if _, err := os.Stat(s.oom.path); err != nil {
		return // not Linux: no such file
	}
	s.cfg.OnApply([]string{"oom-score-adj", "oom-score-adj-values"}, s.applyOOMScore)
	s.persist.RoleChanged = func() { s.applyOOMScore() }
	s.applyOOMScore()
}
