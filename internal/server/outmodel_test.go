package server

import (
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
)

// TestRedisOutput checks the model of Redis's output buffer against
// figures redis-server 7.0.15 showed (CLIENT LIST of a client that does
// not read) and the rules they follow.
func TestRedisOutput(t *testing.T) {
	// GET of a 6,000,000-byte value: "$6000000\r\n", the body, CRLF
	six := int64(6000012)
	sixMarks := []resp.Mark{{Off: 10, Len: 6000000}}
	tests := []struct {
		name       string
		n, written int64
		marks      []resp.Mark
		want       outFigures
	}{
		{"nothing", 0, 0, nil, outFigures{}},
		{"all written", 5000, 5000, nil, outFigures{}},
		{"within the reply buffer", 5000, 100, nil, outFigures{obl: 5000}},
		{"one block", 16385, 0, nil, outFigures{16384, 1, 20504}},
		{"reply buffer written", 16385, 16384, nil, outFigures{0, 1, 20504}},
		// LRANGE of 40,001 100-byte elements (4,400,133 bytes): small
		// chunks, 20,464-byte blocks, freed as written
		{"lrange, none written", 4400133, 0, nil, outFigures{16384, 215, 215 * 20504}},
		{"lrange, 2.8 MB written", 4400133, 2800000, nil, outFigures{0, 79, 79 * 20504}},
		{"lrange, last block", 4400133, 4400000, nil, outFigures{0, 1, 20504}},
		// one block of 6 MiB for the body's rest, whole until its end
		{"6 MB, none written", six, 0, sixMarks, outFigures{16384, 1, 6291480}},
		{"6 MB, 2 MB written", six, 2000000, sixMarks, outFigures{0, 1, 6291480}},
		{"6 MB, one byte left", six, six - 1, sixMarks, outFigures{0, 1, 6291480}},
		// a 400 kB body after 20 kB of small replies: the tail block's
		// room first, then a block for the rest (jemalloc's 393,216
		// class for 383,152 + 16 bytes)
		{"large chunk after small ones", 20000 + 400000, 0, []resp.Mark{{Off: 20000, Len: 400000}},
			outFigures{16384, 2, 20504 + 393200 + 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redisOutput(tt.n, tt.written, tt.marks); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestJemallocSize(t *testing.T) {
	for _, tt := range []struct{ n, want int64 }{
		{16400, 20480}, {20480, 20480}, {20481, 24576}, {32769, 40960},
		{5983642, 6291456}, {375552, 393216},
	} {
		if got := jemallocSize(tt.n); got != tt.want {
			t.Errorf("jemallocSize(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
