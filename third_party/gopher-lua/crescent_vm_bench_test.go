package lua

import (
	"context"
	"testing"
)

// benchVM runs the compiled chunk src b.N times on one state with a
// context (mainLoopWithContext, as scripts run in Crescent). CRESCENT
func benchVM(b *testing.B, src string) {
	L := NewState()
	defer L.Close()
	L.SetContext(context.Background())
	fn, err := L.LoadString(src)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		L.Push(fn)
		if err := L.PCall(0, 1, nil); err != nil {
			b.Fatal(err)
		}
		L.Pop(1)
	}
}

// BenchmarkVMIntLoop is the integer loop of BenchmarkEvalshaCPULoop
// (MOD and ADD with results in the shared number range, FORLOOP).
func BenchmarkVMIntLoop(b *testing.B) {
	benchVM(b, "local x = 0 for i = 1, 1000 do x = x + i % 7 end return x")
}

// BenchmarkVMFloatLoop is the loop of BenchmarkEvalshaFloatLoop
// (non-integral results, boxed).
func BenchmarkVMFloatLoop(b *testing.B) {
	benchVM(b, "local x = 0.5 for i = 1, 1000 do x = x + i * 1.5 end return x")
}

// BenchmarkVMTableLoop reads and writes table fields in a loop.
func BenchmarkVMTableLoop(b *testing.B) {
	benchVM(b, "local t = {n = 0} for i = 1, 1000 do t.n = t.n + 1 end return t.n")
}

// TestVMRegistryEdge runs loops in frames near the end of small
// registries, fixed and growable: the fast paths run only with fastRegs
// registers past the frame's base (else the generic handlers do), and
// the results must not depend on which. CRESCENT
func TestVMRegistryEdge(t *testing.T) {
	const src = `
local function f(n)
	local x = 0
	for i = 1, 100 do x = x + i % 7 + i * 0.5 end
	for i = 10, 1, -1 do x = x - i end
	local t = {a = 1, 2, 3}
	x = x + t.a + t[1] + t[2]
	if n > 0 then return x + f(n - 1) end
	return x
end
return f(30)`
	var want LValue
	for _, opt := range []Options{
		{},
		{RegistrySize: 128, RegistryMaxSize: 64 * 1024, RegistryGrowStep: 8},
		{RegistrySize: 128, RegistryMaxSize: 330, RegistryGrowStep: 1},
		{RegistrySize: 300, RegistryMaxSize: 0},
		{RegistrySize: 400, RegistryMaxSize: 400},
		{RegistrySize: 1024, RegistryMaxSize: 1024},
	} {
		L := NewState(opt)
		L.SetContext(context.Background())
		if err := L.DoString(src); err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
		got := L.Get(-1)
		if want == nil {
			want = got
		} else if got.String() != want.String() {
			t.Fatalf("%+v: got %v, want %v", opt, got, want)
		}
		L.Close()
	}
	if want.String() != "85963" { // Redis 7.0.15: tostring(f(30))
		t.Fatalf("got %v", want)
	}
}

// TestFastRegs checks that a function's fastRegs covers every register
// its instructions name, FORLOOP's loop variable included (which
// NumUsedRegisters may leave out). CRESCENT
func TestFastRegs(t *testing.T) {
	L := NewState()
	defer L.Close()
	for _, src := range []string{
		"local x = 0 for i = 1, 10 do x = x + i end return x",
		"for i = 1, 10 do end",
		"local t = {} for k, v in pairs(t) do end return #t",
		"local a, b, c = 1, 2, 3 return a + b * c",
	} {
		fn, err := L.LoadString(src)
		if err != nil {
			t.Fatal(err)
		}
		p := fn.Proto
		if p.fastRegs <= 0 || p.fastRegs > maxFastRegs {
			t.Fatalf("%q: fastRegs %d", src, p.fastRegs)
		}
		for _, inst := range p.Code {
			a := int(inst>>18) & 0xff
			if op := int(inst >> 26); op == OP_FORLOOP || op == OP_FORPREP {
				a += 3
			}
			if a >= p.fastRegs {
				t.Fatalf("%q: register %d >= fastRegs %d", src, a, p.fastRegs)
			}
		}
	}
}

// BenchmarkVMArrayLoop fills an array part with non-integral numbers
// (SETTABLE with a number key, MUL by a constant).
func BenchmarkVMArrayLoop(b *testing.B) {
	benchVM(b, "local t = {} for i = 1, 1000 do t[i] = i * 1.5 end return #t")
}

// BenchmarkVMConcatLoop builds a string piece by piece (CONCAT, number
// to string coercion).
func BenchmarkVMConcatLoop(b *testing.B) {
	benchVM(b, "local s = '' for i = 1, 200 do s = s .. i .. ',' end return #s")
}
