package codec

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

func codecs() *rdb.Codecs {
	c := rdb.NewCodecs()
	Register(c, DefaultLimits())
	return c
}

func sampleValues() map[string]any {
	l := keyspace.NewList()
	h := keyspace.NewHash()
	hl := keyspace.NewHash()
	s := keyspace.NewSet()
	ss := keyspace.NewSet()
	z := keyspace.NewZSet(true)
	zl := keyspace.NewZSet(false)
	st := keyspace.NewStream()
	lim := keyspace.HashLimits{Entries: 128, Value: 64}
	for i := 0; i < 300; i++ {
		v := []byte(strconv.Itoa(i * 1001))
		l.PushBack(v)
		hl.Set([]byte(fmt.Sprintf("f%d", i)), v, lim)
		ss.Add([]byte(fmt.Sprintf("m%d", i)), 512)
		zl.Set(fmt.Sprintf("m%d", i), float64(i)/3)
		st.Append(keyspace.StreamID{Ms: uint64(i / 2), Seq: uint64(i % 2)}, [][]byte{[]byte("f"), v}, 100, 4096)
		if i < 10 {
			h.Set([]byte(fmt.Sprintf("f%d", i)), v, lim)
			s.Add(v, 512)
			z.Set(fmt.Sprintf("m%d", i), float64(i)*1.5)
		}
	}
	st.Delete(keyspace.StreamID{Ms: 3, Seq: 1})
	g := st.CreateGroup([]byte("g"), keyspace.StreamID{Ms: 5}, 11)
	c := g.CreateConsumer([]byte("c"), 1700000000000)
	pe := &keyspace.PendingEntry{ID: keyspace.StreamID{Ms: 4}, DeliveryTime: 1700000000001, DeliveryCount: 2, Consumer: c}
	g.PEL.Insert(pe)
	c.PEL.Insert(pe)
	g.CreateConsumer([]byte("idle"), 1700000000002)
	return map[string]any{"list": l, "hash": h, "hashtable": hl, "intset": s, "set": ss,
		"zset": z, "skiplist": zl, "stream": st, "empty-stream": keyspace.NewStream()}
}

// TestRoundTrip: Save, Load and Save again give the same bytes, and
// Clone's copy saves the same bytes too.
func TestRoundTrip(t *testing.T) {
	c := codecs()
	for name, v := range sampleValues() {
		t.Run(name, func(t *testing.T) {
			p1, err := c.Dump(v, true)
			if err != nil {
				t.Fatal(err)
			}
			back, err := c.Restore(p1)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := c.Dump(back, true)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p1, p2) {
				t.Fatalf("payload changed over a round trip")
			}
			cl, ok := keyspace.Clone(v)
			if !ok {
				t.Fatal("no Clone")
			}
			if p3, _ := c.Dump(cl, true); !bytes.Equal(p1, p3) {
				t.Fatal("clone saves differently")
			}
			cd, _ := c.For(v)
			if len(cd.Rewrite([]byte("k"), v)) == 0 {
				t.Fatal("no rewrite commands")
			}
		})
	}
}

// FuzzRestore: no payload makes RESTORE panic.
func FuzzRestore(f *testing.F) {
	c := codecs()
	for _, v := range sampleValues() {
		p, _ := c.Dump(v, false)
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		// keep the checksum valid so the decoders see the mutations
		if len(p) >= 10 {
			body := p[:len(p)-8]
			crc := rdb.NewCRCTable().Update(0, body)
			p = append(append([]byte(nil), body...), byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24),
				byte(crc>>32), byte(crc>>40), byte(crc>>48), byte(crc>>56))
		}
		v, err := c.Restore(p)
		if err == nil {
			if _, err := c.Dump(v, false); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkSave(b *testing.B) {
	c := codecs()
	for _, name := range []string{"list", "hashtable", "skiplist", "stream"} {
		v := sampleValues()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			e := rdb.Encoder{}
			for i := 0; i < b.N; i++ {
				e.Buf = e.Buf[:0]
				if err := c.SaveValue(&e, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
