// CRESCENT: this file is not part of upstream gopher-lua. NaN signs as
// glibc on x86-64 gives them.

package lua

import "math"

// defaultNaN is the quiet NaN an x86-64 invalid operation produces (sign
// bit set), which glibc's libm returns for a domain error (log(-1),
// fmod(1, 0), sin(inf), pow(-8, 1/3)) and Lua prints as "-nan". Go's math
// package returns math.NaN() instead, which has the sign bit clear
// ("nan").
var defaultNaN = math.Float64frombits(0xfff8000000000000)

// cNaN1 is r, the result of a libm function of x, with C's NaN: x itself
// when x is a NaN (propagated with its sign), the x86 default NaN when the
// operation created one.
func cNaN1(r, x float64) float64 {
	if r != r {
		if x != x {
			return x
		}
		return defaultNaN
	}
	return r
}

// cNaN2 is cNaN1 for a function of x and y: the first NaN operand is
// propagated.
func cNaN2(r, x, y float64) float64 {
	if r != r {
		if x != x {
			return x
		}
		if y != y {
			return y
		}
		return defaultNaN
	}
	return r
}
