// CRESCENT: this file is not part of upstream gopher-lua. glibc's
// trigonometric and hyperbolic functions, correctly rounded from
// double-double evaluations (see crescent_libm.go).

package lua

import (
	"math"
	"math/bits"
)

// reduceDD is x - n pi/2 as a double-double r with |r| <= pi/4 (about),
// and n mod 4, for a finite x.
func reduceDD(x float64) (rh, rl float64, q int) {
	ax := math.Abs(x)
	if ax <= math.Pi/4 {
		return x, 0, 0
	}
	if ax < 0x1p20 {
		// Cody and Waite: pi/2 in four parts, each product exact
		kf := roundInt(x * (2 / math.Pi))
		p1, e1 := twoProd(kf, pio20)
		rh, rl = twoSum(x-p1, -e1) // x - p1 is exact
		p2, e2 := twoProd(kf, pio21)
		rh, rl = ddAdd(rh, rl, -p2, -e2)
		p3, e3 := twoProd(kf, pio22)
		rh, rl = ddAdd(rh, rl, -p3, -e3)
		rh, rl = ddAdd(rh, rl, -kf*pio23, 0)
		return rh, rl, int(int64(kf) & 3)
	}
	return payneHanek(x)
}

// payneHanek reduces a huge x (|x| >= 2^20) with the bits of 2/pi: the
// significand times 320 bits of 2/pi from the right place gives x 2/pi mod
// 4 with at least 254 bits after the point, the bits left out weighing
// less than 2^-200 (x 2/pi is never closer to an integer than 2^-62 or so
// for a double x, which leaves 2^-138 of relative error).
func payneHanek(x float64) (rh, rl float64, q int) {
	b := math.Float64bits(x)
	m := b&(1<<52-1) | 1<<52
	e := int(b>>52&0x7ff) - 1075 // x = m 2^e
	i0 := 0
	if e >= 2 {
		i0 = (e - 2) / 64
	}
	// p = m * twoOverPi[i0:i0+5], little-endian words
	var p [6]uint64
	for i := 4; i >= 0; i-- {
		hi, lo := bits.Mul64(m, twoOverPi[i0+i])
		// word i0+i has weight 2^(-64(i0+i+1)): position 4-i in p
		j := 4 - i
		var c uint64
		p[j], c = bits.Add64(p[j], lo, 0)
		p[j+1], c = bits.Add64(p[j+1], hi, c)
		for k := j + 2; c != 0 && k < 6; k++ {
			p[k], c = bits.Add64(p[k], 0, c)
		}
	}
	// the unit bit of x 2/pi is bit b0 of p
	b0 := 64*(i0+5) - e
	get := func(pos int) uint64 { // bits [pos, pos+64) of p, 0 outside
		var v uint64
		if pos >= 0 && pos < 384 {
			v = p[pos/64] >> (pos % 64)
			if pos%64 != 0 && pos/64+1 < 6 {
				v |= p[pos/64+1] << (64 - pos%64)
			}
		} else if pos < 0 && pos > -64 {
			v = p[0] << -pos
		}
		return v
	}
	q = int(get(b0) & 3)
	// the fraction: 192 bits below the unit, as three words f0 (top) f1 f2
	f0, f1, f2 := get(b0-64), get(b0-128), get(b0-192)
	neg := f0>>63 != 0
	if neg { // fraction >= 1/2: take fraction - 1, n + 1
		q = (q + 1) & 3
		var c uint64
		f2, c = bits.Sub64(0, f2, 0)
		f1, c = bits.Sub64(0, f1, c)
		f0, _ = bits.Sub64(0, f0, c)
	}
	// normalize and convert to a double-double
	sh := 0
	for f0 == 0 && sh < 128 {
		f0, f1, f2 = f1, f2, 0
		sh += 64
	}
	lz := bits.LeadingZeros64(f0)
	if lz > 0 {
		f0 = f0<<lz | f1>>(64-lz)
		f1 = f1<<lz | f2>>(64-lz)
	}
	sh += lz
	// f0:f1 is the fraction times 2^(128+sh); three exact pieces
	a := float64(f0>>11) * 0x1p-53
	c := float64(f0&(1<<11-1)<<42|f1>>22) * 0x1p-106
	d := float64(f1&(1<<22-1)) * 0x1p-128
	fh, fl := fastTwoSum(a, c)
	fh, fl = ddAdd(fh, fl, d, 0)
	fh, fl = math.Ldexp(fh, -sh), math.Ldexp(fl, -sh)
	rh, rl = ddMul(fh, fl, pio20, pio21)
	if neg {
		rh, rl = -rh, -rl
	}
	if x < 0 {
		rh, rl, q = -rh, -rl, -q&3
	}
	return rh, rl, q
}

// sinCosDD is sin and cos of r (|r| <= 0.83) as double-doubles: r = a + t
// with a = i/64 from the table, |t| <= 1/128, Taylor series for t.
func sinCosDD(rh, rl float64) (sh, sl, ch, cl float64) {
	i := int(roundInt(rh * 64))
	sg := 1.0
	if i < 0 {
		i, sg = -i, -1
	}
	th, tl := twoSum(rh-sg*float64(i)/64, rl) // rh - i/64 is exact
	t2h, t2l := ddMul(th, tl, th, tl)
	// sin t = t + t^3 (-1/6 + t^2 (1/120 + t^2 (-1/5040 + ...)))
	ps := 1.0/120 + t2h*(-1.0/5040+t2h*(1.0/362880+t2h*(-1.0/39916800)))
	ph, pl := ddMulD(t2h, t2l, ps)
	ph, pl = ddAddS(ph, pl, -0x1.5555555555555p-3, -0x1.5555555555555p-57)
	ph, pl = ddMul(ph, pl, t2h, t2l)
	ph, pl = ddMul(ph, pl, th, tl)
	sth, stl := ddAdd(th, tl, ph, pl)
	// cos t - 1 = t^2 (-1/2 + t^2 (1/24 + t^2 (-1/720 + ...)))
	pc := -0x1.6c16c16c16c17p-10 + t2h*(1.0/40320+t2h*(-1.0/3628800+t2h*(1.0/479001600)))
	ph, pl = ddMulD(t2h, t2l, pc)
	ph, pl = ddAddS(ph, pl, 0x1.5555555555555p-5, 0x1.5555555555555p-59)
	ph, pl = ddMul(ph, pl, t2h, t2l)
	ph, pl = ddAddS(ph, pl, -0.5, 0)
	cth, ctl := ddMul(ph, pl, t2h, t2l) // cos t - 1
	ah, al, bh, bl := sg*sinCosTab[4*i], sg*sinCosTab[4*i+1], sinCosTab[4*i+2], sinCosTab[4*i+3]
	// sin(a + t) = sin a + (sin a (cos t - 1) + cos a sin t)
	uh, ul := ddMul(ah, al, cth, ctl)
	vh, vl := ddMul(bh, bl, sth, stl)
	uh, ul = ddAdd(uh, ul, vh, vl)
	sh, sl = ddAdd(ah, al, uh, ul)
	// cos(a + t) = cos a + (cos a (cos t - 1) - sin a sin t)
	uh, ul = ddMul(bh, bl, cth, ctl)
	vh, vl = ddMul(ah, al, sth, stl)
	uh, ul = ddAdd(uh, ul, -vh, -vl)
	ch, cl = ddAdd(bh, bl, uh, ul)
	return
}

// sinCosX is sin and cos of a finite x as double-doubles.
func sinCosX(x float64) (sh, sl, ch, cl float64) {
	rh, rl, q := reduceDD(x)
	sh, sl, ch, cl = sinCosDD(rh, rl)
	switch q {
	case 1:
		sh, sl, ch, cl = ch, cl, -sh, -sl
	case 2:
		sh, sl, ch, cl = -sh, -sl, -ch, -cl
	case 3:
		sh, sl, ch, cl = -ch, -cl, sh, sl
	}
	return
}

// cSin is glibc's sin.
func cSin(x float64) float64 {
	switch ax := math.Abs(x); {
	case x != x:
		return x
	case ax > math.MaxFloat64:
		return defaultNaN
	case ax < 0x1p-26:
		return x
	}
	sh, _, _, _ := sinCosX(x)
	return sh
}

// cCos is glibc's cos.
func cCos(x float64) float64 {
	switch ax := math.Abs(x); {
	case x != x:
		return x
	case ax > math.MaxFloat64:
		return defaultNaN
	case ax < 0x1p-27:
		return 1
	}
	_, _, ch, _ := sinCosX(x)
	return ch
}

// cTan is glibc's tan.
func cTan(x float64) float64 {
	switch ax := math.Abs(x); {
	case x != x:
		return x
	case ax > math.MaxFloat64:
		return defaultNaN
	case ax < 0x1p-27:
		return x
	}
	sh, sl, ch, cl := sinCosX(x)
	h, _ := ddDiv(sh, sl, ch, cl)
	return h
}

// asinDD is asin(z) for a double-double |z| <= 1/2 (about): one Newton
// step from Go's asin, with sin and cos in double-double.
func asinDD(zh, zl float64) (float64, float64) {
	y0 := math.Asin(zh)
	sh, sl, ch, cl := sinCosX(y0)
	nh, nl := ddAdd(zh, zl, -sh, -sl)
	dh, dl := ddDiv(nh, nl, ch, cl)
	return ddAdd(y0, 0, dh, dl)
}

// asinBig is asin(|x|) for 1/2 < |x| <= 1: pi/2 - 2 asin(sqrt((1-|x|)/2)).
func asinBig(ax float64) (float64, float64) {
	zh, zl := ddSqrt((1-ax)/2, 0) // 1 - ax and the halving are exact
	if zh == 0 {
		return pio20, pio21
	}
	ah, al := asinDD(zh, zl)
	return ddAdd(pio20, pio21, -2*ah, -2*al)
}

// cAsin is glibc's asin.
func cAsin(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case x != x:
		return x
	case ax > 1:
		return posNaN
	case ax < 0x1p-26:
		return x
	case ax <= 0.5:
		h, _ := asinDD(x, 0)
		return h
	}
	h, _ := asinBig(ax)
	return math.Copysign(h, x)
}

// cAcos is glibc's acos.
func cAcos(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case x != x:
		return x
	case ax > 1:
		return posNaN
	case ax <= 0.5:
		h, l := asinDD(x, 0)
		h, _ = ddAdd(pio20, pio21, -h, -l)
		return h
	}
	zh, zl := ddSqrt((1-ax)/2, 0)
	var h, l float64
	if zh != 0 {
		h, l = asinDD(zh, zl)
	}
	if x > 0 {
		return 2 * h
	}
	h, _ = ddAdd(pi0, pi1, -2*h, -2*l)
	return h
}

// atanDD is atan(t) for a double-double t (|t| <= 1 about): one Newton
// step from Go's atan, atan(t) = y0 + atan((t cos y0 - sin y0)/(cos y0 +
// t sin y0)).
func atanDD(th, tl float64) (float64, float64) {
	y0 := math.Atan(th)
	sh, sl, ch, cl := sinCosX(y0)
	nh, nl := ddMul(th, tl, ch, cl)
	nh, nl = ddAdd(nh, nl, -sh, -sl)
	mh, ml := ddMul(th, tl, sh, sl)
	mh, ml = ddAdd(mh, ml, ch, cl)
	dh, dl := ddDiv(nh, nl, mh, ml)
	return ddAdd(y0, 0, dh, dl)
}

// cAtan is glibc's atan.
func cAtan(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case x != x:
		return x
	case ax < 0x1p-27:
		return x
	case ax <= 1:
		h, _ := atanDD(x, 0)
		return h
	}
	// pi/2 - atan(1/|x|)
	var h, l float64
	if ax < 0x1p60 {
		th, tl := ddDiv(1, 0, ax, 0)
		h, l = atanDD(th, tl)
	} else {
		h = 1 / ax // 1/x^3 is below 2^-180
	}
	h, _ = ddAdd(pio20, pio21, -h, -l)
	return math.Copysign(h, x)
}

// cAtan2 is glibc's atan2(y, x).
func cAtan2(y, x float64) float64 {
	switch {
	case x != x:
		return x
	case y != y:
		return y
	case y == 0:
		if math.Signbit(x) {
			return math.Copysign(math.Pi, y)
		}
		return y
	case x == 0:
		return math.Copysign(math.Pi/2, y)
	case math.IsInf(x, 0):
		switch {
		case math.IsInf(y, 0) && x > 0:
			return math.Copysign(math.Pi/4, y)
		case math.IsInf(y, 0):
			return math.Copysign(3*math.Pi/4, y)
		case x > 0:
			return math.Copysign(0, y)
		}
		return math.Copysign(math.Pi, y)
	case math.IsInf(y, 0):
		return math.Copysign(math.Pi/2, y)
	}
	ay, ax := math.Abs(y), math.Abs(x)
	// scale to the larger's binade (exactly, unless the smaller
	// underflows: then the quotient is below 2^-900 anyway), so that the
	// double-double division's low parts do not underflow
	_, e := math.Frexp(math.Max(ax, ay))
	ay, ax = math.Ldexp(ay, -e), math.Ldexp(ax, -e)
	var h, l float64
	if ay <= ax {
		th, tl := ddDiv(ay, 0, ax, 0)
		if th < 0x1p-900 {
			if x > 0 {
				return y / x
			}
			h, l = th, tl
		} else {
			h, l = atanDD(th, tl)
		}
		if x < 0 {
			h, l = ddAdd(pi0, pi1, -h, -l)
		}
	} else {
		th, tl := ddDiv(ax, 0, ay, 0)
		if th >= 0x1p-900 {
			th, tl = atanDD(th, tl)
		}
		if x < 0 {
			h, l = ddAdd(pio20, pio21, th, tl)
		} else {
			h, l = ddAdd(pio20, pio21, -th, -tl)
		}
	}
	return math.Copysign(h, y)
}
