package lua

import (
	"context"
	"runtime"
	"testing"
)

// TestThreadSize checks that a coroutine costs little memory (upstream gave
// each one a 2 MB call stack). CRESCENT
func TestThreadSize(t *testing.T) {
	L := NewState(Options{RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 1024, CallStackSize: 19997})
	defer L.Close()
	L.SetContext(context.Background())
	const n = 2000
	threads := make([]*LState, 0, n)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := 0; i < n; i++ {
		th, _ := L.NewThread()
		threads = append(threads, th)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := (m1.HeapAlloc - m0.HeapAlloc) / n
	t.Logf("%d bytes per thread", per)
	if per > 4<<10 {
		t.Fatalf("a thread costs %d bytes", per)
	}
	runtime.KeepAlive(threads)
}
