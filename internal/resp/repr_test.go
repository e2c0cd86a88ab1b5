package resp

import "testing"

func TestAppendRepr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain text", `"plain text"`},
		{"a\"b\\\n\r\t\a\b\x01\xff z", `"a\"b\\\n\r\t\a\b\x01\xff z"`},
		{"\x00\x1f\x7f~", `"\x00\x1f\x7f~"`},
	} {
		if got := string(AppendRepr([]byte("x"), []byte(tc.in))); got != "x"+tc.want {
			t.Errorf("AppendRepr(%q) = %s, want x%s", tc.in, got, tc.want)
		}
	}
}
