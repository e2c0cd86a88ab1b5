//go:build linux

package server

import (
	"os"
	"time"

	"github.com/crescent-db/crescent/internal/mono"
)

// SetLoopRawWait sets how long the watching loop worker blocks in a raw
// epoll_pwait(2) (eventLoops.rawWait) before the server starts; negative:
// never.
func SetLoopRawWait(s *Server, d time.Duration) { s.loopRawWait = d }

// LoopEpollFD returns the loops' epoll descriptor (-1 when event-loop is
// off).
func LoopEpollFD(s *Server) int {
	if s.loops == nil {
		return -1
	}
	return s.loops.epfd
}

// ProcWindow is what a test's SetProcSource function returns for one
// window of the P-count governor: the process's CPU use and the
// machine's idle CPU, in cores.
type ProcWindow struct{ Busy, Idle float64 }

type fnProcSource func() (ProcWindow, bool)

func (f fnProcSource) sample() (procSample, bool) {
	w, ok := f()
	if !ok {
		return procSample{}, false
	}
	now := mono.Now()
	return procSample{now: now, wall: procWindow, cpu: time.Duration(w.Busy * float64(procWindow)), idle: w.Idle}, true
}

// SetProcSource makes the P-count governor read its windows from f
// instead of the machine's statistics (before the server starts).
func SetProcSource(s *Server, f func() (ProcWindow, bool)) { s.procSrc = fnProcSource(f) }

// ProcChanges returns how many times the governor changed GOMAXPROCS.
func ProcChanges(s *Server) int64 { return s.procChanges.Load() }

// SampleProcs takes two windows of the machine's statistics, d apart,
// running work between them, and returns the second.
func SampleProcs(d time.Duration, work func()) (ProcWindow, time.Duration, error) {
	p, err := newProcSampler()
	if err != nil {
		return ProcWindow{}, 0, err
	}
	p.sample()
	work()
	time.Sleep(d)
	smp, ok := p.sample()
	if !ok {
		return ProcWindow{}, 0, os.ErrInvalid
	}
	return ProcWindow{Busy: float64(smp.cpu) / float64(smp.wall), Idle: smp.idle}, smp.wall, nil
}

// LoopNetpoll reports whether the loop workers wait in Go's netpoller
// (a single P) rather than by raw waits.
// Call it after a command got its reply: the client's registration under
// s.mu orders the loops' start before this read.
func LoopNetpoll(s *Server) bool {
	s.mu.Lock()
	ls := s.loops
	s.mu.Unlock()
	return ls != nil && ls.np.Load() != nil
}

// CPUIdle is cpuIdle: one CPU's idle time over a window.
func CPUIdle(wall, fromStates time.Duration, ticks uint64) time.Duration {
	return cpuIdle(wall, fromStates, ticks)
}
