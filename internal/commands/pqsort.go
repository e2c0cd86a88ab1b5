package commands

// pqsort sorts a so that positions lo..hi hold what a full sort would put
// there, with the exact sequence of comparisons and swaps of Redis's
// pqsort (Bentley and McIlroy's quicksort from NetBSD's libc, which skips
// the partitions outside lo..hi). Redis uses it for GEORADIUS/GEOSEARCH
// with COUNT below the number of matches: elements that compare equal end
// up in the order this algorithm leaves them, which a stable sort would
// not reproduce. cmp returns <0, 0 or >0.
func pqsort[T any](a []T, cmp func(x, y T) int, lo, hi int) {
	p := pqSorter[T]{a: a, cmp: cmp, lo: lo, hi: hi}
	p.sort(0, len(a))
}

type pqSorter[T any] struct {
	a      []T
	cmp    func(x, y T) int
	lo, hi int
}

func (p *pqSorter[T]) c(i, j int) int { return p.cmp(p.a[i], p.a[j]) }

func (p *pqSorter[T]) swap(i, j int) { p.a[i], p.a[j] = p.a[j], p.a[i] }

// swapRun exchanges the n elements from i with the n from j, in order.
func (p *pqSorter[T]) swapRun(i, j, n int) {
	for k := 0; k < n; k++ {
		p.swap(i+k, j+k)
	}
}

// median is the index of the median of the elements at i, j and k.
func (p *pqSorter[T]) median(i, j, k int) int {
	if p.c(i, j) < 0 {
		if p.c(j, k) < 0 {
			return j
		}
		if p.c(i, k) < 0 {
			return k
		}
		return i
	}
	if p.c(j, k) > 0 {
		return j
	}
	if p.c(i, k) < 0 {
		return i
	}
	return k
}

// wanted reports whether the n elements from base overlap lo..hi.
func (p *pqSorter[T]) wanted(base, n int) bool {
	last := base + n - 1
	return !(p.lo < base && p.hi < base || p.lo > last && p.hi > last)
}

func (p *pqSorter[T]) sort(base, n int) {
	for {
		if n < 7 { // insertion sort
			for m := base + 1; m < base+n; m++ {
				for l := m; l > base && p.c(l-1, l) > 0; l-- {
					p.swap(l, l-1)
				}
			}
			return
		}
		mid := base + n/2
		if n > 7 {
			first, last := base, base+n-1
			if n > 40 { // pseudo-median of nine
				d := n / 8
				first = p.median(first, first+d, first+2*d)
				mid = p.median(mid-d, mid, mid+d)
				last = p.median(last-2*d, last-d, last)
			}
			mid = p.median(first, mid, last)
		}
		p.swap(base, mid)
		// Three-way partition around the pivot at base: equal elements
		// collect at both ends ([base+1, a) and (d, end)), then move to
		// the middle.
		a, b := base+1, base+1
		c, d := base+n-1, base+n-1
		for {
			for b <= c {
				r := p.c(b, base)
				if r > 0 {
					break
				}
				if r == 0 {
					p.swap(a, b)
					a++
				}
				b++
			}
			for b <= c {
				r := p.c(c, base)
				if r < 0 {
					break
				}
				if r == 0 {
					p.swap(c, d)
					d--
				}
				c--
			}
			if b > c {
				break
			}
			p.swap(b, c)
			b++
			c--
		}
		end := base + n
		r := min(a-base, b-a)
		p.swapRun(base, b-r, r)
		r = min(d-c, end-d-1)
		p.swapRun(b, end-r, r)
		if r = b - a; r > 1 && p.wanted(base, r) {
			p.sort(base, r)
		}
		if r = d - c; r > 1 && p.wanted(end-r, r) {
			base, n = end-r, r // the second part by iteration
			continue
		}
		return
	}
}
