//go:build linux

package server_test

import (
	"strings"
	"testing"
	"time"
)

// TestClientListReplyBuffer: CLIENT LIST's rbs and rbp are the reply
// buffer's size and the most it held lately (Redis 7.0: buf_usable_size
// and buf_peak, reset every 5 s), not a fixed 16384 and 0. The figures are
// compared with redis-server where they follow from the same rule:
//   - after a 12 kB reply both buffers held it: rbp is between the reply's
//     size and 16384 on both (Redis's buffer is 16 KiB and its peak starts
//     there; Crescent's is the reply's size rounded up by append);
//   - a client idle for 5 s holds at most 1 KiB and rbp=0 on both (Redis
//     shrinks its buffer to 1 KiB once the peak was reset, Crescent
//     released it after 2 s: rbs=0).
func TestClientListReplyBuffer(t *testing.T) {
	redisAddr := startRedis(t)
	addr, _ := startCrescent(t)
	for _, tc := range []struct{ name, addr string }{{"redis", redisAddr}, {"crescent", addr}} {
		t.Run(tc.name, func(t *testing.T) {
			obs := dialRaw(t, tc.addr)
			c := dialRaw(t, tc.addr)
			c.mustDo("CLIENT", "SETNAME", "replier")
			c.mustDo("SET", "v12k", strings.Repeat("v", 12000))
			if got := c.mustDo("GET", "v12k"); len(got) != 12000+10 {
				t.Fatalf("GET: %d bytes", len(got))
			}
			f := clientFields(t, obs.mustDo("CLIENT", "LIST"), "replier")
			if f["rbp"] < 12000 || f["rbp"] > 16384 || f["rbs"] < f["rbp"] {
				t.Fatalf("after a 12 kB reply: rbs=%d rbp=%d, want 12000 <= rbp <= 16384, rbp <= rbs", f["rbs"], f["rbp"])
			}
			self := clientFields(t, c.mustDo("CLIENT", "INFO"), "replier")
			if self["rbp"] < 12000 || self["rbs"] < self["rbp"] {
				t.Fatalf("CLIENT INFO after a 12 kB reply: rbs=%d rbp=%d", self["rbs"], self["rbp"])
			}
			for deadline := time.Now().Add(9 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				f = clientFields(t, obs.mustDo("CLIENT", "LIST"), "replier")
				if f["rbp"] == 0 && f["rbs"] <= 1024 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("idle: rbs=%d rbp=%d, want rbs <= 1024, rbp=0", f["rbs"], f["rbp"])
				}
			}
			t.Logf("idle: rbs=%d rbp=%d", f["rbs"], f["rbp"])
		})
	}
}
