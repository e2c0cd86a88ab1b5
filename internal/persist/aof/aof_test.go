package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestManifestRoundTrip(t *testing.T) {
	// as Redis 7.0 writes it
	in := "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n"
	m, err := ParseManifest([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Base.Name != "appendonly.aof.2.base.rdb" || len(m.History) != 1 || len(m.Incrs) != 2 || m.LastIncrSeq() != 4 {
		t.Fatalf("parsed %+v", m)
	}
	if string(m.Bytes()) != in {
		t.Fatalf("formatted %q", m.Bytes())
	}
	bad := []string{
		"file a seq 1 type b\nfile b seq 2 type b\n", // two bases
		"file a seq 2 type i\nfile b seq 1 type i\n", // non-monotonic
		"file a seq 1 type x\n",                      // unknown type
		"file ../etc/passwd seq 1 type i\n",          // path
		"file a seq\n",                               // odd fields
	}
	for _, b := range bad {
		if _, err := ParseManifest([]byte(b)); err == nil {
			t.Errorf("accepted %q", b)
		}
	}
}

func TestReader(t *testing.T) {
	rec := string(AppendCommand(nil, [][]byte{[]byte("SET"), []byte("k"), []byte("v\r\n")})) // binary-safe
	cases := []struct {
		name    string
		in      string
		n       int
		wantErr error
		off     int64
	}{
		{"clean", rec + rec, 2, nil, int64(2 * len(rec))},
		{"annotation", "#TS:1700000000\r\n" + rec, 1, nil, int64(len(rec) + 16)},
		{"truncated-bulk", rec + rec[:len(rec)-3], 1, ErrTruncated, int64(len(rec))},
		{"truncated-header", rec + "*3\r", 1, ErrTruncated, int64(len(rec))},
		{"garbage", rec + "garbage", 1, ErrFormat, int64(len(rec))},
		{"bad-length", "*x\r\n", 0, ErrFormat, 0},
	}
	for _, c := range cases {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/shared:%v", c.name, shared), func(t *testing.T) {
				r := NewReader(bufio.NewReader(strings.NewReader(c.in)), 0)
				n := 0
				var err error
				for {
					var args [][]byte
					if shared {
						args, err = r.NextShared()
					} else {
						args, err = r.Next()
					}
					if err != nil {
						break
					}
					if string(args[2]) != "v\r\n" {
						t.Fatalf("args %q", args)
					}
					n++
				}
				if c.wantErr == nil && err != io.EOF || c.wantErr != nil && !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
				if n != c.n || r.Offset() != c.off {
					t.Fatalf("read %d records, offset %d; want %d, %d", n, r.Offset(), c.n, c.off)
				}
			})
		}
	}
}

// FuzzReaderShared: NextShared reads what Next reads (arguments, errors,
// offsets), its arguments intact until the next call although they share
// one buffer (an argument's append must not reach the next one).
func FuzzReaderShared(f *testing.F) {
	f.Add(string(AppendCommand(nil, [][]byte{[]byte("SET"), []byte("k"), []byte("v")})) + "*1\r\n$4\r\nPING\r\n")
	f.Add("#TS:1\r\n*2\r\n$0\r\n\r\n$3\r\na\r\n\r\n*1\r\n$-1\r\n")
	f.Add(string(AppendCommand(nil, [][]byte{[]byte("RPUSH"), []byte("l"), bytes.Repeat([]byte("x"), 5000), []byte("y")})))
	f.Fuzz(func(t *testing.T, in string) {
		a := NewReader(bufio.NewReaderSize(strings.NewReader(in), 16), 7)
		b := NewReader(bufio.NewReaderSize(strings.NewReader(in), 16), 7)
		for {
			x, errX := a.Next()
			y, errY := b.NextShared()
			if (errX == nil) != (errY == nil) || errX != nil && errX.Error() != errY.Error() {
				t.Fatalf("errors %v / %v", errX, errY)
			}
			if a.Offset() != b.Offset() {
				t.Fatalf("offsets %d / %d", a.Offset(), b.Offset())
			}
			if errX != nil {
				return
			}
			if len(x) != len(y) {
				t.Fatalf("args %q / %q", x, y)
			}
			for i := range x {
				if !bytes.Equal(x[i], y[i]) || cap(y[i]) != len(y[i]) {
					t.Fatalf("arg %d: %q / %q (cap %d)", i, x[i], y[i], cap(y[i]))
				}
			}
		}
	})
}

// BenchmarkReaderNext reads a replica's stream of SETs, each argument
// allocated (Next) or in the reader's buffers (NextShared).
func BenchmarkReaderNext(b *testing.B) {
	var stream []byte
	for i := 0; i < 1000; i++ {
		stream = AppendCommand(stream, [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(100000+i)), []byte("xxx")})
	}
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			b.ReportAllocs()
			rd := bytes.NewReader(stream)
			br := bufio.NewReaderSize(rd, 64<<10)
			r := NewReader(br, 0)
			for i := 0; i < b.N; i++ {
				var err error
				if shared {
					_, err = r.NextShared()
				} else {
					_, err = r.Next()
				}
				if err == io.EOF {
					rd.Reset(stream)
					br.Reset(rd)
					i--
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWriterGroupCommit(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "x.aof"))
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, 0, FsyncAlways, 0, Hooks{})
	end1 := w.Append(0, [][][]byte{{[]byte("SET"), []byte("a"), []byte("1")}})
	end2 := w.Append(1, [][][]byte{{[]byte("SET"), []byte("b"), []byte("2")}, {[]byte("DEL"), []byte("a")}})
	if err := w.WaitDurable(end2); err != nil {
		t.Fatal(err)
	}
	if end1 >= end2 {
		t.Fatal("offsets not increasing")
	}
	// switching files keeps offsets going and restarts with SELECT
	g, _ := os.Create(filepath.Join(dir, "y.aof"))
	old, err := w.Switch(g)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	end3 := w.Append(1, [][][]byte{{[]byte("SET"), []byte("c"), []byte("3")}})
	if err := w.WaitDurable(end3); err != nil || end3 <= end2 {
		t.Fatalf("after switch: %v %d", err, end3)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(dir, "x.aof"))
	y, _ := os.ReadFile(filepath.Join(dir, "y.aof"))
	wantX := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n" +
		"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n"
	if string(x) != wantX {
		t.Fatalf("first file %q", x)
	}
	if !strings.HasPrefix(string(y), "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n") {
		t.Fatalf("second file %q", y)
	}
}

func BenchmarkAppend(b *testing.B) {
	f, _ := os.Create(filepath.Join(b.TempDir(), "x.aof"))
	w := NewWriter(f, 0, FsyncNo, 0, Hooks{})
	defer w.Close()
	cmd := [][][]byte{{[]byte("SET"), []byte("key:000123"), []byte("value")}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Append(0, cmd)
	}
}

// TestAppendUnitWrapsOnce: a unit handed over already wrapped in
// MULTI/EXEC (Executor.PropagateUnit) is not wrapped again; one of several
// commands that is not is wrapped; SELECT comes only when the db changes.
func TestAppendUnitWrapsOnce(t *testing.T) {
	cmd := func(a ...string) [][]byte {
		out := make([][]byte, len(a))
		for i, s := range a {
			out[i] = []byte(s)
		}
		return out
	}
	enc := func(cmds ...[][]byte) string {
		var b []byte
		for _, c := range cmds {
			b = AppendCommand(b, c)
		}
		return string(b)
	}
	last := -1
	got := string(AppendUnit(nil, &last, 0, [][][]byte{cmd("MULTI"), cmd("SET", "a", "1"), cmd("DEL", "b"), cmd("EXEC")}))
	want := enc(cmd("SELECT", "0"), cmd("MULTI"), cmd("SET", "a", "1"), cmd("DEL", "b"), cmd("EXEC"))
	if got != want {
		t.Fatalf("wrapped unit:\n got %q\nwant %q", got, want)
	}
	got = string(AppendUnit(nil, &last, 0, [][][]byte{cmd("SET", "a", "1"), cmd("DEL", "b")}))
	want = enc(cmd("MULTI"), cmd("SET", "a", "1"), cmd("DEL", "b"), cmd("EXEC"))
	if got != want {
		t.Fatalf("unwrapped unit:\n got %q\nwant %q", got, want)
	}
	got = string(AppendUnit(nil, &last, 2, [][][]byte{cmd("SET", "a", "1")}))
	if want = enc(cmd("SELECT", "2"), cmd("SET", "a", "1")); got != want {
		t.Fatalf("db change:\n got %q\nwant %q", got, want)
	}
	// a unit that selects another database inside stays there, as
	// Redis's stream: the next unit of database 2 selects it again
	got = string(AppendUnit(nil, &last, 2, [][][]byte{cmd("MULTI"), cmd("SET", "a", "1"), cmd("SELECT", "3"), cmd("SET", "b", "1"), cmd("EXEC")}))
	if want = enc(cmd("MULTI"), cmd("SET", "a", "1"), cmd("SELECT", "3"), cmd("SET", "b", "1"), cmd("EXEC")); got != want || last != 3 {
		t.Fatalf("select inside:\n got %q (last %d)\nwant %q", got, last, want)
	}
	got = string(AppendUnit(nil, &last, 2, [][][]byte{cmd("SET", "c", "1")}))
	if want = enc(cmd("SELECT", "2"), cmd("SET", "c", "1")); got != want {
		t.Fatalf("after select inside:\n got %q\nwant %q", got, want)
	}
}

// TestReaderHugeLength reads records whose argument claims up to 4 GB on
// a stream of a few bytes: the reader must find them truncated without
// allocating what they claim (FuzzReaderShared's worker ran out of memory
// on "$3999999991").
func TestReaderHugeLength(t *testing.T) {
	for _, in := range []string{
		"*1\r\n$4294967296\r\nabc",
		"*3\r\n$3999999991\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nPING\r\n",
		"*2\r\n$1\r\nk\r\n$2000000\r\n" + strings.Repeat("x", 3000),
	} {
		for _, shared := range []bool{false, true} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rd := NewReader(bufio.NewReader(strings.NewReader(in)), 0)
			_, err := rd.next(shared)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%.30q shared %v: %v, want truncated", in, shared, err)
			}
			if a := after.TotalAlloc - before.TotalAlloc; a > 8<<20 {
				t.Errorf("%.30q shared %v: %d bytes allocated", in, shared, a)
			}
		}
	}
}

// TestWriterFlushSleep: with FlushSleep (DEBUG AOF-FLUSH-SLEEP) a write
// made durable under appendfsync always waits at least that long, and
// still reaches the file.
func TestWriterFlushSleep(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x.aof"))
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f, 0, FsyncAlways, 0, Hooks{})
	defer w.Close()
	FlushSleep.Store(100_000)
	defer FlushSleep.Store(0)
	start := time.Now()
	if err := w.WaitDurable(w.Append(0, [][][]byte{{[]byte("SET"), []byte("a"), []byte("1")}})); err != nil {
		t.Fatal(err)
	}
	// a lower bound only: a slow machine makes it longer, never shorter
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("durable after %v, before the 100 ms flush sleep", d)
	}
}
