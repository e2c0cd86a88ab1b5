package commands_test

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/difftest"
)

// hllHeader returns an HLL header with the given encoding byte (0 dense, 1
// sparse) and a cached cardinality marked stale, so that PFCOUNT reads
// the registers.
func hllHeader(enc byte) []byte {
	return []byte{'H', 'Y', 'L', 'L', enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}
}

// hllAllowedErrors are the errors a corrupted HLL may produce.
var hllAllowedErrors = []string{
	"-INVALIDOBJ Corrupted HLL object detected\r\n",
	"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n",
	"-ERR HLL encoding is not sparse\r\n",
}

// hllProbe runs every HLL command on key and fails when a reply is an
// error outside hllAllowedErrors, or when the connection breaks (a crash).
func hllProbe(t *testing.T, c *difftest.Conn, key string) {
	t.Helper()
	for _, args := range [][]string{
		{"PFCOUNT", key}, {"PFCOUNT", key, "other"}, {"PFMERGE", "dst", key}, {"PFMERGE", key, "other"},
		{"PFDEBUG", "GETREG", key}, {"PFDEBUG", "DECODE", key}, {"PFDEBUG", "ENCODING", key},
		{"PFDEBUG", "TODENSE", key}, {"PFADD", key, "a", "b", "c"}, {"PFCOUNT", key},
	} {
		got, err := c.Do(args...)
		if err != nil {
			t.Fatalf("%v: %v (server gone?)", args, err)
		}
		if got[0] == '-' {
			ok := false
			for _, e := range hllAllowedErrors {
				ok = ok || string(got) == e
			}
			if !ok {
				t.Fatalf("%v = %q", args, got)
			}
		}
	}
	if got := string(c.MustDo(t, "PING")); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
}

// TestHyperLogLogCorruptNoCrash feeds Crescent corrupted HLLs: random
// bytes overwritten in sparse and dense HLLs, and crafted sparse payloads
// (runs past the 16384 registers, a run total that overflows a 32-bit
// counter as in CVE-2025-32023, a truncated XZERO, no opcodes at all). It
// checks that every HLL command answers (INVALIDOBJ, WRONGTYPE or a value)
// and never crashes. Redis 7.0.15 may crash on the overflowing payload, so
// this test runs on Crescent only; the random corruptions of Redis's own
// test are compared with Redis in suite_hyperloglog.txt.
func TestHyperLogLogCorruptNoCrash(t *testing.T) {
	c := difftest.Dial(t, difftest.StartCrescent(t))
	c.MustDo(t, "PFADD", "other", "x", "y")

	r := rand.New(rand.NewPCG(18, 2026))
	for i := 0; i < 300; i++ {
		c.MustDo(t, "DEL", "hll")
		n := r.IntN(3000)
		args := []string{"PFADD", "hll"}
		for j := 0; j < n; j++ {
			args = append(args, strings.Repeat("e", 1+r.IntN(3))+string(rune('a'+r.IntN(26)))+string(rune('0'+j%10))+string(rune('A'+(j/10)%26))+string(rune('a'+(j/260)%26)))
		}
		c.MustDo(t, args...)
		if i%3 == 0 {
			c.MustDo(t, "PFDEBUG", "TODENSE", "hll")
		}
		for k := 0; k < 1+r.IntN(5); k++ {
			v, _, err := difftest.Parse(c.MustDo(t, "STRLEN", "hll"))
			if err != nil {
				t.Fatal(err)
			}
			l, err := strconv.Atoi(string(v.Str))
			if err != nil {
				t.Fatal(err)
			}
			if l == 0 {
				break
			}
			c.MustDo(t, "SETRANGE", "hll", itoa(r.IntN(l)), string([]byte{byte(r.IntN(256))}))
		}
		hllProbe(t, c, "hll")
	}

	xzero := []byte{0x7f, 0xff} // XZERO of 16384 registers
	crafted := map[string][]byte{
		"no opcodes":      hllHeader(1),
		"truncated xzero": append(hllHeader(1), 0x40),
		"val past end":    append(append(hllHeader(1), bytes.Repeat(xzero, 1)...), 0x80),
		"zero past end":   append(append(hllHeader(1), bytes.Repeat(xzero, 2)...), 0x80),
		"int32 overflow":  append(append(hllHeader(1), bytes.Repeat(xzero, 140000)...), 0x80, 0x84),
		"vals past end":   append(hllHeader(1), bytes.Repeat([]byte{0x83}, 5000)...),
		"short dense":     append(hllHeader(0), make([]byte, 100)...),
		"long dense":      append(hllHeader(0), make([]byte, 12289)...),
		"raw encoding":    append(hllHeader(2), make([]byte, 16384)...),
	}
	for name, payload := range crafted {
		t.Run(name, func(t *testing.T) {
			c.MustDo(t, "SET", "crafted", string(payload))
			if got := string(c.MustDo(t, "PFCOUNT", "crafted")); got[0] != '-' {
				t.Errorf("PFCOUNT of %s = %q, want an error", name, got)
			}
			hllProbe(t, c, "crafted")
		})
	}
}
