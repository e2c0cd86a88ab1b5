package difftest

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBlockedServeAsClient checks what a blocked command does when it is
// served after a wake-up, against Redis 7.0, which serves it outside
// call() (handleClientsBlockedOnKeys, after the pusher's command) with
// server.current_client set to the served client: its keyspace events,
// invalidations and NOLOOP are the served client's; a woken XREAD does not
// track its keys again (no trackingRememberKeys); a woken BLPOP, BRPOP,
// BLMOVE or BRPOPLPUSH does not signal its source key as modified
// (serveClientBlockedOnList), while BLMPOP, BZPOPMIN, BZMPOP and BLMOVE's
// destination do. Each step runs on a client (w blocks, p pushes, t is a
// third client): what the step's client receives (replies and pushes, up
// to its last reply, a woken command's included) is compared.
// CRESCENT_SERVE_DUMP=1 logs every step.
// helloID matches the client ID in HELLO's reply.
var helloID = regexp.MustCompile(`\$2\r\nid\r\n:\d+`)

func TestBlockedServeAsClient(t *testing.T) {
	type step struct{ on, cmd string } // cmd: commands separated by ";"; "@block CMD" blocks
	cases := []struct {
		name  string
		steps []step
	}{
		{"noloop pusher, pop of a blocked BLPOP", []step{
			{"p", "HELLO 3;CLIENT TRACKING on NOLOOP"}, {"t", "HELLO 3;CLIENT TRACKING on"},
			{"w", "@block BLPOP l 0"},
			{"p", "MULTI;LPUSH l x;LLEN l;EXEC"}, {"t", "LLEN l"}, {"w", "PING"}, {"p", "PING"}, {"t", "PING"}}},
		{"tracking pusher, pop of a blocked BLMPOP", []step{
			{"p", "HELLO 3;CLIENT TRACKING on"}, {"w", "@block BLMPOP 0 1 l LEFT"},
			{"p", "MULTI;LPUSH l x y;LLEN l;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"tracking pusher, source of a blocked BLMOVE", []step{
			{"p", "HELLO 3;CLIENT TRACKING on"}, {"w", "@block BLMOVE l d LEFT LEFT 0"},
			{"p", "MULTI;LPUSH l x y;LLEN l;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"tracking pusher, BLMOVE l l", []step{
			{"p", "HELLO 3;CLIENT TRACKING on"}, {"w", "@block BLMOVE l l LEFT RIGHT 0"},
			{"p", "MULTI;LPUSH l x y;LLEN l;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"tracking pusher, pop of a blocked BZPOPMIN", []step{
			{"p", "HELLO 3;CLIENT TRACKING on"}, {"w", "@block BZPOPMIN z 0"},
			{"p", "MULTI;ZADD z 1 a 2 b;ZCARD z;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"tracking pusher, pop of a blocked BZMPOP", []step{
			{"p", "HELLO 3;CLIENT TRACKING on"}, {"w", "@block BZMPOP 0 1 z MIN"},
			{"p", "MULTI;ZADD z 1 a 2 b;ZCARD z;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"tracking pusher, a blocked XREADGROUP", []step{
			{"p", "HELLO 3;CLIENT TRACKING on;XGROUP CREATE s g $ MKSTREAM"}, {"w", "@block XREADGROUP GROUP g c BLOCK 0 STREAMS s >"},
			{"p", "MULTI;XADD s 1-1 f v;XLEN s;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"watch by the served client, BLPOP in its MULTI", []step{
			{"w", "@block BLPOP l 0"}, {"t", "WATCH l"},
			{"p", "LPUSH l x y"}, {"w", "PING"}, {"t", "MULTI;PING;EXEC"}}},
		{"noloop served client, pop of its BLPOP", []step{
			{"w", "HELLO 3;CLIENT TRACKING on NOLOOP"},
			{"p", "HELLO 3;CLIENT TRACKING on"},
			{"w", "@block BLPOP l 0"},
			{"p", "MULTI;LPUSH l x y;LLEN l;EXEC"}, {"w", "PING"}, {"p", "PING"}}},
		{"noloop served client, its BLMOVE destination", []step{
			{"w", "HELLO 3;CLIENT TRACKING on NOLOOP;LLEN d"},
			{"p", "HELLO 3;CLIENT TRACKING on;LLEN d"},
			{"w", "@block BLMOVE l d LEFT LEFT 0"},
			{"p", "LPUSH l x"}, {"w", "PING"}, {"p", "PING"}}},
		// Redis's tracking test "Unblocked BLMOVE gets notification after
		// response": the destination it read before, invalidated after
		// the woken BLMOVE's reply
		{"tracking served client, its BLMOVE destination", []step{
			{"t", "RPUSH list2{t} a"},
			{"w", "HELLO 3;CLIENT TRACKING on;LRANGE list2{t} 0 -1"},
			{"w", "@block BLMOVE list1{t} list2{t} LEFT LEFT 0"},
			{"p", "RPUSH list1{t} foo"}, {"w", "PING"}}},
		{"xread tracking, read again after served", []step{
			{"w", "HELLO 3;CLIENT TRACKING on"},
			{"w", "@block XREAD BLOCK 0 STREAMS s $"},
			{"p", "XADD s 1-1 f v"}, {"w", "PING"},
			{"p", "XADD s 2-1 f v"}, {"w", "PING"}}},
		{"xread tracking noloop", []step{
			{"w", "HELLO 3;CLIENT TRACKING on NOLOOP"},
			{"w", "@block XREAD BLOCK 0 STREAMS s $"},
			{"p", "XADD s 1-1 f v"}, {"w", "PING"},
			{"p", "XADD s 2-1 f v"}, {"w", "PING"}}},
		{"bzpopmin keyspace event", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA"},
			{"t", "SUBSCRIBE __keyevent@0__:zpopmin __keyevent@0__:del"},
			{"w", "@block BZPOPMIN z 0"},
			{"p", "ZADD z 1 a"}, {"w", "PING"}, {"t", "PING"}}},
		{"blpop keyspace event to the served client itself", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA"},
			{"w", "HELLO 3;SUBSCRIBE __keyevent@0__:lpop __keyevent@0__:del"},
			{"w", "@block BLPOP l 0"},
			{"p", "LPUSH l a"}, {"w", "PING"}}},
		{"blmove keyspace events to the served client itself", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA"},
			{"w", "HELLO 3;PSUBSCRIBE __keyevent@0__:*"},
			{"w", "@block BLMOVE l d LEFT RIGHT 0"},
			{"p", "LPUSH l a"}, {"w", "PING"}}},
		{"xreadgroup keyspace event to the served client itself", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA;XGROUP CREATE s g $ MKSTREAM"},
			{"w", "HELLO 3;PSUBSCRIBE __keyevent@0__:*"},
			{"w", "@block XREADGROUP GROUP g c BLOCK 0 STREAMS s >"},
			{"p", "XADD s 1-1 f v"}, {"w", "PING"}}},
		{"zpopmin keyspace events to the client itself", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA"},
			{"w", "HELLO 3;PSUBSCRIBE __keyevent@0__:*"},
			{"p", "ZADD z 1 a 2 b 3 c"}, {"w", "ZPOPMIN z;ZPOPMAX z 2;ZADD y 1 a;BZPOPMIN y 0;ZADD x 1 a;ZMPOP 1 x MIN;PING"}}},
		{"bzpopmin keyspace event to the served client itself", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA"},
			{"w", "HELLO 3;SUBSCRIBE __keyevent@0__:zpopmin __keyevent@0__:del"},
			{"w", "@block BZPOPMIN z 0"},
			{"p", "ZADD z 1 a"}, {"w", "PING"}}},
		{"bzpopmin keyspace event to the pusher", []step{
			{"t", "CONFIG SET notify-keyspace-events KEA"},
			{"p", "HELLO 3;SUBSCRIBE __keyevent@0__:zpopmin"},
			{"w", "@block BZPOPMIN z 0"},
			{"p", "ZADD z 1 a"}, {"w", "PING"}, {"p", "PING"}}},
	}
	p := StartPair(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]string
			for i, s := range []*Server{p.Redis, p.Crescent} {
				ctl := Dial(t, s)
				ctl.MustDo(t, "FLUSHALL")
				conns := map[string]*Conn{}
				ids := map[string]string{}
				for _, n := range []string{"w", "p", "t"} {
					conns[n] = Dial(t, s)
					ids[n] = clientID(t, conns[n])
				}
				pending := map[string]int{} // blocked commands' replies still to come
				for _, st := range tc.steps {
					c := conns[st.on]
					for _, cmd := range strings.Split(st.cmd, ";") {
						if b, ok := strings.CutPrefix(cmd, "@block "); ok {
							rep, blocked, err := SendAndWaitBlocked(c, ctl, ids[st.on], strings.Fields(b)...)
							if err != nil {
								t.Fatal(err)
							}
							got[i] = append(got[i], fmt.Sprintf("%s %s: %q blocked=%v", st.on, b, rep, blocked))
							if blocked {
								pending[st.on]++
							}
							continue
						}
						if err := c.SendCmd(strings.Fields(cmd)...); err != nil {
							t.Fatal(err)
						}
					}
					if strings.HasPrefix(st.cmd, "@block") {
						continue
					}
					// everything the step's client gets up to its last reply
					want := strings.Count(st.cmd, ";") + 1 + pending[st.on]
					pending[st.on] = 0
					var rs []string
					for n := 0; n < want; {
						r, err := c.ReadWithin(5 * time.Second)
						if err != nil {
							t.Fatalf("server %d: %s: %v (got %q)", i, st.cmd, err, rs)
						}
						r = helloID.ReplaceAll(r, []byte("id"))
						rs = append(rs, string(r))
						if !strings.HasPrefix(string(r), ">") || strings.HasPrefix(string(r), ">3\r\n$9\r\nsubscribe\r\n") || strings.HasPrefix(string(r), ">3\r\n$10\r\npsubscribe\r\n") {
							n++
						}
					}
					got[i] = append(got[i], fmt.Sprintf("%s %s: %q", st.on, st.cmd, rs))
				}
				for _, c := range conns {
					c.Close()
				}
				ctl.MustDo(t, "CONFIG", "SET", "notify-keyspace-events", "")
				ctl.Close()
			}
			for j := range max(len(got[0]), len(got[1])) {
				var r, c string
				if j < len(got[0]) {
					r = got[0][j]
				}
				if j < len(got[1]) {
					c = got[1][j]
				}
				if os.Getenv("CRESCENT_SERVE_DUMP") != "" {
					t.Logf("step %d\nredis:    %s\ncrescent: %s", j, r, c)
				}
				if r != c {
					t.Errorf("step %d\nredis:    %s\ncrescent: %s", j, r, c)
				}
			}
		})
	}
}
