package rdb

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLZFRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := make([]byte, 5000)
	for i := range rnd {
		rnd[i] = byte(r.IntN(4) + 'a')
	}
	cases := map[string][]byte{
		"repeat":   []byte(strings.Repeat("a", 1000)),
		"pattern":  []byte(strings.Repeat("hello world ", 300)),
		"random4":  rnd,
		"short":    []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		"mixedrun": []byte("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			c := LZFCompress(in)
			if c == nil {
				t.Fatalf("not compressed")
			}
			out, err := LZFDecompress(c, len(in))
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("round trip failed: %v", err)
			}
		})
	}
	if LZFCompress([]byte("abcdefgh")) != nil {
		t.Fatal("incompressible input compressed")
	}
}

func FuzzLZF(f *testing.F) {
	f.Add([]byte("hello hello hello hello"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if c := LZFCompress(in); c != nil {
			out, err := LZFDecompress(c, len(in))
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("round trip failed: %v", err)
			}
		}
		LZFDecompress(in, 100) // must not panic
	})
}
