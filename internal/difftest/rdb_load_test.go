package difftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRDBLoadEdges: the RDB files of Redis's RDB tests
// (tests/integration/rdb.tcl) make Crescent start, or refuse to start, as
// redis-server 7.0.15 does, with the same keys: no file, the file of an
// empty dataset, a good file with keys of every type and some already
// expired, and that file with a corrupt checksum, cut short, empty, or
// with garbage after its end.
func TestRDBLoadEdges(t *testing.T) {
	if RedisBinary() == "" {
		t.Skip("redis-server not found")
	}
	// the files, written by redis-server itself
	save := func(cmds ...[]string) []byte {
		dir := t.TempDir()
		addr, log, ok := startRedisDir(t, dir)
		if !ok {
			t.Fatalf("redis-server: %s", log)
		}
		c, err := DialAddr(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, cmd := range cmds {
			if _, err := c.Do(cmd...); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond) // the PX 1 key's time passes
		c.MustDo(t, "SAVE")
		b, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	empty := save()
	full := save([]string{"DEBUG", "SET-ACTIVE-EXPIRE", "0"},
		[]string{"SET", "s", "hello"}, []string{"SET", "n", "12345"}, []string{"RPUSH", "l", "a", "b", "1"},
		[]string{"SADD", "set", "x", "y"}, []string{"SADD", "iset", "1", "2"}, []string{"HSET", "h", "f", "v"},
		[]string{"ZADD", "z", "1.5", "m"}, []string{"XADD", "st", "1-1", "f", "v"},
		[]string{"SELECT", "5"}, []string{"SET", "db5", "v", "EX", "1000"},
		[]string{"SET", "gone", "v", "PX", "1"})
	badCRC := append(append([]byte(nil), full[:len(full)-8]...), "foobar00"...)
	cases := []struct {
		name string
		file []byte // nil: no dump.rdb
	}{
		{"no file", nil},
		{"empty dataset", empty},
		{"keys of every type", full},
		{"corrupt checksum", badCRC},
		{"cut short", full[:len(full)-20]},
		{"zero bytes", []byte{}},
		{"garbage after EOF", append(append([]byte(nil), full...), "garbage"...)},
		{"not an RDB", []byte("REDIX0009 not an rdb file")},
		{"future version", append([]byte("REDIS0099"), empty[9:]...)},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			var outcome, logs [2]string
			for i, start := range []func(*testing.T, string, ...string) (string, string, bool){startRedisDir, startCrescentDir} {
				dir := t.TempDir()
				if tc.file != nil {
					if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), tc.file, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				addr, log, ok := start(t, dir, "--appendonly", "no")
				if !ok {
					outcome[i], logs[i] = "refused to start", lastLines(log, 2)
					continue
				}
				outcome[i] = "started\n" + loadOutcome(t, addr)
			}
			if outcome[0] != outcome[1] {
				t.Errorf("redis: %s\n(%s)\ncrescent: %s\n(%s)", outcome[0], logs[0], outcome[1], logs[1])
			}
		})
	}
}
