package difftest

import (
	"strings"
	"testing"
	"time"
)

// TestRandomCountRepeatsBound checks SRANDMEMBER, HRANDFIELD and
// ZRANDMEMBER with a negative count of more than 2147483647 repeats on a key
// that exists. Redis 7.0.15 starts building a reply of that many elements
// and never finishes (it stalls every client), so there is nothing to
// compare: Crescent answers "value is out of range" at once and stays
// responsive. Counts within the bound, and the same counts on a missing key,
// are compared with Redis in suite_set.txt, suite_hash.txt and
// suite_zset.txt.
func TestRandomCountRepeatsBound(t *testing.T) {
	c := Dial(t, StartCrescent(t))
	c.Timeout = 5 * time.Second
	c.MustDo(t, "SADD", "s", "a", "b")
	c.MustDo(t, "HSET", "h", "f", "v")
	c.MustDo(t, "ZADD", "z", "1", "a")
	const errText = "-ERR value is out of range\r\n"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SRANDMEMBER", "s", "-2147483648"}, errText},
		{[]string{"SRANDMEMBER", "s", "-9223372036854775807"}, errText},
		{[]string{"HRANDFIELD", "h", "-2147483648"}, errText},
		{[]string{"HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"}, errText},
		{[]string{"ZRANDMEMBER", "z", "-2147483648"}, errText},
		{[]string{"ZRANDMEMBER", "z", "-4611686018427387903", "WITHSCORES"}, errText},
		// a missing key still answers an empty array, as Redis does
		{[]string{"SRANDMEMBER", "nokey", "-9223372036854775807"}, "*0\r\n"},
		{[]string{"HRANDFIELD", "nokey", "-9223372036854775807"}, "*0\r\n"},
		{[]string{"ZRANDMEMBER", "nokey", "-9223372036854775807"}, "*0\r\n"},
		{[]string{"PING"}, "+PONG\r\n"},
	} {
		got, err := c.Do(tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(tc.args, " "), err)
		}
		if string(got) != tc.want {
			t.Errorf("%s: %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}
