package resp

import (
	"reflect"
	"strings"
	"testing"
)

// TestVerbatimEnd: a body appended in place, then VerbatimEnd, gives the
// bytes and marks Verbatim gives for the same string, in RESP2 and RESP3,
// for an empty, a small and a marked (big) body after an earlier reply.
func TestVerbatimEnd(t *testing.T) {
	for _, proto := range []int{2, 3} {
		for _, n := range []int{0, 10, BigChunk + 1, 300000} {
			body := strings.Repeat("l", n)
			want := &Writer{Proto: proto}
			want.BulkString(strings.Repeat("e", BigChunk+5)) // an earlier, marked reply
			want.Verbatim("txt", body)
			got := &Writer{Proto: proto}
			got.BulkString(strings.Repeat("e", BigChunk+5))
			start := got.Len()
			got.Buf = append(got.Buf, body...)
			got.VerbatimEnd(start, "txt")
			if string(got.Buf) != string(want.Buf) {
				t.Errorf("RESP%d, %d bytes: %.80q, want %.80q", proto, n, got.Buf, want.Buf)
			}
			if !reflect.DeepEqual(got.Marks, want.Marks) {
				t.Errorf("RESP%d, %d bytes: marks %v, want %v", proto, n, got.Marks, want.Marks)
			}
		}
	}
}
