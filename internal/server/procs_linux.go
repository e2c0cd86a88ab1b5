//go:build linux

package server

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/crescent-db/crescent/internal/mono"
)

// procGovernorOwner is the server whose governor sets GOMAXPROCS, which
// belongs to the whole process: with several servers in one process
// (tests), only the first one that asks governs.
var procGovernorOwner atomic.Pointer[Server]

// startProcGovernor runs the P-count governor (procs.go) while the event
// loops run, when adaptive-procs is yes and the process has two or more
// Ps. It returns the function that stops it and gives the process its Ps
// back.
func (s *Server) startProcGovernor() (stop func()) {
	maxP := runtime.GOMAXPROCS(0)
	s.procs.Store(int32(maxP))
	if s.loops == nil || maxP < 2 || !procGovernorOwner.CompareAndSwap(nil, s) {
		return func() {}
	}
	src := s.procSrc
	if src == nil {
		ps, err := newProcSampler()
		if err != nil {
			procGovernorOwner.Store(nil)
			s.log.Warn("adaptive-procs: no CPU statistics, keeping every P", "err", err)
			return func() {}
		}
		src = ps
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		g := &procGovernor{max: maxP}
		t := time.NewTicker(procWindow)
		defer t.Stop()
		src.sample() // the first window starts now
		last := mono.Now()
		for {
			poked := false
			select {
			case <-done:
				return
			case <-t.C:
			case <-s.procPoke:
				// a loop worker at one P took a whole batch: measure the
				// window so far, for going up only
				if mono.Now()-last < int64(procPokeMin) {
					continue
				}
				poked = true
			}
			cur := int(s.procs.Load())
			smp, ok := src.sample()
			last = mono.Now()
			next := maxP
			if s.cfg.Bool("adaptive-procs") {
				if !ok {
					continue
				}
				if poked {
					next = g.up(cur, smp)
				} else {
					next = g.next(cur, smp)
				}
			}
			if next != cur {
				s.setProcs(next)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		if c, ok := src.(interface{ Close() error }); ok {
			c.Close()
		}
		s.setProcs(maxP)
		procGovernorOwner.Store(nil)
	}
}

// setProcs sets GOMAXPROCS (a stop-the-world of 0.1–4 ms on the 2-core
// VM) and tells the event loops how to wait.
func (s *Server) setProcs(n int) {
	if int(s.procs.Load()) == n {
		return
	}
	s.procChanges.Add(1) // first: whoever sees the new count sees it counted
	// the workers wait in the netpoller with one P, by raw waits with
	// more (eventLoops.np): switched on before going down, off after going
	// up, so that no raw wait holds a lone P
	if n == 1 {
		s.loops.useNetpoll(true)
	}
	runtime.GOMAXPROCS(n)
	s.procs.Store(int32(n))
	if n > 1 {
		s.loops.useNetpoll(false)
	}
}

// procSource gives the governor its windows (procSampler; tests set
// their own with SetProcSource).
type procSource interface {
	// sample returns the window since the previous call; ok is false
	// when there is none (the first call, a read error).
	sample() (smp procSample, ok bool)
}

// procSampler measures the process's CPU time (getrusage) and the idle
// time of the CPUs it may run on (/proc/stat, their lines only).
type procSampler struct {
	cpus      unix.CPUSet
	stat      *os.File
	buf       []byte
	at        int64 // mono ns of the last sample
	cpu       time.Duration
	idle, all uint64 // ticks, summed over cpus
	ok        bool   // at, cpu, idle and all hold a sample
}

func newProcSampler() (*procSampler, error) {
	p := &procSampler{buf: make([]byte, 0, 4096)}
	if err := unix.SchedGetaffinity(0, &p.cpus); err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return nil, err
	}
	p.stat = f
	if _, _, err := p.read(); err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

// Close closes /proc/stat.
func (p *procSampler) Close() error { return p.stat.Close() }

// sample returns the window since the previous call; ok is false for
// the first call and after a read error.
func (p *procSampler) sample() (procSample, bool) {
	now := mono.Now()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	idle, all, err := p.read()
	if err != nil {
		p.ok = false
		return procSample{}, false
	}
	prev := *p
	p.at, p.cpu, p.idle, p.all, p.ok = now, cpu, idle, all, true
	if !prev.ok || all <= prev.all {
		return procSample{}, false
	}
	// idle cores: the idle share of the ticks, times the CPUs counted
	share := float64(idle-prev.idle) / float64(all-prev.all)
	return procSample{
		now:  now,
		wall: time.Duration(now - prev.at),
		cpu:  cpu - prev.cpu,
		idle: share * float64(p.cpus.Count()),
	}, true
}

// read sums the idle (idle + iowait) and all ticks of the CPUs in p.cpus.
func (p *procSampler) read() (idle, all uint64, err error) {
	if _, err := p.stat.Seek(0, 0); err != nil {
		return 0, 0, err
	}
	b := p.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := p.stat.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil || n == 0 {
			break
		}
	}
	p.buf = b
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("cpu")) || len(line) < 4 || line[3] < '0' || line[3] > '9' {
			continue
		}
		fields := bytes.Fields(line)
		id, err := strconv.Atoi(string(fields[0][3:]))
		if err != nil || !p.cpus.IsSet(id) {
			continue
		}
		// user nice system idle iowait irq softirq steal (guest is in user)
		for i := 1; i < len(fields) && i <= 8; i++ {
			v, err := strconv.ParseUint(string(fields[i]), 10, 64)
			if err != nil {
				return 0, 0, err
			}
			all += v
			if i == 4 || i == 5 {
				idle += v
			}
		}
	}
	if all == 0 {
		return 0, 0, os.ErrInvalid
	}
	return idle, all, nil
}
