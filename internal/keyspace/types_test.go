package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestListModel checks List against a plain slice under random operations.
func TestListModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	l := NewList()
	var m [][]byte
	for step := 0; step < 20000; step++ {
		v := []byte(strconv.Itoa(step))
		switch op := r.IntN(9); {
		case op == 0:
			l.PushFront(v)
			m = append([][]byte{v}, m...)
		case op == 1:
			l.PushBack(v)
			m = append(m, v)
		case op == 2 && len(m) > 0:
			if got := l.PopFront(); !bytes.Equal(got, m[0]) {
				t.Fatalf("step %d PopFront %s want %s", step, got, m[0])
			}
			m = m[1:]
		case op == 3 && len(m) > 0:
			if got := l.PopBack(); !bytes.Equal(got, m[len(m)-1]) {
				t.Fatalf("step %d PopBack", step)
			}
			m = m[:len(m)-1]
		case op == 4:
			i := r.IntN(len(m) + 1)
			l.Insert(i, v)
			m = append(m[:i], append([][]byte{v}, m[i:]...)...)
		case op == 5 && len(m) > 0:
			i := r.IntN(len(m))
			l.Remove(i)
			m = append(m[:i], m[i+1:]...)
		case op == 6 && len(m) > 0:
			i := r.IntN(len(m))
			l.SetIndex(i, v)
			m[i] = v
		case op == 7 && len(m) > 0 && r.IntN(20) == 0:
			s := r.IntN(len(m))
			e := s + r.IntN(len(m)-s)
			l.Trim(s, e)
			m = append([][]byte(nil), m[s:e+1]...)
		case op == 8 && r.IntN(10) == 0:
			l.Filter(func(i int, e []byte) bool { return e[len(e)-1]%3 != 0 })
			var k [][]byte
			for _, e := range m {
				if e[len(e)-1]%3 != 0 {
					k = append(k, e)
				}
			}
			m = k
		}
		if l.Len() != len(m) {
			t.Fatalf("step %d: len %d want %d", step, l.Len(), len(m))
		}
		if step%97 == 0 {
			for i := range m {
				if !bytes.Equal(l.Index(i), m[i]) {
					t.Fatalf("step %d: index %d = %s want %s", step, i, l.Index(i), m[i])
				}
			}
		}
	}
}

func TestHashEncodings(t *testing.T) {
	lim := HashLimits{Entries: 4, Value: 8}
	h := NewHash()
	for i := 0; i < 4; i++ {
		h.Set([]byte(fmt.Sprint("f", i)), []byte("v"), lim)
	}
	if h.Encoding() != "listpack" {
		t.Fatal(h.Encoding())
	}
	h.Del([]byte("f1"))
	if got := h.Field(1); got != "f2" {
		t.Errorf("listpack keeps insertion order: field 1 = %s", got)
	}
	h.Set([]byte("f9"), []byte("123456789"), lim)
	if h.Encoding() != "hashtable" {
		t.Fatal("long value should convert")
	}
	for i := 0; i < 100; i++ {
		h.Set([]byte(fmt.Sprint("g", i)), []byte("v"), lim)
	}
	for i := 0; i < 100; i += 2 {
		if !h.Del([]byte(fmt.Sprint("g", i))) {
			t.Fatal("del")
		}
	}
	for i := 0; i < 100; i++ {
		_, ok := h.Get([]byte(fmt.Sprint("g", i)))
		if ok != (i%2 == 1) {
			t.Fatalf("g%d present=%v", i, ok)
		}
	}
	if h.Len() != 3+1+50 {
		t.Errorf("len %d", h.Len())
	}
}

func TestSetEncodings(t *testing.T) {
	s := NewSet()
	for _, m := range []string{"5", "-1", "3", "5"} {
		s.Add([]byte(m), 4)
	}
	if s.Encoding() != "intset" || s.Len() != 3 || s.Member(0) != "-1" || s.Member(2) != "5" {
		t.Fatalf("%s %d", s.Encoding(), s.Len())
	}
	for _, m := range []string{"05", "+3", "-0", " 3"} {
		if s.Has([]byte(m)) {
			t.Errorf("%q is not the canonical form of a member", m)
		}
	}
	s.Add([]byte("7"), 4)
	s.Add([]byte("8"), 4)
	if s.Encoding() != "hashtable" {
		t.Fatal("should convert past the intset limit")
	}
	s.Add([]byte("abc"), 4)
	if !s.Has([]byte("-1")) || !s.Has([]byte("abc")) || s.Len() != 6 {
		t.Fatal("members lost in conversion")
	}
	s.Remove([]byte("-1"))
	if s.Has([]byte("-1")) || s.Len() != 5 {
		t.Fatal("remove")
	}
	for i := 0; i < s.Len(); i++ {
		if !s.Has([]byte(s.Member(i))) {
			t.Fatal("index out of sync")
		}
	}
}

// TestNewListRoom: a new list takes its first four elements, at either
// end, without a second allocation, and keeps order when it then grows.
func TestNewListRoom(t *testing.T) {
	v := []byte("v")
	if n := testing.AllocsPerRun(100, func() {
		l := NewList()
		l.PushBack(v)
		l.PushFront(v)
		l.PushBack(v)
		l.PushFront(v)
	}); n != 1 {
		t.Errorf("NewList and 4 pushes: %v allocations, want 1", n)
	}
	l := NewList()
	for i := 0; i < 10; i++ {
		if i%2 == 0 {
			l.PushBack([]byte{byte('0' + i)})
		} else {
			l.PushFront([]byte{byte('0' + i)})
		}
	}
	var got []byte
	for _, e := range l.Elements() {
		got = append(got, e...)
	}
	if string(got) != "9753102468" {
		t.Errorf("elements %q", got)
	}
}
