package resp

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, must
// end with EOF, a protocol error or the buffer limit, and must not allocate
// memory for declared lengths whose bytes never arrive.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"PING\r\n",
		"SET \"a b\" 'c'\r\n",
		"*abc\r\n",
		"*1\r\n$-1\r\n",
		"*1\r\n+x\r\n",
		"*2147483647\r\n$536870912\r\nab",
		"*1\r\n$4\r\nPINGxx",
		"\"unbalanced\r\n",
		"*0\r\n*-1\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), Limits{MaxQueryBuf: 1 << 20})
		for i := 0; ; i++ {
			args, err := r.ReadCommand()
			if err != nil {
				var pe *ProtocolError
				if !errors.Is(err, io.EOF) && !errors.As(err, &pe) && !errors.Is(err, ErrBufferLimit) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			total := 0
			for _, a := range args {
				total += len(a)
			}
			if total > len(data) {
				t.Fatalf("arguments hold %d bytes from %d bytes of input", total, len(data))
			}
			if i > len(data)+1 {
				t.Fatalf("more commands than input bytes")
			}
		}
		if len(r.buf) > 4*len(data)+4<<20 {
			t.Fatalf("buffer of %d bytes for %d bytes of input", len(r.buf), len(data))
		}
	})
}

// FuzzReaderUnauthenticated runs the reader with the caps Redis puts on
// clients that have not authenticated and the smallest query buffer
// limit: protocol errors, never panics or large buffers.
func FuzzReaderUnauthenticated(f *testing.F) {
	for _, s := range []string{"*11\r\n", "*10\r\n$16385\r\n", "*1\r\n$16384\r\n", "AUTH pw\r\n",
		"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", "*1\r\n$2000000\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), Limits{MaxQueryBuf: 1 << 20})
		r.Unauthenticated = true
		for {
			// inline commands are not capped (Redis caps multibulk
			// headers only; inline lines stop at 64KB anyway)
			if _, err := r.ReadCommand(); err != nil {
				var pe *ProtocolError
				if !errors.Is(err, io.EOF) && !errors.As(err, &pe) && !errors.Is(err, ErrBufferLimit) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
		}
		if len(r.buf) > 4*len(data)+4<<20 {
			t.Fatalf("buffer of %d bytes for %d bytes of input", len(r.buf), len(data))
		}
	})
}

// headerSlow is the general header parse: readLine, then parseInt.
func headerSlow(b []byte, from int) (int64, int, bool) {
	line, next, ok := readLine(b, from)
	if !ok {
		return 0, 0, false
	}
	n, ok := parseInt(line[1:])
	return n, next, ok
}

// FuzzHeader checks that the header fast path only accepts what the
// general path parses the same way.
func FuzzHeader(f *testing.F) {
	for _, s := range []string{"*3\r\n", "$16\r\nx", "$0\r\n", "$01\r\n", "$-1\r\n", "$1\r", "$\r\n",
		"$999999999999999999\r\n", "$9999999999999999999\r\n", "$12\x00\r\n", "$1 \r\n", "$+1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || (b[0] != '$' && b[0] != '*') {
			b = append([]byte{'$'}, b...) // parse calls it on a type byte
		}
		n, next, ok := header(b, 0)
		if !ok {
			return
		}
		sn, snext, sok := headerSlow(b, 0)
		if !sok || sn != n || snext != next {
			t.Fatalf("%q: fast %d,%d; general %d,%d,%v", b, n, next, sn, snext, sok)
		}
	})
}

func TestHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int64
		next int
		ok   bool
	}{
		{"*3\r\n", 3, 4, true},
		{"$16\r\nkey", 16, 5, true},
		{"$123456789012345678\r\n", 123456789012345678, 21, true},
		{"$1234567890123456789\r\n", 0, 0, false}, // 19 digits: general path
		{"$0\r\n", 0, 0, false},                   // general path
		{"$01\r\n", 0, 0, false},
		{"$-1\r\n", 0, 0, false},
		{"$3\r", 0, 0, false}, // the byte after '\r' is missing
		{"$3", 0, 0, false},
		{"$", 0, 0, false},
		{"$3x\r\n", 0, 0, false},
		{"$3\x00\r\n", 0, 0, false},
	} {
		n, next, ok := header([]byte(tc.in), 0)
		if n != tc.n || next != tc.next || ok != tc.ok {
			t.Errorf("header(%q) = %d, %d, %v; want %d, %d, %v", tc.in, n, next, ok, tc.n, tc.next, tc.ok)
		}
	}
}
