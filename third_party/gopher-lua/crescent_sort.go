// CRESCENT: this file is not part of upstream gopher-lua. table.sort is
// Lua 5.1.5's ltablib.c sort (auxsort, a quicksort with a median of three
// pivot), working on the table in place: Go's sort.Sort gave equal
// elements (ties of a comparator) another order than Redis's Lua, and
// never said "invalid order function for sorting".

package lua

// luaSorter is the state of one table.sort: the table and the comparator
// (nil: lua_lessthan).
type luaSorter struct {
	L     *LState
	t     *LTable
	fn    *LFunction
	steps int // comparisons since the last loopStep check
}

// less is ltablib.c's sort_comp.
func (s *luaSorter) less(a, b LValue) bool {
	s.L.loopStep(&s.steps) // a sort of millions of elements stays stoppable
	if s.fn != nil {
		L := s.L
		L.Push(s.fn)
		L.Push(a)
		L.Push(b)
		L.Call(2, 1)
		return LVAsBool(L.reg.Pop())
	}
	return lessThan(s.L, a, b)
}

func (s *luaSorter) get(i int) LValue { return s.t.RawGetInt(i) }

// set2 stores a at i and b at j (ltablib.c's set2 with a on top of the
// stack).
func (s *luaSorter) set2(i, j int, a, b LValue) {
	s.t.RawSetInt(i, a)
	s.t.RawSetInt(j, b)
}

// auxsort is ltablib.c's auxsort on t[l..u].
func (s *luaSorter) auxsort(l, u int) {
	for l < u { // for tail recursion
		// sort elements a[l], a[(l+u)/2] and a[u]
		al, au := s.get(l), s.get(u)
		if s.less(au, al) { // a[u] < a[l]?
			s.set2(l, u, au, al)
		}
		if u-l == 1 {
			break // only 2 elements
		}
		i := (l + u) / 2
		ai, al := s.get(i), s.get(l)
		if s.less(ai, al) { // a[i] < a[l]?
			s.set2(i, l, al, ai)
		} else {
			au := s.get(u)
			if s.less(au, ai) { // a[u] < a[i]?
				s.set2(i, u, au, ai)
			}
		}
		if u-l == 2 {
			break // only 3 elements
		}
		p := s.get(i) // pivot
		s.set2(i, u-1, s.get(u-1), p)
		// a[l] <= P == a[u-1] <= a[u], only need to sort from l+1 to u-2
		i, j := l, u-1
		for { // invariant: a[l..i] <= P <= a[j..u]
			var ai, aj LValue
			for { // repeat ++i until a[i] >= P
				i++
				ai = s.get(i)
				if !s.less(ai, p) {
					break
				}
				if i > u {
					s.L.RaiseError("invalid order function for sorting")
				}
			}
			for { // repeat --j until a[j] <= P
				j--
				aj = s.get(j)
				if !s.less(p, aj) {
					break
				}
				if j < l {
					s.L.RaiseError("invalid order function for sorting")
				}
			}
			if j < i {
				break
			}
			s.set2(i, j, aj, ai)
		}
		s.set2(u-1, i, s.get(i), s.get(u-1)) // swap pivot (a[u-1]) with a[i]
		// a[l..i-1] <= a[i] == P <= a[i+1..u]; adjust so that the smaller
		// half is in [j..i] and the larger one in [l..u]
		if i-l < u-i {
			j, i, l = l, i-1, i+1
		} else {
			j, i, u = i+1, u, i-1
		}
		s.auxsort(j, i) // call recursively the smaller one
	} // repeat the routine with the bigger one
}

// tableSort51 is ltablib.c's sort.
func tableSort51(L *LState) int {
	t := L.CheckTable(1)
	n := t.Len()
	s := luaSorter{L: L, t: t}
	if L.Get(2) != LNil { // lua_isnoneornil
		s.fn = L.CheckFunction(2)
	}
	s.auxsort(1, n)
	return 0
}
