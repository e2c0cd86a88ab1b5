package lua

import (
	"math"
	"unsafe"
)

// iface is an internal representation of the go-interface.
type iface struct {
	itab unsafe.Pointer
	word unsafe.Pointer
}

// CRESCENT: number boxing without the per-call scratch value.
//
// An LNumber stored in an LValue needs its float64 boxed somewhere. The
// allocator hands out slots of blocks of floats (one allocation per block)
// and builds the interface value on the caller's stack from the LNumber
// itab and the slot's address, instead of upstream's scratch LValue kept
// in the allocator (whose pointer store cost a write barrier per number
// while the GC runs).
//
// Integral numbers in [sharedMin, sharedMax] (signed zero excluded: -0
// must stay -0, it prints as "-0") point into one read-only table shared
// by all states, like upstream's preloads of 0..127 but wider: loop
// counters, lengths, indexes and small counters do not allocate at all.
// The table is a plain array of floats outside the heap: 8 bytes per
// value, never scanned by the GC.
const (
	sharedMin = -1024
	sharedMax = 16383
)

var sharedNumbers [sharedMax - sharedMin + 1]float64

// sharedValues holds the LValue of each shared number, ready to copy
// (building the interface costs more than loading it). CRESCENT
var sharedValues [len(sharedNumbers)]LValue

// numberItab is the itab word of an LValue holding an LNumber.
var numberItab unsafe.Pointer

func init() {
	for i := range sharedNumbers {
		sharedNumbers[i] = float64(i + sharedMin)
	}
	var v LValue = LNumber(1.5)
	numberItab = (*iface)(unsafe.Pointer(&v)).itab
	for i := range sharedNumbers {
		sharedValues[i] = numberValue(&sharedNumbers[i])
	}
}

// numberValue makes the LValue of the float at p (which must never change).
func numberValue(p *float64) LValue {
	var v LValue
	vi := (*iface)(unsafe.Pointer(&v))
	vi.itab = numberItab
	vi.word = unsafe.Pointer(p)
	return v
}

// sharedNumber returns the shared LValue of v, or nil when v is not an
// integer of the shared range (or is -0).
func sharedNumber(v LNumber) LValue {
	f := float64(v)
	i := int64(f) // NaN and out-of-range values fail the comparison below
	if u := uint64(i - sharedMin); float64(i) == f && u < uint64(len(sharedNumbers)) &&
		(i != 0 || math.Float64bits(f) == 0) {
		return sharedValues[u]
	}
	return nil
}

// allocator is a fast bulk memory allocator for the LValue.
type allocator struct {
	size  int
	fptrs []float64
}

func newAllocator(size int) *allocator {
	return &allocator{size: size}
}

// LNumber2I takes a number value and returns an interface LValue representing the same number.
// Converting an LNumber to a LValue naively, by doing:
// `var val LValue = myLNumber`
// will result in an individual heap alloc of 8 bytes for the float value. LNumber2I amortizes the cost and memory
// overhead of these allocs by allocating blocks of floats instead.
// The downside of this is that all of the floats on a given block have to become eligible for gc before the block
// as a whole can be gc-ed.
func (al *allocator) LNumber2I(v LNumber) LValue {
	if lv := sharedNumber(v); lv != nil {
		return lv
	}
	return al.box(v)
}

// box stores v in the next slot of the current block.
func (al *allocator) box(v LNumber) LValue {
	n := len(al.fptrs)
	if n == cap(al.fptrs) {
		al.fptrs = make([]float64, 0, al.size)
		n = 0
	}
	al.fptrs = al.fptrs[:n+1]
	p := &al.fptrs[n]
	*p = float64(v)
	return numberValue(p)
}

// NumberValue returns n as an LValue: the shared box of an integer of the
// shared range, or a new one. Hosts use it instead of LValue(n) where
// numbers are made often (command replies, tonumber). CRESCENT
func NumberValue(n LNumber) LValue {
	if lv := sharedNumber(n); lv != nil {
		return lv
	}
	return n
}
