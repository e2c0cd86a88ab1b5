package keyspace

import (
	"bytes"
	"strconv"
	"testing"
)

// checkList verifies List's block invariants against the model m: the
// elements in order, every slot outside the elements nil (so the GC keeps
// nothing removed alive and a reused block starts empty), ring entries
// outside the blocks in use nil, the spare block empty.
func checkList(t testing.TB, l *List, m [][]byte) {
	t.Helper()
	if l.Len() != len(m) {
		t.Fatalf("len %d want %d", l.Len(), len(m))
	}
	for i := range m {
		if !bytes.Equal(l.Index(i), m[i]) {
			t.Fatalf("index %d = %q want %q", i, l.Index(i), m[i])
		}
	}
	if l.head < 0 || l.head >= listBlock || (l.n == 0 && (l.head != 0 || l.first != 0)) {
		t.Fatalf("head %d first %d n %d", l.head, l.first, l.n)
	}
	if d := len(l.dir); d&(d-1) != 0 {
		t.Fatalf("ring of %d", d)
	}
	nb := l.blocks()
	if nb > len(l.dir) {
		t.Fatalf("%d blocks in a ring of %d", nb, len(l.dir))
	}
	for j := range l.dir {
		k := (j - l.first) & (len(l.dir) - 1) // block number of ring entry j
		b := l.dir[j]
		if k >= nb {
			if b != nil {
				t.Fatalf("ring entry %d (block %d of %d) not nil", j, k, nb)
			}
			continue
		}
		if b == nil {
			t.Fatalf("block %d of %d missing", k, nb)
		}
		for s := range b {
			p := k*listBlock + s - l.head // element index of the slot
			if (p < 0 || p >= l.n) && b[s] != nil {
				t.Fatalf("block %d slot %d (element %d of %d) not nil", k, s, p, l.n)
			}
		}
	}
	if l.spare != nil {
		for s := range l.spare {
			if l.spare[s] != nil {
				t.Fatalf("spare block slot %d not nil", s)
			}
		}
	}
}

// TestListBlocks drives List through phases that cross block and ring
// boundaries from both ends, checking the invariants after every step.
func TestListBlocks(t *testing.T) {
	type op struct {
		name  string
		count int
	}
	cases := []struct {
		name  string
		steps []op
	}{
		{"push front, pop back", []op{{"pf", 1000}, {"pb-", 1000}}},
		{"push back, pop front", []op{{"pb", 1000}, {"pf-", 1000}}},
		{"push front, pop front", []op{{"pf", 700}, {"pf-", 700}, {"pf", 3}}},
		{"push back, pop back", []op{{"pb", 700}, {"pb-", 700}, {"pb", 3}}},
		{"alternate at a boundary", []op{{"pf", 128}, {"pfpop", 600}, {"pb-", 128}}},
		{"grow, shrink, grow", []op{{"pb", 5000}, {"pf-", 4990}, {"pf", 300}, {"pb-", 310}}},
		{"insert and remove in the middle", []op{{"pb", 300}, {"ins", 400}, {"rm", 650}}},
		{"trim and filter", []op{{"pb", 1000}, {"trim", 1}, {"filter", 1}, {"pf", 500}, {"trim", 1}}},
		{"empty trim", []op{{"pb", 200}, {"trimall", 1}, {"pb", 5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewList()
			var m [][]byte
			seq := 0
			next := func() []byte { seq++; return []byte(strconv.Itoa(seq)) }
			for _, st := range tc.steps {
				for i := 0; i < st.count; i++ {
					switch st.name {
					case "pf":
						v := next()
						l.PushFront(v)
						m = append([][]byte{v}, m...)
					case "pb":
						v := next()
						l.PushBack(v)
						m = append(m, v)
					case "pf-":
						if got := l.PopFront(); !bytes.Equal(got, m[0]) {
							t.Fatalf("PopFront %q want %q", got, m[0])
						}
						m = m[1:]
					case "pb-":
						if got := l.PopBack(); !bytes.Equal(got, m[len(m)-1]) {
							t.Fatalf("PopBack %q want %q", got, m[len(m)-1])
						}
						m = m[:len(m)-1]
					case "pfpop":
						v := next()
						l.PushFront(v)
						if got := l.PopFront(); !bytes.Equal(got, v) {
							t.Fatalf("PopFront %q want %q", got, v)
						}
					case "ins":
						v, at := next(), (i*7919)%(len(m)+1)
						l.Insert(at, v)
						m = append(m[:at], append([][]byte{v}, m[at:]...)...)
					case "rm":
						at := (i * 7919) % len(m)
						l.Remove(at)
						m = append(m[:at], m[at+1:]...)
					case "trim":
						s, e := len(m)/5, len(m)-len(m)/3
						l.Trim(s, e)
						m = append([][]byte(nil), m[s:e+1]...)
					case "trimall":
						l.Trim(1, 0)
						m = nil
					case "filter":
						keep := func(i int, v []byte) bool { return v[len(v)-1]%2 == 0 }
						removed := l.Filter(keep)
						var k [][]byte
						for i, v := range m {
							if keep(i, v) {
								k = append(k, v)
							}
						}
						if removed != len(m)-len(k) {
							t.Fatalf("Filter removed %d want %d", removed, len(m)-len(k))
						}
						m = k
					}
					checkList(t, l, m)
				}
			}
			c := l.Clone().(*List)
			checkList(t, c, m)
		})
	}
}

// FuzzList applies the operations the input's bytes encode to a List and
// a slice, checking the List's invariants after each.
func FuzzList(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 2, 3, 4, 5})
	f.Add(bytes.Repeat([]byte{0, 0, 1, 2}, 200))
	f.Fuzz(func(t *testing.T, ops []byte) {
		l := NewList()
		var m [][]byte
		for i, o := range ops {
			v := []byte(strconv.Itoa(i))
			arg := int(o >> 3)
			switch o & 7 {
			case 0: // a run of pushes at the front, crossing blocks
				for k := 0; k <= arg*9; k++ {
					l.PushFront(v)
					m = append([][]byte{v}, m...)
				}
			case 1:
				for k := 0; k <= arg*9; k++ {
					l.PushBack(v)
					m = append(m, v)
				}
			case 2:
				for k := 0; k <= arg*9 && len(m) > 0; k++ {
					l.PopFront()
					m = m[1:]
				}
			case 3:
				for k := 0; k <= arg*9 && len(m) > 0; k++ {
					l.PopBack()
					m = m[:len(m)-1]
				}
			case 4:
				at := arg % (len(m) + 1)
				l.Insert(at, v)
				m = append(m[:at], append([][]byte{v}, m[at:]...)...)
			case 5:
				if len(m) > 0 {
					at := arg % len(m)
					l.Remove(at)
					m = append(m[:at], m[at+1:]...)
				}
			case 6:
				if len(m) > 0 {
					s := arg % len(m)
					l.Trim(s, len(m)-1)
					m = append([][]byte(nil), m[s:]...)
				}
			case 7:
				l.Filter(func(i int, _ []byte) bool { return (i+arg)%3 != 0 })
				var k [][]byte
				for i, e := range m {
					if (i+arg)%3 != 0 {
						k = append(k, e)
					}
				}
				m = k
			}
			checkList(t, l, m)
		}
	})
}

// BenchmarkListPushPop is LPUSH then LPOP on a list of 1,000 elements.
func BenchmarkListPushPop(b *testing.B) {
	v := []byte("xxx")
	l := NewList()
	for range 1000 {
		l.PushBack(v)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.PushFront(v)
		l.PopFront()
	}
}
