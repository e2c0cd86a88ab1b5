package commands_test

import "testing"

var zsetCases = []dtCase{
	{"zadd-basic", []string{
		"ZADD k 1 a 2 b 3 c", "ZADD k 1 a", "ZCARD k", "ZSCORE k b", "ZSCORE k nope", "ZSCORE nokey a",
		"ZADD k 1.5 a 0.1 z -0 m", "ZRANGE k 0 -1 WITHSCORES", "ZADD k inf i -inf ni +inf pi", "ZRANGE k 0 -1 WITHSCORES",
		"ZADD k 1e20 big 1.7976931348623157e308 max 5e-324 den 0x10 hex", "ZRANGE k 0 -1 WITHSCORES",
	}},
	{"zadd-flags", []string{
		"ZADD k 1 a 2 b", "ZADD k NX 5 a 3 c", "ZRANGE k 0 -1 WITHSCORES", "ZADD k XX 5 a 4 d", "ZRANGE k 0 -1 WITHSCORES",
		"ZADD k CH 6 a 2 b 7 e", "ZADD k GT CH 1 a 10 b", "ZADD k LT CH 1 a 10 b", "ZRANGE k 0 -1 WITHSCORES",
		"ZADD k XX CH GT 100 a 100 zz", "ZADD nokey XX 1 a", "EXISTS nokey", "ZADD k gt lt 1 a", "ZADD k nx xx 1 a",
		"ZADD k nx gt 1 a", "ZADD k lt nx 1 a", "ZADD k incr 1 a 2 b", "ZADD k 1", "ZADD k", "ZADD k nx", "ZADD k 1 a 2",
		"ZADD k abc a", "ZADD k nan a", "ZADD k 1e400 a", "ZADD k ' 1' a", "ZADD k '1 ' a", "ZADD k '' a", "ZADD k 1e-400 a",
		"ZADD k INCR 5 a", "ZADD k INCR NX 5 a", "ZADD k INCR XX 5 nope", "ZADD k INCR GT -1 a", "ZADD k INCR LT -1 a",
		"ZADD k 0 a", "ZADD k incr 0 a",
		"ZADD k inf x", "ZADD k incr -inf x", "ZINCRBY k -inf x", "ZINCRBY k +inf x", "ZSCORE k x",
	}},
	{"zadd-update-place", []string{
		"ZADD k 1 a 2 b 3 c 3 d 5 e", "ZADD k CH 2.5 b", "ZADD k CH 3 e", "ZADD k CH 2 c", "ZRANGE k 0 -1 WITHSCORES",
		"ZRANK k c", "ZRANK k e", "ZADD k -10 a 100 a", "ZINCRBY k 0.25 b", "ZRANGE k 0 -1 WITHSCORES", "ZADD k -0 b",
		"ZSCORE k b", "ZADD k 0 b", "ZADD k CH -0 b", "ZRANGE k 0 -1 WITHSCORES", "ZADD k GT CH 3 d", "ZADD k LT CH 2.9 d",
		"ZRANGE k 0 -1 WITHSCORES", "ZREVRANK k d", "OBJECT ENCODING k",
		"CONFIG SET zset-max-listpack-entries 3", "ZADD s 1 a 2 b 3 c", "OBJECT ENCODING s", "ZADD s 0 c", "OBJECT ENCODING s",
		"ZADD s 4 d", "OBJECT ENCODING s", "ZRANGE s 0 -1 WITHSCORES", "CONFIG SET zset-max-listpack-entries 128",
		"CONFIG SET zset-max-listpack-value 2", "ZADD v 1 ab", "OBJECT ENCODING v", "ZADD v 2 abc", "OBJECT ENCODING v",
		"CONFIG SET zset-max-listpack-value 64",
	}},
	{"zincrby", []string{
		"ZINCRBY k 1 a", "ZINCRBY k 2.5 a", "ZINCRBY k abc a", "ZINCRBY k 1e308 a", "ZINCRBY k 1e308 a", "ZINCRBY k 1e308 a", "SET str x", "ZINCRBY str 1 a",
		"ZADD k 1", "ZINCRBY k 1", "ZINCRBY k 1 a b",
	}},
	{"wrongtype", []string{
		"SET str x", "ZADD str 1 a", "ZCARD str", "ZSCORE str a", "ZMSCORE str a", "ZRANK str a", "ZRANGE str 0 -1",
		"ZREM str a", "ZCOUNT str 0 1", "ZLEXCOUNT str - +", "ZPOPMIN str", "ZRANDMEMBER str", "ZRANDMEMBER str 2",
		"ZSCAN str 0", "ZUNION 1 str", "ZINTERSTORE dst 1 str", "ZRANGESTORE dst str 0 -1", "ZREMRANGEBYRANK str 0 1",
		"ZCOUNT str x 1", "ZRANGE str x 1", "ZMPOP 1 str MIN", "BZPOPMIN str 0", "BZMPOP 0 1 str MAX",
	}},
	{"zrem", []string{
		"ZADD k 1 a 2 b 3 c", "ZREM k a x", "ZREM k nope", "ZREM nokey a", "ZREM k b c a", "EXISTS k",
	}},
	{"zmscore-rank", []string{
		"ZADD k 1 a 2 b 3 c 3 d", "ZMSCORE k a x c", "ZMSCORE nokey a b", "ZRANK k a", "ZRANK k d", "ZREVRANK k a",
		"ZREVRANK k d", "ZRANK k nope", "ZRANK nokey a", "ZREVRANK nokey a",
	}},
	{"zcount", []string{
		"ZADD k 1 a 2 b 3 c 4 d 5 e", "ZCOUNT k 2 4", "ZCOUNT k (2 4", "ZCOUNT k (2 (4", "ZCOUNT k -inf +inf",
		"ZCOUNT k 5 1", "ZCOUNT k (1 (1", "ZCOUNT k abc 1", "ZCOUNT k 1 abc", "ZCOUNT k ( (", "ZCOUNT k '' ''", "ZCOUNT k ' 1' 3",
		"ZCOUNT k 1e400 -1e400", "ZCOUNT k nan 1", "ZCOUNT nokey 0 1", "ZCOUNT k [1 2", "ZCOUNT k 0x1 0x3",
	}},
	{"zlexcount", []string{
		"ZADD k 0 a 0 b 0 c 0 d 0 e", "ZLEXCOUNT k - +", "ZLEXCOUNT k [b [d", "ZLEXCOUNT k (b (d", "ZLEXCOUNT k + -",
		"ZLEXCOUNT k b d", "ZLEXCOUNT k [b x", "ZLEXCOUNT k -a +", "ZLEXCOUNT k '' +", "ZLEXCOUNT nokey - +", "ZLEXCOUNT k ( [",
		"ZLEXCOUNT k [ (", "ZLEXCOUNT k [c [c", "ZLEXCOUNT k (c [c",
	}},
	{"zrange-rank", []string{
		"ZADD k 1 a 2 b 3 c 4 d 5 e", "ZRANGE k 0 -1", "ZRANGE k 1 2 WITHSCORES", "ZRANGE k -2 -1", "ZRANGE k -100 100",
		"ZRANGE k 3 1", "ZRANGE k 5 10", "ZRANGE k 0 -1 REV", "ZRANGE k 0 1 REV WITHSCORES", "ZREVRANGE k 0 1",
		"ZREVRANGE k 0 -1 WITHSCORES", "ZRANGE k 0 -1 LIMIT 0 1", "ZRANGE k a b", "ZRANGE k 0 b", "ZRANGE nokey 0 -1",
		"ZRANGE k 0 -1 WITHSCORES WITHSCORES", "ZRANGE k 0 -1 REV REV", "ZRANGE k 0 -1 foo", "ZREVRANGE k 0 -1 REV",
		"ZRANGE k 0 -1 BYSCORE BYLEX", "ZRANGE k 0 -1 LIMIT 0", "ZRANGE k 0 -1 LIMIT x 1 BYSCORE", "ZREVRANGE k 0 -1 LIMIT 0 1",
	}},
	{"zrange-score", []string{
		"ZADD k 1 a 2 b 3 c 4 d 5 e 3 cc", "ZRANGE k 2 4 BYSCORE", "ZRANGE k (2 4 BYSCORE WITHSCORES", "ZRANGE k 4 2 BYSCORE REV",
		"ZRANGE k -inf +inf BYSCORE LIMIT 1 2", "ZRANGE k -inf +inf BYSCORE LIMIT 1 -1", "ZRANGE k -inf +inf BYSCORE LIMIT -1 2",
		"ZRANGE k -inf +inf BYSCORE LIMIT 6 2", "ZRANGE k -inf +inf BYSCORE LIMIT 5 2", "ZRANGE k -inf +inf BYSCORE LIMIT 0 0",
		"ZRANGEBYSCORE k 2 3", "ZRANGEBYSCORE k 2 3 WITHSCORES LIMIT 1 1", "ZREVRANGEBYSCORE k 3 2", "ZREVRANGEBYSCORE k 3 2 WITHSCORES",
		"ZREVRANGEBYSCORE k +inf -inf LIMIT 1 3", "ZRANGEBYSCORE k x 3", "ZRANGEBYSCORE k 1 3 REV", "ZRANGEBYSCORE k 1 3 BYSCORE",
		"ZRANGEBYSCORE k 3 1", "ZRANGEBYSCORE k (3 (3", "ZREVRANGEBYSCORE k 1 3", "ZRANGEBYSCORE k 1 3 LIMIT 1",
	}},
	{"zrange-lex", []string{
		"ZADD k 0 a 0 b 0 c 0 d 0 e 0 f", "ZRANGE k [b [d BYLEX", "ZRANGE k [d [b BYLEX REV", "ZRANGE k - + BYLEX LIMIT 2 2",
		"ZRANGE k - + BYLEX WITHSCORES", "ZRANGEBYLEX k (b (e", "ZRANGEBYLEX k - + LIMIT 1 2", "ZREVRANGEBYLEX k + - LIMIT 1 2",
		"ZREVRANGEBYLEX k [e (a", "ZRANGEBYLEX k b d", "ZRANGEBYLEX k - + WITHSCORES", "ZRANGEBYLEX k + -", "ZRANGEBYLEX k [a [a",
	}},
	{"zrangestore", []string{
		"ZADD k 1 a 2 b 3 c 4 d", "ZRANGESTORE dst k 0 1", "ZRANGE dst 0 -1 WITHSCORES", "ZRANGESTORE dst k 2 3 BYSCORE REV",
		"ZRANGESTORE dst k 3 2 BYSCORE REV", "ZRANGE dst 0 -1 WITHSCORES", "ZRANGESTORE dst k [a [b BYLEX", "ZRANGE dst 0 -1",
		"ZRANGESTORE dst k 10 20", "EXISTS dst", "ZRANGESTORE dst k 0 -1 WITHSCORES", "ZRANGESTORE dst nokey 0 -1",
		"SET str x", "ZRANGESTORE str k 0 0", "ZRANGE str 0 -1", "ZRANGESTORE dst k 0 -1 LIMIT 0 1",
	}},
	{"zremrange", []string{
		"ZADD k 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYRANK k 0 0", "ZREMRANGEBYRANK k -1 -1", "ZRANGE k 0 -1",
		"ZREMRANGEBYRANK k 5 10", "ZREMRANGEBYRANK k x 1", "ZREMRANGEBYSCORE k (2 3", "ZRANGE k 0 -1", "ZREMRANGEBYSCORE k a b",
		"ZREMRANGEBYSCORE k -inf +inf", "EXISTS k", "ZADD k 0 a 0 b 0 c", "ZREMRANGEBYLEX k [a (c", "ZRANGE k 0 -1",
		"ZREMRANGEBYLEX k a b", "ZREMRANGEBYLEX nokey - +", "ZREMRANGEBYRANK nokey 0 1", "ZREMRANGEBYSCORE nokey 0 1",
	}},
	{"zpop", []string{
		"ZADD k 1 a 2 b 3 c 4 d 5 e", "ZPOPMIN k", "ZPOPMAX k", "ZPOPMIN k 2", "ZPOPMAX k 0", "ZPOPMIN k -1", "ZPOPMIN k x",
		"ZPOPMIN k 1 2", "ZPOPMAX k 10", "EXISTS k", "ZPOPMIN nokey", "ZPOPMIN nokey 3", "ZPOPMAX nokey 0",
	}},
	{"bzpop-immediate", []string{
		"ZADD k2 1 a 2 b", "BZPOPMIN k k2 0", "BZPOPMAX k k2 0.5", "EXISTS k2", "BZPOPMIN k x",
		"BZPOPMIN k -1", "BZPOPMIN k 1e400", "BZPOPMIN k nan",
	}},
	{"zmpop", []string{
		"ZADD k2 1 a 2 b 3 c", "ZMPOP 2 k k2 MIN", "ZMPOP 2 k k2 MAX COUNT 5", "EXISTS k2", "ZMPOP 2 k k2 MIN",
		"ZMPOP 0 k MIN", "ZMPOP x k MIN", "ZMPOP -1 k MIN", "ZMPOP 3 k k2 MIN", "ZMPOP 1 k FOO", "ZMPOP 1 k MIN COUNT 0",
		"ZMPOP 1 k MIN COUNT x", "ZMPOP 1 k MIN COUNT 1 COUNT 2", "ZMPOP 1 k MIN FOO", "ZMPOP 1 k MIN COUNT",
		"ZADD k 1 a", "BZMPOP 0 1 k MIN", "BZMPOP x 1 k MIN", "BZMPOP 0 0 k MIN", "BZMPOP 0 1 k MAX COUNT -1",
	}},
	{"setops", []string{
		"ZADD k1 1 a 2 b 3 c", "ZADD k2 1 b 2 c 3 d", "ZADD k3 10 c",
		"ZUNION 2 k1 k2", "ZUNION 2 k1 k2 WITHSCORES", "ZUNION 2 k1 k2 WEIGHTS 2 3 WITHSCORES", "ZUNION 2 k1 k2 AGGREGATE MIN WITHSCORES",
		"ZUNION 2 k1 k2 AGGREGATE MAX WITHSCORES", "ZINTER 2 k1 k2 WITHSCORES", "ZINTER 3 k1 k2 k3 WITHSCORES", "ZINTER 2 k1 nokey",
		"ZDIFF 2 k1 k2 WITHSCORES", "ZDIFF 1 k1", "ZDIFF 3 k1 k2 k3", "ZUNIONSTORE dst 2 k1 k2", "ZRANGE dst 0 -1 WITHSCORES",
		"ZINTERSTORE dst 2 k1 k2 WEIGHTS 1 -1", "ZRANGE dst 0 -1 WITHSCORES", "ZDIFFSTORE dst 2 k1 k2", "ZRANGE dst 0 -1 WITHSCORES",
		"ZINTERSTORE dst 2 k1 nokey", "EXISTS dst", "ZINTERCARD 2 k1 k2", "ZINTERCARD 2 k1 k2 LIMIT 1", "ZINTERCARD 2 k1 k2 LIMIT 0",
		"ZINTERCARD 2 k1 k2 LIMIT -1", "ZINTERCARD 0 k1", "ZINTERCARD x k1", "ZINTERCARD 3 k1 k2", "ZINTERCARD 1 k1 WITHSCORES",
		"ZUNION 0 k1", "ZUNION -1 k1", "ZUNION 3 k1 k2", "ZUNION 2 k1 k2 WEIGHTS 1", "ZUNION 2 k1 k2 WEIGHTS 1 x",
		"ZUNION 2 k1 k2 AGGREGATE foo", "ZUNION 2 k1 k2 AGGREGATE", "ZUNIONSTORE dst 2 k1 k2 WITHSCORES", "ZDIFF 2 k1 k2 WEIGHTS 1 2",
		"ZDIFF 2 k1 k2 AGGREGATE SUM", "ZUNIONSTORE dst 0 k1", "ZDIFFSTORE dst 0 k1", "ZINTERSTORE dst -1 k1", "ZINTER 0 k1",
		"ZUNION 2 k1 k2 WEIGHTS inf -inf WITHSCORES", "ZINTER 2 k1 k2 WEIGHTS inf -inf WITHSCORES",
		"ZINTER 2 k1 k1 WITHSCORES", "ZUNION 1 k1 foo",
	}},
	{"zrandmember", []string{
		"ZRANDMEMBER nokey", "ZRANDMEMBER nokey 5", "ZADD k 1 a", "ZRANDMEMBER k", "ZRANDMEMBER k 1", "ZRANDMEMBER k -3",
		"ZRANDMEMBER k -2 WITHSCORES", "ZADD k 2 b 3 c", "ZRANDMEMBER k 5", "ZRANDMEMBER k 3 WITHSCORES", "ZRANDMEMBER k 0",
		"ZRANDMEMBER k x", "ZRANDMEMBER k 1 foo", "ZRANDMEMBER k 1 WITHSCORES x", "ZRANDMEMBER k -9223372036854775808",
		"ZRANDMEMBER k 9223372036854775807 WITHSCORES", "ZRANDMEMBER k -9223372036854775807 WITHSCORES",
	}},
	{"zscan", []string{
		"ZADD k 1 a 2 b 3 c 1.5 x", "ZSCAN k 0", "ZSCAN k 0 MATCH a*", "ZSCAN k 0 COUNT 1", "ZSCAN k 0 COUNT 0", "ZSCAN k x",
		"ZSCAN k 0 COUNT x", "ZSCAN k 0 FOO", "ZSCAN nokey 0", "ZSCAN nokey 0 FOO bar", "ZSCAN k 0 MATCH", "ZSCAN k -1",
	}},
	{"arity", []string{
		"ZADD k", "ZCARD", "ZRANGE k 0", "ZPOPMIN", "BZPOPMIN k", "ZUNION 1", "ZMPOP 1", "ZRANGESTORE dst k 0",
	}},
}

func TestZSetDiff(t *testing.T) { dtRun(t, zsetCases) }
