package lua

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestKernelOf checks which numeric for loops get a numKernel: bodies of
// arithmetic and number constants only.
func TestKernelOf(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
		ops  int
	}{
		{"local x = 0 for i = 1, 10 do x = x + i % 7 end", true, 2},
		{"local x = 0.5 for i = 1, 10 do x = x + i * 1.5 end", true, 2},
		{"local x, y = 1, 2 for i = 10, 1, -1 do x = -x + y ^ 2 - i / 3 end", true, 5},
		{"local x for i = 1, 10 do x = 5 end", true, 1},
		{"for i = 1, 10 do end", false, 0},
		{"local x for i = 1, 10 do x = i end", false, 0},            // MOVE
		{"local x for i = 1, 10 do x = 'a' end", false, 0},          // LOADK of a string
		{"local x = 0 for i = 1, 10 do x = x + #'a' end", false, 0}, // LEN
		{"local x = 0 for i = 1, 10 do if i > 3 then x = x + 1 end end", false, 0},
		{"local x = 0 for i = 1, 10 do x = x + math.pi end", false, 0},
		{"local t = {n = 0} for i = 1, 10 do t.n = t.n + 1 end", false, 0},
		{"local x = 0 for i = 1, 10 do for j = 1, 2 do x = x + j end end", true, 1}, // the inner one
	} {
		L := NewState()
		fn, err := L.LoadString(tc.src)
		L.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		var got *numKernel
		for _, k := range fn.Proto.kernels {
			if k != nil {
				got = k
			}
		}
		if (got != nil) != tc.want {
			t.Fatalf("%s: kernel %v, want %v", tc.src, got != nil, tc.want)
		}
		if got != nil && len(got.ops) != tc.ops {
			t.Fatalf("%s: %d ops, want %d", tc.src, len(got.ops), tc.ops)
		}
		for pc, inst := range fn.Proto.Code {
			isK := fn.Proto.kernels != nil && fn.Proto.kernels[pc] != nil
			if fk := int(uint32(fn.Proto.fastCode[pc]) >> 26); (fk == opForLoopK) != isK || isK && int(inst>>26) != OP_FORLOOP {
				t.Fatalf("%s: pc %d: fast opcode %d, kernel %v", tc.src, pc, fk, isK)
			}
		}
	}
	// too many slots: no kernel
	var b strings.Builder
	b.WriteString("local x = 0 for i = 1, 10 do x = x")
	for i := 0; i < maxKernelSlots; i++ {
		fmt.Fprintf(&b, " + %d.5", i)
	}
	b.WriteString(" end")
	L := NewState()
	defer L.Close()
	fn, err := L.LoadString(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if fn.Proto.kernels != nil {
		t.Fatalf("kernel with %d constants", maxKernelSlots)
	}
}

// TestKernelEdges compares loops run by kernels with the generic
// handlers over edge operands (zeros of both signs, NaN, infinities,
// integers around 2^53, non-integers, strings and tables with
// metamethods, which keep the kernel out) and edge loop bounds.
func TestKernelEdges(t *testing.T) {
	bodies := []string{
		"x = x + i %% y",
		"x = x * y - i / y",
		"x = -x + i ^ 2 %% y",
		"x = i %% 7 + x %% y",
		"x = (x + i) %% 512 - y",
		"x = x + 1 x = x * 0.5 + y",
		"x = y %% i",
		"x = y / i * -1 x = x - x",
		"i = i * y x = x + i",
		"x = 3 x = x %% y",
	}
	loops := []string{
		"1, 40", "40, 1, -1", "-1030, -1000", "16380, 16390", "0, 10, 0.5", "1, 3, 0.25",
		"2^53 - 4, 2^53 + 6, 2", "-0, 3", "3, -0, -1", "1, 1", "1, 0", "1, 0/0", "1.5, 9",
		"-1/0, 1, 1/0", "0, 1e300, 1e299",
	}
	vals := []string{"0", "-0", "1", "-1", "7", "-7", "0.5", "-2.5", "16384", "2^53", "2^63",
		"1/0", "-1/0", "0/0", "1e-300", "'3'", "setmetatable({}, {__add = function() return 5 end, __mod = function() return 2 end, __mul = function() return 4 end, __div = function() return 1 end, __unm = function() return 0 end, __sub = function() return 6 end})"}
	var b strings.Builder
	b.WriteString(fastEdgeFormat + "\nlocal out = {}\n")
	for _, body := range bodies {
		for _, v := range vals {
			fmt.Fprintf(&b, "for _, x0 in ipairs({0, -0, 0.5, 1e300}) do local ok, r = pcall(function() local y = %s\n", v)
			for _, l := range loops {
				fmt.Fprintf(&b, "  local x = x0 for i = %s do "+body+" end out[#out+1] = f(x)\n", l)
			}
			b.WriteString("end) if not ok then out[#out+1] = 'err' end end\n")
		}
	}
	b.WriteString("return table.concat(out, ' ')")
	fast, generic := runBothPaths(t, b.String())
	if strings.HasPrefix(fast, "error") || fast != generic {
		i := 0
		for i < len(fast) && i < len(generic) && fast[i] == generic[i] {
			i++
		}
		t.Fatalf("kernel and generic paths differ at %d:\nfast:    %.300s\ngeneric: %.300s", i, fast[i:], generic[i:])
	}
	if n := strings.Count(fast, " ") + 1; n < len(bodies)*len(vals)*len(loops) {
		t.Fatalf("only %d results", n)
	}
}

// TestKernelSteps checks that a loop run by a kernel counts its
// instructions as fastLoop does, and stops at the interrupt check.
func TestKernelSteps(t *testing.T) {
	L := NewState()
	defer L.Close()
	L.SetContext(context.Background())
	before := L.ctxSteps
	// ADD and FORLOOP per iteration: 20000 instructions, and a few
	// around the loop.
	if err := L.DoString("local x = 0 for i = 1, 10000 do x = x + i end return x"); err != nil {
		t.Fatal(err)
	}
	if n := L.ctxSteps - before; n < 20000 || n > 20100 {
		t.Fatalf("counted %d steps", n)
	}
	if got := L.Get(-1).String(); got != "50005000" {
		t.Fatalf("got %s", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	L2 := NewState()
	defer L2.Close()
	L2.SetContext(ctx)
	cancel()
	err := L2.DoString("local x = 0 for i = 1, 1/0 do x = x * 0.5 + i % 3 end")
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("infinite kernel loop: %v", err)
	}
}

// BenchmarkVMKernelMix is a loop with every kernel operation.
func BenchmarkVMKernelMix(b *testing.B) {
	benchVM(b, "local x, y = 0, 3 for i = 1, 1000 do x = -x + i ^ 2 % 7 - i / y * 0.5 end return x")
}
