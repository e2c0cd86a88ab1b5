package lua

// AssignsUpvalue reports whether the code of fp or of any function nested
// in it assigns an upvalue (OP_SETUPVAL). A CLOSURE's pseudo-instructions
// are MOVE or GETUPVAL, never SETUPVAL, so a plain scan is exact.
func (fp *FunctionProto) AssignsUpvalue() bool {
	for _, inst := range fp.Code {
		if opGetOpCode(inst) == OP_SETUPVAL {
			return true
		}
	}
	for _, p := range fp.FunctionPrototypes {
		if p.AssignsUpvalue() {
			return true
		}
	}
	return false
}
