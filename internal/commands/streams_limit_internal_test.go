package commands

import (
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestStreamElementsTooLarge checks XADD's bound on an entry's bytes
// (Redis 7.0's STREAM_LISTPACK_MAX_SIZE, 1 GiB, over the fields and values
// together) without gigabytes: the elements are slices of one 1 MiB
// buffer. The error text and the empty stream a refused XADD leaves on a
// new key were compared with redis-server 7.0.15 by hand, with four 300 MB
// elements (docs/design/fidelity.md, lim20).
func TestStreamElementsTooLarge(t *testing.T) {
	mb := make([]byte, 1<<20)
	elems := func(n int, extra int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = mb
		}
		out[0] = make([]byte, extra) // a small first field
		return out
	}
	for _, tc := range []struct {
		n, extra int
		want     bool
	}{
		{2, 10, false},
		{1025, 0, false}, // 1024 MiB exactly: allowed
		{1025, 1, true},  // one byte more
		{1026, 10, true}, // 1025 MiB and a bit
		{4096, 0, true},  // 4 GiB
	} {
		if got := streamElementsTooLarge(elems(tc.n, tc.extra)); got != tc.want {
			t.Errorf("%d elements of 1 MiB but the first (%d bytes): %v, want %v", tc.n, tc.extra, got, tc.want)
		}
	}

	if streamElementsTooLarge([][]byte{{}, {}}) {
		t.Error("empty elements: too large")
	}

	// XADD: the ID checks come first; then the error, with the stream a new
	// key got kept, empty, and nothing changed or signalled
	s := keyspace.New(1, keyspace.Hooks{})
	db := s.DB(0, 1_000_000)
	h := &Handlers{}
	xadd := func(args ...[]byte) (string, *command.Ctx) {
		w := resp.NewWriter()
		events := 0
		c := &command.Ctx{Args: args, W: w, DB: db, Spec: &command.Spec{Name: "xadd"},
			Notify: func(byte, string, int, []byte, *command.Client) { events++ }}
		h.xadd(c)
		if events != 0 {
			t.Errorf("%d events", events)
		}
		return string(w.Buf), c
	}
	big := append([][]byte{[]byte("XADD"), []byte("st"), []byte("*")}, elems(1026, 10)...)
	got, c := xadd(big...)
	if got != "-"+errXAddTooLarge+"\r\n" || c.Dirty != 0 || !c.Failed {
		t.Errorf("XADD of 1025 MiB: %q, dirty %d, failed %v", got, c.Dirty, c.Failed)
	}
	if st, ok := db.Get([]byte("st")).(*keyspace.Stream); !ok || st.Len() != 0 {
		t.Errorf("after the refused XADD: %T, want an empty stream", db.Get([]byte("st")))
	}
	big[2] = []byte("0-1")
	if got, _ = xadd(big...); got != "-"+errXAddTooLarge+"\r\n" {
		t.Errorf("XADD 0-1 of 1025 MiB: %q", got)
	}
	big[2] = []byte("0-0") // the ID's own error comes first
	if got, _ = xadd(big...); got != "-"+errXAddZero+"\r\n" {
		t.Errorf("XADD 0-0 of 1025 MiB: %q", got)
	}
}
