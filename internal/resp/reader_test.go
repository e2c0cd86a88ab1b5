package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// readAll reads commands from in until an error, returning the commands
// (joined with spaces) and the final error.
func readAll(in string, lim Limits) ([]string, error) {
	r := NewReader(strings.NewReader(in), lim)
	var out []string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return out, err
		}
		if args == nil {
			continue
		}
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = string(a)
		}
		out = append(out, strings.Join(parts, " "))
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  string // protocol error text ("" means clean EOF)
	}{
		{"multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET k"}, ""},
		{"pipelined", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", []string{"PING", "ECHO "}, ""},
		{"binary arg", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", []string{"ECHO a\r\nb"}, ""},
		{"empty multibulk", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", []string{"PING"}, ""},
		{"inline", "PING\r\nECHO hello\n", []string{"PING", "ECHO hello"}, ""},
		{"inline quotes", "SET \"a b\" 'c d'\r\n", []string{"SET a b c d"}, ""},
		{"inline escapes", "ECHO \"\\x41\\n\"\r\n", []string{"ECHO A\n"}, ""},
		{"inline empty lines", "\r\n\n  \r\nPING\r\n", []string{"PING"}, ""},
		{"inline then multibulk", "PING\r\n*1\r\n$4\r\nPING\r\n", []string{"PING", "PING"}, ""},
		{"trailing bytes not CRLF", "*1\r\n$4\r\nPINGxx", []string{"PING"}, ""},
		{"bare LF in multibulk waits", "*1\n$4\nPING\n", nil, ""},
		{"invalid multibulk length", "*abc\r\n", nil, "invalid multibulk length"},
		{"multibulk leading zero", "*01\r\n$4\r\nPING\r\n", nil, "invalid multibulk length"},
		{"multibulk plus", "*+1\r\n", nil, "invalid multibulk length"},
		{"multibulk too large", "*2147483648\r\n", nil, "invalid multibulk length"},
		{"expected dollar", "*1\r\n+foo\r\n", nil, "expected '$', got '+'"},
		{"invalid bulk length", "*1\r\n$abc\r\n", nil, "invalid bulk length"},
		{"negative bulk length", "*1\r\n$-1\r\n", nil, "invalid bulk length"},
		{"bulk leading zero", "*1\r\n$04\r\nPING\r\n", nil, "invalid bulk length"},
		{"bulk over max", "*1\r\n$536870913\r\n", nil, "invalid bulk length"},
		{"unbalanced quotes", "SET \"a b\r\n", nil, "unbalanced quotes in request"},
		{"quote then char", "SET \"a\"b c\r\n", nil, "unbalanced quotes in request"},
		{"too big inline", strings.Repeat("x", 70000), nil, "too big inline request"},
		{"too big mbulk count", "*" + strings.Repeat("1", 70000), nil, "too big mbulk count string"},
		{"too big bulk count", "*1\r\n$" + strings.Repeat("1", 70000), nil, "too big bulk count string"},
		{"NUL in inline line waits", "ECHO a\x00b\r\nPING\r\n", nil, ""},
		{"NUL in header waits", "*1\x00\r\n$4\r\nPING\r\n", nil, ""},
		{"incomplete waits", "*2\r\n$3\r\nGET\r\n", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.in, Limits{})
			var pe *ProtocolError
			switch {
			case tt.err == "" && !errors.Is(err, io.EOF):
				t.Fatalf("err = %v, want EOF", err)
			case tt.err != "" && (!errors.As(err, &pe) || pe.Msg != tt.err):
				t.Fatalf("err = %v, want protocol error %q", err, tt.err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("commands = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProtocolErrorText(t *testing.T) {
	e := &ProtocolError{"invalid multibulk length"}
	if e.Error() != "Protocol error: invalid multibulk length" {
		t.Fatal(e.Error())
	}
}

// oneByte returns one byte per Read, to exercise partial reads.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:1]) }

func TestReaderByteAtATime(t *testing.T) {
	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*1\r\n$4\r\nPING\r\n"
	r := NewReader(oneByte{strings.NewReader(in)}, Limits{})
	var got []string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			break
		}
		got = append(got, string(bytes.Join(args, []byte(" "))))
	}
	want := "SET k hello|PING|PING"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestReaderLargeBulk(t *testing.T) {
	big := strings.Repeat("v", 3<<20)
	in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + itoa(len(big)) + "\r\n" + big + "\r\n"
	got, err := readAll(in, Limits{})
	if !errors.Is(err, io.EOF) || len(got) != 1 || len(got[0]) != len("SET k ")+len(big) {
		t.Fatalf("err %v, %d commands", err, len(got))
	}
}

func TestReaderBufferLimit(t *testing.T) {
	in := "*1\r\n$100000\r\n" + strings.Repeat("x", 100000) + "\r\n"
	_, err := readAll(in, Limits{MaxQueryBuf: 1000})
	if !errors.Is(err, ErrBufferLimit) {
		t.Fatalf("err = %v, want ErrBufferLimit", err)
	}
}

func TestReaderBulkLimit(t *testing.T) {
	_, err := readAll("*1\r\n$11\r\nhello world\r\n", Limits{MaxBulkLen: 10})
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Msg != "invalid bulk length" {
		t.Fatalf("err = %v", err)
	}
}

// A declared but unsent huge bulk must not make the reader allocate its size.
func TestReaderNoHugePrealloc(t *testing.T) {
	in := "*1\r\n$536870000\r\nabc"
	r := NewReader(strings.NewReader(in), Limits{})
	_, err := r.ReadCommand()
	if !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
	if len(r.buf) > 4<<20 {
		t.Fatalf("buffer grew to %d bytes for a bulk that never arrived", len(r.buf))
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"   ", nil, false},
		{"a b c", []string{"a", "b", "c"}, false},
		{"  a\t b \r\n", []string{"a", "b"}, false},
		{`"a b" c`, []string{"a b", "c"}, false},
		{`""`, []string{""}, false},
		{`'' x`, []string{"", "x"}, false},
		{`"a\nb\r\t\b\a\\\""`, []string{"a\nb\r\t\b\a\\\""}, false},
		{`"\x41\x6a"`, []string{"Aj"}, false},
		{`"\xZZ"`, []string{"xZZ"}, false},
		{`"\q"`, []string{"q"}, false},
		{`'a\'b'`, []string{"a'b"}, false},
		{`'a\nb'`, []string{`a\nb`}, false},
		{`a"b c"d`, nil, true},
		{`a"b c" d`, []string{"ab c", "d"}, false},
		{`"abc`, nil, true},
		{`'abc`, nil, true},
		{`"abc"x`, nil, true},
		{`'abc'x`, nil, true},
		{`"abc\`, nil, true},
		{"a\x00b c", []string{"a"}, false},
		{"\x00abc", nil, false},
		{"a\vb", []string{"a\vb"}, false},
		{"\va", []string{"a"}, false},
	}
	for _, tt := range tests {
		got, err := SplitArgs([]byte(tt.in), nil)
		if (err != nil) != tt.err {
			t.Errorf("SplitArgs(%q) err = %v, want err %v", tt.in, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		if strings.Join(gs, "\x00") != strings.Join(tt.want, "\x00") || len(gs) != len(tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.in, gs, tt.want)
		}
	}
}

func BenchmarkReaderMultibulk(b *testing.B) {
	cmd := []byte("*3\r\n$3\r\nSET\r\n$8\r\nkey:1234\r\n$16\r\nvalue-1234567890\r\n")
	in := bytes.Repeat(cmd, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(in), Limits{})
		for {
			if _, err := r.ReadCommand(); err != nil {
				break
			}
		}
	}
}

// TestUnauthenticatedCaps: before AUTH, multibulk counts above 10 and bulk
// lengths above 16384 are protocol errors, with Redis's texts.
func TestUnauthenticatedCaps(t *testing.T) {
	cases := []struct{ in, want string }{
		{"*11\r\n", "Protocol error: unauthenticated multibulk length"},
		{"*10\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"},
		{"*1\r\n$16384\r\n" + strings.Repeat("a", 16384) + "\r\n", ""},
	}
	for _, c := range cases {
		r := NewReader(strings.NewReader(c.in), Limits{})
		r.Unauthenticated = true
		_, err := r.ReadCommand()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%.20q: %q, want %q", c.in, got, c.want)
		}
		// AuthRequired false (the default user became nopass): no caps
		r = NewReader(strings.NewReader(c.in+strings.Repeat("$1\r\na\r\n", 11)), Limits{})
		r.Unauthenticated = true
		r.AuthRequired = func() bool { return false }
		if _, err := r.ReadCommand(); err != nil && strings.Contains(err.Error(), "unauthenticated") {
			t.Errorf("%.20q with AuthRequired false: %v", c.in, err)
		}
	}
}

// TestQueryBufferPerArgument: client-query-buffer-limit applies to the
// argument being read and what follows, not to the whole command.
func TestQueryBufferPerArgument(t *testing.T) {
	bulk := "$600000\r\n" + strings.Repeat("b", 600000) + "\r\n"
	r := NewReader(strings.NewReader("*3\r\n$4\r\nECHO\r\n"+bulk+bulk), Limits{MaxQueryBuf: 1 << 20})
	if args, err := r.ReadCommand(); err != nil || len(args) != 3 {
		t.Fatalf("two 600KB arguments under a 1MB limit: %d args, %v", len(args), err)
	}
	r = NewReader(strings.NewReader("*1\r\n$2000000\r\n"+strings.Repeat("c", 2000000)), Limits{MaxQueryBuf: 1 << 20})
	if _, err := r.ReadCommand(); err != ErrBufferLimit {
		t.Fatalf("2MB argument under a 1MB limit: %v", err)
	}
}

// chunks is a reader that returns one piece per Read, then EOF; before
// each read it calls seen with the reader's Room, for TestReaderBigArg.
type chunks struct {
	parts    []string
	r        *Reader
	rooms    []int
	partials [][2]int // Partial before each read while Room > 0
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	c.rooms = append(c.rooms, c.r.Room())
	if c.r.Room() > 0 {
		skip, argv := c.r.Partial()
		c.partials = append(c.partials, [2]int{skip, argv})
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if c.parts[0] == "" {
		c.parts = c.parts[1:]
	}
	return n, nil
}

// TestReaderBigArg checks what the reader tells of Redis's query buffer:
// an argument of BigArg bytes or more that comes in pieces is reported
// once by TakeBig, with the room still to come while it arrives (Room); a
// small one in pieces is not; Held is what the last read brought, with
// what was left unparsed before it (a partial command's start).
func TestReaderBigArg(t *testing.T) {
	big := strings.Repeat("v", 40000)
	setBig := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$40000\r\n" + big + "\r\n"
	hdr := len("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$40000\r\n")
	cases := []struct {
		name  string
		parts []string
		big   []int // TakeBig after each command
		rooms []int // Room before each read
		held  []int // Held after each command
		// Partial while waiting: the header and SET k before the data
		partials [][2]int
	}{
		{"big in pieces", []string{setBig[:hdr+100], setBig[hdr+100:], "*1\r\n$4\r\nPING\r\n"},
			[]int{40000, 0}, []int{0, 40002 - 100, 0}, []int{len(setBig), 14}, [][2]int{{hdr, 4}}},
		// the first read (16 kB) holds a PING and the start of the SET
		{"big after a pipelined command", []string{"*1\r\n$4\r\nPING\r\n" + setBig},
			[]int{0, 40000}, []int{0, hdr + 40002 - (16384 - 14)}, []int{16384, len(setBig)}, [][2]int{{hdr, 4}}},
		{"small in pieces", []string{"*2\r\n$4\r\nECHO\r\n$5\r\nhe", "llo\r\n"},
			[]int{0}, []int{0, 0}, []int{25}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &chunks{parts: tc.parts}
			r := NewReader(src, Limits{})
			src.r = r
			var bigs, held []int
			if skip, argv := r.Partial(); skip != 0 || argv != 0 {
				t.Errorf("Partial before any read: %d %d", skip, argv)
			}
			for {
				if _, err := r.ReadCommand(); err != nil {
					break
				}
				bigs = append(bigs, r.TakeBig())
				held = append(held, r.Held())
			}
			if !slicesEqual(bigs, tc.big) || !slicesEqual(src.rooms, tc.rooms) || !slicesEqual(held, tc.held) {
				t.Errorf("TakeBig %v Room %v Held %v, want %v %v %v", bigs, src.rooms, held, tc.big, tc.rooms, tc.held)
			}
			if fmt.Sprint(src.partials) != fmt.Sprint(tc.partials) {
				t.Errorf("Partial %v, want %v", src.partials, tc.partials)
			}
		})
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pieces returns at most n bytes per Read from r.
type pieces struct {
	r io.Reader
	n int
}

func (p pieces) Read(b []byte) (int, error) { return p.r.Read(b[:min(len(b), p.n)]) }

// TestQueryBufferAsRedis: client-query-buffer-limit applies as in Redis
// 7.0.15 (each case checked against it with the limit at its least, 1 MB,
// one command per connection): complete arguments do not count, whatever
// their total or how the reads cut them; an argument of more than the
// limit (with its CRLF) fails once more than the limit of it came; an
// endless inline line is a protocol error.
func TestQueryBufferAsRedis(t *testing.T) {
	const limit = 1 << 20
	cmd := func(n, k int) string {
		var b strings.Builder
		b.WriteString("*" + itoa(k+2) + "\r\n$5\r\nRPUSH\r\n$3\r\nlst\r\n")
		arg := "$" + itoa(n) + "\r\n" + strings.Repeat("x", n) + "\r\n"
		for i := 0; i < k; i++ {
			b.WriteString(arg)
		}
		return b.String()
	}
	cases := []struct {
		in   string
		want string // "" for the command, else the error
	}{
		{cmd(800000, 4), ""},
		{cmd(1000, 5000), ""},
		{cmd(40000, 100), ""},
		{cmd(1048000, 2), ""},
		{cmd(limit-2, 1), ""},
		{cmd(limit-1, 1), ErrBufferLimit.Error()},
		{cmd(2*limit, 1), ErrBufferLimit.Error()},
		// no more than the limit of a longer argument came: Redis waits
		{cmd(2*limit, 1)[:len(cmd(0, 0))+len("$2097152\r\n")+limit], io.EOF.Error()},
		{cmd(2*limit, 1)[:len(cmd(0, 0))+len("$2097152\r\n")+limit+1], ErrBufferLimit.Error()},
		{"SET k " + strings.Repeat("x", 2*limit), "Protocol error: too big inline request"},
		{strings.Repeat("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n"+strings.Repeat("v", 1000)+"\r\n", 3000), ""},
	}
	for i, c := range cases {
		for _, piece := range []int{len(c.in), 7000, 100000} {
			r := NewReader(pieces{strings.NewReader(c.in), piece}, Limits{MaxQueryBuf: limit})
			var err error
			for err == nil {
				_, err = r.ReadCommand()
			}
			got := err.Error()
			if c.want == "" && err == io.EOF {
				got = ""
			}
			if got != c.want {
				t.Errorf("case %d (%d bytes), reads of %d: %v, want %q", i, len(c.in), piece, err, c.want)
			}
		}
	}
}
