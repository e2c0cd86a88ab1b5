package resp

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// chunkReader returns its data at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	m := min(len(p), c.n, len(c.data))
	copy(p, c.data[:m])
	c.data = c.data[m:]
	return m, nil
}

type readResult struct {
	args [][]byte
	err  string
}

// readChunked reads every command of data in chunks of n bytes; with ahead,
// it calls Ahead after each command and checks that what Ahead saw is
// what the following ReadCommands return.
func readChunked(t *testing.T, data []byte, n int, ahead bool) []readResult {
	return readChunkedMax(t, data, n, ahead, 8)
}

func readChunkedMax(t *testing.T, data []byte, n int, ahead bool, maxArgs int) []readResult {
	r := NewReader(&chunkReader{data: data, n: n}, Limits{MaxQueryBuf: 1 << 20})
	var out []readResult
	var pending [][][]byte // commands Ahead reported, not yet read
	for {
		args, err := r.ReadCommand()
		if err != nil {
			out = append(out, readResult{err: err.Error()})
			if len(pending) > 0 {
				t.Fatalf("Ahead reported %q, then ReadCommand failed: %v", pending[0], err)
			}
			return out
		}
		out = append(out, readResult{args: copyArgs(args)})
		if len(args) > 0 && len(pending) > 0 {
			if !equalArgs(pending[0], args) {
				t.Fatalf("Ahead reported %q, ReadCommand returned %q", pending[0], args)
			}
			pending = pending[1:]
		}
		if ahead {
			seen := 0
			r.Ahead(maxArgs, func(a [][]byte) bool {
				if len(a) > maxArgs {
					t.Fatalf("Ahead reported %d arguments, more than %d", len(a), maxArgs)
				}
				if seen < len(pending) {
					if !equalArgs(pending[seen], a) {
						t.Fatalf("Ahead reported %q, then %q", pending[seen], a)
					}
				} else {
					pending = append(pending, copyArgs(a))
				}
				seen++
				return seen < 3 || len(a)%2 == 0 // stop early sometimes
			})
		}
	}
}

func copyArgs(args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = bytes.Clone(a)
	}
	return out
}

func equalArgs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// checkAhead checks that Ahead changes nothing ReadCommand returns, for
// several read sizes.
func checkAhead(t *testing.T, data []byte) {
	for _, n := range []int{1, 3, 7, 64, 1 << 20} {
		want := readChunked(t, data, n, false)
		got := readChunked(t, data, n, true)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("chunks of %d: with Ahead %q, without %q", n, got, want)
		}
	}
}

func TestAhead(t *testing.T) {
	for _, data := range []string{
		"",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*0\r\n*1\r\n$4\r\nPING\r\n\r\nPING x\r\n*1\r\n$4\r\nPING\r\n",
		"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI",                        // incomplete last command
		"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*x\r\n",            // protocol error after two
		"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$10\r\nabc",         // pending bulk
		"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:5\r\n*1\r\n+x\r\n", // expected '$'
	} {
		checkAhead(t, []byte(data))
	}
	var batch []byte
	for i := 0; i < 16; i++ {
		batch = fmt.Appendf(batch, "*2\r\n$3\r\nGET\r\n$16\r\nkey:%012d\r\n", i)
	}
	checkAhead(t, batch)
	// a command past maxArgs stops Ahead before it: the commands after it
	// are not reported
	big := "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n"
	checkAhead(t, []byte(big))
	r := NewReader(&chunkReader{data: []byte(big), n: len(big)}, Limits{})
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ maxArgs, want int }{{4, 0}, {5, 2}} {
		seen := 0
		r.Ahead(tc.maxArgs, func([][]byte) bool { seen++; return true })
		if seen != tc.want {
			t.Fatalf("maxArgs %d: Ahead reported %d commands, want %d", tc.maxArgs, seen, tc.want)
		}
	}
}

// FuzzAhead checks that calling Ahead after every command changes nothing
// that ReadCommand returns, and that Ahead reports exactly the commands
// ReadCommand returns next.
func FuzzAhead(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
		"*0\r\n*-1\r\n*1\r\n$-1\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*abc\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAhead(t, data)
	})
}

// TestAheadParsedOnce: the multibulk commands Ahead parsed are returned by
// ReadCommand from what Ahead kept (not parsed again), equal to a fresh
// parse; a change of the limits or of
// Unauthenticated in between makes ReadCommand parse again under the new
// ones, as a new read does.
func TestAheadParsedOnce(t *testing.T) {
	var batch []byte
	for i := 0; i < 5; i++ {
		batch = fmt.Appendf(batch, "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i)
	}
	batch = append(batch, "PING inline\r\n*1\r\n$4\r\nPING\r\n"...)
	want := readChunked(t, batch, len(batch), false)

	r := NewReader(&chunkReader{data: batch, n: len(batch)}, Limits{})
	var got []readResult
	first, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, readResult{args: copyArgs(first)})
	seen := 0
	r.Ahead(8, func(a [][]byte) bool {
		seen++
		return true
	})
	if seen != 6 || len(r.parsed.cmds) != 5 {
		t.Fatalf("Ahead saw %d commands, kept %d; want 6, 5 (not the inline one)", seen, len(r.parsed.cmds))
	}
	for i := 1; i < len(want); i++ {
		before := r.parsed.next
		args, err := r.ReadCommand()
		if err != nil {
			got = append(got, readResult{err: err.Error()})
			break
		}
		fromAhead := r.parsed.next > before && r.parsed.cmds[r.parsed.next-1].pos+r.parsed.cmds[r.parsed.next-1].n == len(batch)-r.Buffered()
		kept := copyArgs(args)
		// Aheads between two ReadCommands leave the last one's arguments
		r.Ahead(8, func([][]byte) bool { return true })
		r.Ahead(8, func([][]byte) bool { return true })
		if !equalArgs(args, kept) {
			t.Fatalf("command %d: arguments changed by Ahead: %q, were %q", i, args, kept)
		}
		got = append(got, readResult{args: kept})
		if isInline := i == 5; fromAhead == isInline {
			t.Fatalf("command %d %q: from Ahead %v", i, args, fromAhead)
		}
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("got %q, want %q", got, want)
	}

	// limits tightened after Ahead: the same errors as without Ahead
	long := "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$20\r\nkey:0000000000000001\r\n"
	many := "*1\r\n$4\r\nPING\r\n*11\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"
	for _, tc := range []struct {
		data string
		set  func(r *Reader)
		err  string
	}{
		{long, func(r *Reader) { r.Limits.MaxBulkLen = 10 }, "invalid bulk length"},
		{many, func(r *Reader) { r.Unauthenticated = true }, "unauthenticated multibulk length"},
	} {
		r := NewReader(&chunkReader{data: []byte(tc.data), n: len(tc.data)}, Limits{})
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
		seen := 0
		r.Ahead(16, func([][]byte) bool { seen++; return true })
		if seen != 1 {
			t.Fatalf("Ahead saw %d commands", seen)
		}
		tc.set(r)
		if _, err := r.ReadCommand(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Fatalf("after the limit changed: %v, want %q", err, tc.err)
		}
	}
}

// BenchmarkReadAhead reads a batch of 16 pipelined SETs as a loop
// connection does when it prefetches: the first command, Ahead over the
// other 15, then their ReadCommands (served from what Ahead parsed).
func BenchmarkReadAhead(b *testing.B) {
	var batch []byte
	for i := 0; i < 16; i++ {
		batch = fmt.Appendf(batch, "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$3\r\nxxx\r\n", i*7919)
	}
	src := &chunkReader{}
	r := NewReader(src, Limits{})
	keys := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for i := 0; i < b.N; i++ {
		src.data, src.n = batch, len(batch)
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
		r.Ahead(8, func(a [][]byte) bool { keys += len(a[1]); return true })
		for j := 1; j < 16; j++ {
			if _, err := r.ReadCommand(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if keys == 0 {
		b.Fatal("Ahead saw nothing")
	}
}
