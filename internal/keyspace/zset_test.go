package keyspace

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestZSetRandomOps checks the skiplist against a sorted slice model.
func TestZSetRandomOps(t *testing.T) {
	z := NewZSet(false)
	model := map[string]float64{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		m := fmt.Sprintf("m%d", r.IntN(300))
		switch r.IntN(3) {
		case 0, 1:
			s := float64(r.IntN(50))
			_, had := model[m]
			if added := z.Set(m, s); added == had {
				t.Fatalf("Set(%s) added=%v had=%v", m, added, had)
			}
			model[m] = s
		case 2:
			_, had := model[m]
			if z.Remove(m) != had {
				t.Fatalf("Remove(%s)", m)
			}
			delete(model, m)
		}
	}
	type e struct {
		m string
		s float64
	}
	var want []e
	for m, s := range model {
		want = append(want, e{m, s})
	}
	sort.Slice(want, func(i, j int) bool { return zless(want[i].s, want[i].m, want[j].s, want[j].m) })
	if z.Len() != len(want) {
		t.Fatalf("len %d want %d", z.Len(), len(want))
	}
	i := 0
	for n := z.First(); n != nil; n = n.Next() {
		if n.Member != want[i].m || n.Score != want[i].s {
			t.Fatalf("pos %d: %s %v want %v", i, n.Member, n.Score, want[i])
		}
		if r, ok := z.Rank(n.Member); !ok || r != i {
			t.Fatalf("rank of %s = %d want %d", n.Member, r, i)
		}
		if z.ByRank(i) != n {
			t.Fatalf("ByRank(%d)", i)
		}
		i++
	}
	rng := ScoreRange{Min: 10, Max: 20, MinEx: true}
	f, l := z.FirstInRange(&rng), z.LastInRange(&rng)
	for _, w := range want {
		if rng.GteMin(w.s) && rng.LteMax(w.s) {
			if f.Member != w.m {
				t.Fatalf("first in range %s want %s", f.Member, w.m)
			}
			break
		}
	}
	for k := len(want) - 1; k >= 0; k-- {
		if rng.GteMin(want[k].s) && rng.LteMax(want[k].s) {
			if l.Member != want[k].m {
				t.Fatalf("last in range %s want %s", l.Member, want[k].m)
			}
			break
		}
	}
}

func TestZSetEncoding(t *testing.T) {
	z := NewZSet(true)
	if z.Encoding() != "listpack" || z.TypeName() != "zset" {
		t.Fatal(z.Encoding())
	}
	z.Set("a", negZero())
	if s, _ := z.Score("a"); 1/s < 0 {
		t.Fatal("listpack keeps -0")
	}
	z.SetListpack(false)
	if z.Encoding() != "skiplist" {
		t.Fatal(z.Encoding())
	}
}

func negZero() float64 { z := 0.0; return -z }

func BenchmarkZSetSet(b *testing.B) {
	b.ReportAllocs()
	z := NewZSet(false)
	for i := 0; i < b.N; i++ {
		z.Set(fmt.Sprint(i%100000), float64(i%1000))
	}
}

// BenchmarkZSetUpdateRandom is redis-benchmark's ZADD with -r 100000: a
// random member of a set of ~63k gets a random score, so most calls move
// an existing member (two skiplist walks over nodes out of the caches).
func BenchmarkZSetUpdateRandom(b *testing.B) {
	z := NewZSet(false)
	rng := rand.New(rand.NewPCG(1, 2))
	members := make([]string, 100000)
	for i := range members {
		members[i] = fmt.Sprintf("element:%012d", i)
	}
	for i := 0; i < 100000; i++ {
		z.Set(members[rng.IntN(100000)], float64(rng.IntN(100000)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		z.Set(members[rng.IntN(100000)], float64(rng.IntN(100000)))
	}
}

// BenchmarkZSetFill200k is what a redis-benchmark ZADD run of 200k requests
// (-r 100000) does to its key: 200k ZADDs of a random member of 100k
// (element:%012d) with a random integer score, into an empty set. One op is
// the whole fill; zadd-ns and allocs per ZADD are reported.
func BenchmarkZSetFill200k(b *testing.B) {
	const n = 200000
	rng := rand.New(rand.NewPCG(1, 2))
	members := make([]string, 100000)
	for i := range members {
		members[i] = fmt.Sprintf("element:%012d", i)
	}
	type op struct {
		m string
		s float64
	}
	ops := make([]op, n)
	for i := range ops {
		ops[i] = op{members[rng.IntN(100000)], float64(rng.IntN(100000))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		z := NewZSet(false)
		for _, o := range ops {
			z.Set(o.m, o.s)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/zadd")
}
