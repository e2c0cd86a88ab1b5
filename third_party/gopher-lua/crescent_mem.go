// CRESCENT: this file is not part of upstream gopher-lua. gopher-lua has no
// allocator hook (C Lua's lua_Alloc), so a script that allocates without
// end would take the whole process down. These limits let the host stop it
// with C Lua's memory error instead: a cap on the strings concatenation
// and table.concat build, and a periodic check run by the VM every
// CheckEvery instructions (the host compares heap growth with its budget).

package lua

// MemoryLimits bound what the code run by a state may allocate.
type MemoryLimits struct {
	// MaxString is the longest string concatenation ('..', table.concat)
	// may build; 0 means no limit.
	MaxString int
	// Reserve, when set, is asked before a string of ReserveMin bytes or
	// more is built ('..', table.concat and gsub as their buffer
	// doubles, the host's string.rep): false means the script's memory
	// budget cannot take n more bytes. Asking costs about as much as
	// copying a few KB, so small strings are left to Check; without it, a
	// loop of big allocations could exhaust the machine between two
	// periodic checks.
	Reserve func(n int) bool
	// ReserveMin is the size from which Reserve is asked; 0 means 1MB.
	ReserveMin int
	// Check is called every CheckEvery instructions; true means out of
	// memory.
	Check func() bool
	// CheckEvery is a power of two; 0 means 1<<16.
	CheckEvery uint32
	// Error is the value raised (without position, not a string so that
	// error handlers can tell it from a script's own errors); nil raises
	// the string "not enough memory".
	Error LValue
}

// SetMemoryLimits installs m (nil removes the limits).
func (ls *LState) SetMemoryLimits(m *MemoryLimits) {
	if m != nil && m.CheckEvery == 0 {
		m.CheckEvery = 1 << 16
	}
	if m != nil && m.ReserveMin <= 0 {
		m.ReserveMin = 1 << 20
	}
	ls.mem = m
	ls.memSteps = 0
}

// MemoryError raises the out-of-memory error of the installed limits.
func (ls *LState) MemoryError() {
	if ls.mem != nil && ls.mem.Error != nil {
		ls.Error(ls.mem.Error, 0)
	}
	ls.Error(LString("not enough memory"), 0)
}

// memStep counts n more instructions and runs the periodic check once
// CheckEvery of them have run.
func (ls *LState) memStep(n uint32) {
	ls.memSteps += n
	if ls.memSteps >= ls.mem.CheckEvery {
		ls.memSteps = 0
		if ls.mem.Check != nil && ls.mem.Check() {
			ls.MemoryError()
		}
	}
}

// checkStringSize raises the memory error when a string of n bytes
// exceeds MaxString or, from ReserveMin bytes, the budget (Reserve).
func (ls *LState) checkStringSize(n int) {
	m := ls.mem
	if m == nil {
		return
	}
	if m.MaxString > 0 && n > m.MaxString {
		ls.MemoryError()
	}
	if n >= m.ReserveMin && m.Reserve != nil && !m.Reserve(n) {
		ls.MemoryError()
	}
}

// checkBuffer is checkStringSize for a buffer that grows to n bytes, asking
// Reserve only each time the buffer has doubled since the last time
// (*asked: the size last asked for).
func (ls *LState) checkBuffer(n int, asked *int) {
	m := ls.mem
	if m == nil {
		return
	}
	if m.MaxString > 0 && n > m.MaxString {
		ls.MemoryError()
	}
	if n >= m.ReserveMin && n >= 2**asked && m.Reserve != nil {
		*asked = n
		if !m.Reserve(n) {
			ls.MemoryError()
		}
	}
}

// tableConcat51 is Lua 5.1's table.concat: values must be strings or
// numbers ("invalid value (nil) at index i in table for 'concat'", as
// Redis's Lua words it), the range
// is not clamped to the table's length, and the result is built in a
// buffer (not on the stack).
func tableConcat51(L *LState) int {
	sep := L.OptString(2, "")
	tbl := L.CheckTable(1)
	i := L.OptCInt(3, 1) // luaL_optint, luaL_checkint
	last := tbl.Len()
	if L.Get(4) != LNil {
		last = L.CheckCInt(4)
	}
	var b []byte
	asked := 0
	add := func(k int) {
		v := tbl.RawGetInt(k)
		if !LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
		switch x := v.(type) {
		case LString:
			b = append(b, x...)
		case LNumber:
			b = AppendNumber(b, float64(x))
		}
		L.checkBuffer(len(b), &asked)
	}
	for ; i < last; i++ {
		add(i)
		b = append(b, sep...)
	}
	if i == last {
		add(i)
	}
	L.Push(LString(b))
	return 1
}

// CheckStringSize raises the memory error unless a string of n bytes may
// be built (MaxString, Reserve), for host functions that build strings.
func (ls *LState) CheckStringSize(n int) { ls.checkStringSize(n) }
