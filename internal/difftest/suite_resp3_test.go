package difftest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSuiteCorporaRESP3 runs the corpora of Redis's dump, bitops,
// bitfield, HyperLogLog, geo, sort and scan tests a second time in RESP3
// (TestCorpus runs them in RESP2), against a pair of servers of their own.
func TestSuiteCorporaRESP3(t *testing.T) {
	p := StartPair(t)
	for _, name := range []string{"suite_dump", "suite_bitops", "suite_bitfield", "suite_hyperloglog", "suite_geo", "suite_sort", "suite_scan"} {
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			p.Run(t, name+".txt (RESP3)", "@resp3\n"+string(text))
		})
	}
}
