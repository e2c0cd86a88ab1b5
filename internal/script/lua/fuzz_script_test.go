package lua

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/crescent-db/crescent/internal/resp"
	"github.com/crescent-db/crescent/internal/script"
)

// FuzzScript compiles and runs arbitrary source in the sandbox, as EVAL
// does: whatever the bytes, the engine answers with one well-formed reply
// (an error is fine) and never crashes. Runs past 50 ms are killed, as
// SCRIPT KILL would. The VM's fast paths read registers and constants
// without bounds checks (the compiler's bounds make them safe), so this
// also exercises them on odd programs.
func FuzzScript(f *testing.F) {
	for _, s := range []string{
		"return 1",
		"local x = 0 for i = 1, 1000 do x = x + i % 7 end return x",
		"local t = {} for i = 1, 10 do t[i] = i * 1.5 end return t",
		"return redis.call('bulk')",
		"return redis.pcall('err')",
		"local function f(n) if n == 0 then return 0 end return f(n - 1) + 1 end return f(100)",
		"return cjson.encode({a = {1, 2, 3}, b = 'x'})",
		"return cmsgpack.unpack(cmsgpack.pack({1, 'two', {3}}))",
		"local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return {co(1), co(5)}",
		"return string.format('%5.2f %s %d', 3.14159, 'x', 42)",
		"local s = '' for i = 1, 20 do s = s .. string.char(65 + i % 26) end return s:gsub('%u', '%0%0')",
		"return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
		"local a, b, c = 1, 2 return a - -b, c == nil, not c, 7 // 2",
		"return setmetatable({}, {__index = function(t, k) return k .. '!' end}).hello",
		"while true do end",
		"return tostring(0/0), tostring(-0), 2^53 + 1, -7 % 3, 7 % -3, math.huge % 2",
	} {
		f.Add(s)
	}
	e := New(Options{MaxMemory: 64 << 20, MaxString: 16 << 20})
	f.Fuzz(func(t *testing.T, code string) {
		fn, err := e.Compile("user_script", []byte(code))
		if err != nil {
			return
		}
		w := resp.NewWriter()
		r := &script.Run{W: w, Host: &fakeHost{}, Name: "x", Resp: 2}
		m := &script.Monitor{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.Begin(r)
			e.Call(r, fn, [][]byte{[]byte("k1"), []byte("k2")}, [][]byte{[]byte("a1"), []byte("3")})
			m.End(r)
		}()
		deadline := time.After(50 * time.Millisecond)
		for killing := false; ; {
			select {
			case <-done:
			case <-deadline:
				killing = true
				continue
			case <-time.After(10 * time.Millisecond):
				if killing {
					m.Kill(false) // until it lands: the run may not have begun
				}
				continue
			}
			break
		}
		if rest, ok := resp2Reply(w.Buf); !ok || len(rest) != 0 {
			t.Fatalf("%q: not one RESP2 reply: %q", code, w.Buf)
		}
	})
}

// resp2Reply parses one RESP2 reply off b and returns the rest.
func resp2Reply(b []byte) ([]byte, bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if len(b) == 0 || i < 0 {
		return nil, false
	}
	line, rest := b[1:i], b[i+2:]
	switch b[0] {
	case '+', '-':
		return rest, bytes.IndexAny(line, "\r\n") < 0
	case ':':
		_, err := strconv.ParseInt(string(line), 10, 64)
		return rest, err == nil
	case '$':
		n, err := strconv.Atoi(string(line))
		if err != nil || n < -1 {
			return nil, false
		}
		if n == -1 {
			return rest, true
		}
		if len(rest) < n+2 || string(rest[n:n+2]) != "\r\n" {
			return nil, false
		}
		return rest[n+2:], true
	case '*':
		n, err := strconv.Atoi(string(line))
		if err != nil || n < -1 {
			return nil, false
		}
		for ; n > 0; n-- {
			var ok bool
			if rest, ok = resp2Reply(rest); !ok {
				return nil, false
			}
		}
		return rest, true
	}
	return nil, false
}
