package lua

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// runBothPaths runs src on a state with a context (mainLoopWithContext:
// fastLoop and its specialized instructions) and on one without
// (mainLoop: the generic handlers only), and returns both results as
// strings. CRESCENT
func runBothPaths(t *testing.T, src string) (fast, generic string) {
	t.Helper()
	run := func(withCtx bool) string {
		L := NewState()
		defer L.Close()
		if withCtx {
			L.SetContext(context.Background())
		}
		if err := L.DoString(src); err != nil {
			return "error: " + err.Error()
		}
		return L.Get(-1).String()
	}
	return run(true), run(false)
}

// fastEdgeValues are operands for the arithmetic and comparison fast
// paths: shared integers and their bounds, -0, non-integers, huge
// values, infinities, NaN and strings (coerced by the generic path).
const fastEdgeValues = `{0, -0, 1, -1, 2, 7, -7, 3.5, -3.5, 0.5, -0.5,
	16383, 16384, -1024, -1025, 1e15, -1e15, 2^52, 2^53, 2^53+2, 2^63, -2^63,
	1e300, -1e300, 1/0, -1/0, 0/0, 4.9e-324, "10", " 3 ", "0x10", "abc"}`

// fastEdgeFormat renders a result exactly: numbers with 17 digits and
// the sign of zero (1/v), other values by type.
const fastEdgeFormat = `
local function f(v)
	if type(v) == "number" then
		if v == 0 then return (1/v > 0) and "+0" or "-0" end
		if v ~= v then return "nan" end
		return string.format("%.17g", v)
	end
	return type(v) .. ":" .. tostring(v)
end`

// TestFastArithEdges compares every specialized arithmetic and
// comparison instruction (register-register, register-constant, the
// integer modulo) with the generic handlers over edge operands.
func TestFastArithEdges(t *testing.T) {
	consts := []string{"0", "-0", "1", "-1", "2", "7", "-7", "0.5", "-0.5", "3.25",
		"16383", "16384", "16385", "1e300", "2^53", "(1/0)", "(-1/0)", "(0/0)"}
	var b strings.Builder
	b.WriteString(fastEdgeFormat)
	b.WriteString("\nlocal vals = " + fastEdgeValues + "\nlocal out = {}\n")
	b.WriteString("for i = 1, #vals do local x = vals[i]\n")
	b.WriteString("  for j = 1, #vals do local y = vals[j]\n")
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		fmt.Fprintf(&b, "    do local ok, r = pcall(function() return x %s y end) out[#out+1] = ok and f(r) or 'err' end\n", op)
	}
	for _, op := range []string{"<", "<=", "=="} {
		fmt.Fprintf(&b, "    do local ok, r = pcall(function() if x %s y then return 1 else return 0 end end) out[#out+1] = ok and f(r) or 'err' end\n", op)
	}
	b.WriteString("  end\n")
	for _, k := range consts {
		for _, op := range []string{"+", "-", "*", "/", "%"} {
			fmt.Fprintf(&b, "  do local ok, r = pcall(function() return x %s %s end) out[#out+1] = ok and f(r) or 'err' end\n", op, k)
		}
		for _, op := range []string{"<", "<=", "=="} {
			fmt.Fprintf(&b, "  do local ok, r = pcall(function() if x %s %s then return 1 else return 0 end end) out[#out+1] = ok and f(r) or 'err' end\n", op, k)
		}
	}
	b.WriteString("end\nreturn table.concat(out, ' ')")
	fast, generic := runBothPaths(t, b.String())
	if strings.HasPrefix(fast, "error") || fast != generic {
		t.Fatalf("fast and generic paths differ:\nfast:    %.300s\ngeneric: %.300s", fast, generic)
	}
	if n := strings.Count(fast, " ") + 1; n < 32*32*8 {
		t.Fatalf("only %d results", n)
	}
}

// TestFastModInt checks the integer modulo (opModRKI: a shared integer
// modulo an integer constant in [1, 511]) over the whole shared
// range and past both of its ends, for many divisors, against the
// generic handler (luaModulo's floats).
func TestFastModInt(t *testing.T) {
	var b strings.Builder
	b.WriteString("local out = {}\n")
	for _, k := range []int{1, 2, 3, 5, 7, 8, 10, 13, 100, 127, 255, 256, 500, 511, 512, 1000, 1023, 1024, 4096, 9999, 16383} {
		fmt.Fprintf(&b, "do local s, n = 0, 0 for i = -1100, 16500 do local m = i %% %d s = s + m * i n = n + m end out[#out+1] = s .. ':' .. n end\n", k)
		fmt.Fprintf(&b, "do local s = 0 for i = -1100.5, 16500, 3 do s = s + (i %% %d) end out[#out+1] = s end\n", k)
	}
	b.WriteString("return table.concat(out, ' ')")
	fast, generic := runBothPaths(t, b.String())
	if strings.HasPrefix(fast, "error") || fast != generic {
		t.Fatalf("fast and generic paths differ:\nfast:    %s\ngeneric: %s", fast, generic)
	}
	// and the Go formula directly, for every shared integer.
	for _, k := range []int{1, 7, 511} {
		for i := sharedMin; i <= sharedMax; i++ {
			m := i % k
			if m < 0 {
				m += k
			}
			if want := float64(luaModulo(LNumber(i), LNumber(k))); float64(m) != want {
				t.Fatalf("%d %% %d: %d, luaModulo %v", i, k, m, want)
			}
		}
	}
}

// TestModMagic checks opModRKI's remainder by multiplications against
// Go's % for every divisor in [1, 511] and every shared integer, with
// the operand fastLoop gives it (the index plus 1024(k-1)).
func TestModMagic(t *testing.T) {
	for k := uint64(1); k <= 0x1ff; k++ {
		c := uint64(modMagic(uint32(k)))
		for idx := uint64(0); idx < uint64(len(sharedNumbers)); idx++ {
			a := idx + uint64(-sharedMin)*(k-1)
			if got, want := (uint64(uint32(a*c))*k)>>32, a%k; got != want {
				t.Fatalf("k %d, index %d: %d, want %d", k, idx, got, want)
			}
		}
	}
}

// TestFastCodeOf checks which instructions are specialized, and that
// the specialized copy differs from Code only in opcodes.
func TestFastCodeOf(t *testing.T) {
	L := NewState()
	defer L.Close()
	fn, err := L.LoadString(`local x, y = ... x = x + y x = x % 7 x = x % 7.5 x = x % -7 x = x % 512
		x = x - 1 x = 1 - x x = x * "2" if x < 3 then x = 0 end if x == y then x = 1 end return x`)
	if err != nil {
		t.Fatal(err)
	}
	p := fn.Proto
	seen := map[int]int{}
	for pc, inst := range p.Code {
		f := uint32(p.fastCode[pc])
		want := predecode(inst)
		if int(f>>26) == opModRKI {
			want = uint64(modMagic(f >> 9 & 0x1ff))
		}
		if hi := p.fastCode[pc] >> 32; hi != want {
			t.Fatalf("pc %d: predecoded %x, want %x", pc, hi, want)
		}
		if int(f>>26) == opModRKI { // C holds the divisor
			if k := p.Constants[inst>>9&0xff]; k.String() != fmt.Sprint(f>>9&0x1ff) {
				t.Fatalf("pc %d: divisor %d for %v", pc, f>>9&0x1ff, k)
			}
			f, inst = f&^(0x1ff<<9), inst&^(0x1ff<<9)
		}
		if f&(1<<26-1) != inst&(1<<26-1) {
			t.Fatalf("pc %d: fields changed: %08x -> %08x", pc, inst, f)
		}
		seen[int(f>>26)]++
	}
	if seen[opAddRR] != 1 || seen[opModRKI] != 1 || seen[opModRK] != 3 || seen[opSubRK] != 1 ||
		seen[OP_SUB] != 1 || seen[OP_MUL] != 1 || seen[opLtRK] != 1 || seen[OP_EQ] != 1 {
		t.Fatalf("specialized opcodes: %v", seen)
	}
}

// TestFastForLoop compares numeric for loops (the integer path on shared
// numbers, the float path and the loop's end, both directions, at and
// past the shared range's ends) with the generic handlers.
func TestFastForLoop(t *testing.T) {
	loops := []string{
		"-1030, 16390", "16390, -1030, -1", "-1024, 16383", "16383, -1024, -1",
		"0, 10, 0.5", "1, 5, 1.5", "1, 3, 0", "1, 0/0", "0/0, 1", "1, 10, 0/0",
		"16380, 16400, 3", "-1020, -1040, -7", "0, 20000, 8000", "-1024, 16383, 17407",
		"16383, -1024, -17407", "2^53, 2^53+10", "-0, 3", "3, -0, -1", "1, 1", "1, 0",
		"1, 2^31", "-2^31, -2^31+5", "1.5, 9", "1, 1/0", "-1/0, 1", "5, -1/0, -1",
		"1, '3'", "'1', 3", "1, 3, '1'", "1, {}", "1, nil",
	}
	var b strings.Builder
	b.WriteString(fastEdgeFormat + "\nlocal out = {}\n")
	for _, l := range loops {
		fmt.Fprintf(&b, `do
	local ok, r = pcall(function()
		local s, n, last = 0, 0, nil
		for i = %s do
			s = s + i * (n %% 5 + 1) n = n + 1 last = i
			if n >= 30000 then break end
		end
		return f(s) .. "/" .. n .. "/" .. f(last)
	end)
	out[#out+1] = tostring(ok) .. ":" .. tostring(r)
end
`, l)
	}
	// the loop variable changed in the body does not change the loop
	b.WriteString(`do local n = 0 for i = 1, 100 do i = i * 1.5 n = n + i end out[#out+1] = f(n) end
do local n = 0 for i = 1, 100 do i = "x" n = n + 1 end out[#out+1] = f(n) end
return table.concat(out, " ")`)
	fast, generic := runBothPaths(t, b.String())
	if strings.HasPrefix(fast, "error") || fast != generic {
		t.Fatalf("fast and generic paths differ:\nfast:    %s\ngeneric: %s", fast, generic)
	}
	if strings.Count(fast, "true:") < 25 {
		t.Fatalf("too few loops ran: %s", fast)
	}
}

// TestFastLoopSteps checks the step count of fastLoop (counted at
// backward jumps): loops of every shape reach the interrupt check, and a
// loop's count is its instructions.
func TestFastLoopSteps(t *testing.T) {
	for _, src := range []string{
		"while true do end",
		"repeat local x = 1 until false",
		"for i = 1, 1e300 do end",
		"local i = 0 while true do i = i + 1 if i < 0 then break end end",
		"local x = 0 for i = 1, 1e300 do x = x + i % 7 end",
		"local x = 0.5 for i = 1, 1e300 do x = x * 1.5 - i / 3 end",
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		L := NewState()
		L.SetContext(ctx)
		err := L.DoString(src)
		L.Close()
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("%q: %v", src, err)
		}
	}
	L := NewState()
	defer L.Close()
	L.SetContext(context.Background())
	before := L.ctxSteps
	// MOVE and FORLOOP per iteration: 20000 instructions, and a few
	// around the loop.
	if err := L.DoString("local a for i = 1, 10000 do a = i end"); err != nil {
		t.Fatal(err)
	}
	if n := L.ctxSteps - before; n < 20000 || n > 20100 {
		t.Fatalf("counted %d steps", n)
	}
}

// fastFuzzChunk returns a function of two numbers exercising the
// specialized instructions (register-register, register-constant, the
// integer modulo, comparisons with constants) and an integer for loop.
const fastFuzzChunk = fastEdgeFormat + `
return function(x, y)
	local out = {f(x + y), f(x - y), f(x * y), f(x / y), f(x % y),
		f(x + 3), f(x - 3), f(x * 0.5), f(x / 7), f(x % 7), f(x % 512), f(x % 513), f(x % -3), f(x % 0.25),
		tostring(x < y), tostring(x <= y), tostring(x == y), tostring(x < 100), tostring(x <= -0), tostring(x == 7)}
	local s, n = 0, 0
	if x == x and y == y and math.abs(x) < 1e6 and math.abs(y) < 1e6 then
		for i = x, x + 40, (y % 5) - 2 do s = s + i n = n + 1 if n > 100 then break end end
	end
	out[#out+1] = f(s) .. "/" .. n
	local t = x -- a loop run by a numKernel (crescent_kernel.go)
	for i = 1, 20 do t = t * 0.5 + i % 7 - y / 3 + x % y - -i ^ 0.5 end
	out[#out+1] = f(t)
	return table.concat(out, " ")
end`

// FuzzFastPaths compares fastLoop's specialized instructions with the
// generic handlers on arbitrary numbers.
func FuzzFastPaths(f *testing.F) {
	for _, p := range [][2]float64{{0, 0}, {-7, 7}, {16383, 1}, {-1024, -1}, {1e300, 1e-300}, {0.5, -0.5}, {3, 0}} {
		f.Add(p[0], p[1])
	}
	fns := make([]*LFunction, 2)
	states := make([]*LState, 2)
	for i := range states {
		L := NewState()
		if i == 0 {
			L.SetContext(context.Background())
		}
		if err := L.DoString(fastFuzzChunk); err != nil {
			f.Fatal(err)
		}
		fns[i] = L.Get(-1).(*LFunction)
		L.Pop(1)
		states[i] = L
	}
	f.Fuzz(func(t *testing.T, x, y float64) {
		var got [2]string
		for i, L := range states {
			if err := L.CallByParam(P{Fn: fns[i], NRet: 1, Protect: true}, LNumber(x), LNumber(y)); err != nil {
				t.Fatal(err)
			}
			got[i] = L.Get(-1).String()
			L.Pop(1)
		}
		if got[0] != got[1] {
			t.Fatalf("%v, %v:\nfast:    %s\ngeneric: %s", x, y, got[0], got[1])
		}
	})
}
