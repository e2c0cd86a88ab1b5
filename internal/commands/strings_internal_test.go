package commands

import "testing"

func TestLongDouble(t *testing.T) {
	tests := []struct {
		a, b, want string
	}{
		{"10.5", "0.1", "10.6"},
		{"0", "0.1", "0.1"},
		{"0.1", "0.2", "0.3"},
		{"3", "-3", "0"},
		{"0", "-0.0", "0"},
		{"0", "1.23456789012345678901234", "1.23456789012345679"},
		{"0", "5.0e3", "5000"},
		{"1e17", "1", "100000000000000001"},
		{"0", "0x1p3", "8"},
		{"0", "+.5", "0.5"},
		{"0", "5.", "5"},
		{"-123.456", "0", "-123.456"},
	}
	for _, tt := range tests {
		a, ok := ParseLongDouble([]byte(tt.a))
		if !ok {
			t.Fatalf("parse %q failed", tt.a)
		}
		b, ok := ParseLongDouble([]byte(tt.b))
		if !ok {
			t.Fatalf("parse %q failed", tt.b)
		}
		sum, ok := a.Add(b)
		if !ok {
			t.Fatalf("%s + %s overflowed", tt.a, tt.b)
		}
		if got := sum.Format(); got != tt.want {
			t.Errorf("%s + %s = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
	for _, bad := range []string{"", " 1", "1 ", "abc", "nan", "-nan", "1e", "0x", "0x1p", ".", "1_0", "0b101", "1,5", "--1", "1e5000", "1e-5000"} {
		if _, ok := ParseLongDouble([]byte(bad)); ok {
			t.Errorf("ParseLongDouble(%q) succeeded", bad)
		}
	}
	inf, ok := ParseLongDouble([]byte("inf"))
	if !ok {
		t.Fatal("inf does not parse")
	}
	if _, ok := inf.Add(NewLongDouble()); ok {
		t.Error("inf + 0 did not fail")
	}
	big, _ := ParseLongDouble([]byte("1e4932"))
	if _, ok := big.Add(big); ok {
		t.Error("1e4932 + 1e4932 did not overflow")
	}
}

func TestStringEncoding(t *testing.T) {
	raw := make([]byte, 3, 8)
	copy(raw, "abc")
	tests := []struct {
		v    []byte
		want string
	}{
		{[]byte("12345"), "int"},
		{[]byte("-9223372036854775808"), "int"},
		{[]byte("9223372036854775808"), "embstr"},
		{[]byte("01"), "embstr"},
		{[]byte("+1"), "embstr"},
		{[]byte(""), "embstr"},
		{[]byte("12345678901234567890123456789012345678901234"), "embstr"},
		{[]byte("123456789012345678901234567890123456789012345"), "raw"},
		{raw, "raw"},
	}
	for _, tt := range tests {
		v := tt.v
		if tt.want != "raw" {
			v = Copy(v) // no spare capacity
		}
		if got := StringEncoding(v); got != tt.want {
			t.Errorf("StringEncoding(%q) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestParseCursor(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"", 0, true},
		{"+5", 5, true},
		{"-1", ^uint64(0), true},
		{"18446744073709551615", ^uint64(0), true},
		{"18446744073709551616", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"abc", 0, false},
		{"1.5", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseCursor([]byte(tt.in))
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseCursor(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseInt(t *testing.T) {
	good := map[string]int64{"0": 0, "-1": -1, "123": 123, "9223372036854775807": 1<<63 - 1, "-9223372036854775808": -1 << 63}
	for s, want := range good {
		if n, ok := ParseInt([]byte(s)); !ok || n != want {
			t.Errorf("ParseInt(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "+1", "01", "-0", "-", " 1", "1 ", "1.0", "9223372036854775808", "abc"} {
		if _, ok := ParseInt([]byte(s)); ok {
			t.Errorf("ParseInt(%q) succeeded", s)
		}
	}
}

func BenchmarkIncrByFloat(b *testing.B) {
	b.ReportAllocs()
	x, _ := ParseLongDouble([]byte("10.5"))
	y, _ := ParseLongDouble([]byte("0.1"))
	for i := 0; i < b.N; i++ {
		s, _ := x.Add(y)
		_ = s.Format()
	}
}
