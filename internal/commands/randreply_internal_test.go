package commands

import (
	"strconv"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// TestRandomReplyBound checks maxRandomReply, the bound of a negative
// count's reply with no output limit to stop it (Crescent's own: Redis
// builds the reply whatever its size). Lowered to 100 KB here: a reply
// under it is whole, one past it is replaced by errRandomReply before it
// grows much further (the guard looks at the reply every 16 KB or a
// sixteenth of it), and a count whose least reply passes it is refused
// before anything is built, unless the client's output limit is under
// the bound (that limit then closes the client first), for each command
// and writer protocol.
func TestRandomReplyBound(t *testing.T) {
	defer func(n int) { maxRandomReply = n }(maxRandomReply)
	maxRandomReply = 100 << 10
	s := keyspace.New(1, keyspace.Hooks{})
	db := s.DB(0, 1_000_000)
	h := &Handlers{}
	var limit int64 // the client's output limit (resp.Writer.Limit)
	run := func(fn command.Handler, proto int, args ...string) (string, int) {
		a := make([][]byte, len(args))
		for i, s := range args {
			a[i] = []byte(s)
		}
		w := resp.NewWriter()
		w.Proto = proto
		w.Limit = func() int64 { return limit }
		w.Buf = append(w.Buf, "+earlier reply\r\n"...) // the batch so far stays
		c := &command.Ctx{Args: a, W: w, DB: db, Spec: &command.Spec{Name: strings.ToLower(args[0])}}
		fn(c)
		return string(w.Buf), cap(w.Buf)
	}
	run(h.hset, 2, "HSET", "h", "a", "b")
	run(h.sadd, 2, "SADD", "s", "a")
	run(h.sadd, 2, "SADD", "i", "7")
	run(h.zadd, 2, "ZADD", "z", "1", "a")
	const errReply = "+earlier reply\r\n-" + errRandomReply + "\r\n"
	for _, tc := range []struct {
		fn    command.Handler
		args  []string
		size  int // of an element's reply, RESP2
		least int // the least an element's reply can be (the count check's)
	}{
		{h.hrandfield, []string{"HRANDFIELD", "h"}, 7, 6},
		{h.hrandfield, []string{"HRANDFIELD", "h", "WITHVALUES"}, 14, 12},
		{h.srandmember, []string{"SRANDMEMBER", "s"}, 7, 6},
		{h.srandmember, []string{"SRANDMEMBER", "i"}, 7, 6},
		{h.zrandmember, []string{"ZRANDMEMBER", "z", "WITHSCORES"}, 14, 10},
	} {
		for _, proto := range []int{2, 3} {
			name := strings.Join(tc.args, " ")
			withCount := func(n string) []string {
				a := append([]string{}, tc.args[:2]...)
				a = append(a, n)
				return append(a, tc.args[2:]...)
			}
			under := (80 << 10) / tc.size // about 80 KB
			got, _ := run(tc.fn, proto, withCount("-"+strconv.Itoa(under))...)
			if !strings.HasPrefix(got, "+earlier reply\r\n*") || len(got) < under*tc.size {
				t.Errorf("%s -%d (RESP%d): %d bytes %.60q, want the whole reply", name, under, proto, len(got), got)
			}
			for _, tl := range []struct {
				n      string
				limit  int64
				minCap int // of the buffer: how much was built before the error
				maxCap int
			}{
				// the most the count check lets through: the bound is
				// passed while the reply is built
				{strconv.Itoa((100 << 10) / tc.least), 0, 100 << 10, 1 << 20},
				// a count too large for the bound: refused before any is built
				{"20000000", 0, 0, resp.GuardStep},
				{"20000000", 200 << 10, 0, resp.GuardStep}, // a limit above the bound
				// a limit under the bound closes the client first (the
				// server's Guard, absent here): the loop runs to the bound
				{"20000000", 50 << 10, 100 << 10, 1 << 20},
			} {
				limit = tl.limit
				got, c := run(tc.fn, proto, withCount("-"+tl.n)...)
				if got != errReply {
					t.Errorf("%s -%s (RESP%d, limit %d): %.80q, want %q", name, tl.n, proto, tl.limit, got, errReply)
				}
				if c < tl.minCap || c > tl.maxCap {
					t.Errorf("%s -%s (RESP%d, limit %d): a buffer of %d bytes, want %d to %d", name, tl.n, proto, tl.limit, c, tl.minCap, tl.maxCap)
				}
			}
			limit = 0
		}
	}
}
