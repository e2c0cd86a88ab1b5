//go:build linux

package server

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime"
	"slices"
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
			on := s.cfg.Bool("adaptive-procs")
			if on && ok {
				if poked {
					next = g.up(cur, smp)
				} else {
					next = g.next(cur, smp)
				}
			} else if on {
				next = cur
			}
			if next != cur {
				s.setProcs(next)
			}
			if on {
				s.procPokeAt.Store(g.pokeAt(next, last))
			} else {
				s.procPokeAt.Store(math.MaxInt64)
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
// time of the CPUs it may run on. /proc/stat gives idle time in 10 ms
// ticks, so over a short window it is off by up to a tick per CPU: on 2
// CPUs over 20 ms, idle comes in half-core steps. Where the kernel has a
// cpuidle driver, each CPU's idle states also count their time in µs
// (/sys/devices/system/cpu/cpuN/cpuidle/stateK/time), exact but updated
// only when the CPU leaves the state: an idle period still going on is
// missing from them and not from /proc/stat. So a CPU's idle time over a
// window is the cpuidle figure, or /proc/stat's less one tick when that
// is more (cpuIdle); without cpuidle files, /proc/stat's share of idle
// ticks as before.
type procSampler struct {
	cpus  []int        // the CPUs the process may run on (affinity)
	stat  *os.File     // /proc/stat
	idleF [][]*os.File // per CPU in cpus: its cpuidle states' time files; nil without
	buf   []byte
	at    int64 // mono ns of the last sample
	cpu   time.Duration
	// ticks and us: per CPU in cpus, idle ticks (/proc/stat idle +
	// iowait) and idle µs (cpuidle); all: every tick of the cpus.
	ticks, us []uint64
	// spare: the buffers of the next read (swapped with ticks and us)
	spareT, spareU []uint64
	all            uint64
	ok             bool // the fields above hold a sample
}

// maxIdleFiles bounds the cpuidle files a sampler keeps open (a few
// states per CPU): on bigger machines it reads /proc/stat only, where
// a tick is a smaller share of the CPUs.
const maxIdleFiles = 128

// userHZ is /proc/stat's tick rate (USER_HZ, 100 on Linux).
const userHZ = 100

func newProcSampler() (*procSampler, error) {
	p := &procSampler{buf: make([]byte, 0, 4096)}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	for id := 0; id < len(set)*64; id++ {
		if set.IsSet(id) {
			p.cpus = append(p.cpus, id)
		}
	}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return nil, err
	}
	p.stat = f
	p.ticks, p.spareT = make([]uint64, len(p.cpus)), make([]uint64, len(p.cpus))
	p.us, p.spareU = make([]uint64, len(p.cpus)), make([]uint64, len(p.cpus))
	if _, err := p.readStat(p.ticks); err != nil {
		f.Close()
		return nil, err
	}
	p.openIdle()
	return p, nil
}

// openIdle opens the cpuidle state time files of p.cpus, or none (every
// CPU must have them, and at most maxIdleFiles in all).
func (p *procSampler) openIdle() {
	var all [][]*os.File
	n := 0
	for _, id := range p.cpus {
		var fs []*os.File
		for k := 0; ; k++ {
			f, err := os.Open("/sys/devices/system/cpu/cpu" + strconv.Itoa(id) + "/cpuidle/state" + strconv.Itoa(k) + "/time")
			if err != nil {
				break
			}
			fs = append(fs, f)
		}
		n += len(fs)
		all = append(all, fs)
		if len(fs) == 0 || n > maxIdleFiles {
			closeAll(all)
			return
		}
	}
	p.idleF = all
	if p.readIdle(p.us) != nil {
		closeAll(p.idleF)
		p.idleF = nil
	}
}

func closeAll(fss [][]*os.File) {
	for _, fs := range fss {
		for _, f := range fs {
			f.Close()
		}
	}
}

// Close closes the files the sampler reads.
func (p *procSampler) Close() error {
	closeAll(p.idleF)
	return p.stat.Close()
}

// sample returns the window since the previous call; ok is false for
// the first call and after a read error.
func (p *procSampler) sample() (procSample, bool) {
	now := mono.Now()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	ticks := p.spareT
	all, err := p.readStat(ticks)
	var us []uint64
	if err == nil && p.idleF != nil {
		us = p.spareU
		err = p.readIdle(us)
	}
	if err != nil {
		p.ok = false
		return procSample{}, false
	}
	prevOK, prevAt, prevCPU, prevAll, prevTicks, prevUS := p.ok, p.at, p.cpu, p.all, p.ticks, p.us
	p.at, p.cpu, p.all, p.ok = now, cpu, all, true
	p.ticks, p.spareT = ticks, prevTicks
	if us != nil {
		p.us, p.spareU = us, prevUS
	}
	wall := time.Duration(now - prevAt)
	if !prevOK || all <= prevAll || wall <= 0 {
		return procSample{}, false
	}
	var idle float64
	if us == nil {
		// idle cores: the idle share of the ticks, times the CPUs counted
		var it uint64
		for i := range ticks {
			it += ticks[i] - prevTicks[i]
		}
		idle = float64(it) / float64(all-prevAll) * float64(len(p.cpus))
	} else {
		var d time.Duration
		for i := range ticks {
			d += cpuIdle(wall, time.Duration(us[i]-prevUS[i])*time.Microsecond, ticks[i]-prevTicks[i])
		}
		idle = float64(d) / float64(wall)
	}
	return procSample{now: now, wall: wall, cpu: cpu - prevCPU, idle: idle, exact: us != nil}, true
}

// cpuIdle is one CPU's idle time over a window of length wall, from its
// cpuidle states' time (exact, without an idle period still going on)
// and its /proc/stat idle ticks (with it, to a tick): the cpuidle figure,
// or the ticks' less one tick when that is more; at most wall.
func cpuIdle(wall, fromStates time.Duration, ticks uint64) time.Duration {
	d := fromStates
	if t := time.Duration(ticks)*(time.Second/userHZ) - time.Second/userHZ; t > d {
		d = t
	}
	return min(d, wall)
}

// readIdle reads each CPU's idle µs (the sum of its cpuidle states'
// time) into us.
func (p *procSampler) readIdle(us []uint64) error {
	var b [32]byte
	for i, fs := range p.idleF {
		us[i] = 0
		for _, f := range fs {
			n, err := f.ReadAt(b[:], 0)
			if n == 0 && err != nil {
				return err
			}
			v, err := strconv.ParseUint(string(bytes.TrimSpace(b[:n])), 10, 64)
			if err != nil {
				return err
			}
			us[i] += v
		}
	}
	return nil
}

// readStat reads /proc/stat: each CPU's idle ticks (idle + iowait) into
// ticks (by position in p.cpus), and returns the ticks of every kind of
// those CPUs summed.
func (p *procSampler) readStat(ticks []uint64) (all uint64, err error) {
	if _, err := p.stat.Seek(0, 0); err != nil {
		return 0, err
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
		if err != nil {
			continue
		}
		i, found := slices.BinarySearch(p.cpus, id)
		if !found {
			continue
		}
		ticks[i] = 0
		// user nice system idle iowait irq softirq steal (guest is in user)
		for k := 1; k < len(fields) && k <= 8; k++ {
			v, err := strconv.ParseUint(string(fields[k]), 10, 64)
			if err != nil {
				return 0, err
			}
			all += v
			if k == 4 || k == 5 {
				ticks[i] += v
			}
		}
	}
	if all == 0 {
		return 0, os.ErrInvalid
	}
	return all, nil
}
