package difftest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/crescent-db/crescent/internal/persist/listpack"
	"github.com/crescent-db/crescent/internal/persist/rdb"
)

// oldRDB builds an RDB file of the given version by hand, with the value
// encodings of older Redis versions (zipmap, ziplist, intset, quicklist of
// ziplists, zsets with text scores, expiries in seconds), which Redis
// 7.0 still loads, converting them as the configuration's limits say.
// Versions below 5 have no checksum.
type oldRDB struct {
	e   rdb.Encoder
	ver int
}

func newOldRDB(ver int) *oldRDB {
	f := &oldRDB{ver: ver}
	f.e.Buf = fmt.Appendf(nil, "REDIS%04d", ver)
	f.e.Byte(rdb.OpSelectDB)
	f.e.Len(0)
	return f
}

// key writes one key of RDB type t, its value written by body.
func (f *oldRDB) key(t byte, name string, body func(e *rdb.Encoder)) {
	f.e.Byte(t)
	f.e.String([]byte(name))
	body(&f.e)
}

// expireSec writes a seconds expiry (RDB_OPCODE_EXPIRETIME) for the next key.
func (f *oldRDB) expireSec(sec int32) {
	f.e.Byte(rdb.OpExpireTime)
	f.e.Buf = binary.LittleEndian.AppendUint32(f.e.Buf, uint32(sec))
}

func (f *oldRDB) bytes() []byte {
	f.e.Byte(rdb.OpEOF)
	if f.ver >= 5 {
		f.e.Buf = binary.LittleEndian.AppendUint64(f.e.Buf, rdb.NewCRCTable().Update(0, f.e.Buf))
	}
	return f.e.Buf
}

func byteStrs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// pairs returns n field/value (or member/score) pairs.
func pairs(n int, f func(i int) (string, string)) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		a, b := f(i)
		out = append(out, []byte(a), []byte(b))
	}
	return out
}

// oldEncodingFile writes every old encoding Redis's
// convert-zipmap-hash-on-load, convert-ziplist-hash-on-load and
// convert-ziplist-zset-on-load tests load (their asset files hold a hash
// {f1 v1 f2 v2} and a zset {one 1 two 2}), plus the other encodings of
// older RDB versions, each small and past the default limits.
func oldEncodingFile(ver int) []byte {
	f := newOldRDB(ver)
	// versions 6 and 9 as rdbcompression yes writes them: the blobs
	// (zipmaps, ziplists, intsets) and strings longer than 20 bytes
	// LZF-compressed
	f.e.Compress = ver >= 6
	f.key(rdb.TypeHashZipmap, "hash", func(e *rdb.Encoder) {
		e.String(listpack.ZipmapBuild(byteStrs("f1", "v1", "f2", "v2")...))
	})
	f.key(rdb.TypeHashZipmap, "hash-zipmap-longval", func(e *rdb.Encoder) {
		e.String(listpack.ZipmapBuild(byteStrs("f", strings.Repeat("v", 70), "g", "1")...))
	})
	f.key(rdb.TypeHashZipmap, "hash-zipmap-many", func(e *rdb.Encoder) {
		e.String(listpack.ZipmapBuild(pairs(600, func(i int) (string, string) { return "f" + strconv.Itoa(i), strconv.Itoa(i) })...))
	})
	f.key(rdb.TypeHashZiplist, "hash-ziplist", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(byteStrs("f1", "v1", "f2", "v2")...))
	})
	f.key(rdb.TypeHashZiplist, "hash-ziplist-many", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(pairs(600, func(i int) (string, string) { return "f" + strconv.Itoa(i), "v" })...))
	})
	f.key(rdb.TypeHashZiplist, "hash-ziplist-longval", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(byteStrs("f", strings.Repeat("v", 70))...))
	})
	f.key(rdb.TypeZSetZiplist, "zset", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(byteStrs("one", "1", "two", "2")...))
	})
	f.key(rdb.TypeZSetZiplist, "zset-ziplist-many", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(pairs(200, func(i int) (string, string) { return "m" + strconv.Itoa(i), strconv.Itoa(i) })...))
	})
	f.key(rdb.TypeZSetZiplist, "zset-ziplist-longval", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(byteStrs("b", "-2", strings.Repeat("m", 70), "1.5")...))
	})
	f.key(rdb.TypeZSet, "zset-text-scores", func(e *rdb.Encoder) {
		e.Len(3)
		for _, m := range []struct {
			m string
			s []byte
		}{{"a", []byte{3, '1', '.', '5'}}, {"b", []byte{254}}, {"c", []byte{2, '-', '3'}}} {
			e.String([]byte(m.m))
			e.Buf = append(e.Buf, m.s...)
		}
	})
	f.key(rdb.TypeSetIntset, "intset", func(e *rdb.Encoder) {
		e.String(listpack.IntsetBuild([]int64{1, 2, 3}, 2))
	})
	f.key(rdb.TypeSetIntset, "intset-wide", func(e *rdb.Encoder) {
		e.String(listpack.IntsetBuild([]int64{-5000000000, 0, 7}, 8))
	})
	f.key(rdb.TypeSet, "set-plain-ints", func(e *rdb.Encoder) {
		e.Len(3)
		for _, s := range []string{"3", "-7", "1"} {
			e.String([]byte(s))
		}
	})
	f.key(rdb.TypeSet, "set-plain-strings", func(e *rdb.Encoder) {
		e.Len(2)
		e.String([]byte("x"))
		e.String([]byte("2"))
	})
	f.key(rdb.TypeList, "list-plain", func(e *rdb.Encoder) {
		e.Len(3)
		for _, s := range []string{"a", "12", strings.Repeat("z", 100)} {
			e.String([]byte(s))
		}
	})
	f.key(rdb.TypeListZiplist, "list-ziplist", func(e *rdb.Encoder) {
		e.String(listpack.ZiplistBuild(byteStrs("a", "1", "-300", "b")...))
	})
	f.key(rdb.TypeListQuicklist, "list-quicklist", func(e *rdb.Encoder) {
		e.Len(2)
		e.String(listpack.ZiplistBuild(byteStrs("a", "b", "c")...))
		e.String(listpack.ZiplistBuild(byteStrs("4", "5", strings.Repeat("x", 80))...))
	})
	f.key(rdb.TypeHash, "hash-plain", func(e *rdb.Encoder) {
		e.Len(2)
		for _, s := range []string{"f", "v", "n", "42"} {
			e.String([]byte(s))
		}
	})
	f.expireSec(2000000000) // 2033
	f.key(rdb.TypeString, "str-expire-sec", func(e *rdb.Encoder) { e.String([]byte("v")) })
	f.expireSec(1000) // long past: not loaded
	f.key(rdb.TypeString, "str-expired", func(e *rdb.Encoder) { e.String([]byte("v")) })
	return f.bytes()
}

// TestOldEncodingsOnLoad: RDB files of older versions (3; 6 and 9 with
// LZF-compressed blobs), with
// the zipmap, ziplist and intset encodings and the other value types of
// their time, load into Crescent as into redis-server 7.0.15: the same
// keys, values and OBJECT ENCODING, under the default limits and under
// limits the loaded values exceed (Redis's convert-*-on-load tests), and
// with sanitize-dump-payload yes.
func TestOldEncodingsOnLoad(t *testing.T) {
	if RedisBinary() == "" {
		t.Skip("redis-server not found; skipping the old-encoding load test")
	}
	configs := []struct {
		name string
		args []string
	}{
		{"defaults", nil},
		{"hash-max-ziplist-entries 1", []string{"--hash-max-ziplist-entries", "1"}},
		{"hash-max-ziplist-value 1", []string{"--hash-max-ziplist-value", "1"}},
		{"zset-max-ziplist-entries 1", []string{"--zset-max-ziplist-entries", "1"}},
		{"zset-max-ziplist-value 1", []string{"--zset-max-ziplist-value", "1"}},
		{"set-max-intset-entries 1, list-max-ziplist-size 1", []string{"--set-max-intset-entries", "1", "--list-max-ziplist-size", "1"}},
		{"sanitize-dump-payload yes", []string{"--sanitize-dump-payload", "yes"}},
	}
	for _, ver := range []int{3, 6, 9} {
		file := oldEncodingFile(ver)
		for _, cf := range configs {
			t.Run(fmt.Sprintf("v%d %s", ver, cf.name), func(t *testing.T) {
				var outs [2]string
				for i, start := range []func(*testing.T, string, ...string) (string, string, bool){startRedisDir, startCrescentDir} {
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "old.rdb"), file, 0o644); err != nil {
						t.Fatal(err)
					}
					addr, log, ok := start(t, dir, append([]string{"--appendonly", "no", "--dbfilename", "old.rdb"}, cf.args...)...)
					if !ok {
						outs[i] = "refused to start: " + lastLines(log, 2)
						continue
					}
					outs[i] = oldEncodingState(t, addr)
				}
				if strings.HasPrefix(outs[0], "refused") || !strings.Contains(outs[0], "hash-zipmap-many") {
					t.Fatalf("redis-server did not load the file: %s", outs[0])
				}
				if outs[0] != outs[1] {
					t.Errorf("redis:\n%s\ncrescent:\n%s\n%s", outs[0], outs[1], lineDiff(outs[0], outs[1]))
				}
			})
		}
	}
}

// oldEncodingState lists every key of db 0 with its type, encoding, TTL
// sign and contents.
func oldEncodingState(t *testing.T, addr string) string {
	t.Helper()
	c, err := DialAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	keys, err := c.Do("KEYS", "*")
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := Parse(keys)
	var names []string
	for _, k := range v.Elems {
		names = append(names, string(k.Str))
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, k := range names {
		typ, _ := c.Do("TYPE", k)
		enc, _ := c.Do("OBJECT", "ENCODING", k)
		ttl, _ := c.Do("TTL", k)
		if !bytes.HasPrefix(ttl, []byte(":-")) {
			ttl = []byte("positive")
		}
		var body []byte
		switch strings.TrimSpace(string(typ)) {
		case "+hash":
			body, _ = c.Do("HGETALL", k)
			body = SortedReply(body)
		case "+set":
			body, _ = c.Do("SMEMBERS", k)
			body = SortedReply(body)
		case "+zset":
			body, _ = c.Do("ZRANGE", k, "0", "-1", "WITHSCORES")
		case "+list":
			body, _ = c.Do("LRANGE", k, "0", "-1")
		default:
			body, _ = c.Do("GET", k)
		}
		digest, _ := c.Do("DEBUG", "DIGEST-VALUE", k)
		fmt.Fprintf(&b, "%s %q %q ttl %q %q %.200q\n", k, typ, enc, ttl, digest, body)
		// the converted value's serialization, where it has one layout
		// (a hash table's order is each server's own)
		if e := string(enc); strings.Contains(e, "listpack") || strings.Contains(e, "intset") || strings.Contains(e, "quicklist") {
			dump, _ := c.Do("DUMP", k)
			fmt.Fprintf(&b, "  DUMP %x\n", dump)
		}
	}
	return b.String()
}
