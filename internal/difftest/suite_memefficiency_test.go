package difftest

import (
	"strconv"
	"strings"
	"testing"
)

// TestSuiteMemEfficiency is Redis's memefficiency.tcl "Memory efficiency
// with values in range N", in our words: 10,000 pipelined SETs of values
// of pseudo-random length below N (the same on both servers), and the
// bytes written
// (key, value and two separator bytes each) over the growth of INFO
// used_memory must reach Redis's minimum ratio for N. Crescent's
// used_memory is its own model of the data's size (memory.md), so each
// server is held to the bound rather than compared with the other.
// (Active defrag: Crescent has none; CONFIG SET activedefrag yes answers
// Redis's error for a build without it, config.txt.)
func TestSuiteMemEfficiency(t *testing.T) {
	p := StartPair(t)
	for _, c := range []struct {
		rng int
		min float64
	}{{32, 0.15}, {64, 0.25}, {128, 0.35}, {1024, 0.75}, {16384, 0.82}} {
		for _, s := range []*Server{p.Redis, p.Crescent} {
			conn := Dial(t, s)
			conn.MustDo(t, "FLUSHALL")
			base, _ := strconv.ParseInt(infoField(t, conn, "memory", "used_memory"), 10, 64)
			var buf []byte
			written, seed := int64(0), uint32(1)
			for j := 0; j < 10000; j++ {
				seed = seed*1103515245 + 12345
				k, v := "key:"+strconv.Itoa(j), strings.Repeat("A", int(seed>>8)%c.rng)
				buf = append(buf, EncodeStrings("SET", k, v)...)
				written += int64(len(k) + len(v) + 2)
			}
			if err := conn.Send(buf); err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 10000; j++ {
				if _, err := conn.Read(); err != nil {
					t.Fatal(err)
				}
			}
			cur, _ := strconv.ParseInt(infoField(t, conn, "memory", "used_memory"), 10, 64)
			eff := float64(written) / float64(cur-base)
			t.Logf("%s: range %d: efficiency %.3f", s.Name, c.rng, eff)
			if eff < c.min {
				t.Errorf("%s: range %d: efficiency %.3f < %.2f", s.Name, c.rng, eff, c.min)
			}
			conn.MustDo(t, "FLUSHALL")
			conn.Close()
		}
	}
}
