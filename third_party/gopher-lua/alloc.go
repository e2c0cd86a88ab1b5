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

// numberItab is the itab word of an LValue holding an LNumber.
var numberItab unsafe.Pointer

func init() {
	for i := range sharedNumbers {
		sharedNumbers[i] = float64(i + sharedMin)
	}
	var v LValue = LNumber(1.5)
	numberItab = (*iface)(unsafe.Pointer(&v)).itab
}

// numberValue makes the LValue of the float at p (which must never change).
func numberValue(p *float64) LValue {
	return *(*LValue)(unsafe.Pointer(&iface{numberItab, unsafe.Pointer(p)}))
}

// numberWords is the layout of an LValue, its itab word as an integer:
// itabs are not heap objects, so storing one needs no write barrier.
// CRESCENT
type numberWords struct {
	itab uintptr
	word unsafe.Pointer
}

// roundMagic is 1.5*2^52: for |f| < 2^51, f+roundMagic lies in
// [2^52, 2^53), where floats are the integers, so its low bits are f
// rounded to an integer. CRESCENT
const roundMagic = 1.5 * (1 << 52)

// sharedIndex returns the index of f in sharedNumbers, or a value >=
// len(sharedNumbers) when f is not an integer of the shared range (or is
// -0, NaN or infinite). CRESCENT
//
// t = f+roundMagic rounds f to an integer k held in t's low bits; t-k's
// bits equal f's only when f is that integer (not -0: t-roundMagic is +0).
// The index test needs t in roundMagic's binade, where t-roundMagic is
// exact, so a huge f (for which t-roundMagic may equal f too) and the
// NaNs and infinities (whose bits t-roundMagic keeps) land far outside
// the range. Two float operations and no float/int conversion: cheaper
// than int64(f) and back on the VM's hot path.
func sharedIndex(f float64) uint64 {
	t := f + roundMagic
	if math.Float64bits(t-roundMagic) != math.Float64bits(f) {
		return uint64(len(sharedNumbers))
	}
	return math.Float64bits(t) - math.Float64bits(roundMagic) + uint64(-sharedMin)
}

// sharedNumber returns the shared LValue of v, or nil when v is not an
// integer of the shared range (or is -0).
func sharedNumber(v LNumber) LValue {
	if u := sharedIndex(float64(v)); u < uint64(len(sharedNumbers)) {
		return numberValue(&sharedNumbers[u])
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
