package lua

import (
	"math"
	"testing"
)

// libmSink keeps the benchmarks' results alive.
var libmSink float64

// BenchmarkLibm times each math function of the fork against Go's on 256
// arguments from gen.c's generator (the table's distribution): the
// "crescent" and "go" sub-benchmarks, 0 allocations.
func BenchmarkLibm(b *testing.B) {
	gos := map[string]libmFunc{
		"pow": {f2: math.Pow}, "exp": {f1: math.Exp}, "log": {f1: math.Log}, "log10": {f1: math.Log10},
		"sin": {f1: math.Sin}, "cos": {f1: math.Cos}, "tan": {f1: math.Tan}, "asin": {f1: math.Asin},
		"acos": {f1: math.Acos}, "atan": {f1: math.Atan}, "atan2": {f2: math.Atan2},
		"sinh": {f1: math.Sinh}, "cosh": {f1: math.Cosh}, "tanh": {f1: math.Tanh},
	}
	extra := []struct {
		name string
		args func(g *libmGen) (float64, float64)
	}{
		{"pow_int", func(g *libmGen) (float64, float64) { return g.rnd(-2, 2, false), g.signed(20, 10) }},
		{"pow_frac", func(g *libmGen) (float64, float64) { return g.rnd(-2, 2, false), g.signed(2000, 1000) / 100 }},
		{"pow_x2", func(g *libmGen) (float64, float64) { return g.rnd(-2, 2, true), 2 }},
	}
	run := func(b *testing.B, name string, f libmFunc, args func(g *libmGen) (float64, float64)) {
		g := libmGen{st: 42}
		var xs, ys [256]float64
		for i := range xs {
			xs[i], ys[i] = args(&g)
		}
		for _, impl := range []struct {
			name string
			f    libmFunc
		}{{"crescent", f}, {"go", gos[name]}} {
			b.Run(impl.name, func(b *testing.B) {
				b.ReportAllocs()
				var s float64
				for i := 0; i < b.N; i++ {
					j := i & 255
					if impl.f.f1 != nil {
						s += impl.f.f1(xs[j])
					} else {
						s += impl.f.f2(xs[j], ys[j])
					}
				}
				libmSink = s
			})
		}
	}
	for _, fn := range libmOrder {
		f := libmFuncs[fn]
		b.Run(fn, func(b *testing.B) {
			run(b, fn, f, func(g *libmGen) (float64, float64) { return g.args(f.kind) })
		})
	}
	for _, e := range extra {
		b.Run(e.name, func(b *testing.B) { run(b, "pow", libmFuncs["pow"], e.args) })
	}
}
