package command

import (
	"slices"
	"testing"
)

// TestMayReplicate checks that Redis 7.0's MAY_REPLICATE commands carry
// the flag (read-only scripts refuse them) and that COMMAND INFO's names
// hide it, as Redis does.
func TestMayReplicate(t *testing.T) {
	tb, err := NewTable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want bool
	}{
		{"publish", true}, {"spublish", true}, {"pfcount", true},
		{"eval", true}, {"evalsha", true}, {"fcall", true},
		{"eval_ro", false}, {"evalsha_ro", false}, {"fcall_ro", false},
		{"get", false}, {"pfadd", false}, {"ping", false}, {"pubsub|channels", false},
	} {
		s := tb.find(c.name)
		if s == nil {
			t.Fatalf("no spec %s", c.name)
		}
		if got := s.Has(FlagMayReplicate); got != c.want {
			t.Errorf("%s: may_replicate = %v, want %v", c.name, got, c.want)
		}
		if slices.Contains(s.Flags.Names(), "may_replicate") {
			t.Errorf("%s: COMMAND INFO lists may_replicate", c.name)
		}
	}
	for _, c := range []struct {
		f    Flag
		want []string
	}{
		{FlagWrite | FlagMayReplicate, []string{"write"}},
		{FlagPubSub | FlagFast | FlagProtected | FlagSentinel | FlagOnlySentinel, []string{"pubsub", "fast"}},
		{FlagNoMandatoryKeys | FlagMovableKeys, []string{"no_mandatory_keys", "movablekeys"}},
	} {
		if got := c.f.Names(); !slices.Equal(got, c.want) {
			t.Errorf("Names(%#x) = %q, want %q", c.f, got, c.want)
		}
	}
}
