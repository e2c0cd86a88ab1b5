package resp

import (
	"strings"
	"testing"
)

// pieceReader returns its chunks one per Read (at most), then errEOF.
type pieceReader struct{ chunks []string }

func (c *pieceReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, errEOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

var errEOF = &ProtocolError{"eof"}

func cmd(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// TestReaderRelease: the buffer comes with the first read; Release drops
// it only when nothing is buffered or half parsed; the reader works on
// after a release; a buffer grown for a big argument is dropped once the
// argument was consumed.
func TestReaderRelease(t *testing.T) {
	big := strings.Repeat("v", 200000)
	tests := []struct {
		name   string
		chunks []string
		reads  int  // commands to read before Release
		want   bool // Release's answer
		cap    int  // Cap after Release
		rest   []string
	}{
		{"fresh reader", nil, 0, false, 0, nil},
		{"all consumed", []string{cmd("SET", "k", "v"), cmd("GET", "k")}, 1, true, 0, []string{"GET k"}},
		{"pipelined rest buffered", []string{cmd("SET", "k", "v") + cmd("GET", "k")}, 1, false, initialBuffer, []string{"GET k"}},
		{"half a command", []string{cmd("SET", "k", "v") + "*2\r\n$3\r\nGET", "\r\n$1\r\nk\r\n"}, 1, false, initialBuffer, []string{"GET k"}},
		{"big argument consumed", []string{cmd("SET", "k", big), cmd("GET", "k")}, 1, true, 0, []string{"GET k"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := &pieceReader{chunks: append([]string(nil), tc.chunks...)}
			// only the first chunk is readable before the Release
			later := []string(nil)
			if len(cr.chunks) > 1 {
				later, cr.chunks = cr.chunks[1:], cr.chunks[:1]
			}
			r := NewReader(cr, Limits{})
			if r.Cap() != 0 {
				t.Fatalf("new reader holds %d bytes", r.Cap())
			}
			for i := 0; i < tc.reads; i++ {
				if _, err := r.ReadCommand(); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.Release(); got != tc.want {
				t.Fatalf("Release() = %v, want %v", got, tc.want)
			}
			if r.Cap() != tc.cap {
				t.Fatalf("Cap() = %d after Release, want %d", r.Cap(), tc.cap)
			}
			cr.chunks = append(cr.chunks, later...)
			for _, w := range tc.rest {
				args, err := r.ReadCommand()
				if err != nil {
					t.Fatal(err)
				}
				if got := string(join(args)); got != w {
					t.Fatalf("after Release: %q, want %q", got, w)
				}
			}
			if r.Cap() > initialBuffer {
				t.Fatalf("Cap() = %d at the end, want at most %d", r.Cap(), initialBuffer)
			}
		})
	}
}

func join(args [][]byte) []byte {
	var out []byte
	for i, a := range args {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, a...)
	}
	return out
}

// TestReaderShrinksAfterBigArgument: a buffer grown past shrinkAbove for
// one big argument is dropped at the next read once everything in it was
// consumed, without Release.
func TestReaderShrinksAfterBigArgument(t *testing.T) {
	big := strings.Repeat("v", 1<<20)
	cr := &pieceReader{chunks: []string{cmd("SET", "k", big)}}
	r := NewReader(cr, Limits{})
	args, err := r.ReadCommand()
	if err != nil || len(args) != 3 || len(args[2]) != len(big) {
		t.Fatalf("big SET: %d args, err %v", len(args), err)
	}
	if r.Cap() < len(big) {
		t.Fatalf("Cap() = %d holding a 1 MB argument", r.Cap())
	}
	cr.chunks = []string{cmd("GET", "k")}
	if args, err = r.ReadCommand(); err != nil || string(join(args)) != "GET k" {
		t.Fatalf("GET after the big SET: %q, %v", join(args), err)
	}
	if r.Cap() != initialBuffer {
		t.Fatalf("Cap() = %d after the big argument was consumed, want %d", r.Cap(), initialBuffer)
	}
}

// TestWriterLazy: a new writer holds no buffer; Release drops an empty one
// only.
func TestWriterLazy(t *testing.T) {
	w := NewWriter()
	if w.Buf != nil {
		t.Fatalf("new writer holds %d bytes", cap(w.Buf))
	}
	if w.Release() {
		t.Fatal("Release of a writer without a buffer reported true")
	}
	w.OK()
	if w.Release() {
		t.Fatal("Release dropped unwritten replies")
	}
	if string(w.Buf) != "+OK\r\n" {
		t.Fatalf("Buf = %q", w.Buf)
	}
	w.Reset()
	if !w.Release() || w.Buf != nil {
		t.Fatal("Release of an empty buffer did not drop it")
	}
	w.Int(7)
	if string(w.Buf) != ":7\r\n" {
		t.Fatalf("after Release: %q", w.Buf)
	}
}
