package difftest

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestReadReplyAndParse(t *testing.T) {
	replies := []string{
		"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
		"*2\r\n$1\r\na\r\n:2\r\n", "%1\r\n+k\r\n*1\r\n_\r\n", "~2\r\n,1.5\r\n#t\r\n",
		"(123\r\n", "=7\r\ntxt:abc\r\n", ">2\r\n+a\r\n+b\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n",
		"$4\r\na\r\nb\r\n",
		"-" + strings.Repeat("e", 100000) + "\r\n", // longer than the reader's buffer
		"*1\r\n+" + strings.Repeat("s", 10000) + "\r\n",
	}
	var all []byte
	for _, r := range replies {
		all = append(all, r...)
	}
	rd := bufio.NewReader(bytes.NewReader(all))
	for _, want := range replies {
		got, err := ReadReply(rd)
		if err != nil || string(got) != want {
			t.Fatalf("ReadReply = %q, %v; want %q", got, err, want)
		}
		v, rest, err := Parse(got)
		if want[0] == '|' {
			continue // Parse sees the attribute alone
		}
		if err != nil || len(rest) != 0 || string(v.Raw) != want {
			t.Fatalf("Parse(%q) = %+v, rest %q, %v", want, v, rest, err)
		}
	}
}

func TestShapeAndSorted(t *testing.T) {
	tests := []struct{ a, b string }{
		{"*2\r\n$1\r\na\r\n:2\r\n", "*2\r\n$3\r\nxyz\r\n:5\r\n"},
		{"$-1\r\n", "$-1\r\n"},
		{"%1\r\n+k\r\n*1\r\n_\r\n", "%1\r\n+z\r\n*1\r\n_\r\n"},
	}
	for _, tt := range tests {
		if Shape([]byte(tt.a)) != Shape([]byte(tt.b)) {
			t.Errorf("Shape(%q) = %s != Shape(%q) = %s", tt.a, Shape([]byte(tt.a)), tt.b, Shape([]byte(tt.b)))
		}
	}
	if Shape([]byte("*1\r\n:1\r\n")) == Shape([]byte("*2\r\n:1\r\n:1\r\n")) {
		t.Error("shapes of different lengths are equal")
	}
	a := SortedReply([]byte("*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"))
	b := SortedReply([]byte("*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"))
	if !bytes.Equal(a, b) || string(a) != "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n" {
		t.Errorf("SortedReply: %q vs %q", a, b)
	}
	m1 := SortedReply([]byte("%2\r\n+b\r\n:2\r\n+a\r\n:1\r\n"))
	m2 := SortedReply([]byte("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"))
	if !bytes.Equal(m1, m2) {
		t.Errorf("SortedReply maps: %q vs %q", m1, m2)
	}
}
