package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// TestCommandIntrospection compares COMMAND INFO and COMMAND DOCS of every
// command and subcommand Redis lists (COMMAND LIST) with Crescent's. Redis
// orders a container's subcommands by its dict's hash (random per process),
// so subcommand lists are compared sorted.
func TestCommandIntrospection(t *testing.T) {
	p := StartPair(t)
	r, c := Dial(t, p.Redis), Dial(t, p.Crescent)
	names := commandNames(t, r)
	if len(names) < 200 {
		t.Fatalf("COMMAND LIST gave %d commands", len(names))
	}
	if got := commandNames(t, c); strings.Join(got, " ") != strings.Join(names, " ") {
		t.Fatalf("COMMAND LIST differs:\n  redis:    %q\n  crescent: %q", names, got)
	}
	for _, n := range names {
		for _, sub := range []string{"INFO", "DOCS"} {
			canon := canonCommandInfo
			if sub == "DOCS" {
				canon = canonCommandDocs
			}
			rv, _, err1 := Parse(r.MustDo(t, "COMMAND", sub, n))
			cv, _, err2 := Parse(c.MustDo(t, "COMMAND", sub, n))
			if err1 != nil || err2 != nil {
				t.Fatalf("COMMAND %s %s: %v %v", sub, n, err1, err2)
			}
			if a, b := canon(rv), canon(cv); !bytes.Equal(a, b) {
				t.Errorf("COMMAND %s %s:\n  redis:    %q\n  crescent: %q", sub, n, a, b)
			}
		}
	}
}

// commandNames is COMMAND LIST, sorted.
func commandNames(t *testing.T, conn *Conn) []string {
	t.Helper()
	v, _, err := Parse(conn.MustDo(t, "COMMAND", "LIST"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range v.Elems {
		names = append(names, string(e.Str))
	}
	sort.Strings(names)
	return names
}

// encodeAgg re-encodes an aggregate of v's type from encoded elements.
func encodeAgg(v Value, elems [][]byte) []byte {
	n := len(elems)
	if v.Type == '%' {
		n /= 2
	}
	out := fmt.Appendf(nil, "%c%d\r\n", v.Type, n)
	return append(out, bytes.Join(elems, nil)...)
}

// canonCommandInfo is a COMMAND INFO reply with each entry's subcommands
// (its tenth element) sorted, recursively.
func canonCommandInfo(v Value) []byte {
	if v.Type != '*' || v.Null {
		return v.Raw
	}
	elems := make([][]byte, len(v.Elems))
	for i, e := range v.Elems {
		elems[i] = canonCommandInfo(e)
	}
	if len(v.Elems) == 10 && v.Elems[0].Type == '$' && v.Elems[9].Type == '*' {
		subs := make([][]byte, len(v.Elems[9].Elems))
		for i, s := range v.Elems[9].Elems {
			subs[i] = canonCommandInfo(s)
		}
		sort.Slice(subs, func(i, j int) bool { return bytes.Compare(subs[i], subs[j]) < 0 })
		elems[9] = encodeAgg(v.Elems[9], subs)
	}
	return encodeAgg(v, elems)
}

// canonCommandDocs is a COMMAND DOCS reply (name, docs, ...) with every
// "subcommands" map's entries sorted, recursively.
func canonCommandDocs(v Value) []byte {
	if (v.Type != '*' && v.Type != '%') || v.Null {
		return v.Raw
	}
	elems := make([][]byte, len(v.Elems))
	for i := 0; i+1 < len(v.Elems); i += 2 {
		elems[i] = v.Elems[i].Raw
		elems[i+1] = canonDocsBody(v.Elems[i+1])
	}
	return encodeAgg(v, elems)
}

func canonDocsBody(v Value) []byte {
	if (v.Type != '*' && v.Type != '%') || v.Null {
		return v.Raw
	}
	elems := make([][]byte, len(v.Elems))
	for i := 0; i+1 < len(v.Elems); i += 2 {
		elems[i], elems[i+1] = v.Elems[i].Raw, v.Elems[i+1].Raw
		if string(v.Elems[i].Str) != "subcommands" {
			continue
		}
		subs := v.Elems[i+1]
		var pairs [][2][]byte
		for j := 0; j+1 < len(subs.Elems); j += 2 {
			pairs = append(pairs, [2][]byte{subs.Elems[j].Raw, canonDocsBody(subs.Elems[j+1])})
		}
		sort.Slice(pairs, func(a, b int) bool { return bytes.Compare(pairs[a][0], pairs[b][0]) < 0 })
		var flat [][]byte
		for _, pr := range pairs {
			flat = append(flat, pr[0], pr[1])
		}
		elems[i+1] = encodeAgg(subs, flat)
	}
	return encodeAgg(v, elems)
}

// TestRandomGetKeys compares COMMAND GETKEYS and GETKEYSANDFLAGS for
// random calls of every command and subcommand: keywords that key specs
// search for (STORE, STREAMS, KEYS...), numkeys that atoi and string2ll
// read differently ("1.5", " 2", "4294967297"), too few and too many
// arguments. These are Redis's getKeysFromCommandWithSpecs, which ACL and
// cluster checks share.
func TestRandomGetKeys(t *testing.T) {
	var cmds [][]string
	toks := []string{"k1", "k2", "0", "1", "2", "3", "-1", "5", "100", "1.5", "9999999999", "-5",
		"4294967297", "4294967296", " 2", "+1", "2x", "00", "-0", "",
		"STORE", "STOREDIST", "BY", "GET", "SET", "INCRBY", "OVERFLOW", "u8", "STREAMS", "KEYS",
		"NUMKEYS", "LIMIT", "WITHSCORES", "AGGREGATE", "WEIGHTS", "COUNT", "BLOCK", "GROUP", "NOACK",
		"$", ">", "FROM", "TO", "DB", "REPLACE", "COPY", "AUTH", "AUTH2", "FROMMEMBER", "BYBOX",
		"ASC", "LEFT", "RIGHT", "MIN", "MAX", "g", "c", "ANY", "RANK", "x", "*", "#", "ALPHA", "IDX", "LEN"}
	randomRun{salt: 0x9e7,
		prepare: func(t *testing.T, p *Pair) {
			r := Dial(t, p.Redis)
			for _, n := range commandNames(t, r) {
				cmds = append(cmds, strings.Split(n, "|"))
			}
		},
		gen: func(rng *rand.Rand) []string {
			sub := []string{"GETKEYS", "GETKEYSANDFLAGS"}[rng.IntN(2)]
			a := append([]string{"COMMAND", sub}, cmds[rng.IntN(len(cmds))]...)
			if rng.IntN(40) == 0 {
				a = append(a[:2], "nosuchcommand")
			}
			for n := rng.IntN(13); n > 0; n-- {
				a = append(a, toks[rng.IntN(len(toks))])
			}
			return a
		}}.run(t)
}

// TestInfoFields compares the field names, in order, of INFO's server,
// clients, memory, persistence, stats, replication and cpu sections
// (their values depend on the run): a field Redis 7.0 lacks
// (pubsub_clients came with 7.2), misses, or has elsewhere (the scripts'
// memory lines came after mem_allocator) is a difference.
func TestInfoFields(t *testing.T) {
	p := StartPair(t)
	r, c := Dial(t, p.Redis), Dial(t, p.Crescent)
	for _, sec := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu"} {
		names := func(conn *Conn) string {
			v, _, err := Parse(conn.MustDo(t, "INFO", sec))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range strings.Split(string(v.Str), "\r\n") {
				// Crescent's own fields (go_version, crescent_version,
				// go_gc_cycles, crescent_last_snapshot_pause_usec) are
				// extra lines; the names Redis has must come in its order
				if k, _, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(k, "go_") && !strings.HasPrefix(k, "crescent_") {
					out = append(out, k)
				}
			}
			return strings.Join(out, " ")
		}
		if a, b := names(r), names(c); a != b {
			t.Errorf("INFO %s fields:\n  redis:    %s\n  crescent: %s", sec, a, b)
		}
	}
}
