package commands_test

import "testing"

var sortCases = []dtCase{
	{"sort-zset", []string{
		"ZADD k 3 c 1 a 2 b 10 j 5 e", "SORT k", "SORT k DESC", "SORT k ALPHA", "SORT k ALPHA DESC", "SORT k LIMIT 1 2",
		"SORT k LIMIT -1 2", "SORT k LIMIT 2 -1", "SORT k LIMIT 10 2", "SORT k LIMIT 0 0", "SORT k BY nosort", "SORT k BY nosort DESC",
		"SORT k BY nosort LIMIT 1 2", "SORT k BY nosort DESC LIMIT 1 3", "SORT k BY nosort LIMIT 5 3",
		"SET w_a 5", "SET w_b 4", "SET w_c 3", "SET w_j 2", "SORT k BY w_*", "SORT k BY w_* DESC", "SORT k BY w_* GET # GET w_*",
		"SORT k BY w_* LIMIT 0 2 GET w_*", "SORT k GET # GET nokey_* GET w_*", "SORT k BY w_* ALPHA", "SORT k GET w_*->field",
		"SORT k FOO", "SORT k LIMIT 1", "SORT k LIMIT x 1", "SORT k BY", "SORT_RO k STORE dst", "SORT_RO k BY w_* GET # DESC",
		"SORT nokey", "SORT nokey STORE dst", "SORT nokey BY nosort", "SET str x", "SORT str", "SORT_RO str",
	}},
	{"sort-numeric-errors", []string{
		"ZADD k 1 a 2 b", "SORT k", "ZADD k2 1 1.5 2 -3 3 10 4 1e3 5 inf", "SORT k2", "SORT k2 DESC", "SORT k2 ALPHA",
		"SET w_a ' 3'", "SORT k BY w_*", "SET w_a x", "SORT k BY w_*", "SET w_a 1e400", "SORT k BY w_*",
		"SET w_a nan", "SORT k BY w_*",
	}},
}

func TestSortDiff(t *testing.T) { dtRun(t, sortCases) }
