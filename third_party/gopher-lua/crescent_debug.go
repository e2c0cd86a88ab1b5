// CRESCENT: this file is not part of upstream gopher-lua. It gives runtime
// errors Lua 5.1's wording, naming the variable involved as ldebug.c does
// ("attempt to index local 't' (a nil value)", "attempt to call field
// 'foo' (a nil value)", "attempt to compare number with nil"): getobjname
// and a symbolic execution of the function's code to find which
// instruction last loaded a register.

package lua

// maxCCalls is LUAI_MAXCCALLS: nested calls through the host (metamethods,
// pcall, sort comparators...) beyond it raise "C stack overflow".
const maxCCalls = 200

// enterCCall counts one call that C Lua makes through luaD_call.
func (ls *LState) enterCCall() {
	ls.nCcalls++
	if ls.nCcalls >= maxCCalls {
		if ls.nCcalls == maxCCalls {
			// luaG_runerror: the position of the running function when
			// it is Lua code (a metamethod), none for a Go caller (pcall)
			ls.runError("C stack overflow")
		}
		if ls.nCcalls >= maxCCalls+maxCCalls>>3 {
			// An error while handling the stack error (LUA_ERRERR).
			ls.raiseError(0, "error in error handling")
		}
	}
}

// typeError raises luaG_typeerror's message for obj, the operand of op
// ("index", "call", "perform arithmetic on", "concatenate", "get length
// of"), found in register reg of the running Lua function (-1: not a
// register).
func (ls *LState) typeError(obj LValue, op string, reg int) {
	t := obj.Type().String()
	if kind, name := ls.regName(reg, obj); kind != "" {
		ls.runError("attempt to %s %s '%s' (a %s value)", op, kind, name, t)
	}
	ls.runError("attempt to %s a %s value", op, t)
}

// indexError raises the error for indexing obj, which is the operand of
// the running instruction when first is set (not an object reached through
// __index).
func (ls *LState) indexError(obj LValue, first bool) {
	reg := -1
	if first {
		reg = ls.operandReg(obj)
	}
	ls.typeError(obj, "index", reg)
}

// orderError raises luaG_ordererror's message.
func (ls *LState) orderError(lhs, rhs LValue) {
	t1, t2 := lhs.Type().String(), rhs.Type().String()
	if t1[2] == t2[2] {
		ls.runError("attempt to compare two %s values", t1)
	}
	ls.runError("attempt to compare %s with %s", t1, t2)
}

// arithError raises luaG_aritherror's message: about the first operand
// that is not convertible to a number.
func (ls *LState) arithError(lhs, rhs LValue) {
	obj := rhs
	if _, ok := toNumberArith(lhs); !ok {
		obj = lhs
	}
	ls.typeError(obj, "perform arithmetic on", ls.operandReg(obj))
}

func toNumberArith(v LValue) (LNumber, bool) {
	switch x := v.(type) {
	case LNumber:
		return x, true
	case LString:
		n, err := parseNumber(string(x))
		return n, err == nil
	}
	return 0, false
}

// operandReg returns the register of the running instruction that holds
// obj, for the instructions whose operand errors name a variable.
func (ls *LState) operandReg(obj LValue) int {
	cf := ls.currentFrame
	if cf == nil || cf.Fn == nil || cf.Fn.IsG || cf.Pc == 0 {
		return -1
	}
	inst := cf.Fn.Proto.Code[cf.Pc-1]
	a, b, c := opGetArgA(inst), opGetArgB(inst), opGetArgC(inst)
	var cands []int
	switch opGetOpCode(inst) {
	case OP_GETTABLE, OP_GETTABLEKS, OP_SELF, OP_UNM, OP_LEN:
		cands = []int{b}
	case OP_SETTABLE, OP_SETTABLEKS, OP_CALL, OP_TAILCALL:
		cands = []int{a}
	case OP_TFORLOOP:
		cands = []int{a}
	case OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW:
		if !opIsK(b) {
			cands = append(cands, b)
		}
		if !opIsK(c) {
			cands = append(cands, c)
		}
	}
	for _, r := range cands {
		if opIsK(r) {
			continue
		}
		if v := ls.reg.Get(cf.LocalBase + r); v == obj || (v.Type() == LTNil && obj.Type() == LTNil) {
			return r
		}
	}
	return -1
}

// regName is getobjname for register reg of the running Lua function
// holding obj.
func (ls *LState) regName(reg int, obj LValue) (string, string) {
	cf := ls.currentFrame
	if reg < 0 || cf == nil || cf.Fn == nil || cf.Fn.IsG || cf.Pc == 0 {
		return "", ""
	}
	return getObjName(cf.Fn.Proto, cf.Pc-1, reg)
}

func getObjName(p *FunctionProto, pc, reg int) (string, string) {
	if name, ok := localName(p, reg+1, pc); ok {
		return "local", name
	}
	i, ok := symbexec(p, pc, reg)
	if !ok {
		return "", ""
	}
	switch opGetOpCode(i) {
	case OP_GETGLOBAL:
		if s, ok := p.Constants[opGetArgBx(i)].(LString); ok {
			return "global", string(s)
		}
	case OP_MOVE, OP_MOVEN:
		a, b := opGetArgA(i), opGetArgB(i)
		if b < a {
			return getObjName(p, pc, b)
		}
	case OP_GETTABLE, OP_GETTABLEKS:
		return "field", kname(p, opGetArgC(i))
	case OP_GETUPVAL:
		if b := opGetArgB(i); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
		return "upvalue", "?"
	case OP_SELF:
		return "method", kname(p, opGetArgC(i))
	}
	return "", ""
}

func kname(p *FunctionProto, c int) string {
	if opIsK(c) {
		if s, ok := p.Constants[opIndexK(c)].(LString); ok {
			return string(s)
		}
	}
	return "?"
}

// localName is luaF_getlocalname: the n-th local active at pc.
func localName(p *FunctionProto, n, pc int) (string, bool) {
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc <= l.EndPc || l.EndPc == 0 {
			n--
			if n == 0 {
				return l.Name, true
			}
		}
	}
	return "", false
}

// symbexec returns the instruction before lastpc that last changed reg,
// following forward jumps that land before lastpc, as Lua 5.1's symbexec
// does.
func symbexec(p *FunctionProto, lastpc, reg int) (uint32, bool) {
	last := -1
	code := p.Code
	for pc := 0; pc < lastpc && pc < len(code); pc++ {
		i := code[pc]
		a := opGetArgA(i)
		switch opGetOpCode(i) {
		case OP_MOVE, OP_MOVEN, OP_LOADK, OP_LOADBOOL, OP_GETUPVAL, OP_GETGLOBAL,
			OP_GETTABLE, OP_GETTABLEKS, OP_NEWTABLE, OP_ADD, OP_SUB, OP_MUL,
			OP_DIV, OP_MOD, OP_POW, OP_UNM, OP_NOT, OP_LEN, OP_CONCAT, OP_TEST,
			OP_TESTSET, OP_VARARG:
			if a == reg {
				last = pc
			}
		case OP_LOADNIL:
			if a <= reg && reg <= opGetArgB(i) {
				last = pc
			}
		case OP_SELF:
			if a == reg || a+1 == reg {
				last = pc
			}
		case OP_CALL, OP_TAILCALL:
			if reg >= a {
				last = pc
			}
		case OP_TFORLOOP:
			if reg >= a+2 {
				last = pc
			}
		case OP_CLOSURE:
			if a == reg {
				last = pc
			}
			if bx := opGetArgBx(i); bx < len(p.FunctionPrototypes) {
				pc += int(p.FunctionPrototypes[bx].NumUpvalues)
			}
		case OP_FORLOOP, OP_FORPREP, OP_JMP:
			if op := opGetOpCode(i); op != OP_JMP && a == reg {
				last = pc
			}
			dest := pc + 1 + opGetArgSbx(i)
			if pc < dest && dest <= lastpc {
				pc += opGetArgSbx(i)
			}
		}
	}
	if last < 0 {
		return 0, false
	}
	return code[last], true
}
