package difftest

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestRandomSortLimit checks SORT ... BY ... LIMIT against redis-server on
// random lists and intsets (the sources whose order Redis fixes) with
// weights full of ties and missing ones: Redis sorts a BY with a LIMIT
// with pqsort, which leaves equal weights in an order of its own (ALPHA
// BY); without LIMIT, or without BY, glibc's stable qsort. Sorted sets
// take part without ALPHA BY: Redis converts them to a skiplist first and
// loads them in its hash table's order (a per-process random seed), so
// only orders without ties are comparable (numeric ties fall back to the
// elements).
func TestRandomSortLimit(t *testing.T) {
	p := StartPair(t)
	conns := [2]*Conn{Dial(t, p.Redis), Dial(t, p.Crescent)}
	do := func(args ...string) [2][]byte {
		var out [2][]byte
		for i, c := range conns {
			b, err := c.Do(args...)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = b
		}
		return out
	}
	weights := []string{"a", "b", "c", "ab", "1", "2", "10", "-1", "1.5", ""}
	for _, seed := range randomSeeds() {
		r := rand.New(rand.NewPCG(seed, 0x5047))
		for round := 0; round < 40; round++ {
			do("FLUSHALL")
			n := r.IntN(70)
			distinct := r.IntN(2) == 0
			kind := r.IntN(3)
			var elems []string
			for i := 0; i < n; i++ {
				v := r.IntN(40)
				if distinct {
					v = i*3 + r.IntN(3)
				}
				elems = append(elems, strconv.Itoa(v))
			}
			key := "rs:l"
			switch kind {
			case 0:
				if n > 0 {
					do(append([]string{"RPUSH", key}, elems...)...)
				}
			case 1: // an intset: ascending order in both
				key = "rs:s"
				if n > 0 {
					do(append([]string{"SADD", key}, elems...)...)
				}
			case 2: // a sorted set
				key = "rs:z"
				for i, e := range elems {
					do("ZADD", key, strconv.Itoa(r.IntN(5)+i%3), e)
				}
			}
			for _, e := range elems {
				if r.IntN(4) > 0 {
					do("SET", "w_"+e, weights[r.IntN(len(weights))])
				}
				if r.IntN(3) > 0 {
					do("HSET", "h_"+e, "f", weights[r.IntN(4)])
				}
			}
			for q := 0; q < 12; q++ {
				args := []string{"SORT", key}
				switch r.IntN(4) {
				case 0:
					args = append(args, "BY", "w_*")
				case 1:
					args = append(args, "BY", "h_*->f")
				case 2:
					args = append(args, "BY", "nosuch_*")
				}
				if r.IntN(3) > 0 && !(kind == 2 && len(args) > 2) {
					args = append(args, "ALPHA")
				}
				if r.IntN(2) == 0 {
					args = append(args, "DESC")
				}
				if r.IntN(5) > 0 {
					args = append(args, "LIMIT", strconv.Itoa(r.IntN(n+3)-1), strconv.Itoa(r.IntN(n+3)-1))
				}
				if r.IntN(3) == 0 {
					args = append(args, "GET", "#", "GET", "w_*")
				}
				store := r.IntN(4) == 0
				if store {
					args = append(args, "STORE", "rs:dst")
				}
				got := do(args...)
				if store && bytes.Equal(got[0], got[1]) {
					got = do("LRANGE", "rs:dst", "0", "-1")
				}
				if !bytes.Equal(got[0], got[1]) {
					t.Errorf("seed %d: %q\n  redis:    %q\n  crescent: %q", seed, args, got[0], got[1])
				}
			}
		}
	}
}
