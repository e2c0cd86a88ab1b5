package lua

import (
	"testing"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
)

// BenchmarkTableOps measures the C-layout tables of the fork: string-key
// inserts, pairs, array growth and the length operator.
func BenchmarkTableOps(b *testing.B) {
	e := New(Options{})
	code := "local t = {} for i = 1, 200 do t['k' .. i] = i end local s = 0 for k, v in pairs(t) do s = s + v end for i = 1, 200 do t[i] = i end return s + #t"
	fn, err := e.Compile("user_script", []byte(code))
	if err != nil {
		b.Fatal(err)
	}
	w := resp.NewWriter()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Buf = w.Buf[:0]
		e.Call(&script.Run{W: w, Host: &fakeHost{}, Name: "x", Resp: 2}, fn, nil, nil)
	}
}
