package difftest

import (
	"bytes"
	"testing"
)

// unorderedStream is a stream payload whose node key (its entries' base
// ID) was corrupted upwards, so that its entries lie above its last ID
// (3-5): Redis 7.0.15 restores it with sanitize-dump-payload yes.
const unorderedStream = "130110000095000000008000000000000000014045450000001a000201010102018166028167020001020100010001817602817702050101010101dfff02010181660282763203060100010201040101018168028178020601ff020305010102000301036772700200020200000000000000010000000000000001e1938c1ea20100000100000000000000020000000000000000e1938c1ea2010000010205616c696365e1938c1ea201000002000000000000000100000000000000010000000000000002000000000000000003626f6213948c1ea2010000000a00566c6bb21d2d495f"

// TestRestoreOwnDumpOfUnorderedStream: XADD of an ID between the stream's
// last ID and its entries puts an entry below its node's base ID, in Redis
// and in Crescent alike; the DUMP of the result restores in Redis, and must
// in Crescent too (its loader refused an entry below its node's base, so
// DEBUG RELOAD or a restart would have failed).
func TestRestoreOwnDumpOfUnorderedStream(t *testing.T) {
	p := StartPair(t)
	var dumps [2][]byte
	for i, s := range []*Server{p.Redis, p.Crescent} {
		c := Dial(t, s)
		c.MustDo(t, "CONFIG", "SET", "sanitize-dump-payload", "yes")
		if rep := c.MustDo(t, "RESTORE", "k", "0", string(mustHex(unorderedStream))); string(rep) != "+OK\r\n" {
			t.Fatalf("%s: RESTORE: %q", s.Name, rep)
		}
		c.MustDo(t, "XADD", "k", "9999999999999-1", "n", "1")
		v, _, _ := Parse(c.MustDo(t, "DUMP", "k"))
		dumps[i] = v.Str
		if rep := c.MustDo(t, "RESTORE", "k2", "0", string(v.Str)); string(rep) != "+OK\r\n" {
			t.Fatalf("%s: RESTORE of its own DUMP: %q", s.Name, rep)
		}
		if rep := c.MustDo(t, "DEBUG", "RELOAD"); string(rep) != "+OK\r\n" {
			t.Fatalf("%s: DEBUG RELOAD: %q", s.Name, rep)
		}
	}
	if !bytes.Equal(dumps[0], dumps[1]) {
		t.Errorf("DUMP: redis %x, crescent %x", dumps[0], dumps[1])
	}
}
