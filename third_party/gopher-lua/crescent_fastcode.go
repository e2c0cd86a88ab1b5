package lua

// CRESCENT: specialized instructions for the VM's fast paths.
//
// FunctionProto.fastCode is a copy of Code (predecoded: see predecode)
// in which fastLoop (vm.go) reads some instructions under internal
// opcodes past opCodeMax, decided
// once at compile time from their operands: arithmetic on two registers,
// or on a register and a constant that is a number. The fast paths then
// skip decoding the RK operands and checking the constant's type. The
// fields of an instruction are unchanged (but opModRKI's C), only its
// opcode differs, and nothing but fastLoop reads fastCode: the generic handlers, the debug
// information and error messages use Code (mainLoopWithContext runs the
// instruction of Code at the same pc when fastLoop cannot complete one).
const (
	// R(A) := R(B) op R(C)
	opAddRR = opCodeMax + 1 + iota
	opSubRR
	opMulRR
	opDivRR
	opModRR
	// R(A) := R(B) op K(C), K(C) a number
	opAddRK
	opSubRK
	opMulRK
	opDivRK
	opModRK
	// R(A) := R(B) % k, k an integer constant in [1, 511] held in the C
	// field itself (not its constant index): an integer path when R(B)
	// is a shared number (alloc.go). The high word of its fastCode entry
	// is modMagic(k), not predecoded offsets.
	opModRKI
	// if (R(B) == K(C)) ~= A then pc++ (and <, <=), K(C) a number
	opEqRK
	opLtRK
	opLeRK
	// FORLOOP of a loop with a numKernel (crescent_kernel.go): fastLoop
	// returns it for mainLoopWithContext to run the kernel.
	opForLoopK
	opFastMax = opForLoopK
)

// The opcode field has 6 bits; fastLoop's switch lists the 64 values.
var _ [63 - opFastMax - 7]struct{}
var _ [opFastMax + 7 - 63]struct{}

// fastCodeOf returns the fast paths' copy of proto's code (see above).
func fastCodeOf(proto *FunctionProto) []uint64 {
	code := make([]uint32, len(proto.Code))
	copy(code, proto.Code)
	isNumK := func(c uint32) bool {
		if c&opBitRk == 0 {
			return false
		}
		idx := int(c &^ opBitRk)
		if idx >= len(proto.Constants) {
			return false
		}
		_, ok := proto.Constants[idx].(LNumber)
		return ok
	}
	for pc := 0; pc < len(code); pc++ {
		inst := code[pc]
		op := int(inst >> 26)
		if op == OP_CLOSURE { // followed by its upvalues' pseudo-instructions
			pc += int(proto.FunctionPrototypes[inst&0x3ffff].NumUpvalues)
			continue
		}
		B, C := inst&0x1ff, (inst>>9)&0x1ff
		var nop int
		switch op {
		case OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD:
			switch {
			case B&opBitRk == 0 && C&opBitRk == 0:
				nop = opAddRR + op - OP_ADD
			case B&opBitRk == 0 && isNumK(C):
				nop = opAddRK + op - OP_ADD
				if op == OP_MOD {
					k := float64(proto.Constants[C&^opBitRk].(LNumber))
					if k >= 1 && k <= 0x1ff && k == float64(int64(k)) {
						nop = opModRKI
						inst = inst&^(0x1ff<<9) | uint32(k)<<9
					}
				}
			}
		case OP_LT, OP_LE, OP_EQ:
			if B&opBitRk == 0 && isNumK(C) {
				nop = opEqRK + op - OP_EQ
			}
		}
		if nop != 0 {
			code[pc] = inst&(1<<26-1) | uint32(nop)<<26
		}
	}
	fast := make([]uint64, len(code))
	for pc, inst := range code {
		if int(inst>>26) == opModRKI {
			fast[pc] = uint64(inst) | uint64(modMagic(inst>>9&0x1ff))<<32
			continue
		}
		fast[pc] = uint64(inst) | predecode(proto.Code[pc])<<32
	}
	return fast
}

// modMagic returns ceil(2^32/k) modulo 2^32 for k in [1, 511]: opModRKI's
// high word. For every a < 2^20, a mod k is ((a*c mod 2^32) * k) >> 32
// (Lemire, Kaser and Kurz, "Faster remainder by direct computation":
// exact when the 32 bits cover a's 20 and k's 9; for k = 1, c is 0 and
// so is the result). fastLoop's operand a = index + 1024(k-1) is below
// 17408 + 1024*510 < 2^20 (TestModMagic checks every pair). Two
// multiplications replace a 64-bit division, which costs tens of cycles
// and pins the dividend and remainder to AX and DX.
func modMagic(k uint32) uint32 {
	return uint32((1<<32 + uint64(k) - 1) / uint64(k))
}

// predecode returns the high word of an instruction of fastCode: for
// JMP and FORPREP, sBx as a 32-bit signed integer; for FORLOOP, A*16 in
// its low 13 bits and sBx in the 19 above (sBx has 18 bits and a sign);
// for the others, A's byte offset in a frame's registers (A*16) in its low 16
// bits and the byte offset of C's register or constant (C&0xff times 16)
// in its high 16 bits. fastLoop's hot cases read these instead of
// shifting and scaling the fields; the low word stays the instruction.
func predecode(inst uint32) uint64 {
	sbx := int(inst&0x3ffff) - opMaxArgSbx
	switch int(inst >> 26) {
	case OP_JMP, OP_FORPREP:
		return uint64(uint32(int32(sbx)))
	case OP_FORLOOP: // A*16 in 13 bits, sBx in the 19 above
		return uint64((inst>>18)&0xff)*16 | uint64(uint32(sbx)<<13)
	}
	const lv = 16 // unsafe.Sizeof(LValue(nil))
	return uint64((inst>>18)&0xff)*lv | uint64((inst>>9)&0xff)*lv<<16
}
