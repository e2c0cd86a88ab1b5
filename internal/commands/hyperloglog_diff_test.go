package commands_test

import (
	"bytes"
	"fmt"
	"testing"
)

var hllCases = []dtCase{
	{"pfadd-basic", []string{
		"PFADD hll", "GET hll", "PFCOUNT hll", "PFADD hll a b c d", "GET hll", "PFCOUNT hll", "PFADD hll a", "PFCOUNT hll",
		"PFADD hll1 x y z a", "PFCOUNT hll hll1", "PFCOUNT hll hll1 nokey", "PFMERGE hll2 hll hll1", "GET hll2", "PFCOUNT hll2",
		"PFMERGE hll3", "GET hll3", "PFMERGE hll3 nokey", "GET hll3", "PFCOUNT nokey", "PFCOUNT nokey nokey2",
	}},
	{"pf-errors", []string{
		"SET str hello", "PFADD str a", "PFCOUNT str", "PFCOUNT str hll", "PFMERGE hll str", "PFMERGE str hll",
		"ZADD k 1 a", "PFADD k a", "PFCOUNT k", "PFMERGE hll k", "SET str HYLLxxxxxxxxxxxxxxxxxx", "PFCOUNT str",
		"SET str \"HYLL\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"", "PFCOUNT str", "PFADD str a",
		"SET str \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\"", "PFCOUNT str",
		"SET str \"HYLL\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"", "PFCOUNT str",
	}},
}

func TestHyperLogLogDiff(t *testing.T) { dtRun(t, hllCases) }

// TestHyperLogLogBytes adds thousands of elements in batches and compares
// the stored HLL bytes and PFCOUNT after each batch (covering the sparse
// encoding, its promotion to dense, and the dense encoding).
func TestHyperLogLogBytes(t *testing.T) {
	p := dtNewPair(t, 2)
	p.reset()
	elem := 0
	for batch := 0; batch < 60; batch++ {
		n := 10
		if batch > 20 {
			n = 400
		}
		args := [][]byte{[]byte("PFADD"), []byte("hll")}
		for i := 0; i < n; i++ {
			args = append(args, []byte(fmt.Sprintf("element:%d", elem)))
			elem++
		}
		for _, cmd := range [][][]byte{args, {[]byte("GET"), []byte("hll")}, {[]byte("PFCOUNT"), []byte("hll")}, {[]byte("GET"), []byte("hll")}} {
			a, err := p.cres.Do(cmd...)
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.real.Do(cmd...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("batch %d (%d elements) %s differs:\n crescent %d bytes %.80q\n    redis %d bytes %.80q", batch, elem, cmd[0], len(a), a, len(b), b)
			}
		}
	}
	// merges of sparse and dense HLLs
	for _, line := range []string{"PFADD hll1 a b c", "PFMERGE hll2 hll1", "GET hll2", "PFMERGE hll1 hll", "GET hll1",
		"PFCOUNT hll1 hll2", "PFMERGE hll2 hll1 hll", "GET hll2", "PFCOUNT hll2"} {
		a, b := p.both(line)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs:\n crescent %.80q\n    redis %.80q", line, a, b)
		}
	}
}
