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
