package keyspace

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkZSet verifies the skiplist's invariants: strict (score, member)
// order, backward links, tail, length, the spans of every level, unused
// header levels, and that the dict maps each member to its node.
func checkZSet(t testing.TB, z *ZSet) {
	t.Helper()
	pos := map[*ZNode]int{}
	var prev *ZNode
	i, bytes := 0, 0
	for n := z.First(); n != nil; n = n.Next() {
		i++
		bytes += len(n.Member)
		pos[n] = i
		if n.backward != prev {
			t.Fatalf("backward of %q is wrong", n.Member)
		}
		if prev != nil && !zless(prev.Score, prev.Member, n.Score, n.Member) {
			t.Fatalf("%q %v before %q %v", prev.Member, prev.Score, n.Member, n.Score)
		}
		if z.dict[n.Member] != n {
			t.Fatalf("dict does not point at %q's node", n.Member)
		}
		prev = n
	}
	if z.tail != prev || i != z.length || len(z.dict) != z.length {
		t.Fatalf("tail/length: %d nodes, length %d, dict %d", i, z.length, len(z.dict))
	}
	if bytes != z.memberBytes {
		t.Fatalf("members hold %d bytes, memberBytes %d", bytes, z.memberBytes)
	}
	for l := 0; l < z.level; l++ {
		rank := 0
		for x := z.header; x.lv(l).forward != nil; x = x.lv(l).forward {
			rank += x.lv(l).span
			if pos[x.lv(l).forward] != rank {
				t.Fatalf("level %d: span sum %d at %q, rank %d", l, rank, x.lv(l).forward.Member, pos[x.lv(l).forward])
			}
		}
	}
	if z.level > 1 && z.header.lv(z.level-1).forward == nil {
		t.Fatalf("level %d has no nodes", z.level)
	}
	for l := z.level; l < zslMaxLevel; l++ {
		if z.header.lv(l).forward != nil {
			t.Fatalf("header level %d above %d is linked", l, z.level)
		}
	}
}

// sameZSet fails unless a and b list the same elements in the same order,
// with the same ranks.
func sameZSet(t testing.TB, a, b *ZSet) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("len %d vs %d", a.Len(), b.Len())
	}
	x, y := a.First(), b.First()
	for r := 0; x != nil; r++ {
		if x.Member != y.Member || math.Float64bits(x.Score) != math.Float64bits(y.Score) {
			t.Fatalf("rank %d: %q %v vs %q %v", r, x.Member, x.Score, y.Member, y.Score)
		}
		if got, ok := a.Rank(x.Member); !ok || got != r {
			t.Fatalf("Rank(%q) = %d, %v want %d", x.Member, got, ok, r)
		}
		if a.ByRank(r) != x {
			t.Fatalf("ByRank(%d)", r)
		}
		x, y = x.Next(), y.Next()
	}
}

// TestZSetUpdateScore covers the in-place update (the element keeps its
// position, ties broken by member) and the move (unlink, relink the same
// node), against sets built from scratch.
func TestZSetUpdateScore(t *testing.T) {
	base := []struct {
		m string
		s float64
	}{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 3}, {"e", 5}}
	tests := []struct {
		name    string
		member  string
		score   float64
		inPlace bool
	}{
		{"same score", "b", 2, true},
		{"up within gap", "b", 2.5, true},
		{"down within gap", "b", 1.5, true},
		{"first lower", "a", -10, true},
		{"last higher", "e", math.Inf(1), true},
		{"tie with previous, member after it", "e", 3, true},
		{"tie with next, member before it", "b", 3, true},
		{"tie with previous, member before it", "c", 2, false}, // "b" < "c": stays after b
		{"tie with next, member after it", "d", 5, true},       // "d" < "e": before e
		{"past next", "a", 2.5, false},
		{"before previous", "e", 0, false},
		{"to the front", "d", -1, false},
		{"to the end", "a", 100, false},
		{"past a tied next", "c", 3.5, false},
		{"-inf", "c", math.Inf(-1), false},
	}
	for _, lp := range []bool{false, true} {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				z, want := NewZSet(lp), NewZSet(lp)
				for _, e := range base {
					z.Insert(e.m, e.s)
					if e.m != tc.member {
						want.Insert(e.m, e.s)
					}
				}
				want.Insert(tc.member, tc.score)
				n := z.Node(tc.member)
				before := map[*ZNode]bool{}
				for x := z.First(); x != nil; x = x.Next() {
					before[x] = true
				}
				prev, next := n.Prev(), n.Next()
				z.UpdateScore(n, tc.score)
				checkZSet(t, z)
				sameZSet(t, z, want)
				if z.Node(tc.member) != n {
					t.Fatal("node replaced")
				}
				for x := z.First(); x != nil; x = x.Next() {
					if !before[x] {
						t.Fatal("new node")
					}
				}
				if kept := n.Prev() == prev && n.Next() == next; tc.inPlace && !kept {
					t.Fatal("moved")
				}
			})
		}
	}
}

// TestZSetUpdateNegZero: a listpack set stores -0 as 0, a skiplist keeps
// it; an update to -0 of a 0 score is no change either way.
func TestZSetUpdateNegZero(t *testing.T) {
	for _, lp := range []bool{false, true} {
		z := NewZSet(lp)
		z.Insert("a", 1)
		z.UpdateScore(z.Node("a"), negZero())
		s, _ := z.Score("a")
		if neg := math.Signbit(s); neg == lp {
			t.Fatalf("listpack %v: signbit %v", lp, neg)
		}
		z.Insert("b", 0)
		z.UpdateScore(z.Node("b"), negZero())
		if s, _ := z.Score("b"); math.Signbit(s) {
			t.Fatal("0 became -0")
		}
		checkZSet(t, z)
	}
}

// zsetOps applies ops decoded from data to z (UpdateScore) and to ref,
// where an update is Remove then Insert (a fresh node), checking both
// after every step.
func zsetOps(t testing.TB, data []byte, lp bool) {
	scores := []float64{0, negZero(), 1, 1, 2, 3, -1, 0.5, math.Inf(1), math.Inf(-1), 1e300, 7}
	members := []string{"", "a", "b", "c", "d", "e", "f", "g", "h", "aa", "ab", "b\x00", "zz", "m1", "m2", "m3"}
	z, ref := NewZSet(lp), NewZSet(lp)
	for len(data) >= 2 {
		op, arg := data[0], data[1]
		data = data[2:]
		m := members[int(arg)%len(members)]
		s := scores[int(op>>2)%len(scores)]
		if op&0x80 != 0 {
			s = float64(int(arg)>>4) + float64(op&3)/4 // dense ties and near ties
		}
		switch op & 3 {
		case 0, 1, 2:
			if n := z.Node(m); n != nil {
				z.UpdateScore(n, s)
				if old, _ := ref.Score(m); old != s {
					ref.Remove(m)
					ref.Insert(m, s)
				}
			} else {
				z.Insert(m, s)
				ref.Insert(m, s)
			}
		case 3:
			if z.Remove(m) != ref.Remove(m) {
				t.Fatalf("Remove(%q) differs", m)
			}
		}
		checkZSet(t, z)
		sameZSet(t, z, ref)
	}
}

// TestZSetUpdateRandom runs long random operation sequences, with many
// elements (so nodes have several levels), through zsetOps.
func TestZSetUpdateRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 30; round++ {
		data := make([]byte, 2000)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		zsetOps(t, data, round%2 == 0)
	}
	// a large set: moves of high nodes, levels dropping and rising
	z := NewZSet(false)
	for i := 0; i < 3000; i++ {
		z.Set(string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)), float64(r.IntN(500)))
	}
	for i := 0; i < 20000; i++ {
		n := z.ByRank(r.IntN(z.Len()))
		z.UpdateScore(n, float64(r.IntN(500)))
		if i%1000 == 0 {
			checkZSet(t, z)
		}
	}
	checkZSet(t, z)
}

// FuzzZSetUpdateScore compares the in-place/relinking update with remove
// and insert.
func FuzzZSetUpdateScore(f *testing.F) {
	f.Add([]byte{0, 1, 4, 1, 8, 2, 0x81, 1, 3, 1}, false)
	f.Add([]byte{0x80, 0x11, 0x81, 0x12, 0x82, 0x11, 0x83, 0x21, 0, 0x11}, true)
	f.Fuzz(func(t *testing.T, data []byte, lp bool) {
		zsetOps(t, data, lp)
	})
}

// TestZSetMoveTall checks every move in sets large enough for tall nodes
// (where move skips the span writes that cancel) against remove+insert,
// with ties, moves to both ends and moves of the first and last elements.
func TestZSetMoveTall(t *testing.T) {
	for _, size := range []int{2, 50, 700} {
		r := rand.New(rand.NewPCG(uint64(size), 5))
		z, ref := NewZSet(false), NewZSet(false)
		members := make([]string, size)
		for i := range members {
			members[i] = "m" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			s := float64(r.IntN(size))
			z.Insert(members[i], s)
			ref.Insert(members[i], s)
		}
		for step := 0; step < 3000; step++ {
			var n *ZNode
			switch step % 5 {
			case 0:
				n = z.First()
			case 1:
				n = z.Last()
			default:
				n = z.Node(members[r.IntN(size)])
			}
			s := float64(r.IntN(size+2) - 1) // ties, and past both ends
			if step%7 == 0 {
				s = math.Inf(2*(step%2) - 1)
			}
			m := n.Member
			z.UpdateScore(n, s)
			if old, _ := ref.Score(m); old != s {
				ref.Remove(m)
				ref.Insert(m, s)
			}
			checkZSet(t, z)
			sameZSet(t, z, ref)
		}
	}
}
