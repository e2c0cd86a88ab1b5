package lua

import (
	"math"
	"math/rand"
)

func OpenMath(L *LState) int {
	mod := L.RegisterModule(MathLibName, mathFuncs).(*LTable)
	mod.RawSetString("pi", LNumber(math.Pi))
	mod.RawSetString("huge", LNumber(math.MaxFloat64))
	L.Push(mod)
	return 1
}

var mathFuncs = map[string]LGFunction{
	"abs":        mathAbs,
	"acos":       mathAcos,
	"asin":       mathAsin,
	"atan":       mathAtan,
	"atan2":      mathAtan2,
	"ceil":       mathCeil,
	"cos":        mathCos,
	"cosh":       mathCosh,
	"deg":        mathDeg,
	"exp":        mathExp,
	"floor":      mathFloor,
	"fmod":       mathFmod,
	"frexp":      mathFrexp,
	"ldexp":      mathLdexp,
	"log":        mathLog,
	"log10":      mathLog10,
	"max":        mathMax,
	"min":        mathMin,
	"mod":        mathMod,
	"modf":       mathModf,
	"pow":        mathPow,
	"rad":        mathRad,
	"random":     mathRandom,
	"randomseed": mathRandomseed,
	"sin":        mathSin,
	"sinh":       mathSinh,
	"sqrt":       mathSqrt,
	"tan":        mathTan,
	"tanh":       mathTanh,
}

func mathAbs(L *LState) int {
	L.Push(LNumber(math.Abs(float64(L.CheckNumber(1)))))
	return 1
}

func mathAcos(L *LState) int {
	L.Push(LNumber(cAcos(float64(L.CheckNumber(1))))) // CRESCENT: glibc's acos
	return 1
}

func mathAsin(L *LState) int {
	L.Push(LNumber(cAsin(float64(L.CheckNumber(1))))) // CRESCENT: glibc's asin
	return 1
}

func mathAtan(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cAtan(x))) // CRESCENT: glibc's atan
	return 1
}

func mathAtan2(L *LState) int {
	// CRESCENT: C (gcc) checks the 2nd argument first; glibc's atan2
	y := L.CheckNumber(2)
	L.Push(LNumber(cAtan2(float64(L.CheckNumber(1)), float64(y))))
	return 1
}

func mathCeil(L *LState) int {
	L.Push(LNumber(math.Ceil(float64(L.CheckNumber(1)))))
	return 1
}

func mathCos(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cCos(x))) // CRESCENT: glibc's cos
	return 1
}

func mathCosh(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cCosh(x))) // CRESCENT: glibc's cosh
	return 1
}

func mathDeg(L *LState) int {
	L.Push(LNumber(float64(L.CheckNumber(1)) / (math.Pi / 180))) // CRESCENT: x/RADIANS_PER_DEGREE as lmathlib.c
	return 1
}

func mathExp(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cExp(x))) // CRESCENT: glibc's exp
	return 1
}

func mathFloor(L *LState) int {
	L.Push(LNumber(math.Floor(float64(L.CheckNumber(1)))))
	return 1
}

func mathFmod(L *LState) int {
	y := L.CheckNumber(2) // CRESCENT: C (gcc) checks the 2nd argument first
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cNaN2(math.Mod(x, float64(y)), x, float64(y)))) // CRESCENT: C NaN
	return 1
}

func mathFrexp(L *LState) int {
	v1, v2 := math.Frexp(float64(L.CheckNumber(1)))
	L.Push(LNumber(v1))
	L.Push(LNumber(v2))
	return 2
}

func mathLdexp(L *LState) int {
	e := L.CheckCInt(2) // CRESCENT: luaL_checkint; C (gcc) checks the 2nd argument first
	L.Push(LNumber(math.Ldexp(float64(L.CheckNumber(1)), e)))
	return 1
}

func mathLog(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cLog(x))) // CRESCENT: glibc's log
	return 1
}

func mathLog10(L *LState) int {
	L.Push(LNumber(cLog10(float64(L.CheckNumber(1))))) // CRESCENT: glibc's log10
	return 1
}

func mathMax(L *LState) int {
	// CRESCENT: no argument is luaL_checknumber's error, as in Lua 5.1
	max := L.CheckNumber(1)
	top := L.GetTop()
	for i := 2; i <= top; i++ {
		v := L.CheckNumber(i)
		if v > max {
			max = v
		}
	}
	L.Push(max)
	return 1
}

func mathMin(L *LState) int {
	// CRESCENT: no argument is luaL_checknumber's error, as in Lua 5.1
	min := L.CheckNumber(1)
	top := L.GetTop()
	for i := 2; i <= top; i++ {
		v := L.CheckNumber(i)
		if v < min {
			min = v
		}
	}
	L.Push(min)
	return 1
}

func mathMod(L *LState) int {
	lhs := L.CheckNumber(1)
	rhs := L.CheckNumber(2)
	L.Push(luaModulo(lhs, rhs))
	return 1
}

func mathModf(L *LState) int {
	x := float64(L.CheckNumber(1))
	v1, v2 := math.Modf(x)
	if math.IsInf(x, 0) { // CRESCENT: C's modf: the fraction of ±inf is ±0
		v2 = math.Copysign(0, x)
	}
	L.Push(LNumber(v1))
	L.Push(LNumber(v2))
	return 2
}

func mathPow(L *LState) int {
	y := L.CheckNumber(2) // CRESCENT: C (gcc) checks the 2nd argument first
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cPow(x, float64(y)))) // CRESCENT: glibc's pow
	return 1
}

func mathRad(L *LState) int {
	L.Push(LNumber(float64(L.CheckNumber(1)) * (math.Pi / 180))) // CRESCENT: x*RADIANS_PER_DEGREE as lmathlib.c
	return 1
}

func mathRandom(L *LState) int {
	switch L.GetTop() {
	case 0:
		L.Push(LNumber(rand.Float64()))
	case 1:
		n := L.CheckInt(1)
		L.Push(LNumber(rand.Intn(n) + 1))
	default:
		min := L.CheckInt(1)
		max := L.CheckInt(2) + 1
		L.Push(LNumber(rand.Intn(max-min) + min))
	}
	return 1
}

func mathRandomseed(L *LState) int {
	rand.Seed(L.CheckInt64(1))
	return 0
}

func mathSin(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cSin(x))) // CRESCENT: glibc's sin
	return 1
}

func mathSinh(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cSinh(x))) // CRESCENT: glibc's sinh
	return 1
}

func mathSqrt(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cNaN1(math.Sqrt(x), x))) // CRESCENT: C NaN
	return 1
}

func mathTan(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cTan(x))) // CRESCENT: glibc's tan
	return 1
}

func mathTanh(L *LState) int {
	x := float64(L.CheckNumber(1))
	L.Push(LNumber(cTanh(x))) // CRESCENT: glibc's tanh
	return 1
}

//
