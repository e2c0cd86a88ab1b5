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
