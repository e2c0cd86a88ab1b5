package procid

import (
	"runtime"
	"sync"
	"testing"
	"unsafe"
)

func TestSlotInRange(t *testing.T) {
	seen := map[int]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4*runtime.GOMAXPROCS(0); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				s := Slot()
				if s < 0 || s >= Slots {
					t.Errorf("Slot() = %d, want [0, %d)", s, Slots)
					return
				}
				mu.Lock()
				seen[s] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) > runtime.GOMAXPROCS(0) {
		t.Errorf("slots %v seen with GOMAXPROCS %d", seen, runtime.GOMAXPROCS(0))
	}
}

// A slot's lock fills two cache lines, so that no two slots' locks share one.
func TestSlotLayout(t *testing.T) {
	if n := unsafe.Sizeof(rwSlot{}); n != 128 {
		t.Fatalf("rwSlot is %d bytes, want 128", n)
	}
}

// Readers on every processor and a writer: the writer excludes them all.
func TestRWMutexExcludes(t *testing.T) {
	var m RWMutex
	var shared, copyOf int
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := m.RLock()
				a := shared
				runtime.Gosched()
				b := copyOf
				m.RUnlock(i)
				if a != b {
					t.Errorf("read %d and %d under one read lock", a, b)
					return
				}
			}
		}()
	}
	for n := 0; n < 2000; n++ {
		m.Lock()
		shared++
		runtime.Gosched()
		copyOf++
		m.Unlock()
	}
	close(stop)
	wg.Wait()
}

func BenchmarkSlot(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Slot()
	}
}

// Read locks from every processor at once: sync.RWMutex against RWMutex.
func BenchmarkReadLockParallel(b *testing.B) {
	b.Run("sync.RWMutex", func(b *testing.B) {
		var m sync.RWMutex
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.RLock()
				m.RUnlock()
			}
		})
	})
	b.Run("procid.RWMutex", func(b *testing.B) {
		var m RWMutex
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.RUnlock(m.RLock())
			}
		})
	})
}

func TestPool(t *testing.T) {
	var p Pool[int]
	if _, ok := p.Get(); ok {
		t.Fatal("Get from an empty pool")
	}
	for i := 1; i <= 3; i++ {
		if !p.Put(i, 2) && i <= 2 {
			t.Fatalf("Put %d refused under the limit", i)
		}
	}
	// from one goroutine, possibly moved between processors: what was kept
	// comes back, each value once
	seen := map[int]bool{}
	for {
		x, ok := p.Get()
		if !ok {
			break
		}
		if seen[x] {
			t.Fatalf("%d taken twice", x)
		}
		seen[x] = true
	}
	if len(seen) < 2 || len(seen) > 3 {
		t.Fatalf("got back %v", seen)
	}
	p.Put(7, 0)
	p.Put(8, 0)
	n := 0
	p.Each(func(int) { n++ })
	if got := p.Drain(); len(got) != 2 || n != 2 {
		t.Fatalf("Drain %v, Each saw %d", got, n)
	}
	if _, ok := p.Get(); ok {
		t.Fatal("Get after Drain")
	}
}

// The slot layout of Pool, as rwSlot's.
func TestPoolSlotLayout(t *testing.T) {
	if n := unsafe.Sizeof(poolSlot[*int]{}); n != 128 {
		t.Fatalf("poolSlot is %d bytes, want 128", n)
	}
}
