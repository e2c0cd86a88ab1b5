package commands_test

import "testing"

var bitmapCases = []dtCase{
	{"setbit-getbit", []string{
		"SETBIT bm 7 1", "GET bm", "SETBIT bm 7 0", "SETBIT bm 100 1", "GET bm", "GETBIT bm 100", "GETBIT bm 101",
		"GETBIT bm 100000", "GETBIT nokey 3", "SETBIT bm -1 1", "SETBIT bm x 1", "SETBIT bm 1 2", "SETBIT bm 1 -1",
		"SETBIT bm 1 x", "SETBIT bm 4294967296 1", "GETBIT bm -1", "GETBIT bm 4294967296", "SET str hello",
		"SETBIT str 0 1", "GET str", "SETBIT bm 800000 0", "BITCOUNT bm",
	}},
	{"bitcount", []string{
		"SET bm foobar", "BITCOUNT bm", "BITCOUNT bm 0 0", "BITCOUNT bm 1 1", "BITCOUNT bm 1 -2", "BITCOUNT bm -2 -1",
		"BITCOUNT bm -1 -2", "BITCOUNT bm 5 30 BIT", "BITCOUNT bm 0 -1 BIT", "BITCOUNT bm 1 1 BYTE", "BITCOUNT bm 7 9 BIT",
		"BITCOUNT bm -3 -1 BIT", "BITCOUNT bm 0", "BITCOUNT bm 0 1 FOO", "BITCOUNT bm x 1", "BITCOUNT bm 100 200",
		"BITCOUNT nokey", "BITCOUNT nokey 0", "BITCOUNT bm 0 1 BIT extra", "SET bm ''", "BITCOUNT bm", "BITCOUNT bm 0 -1",
	}},
	{"bitpos", []string{
		"SET bm \"\\xff\\xf0\\x00\"", "BITPOS bm 0", "BITPOS bm 1", "BITPOS bm 0 2", "BITPOS bm 1 2", "BITPOS bm 1 2 -1",
		"BITPOS bm 0 0 1", "BITPOS bm 0 0 0", "BITPOS bm 1 7 15 BIT", "BITPOS bm 0 7 15 BIT", "BITPOS bm 0 0 11 BIT",
		"BITPOS bm 0 12 BIT", "BITPOS bm 1 12 BIT", "BITPOS bm 0 -3 -1 BIT", "BITPOS bm 2", "BITPOS bm x", "BITPOS bm 1 x",
		"BITPOS bm 1 0 x", "BITPOS bm 1 0 1 FOO", "BITPOS nokey 0", "BITPOS nokey 1", "BITPOS bm 1 5 3", "SET bm \"\\xff\\xff\"",
		"BITPOS bm 0", "BITPOS bm 0 0", "BITPOS bm 0 0 -1", "BITPOS bm 0 0 -1 BIT", "BITPOS bm 0 3 BIT", "SET bm ''", "BITPOS bm 0", "BITPOS bm 1",
		"SET bm \"\\x00\\x00\\x01\"", "BITPOS bm 1", "BITPOS bm 1 1 BIT", "BITPOS bm 1 -1 BYTE",
	}},
	{"bitop", []string{
		"SET bm1 foobar", "SET bm2 abcdef", "SET bm3 xy", "BITOP AND bm bm1 bm2", "GET bm", "BITOP OR bm bm1 bm2 bm3", "GET bm",
		"BITOP XOR bm bm1 bm3", "GET bm", "BITOP NOT bm bm3", "GET bm", "BITOP NOT bm bm1 bm2", "BITOP FOO bm bm1",
		"BITOP AND bm bm1 nokey", "GET bm", "BITOP AND bm nokey nokey2", "EXISTS bm", "ZADD k 1 a", "BITOP OR bm bm1 k",
		"BITOP and bm bm1",
	}},
	{"bitfield", []string{
		"BITFIELD bm SET i8 0 100 GET i8 0 GET u4 0 INCRBY i8 0 100", "GET bm", "BITFIELD bm OVERFLOW SAT INCRBY i8 0 100 INCRBY u2 100 1",
		"BITFIELD bm OVERFLOW FAIL INCRBY i8 0 100 GET i8 0", "BITFIELD bm OVERFLOW WRAP INCRBY u8 0 300", "BITFIELD bm SET u8 #1 255 GET u8 8 GET i8 #1",
		"BITFIELD bm GET i64 0 GET u63 3 SET i64 0 -1 GET i64 0 INCRBY i64 0 -9223372036854775808",
		"BITFIELD bm OVERFLOW SAT INCRBY i64 0 -9223372036854775808 INCRBY u63 0 -1", "BITFIELD bm SET u8 0 -1 SET u8 0 256",
		"BITFIELD bm OVERFLOW FAIL SET u8 0 256 SET i8 0 128 SET i8 0 -129 SET i8 0 -128",
		"BITFIELD bm GET u64 0", "BITFIELD bm GET i65 0", "BITFIELD bm GET x8 0", "BITFIELD bm GET i0 0", "BITFIELD bm GET i8 -1",
		"BITFIELD bm GET i8 #-1", "BITFIELD bm GET i8", "BITFIELD bm FOO", "BITFIELD bm OVERFLOW FOO", "BITFIELD bm SET i8 0 x",
		"BITFIELD bm", "BITFIELD nokey GET i8 0", "EXISTS nokey", "BITFIELD nokey2 OVERFLOW FAIL SET i8 0 1000", "GET nokey2",
		"BITFIELD_RO bm GET i8 0 GET u16 4", "BITFIELD_RO bm SET i8 0 1", "BITFIELD_RO bm INCRBY i8 0 1",
		"SET str x", "ZADD k 1 a", "BITFIELD k GET i8 0", "BITFIELD_RO k GET i8 0", "BITFIELD str INCRBY u2 #3 7", "GET str",
		"BITFIELD bm OVERFLOW WRAP INCRBY i5 100 -1000 INCRBY u5 100 -1000 OVERFLOW SAT INCRBY i5 100 -1000 INCRBY u5 100 -1000",
	}},
	{"bit-wrongtype", []string{
		"ZADD k 1 a", "SETBIT k 0 1", "GETBIT k 0", "BITCOUNT k", "BITPOS k 1", "BITOP NOT bm k",
	}},
}

func TestBitmapDiff(t *testing.T) { dtRun(t, bitmapCases) }
