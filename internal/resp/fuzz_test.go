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
