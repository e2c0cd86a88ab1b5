package lualib

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The prelude is shared by the Go harness and the capture against a real
// Redis: it renders any Lua value as a deterministic ASCII string (tables
// with sorted keys, strings with decimal escapes, numbers with %.17g) so the
// results of both engines can be compared textually. It must stay on one
// line so that line numbers in error messages are identical.
const prelude = `local function __q(s) local t = {} for i = 1, #s do local b = s:byte(i) if b >= 32 and b < 127 and b ~= 34 and b ~= 92 then t[#t+1] = string.char(b) else t[#t+1] = string.format('\\%03d', b) end end return '"' .. table.concat(t) .. '"' end ` +
	`local __d __d = function(v, lvl) local t = type(v) if t == 'string' then return __q(v) elseif t == 'number' then if v ~= v then return 'nan' elseif v == 1/0 then return 'inf' elseif v == -1/0 then return '-inf' elseif v == 0 and 1/v < 0 then return '-0' end return string.format('%.17g', v) elseif t == 'table' then lvl = lvl or 0 if lvl > 40 then return '{...}' end local ks = {} for k, x in pairs(v) do ks[#ks+1] = {__d(k, lvl+1), __d(x, lvl+1)} end table.sort(ks, function(a, b) return a[1] < b[1] end) local o = {} for i = 1, #ks do o[i] = '[' .. ks[i][1] .. ']=' .. ks[i][2] end return '{' .. table.concat(o, ',') .. '}' elseif t == 'userdata' then if v == cjson.null then return 'null' end return 'userdata' elseif t == 'function' or t == 'thread' then return t end return tostring(v) end ` +
	`local function __run(f) local r = {pcall(f)} local n = table.maxn(r) local o = {} for i = 2, n do o[#o+1] = __d(r[i]) end if r[1] then return 'ok ' .. table.concat(o, ' ') end return 'err ' .. table.concat(o, ' ') end`

func buildScript(snippet string) string {
	return prelude + "\nreturn __run(function()\n" + snippet + "\nend)"
}

type testCase struct {
	name     string
	script   string
	expected string
	hasExp   bool
}

const casesFile = "testdata/cases.txt"

func loadCases(t *testing.T) []testCase {
	t.Helper()
	data, err := os.ReadFile(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []testCase
	var cur *testCase
	inScript := false
	var script []string
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "=== "):
			if cur != nil {
				cases = append(cases, *cur)
			}
			cur = &testCase{name: strings.TrimPrefix(line, "=== ")}
			inScript = true
			script = nil
		case cur != nil && inScript && line == "---":
			cur.script = strings.Join(script, "\n")
			inScript = false
		case cur != nil && inScript:
			script = append(script, line)
		case cur != nil && !cur.hasExp && line != "":
			s, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("case %q: bad expected line %q: %v", cur.name, line, err)
			}
			cur.expected = s
			cur.hasExp = true
		}
	}
	if cur != nil {
		if inScript {
			cur.script = strings.Join(script, "\n")
		}
		cases = append(cases, *cur)
	}
	return cases
}

func writeCases(t *testing.T, cases []testCase) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Test cases for package lualib. Each case is a Lua snippet run as the body\n")
	b.WriteString("# of a function (see buildScript in harness_test.go); the expected line is\n")
	b.WriteString("# the Go-quoted result captured from a real Redis 7.0 server with\n")
	b.WriteString("#   LUALIB_CAPTURE=127.0.0.1:6390 go test -run TestCapture\n\n")
	for _, c := range cases {
		fmt.Fprintf(&b, "=== %s\n%s\n---\n%s\n\n", c.name, c.script, strconv.Quote(c.expected))
	}
	if err := os.WriteFile(casesFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runGopherLua executes a case in a fresh state with the libraries loaded,
// under the chunk name Redis uses for EVAL scripts.
func runGopherLua(script string) (string, error) {
	// A registry large enough for the 8000 stack slots C Lua allows.
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 1024 * 20})
	defer L.Close()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	OpenAll(L)
	fn, err := L.Load(strings.NewReader(script), "user_script")
	if err != nil {
		return "", err
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	return lua.LVAsString(L.Get(-1)), nil
}

func TestCases(t *testing.T) {
	cases := loadCases(t)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.hasExp {
				t.Fatalf("case has no expected output; run the capture")
			}
			got, err := runGopherLua(buildScript(c.script))
			if err != nil {
				t.Fatalf("script failed: %v", err)
			}
			if got != c.expected {
				t.Errorf("script:\n%s\ngot:  %q\nwant: %q", c.script, got, c.expected)
			}
		})
	}
}

// TestCapture refreshes the expected outputs from a real Redis server. It
// only runs when LUALIB_CAPTURE is set to the server's address.
func TestCapture(t *testing.T) {
	addr := os.Getenv("LUALIB_CAPTURE")
	if addr == "" {
		t.Skip("set LUALIB_CAPTURE=host:port to capture expectations from Redis")
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	cases := loadCases(t)
	for i, c := range cases {
		// SCRIPT FLUSH recreates the Lua VM, so each case starts from the
		// default library configuration as in the Go harness.
		fmt.Fprintf(conn, "*2\r\n$6\r\nSCRIPT\r\n$5\r\nFLUSH\r\n")
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
			t.Fatalf("SCRIPT FLUSH: %q %v", line, err)
		}
		script := buildScript(c.script)
		fmt.Fprintf(conn, "*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n", len(script), script)
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch line[0] {
		case '$':
			n, _ := strconv.Atoi(line[1:])
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				t.Fatal(err)
			}
			cases[i].expected = string(buf[:n])
		default:
			cases[i].expected = "REPLY " + line
			t.Errorf("case %q: unexpected reply %q", c.name, line)
		}
		cases[i].hasExp = true
	}
	writeCases(t, cases)
}
