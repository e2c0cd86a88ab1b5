package script

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/persist/rdb"
)

func TestParseMetadata(t *testing.T) {
	for _, tc := range []struct {
		code, engine, name, msg string
	}{
		{"#!lua name=lib\ncode", "lua", "lib", ""},
		{"#!LUA NAME=Lib\n", "LUA", "Lib", ""},
		{"#!lua name=\n", "lua", "", ""},
		{"#! name=x\n", "", "x", ""},
		{"lua name=x\n", "", "", ErrLibMissingMeta},
		{"", "", "", ErrLibMissingMeta},
		{"#!lua name=x", "", "", ErrLibInvalidMeta},
		{"#!lua name=\"x\n", "", "", ErrLibInvalidMeta},
		{"#!lua name=a\x00b\ncode", "", "", ErrLibInvalidMeta},
		{"#!lua name=ab\ncode\x00", "lua", "ab", ""},
		{"#!lua\n", "", "", ErrLibNoName},
		{"#!lua foo=bar name=x\n", "", "", "Invalid metadata value given: foo=bar"},
		{"#!lua name=x name=y\n", "", "", ErrLibNameTwice},
	} {
		md, msg := ParseMetadata([]byte(tc.code))
		if msg != tc.msg {
			t.Errorf("%q: msg %q, want %q", tc.code, msg, tc.msg)
			continue
		}
		if msg == "" && (md.Engine != tc.engine || md.Name != tc.name || tc.code[md.Body] != '\n') {
			t.Errorf("%q: got %+v", tc.code, md)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "A_1": true, "_": true, "": false, "a-b": false, "a b": false, "é": false} {
		if ValidName(s) != want {
			t.Errorf("ValidName(%q) = %v", s, !want)
		}
	}
}

// fakeEngine "registers" one function per line "name" of the code; a line
// "fail" makes the load fail.
type fakeEngine struct{ loads int }

func (e *fakeEngine) Compile(string, []byte) (Function, error) { return nil, nil }
func (e *fakeEngine) Call(run *Run, fn Function, keys, args [][]byte) {
	run.W.BulkString(fn.(string))
}
func (e *fakeEngine) Memory() int64 { return 0 }
func (e *fakeEngine) LoadLibrary(code []byte, _ time.Duration, _ func(int, string)) ([]*FunctionInfo, error) {
	e.loads++
	var out []*FunctionInfo
	for _, l := range strings.Split(string(code), "\n") {
		switch l {
		case "":
		case "fail":
			return nil, errors.New("Error registering functions: ERR failed")
		default:
			out = append(out, &FunctionInfo{Name: l, Fn: l})
		}
	}
	return out, nil
}

func newFake() *Libraries {
	r := NewLibraries()
	r.AddEngine("lua", &fakeEngine{})
	return r
}

func TestLibrariesLoad(t *testing.T) {
	r := newFake()
	steps := []struct {
		code    string
		replace bool
		name    string
		msg     string
	}{
		{"#!lua name=a\nf1\nf2", false, "a", ""},
		{"#!lua name=a\nf3", false, "", "Library 'a' already exists"},
		{"#!foo name=b\nf3", false, "", "Engine 'foo' not found"},
		{"#!lua name=b-c\nf3", false, "", ErrBadName},
		{"#!lua name=b\n", false, "", ErrNoFunctions},
		{"#!lua name=b\nF1", false, "", "Function F1 already exists"},
		{"#!lua name=a\nfail", true, "", "Error registering functions: ERR failed"},
		{"#!lua name=a\n", true, "", ErrNoFunctions},
		{"#!lua name=b\nf9", false, "b", ""},
		{"#!lua name=a\nf1\nf4", true, "a", ""},
	}
	for _, s := range steps {
		name, msg := r.Load([]byte(s.code), s.replace, 0)
		if name != s.name || msg != s.msg {
			t.Fatalf("Load(%q, %v) = %q, %q; want %q, %q", s.code, s.replace, name, msg, s.name, s.msg)
		}
	}
	// A failed replace keeps the old library; the last one replaced it.
	if r.Function("f2") != nil || r.Function("F4") == nil || r.Function("f9") == nil {
		t.Fatal("functions after replace")
	}
	if l, f := r.Counts(); l != 2 || f != 3 {
		t.Fatalf("counts %d %d", l, f)
	}
	if st := r.Stats(); len(st) != 1 || st[0] != (EngineStats{"LUA", 2, 3}) {
		t.Fatalf("stats %+v", st)
	}
	if !r.Delete("b") || r.Delete("b") || r.Function("f9") != nil {
		t.Fatal("delete")
	}
	if got := r.List(func(n string) bool { return n == "a" }); len(got) != 1 || got[0].Functions[0].Name != "f1" {
		t.Fatalf("list %+v", got)
	}
	r.Flush()
	if l, f := r.Counts(); l != 0 || f != 0 {
		t.Fatal("flush")
	}
}

func TestDumpRestore(t *testing.T) {
	r := newFake()
	r.Load([]byte("#!lua name=a\nf1"), false, 0)
	r.Load([]byte("#!lua name=b\nf2"), false, 0)
	p := r.Dump()
	codes, msg := ParseDump(p)
	if msg != "" || len(codes) != 2 || string(codes[0]) != "#!lua name=a\nf1" {
		t.Fatalf("ParseDump: %q %q", codes, msg)
	}
	if msg := r.Restore(p, RestoreAppend); msg != "Library a already exists" {
		t.Fatalf("append collision: %q", msg)
	}
	if msg := r.Restore(p, RestoreReplace); msg != "" {
		t.Fatalf("replace: %q", msg)
	}
	r2 := newFake()
	r2.Load([]byte("#!lua name=c\nf1"), false, 0)
	if msg := r2.Restore(p, RestoreAppend); msg != "Function f1 already exists" {
		t.Fatalf("function collision: %q", msg)
	}
	if l, _ := r2.Counts(); l != 1 {
		t.Fatal("failed restore changed the libraries")
	}
	if msg := r2.Restore(p, RestoreFlush); msg != "" || r2.Function("f2") == nil {
		t.Fatalf("flush: %q", msg)
	}
	if _, msg := ParseDump(p[:len(p)-1]); msg != ErrPayload {
		t.Fatalf("short payload: %q", msg)
	}
	bad := bytes.Clone(p)
	bad[3] ^= 1
	if _, msg := ParseDump(bad); msg != ErrPayload {
		t.Fatalf("bad crc: %q", msg)
	}
	// An LZF-compressed string, as Redis writes code longer than 20 bytes.
	lzf := []byte{OpFunction2, 0xC3, 7, 12, 3, 'a', 'b', 'c', 'd', 0xC0, 3}
	payload := append(lzf, rdb.Version, 0)
	payload = append(payload, make([]byte, 8)...)
	crc := rdb.NewCRCTable().Update(0, payload[:len(payload)-8])
	for i := 0; i < 8; i++ {
		payload[len(payload)-8+i] = byte(crc >> (8 * i))
	}
	codes, msg = ParseDump(payload)
	if msg != "" || len(codes) != 1 || string(codes[0]) != "abcdabcdabcd" {
		t.Fatalf("lzf: %q %q", codes, msg)
	}
}
