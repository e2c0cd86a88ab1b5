package listpack

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestEncodings(t *testing.T) {
	cases := []struct {
		in   string
		want string // element bytes, backlen included
	}{
		{"0", "\x00\x01"},
		{"127", "\x7f\x01"},
		{"128", "\xc0\x80\x02"},
		{"-1", "\xdf\xff\x02"},
		{"-4096", "\xd0\x00\x02"},
		{"4095", "\xcf\xff\x02"},
		{"4096", "\xf1\x00\x10\x03"},
		{"-32768", "\xf1\x00\x80\x03"},
		{"32768", "\xf2\x00\x80\x00\x04"},
		{"-8388608", "\xf2\x00\x00\x80\x04"},
		{"8388608", "\xf3\x00\x00\x80\x00\x05"},
		{"2147483648", "\xf4\x00\x00\x00\x80\x00\x00\x00\x00\x09"},
		{"", "\x80\x01"},
		{"-0", "\x82-0\x03"},
		{"01", "\x8201\x03"},
		{"abc", "\x83abc\x04"},
		{strings.Repeat("a", 64), "\xe0\x40" + strings.Repeat("a", 64) + "\x42"},
		{strings.Repeat("a", 126), "\xe0\x7e" + strings.Repeat("a", 126) + "\x01\x80"},
		{strings.Repeat("a", 4096), "\xf0\x00\x10\x00\x00" + strings.Repeat("a", 4096) + "\x20\x85"},
		// an entry of 16383 bytes takes a 3-byte backlen, as Redis writes
		{strings.Repeat("a", 16378), "\xf0\xfa\x3f\x00\x00" + strings.Repeat("a", 16378) + "\x00\xff\xff"},
	}
	for _, c := range cases {
		got := AppendString(nil, []byte(c.in))
		if string(got) != c.want {
			t.Errorf("%.20q: got %.40q, want %.40q", c.in, tail(got), tail([]byte(c.want)))
		}
		if StringSize([]byte(c.in)) != len(got) {
			t.Errorf("%.20q: StringSize %d, encoded %d", c.in, StringSize([]byte(c.in)), len(got))
		}
		lp := Build([]byte(c.in))
		out, err := Decode(lp)
		if err != nil || len(out) != 1 || string(out[0]) != c.in {
			t.Errorf("%.20q: decode %v %.20q", c.in, err, out)
		}
	}
}

func tail(b []byte) []byte {
	if len(b) > 12 {
		return append(append([]byte(nil), b[:6]...), b[len(b)-6:]...)
	}
	return b
}

func TestIntegerBoundaries(t *testing.T) {
	for _, v := range []int64{0, 127, 128, -4096, -4097, 4095, 4096, math.MinInt16, math.MaxInt16, math.MinInt16 - 1,
		math.MaxInt16 + 1, -1 << 23, 1<<23 - 1, 1 << 23, math.MinInt32, math.MaxInt32, math.MaxInt32 + 1,
		math.MinInt64, math.MaxInt64} {
		lp := NewBuilder(nil)
		lp.Int(v)
		r, err := NewReader(lp.Finish())
		if err != nil {
			t.Fatal(err)
		}
		e, ok, err := r.Next()
		if err != nil || !ok || !e.IsInt || e.Int != v || len(lp.buf)-7 != IntSize(v) {
			t.Errorf("%d: %+v %v %v", v, e, ok, err)
		}
	}
}

func TestHeader(t *testing.T) {
	lp := Build([]byte("a"), []byte("1"))
	if want := "\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff"; string(lp) != want {
		t.Fatalf("got %q, want %q", lp, want)
	}
	b := NewBuilder(nil)
	for i := 0; i < 70000; i++ {
		b.Int(int64(i % 100))
	}
	p := b.Finish()
	if binary.LittleEndian.Uint16(p[4:]) != 65535 {
		t.Fatal("count of a listpack with 65535+ elements must read unknown")
	}
	out, err := Decode(p)
	if err != nil || len(out) != 70000 {
		t.Fatalf("%v %d", err, len(out))
	}
	for _, bad := range []string{"", "\x07\x00\x00\x00\x00\x00", "\x07\x00\x00\x00\x01\x00\xff",
		"\x08\x00\x00\x00\x01\x00\x81\xff", "\x09\x00\x00\x00\x01\x00\x00\x02\xff", "\x09\x00\x00\x00\x01\x00\xf5\x01\xff"} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestZiplist(t *testing.T) {
	elems := [][]byte{[]byte("0"), []byte("12"), []byte("13"), []byte("-129"), []byte("40000"), []byte("-8388608"),
		[]byte("2147483648"), []byte(strings.Repeat("x", 300)), []byte("y"), []byte(strings.Repeat("z", 20000)),
		[]byte("12345678901234567890123456789012"), []byte("")}
	zl := ZiplistBuild(elems...)
	// Redis's own ziplist of "a", 1, 300: header, entries, end
	if got := ZiplistBuild([]byte("a"), []byte("1"), []byte("300")); string(got) != "\x14\x00\x00\x00\x0f\x00\x00\x00\x03\x00\x00\x01a\x03\xf2\x02\xc0\x2c\x01\xff" {
		t.Errorf("ziplist bytes %q", got)
	}
	out, err := ZiplistDecode(zl)
	if err != nil || len(out) != len(elems) {
		t.Fatalf("%v %d", err, len(out))
	}
	for i := range out {
		if !bytes.Equal(out[i], elems[i]) {
			t.Errorf("%d: %.20q want %.20q", i, out[i], elems[i])
		}
	}
}

func TestZipmapIntset(t *testing.T) {
	pairs := [][]byte{[]byte("k"), []byte("v"), []byte(strings.Repeat("K", 300)), []byte("")}
	out, err := ZipmapDecode(ZipmapBuild(pairs...))
	if err != nil || len(out) != 4 || !bytes.Equal(out[2], pairs[2]) {
		t.Fatalf("zipmap: %v %q", err, out)
	}
	vals := []int64{-70000, -1, 5}
	p := IntsetBuild(vals, 0)
	if string(p[:8]) != "\x04\x00\x00\x00\x03\x00\x00\x00" {
		t.Fatalf("intset header %q", p[:8])
	}
	got, w, err := IntsetDecode(p)
	if err != nil || w != 4 || len(got) != 3 || got[0] != -70000 {
		t.Fatalf("intset: %v %d %v", err, w, got)
	}
	if _, _, err := IntsetDecode(IntsetBuild([]int64{2, 1}, 2)); err == nil {
		t.Fatal("unsorted intset accepted")
	}
}

// split cuts fuzz input into elements at 0xff bytes.
func split(data []byte) [][]byte {
	parts := bytes.Split(data, []byte{0xff})
	for i, p := range parts {
		if len(p) == 1 && p[0] < 32 { // mix in long strings and integers
			switch p[0] % 3 {
			case 0:
				parts[i] = bytes.Repeat([]byte{'s'}, int(p[0])*700)
			case 1:
				parts[i] = strconv.AppendInt(nil, int64(p[0])*-123456789013, 10)
			}
		}
	}
	return parts
}

// FuzzListpack: building then decoding gives back the elements (integers
// in canonical form), sizes agree, and decoding arbitrary bytes (listpack,
// ziplist, zipmap, intset) never panics.
func FuzzListpack(f *testing.F) {
	f.Add([]byte("a\xff1\xff-0\xff\x05\xff\x01\xff"))
	f.Add([]byte("9223372036854775807\xff-9223372036854775808\xff9223372036854775808"))
	f.Add(Build([]byte("x"), []byte("12")))
	f.Add(ZiplistBuild([]byte("x"), []byte("12")))
	f.Fuzz(func(t *testing.T, data []byte) {
		elems := split(data)
		b := NewBuilder(nil)
		size := Empty
		for _, e := range elems {
			b.String(e)
			size += StringSize(e)
		}
		lp := b.Finish()
		if len(lp) != size {
			t.Fatalf("size %d, predicted %d", len(lp), size)
		}
		out, err := Decode(lp)
		if err != nil {
			t.Fatal(err)
		}
		zout, err := ZiplistDecode(ZiplistBuild(elems...))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range elems {
			if !bytes.Equal(out[i], e) || !bytes.Equal(zout[i], e) {
				t.Fatalf("element %d: %q / %q, want %q", i, out[i], zout[i], e)
			}
		}
		Decode(data)
		ZiplistDecode(data)
		ZipmapDecode(data)
		IntsetDecode(data)
	})
}
