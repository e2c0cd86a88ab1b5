package acl

import (
	"sort"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
)

func newTestRegistry(t testing.TB) *Registry {
	t.Helper()
	tab, err := command.NewTable()
	if err != nil {
		t.Fatal(err)
	}
	return New(tab)
}

// TestDescribe checks ACL LIST lines against those Redis 7.0.15 printed
// for the same rules.
func TestDescribe(t *testing.T) {
	cases := []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"+@read"}, "off resetchannels -@all +@read"},
		{[]string{"+@all", "-@write", "+set"}, "off resetchannels +@all -@write +set"},
		{[]string{"-@all", "+@write", "-set", "+select|0", "+client|id"}, "off resetchannels -@all +@write +client|id +select|0 -set"}, // Redis: same rules, hash order,
		{[]string{"on", ">pw", "~foo*", "%R~bar", "%W~baz", "%RW~q", "&ch", "+set", "(+set ~x)", "(-@all %R~y)"},
			"on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~foo* %R~bar %W~baz ~q resetchannels &ch -@all +set (~x resetchannels -@all +set) (%R~y resetchannels -@all)"},
		{[]string{"on", "nopass", "allkeys", "allchannels", "allcommands"}, "on nopass ~* &* +@all"},
		{[]string{"reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{"on", "nopass", "%W~w*", "%R~r*", "+@all"}, "on nopass %W~w* %R~r* resetchannels +@all"},
		{[]string{"+config|get", "+config|set", "~a", "%R~a"}, "off ~a resetchannels -@all +config|get +config|set"},
		{[]string{"+config", "-config|set"}, "off resetchannels -@all +config -config|set"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.rules, " "), func(t *testing.T) {
			r := newTestRegistry(t)
			if err := r.SetUser("u", c.rules); err != nil {
				t.Fatal(err)
			}
			if got := r.Describe(r.Get("u")); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestDescribeBitmap checks a case where Redis emits many single commands
// (in hash order): same prefix and the same set of rules.
func TestDescribeBitmap(t *testing.T) {
	r := newTestRegistry(t)
	if err := r.SetUser("bob", []string{"+get", "+@read", "-@hash", "+config|get", "-hgetall"}); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(r.Describe(r.Get("bob")))
	want := strings.Fields("off resetchannels -@all +@bitmap +@geo +@set +@sortedset +config|get +xread -zremrangebylex +getrange -srem +strlen +exists -zpopmin -zadd -spop +xinfo|groups +xinfo|stream +xinfo|consumers -bzpopmin -georadiusbymember +pexpiretime +xrevrange +lcs +substr -zpopmax +touch -zmpop -setbit -sunionstore +xrange -zdiffstore -sadd +pfcount +lrange -sort -zunionstore -zincrby +lolwut +memory|usage +dump +randomkey -bzpopmax +lindex +get -bitfield -zinterstore -sinterstore -bitop -geoadd +lpos -smove -bzmpop +mget -zremrangebyscore -zrem +ttl +pttl +type -zrangestore -zremrangebyrank +dbsize +xpending +keys -geosearchstore +object|freq +object|idletime +object|encoding +object|refcount +xlen +expiretime -sdiffstore +scan -georadius +llen")
	if strings.Join(got[:7], " ") != strings.Join(want[:7], " ") {
		t.Fatalf("prefix: got %v want %v", got[:7], want[:7])
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}
