package commands_test

import (
	"testing"

	"github.com/crescent-db/crescent/internal/exec"
)

// TestSortPatternLocks checks that SORT and SORT_RO calls with BY or GET
// patterns, which read keys of any shard, take the whole keyspace, while
// plain ones lock only their keys' shards.
func TestSortPatternLocks(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		args []string
		all  bool
	}{
		{[]string{"SORT", "l"}, false},
		{[]string{"SORT", "l", "DESC", "LIMIT", "0", "2", "ALPHA"}, false},
		{[]string{"SORT", "l", "STORE", "dst"}, false},
		{[]string{"SORT", "l", "BY", "w_*"}, true},
		{[]string{"SORT", "l", "by", "nosort"}, true},
		{[]string{"SORT", "l", "GET", "#", "GET", "o_*"}, true},
		{[]string{"SORT", "l", "get", "o_*", "STORE", "dst"}, true},
		{[]string{"SORT_RO", "l"}, false},
		{[]string{"SORT_RO", "l", "BY", "w_*"}, true},
		{[]string{"SORT_RO", "l", "Get", "o_*"}, true},
	} {
		argv := make([][]byte, len(c.args))
		for i, a := range c.args {
			argv[i] = []byte(a)
		}
		spec, _ := h.e.Lookup(argv)
		var l exec.Locks
		h.e.LocksFor(spec, argv, &l)
		if l.All != c.all {
			t.Errorf("%q: whole keyspace = %v, want %v", c.args, l.All, c.all)
		}
		if !c.all && len(l.Shards) == 0 {
			t.Errorf("%q: no shard locked", c.args)
		}
	}
}
