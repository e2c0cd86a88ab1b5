package lua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
)

// layoutHost answers redis.call with RESP3 aggregates whose Lua tables'
// layout matters: "hmget" pattern (an array, '.' for a null), "map n" (a
// map of n one-letter fields a, b, c... with values 1, 2, 3...).
type layoutHost struct{ fakeHost }

func (h *layoutHost) Call(args [][]byte, w resp.ReplyWriter) {
	switch string(args[0]) {
	case "hmget":
		p := string(args[1])
		w.Array(len(p))
		for i, c := range p {
			if c == '.' {
				w.Null()
			} else {
				w.Int(int64(i + 1))
			}
		}
	case "map":
		var n int
		fmt.Sscan(string(args[1]), &n)
		w.Map(n)
		for i := 0; i < n; i++ {
			w.BulkString(string(rune('a' + i)))
			w.Int(int64(i + 1))
		}
	default:
		h.fakeHost.Call(args, w)
	}
}

func runLayout(t testing.TB, e *Engine, code string) string {
	fn, err := e.Compile("user_script", []byte(code))
	if err != nil {
		t.Fatalf("compile %q: %v", code, err)
	}
	w := resp.NewWriter()
	r := &script.Run{W: w, Host: &layoutHost{}, Name: "x", Resp: 2}
	e.Call(r, fn, nil, nil)
	return string(w.Buf)
}

// TestReplyTableLayout checks what depends on the layout of the tables
// RESP3 replies become, against redis-server 7.0.15's answers: Redis
// builds them from an empty table key by key, nil values included, so
// the length of an array with nulls and the pairs order of a map follow
// the table's growth.
func TestReplyTableLayout(t *testing.T) {
	e := New(Options{})
	for _, c := range []struct{ code, want string }{
		// HMGET h a b c with b missing: # is 1 (Redis), not 3
		{"redis.setresp(3) return #redis.call('hmget', 'x.x')", ":1\r\n"},
		{"redis.setresp(3) return redis.call('hmget', 'x.x')", "*1\r\n:1\r\n"},
		{"redis.setresp(3) return #redis.call('hmget', '.x.x.')", ":0\r\n"},
		{"redis.setresp(3) return #redis.call('hmget', 'xxx')", ":3\r\n"},
		{"redis.setresp(3) local o = {} for k in pairs(redis.call('hmget', '.x..xxx.xxx')) do o[#o+1] = k end return o",
			"*7\r\n:6\r\n:2\r\n:10\r\n:11\r\n:9\r\n:5\r\n:7\r\n"},
		{"redis.setresp(3) return #redis.call('hmget', '.x..xxx.xxx')", ":0\r\n"},
		// HGETALL of a listpack hash a=1 ... j=10 returned as a map
		{"redis.setresp(3) local o = {} for k in pairs(redis.call('map', '10').map) do o[#o+1] = k end return table.concat(o, ' ')",
			"$19\r\na c b e d g f i h j\r\n"},
	} {
		if got := runLayout(t, e, c.code); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.code, got, c.want)
		}
	}
}

// BenchmarkReplyMapToLua measures a RESP3 map reply of 16 fields becoming
// a Lua table grown key by key (as Redis builds it).
func BenchmarkReplyMapToLua(b *testing.B) {
	e := New(Options{})
	fn, _ := e.Compile("user_script", []byte("redis.setresp(3) local r = redis.call('map', '16') return 1"))
	w := resp.NewWriter()
	r := &script.Run{W: w, Host: &layoutHost{}, Name: "x", Resp: 2}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Reset()
		e.Call(r, fn, nil, nil)
	}
	if !strings.HasPrefix(string(w.Buf), ":1") {
		b.Fatalf("reply %q", w.Buf)
	}
}
