package difftest

import (
	"testing"
	"time"
)

// TestSuiteTracking walks the cases of Redis's tracking tests
// (tests/unit/tracking.tcl), in our own words, through TestRandomTracking's
// harness (random_tracking_test.go): every reply and every invalidation
// each client gets is compared with redis-server's. Clients: c0 and c1 in
// RESP3, c2 and c3 in RESP2, s0 a RESP2 subscriber of
// __redis__:invalidate, s1 in RESP3, v a subscriber that a step may kill.
// The woken BLMOVE case is in TestBlockedServeAsClient.
func TestSuiteTracking(t *testing.T) {
	on := func(c string, args ...string) trackStep { return trackStep{On: c, Cmds: [][]string{args}} }
	multi := func(c string, cmds ...[]string) trackStep {
		return trackStep{On: c, Cmds: append(append([][]string{{"MULTI"}}, cmds...), []string{"EXEC"})}
	}
	cases := []struct {
		name  string
		steps []trackStep
	}{
		{"redirect: the other connection gets the invalidations of what was read", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"),
			on("c2", "SET", "a{t}", "1"), on("c2", "SET", "b{t}", "1"), on("c2", "GET", "a{t}"),
			on("c2", "INCR", "b{t}"), on("c2", "INCR", "a{t}"),
			on("c2", "MGET", "a{t}", "b{t}", "c{t}", "d{t}", "e{t}", "f{t}", "g{t}"),
			on("c2", "CLIENT", "TRACKING", "off"), on("c1", "MSET", "a{t}", "2", "b{t}", "2", "c{t}", "2")}},
		{"bcast with the empty prefix: every key", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$id:s0"),
			on("c2", "MSET", "a{t}", "1", "b{t}", "2", "c{t}", "3")}},
		{"bcast with prefixes, in MULTI; adding a prefix", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$id:s0", "PREFIX", "a:", "PREFIX", "b:"),
			multi("c2", []string{"INCR", "a:1{t}"}, []string{"INCR", "a:2{t}"}, []string{"INCR", "b:1{t}"},
				[]string{"INCR", "b:2{t}"}, []string{"INCR", "c:1{t}"}),
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$id:s0", "PREFIX", "c:"),
			on("c2", "INCR", "c:1234"), on("c2", "CLIENT", "TRACKINGINFO")}},
		{"noloop in the default mode", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0", "NOLOOP"),
			on("c2", "MGET", "otherkey1{t}", "loopkey{t}", "otherkey2{t}"),
			on("c3", "SET", "otherkey1{t}", "1"), on("c2", "SET", "loopkey{t}", "1"), on("c3", "SET", "otherkey2{t}", "1")}},
		{"noloop in bcast mode", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$id:s0", "NOLOOP"),
			on("c3", "SET", "otherkey1", "1"), on("c2", "SET", "loopkey", "1"), on("c3", "SET", "otherkey2", "1")}},
		{"bcast noloop: an expired key is invalidated, the client's own write is not", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$id:s0", "NOLOOP"),
			{On: "c2", Cmds: [][]string{{"SET", "mykey", "myval", "PX", "20"}}, Wait: 60 * time.Millisecond,
				After: [][]string{{"TOUCH", "mykey"}, {"KEYS", "*"}}},
			on("c2", "SET", "mykeyotherkey", "myval")}},
		{"bcast noloop: a key expired lazily inside the client's own MULTI", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "$id:s0", "NOLOOP"),
			// read once expired (by either server's active expiry, at once
			// or later, or by TOUCH): one invalidation, the own writes left
			// out by NOLOOP
			{On: "c2", Cmds: multi("c2", []string{"SET", "mykey{t}", "myval", "PX", "1"}, []string{"SET", "mykeyotherkey{t}", "myval"},
				[]string{"DEBUG", "SLEEP", "0.02"}, []string{"GET", "mykey{t}"}).Cmds,
				Wait: 150 * time.Millisecond, After: [][]string{{"TOUCH", "mykey{t}"}}}}},
		{"HELLO 3 and HELLO without a version", []trackStep{
			on("c2", "HELLO", "3"), on("c2", "HELLO"), on("c2", "HELLO", "2"), on("c2", "HELLO")}},
		{"resp3: basic invalidation and redirection", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on"), on("c1", "SET", "key1", "1"), on("c0", "GET", "key1"),
			on("c1", "SET", "key1", "2"), on("c0", "CLIENT", "TRACKING", "off"),
			on("c0", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"), on("c1", "SET", "key1", "1"),
			on("c0", "GET", "key1"), on("c1", "SET", "key1", "2")}},
		{"invalidations redirected after switching to resp3, for keys read before and after", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"), on("c3", "SET", "key1", "1"),
			on("c2", "GET", "key1"), on("c2", "HELLO", "3"), on("c3", "SET", "key1", "2"),
			on("c2", "GET", "key1"), on("c3", "SET", "key1", "3")}},
		{"scripts are tracked only when they call a read command", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on"), on("c1", "MSET", "key2{t}", "1", "key1{t}", "1"),
			on("c0", "EVAL", "redis.call('set', 'key3{t}', 'bar')", "2", "key1{t}", "key2{t}"),
			on("c1", "MSET", "key2{t}", "2", "key1{t}", "2"),
			on("c0", "EVAL", "redis.call('get', 'key3{t}')", "2", "key1{t}", "key2{t}"),
			on("c1", "MSET", "key2{t}", "2", "key1{t}", "2"),
			on("c0", "EVAL_RO", "redis.call('ping')", "2", "key1{t}", "key2{t}"),
			on("c1", "MSET", "key2{t}", "2", "key1{t}", "2"),
			on("c0", "EVAL_RO", "redis.call('get', 'key1{t}')", "2", "key1{t}", "key2{t}"),
			on("c1", "MSET", "key2{t}", "3", "key1{t}", "3"), on("c0", "PING")}},
		{"noloop: a script's write is the client's own", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on", "NOLOOP"), on("c0", "SET", "key1", "1"), on("c0", "GET", "key1"),
			on("c0", "EVAL", "return redis.call('set', 'key1', '2')", "0"), on("c0", "GET", "key1")}},
		{"the redirection target closes: tracking-redir-broken", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:v"), on("c1", "SET", "key1", "1"),
			on("c0", "GET", "key1"), {Kill: true}, on("c1", "SET", "key1", "2"), on("c0", "PING"),
			on("c0", "CLIENT", "TRACKINGINFO"), on("c0", "CLIENT", "GETREDIR")}},
		{"two clients redirect to one connection", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"),
			on("c3", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"),
			on("c1", "MSET", "key1{t}", "1", "key2{t}", "1"), on("c2", "GET", "key1{t}"), on("c3", "GET", "key2{t}"),
			on("c1", "INCR", "key1{t}"), on("c1", "INCR", "key2{t}")}},
		{"clients of both protocols track one key", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"), on("c0", "CLIENT", "TRACKING", "on"),
			on("c1", "SET", "key1", "1"), on("c2", "GET", "key1"), on("c0", "GET", "key1"),
			on("c1", "INCR", "key1"), on("c0", "PING")}},
		{"optin: nothing without CLIENT CACHING yes, an invalidation with it", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "OPTIN", "REDIRECT", "$id:s0"), on("c1", "SET", "key1", "1"),
			on("c2", "GET", "key1"), on("c1", "SET", "key1", "2"),
			{On: "c2", Cmds: [][]string{{"CLIENT", "CACHING", "yes"}, {"GET", "key1"}}}, on("c1", "SET", "key1", "3"),
			on("c2", "CLIENT", "TRACKINGINFO")}},
		{"optout: an invalidation, nothing after CLIENT CACHING no", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "OPTOUT", "REDIRECT", "$id:s0"), on("c1", "SET", "key1", "1"),
			on("c2", "GET", "key1"), on("c1", "SET", "key1", "2"),
			{On: "c2", Cmds: [][]string{{"CLIENT", "CACHING", "no"}, {"GET", "key2"}}}, on("c1", "SET", "key2", "1"),
			on("c2", "GET", "key2"), on("c1", "SET", "key2", "2"), on("c2", "CLIENT", "TRACKINGINFO")}},
		{"redirect to a resp3 client", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s1"), on("c1", "SET", "key1", "1"),
			on("c2", "GET", "key1"), on("c1", "INCR", "key1")}},
		{"from default to bcast: the keys read before are still invalidated", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on"), on("c1", "SET", "key1", "1"), on("c0", "GET", "key1"),
			on("c0", "CLIENT", "TRACKING", "off"), on("c0", "CLIENT", "TRACKING", "on", "BCAST"),
			on("c1", "INCR", "key1"), on("c0", "PING")}},
		{"bcast prefixes that overlap are refused", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO"),
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR"),
			on("c2", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR"),
			on("c2", "CLIENT", "TRACKINGINFO"), on("c2", "CLIENT", "TRACKING", "off")}},
		{"an invalidation after the reply of the command that caused it", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on"), on("c0", "HSET", "myhash", "f", "1"), on("c0", "HGET", "myhash", "f"),
			on("c0", "HDEL", "myhash", "f"), on("c0", "MSET", "a{t}", "1", "b{t}", "2"), on("c0", "GET", "a{t}"),
			multi("c0", []string{"INCR", "a{t}"}, []string{"GET", "b{t}"})}},
		{"a lazily expired key of a multi-key read: the invalidation after the reply", []trackStep{
			on("c0", "CLIENT", "TRACKING", "on"),
			{On: "c0", Pre: [][]string{{"DEBUG", "SET-ACTIVE-EXPIRE", "0"}},
				Cmds: [][]string{{"MULTI"}, {"MSET", "x{t}", "1", "y{t}", "2"}, {"PEXPIRE", "y{t}", "20"}, {"GET", "y{t}"}, {"EXEC"}},
				Wait: 60 * time.Millisecond, Then: [][]string{{"MGET", "x{t}", "y{t}"}},
				After: [][]string{{"DEBUG", "SET-ACTIVE-EXPIRE", "1"}}}}},
		{"flushall and flushdb invalidate everything (null)", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"), on("c1", "SET", "key1", "1"),
			on("c2", "GET", "key1"), on("c1", "FLUSHALL"), on("c1", "SET", "key1", "1"), on("c2", "GET", "key1"),
			on("c1", "FLUSHDB"), on("c2", "GET", "key1"), on("c2", "GET", "key2"), on("c1", "FLUSHALL", "ASYNC"),
			on("c0", "CLIENT", "TRACKING", "on"), on("c0", "SET", "a{t}", "1"), on("c0", "GET", "a{t}"),
			multi("c0", []string{"FLUSHDB"})}},
		{"GETREDIR and TRACKINGINFO in each mode", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"), on("c2", "CLIENT", "GETREDIR"),
			on("c2", "CLIENT", "TRACKINGINFO"), on("c2", "CLIENT", "TRACKING", "off"), on("c2", "CLIENT", "GETREDIR"),
			on("c2", "CLIENT", "TRACKINGINFO"), on("c2", "CLIENT", "TRACKING", "on"), on("c2", "CLIENT", "GETREDIR"),
			on("c2", "CLIENT", "TRACKINGINFO"), on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0", "NOLOOP"),
			on("c2", "CLIENT", "TRACKINGINFO"), on("c2", "CLIENT", "TRACKING", "off"),
			on("c2", "CLIENT", "TRACKING", "on", "OPTIN"), on("c2", "CLIENT", "TRACKINGINFO"),
			{On: "c2", Cmds: [][]string{{"CLIENT", "CACHING", "yes"}, {"CLIENT", "TRACKINGINFO"}}},
			on("c2", "CLIENT", "TRACKING", "off"), on("c2", "CLIENT", "TRACKING", "on", "OPTOUT"),
			{On: "c2", Cmds: [][]string{{"CLIENT", "CACHING", "no"}, {"CLIENT", "TRACKINGINFO"}}},
			on("c2", "CLIENT", "TRACKING", "off"), on("c2", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "foo", "PREFIX", "bar"),
			on("c2", "CLIENT", "TRACKINGINFO"), on("c2", "CLIENT", "TRACKING", "off"),
			on("c2", "CLIENT", "TRACKING", "on", "BCAST"), on("c2", "CLIENT", "TRACKINGINFO")}},
		{"INFO's tracking counts", []trackStep{
			on("c2", "CLIENT", "TRACKING", "on", "REDIRECT", "$id:s0"), on("c1", "SET", "key1", "1"),
			on("c1", "SET", "key2", "2"), on("c2", "GET", "key1"), on("c2", "GET", "key2"),
			on("c3", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "prefix:"), on("c1", "SET", "prefix:key1", "1"),
			on("c1", "SET", "prefix:key2", "2"),
			{On: "c1", Cmds: [][]string{{"EVAL", "local t = {} for _, f in ipairs({'tracking_total_items', 'tracking_total_keys', 'tracking_total_prefixes', 'tracking_clients'}) do t[#t+1] = string.match(redis.call('INFO', 'all'), f .. ':%d+') end return t", "0"}}}}},
	}
	p := StartPair(t, "--enable-debug-command", "yes")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTrackHarness(t, p)
			for _, st := range tc.steps {
				h.run(t, st)
			}
		})
	}
}
