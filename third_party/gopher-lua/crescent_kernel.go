package lua

import "unsafe"

// CRESCENT: numeric for loops run on unboxed floats.
//
// A numeric for loop whose body is only arithmetic (ADD, SUB, MUL, DIV,
// MOD on registers and number constants) and number constants loaded into
// registers (LOADK) is compiled, besides its code, into a numKernel: the
// same instructions on a small array of float64 "slots" (the registers the
// loop names, then the constants). When fastLoop reaches such a FORLOOP
// (opForLoopK in fastCode) it returns it, and mainLoopWithContext runs the
// kernel: it loads the slots from the registers (all must hold numbers,
// else it does nothing and the generic handler runs the FORLOOP as
// before), repeats FORLOOP and the body on the floats, and stores the
// registers the loop writes when it stops, boxed as the VM boxes numbers
// (shared integers, else an allocator slot). Nothing else can observe the
// registers meanwhile: these instructions call nothing and cannot fail on
// numbers. The kernel stops before a FORLOOP that ends the loop or whose
// count would cross a multiple of ctxCheckEvery (as fastLoop does), and
// the generic handler runs that FORLOOP after the interrupt and memory
// checks: SCRIPT KILL, busy scripts and the memory limit see the same
// counts.
//
// The float operations are those of the generic handlers (numberArith,
// luaModulo's a - floor(a/b)*b, FORLOOP's comparisons), so every value,
// -0, NaN, infinities and integers past 2^53 included, is the one the
// instruction-by-instruction run gives.

// numKernel is a loop compiled for runKernel. CRESCENT
type numKernel struct {
	n      uint32    // instructions counted per iteration (FORLOOP's -sBx)
	body   int       // pc of the body's first instruction
	top    int       // 1 + the highest register the loop writes (frame-relative)
	regs   []uint8   // slot i < len(regs) is register regs[i]; 0-3 are FORLOOP's A..A+3
	consts []float64 // slots len(regs)... hold these constants
	ops    []uint32  // kernelOp packed: op (0-7), a<<8, b<<16, c<<24
	wrote  []uint8   // the register slots the loop writes
}

// kernelOp is one body instruction on slots: f[a] = f[b] op f[c].
type kernelOp struct {
	op, a, b, c uint8
}

const (
	kAdd = iota
	kSub
	kMul
	kDiv
	kMod
	kPow
	kUnm  // f[a] = -f[b]
	kMove // f[a] = f[b] (LOADK of a number constant)
)

// maxKernelSlots bounds a kernel's slots (registers and constants).
const maxKernelSlots = 32

// kernelOf returns the kernel of the FORLOOP at pc of proto, or nil when
// its body is not only arithmetic and number constants. CRESCENT
func kernelOf(proto *FunctionProto, pc int) *numKernel {
	inst := proto.Code[pc]
	sbx := int(inst&0x3ffff) - opMaxArgSbx
	body := pc + 1 + sbx
	if sbx >= -1 || body < 0 || pc-body > 64 {
		return nil
	}
	A := int(inst>>18) & 0xff
	k := &numKernel{n: uint32(-sbx), body: body, top: A + 4}
	regSlot := map[int]uint8{}
	constSlot := map[int]uint8{}
	for i := 0; i < 4; i++ {
		regSlot[A+i] = uint8(i)
		k.regs = append(k.regs, uint8(A+i))
	}
	// slots of constants are numbered after all registers: collect first.
	type ref struct {
		reg bool
		i   int
	}
	var refs [][3]ref
	var ops []uint8
	for p := body; p < pc; p++ {
		in := proto.Code[p]
		op := int(in >> 26)
		a := int(in>>18) & 0xff
		var r [3]ref
		r[0] = ref{true, a}
		switch op {
		case OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW, OP_UNM:
			operands := []int{int(in & 0x1ff), int(in>>9) & 0x1ff}
			if op == OP_UNM {
				operands[1] = operands[0]
			}
			for j, x := range operands {
				if x&opBitRk != 0 {
					x &^= opBitRk
					if x >= len(proto.Constants) {
						return nil
					}
					if _, ok := proto.Constants[x].(LNumber); !ok {
						return nil
					}
					r[j+1] = ref{false, x}
				} else {
					r[j+1] = ref{true, x}
				}
			}
			if op == OP_UNM {
				ops = append(ops, kUnm)
			} else {
				ops = append(ops, uint8(kAdd+op-OP_ADD))
			}
		case OP_LOADK:
			x := int(in & 0x3ffff)
			if x >= len(proto.Constants) {
				return nil
			}
			if _, ok := proto.Constants[x].(LNumber); !ok {
				return nil
			}
			r[1] = ref{false, x}
			r[2] = r[1]
			ops = append(ops, kMove)
		default:
			return nil
		}
		if a+1 > k.top {
			k.top = a + 1
		}
		refs = append(refs, r)
	}
	for _, r := range refs {
		for _, x := range r {
			if _, ok := regSlot[x.i]; x.reg && !ok {
				regSlot[x.i] = uint8(len(k.regs))
				k.regs = append(k.regs, uint8(x.i))
			}
		}
	}
	for _, r := range refs {
		for _, x := range r {
			if _, ok := constSlot[x.i]; !x.reg && !ok {
				constSlot[x.i] = uint8(len(k.regs) + len(k.consts))
				k.consts = append(k.consts, float64(proto.Constants[x.i].(LNumber)))
			}
		}
	}
	if len(k.regs)+len(k.consts) > maxKernelSlots {
		return nil
	}
	slot := func(x ref) uint8 {
		if x.reg {
			return regSlot[x.i]
		}
		return constSlot[x.i]
	}
	written := map[uint8]bool{0: true, 3: true}
	k.wrote = []uint8{0, 3}
	for i, r := range refs {
		o := kernelOp{op: ops[i], a: slot(r[0]), b: slot(r[1]), c: slot(r[2])}
		k.ops = append(k.ops, uint32(o.op)|uint32(o.a)<<8|uint32(o.b)<<16|uint32(o.c)<<24)
		if !written[o.a] {
			written[o.a] = true
			k.wrote = append(k.wrote, o.a)
		}
	}
	return k
}

// kernelsOf returns proto's kernels indexed by the pc of their FORLOOP,
// or nil when it has none, and marks those FORLOOPs opForLoopK in fast
// (proto's fastCode). CRESCENT
func kernelsOf(proto *FunctionProto, fast []uint64) []*numKernel {
	var ks []*numKernel
	for pc := 0; pc < len(proto.Code); pc++ {
		inst := proto.Code[pc]
		op := int(inst >> 26)
		if op == OP_CLOSURE {
			pc += int(proto.FunctionPrototypes[inst&0x3ffff].NumUpvalues)
			continue
		}
		if op != OP_FORLOOP {
			continue
		}
		if k := kernelOf(proto, pc); k != nil {
			if ks == nil {
				ks = make([]*numKernel, len(proto.Code))
			}
			ks[pc] = k
			fast[pc] = fast[pc]&^(0x3f<<26) | uint64(opForLoopK)<<26
		}
	}
	return ks
}

// run runs the kernel on the frame's registers at regs from a FORLOOP not
// yet counted, steps being the count before it. It returns the count
// before the FORLOOP it stopped at (not run) and whether it changed
// registers (the registry's top must then cover k.top). CRESCENT
//
// Never inlined: it runs a whole loop per call, so a call costs nothing,
// and profile-guided optimization inlined it into mainLoopWithContext,
// where the VM's registers crowded it (15% more instructions on the
// CPU-heavy script: docs/design/concurrency.md, "Profile-guided
// optimization").
//
//go:noinline
func (k *numKernel) run(al *allocator, regs unsafe.Pointer, steps uint32) (uint32, bool) {
	var f [maxKernelSlots]float64
	nitab := uintptr(numberItab)
	for i, r := range k.regs {
		w := wordsAt(regs, uint32(r))
		if w.itab != nitab {
			return steps, false
		}
		f[i] = *(*float64)(w.word)
	}
	copy(f[len(k.regs):], k.consts)
	ran := false
	for {
		ns := steps + k.n
		if ns^steps >= ctxCheckEvery {
			steps = ns&^(ctxCheckEvery-1) - 1
			break
		}
		step, limit := f[2], f[1]
		idx := f[0] + step
		if !((step > 0 && idx <= limit) || (step <= 0 && idx >= limit)) {
			break
		}
		steps = ns
		ran = true
		f[0], f[3] = idx, idx
		for _, o := range k.ops {
			// slot indexes masked to maxKernelSlots: no bounds checks; eight
			// dense cases: a jump table.
			a, b, c := o>>8&(maxKernelSlots-1), o>>16&(maxKernelSlots-1), o>>24&(maxKernelSlots-1)
			switch o & 7 {
			case kAdd:
				f[a] = f[b] + f[c]
			case kSub:
				f[a] = f[b] - f[c]
			case kMul:
				f[a] = f[b] * f[c]
			case kDiv:
				f[a] = f[b] / f[c]
			case kMod:
				x, y := f[b], f[c]
				f[a] = x - float64(floor(x/y)*y) // luaModulo
			case kPow:
				f[a] = cPow(f[b], f[c]) // glibc's pow
			case kUnm:
				f[a] = -f[b]
			case kMove:
				f[a] = f[b]
			}
		}
	}
	if ran {
		for _, s := range k.wrote {
			*regAt(regs, uint32(k.regs[s])) = al.LNumber2I(LNumber(f[s]))
		}
	}
	return steps, ran
}
