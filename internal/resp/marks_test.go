package resp

import (
	"strings"
	"testing"
)

// TestWriterMarks: only chunks past BigChunk are marked, at their offset
// in Buf; Truncate drops the marks past the cut and Reset all of them.
func TestWriterMarks(t *testing.T) {
	w := NewWriter()
	w.Bulk([]byte(strings.Repeat("a", BigChunk))) // not past it
	w.BulkString(strings.Repeat("b", BigChunk+1))
	w.Raw([]byte(strings.Repeat("c", 20000)))
	want := []Mark{{Off: 16384 + 9 + 9, Len: BigChunk + 1}, {Off: 16384 + 9 + 9 + BigChunk + 1 + 2, Len: 20000}}
	if len(w.Marks) != 2 || w.Marks[0] != want[0] || w.Marks[1] != want[1] {
		t.Fatalf("marks %+v, want %+v", w.Marks, want)
	}
	w.Truncate(want[1].Off)
	if len(w.Marks) != 1 || len(w.Buf) != want[1].Off {
		t.Fatalf("after Truncate: %d bytes, marks %+v", len(w.Buf), w.Marks)
	}
	w.Reset()
	if len(w.Marks) != 0 || len(w.Buf) != 0 {
		t.Fatalf("after Reset: %d bytes, marks %+v", len(w.Buf), w.Marks)
	}
}
