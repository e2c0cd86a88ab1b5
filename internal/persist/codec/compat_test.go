package codec_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// payload wraps a value's encoding as a DUMP payload (RDB version 9, as
// written by Redis 6.x, or 10).
func payload(version uint16, t byte, body func(e *rdb.Encoder)) string {
	e := rdb.Encoder{}
	e.Byte(t)
	body(&e)
	e.Buf = binary.LittleEndian.AppendUint16(e.Buf, version)
	e.Buf = binary.LittleEndian.AppendUint64(e.Buf, rdb.NewCRCTable().Update(0, e.Buf))
	return string(e.Buf)
}

func strs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// ziplistElems exercise every ziplist encoding: immediate, 8/16/24/32/64
// bit integers, 6/14/32-bit string lengths, and 5-byte prevlens.
func ziplistElems() [][]byte {
	return strs("0", "12", "13", "-1", "127", "-128", "300", "-32768", "40000", "-8388608", "8388608",
		"2147483647", "-2147483649", "9223372036854775807", "x", strings.Repeat("a", 63),
		strings.Repeat("b", 64), strings.Repeat("c", 300), strings.Repeat("d", 16383), strings.Repeat("e", 16384),
		"01", "1.5", "12345678901234567890123456789012", "")
}

type contentCmd func(key string) [][]string

func content(key string) [][]string {
	return [][]string{{"TYPE", key}, {"OBJECT", "ENCODING", key}}
}

var byType = map[string]func(key string) [][]string{
	"list":   func(k string) [][]string { return [][]string{{"LRANGE", k, "0", "-1"}} },
	"hash":   func(k string) [][]string { return [][]string{{"@sorted", "HGETALL", k}} },
	"set":    func(k string) [][]string { return [][]string{{"@sorted", "SMEMBERS", k}} },
	"zset":   func(k string) [][]string { return [][]string{{"ZRANGE", k, "0", "-1", "WITHSCORES"}} },
	"stream": func(k string) [][]string { return [][]string{{"XINFO", "STREAM", k, "FULL"}} },
}

// compareKey compares key's type, encoding and contents on both servers.
func compareKey(t *testing.T, rc, cc *difftest.Conn, key string) {
	t.Helper()
	typ := string(rc.MustDo(t, "TYPE", key))
	cmds := content(key)
	if f := byType[strings.TrimSpace(strings.TrimPrefix(typ, "+"))]; f != nil {
		cmds = append(cmds, f(key)...)
	}
	for _, cmd := range cmds {
		sorted := cmd[0] == "@sorted"
		if sorted {
			cmd = cmd[1:]
		}
		want, got := rc.MustDo(t, cmd...), cc.MustDo(t, cmd...)
		if sorted {
			want, got = difftest.SortedReply(want), difftest.SortedReply(got)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%q:\nRedis    %.400q\nCrescent %.400q", cmd, want, got)
		}
	}
}

// TestLoadOlderForms RESTOREs every encoding Redis 7.0 loads but no
// longer writes (built here byte by byte) into Redis and Crescent and
// compares what both make of them.
func TestLoadOlderForms(t *testing.T) {
	r := difftest.StartRedis(t)
	c := difftest.StartCrescent(t)
	rc, cc := difftest.Dial(t, r), difftest.Dial(t, c)
	zl := ziplistElems()
	bigHash := func(e *rdb.Encoder) {
		e.Len(200)
		for i := 0; i < 200; i++ {
			e.String([]byte(fmt.Sprintf("field:%d", i)))
			e.String([]byte(strconv.Itoa(i * 3)))
		}
	}
	cases := []struct {
		name string
		p    string
	}{
		{"list", payload(9, rdb.TypeList, func(e *rdb.Encoder) {
			e.Len(4)
			for _, s := range []string{"a", "12", "", strings.Repeat("z", 100)} {
				e.String([]byte(s))
			}
		})},
		{"list-ziplist", payload(9, rdb.TypeListZiplist, func(e *rdb.Encoder) { e.String(listpack.ZiplistBuild(zl...)) })},
		{"quicklist", payload(9, rdb.TypeListQuicklist, func(e *rdb.Encoder) {
			e.Len(3)
			e.String(listpack.ZiplistBuild(zl[:10]...))
			e.String(listpack.ZiplistBuild())
			e.String(listpack.ZiplistBuild(zl[10:]...))
		})},
		{"quicklist2-plain", payload(10, rdb.TypeListQuicklist2, func(e *rdb.Encoder) {
			e.Len(3)
			e.Len(2)
			e.String(listpack.Build(strs("a", "1", "b")...))
			e.Len(1)
			e.String([]byte(strings.Repeat("p", 500)))
			e.Len(2)
			e.String(listpack.Build(strs("-5", "c")...))
		})},
		{"hash-small", payload(9, rdb.TypeHash, func(e *rdb.Encoder) {
			e.Len(2)
			for _, s := range []string{"f", "v", "n", "42"} {
				e.String([]byte(s))
			}
		})},
		{"hash-large", payload(9, rdb.TypeHash, bigHash)},
		{"hash-zipmap", payload(9, rdb.TypeHashZipmap, func(e *rdb.Encoder) {
			e.String(listpack.ZipmapBuild(strs("f", "v", "n", "12", "empty", "")...))
		})},
		{"hash-zipmap-long", payload(9, rdb.TypeHashZipmap, func(e *rdb.Encoder) {
			e.String(listpack.ZipmapBuild(strs("f", strings.Repeat("v", 300), strings.Repeat("k", 260), "1")...))
		})},
		{"hash-ziplist", payload(9, rdb.TypeHashZiplist, func(e *rdb.Encoder) { e.String(listpack.ZiplistBuild(zl[:20]...)) })},
		{"set-ints", payload(9, rdb.TypeSet, func(e *rdb.Encoder) {
			e.Len(3)
			for _, s := range []string{"3", "-70000", "1"} {
				e.String([]byte(s))
			}
		})},
		{"set-strings", payload(9, rdb.TypeSet, func(e *rdb.Encoder) {
			e.Len(3)
			for _, s := range []string{"3", "x", "1"} {
				e.String([]byte(s))
			}
		})},
		{"set-intset64", payload(9, rdb.TypeSetIntset, func(e *rdb.Encoder) {
			e.String(listpack.IntsetBuild([]int64{-3, 0, 5}, 8))
		})},
		{"zset-text", payload(9, rdb.TypeZSet, func(e *rdb.Encoder) {
			e.Len(4)
			for _, m := range []struct {
				m string
				s []byte
			}{{"a", []byte{3, '1', '.', '5'}}, {"b", []byte{254}}, {"c", []byte{255}}, {"d", []byte{2, '-', '3'}}} {
				e.String([]byte(m.m))
				e.Buf = append(e.Buf, m.s...)
			}
		})},
		{"zset-ziplist", payload(9, rdb.TypeZSetZiplist, func(e *rdb.Encoder) {
			e.String(listpack.ZiplistBuild(strs("a", "1", "b", "2.5", "c", "100000", "d", "1e+20")...))
		})},
		{"zset2-small", payload(9, rdb.TypeZSet2, func(e *rdb.Encoder) {
			e.Len(2)
			e.String([]byte("y"))
			e.Double(2)
			e.String([]byte("x"))
			e.Double(-0.5)
		})},
		{"zset2-large", payload(9, rdb.TypeZSet2, func(e *rdb.Encoder) {
			e.Len(150)
			for i := 0; i < 150; i++ {
				e.String([]byte(fmt.Sprintf("m%d", i)))
				e.Double(float64(i) / 7)
			}
		})},
		{"stream-v1", payload(9, rdb.TypeStreamListpacks, func(e *rdb.Encoder) {
			// one node, master 5-1 with fields a b; entries 5-1 (same
			// fields), 5-2 (deleted), 7-0 (other fields)
			b := listpack.NewBuilder(nil)
			for _, x := range []int64{2, 1, 2} {
				b.Int(x)
			}
			b.String([]byte("a"))
			b.String([]byte("b"))
			b.Int(0)
			b.Int(2)
			b.Int(0)
			b.Int(0)
			b.String([]byte("1"))
			b.String([]byte("2"))
			b.Int(5)
			b.Int(3)
			b.Int(0)
			b.Int(1)
			b.String([]byte("x"))
			b.String([]byte("y"))
			b.Int(5)
			b.Int(0)
			b.Int(2)
			b.Int(int64(0 - 1)) // seq delta 0-1 wraps
			b.Int(1)
			b.String([]byte("c"))
			b.String([]byte("3"))
			b.Int(6)
			var key [16]byte
			binary.BigEndian.PutUint64(key[:], 5)
			binary.BigEndian.PutUint64(key[8:], 1)
			e.Len(1) // nodes
			e.String(key[:])
			e.String(b.Finish())
			e.Len(2) // length
			e.Len(7) // last id
			e.Len(0)
			e.Len(1) // one group
			e.String([]byte("grp"))
			e.Len(5)
			e.Len(1)
			e.Len(1) // PEL
			e.Buf = append(e.Buf, key[:]...)
			e.Millis(1700000000000)
			e.Len(3)
			e.Len(1) // consumers
			e.String([]byte("alice"))
			e.Millis(1700000000500)
			e.Len(1)
			e.Buf = append(e.Buf, key[:]...)
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := rc.MustDo(t, "RESTORE", tc.name, "0", tc.p)
			if string(want) != "+OK\r\n" {
				t.Fatalf("Redis rejects the payload %q: %q", tc.p, want)
			}
			if got := cc.MustDo(t, "RESTORE", tc.name, "0", tc.p); !bytes.Equal(got, want) {
				t.Fatalf("RESTORE: Redis %q, Crescent %q", want, got)
			}
			compareKey(t, rc, cc, tc.name)
			// what Crescent writes back for it is what Redis writes
			want, got := rc.MustDo(t, "DUMP", tc.name), cc.MustDo(t, "DUMP", tc.name)
			if !bytes.Equal(want, got) && !strings.HasPrefix(tc.name, "hash-large") &&
				tc.name != "set-strings" && tc.name != "hash-zipmap-long" && tc.name != "quicklist2-plain" && tc.name != "quicklist" {
				t.Errorf("DUMP after load:\nRedis    %.300q\nCrescent %.300q", want, got)
			}
		})
	}
}

// TestPlainNodes: Redis stores an element past the packed threshold in a
// PLAIN node (lowered here with DEBUG); Crescent loads it.
func TestPlainNodes(t *testing.T) {
	r := difftest.StartRedis(t)
	c := difftest.StartCrescent(t)
	rc, cc := difftest.Dial(t, r), difftest.Dial(t, c)
	if s := rc.MustDo(t, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"); s[0] == '-' {
		t.Skipf("DEBUG QUICKLIST-PACKED-THRESHOLD: %s", s)
	}
	rc.MustDo(t, "RPUSH", "l", "a", strings.Repeat("b", 200), "c", strings.Repeat("d", 150), strings.Repeat("e", 99))
	p := rc.MustDo(t, "DUMP", "l")
	v, _, _ := difftest.Parse(p)
	if got := cc.MustDo(t, "RESTORE", "l", "0", string(v.Str)); string(got) != "+OK\r\n" {
		t.Fatalf("RESTORE: %q", got)
	}
	compareKey(t, rc, cc, "l")
}

// TestListFills: the node split follows list-max-listpack-size, size and
// count based, byte for byte.
func TestListFills(t *testing.T) {
	r := difftest.StartRedis(t)
	c := difftest.StartCrescent(t)
	rc, cc := difftest.Dial(t, r), difftest.Dial(t, c)
	for _, fill := range []string{"-1", "-2", "-3", "-5", "1", "5", "100", "1000"} {
		for _, conn := range []*difftest.Conn{rc, cc} {
			conn.MustDo(t, "CONFIG", "SET", "list-max-listpack-size", fill)
			conn.MustDo(t, "CONFIG", "SET", "rdbcompression", "no")
			conn.MustDo(t, "DEL", "l")
			for i := 0; i < 400; i++ {
				conn.MustDo(t, "RPUSH", "l", strings.Repeat("v", i%97), strconv.Itoa(i*1000-7))
			}
		}
		want, got := rc.MustDo(t, "DUMP", "l"), cc.MustDo(t, "DUMP", "l")
		if !bytes.Equal(want, got) {
			t.Errorf("fill %s: DUMP differs (Redis %d bytes, Crescent %d)", fill, len(want), len(got))
		}
	}
}

// TestStreamNodeLimits: stream nodes split as Redis's for every
// stream-node-max-entries / stream-node-max-bytes, byte for byte.
func TestStreamNodeLimits(t *testing.T) {
	r := difftest.StartRedis(t)
	c := difftest.StartCrescent(t)
	rc, cc := difftest.Dial(t, r), difftest.Dial(t, c)
	for _, lim := range [][2]string{{"100", "4096"}, {"0", "0"}, {"5", "0"}, {"0", "200"}, {"10", "1000"}, {"1", "1"}} {
		for _, conn := range []*difftest.Conn{rc, cc} {
			conn.MustDo(t, "CONFIG", "SET", "stream-node-max-entries", lim[0])
			conn.MustDo(t, "CONFIG", "SET", "stream-node-max-bytes", lim[1])
			conn.MustDo(t, "DEL", "s")
			for i := 1; i <= 300; i++ {
				id := fmt.Sprintf("%d-%d", i/4, i%4)
				if i%5 == 0 {
					conn.MustDo(t, "XADD", "s", id, "other", strings.Repeat("o", i%70))
				} else {
					conn.MustDo(t, "XADD", "s", id, "f", strconv.Itoa(i*37), "g", strings.Repeat("v", i%30))
				}
				if i%11 == 0 {
					conn.MustDo(t, "XDEL", "s", id)
				}
			}
		}
		want, got := rc.MustDo(t, "DUMP", "s"), cc.MustDo(t, "DUMP", "s")
		if !bytes.Equal(want, got) {
			t.Errorf("limits %v: DUMP differs (Redis %d bytes, Crescent %d)", lim, len(want), len(got))
		}
	}
}
