package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestClusterPubSub: in cluster mode a PUBLISH reaches the channel and
// pattern subscribers of every node, in the order it was published (Redis
// carries it over the cluster bus), while its reply counts this node's
// receivers only, as Redis's.
func TestClusterPubSub(t *testing.T) {
	addrs, _, cs := formThreeMasters(t)
	subs := make([]*rawConn, 3)
	for i, a := range addrs {
		subs[i] = dialRaw(t, a)
		subs[i].mustDo("SUBSCRIBE", "news")
		subs[i].mustDo("PSUBSCRIBE", "n*")
	}
	// the local subscriber counts twice (channel and pattern); the others
	// get it over the bus
	if r := cs[0].mustDo("PUBLISH", "news", "hello"); r != ":2\r\n" {
		t.Fatalf("PUBLISH on node 0: %q", r)
	}
	want := "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n" +
		"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
	for i, s := range subs {
		got := s.read(10*time.Second) + s.read(10*time.Second)
		if got != want {
			t.Fatalf("node %d's subscriber: %q", i, got)
		}
	}
	// from a script too, binary-safe, and in order
	const n = 200
	for i := 0; i < n; i++ {
		cs[1].mustDo("EVAL", "return redis.call('publish', 'news', ARGV[1])", "0", fmt.Sprintf("m%d\x00\r\n", i))
	}
	for i := 0; i < n; i++ {
		want := fmt.Sprintf("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$%d\r\nm%d\x00\r\n\r\n", len(fmt.Sprintf("m%d\x00\r\n", i)), i)
		for _, node := range []int{0, 2} {
			got := subs[node].read(10 * time.Second)
			if got != want {
				t.Fatalf("message %d at node %d: %q, want %q", i, node, got, want)
			}
			if p := subs[node].read(10 * time.Second); !strings.HasPrefix(p, "*4\r\n$8\r\npmessage") {
				t.Fatalf("pmessage %d at node %d: %q", i, node, p)
			}
		}
	}
}
