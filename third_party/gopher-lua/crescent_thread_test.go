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

func TestStringValue(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 48, 49, 112, 113, 1000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		v := StringValue(b)
		want := string(b)
		for i := range b {
			b[i] = 'X' // the value owns its bytes
		}
		s, ok := v.(LString)
		if !ok || string(s) != want || v.Type() != LTString {
			t.Fatalf("len %d: got %T %q", n, v, v)
		}
		if n > 0 && n <= 112 {
			if a := testing.AllocsPerRun(100, func() { StringValue(b) }); a != 1 {
				t.Fatalf("len %d: %v allocs", n, a)
			}
		}
	}
}
