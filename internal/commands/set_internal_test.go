package commands

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// setOutcome is everything a SET does that a client, WATCH, tracking,
// notifications, the AOF or INFO can see.
type setOutcome struct {
	Reply      string
	Dirty      int
	Propagate  [][][]byte
	Touched    []string
	Notified   []string
	Value      string
	IsStr      bool
	Exp        int64
	Used       int64
	Volatile   int
	Size       int
	Embstr     bool
	Encoding   string
	Failed     bool
	ValueAlias bool // the stored value aliases the argument
}

// runSet runs SET key value over a store prepared by setup, through set
// (how "plain": its plain path), through setGeneric with no options
// ("generic"), or as MSET key value ("mset").
func runSet(t *testing.T, setup func(db keyspace.DB), proto int, how string) setOutcome {
	t.Helper()
	const now = 1_000_000
	s := keyspace.New(1, keyspace.Hooks{})
	db := s.DB(0, now)
	setup(db)
	w := resp.NewWriter()
	w.Proto = proto
	var out setOutcome
	key, val := []byte("key:000000000001"), []byte("xxx")
	c := &command.Ctx{
		Args: [][]byte{[]byte("SET"), key, val},
		W:    w,
		DB:   db,
		Touched: func(db int, key []byte) {
			out.Touched = append(out.Touched, fmt.Sprintf("%d:%s", db, key))
		},
		Notify: func(class byte, event string, db int, key []byte, _ *command.Client) {
			out.Notified = append(out.Notified, fmt.Sprintf("%c:%s:%d:%s", class, event, db, key))
		},
	}
	h := &Handlers{}
	switch how {
	case "plain":
		h.set(c)
	case "generic":
		h.setGeneric(c, setOpts{}, c.Args[1], c.Args[2], "set", false)
	case "mset":
		c.Args[0] = []byte("MSET")
		h.mset(c)
	default:
		t.Fatalf("runSet: %q", how)
	}
	out.Reply, out.Dirty, out.Propagate, out.Failed = string(w.Buf), c.Dirty, c.Propagate, c.Failed
	e, ok := db.Peek(key)
	if ok {
		v, isStr := e.Str()
		out.Value, out.IsStr, out.Exp, out.Embstr = string(v), isStr, e.Exp, e.Embstr()
		if isStr {
			out.Encoding = StringEncoding(v)
			out.ValueAlias = len(v) > 0 && &v[0] == &val[0]
		}
	}
	out.Used, out.Volatile, out.Size = s.UsedMemory(), db.Volatile(), db.Size()
	return out
}

// TestSetPlainPath: SET key value without options takes set's own path;
// it must do exactly what setGeneric does with no options, whatever the
// key held before. So must MSET key value (Redis's setKey for both: an
// expired key deleted first, a same-length value written in place).
func TestSetPlainPath(t *testing.T) {
	key := []byte("key:000000000001")
	setups := []struct {
		name  string
		setup func(db keyspace.DB)
	}{
		{"missing", func(db keyspace.DB) {}},
		{"same length", func(db keyspace.DB) { db.SetString(key, []byte("abc"), 0) }},
		{"shorter", func(db keyspace.DB) { db.SetString(key, []byte("ab"), 0) }},
		{"longer", func(db keyspace.DB) { db.SetString(key, []byte("abcdefgh"), 0) }},
		{"with ttl", func(db keyspace.DB) { db.SetString(key, []byte("abc"), 5_000_000) }},
		{"expired", func(db keyspace.DB) { db.SetString(key, []byte("abc"), 999_000) }},
		{"embstr mark", func(db keyspace.DB) { db.SetString(key, []byte("6"), 0); db.MarkEmbstr(key) }},
		{"raw", func(db keyspace.DB) { db.Set(key, make([]byte, 3, 9), 0) }},
		{"list", func(db keyspace.DB) { db.Set(key, keyspace.NewList(), 0) }},
		{"list with ttl", func(db keyspace.DB) { db.Set(key, keyspace.NewList(), 5_000_000) }},
		{"other keys", func(db keyspace.DB) {
			db.SetString([]byte("a"), []byte("abc"), 5_000_000)
			db.SetString(key, []byte("abc"), 0)
		}},
	}
	for _, tt := range setups {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", tt.name, proto), func(t *testing.T) {
				got := runSet(t, tt.setup, proto, "plain")
				want := runSet(t, tt.setup, proto, "generic")
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("plain path\n%+v\nsetGeneric\n%+v", got, want)
				}
				if ms := runSet(t, tt.setup, proto, "mset"); !reflect.DeepEqual(ms, want) {
					t.Fatalf("MSET\n%+v\nsetGeneric\n%+v", ms, want)
				}
				if got.Reply != "+OK\r\n" || got.Value != "xxx" || got.Exp != 0 || got.Dirty != 1 || got.ValueAlias {
					t.Fatalf("unexpected outcome %+v", got)
				}
			})
		}
	}
}
