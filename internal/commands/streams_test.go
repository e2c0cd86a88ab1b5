package commands_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/difftest"
	"github.com/crescent-db/crescent/internal/exec"
	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/server"
)

// harness runs commands straight through the executor at a chosen time,
// exposing the Ctx's Block request.
type harness struct {
	t  testing.TB
	s  *server.Server
	e  *exec.Executor
	cl *command.Client
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	s := newServer(t)
	return &harness{t: t, s: s, e: s.Exec(), cl: command.NewClient(1)}
}

func newServer(t testing.TB) *server.Server {
	t.Helper()
	return difftest.NewCrescent(t)
}

type runOpts struct {
	inScript bool
	retry    bool // a parked command's re-run (Ctx.Retry)
}

func (h *harness) runAt(now int64, o runOpts, args ...string) (string, *command.BlockRequest) {
	h.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return h.runArgv(now, o, argv)
}

func (h *harness) runArgv(now int64, o runOpts, argv [][]byte) (string, *command.BlockRequest) {
	h.t.Helper()
	spec, msg := h.e.Lookup(argv)
	w := resp.NewWriter()
	w.Proto = h.cl.Proto
	if spec == nil {
		w.Error(msg)
		return string(w.Buf), nil
	}
	var l exec.Locks
	h.e.LocksFor(spec, argv, &l)
	h.e.Lock(&l)
	var c command.Ctx
	h.e.NewCtx(&c, h.cl, spec, argv, w, now)
	c.InScript = o.inScript
	c.Retry = o.retry
	h.e.Run(&c)
	h.e.Unlock(&l)
	return string(w.Buf), c.Block
}

func (h *harness) do(now int64, args ...string) string {
	h.t.Helper()
	out, b := h.runAt(now, runOpts{}, args...)
	if b != nil {
		h.t.Fatalf("%v: unexpected block", args)
	}
	return out
}

func TestStreamAutoIDMonotonic(t *testing.T) {
	h := newHarness(t)
	steps := []struct {
		now  int64
		want string
	}{
		{1000, "1000-0"},
		{1000, "1000-1"},
		{999, "1000-2"}, // the clock went backwards
		{5, "1000-3"},
		{1001, "1001-0"},
		{1001, "1001-1"},
	}
	for _, st := range steps {
		got := h.do(st.now, "XADD", "s", "*", "f", "v")
		if got != "$"+itoa(len(st.want))+"\r\n"+st.want+"\r\n" {
			t.Fatalf("at %d: got %q, want %s", st.now, got, st.want)
		}
	}
	if got := h.do(2000, "XADD", "s", "1001-*", "f", "v"); !strings.Contains(got, "1001-2") {
		t.Fatalf("ms-*: %q", got)
	}
	if got := h.do(2000, "XADD", "s", "5000-*", "f", "v"); !strings.Contains(got, "5000-0") {
		t.Fatalf("ms-*: %q", got)
	}
	if got := h.do(2000, "XADD", "s", "*", "f", "v"); !strings.Contains(got, "5000-1") {
		t.Fatalf("* after future ID: %q", got)
	}
	// through the network path too: IDs strictly increase
	_, addr := startStreamsCrescent(t)
	c := dial(t, addr)
	last := ""
	for i := 0; i < 200; i++ {
		_, n := c.do(t, "XADD", "s", "*", "f", "v")
		if last != "" && !idLess(last, n.s) {
			t.Fatalf("%s not after %s", n.s, last)
		}
		last = n.s
	}
}

func idLess(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	if len(am) != len(bm) {
		return len(am) < len(bm)
	}
	if am != bm {
		return am < bm
	}
	if len(as) != len(bs) {
		return len(as) < len(bs)
	}
	return as < bs
}

func TestXReadBlockRequest(t *testing.T) {
	h := newHarness(t)
	now := time.Now().UnixMilli()
	h.do(now, "XADD", "s", "5-1", "a", "1")

	out, b := h.runAt(now, runOpts{}, "XREAD", "BLOCK", "0", "STREAMS", "s", "nokey", "$", "$")
	if out != "" || b == nil {
		t.Fatalf("want a block request, got %q", out)
	}
	if len(b.Keys) != 2 || string(b.Keys[0]) != "s" || string(b.Keys[1]) != "nokey" || !b.Deadline.IsZero() {
		t.Fatalf("block request: %+v", b)
	}
	if got := string(joinArgs(b.Args)); got != "XREAD COUNT 1000 BLOCK 0 STREAMS s nokey 5-1 0-0" {
		t.Fatalf("re-run args: %q", got)
	}
	w := resp.NewWriter()
	b.OnTimeout(w)
	if string(w.Buf) != "*-1\r\n" {
		t.Fatalf("timeout reply %q", w.Buf)
	}
	// nothing new: the re-run blocks again
	if out, b2 := h.runArgv(now, runOpts{retry: true}, b.Args); out != "" || b2 == nil {
		t.Fatalf("re-run without data: %q", out)
	}
	h.do(now, "XADD", "s", "6-1", "b", "2")
	out, b2 := h.runArgv(now, runOpts{retry: true}, b.Args)
	if b2 != nil || out != "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n6-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n" {
		t.Fatalf("re-run after XADD: %q", out)
	}

	// a deadline
	_, b = h.runAt(now, runOpts{}, "XREAD", "COUNT", "2", "BLOCK", "1500", "STREAMS", "s", "$")
	if b == nil || b.Deadline.UnixMilli() != now+1500 || string(joinArgs(b.Args)) != "XREAD COUNT 2 BLOCK 1500 STREAMS s 6-1" {
		t.Fatalf("deadline request: %+v %q", b, joinArgs(b.Args))
	}

	// MULTI and scripts never block
	h.cl.Flags |= command.ClientMulti
	if out, b := h.runAt(now, runOpts{}, "XREAD", "BLOCK", "0", "STREAMS", "s", "$"); b != nil || out != "*-1\r\n" {
		t.Fatalf("in MULTI: %q", out)
	}
	h.cl.Flags &^= command.ClientMulti
	out, b = h.runAt(now, runOpts{inScript: true}, "xread", "BLOCK", "0", "STREAMS", "s", "$")
	if b != nil || out != "-ERR xread command is not allowed with BLOCK option from scripts\r\n" {
		t.Fatalf("in script: %q", out)
	}
	// data available: no block
	if out, b := h.runAt(now, runOpts{}, "XREAD", "BLOCK", "0", "STREAMS", "s", "0"); b != nil || !strings.Contains(out, "5-1") {
		t.Fatalf("served at once: %q", out)
	}
}

func joinArgs(a [][]byte) []byte {
	var out []byte
	for i, x := range a {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, x...)
	}
	return out
}

func TestXReadGroupBlock(t *testing.T) {
	h := newHarness(t)
	now := time.Now().UnixMilli()
	h.do(now, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	_, b := h.runAt(now, runOpts{}, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
	if b == nil || string(joinArgs(b.Args)) != "XREADGROUP COUNT 1000 GROUP g c BLOCK 0 STREAMS s >" {
		t.Fatalf("block request: %+v", b)
	}
	h.do(now, "XADD", "s", "1-1", "a", "1")
	out, b2 := h.runArgv(now, runOpts{retry: true}, b.Args)
	if b2 != nil || !strings.Contains(out, "1-1") {
		t.Fatalf("served after XADD: %q", out)
	}
	if got := h.do(now, "XPENDING", "s", "g"); !strings.Contains(got, "$1\r\nc\r\n$1\r\n1\r\n") {
		t.Fatalf("PEL after blocked read: %q", got)
	}

	// the group is destroyed while blocked
	_, b = h.runAt(now, runOpts{}, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
	h.do(now, "XGROUP", "DESTROY", "s", "g")
	if out, _ := h.runArgv(now, runOpts{retry: true}, b.Args); out != "-NOGROUP the consumer group this client was blocked on no longer exists\r\n" {
		t.Fatalf("destroyed group: %q", out)
	}
	// a fresh call gets the ordinary error
	if out, _ := h.runAt(now, runOpts{}, "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"); !strings.HasPrefix(out, "-NOGROUP No such key 's'") {
		t.Fatalf("fresh call: %q", out)
	}
	// the key is deleted while blocked
	h.do(now, "XGROUP", "CREATE", "s", "g", "$")
	_, b = h.runAt(now, runOpts{}, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
	h.do(now, "DEL", "s")
	if out, _ := h.runArgv(now, runOpts{retry: true}, b.Args); out != "-UNBLOCKED the stream key no longer exists\r\n" {
		t.Fatalf("deleted key: %q", out)
	}
}

func TestStreamPropagationReplay(t *testing.T) {
	src := newHarness(t)
	var mu sync.Mutex
	var log [][][]byte
	src.e.Propagate = func(db int, cmds [][][]byte) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cmds {
			cp := make([][]byte, len(c))
			for i, a := range c {
				cp[i] = append([]byte(nil), a...)
			}
			log = append(log, cp)
		}
	}
	now := int64(1_700_000_000_000)
	script := [][]string{
		{"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"},
		{"XGROUP", "CREATE", "s", "g2", "0"},
	}
	for i := 0; i < 300; i++ {
		script = append(script, []string{"XADD", "s", "*", "f", "v" + itoa(i)})
	}
	script = append(script,
		[]string{"XADD", "s", "MAXLEN", "~", "150", "*", "f", "x"},
		[]string{"XREADGROUP", "GROUP", "g", "c1", "COUNT", "5", "STREAMS", "s", ">"},
		[]string{"XREADGROUP", "GROUP", "g", "c2", "NOACK", "COUNT", "3", "STREAMS", "s", ">"},
		[]string{"XREADGROUP", "GROUP", "g2", "c1", "COUNT", "4", "STREAMS", "s", ">"},
		[]string{"XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"},
		[]string{"XGROUP", "CREATECONSUMER", "s", "g", "c9"},
		[]string{"XCLAIM", "s", "g", "c4", "0", "0-0", "FORCE"},
		[]string{"XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "2"},
		[]string{"XGROUP", "SETID", "s", "g2", "0", "ENTRIESREAD", "0"},
		[]string{"XREADGROUP", "GROUP", "g2", "c2", "COUNT", "2", "STREAMS", "s", ">"},
		[]string{"XTRIM", "s", "MINID", "~", "0"},
		[]string{"XTRIM", "s", "MAXLEN", "~", "20"},
		[]string{"XGROUP", "DELCONSUMER", "s", "g", "c9"},
		[]string{"XSETID", "s", "9999999999999-0", "ENTRIESADDED", "1000"},
	)
	for i, args := range script {
		out, _ := src.runAt(now+int64(i/50), runOpts{}, args...)
		if strings.HasPrefix(out, "-") {
			t.Fatalf("%v: %s", args, out)
		}
	}
	// acknowledge what c1 has, then claim a deleted entry
	first := src.do(now, "XPENDING", "s", "g", "-", "+", "1", "c1")
	if f := strings.Split(first, "\r\n"); len(f) > 3 && f[0] == "*1" {
		if got := src.do(now, "XACK", "s", "g", f[3]); got != ":1\r\n" {
			t.Fatalf("XACK %s: %q", f[3], got)
		}
	} else {
		t.Fatalf("XPENDING: %q", first)
	}
	dst := newHarness(t)
	mu.Lock()
	replay := log
	mu.Unlock()
	seen := map[string]bool{}
	for _, c := range replay {
		line := string(joinArgs(c))
		switch {
		case strings.HasPrefix(line, "XADD s *"), strings.Contains(line, " ~ "), strings.HasPrefix(line, "XREADGROUP"), strings.HasPrefix(line, "XAUTOCLAIM"):
			t.Errorf("not replayable as is: %q", line)
		case strings.HasPrefix(line, "XCLAIM"):
			seen["xclaim"] = true
		case strings.HasPrefix(line, "XGROUP SETID"):
			seen["setid"] = true
		case strings.HasPrefix(line, "XGROUP CREATECONSUMER"):
			seen["createconsumer"] = true
		case strings.HasPrefix(line, "XADD s MAXLEN = "):
			seen["trim"] = true
		}
	}
	if len(seen) != 4 {
		t.Errorf("propagated effects missing: %v", seen)
	}
	for _, c := range replay {
		if out, _ := dst.runArgv(now+10, runOpts{}, c); strings.HasPrefix(out, "-") {
			t.Fatalf("replay %q: %s", joinArgs(c), out)
		}
	}
	for _, q := range [][]string{
		{"XINFO", "STREAM", "s", "FULL", "COUNT", "0"},
		{"XINFO", "GROUPS", "s"},
		{"XPENDING", "s", "g", "-", "+", "100"},
	} {
		a, b := src.do(now+10, q...), dst.do(now+10, q...)
		if q[1] == "STREAM" {
			a, b = maskSeen(a), maskSeen(b)
		}
		if a != b {
			t.Errorf("%v differs after replay:\n source: %q\n replay: %q", q, a, b)
		}
	}
}

// maskSeen blanks consumers' seen-time values (not replicated, as in Redis).
func maskSeen(s string) string {
	parts := strings.Split(s, "seen-time\r\n:")
	for i := 1; i < len(parts); i++ {
		if j := strings.Index(parts[i], "\r\n"); j >= 0 {
			parts[i] = "X" + parts[i][j:]
		}
	}
	return strings.Join(parts, "seen-time\r\n:")
}

// BenchmarkXAdd measures XADD with an explicit ID through the executor.
func BenchmarkXAdd(b *testing.B) {
	h := newHarness(b)
	argv := [][]byte{[]byte("XADD"), []byte("s"), nil, []byte("field"), []byte("value")}
	w := resp.NewWriter()
	spec, _ := h.e.Lookup(argv)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		argv[2] = []byte(itoa(i+1) + "-1")
		w.Reset()
		var l exec.Locks
		h.e.LocksFor(spec, argv, &l)
		h.e.Lock(&l)
		var c command.Ctx
		h.e.NewCtx(&c, h.cl, spec, argv, w, 1)
		h.e.Run(&c)
		h.e.Unlock(&l)
	}
}

// BenchmarkXReadGroup measures delivering one new entry to a consumer.
func BenchmarkXReadGroup(b *testing.B) {
	h := newHarness(b)
	h.do(1, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	for i := 0; i < b.N; i++ {
		h.do(1, "XADD", "s", itoa(i+1)+"-1", "field", "value")
	}
	argv := [][]byte{[]byte("XREADGROUP"), []byte("GROUP"), []byte("g"), []byte("c"), []byte("COUNT"), []byte("1"), []byte("STREAMS"), []byte("s"), []byte(">")}
	w := resp.NewWriter()
	spec, _ := h.e.Lookup(argv)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Reset()
		var l exec.Locks
		h.e.LocksFor(spec, argv, &l)
		h.e.Lock(&l)
		var c command.Ctx
		h.e.NewCtx(&c, h.cl, spec, argv, w, 1)
		h.e.Run(&c)
		h.e.Unlock(&l)
	}
}
