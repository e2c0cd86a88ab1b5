package server_test

import (
	"strconv"
	"strings"
	"testing"
)

// TestCollectionsCountTowardsMaxmemory: a list, hash, set, sorted set or
// stream grown by commands (and by a script's redis.call) shows in MEMORY
// USAGE and used_memory, and maxmemory stops a growing list with OOM
// instead of letting it take the machine.
func TestCollectionsCountTowardsMaxmemory(t *testing.T) {
	addr, _ := startCrescent(t, "maxmemory", "4mb")
	c := dialRaw(t, addr)
	usage := func(key string) int {
		t.Helper()
		r := c.mustDo("MEMORY", "USAGE", key)
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(r, ":")))
		if err != nil {
			t.Fatalf("MEMORY USAGE %s: %q", key, r)
		}
		return n
	}
	v := strings.Repeat("v", 100)
	grow := map[string]func(i int) []string{
		"l": func(i int) []string { return []string{"RPUSH", "l", v} },
		"h": func(i int) []string { return []string{"HSET", "h", "f" + strconv.Itoa(i), v} },
		"s": func(i int) []string { return []string{"SADD", "s", v + strconv.Itoa(i)} },
		"z": func(i int) []string { return []string{"ZADD", "z", strconv.Itoa(i), v + strconv.Itoa(i)} },
		"x": func(i int) []string { return []string{"XADD", "x", "*", "f", v} },
	}
	for key, cmd := range grow {
		c.mustDo(cmd(0)...)
		before := usage(key)
		for i := 1; i <= 1000; i++ {
			c.mustDo(cmd(i)...)
		}
		if after := usage(key); after < before+1000*100 {
			t.Errorf("%s: MEMORY USAGE %d after 1000 writes of 100 bytes (%d before)", key, after, before)
		}
	}
	before := usage("l")
	c.mustDo("EVAL", "for i = 1, 1000 do redis.call('rpush', KEYS[1], ARGV[1]) end", "1", "l", v)
	if after := usage("l"); after < before+1000*100 {
		t.Errorf("a script's RPUSHes: MEMORY USAGE %d (%d before)", after, before)
	}
	c.mustDo("FLUSHALL")
	for i := 0; ; i++ {
		r := c.mustDo("RPUSH", "big", strings.Repeat("x", 1000))
		if strings.HasPrefix(r, "-OOM ") {
			break
		}
		if i > 20000 { // 20 MB of elements against a 4 MB limit
			t.Fatalf("no OOM after %d pushes of 1000 bytes; last reply %q", i, r)
		}
	}
}
