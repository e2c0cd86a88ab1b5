package difftest

import (
	"strings"
	"testing"
)

// TestStreamSignals checks, for the stream commands that change a
// stream without adding or removing entries (consumer groups, XSETID,
// XACK, XCLAIM...), whether they signal the key as modified as Redis
// 7.0 does: whether a WATCH of the key on another client makes its
// EXEC fail, and whether a tracking client that read the key gets an
// invalidation.
func TestStreamSignals(t *testing.T) {
	const stream = "xadd s 1-0 f v;xadd s 2-0 f v;xgroup create s g 0;xreadgroup group g c1 streams s >"
	cases := []struct {
		setup string // commands separated by ";"
		cmd   string
	}{
		{stream, "XSETID s 5-0"},
		{stream, "XSETID s 5-0 ENTRIESADDED 9 MAXDELETEDID 3-0"},
		{stream, "XSETID s 1-0"},
		{stream, "XGROUP CREATE s g2 $"},
		{stream, "XGROUP CREATE s g 0"},
		{"", "XGROUP CREATE s g $ MKSTREAM"},
		{stream, "XGROUP CREATE s g2 0 MKSTREAM"},
		{stream, "XGROUP SETID s g 0"},
		{stream, "XGROUP SETID s g $ ENTRIESREAD 2"},
		{stream, "XGROUP DESTROY s g"},
		{stream, "XGROUP DESTROY s nog"},
		{stream, "XGROUP CREATECONSUMER s g c2"},
		{stream, "XGROUP CREATECONSUMER s g c1"},
		{stream, "XGROUP DELCONSUMER s g c1"},
		{stream, "XGROUP DELCONSUMER s g nobody"},
		{stream, "XACK s g 1-0"},
		{stream, "XACK s g 9-0"},
		{stream, "XCLAIM s g c2 0 1-0"},
		{stream, "XCLAIM s g c2 0 1-0 JUSTID"},
		{stream, "XCLAIM s g c2 0 9-0"},
		{stream, "XCLAIM s g c2 0 1-0 FORCE"},
		{stream + ";xdel s 1-0", "XCLAIM s g c2 0 1-0"},
		{stream, "XAUTOCLAIM s g c2 0 0"},
		{stream, "XAUTOCLAIM s g c2 0 0 JUSTID"},
		{stream + ";xdel s 1-0", "XAUTOCLAIM s g c2 0 0"},
		{stream + ";xadd s 3-0 f v", "XREADGROUP GROUP g c2 STREAMS s >"},
		{stream + ";xadd s 3-0 f v", "XREADGROUP GROUP g c2 NOACK STREAMS s >"},
		{stream, "XREADGROUP GROUP g c1 STREAMS s 0"},
		{stream, "XREADGROUP GROUP g c3 STREAMS s >"},
		{stream + ";xdel s 1-0", "XREADGROUP GROUP g c1 STREAMS s 0"},
		{stream, "XADD s 3-0 f v"},
		{stream, "XDEL s 1-0"},
		{stream, "XTRIM s MAXLEN 1"},
		{stream, "XTRIM s MAXLEN 5"},
	}
	p := StartPair(t)
	for _, tc := range cases {
		t.Run(tc.setup+"|"+tc.cmd, func(t *testing.T) {
			var got [2]string
			for i, s := range []*Server{p.Redis, p.Crescent} {
				ctl := Dial(t, s)
				flushAndRun(t, ctl, tc.setup)
				tr, w, b := Dial(t, s), Dial(t, s), Dial(t, s)
				if err := tr.Hello3(); err != nil {
					t.Fatal(err)
				}
				tr.MustDo(t, "CLIENT", "TRACKING", "on")
				tr.MustDo(t, "EXISTS", "s")
				w.MustDo(t, "WATCH", "s")
				got[i] = "reply " + string(b.MustDo(t, strings.Fields(tc.cmd)...))
				w.MustDo(t, "MULTI")
				w.MustDo(t, "PING")
				got[i] += " exec " + string(w.MustDo(t, "EXEC"))
				got[i] += " pushes "
				got[i] += pushesUntilPong(t, tr, i, got[i])
				for _, c := range []*Conn{ctl, tr, w, b} {
					c.Close()
				}
			}
			if got[0] != got[1] {
				t.Errorf("redis:    %q\ncrescent: %q", got[0], got[1])
			}
		})
	}
}
