package commands

import (
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
)

func TestLatencyGraph(t *testing.T) {
	ts := &latencySeries{max: 50}
	ts.samples[0] = latencySample{time: 1000, latency: 50}
	ts.idx = 1
	// redis-server 7.0.15's reply for one 50 ms sample taken now
	want := "command - high 50 ms, low 50 ms (all time high 50 ms)\n" + strings.Repeat("-", 80) + "\n \n \n \n_\n \n0\ns\n"
	if got := latencyGraph("command", ts, 1000); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	// two samples: the higher one is drawn with the fill characters
	ts.samples[1] = latencySample{time: 1070, latency: 10}
	ts.idx = 2
	got := latencyGraph("command", ts, 1070)
	if !strings.HasPrefix(got, "command - high 50 ms, low 10 ms (all time high 50 ms)\n") ||
		!strings.Contains(got, "# \n| \n| \n|_\n  \n10\nms\n") {
		t.Fatalf("two samples:\n%s", got)
	}
}

func TestAppendRepr(t *testing.T) {
	if got := string(resp.AppendRepr(nil, []byte("a\"b\\\n\r\t\a\b\x01\xff z"))); got != `"a\"b\\\n\r\t\a\b\x01\xff z"` {
		t.Fatalf("repr: %s", got)
	}
}
