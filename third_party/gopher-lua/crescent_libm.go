// CRESCENT: this file is not part of upstream gopher-lua. The math library's
// exp, log, log10 and pow as Redis's Lua gets them from glibc's libm.
//
// glibc's exp, log and pow (ARM's optimized routines) are correctly rounded
// but for about 0.02-0.1% of arguments; Go's math package differs from
// them in the last bit for 10-70% (and its Log is wrong for subnormals).
// The functions here evaluate in double-double arithmetic (about 2^-100
// relative error) and round once, so that they are correctly rounded
// unless the exact value lies within about 2^-45 ulp of a rounding
// boundary; special values (NaN signs, infinities, -0, overflow, underflow
// to subnormals) are glibc's. See crescent_libm.md for the method and the
// measurements.

package lua

import (
	"math"
	"math/big"
)

// posNaN is the NaN with the sign bit clear that C's nan prints as "nan"
// (Go's math.NaN has another payload).
var posNaN = math.Float64frombits(0x7ff8000000000000)

// --- double-double arithmetic: a value is hi + lo, |lo| <= ulp(hi)/2 ---

func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return
}

func fastTwoSum(a, b float64) (s, e float64) {
	s = a + b
	e = b - (s - a)
	return
}

// twoProd is the exact product a*b = p + e: math.FMA is an instruction
// on CPUs with FMA (a function call, exact too, elsewhere).
func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}

// roundInt is math.RoundToEven(x) for |x| < 2^51 (the addition rounds).
func roundInt(x float64) float64 {
	const magic = 0x1.8p52
	return (x + magic) - magic
}

func ddAdd(ah, al, bh, bl float64) (float64, float64) {
	// twoSum(ah, bh) = s + (error), twoSum(al, bl) = t + (error), then
	// two fastTwoSums, written out for the inliner
	s, t := ah+bh, al+bl
	v, w := s-ah, t-al
	e := (ah - (s - v)) + (bh - v) + t
	h := s + e
	e = e - (h - s) + ((al - (t - w)) + (bl - w))
	s = h + e
	return s, e - (s - h)
}

// ddAddS is a + b for double-doubles when there is no cancellation (the
// polynomials' Horner steps): one error-free sum fewer than ddAdd.
func ddAddS(ah, al, bh, bl float64) (float64, float64) {
	s, e := twoSum(ah, bh)
	return fastTwoSum(s, e+(al+bl))
}

func ddMul(ah, al, bh, bl float64) (float64, float64) {
	p := ah * bh
	e := math.FMA(ah, bh, -p) + (ah*bl + al*bh)
	s := p + e
	return s, e - (s - p)
}

func ddMulD(ah, al, b float64) (float64, float64) {
	p := ah * b
	e := math.FMA(ah, b, -p) + al*b
	s := p + e
	return s, e - (s - p)
}

// ddDiv is a / b: one correction step (relative error about 2^-104).
func ddDiv(ah, al, bh, bl float64) (float64, float64) {
	q1 := ah / bh
	r := math.FMA(-q1, bh, ah) + (al - q1*bl) // a - q1 b; the first part exact
	q2 := r / bh
	s := q1 + q2
	return s, q2 - (s - q1)
}

// ddSqrt is the square root of a positive double-double.
func ddSqrt(ah, al float64) (float64, float64) {
	if ah == 0 {
		return 0, 0
	}
	s := math.Sqrt(ah)
	ph, pl := twoProd(s, s)
	rh, _ := ddAdd(ah, al, -ph, -pl)
	return fastTwoSum(s, rh/(2*s))
}

// roundScaled is (hi + lo) * 2^k rounded once to a double, subnormal
// results included (hi is normal, hi + lo a normalized double-double).
func roundScaled(hi, lo float64, k int) float64 {
	e := math.Float64bits(hi)>>52&0x7ff - 1023 // hi's exponent
	switch re := int(e) + k; {
	case re > 1023:
		return math.Copysign(math.Inf(1), hi)
	case re >= -1022:
		return math.Ldexp(hi, k) // exact
	case re < -1076:
		return math.Copysign(0, hi)
	}
	// The result's quantum 2^-1074 is q = 2^(-1074-k) at hi's scale.
	q := math.Ldexp(1, -1074-k)
	n := math.RoundToEven(hi / q) // exact: hi / q has at most 53 bits
	if d := hi - n*q; d == q/2 || d == -q/2 {
		// hi is halfway: lo decides (n is even here)
		if lo != 0 && (lo > 0) == (d > 0) {
			n += math.Copysign(1, d)
		}
	}
	return math.Copysign(n*0x1p-1074, hi)
}

// --- exp ---

// expDD is exp(zh + zl) as (hi + lo) * 2^k, hi in [0.7, 1.5). |zh| < 750.
func expDD(zh, zl float64) (hi, lo float64, k int) {
	kf := roundInt(zh * (64 / ln20))
	n := int(kf)
	// r = z - n ln2/64, the three parts of ln2/64 exact products by n
	p1, e1 := twoProd(kf, ln20/64)
	rh, rl := twoSum(zh-p1, -e1)
	p2, e2 := twoProd(kf, ln21/64)
	rh, rl = ddAdd(rh, rl, -p2, zl-e2-kf*(ln22/64))
	// exp(r) - 1, |r| <= ln2/128: degree 11 (1/n! up to n = 6 in
	// double-double, the rest in double)
	t := 1.0/5040 + rh*(1.0/40320+rh*(1.0/362880+rh*(1.0/3628800+rh*(1.0/39916800))))
	ph, pl := ddMulD(rh, rl, t)
	ph, pl = ddAddS(ph, pl, 0x1.6c16c16c16c17p-10, -0x1.f49f49f49f49fp-65)
	ph, pl = ddMul(ph, pl, rh, rl)
	ph, pl = ddAddS(ph, pl, 0x1.1111111111111p-7, 0x1.1111111111111p-63)
	ph, pl = ddMul(ph, pl, rh, rl)
	ph, pl = ddAddS(ph, pl, 0x1.5555555555555p-5, 0x1.5555555555555p-59)
	ph, pl = ddMul(ph, pl, rh, rl)
	ph, pl = ddAddS(ph, pl, 0x1.5555555555555p-3, 0x1.5555555555555p-57)
	ph, pl = ddMul(ph, pl, rh, rl)
	ph, pl = ddAddS(ph, pl, 0.5, 0)
	ph, pl = ddMul(ph, pl, rh, rl)
	ph, pl = ddAddS(ph, pl, 1, 0)
	ph, pl = ddMul(ph, pl, rh, rl) // exp(r) - 1
	j := n & 63
	th, tl := exp2Tab[2*j], exp2Tab[2*j+1]
	// T * (1 + p) = T + T p
	qh, ql := ddMul(th, tl, ph, pl)
	hi, lo = ddAdd(th, tl, qh, ql)
	return hi, lo, n >> 6
}

// cExp is glibc's exp.
func cExp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > 709.79:
		return math.Inf(1)
	case x < -745.2:
		return 0
	case x > -0x1p-54 && x < 0x1p-54:
		return 1 + x // 1 or its neighbours, as exp's correct rounding
	}
	h, l, k := expDD(x, 0)
	return roundScaled(h, l, k)
}

// --- log ---

// logDD is log(x) for a positive finite double x, as a double-double.
func logDD(x float64) (float64, float64) {
	b := math.Float64bits(x)
	e := int(b>>52) - 1023
	if b>>52 == 0 { // subnormal
		x *= 0x1p54
		b = math.Float64bits(x)
		e = int(b>>52) - 1023 - 54
	}
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52) // [1, 2)
	if m >= 1.5 {
		m /= 2
		e++
	}
	// m in [0.75, 1.5): log(m) = log(c) + log1p(t), t = (m - c)/c
	j := int(roundInt((m - 0.75) * 128))
	c := 0.75 + float64(j)/128
	d := m - c // exact
	th := d / c
	uh, ul := twoProd(th, c)
	tl := ((d - uh) - ul) / c
	// log1p(t) = 2 atanh(s), s = t/(2 + t), |s| <= 2^-9
	ah, al := ddAdd(2, 0, th, tl)
	sh, sl := ddDiv(th, tl, ah, al)
	s2h, s2l := ddMul(sh, sl, sh, sl)
	q := 1.0/9 + s2h*(1.0/11+s2h*(1.0/13))
	ph, pl := ddMulD(s2h, s2l, q)
	ph, pl = ddAddS(ph, pl, seventh0, seventh1)
	ph, pl = ddMul(ph, pl, s2h, s2l)
	ph, pl = ddAddS(ph, pl, fifth0, fifth1)
	ph, pl = ddMul(ph, pl, s2h, s2l)
	ph, pl = ddAddS(ph, pl, third0, third1)
	ph, pl = ddMul(ph, pl, s2h, s2l)
	ph, pl = ddMul(ph, pl, sh, sl) // s^3/3 + s^5/5 + ...
	ph, pl = ddAdd(ph, pl, sh, sl)
	ph, pl = 2*ph, 2*pl
	// + log(c) + e ln2
	ph, pl = ddAdd(ph, pl, logTab[2*j], logTab[2*j+1])
	if e != 0 {
		ef := float64(e)
		h1, l1 := twoProd(ef, ln20)
		h2, l2 := twoProd(ef, ln21)
		eh, el := ddAdd(h1, l1, h2, l2+ef*ln22)
		ph, pl = ddAdd(eh, el, ph, pl)
	}
	return ph, pl
}

// cLog is glibc's log.
func cLog(x float64) float64 {
	switch {
	case x != x:
		return x
	case x == 0:
		return math.Inf(-1)
	case x < 0:
		return defaultNaN
	case x > math.MaxFloat64:
		return x
	case x == 1:
		return 0
	}
	h, _ := logDD(x)
	return h
}

// cLog10 is glibc's log10 (sysdeps/ieee754/dbl-64/e_log10.c, fdlibm's):
// not correctly rounded, but exact for the powers of ten; log is glibc's.
func cLog10(x float64) float64 {
	const (
		ivln10    = 0x1.bcb7b1526e50ep-2
		log10_2hi = 0x1.34413509f6p-2
		log10_2lo = 0x1.9fef311f12b36p-42
	)
	switch {
	case x != x:
		return x
	case x == 0:
		return math.Inf(-1)
	case x < 0:
		return posNaN // glibc's log10 makes this one positive
	case x > math.MaxFloat64:
		return x
	}
	b := math.Float64bits(x)
	k := 0
	if b>>52 == 0 { // subnormal
		x *= 0x1p54
		b = math.Float64bits(x)
		k = -54
	}
	k += int(b>>52) - 1023
	i := 0
	if k < 0 {
		i = 1
	}
	x = math.Float64frombits(b&(1<<52-1) | uint64(0x3ff-i)<<52)
	y := float64(k + i)
	z := float64(y*log10_2lo) + float64(ivln10*cLog(x))
	return z + float64(y*log10_2hi)
}

// --- pow ---

// cPow is glibc's pow (x86-64): correctly rounded, and where its result
// is a NaN: a NaN exponent is propagated (x + y), a NaN base too (x * x)
// but with its sign flipped when it is negative and the exponent an odd
// integer (pow(-nan, 1) is nan), a domain error (a negative base, a
// non-integral exponent) is the default NaN. pow(x, 0) and pow(1, y) are
// 1.
func cPow(x, y float64) float64 {
	// the common exact cases first: the VM's kernels use x^2
	switch y {
	case 2:
		return x * x
	case 1:
		if x == x {
			return x
		}
	case 0:
		return 1
	case -1:
		if x == x {
			return 1 / x
		}
	case 0.5:
		if x > 0 && x <= math.MaxFloat64 {
			return math.Sqrt(x)
		}
	}
	ax := math.Abs(x)
	if ax == 0 || ax > math.MaxFloat64 || x != x || y != y || math.IsInf(y, 0) || ax == 1 {
		return powSpecial(x, y)
	}
	neg := false
	yi := y == math.Trunc(y)
	if x < 0 {
		if !yi {
			return defaultNaN
		}
		neg = math.Abs(y) < 1<<53 && int64(y)&1 != 0
	}
	if math.Abs(y) > 0x1p64 { // |y log|x|| > 2^11: overflow or underflow
		if (ax > 1) == (y > 0) {
			return signed(math.Inf(1), neg)
		}
		return signed(0, neg)
	}
	var h, l float64
	var k int
	if yi && math.Abs(y) <= 64 {
		h, l, k = powIntDD(ax, int(y))
	} else {
		lh, ll := logDD(ax)
		zh, zl := twoProd(y, lh)
		zl += y * ll
		zh, zl = fastTwoSum(zh, zl)
		switch {
		case zh > 709.79:
			return signed(math.Inf(1), neg)
		case zh < -745.2:
			return signed(0, neg)
		}
		h, l, k = expDD(zh, zl)
	}
	r := roundScaled(h, l, k)
	if nearMidpoint(h, l) {
		r = powExact(ax, y, r)
	}
	return signed(r, neg)
}

func signed(r float64, neg bool) float64 {
	if neg {
		return -r
	}
	return r
}

// powIntDD is x^n for a positive finite x and 3 <= |n| <= 64 as
// (hi + lo) * 2^k, by squaring the significand in double-double.
func powIntDD(x float64, n int) (hi, lo float64, k int) {
	fr, e := math.Frexp(x) // [0.5, 1)
	m := n
	if m < 0 {
		m = -m
	}
	bh, bl := fr, 0.0
	hi, lo = 1, 0
	for {
		if m&1 != 0 {
			hi, lo = ddMul(hi, lo, bh, bl)
		}
		m >>= 1
		if m == 0 {
			break
		}
		bh, bl = ddMul(bh, bl, bh, bl) // >= 2^-64: no underflow
	}
	k = e * n
	if n < 0 {
		hi, lo = ddDiv(1, 0, hi, lo)
	}
	return hi, lo, k
}

// nearMidpoint reports whether hi + lo may be too close to a rounding
// boundary (halfway between two doubles) for an error of 2^-90 |hi|.
func nearMidpoint(hi, lo float64) bool {
	half := ulp(hi) / 2
	if lo < 0 && math.Float64bits(hi)&(1<<52-1) == 0 {
		half /= 2 // below a power of two
	}
	return math.Abs(math.Abs(lo)-half) <= math.Abs(hi)*0x1p-90
}

func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

// powExact is pow(x, y) for a positive finite x from exact (math/big)
// arithmetic when 4y is an integer of at most 64, r otherwise: the cases
// whose result may be exactly halfway between two doubles (rare: cPow
// comes here only when its double-double result is that close).
func powExact(x, y, r float64) float64 {
	halves := 0
	for y != math.Trunc(y) && halves < 2 {
		y *= 2
		halves++
	}
	if y != math.Trunc(y) || math.Abs(y) > 64 {
		// an exact result halfway between two doubles has 54 bits: the
		// odd part of x's significand to the power |y| (>= 3^|y|) is
		// below 2^54, |y| <= 34
		return r
	}
	n := int(math.Abs(y))
	z := new(big.Float).SetPrec(uint(53*n + 64)).SetFloat64(1)
	b := new(big.Float).SetFloat64(x)
	for i := 0; i < n; i++ {
		z.Mul(z, b) // exact: the precision covers 53 n bits
	}
	z.SetPrec(uint(53*n + 2048))
	if y < 0 {
		z.Quo(new(big.Float).SetPrec(z.Prec()).SetFloat64(1), z)
	}
	for ; halves > 0; halves-- {
		z.Sqrt(z)
	}
	f, _ := z.Float64()
	return f
}

// powSpecial is pow where x or y is 0, infinite or a NaN, or x is 1:
// C99's Annex F, glibc's NaNs.
func powSpecial(x, y float64) float64 {
	switch {
	case y == 0 || x == 1:
		return 1
	case y != y:
		if x != x {
			return x
		}
		return y
	case x != x:
		if math.Signbit(x) && y == math.Trunc(y) && math.Abs(y) < 1<<53 && int64(y)%2 != 0 {
			return math.Copysign(x, 1)
		}
		return x
	}
	return cNaN2(math.Pow(x, y), x, y) // Go's special cases are C's
}
