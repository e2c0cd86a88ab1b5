// CRESCENT: this file is not part of upstream gopher-lua. glibc's sinh,
// cosh and tanh: fdlibm's formulas (not correctly rounded) on glibc's exp
// (cExp) and expm1, which glibc builds twice and picks at run time: with
// FMA contractions on CPUs with FMA and AVX2, without elsewhere.

package lua

import "math"

// cSinh is glibc's sinh (fdlibm's e_sinh.c: not correctly rounded) on
// glibc's exp and expm1.
func cSinh(x float64) float64 { return sinhF(x, glibcFMA) }

func sinhF(x float64, fma bool) float64 {
	ax := math.Abs(x)
	h := 0.5
	if math.Signbit(x) {
		h = -h
	}
	switch {
	case x != x:
		return x
	case ax < 22:
		if ax < 0x1p-28 {
			return x
		}
		t := expm1F(ax, fma)
		if ax < 1 {
			return h * (2*t - t*t/(t+1))
		}
		return h * (t + t/(t+1))
	case ax < 0x1.62e42p+9: // 0x40862e42: log(DBL_MAX) about
		return h * cExp(ax)
	case math.Float64bits(ax) <= 0x408633ce8fb9f87d: // the overflow threshold
		w := cExp(0.5 * ax)
		t := h * w
		return t * w
	}
	return x * 0x1p1023 * 2 // inf, with x's sign
}

// cCosh is glibc's cosh (fdlibm's e_cosh.c) on glibc's exp and expm1.
func cCosh(x float64) float64 { return coshF(x, glibcFMA) }

func coshF(x float64, fma bool) float64 {
	ax := math.Abs(x)
	switch {
	case x != x:
		return x
	case ax < 22:
		if ax < 0x1.62e43p-2 { // 0x3fd62e43: ln2/2 about
			if ax < 0x1p-55 {
				return 1
			}
			t := expm1F(ax, fma)
			w := 1 + t
			return 1 + (t*t)/(w+w)
		}
		t := cExp(ax)
		return 0.5*t + 0.5/t
	case ax < 0x1.62e42p+9:
		return 0.5 * cExp(ax)
	case math.Float64bits(ax) <= 0x408633ce8fb9f87d:
		w := cExp(0.5 * ax)
		t := 0.5 * w
		return t * w
	}
	return math.Inf(1)
}

// cTanh is glibc's tanh (fdlibm's s_tanh.c) on glibc's expm1.
func cTanh(x float64) float64 { return tanhF(x, glibcFMA) }

func tanhF(x float64, fma bool) float64 {
	ax := math.Abs(x)
	var z float64
	switch {
	case x != x:
		return x
	case x == 0:
		return x
	case ax < 0x1p-55:
		return x * (1 + x)
	case ax < 22:
		if ax >= 1 {
			t := expm1F(2*ax, fma)
			z = 1 - 2/(t+2)
		} else {
			t := expm1F(-2*ax, fma)
			z = -t / (t + 2)
		}
	default:
		z = 1
	}
	if math.Signbit(x) {
		return -z
	}
	return z
}

// expm1F is glibc's expm1 (sysdeps/ieee754/dbl-64/s_expm1.c: fdlibm's,
// with its polynomial evaluated in Estrin's order), bit for bit: fma
// selects the build with gcc's FMA contractions (s_expm1-fma.c).
func expm1F(x float64, fma bool) float64 {
	const (
		othreshold = 0x1.62e42fefa39efp+9 // 709.78...
		ln2x56     = 0x1.3687a9f1af2b1p+5 // 56 ln2
		ln2halfx3  = 0x1.0a2b23f3bab73p+0
		ln2half    = 0x1.62e42fefa39efp-2
		ln2hi      = 0x1.62e42feep-1
		ln2lo      = 0x1.a39ef35793c76p-33
		invln2     = 0x1.71547652b82fep+0
		q1         = -0x1.11111111110f4p-5
		q2         = 0x1.a01a019fe5585p-10
		q3         = -0x1.4ce199eaadbb7p-14
		q4         = 0x1.0cfca86e65239p-18
		q5         = -0x1.afdb76e09c32dp-23
	)
	mad := func(a, b, c float64) float64 { // a*b + c as gcc compiled it
		if fma {
			return math.FMA(a, b, c)
		}
		return float64(a*b) + c
	}
	switch {
	case x != x || x > math.MaxFloat64:
		return x
	case x < -math.MaxFloat64:
		return -1
	}
	ax := math.Abs(x)
	neg := x < 0
	if ax >= ln2x56 {
		if neg {
			return -1
		}
		if ax >= othreshold {
			return math.Inf(1)
		}
	}
	var c float64
	k := 0
	switch {
	case ax > ln2half:
		var hi, lo float64
		if ax < ln2halfx3 {
			if !neg {
				hi, lo, k = x-ln2hi, ln2lo, 1
			} else {
				hi, lo, k = x+ln2hi, -ln2lo, -1
			}
		} else {
			if !neg {
				k = int(mad(invln2, x, 0.5))
			} else {
				k = int(mad(invln2, x, -0.5))
			}
			t := float64(k)
			hi = mad(-t, ln2hi, x) // t ln2hi is exact
			lo = t * ln2lo
		}
		x = hi - lo
		c = (hi - x) - lo
	case ax < 0x1p-54:
		return x
	}
	hfx := 0.5 * x
	hxs := x * hfx
	h2 := hxs * hxs
	h4 := h2 * h2
	r1 := mad(h4, mad(hxs, q5, q4), mad(h2, mad(hxs, q3, q2), mad(hxs, q1, 1)))
	t := mad(-r1, hfx, 3)
	e := hxs * ((r1 - t) / mad(-x, t, 6))
	if k == 0 {
		return x - mad(x, e, -hxs)
	}
	e = mad(x, e-c, -c)
	e -= hxs
	switch {
	case k == -1:
		return mad(0.5, x-e, -0.5)
	case k == 1:
		if x < -0.25 {
			return -2 * (e - (x + 0.5))
		}
		return mad(2, x-e, 1)
	case k <= -2 || k > 56:
		y := 1 - (e - x)
		y = math.Float64frombits(math.Float64bits(y) + uint64(k)<<52)
		return y - 1
	case k < 20:
		t := math.Float64frombits(0x3ff0000000000000 - (0x20000000000000 >> uint(k))) // 1 - 2^-k
		y := t - (e - x)
		return math.Float64frombits(math.Float64bits(y) + uint64(k)<<52)
	}
	t = math.Float64frombits(uint64(0x3ff-k) << 52) // 2^-k
	y := x - (e + t)
	y++
	return math.Float64frombits(math.Float64bits(y) + uint64(k)<<52)
}
