package server_test

import (
	"fmt"
	"strings"
	"testing"
)

// closedSubscriberCounts subscribes a client that reads nothing, makes a
// PUBLISH past client-output-buffer-limit pubsub close it, and returns
// what that PUBLISH and the next ones answer, rounds times over.
func closedSubscriberCounts(t *testing.T, addr string, rounds int) string {
	t.Helper()
	pub := dialRaw(t, addr)
	pub.mustDo("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 0 0")
	defer pub.mustDo("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")
	big := strings.Repeat("x", 50_000) // past Redis's 16 KiB reply buffer
	var out []string
	for i := 0; i < rounds; i++ {
		sub := dialRaw(t, addr)
		sub.mustDo("SUBSCRIBE", "ch")
		out = append(out, fmt.Sprintf("%s %s %s %s", pub.mustDo("PUBLISH", "ch", big), pub.mustDo("PUBLISH", "ch", "y"),
			pub.mustDo("PUBLISH", "ch", "z"), pub.mustDo("PUBSUB", "NUMSUB", "ch")))
	}
	return strings.ReplaceAll(strings.Join(out, " | "), "\r\n", " ")
}

// TestClosedSubscriberNotCounted: a subscriber closed by its output
// limit is counted by the PUBLISH that closed it, not by the next ones,
// as in Redis, which frees it before its next command. Crescent counted
// it until its connection's goroutine had removed its subscriptions.
func TestClosedSubscriberNotCounted(t *testing.T) {
	redis := startRedis(t)
	crescent, _ := startCrescent(t)
	const rounds = 20
	want, got := closedSubscriberCounts(t, redis, rounds), closedSubscriberCounts(t, crescent, rounds)
	// PUBSUB NUMSUB may still list the closed client in Crescent (its
	// subscriptions go with its goroutine): only the PUBLISH counts are
	// compared
	strip := func(s string) string {
		var out []string
		for _, r := range strings.Split(s, " | ") {
			f := strings.Fields(r)
			out = append(out, strings.Join(f[:3], " "))
		}
		return strings.Join(out, " | ")
	}
	if strip(got) != strip(want) {
		t.Errorf("\n  redis:    %s\n  crescent: %s", strip(want), strip(got))
	}
}
