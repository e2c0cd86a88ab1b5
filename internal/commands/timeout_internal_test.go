package commands

import "testing"

// TestTimeoutMs checks the seconds-to-milliseconds arithmetic of blocking
// timeouts against Redis 7.0.15's replies (BLPOP l <arg> on
// redis-server): ceill of the long double product, LLONG_MIN for values
// past long long, strtold's ERANGE for values past long double.
func TestTimeoutMs(t *testing.T) {
	const (
		neg   = errTimeoutNegative
		float = errTimeoutNotFloat
	)
	for _, c := range []struct {
		arg  string
		ms   int64
		fail string
	}{
		{"0", 0, ""},
		{"5", 5000, ""},
		{"1.5", 1500, ""},
		{"0.0001", 1, ""},  // ceill: Redis times out after 1 ms, not never
		{"0.0015", 2, ""},  // ceill
		{"-0.0001", 0, ""}, // ceill(-0.1) is -0: forever
		{"-0", 0, ""},
		{"-1", 0, neg},
		{"-1.5", 0, neg},
		{"9223372036854775", 9223372036854775000, ""},     // blocks: the deadline overflows
		{"9223372036854775.807", 9223372036854775807, ""}, // exact in a long double
		{"9223372036854775.808", 0, neg},
		{"9223372036854775808", 0, neg},
		{"1e300", 0, neg},
		{"1e4000", 0, neg}, // a long double holds it; the cast overflows
		{"1e5000", 0, float},
		{"1e-5000", 0, float},
		{"1e-400", 1, ""},
		{"inf", 0, neg},
		{"-inf", 0, neg},
		{"nan", 0, float},
		{"0x10", 16000, ""},
		{"1 ", 0, float},
		{" 1", 0, float},
		{"1_0", 0, float},
		{"", 0, float},
		{"abc", 0, float},
	} {
		ms, fail := timeoutMs([]byte(c.arg))
		if fail != c.fail || fail == "" && ms != c.ms {
			t.Errorf("%q: got %d %q, want %d %q", c.arg, ms, fail, c.ms, c.fail)
		}
	}
}
