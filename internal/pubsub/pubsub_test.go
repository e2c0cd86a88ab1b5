package pubsub

import (
	"fmt"
	"sync"
	"testing"
)

// recorder is a Sink that keeps RESP2 encodings.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Deliver(m *Message) bool {
	r.mu.Lock()
	r.msgs = append(r.msgs, string(m.AppendTo(nil, 2)))
	r.mu.Unlock()
	return true
}

func newHub(sinks map[int64]*recorder) *Hub {
	return New(func(id int64) Sink {
		if r := sinks[id]; r != nil {
			return r
		}
		return nil
	})
}

func TestNotifyFlags(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"", "", false},
		{"KEA", "AKE", false},
		{"Kg$lshzxetdnm", "AKm", false},
		{"g$lshzxet", "g$lshzxet", false},
		{"g$lshzxetd", "A", false},
		{"tdnxe$", "$xetdn", false},
		{"mE", "Em", false},
		{"gn", "gn", false},
		{"AA", "A", false},
		{"Eq", "", true},
		{"a", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeNotifyFlags(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("NormalizeNotifyFlags(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestMessageEncoding(t *testing.T) {
	m := NewMessage("pmessage", []byte("p*"), []byte("pc"), []byte("hi"))
	want := "*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npc\r\n$2\r\nhi\r\n"
	if got := string(m.AppendTo(nil, 2)); got != want {
		t.Fatalf("RESP2 %q", got)
	}
	if got := string(m.AppendTo(nil, 3)); got != ">"+want[1:] {
		t.Fatalf("RESP3 %q", got)
	}
}

func TestHub(t *testing.T) {
	sinks := map[int64]*recorder{1: {}, 2: {}}
	h := newHub(sinks)
	steps := []struct {
		name string
		do   func() int
		want int
	}{
		{"sub 1 a", func() int { return h.Subscribe(1, Channel, "a") }, 1},
		{"sub 1 a again", func() int { return h.Subscribe(1, Channel, "a") }, 1},
		{"psub 1 a*", func() int { return h.Subscribe(1, Pattern, "a*") }, 2},
		{"ssub 1 a", func() int { return h.Subscribe(1, Shard, "a") }, 1},
		{"sub 2 a", func() int { return h.Subscribe(2, Channel, "a") }, 1},
		{"publish a", func() int { return h.Publish([]byte("a"), []byte("x")) }, 3},
		{"publish ab", func() int { return h.Publish([]byte("ab"), []byte("y")) }, 1},
		{"spublish a", func() int { return h.SPublish([]byte("a"), []byte("z")) }, 1},
		{"numsub a", func() int { return h.NumSub(Channel, "a") }, 2},
		{"numpat", func() int { return h.NumPatterns() }, 1},
		{"channels", func() int { return h.NumChannels() }, 1},
		{"unsub 2 a", func() int { return h.Unsubscribe(2, Channel, "a") }, 0},
		{"unsub 2 missing", func() int { return h.Unsubscribe(2, Channel, "zz") }, 0},
		{"publish a after", func() int { return h.Publish([]byte("a"), []byte("x")) }, 2},
		{"remove 1", func() int { h.Remove(1); return h.Total(1) }, 0},
		{"publish a removed", func() int { return h.Publish([]byte("a"), []byte("x")) }, 0},
		{"counters", func() int { return h.NumChannels() + h.NumPatterns() + h.NumShardChannels() }, 0},
	}
	for _, s := range steps {
		if got := s.do(); got != s.want {
			t.Fatalf("%s = %d, want %d", s.name, got, s.want)
		}
	}
	if got := len(sinks[1].msgs); got != 6 {
		t.Fatalf("client 1 got %d messages: %q", got, sinks[1].msgs)
	}
	if got := len(sinks[2].msgs); got != 1 {
		t.Fatalf("client 2 got %d messages", got)
	}
}

func TestNotify(t *testing.T) {
	sinks := map[int64]*recorder{1: {}}
	h := newHub(sinks)
	h.Subscribe(1, Pattern, "*")
	h.Notify('$', "set", 0, []byte("k"))
	if len(sinks[1].msgs) != 0 {
		t.Fatal("notification while disabled")
	}
	f, _ := ParseNotifyFlags("KE$")
	h.SetNotifyFlags(f)
	h.Notify('$', "set", 3, []byte("k"))
	h.Notify('g', "del", 3, []byte("k"))
	want := []string{
		"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$16\r\n__keyspace@3__:k\r\n$3\r\nset\r\n",
		"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$18\r\n__keyevent@3__:set\r\n$1\r\nk\r\n",
	}
	if fmt.Sprint(sinks[1].msgs) != fmt.Sprint(want) {
		t.Fatalf("got %q", sinks[1].msgs)
	}
}

func TestConcurrentPublishSubscribe(t *testing.T) {
	sinks := map[int64]*recorder{}
	for i := int64(1); i <= 8; i++ {
		sinks[i] = &recorder{}
	}
	h := newHub(sinks)
	var wg sync.WaitGroup
	for i := int64(1); i <= 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				h.Subscribe(i, Channel, fmt.Sprint("c", j%5))
				h.Subscribe(i, Pattern, "c*")
				h.Unsubscribe(i, Channel, fmt.Sprint("c", j%5))
			}
			h.Remove(i)
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				h.Publish([]byte(fmt.Sprint("c", j%5)), []byte("x"))
				h.Channels(Channel, "c*", true)
			}
		}()
	}
	wg.Wait()
	if h.NumChannels() != 0 || h.NumPatterns() != 0 {
		t.Fatalf("leftover channels %d patterns %d", h.NumChannels(), h.NumPatterns())
	}
}

type nullSink struct{}

func (nullSink) Deliver(m *Message) bool { return true }

func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprint(n, "subs"), func(b *testing.B) {
			h := New(func(int64) Sink { return nullSink{} })
			for i := 0; i < n; i++ {
				h.Subscribe(int64(i), Channel, "ch")
			}
			ch, msg := []byte("ch"), []byte("hello world")
			b.ReportAllocs()
			for b.Loop() {
				h.Publish(ch, msg)
			}
		})
	}
}

func BenchmarkPublishNoSubscribers(b *testing.B) {
	h := New(nil)
	ch, msg := []byte("ch"), []byte("hello world")
	b.ReportAllocs()
	for b.Loop() {
		h.Publish(ch, msg)
	}
}

func BenchmarkNotifyDisabled(b *testing.B) {
	h := New(nil)
	key := []byte("key")
	b.ReportAllocs()
	for b.Loop() {
		h.Notify('$', "set", 0, key)
	}
}

type recSink struct{ got []byte }

func (s *recSink) Deliver(m *Message) bool { s.got = m.AppendTo(s.got, 2); return true }

// TestPublishFromSelf checks that the publisher's own messages go to its
// buffer, encoded for its protocol, and everyone else's to their sinks.
func TestPublishFromSelf(t *testing.T) {
	for _, tc := range []struct {
		name     string
		self     int64
		proto    int
		wantSelf string
		wantN    int
	}{
		{"resp3 self", 1, 3, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n>4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nm\r\n", 3},
		{"resp2 self", 1, 2, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nm\r\n", 3},
		{"not subscribed", 9, 3, "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sinks := map[int64]*recSink{1: {}, 2: {}}
			h := New(func(id int64) Sink { return sinks[id] })
			h.Subscribe(1, Channel, "ch")
			h.Subscribe(1, Pattern, "c*")
			h.Subscribe(2, Channel, "ch")
			var buf []byte
			n := h.PublishFrom([]byte("ch"), []byte("m"), Self{ID: tc.self, Buf: &buf, Proto: tc.proto})
			if n != tc.wantN || string(buf) != tc.wantSelf {
				t.Fatalf("n %d buf %q, want %d %q", n, buf, tc.wantN, tc.wantSelf)
			}
			if want := "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"; string(sinks[2].got) != want {
				t.Fatalf("other client got %q", sinks[2].got)
			}
			if tc.wantSelf != "" && len(sinks[1].got) != 0 {
				t.Fatalf("publisher's sink got %q", sinks[1].got)
			}
		})
	}
}

// TestMatchChannelEmpty: Redis 7.0's stringmatchlen matches the empty
// string with the empty pattern only.
func TestMatchChannelEmpty(t *testing.T) {
	for _, tc := range []struct {
		pat, ch string
		want    bool
	}{
		{"*", "", false}, {"**", "", false}, {"", "", true}, {"?", "", false},
		{"*", "a", true}, {"", "a", false}, {"a*", "a", true},
	} {
		if got := matchChannel(tc.pat, tc.ch); got != tc.want {
			t.Errorf("matchChannel(%q, %q) = %v", tc.pat, tc.ch, got)
		}
	}
}

func BenchmarkPublishFromSelf(b *testing.B) {
	h := New(func(int64) Sink { return nullSink{} })
	h.Subscribe(1, Channel, "ch")
	h.Subscribe(2, Channel, "ch")
	ch, msg := []byte("ch"), []byte("hello world")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		h.PublishFrom(ch, msg, Self{ID: 1, Buf: &buf, Proto: 3})
	}
}

// TestNotifyFromSelf checks that a client's own keyspace notifications go
// to its buffer (before its command's reply) and others' to their sinks.
func TestNotifyFromSelf(t *testing.T) {
	sinks := map[int64]*recSink{1: {}, 2: {}}
	h := New(func(id int64) Sink { return sinks[id] })
	h.Subscribe(1, Channel, "__keyspace@0__:k")
	h.Subscribe(2, Channel, "__keyspace@0__:k")
	var buf []byte
	self := Self{ID: 1, Buf: &buf, Proto: 3}
	h.NotifyFrom('$', "set", 0, []byte("k"), self)
	if len(buf) != 0 || h.Notifying() {
		t.Fatalf("notification while disabled: %q", buf)
	}
	f, _ := ParseNotifyFlags("K$")
	h.SetNotifyFlags(f)
	h.NotifyFrom('$', "set", 0, []byte("k"), self)
	if want := ">3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"; string(buf) != want {
		t.Fatalf("self got %q, want %q", buf, want)
	}
	if len(sinks[1].got) != 0 {
		t.Fatalf("self's sink got %q", sinks[1].got)
	}
	if want := "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"; string(sinks[2].got) != want {
		t.Fatalf("other client got %q", sinks[2].got)
	}
}

// TestPatternOrder: a client's patterns are listed in the order they were
// subscribed (a pattern left and subscribed again goes last), as Redis
// 7.0's list of them answers PUNSUBSCRIBE without arguments; channels
// stay sorted.
func TestPatternOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []string // "+p" subscribes, "-p" unsubscribes
		want string
	}{
		{"subscription order", []string{"+b*", "+a*", "+c*"}, "[b* a* c*]"},
		{"again goes last", []string{"+b*", "+a*", "+c*", "-a*", "+a*"}, "[b* c* a*]"},
		{"twice counts once", []string{"+b*", "+a*", "+b*"}, "[b* a*]"},
		{"all left", []string{"+a*", "-a*"}, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(nil)
			for _, op := range tc.ops {
				if op[0] == '+' {
					h.Subscribe(1, Pattern, op[1:])
				} else {
					h.Unsubscribe(1, Pattern, op[1:])
				}
			}
			if got := fmt.Sprint(h.Subscriptions(1, Pattern)); got != tc.want {
				t.Fatalf("patterns %s, want %s", got, tc.want)
			}
		})
	}
	h := newHub(nil)
	for _, c := range []string{"b", "a", "c"} {
		h.Subscribe(1, Channel, c)
	}
	if got := fmt.Sprint(h.Subscriptions(1, Channel)); got != "[a b c]" {
		t.Fatalf("channels %s, want [a b c]", got)
	}
}
