// Package procid tells which of the Go runtime's processors (Ps) the
// calling goroutine runs on, so that what every command writes (counters,
// pools, the running-scripts registry, the script cache's read lock) can
// be kept per processor: two cores writing one cache line pass it back and
// forth at every write, a cost no single-threaded profile shows and Redis,
// with one thread, never pays (docs/design/concurrency.md, "Shared
// lines").
//
// The processor is a hint: the goroutine may move to another one right
// after Slot returns. Everything built on it stays correct whichever slot
// a caller gets (atomic counters, a lock per slot); only the sharing of
// cache lines between cores depends on the hint being right, as it is
// but for a rare migration.
package procid

import (
	"sync"
	_ "unsafe" // go:linkname
)

// procPin and procUnpin are the runtime's (sync.Pool's per-P caches use
// them): the current P's id, with preemption held off until the unpin.
// The runtime keeps them reachable for packages outside the standard
// library (runtime/proc.go, go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// Slots is how many slots the striped structures have: a power of two, so
// that a P's id maps to a slot with a mask. Processors beyond it share
// slots, which is correct and merely shares lines again.
const Slots = 16

// Slot returns the slot of the processor the caller runs on: its id
// modulo Slots.
func Slot() int {
	p := procPin()
	procUnpin()
	return p & (Slots - 1)
}

// RWMutex is a reader/writer lock whose readers lock only their own
// processor's slot: a read lock and unlock write a line only that core
// uses, where sync.RWMutex's reader count is one line every core's
// readers write. A writer locks every slot, so writing costs Slots locks:
// it suits data read on every command and written rarely (the script
// cache). The zero value is unlocked.
type RWMutex struct {
	s [Slots]rwSlot
}

// rwSlot keeps each slot's lock on cache lines of its own whatever the
// array's alignment (128 bytes apart: two 64-byte lines).
type rwSlot struct {
	mu sync.RWMutex
	_  [128 - 24]byte
}

// RLock read-locks the caller's slot and returns it, for RUnlock.
func (m *RWMutex) RLock() int {
	i := Slot()
	m.s[i].mu.RLock()
	return i
}

// RUnlock undoes the RLock that returned slot i.
func (m *RWMutex) RUnlock(i int) { m.s[i].mu.RUnlock() }

// Lock locks every slot for writing, in order.
func (m *RWMutex) Lock() {
	for i := range m.s {
		m.s[i].mu.Lock()
	}
}

// Unlock undoes Lock.
func (m *RWMutex) Unlock() {
	for i := range m.s {
		m.s[i].mu.Unlock()
	}
}

// Pool holds idle values by processor: Put keeps a value in its caller's
// processor's slot, and Get takes from there first, so that a value (a Lua
// state, say) stays in one core's caches from call to call, and the two
// cores do not share one pool lock. The zero value is an empty pool.
type Pool[T any] struct {
	s [Slots]poolSlot[T]
}

// poolSlot is one processor's idle values, on cache lines of its own.
type poolSlot[T any] struct {
	mu   sync.Mutex
	free []T
	_    [128 - 8 - 24]byte
}

// Get takes an idle value: its processor's slot first, then the others
// from the first (processors' ids are small, so values are in the first
// slots). ok is false when the pool is empty.
func (p *Pool[T]) Get() (x T, ok bool) {
	i := Slot()
	for k := -1; k < Slots; k++ {
		j := k
		if k < 0 {
			j = i
		} else if k == i {
			continue
		}
		sl := &p.s[j]
		sl.mu.Lock()
		if n := len(sl.free); n > 0 {
			x = sl.free[n-1]
			var zero T
			sl.free[n-1] = zero
			sl.free = sl.free[:n-1]
			sl.mu.Unlock()
			return x, true
		}
		sl.mu.Unlock()
	}
	return x, false
}

// Put keeps x in its caller's processor's slot, unless that slot already
// holds max values (max 0: no limit); it reports whether it kept x.
func (p *Pool[T]) Put(x T, max int) bool {
	sl := &p.s[Slot()]
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if max > 0 && len(sl.free) >= max {
		return false
	}
	sl.free = append(sl.free, x)
	return true
}

// Drain empties the pool and returns what it held.
func (p *Pool[T]) Drain() []T {
	var out []T
	for i := range p.s {
		sl := &p.s[i]
		sl.mu.Lock()
		out = append(out, sl.free...)
		clear(sl.free)
		sl.free = sl.free[:0]
		sl.mu.Unlock()
	}
	return out
}

// Each calls fn with every idle value (tests, statistics); the pool must
// not be used meanwhile.
func (p *Pool[T]) Each(fn func(T)) {
	for i := range p.s {
		for _, x := range p.s[i].free {
			fn(x)
		}
	}
}
