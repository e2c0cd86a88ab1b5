package difftest

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// globBytes is what TestRandomGlob's keys and patterns are made of: the
// pattern syntax, both cases, a range's neighbours and bytes that are
// negative as C chars.
const globBytes = "*?[]^-\\aAbBz\x80\xff"

// TestRandomGlob checks Crescent's glob matcher (internal/glob, Redis's
// stringmatchlen) against redis-server through the commands that match:
// KEYS, SCAN MATCH, HSCAN MATCH and PUBSUB CHANNELS on random keys (the
// empty key among them) and random patterns, and COMMAND LIST FILTERBY
// PATTERN for the case-insensitive form.
func TestRandomGlob(t *testing.T) {
	p := StartPair(t)
	for _, seed := range randomSeeds() {
		r := rand.New(rand.NewPCG(seed, 0x610b))
		gen := func(max int) string {
			b := make([]byte, r.IntN(max+1))
			for i := range b {
				b[i] = globBytes[r.IntN(len(globBytes))]
			}
			return string(b)
		}
		conns := [2]*Conn{Dial(t, p.Redis), Dial(t, p.Crescent)}
		subs := [2]*Conn{Dial(t, p.Redis), Dial(t, p.Crescent)}
		keys := []string{""}
		for len(keys) < 40 {
			keys = append(keys, gen(5))
		}
		for i, c := range conns {
			c.MustDo(t, "FLUSHALL")
			args := []string{"SUBSCRIBE"}
			for _, k := range keys {
				c.MustDo(t, "SET", k, "v")
				c.MustDo(t, "HSET", "glob:hash", k, "v")
				args = append(args, k)
			}
			if err := subs[i].SendCmd(args...); err != nil {
				t.Fatal(err)
			}
			for range keys {
				if _, err := subs[i].Read(); err != nil {
					t.Fatal(err)
				}
			}
		}
		cmdPat := func() string { // over command names, with case
			const b = "*?[]^-\\aAeEsStTlL"
			s := make([]byte, r.IntN(7))
			for i := range s {
				s[i] = b[r.IntN(len(b))]
			}
			return string(s)
		}
		for i := 0; i < 400; i++ {
			pat := gen(7)
			if i%4 == 0 {
				pat = "*" + pat
			}
			cmds := [][]string{
				{"KEYS", pat},
				{"PUBSUB", "CHANNELS", pat},
				{"COMMAND", "LIST", "FILTERBY", "PATTERN", cmdPat()},
			}
			for _, cmd := range cmds {
				var got [2][]byte
				for j, c := range conns {
					b, err := c.Do(cmd...)
					if err != nil {
						t.Fatal(err)
					}
					got[j] = SortedReply(b)
				}
				if !bytes.Equal(got[0], got[1]) {
					t.Errorf("seed %d: %q\n  redis:    %q\n  crescent: %q", seed, cmd, got[0], got[1])
				}
			}
			if i%8 == 0 {
				for _, cmd := range [][]string{
					{"SCAN", "0", "MATCH", pat, "COUNT", "50"},
					{"HSCAN", "glob:hash", "0", "MATCH", pat},
				} {
					var got [2][]byte
					for j, c := range conns {
						args := make([][]byte, len(cmd))
						for k, a := range cmd {
							args[k] = []byte(a)
						}
						b, err := scanAll(c, args)
						if err != nil {
							t.Fatal(err)
						}
						got[j] = b
					}
					if !bytes.Equal(got[0], got[1]) {
						t.Errorf("seed %d: %q\n  redis:    %q\n  crescent: %q", seed, cmd, got[0], got[1])
					}
				}
			}
		}
		for _, c := range append(conns[:], subs[:]...) {
			c.Close()
		}
	}
}
