package lua

import (
	"sort"
)

func OpenTable(L *LState) int {
	tabmod := L.RegisterModule(TabLibName, tableFuncs)
	L.Push(tabmod)
	return 1
}

var tableFuncs = map[string]LGFunction{
	"getn":   tableGetN,
	"concat": tableConcat,
	"insert": tableInsert,
	"maxn":   tableMaxN,
	"remove": tableRemove,
	"sort":   tableSort,
}

func tableSort(L *LState) int {
	if true { // CRESCENT: Lua 5.1's sort (crescent_sort.go)
		return tableSort51(L)
	}
	tbl := L.CheckTable(1)
	// CRESCENT: sort t[1..#t] through the table's API (C Lua layout).
	n := tbl.Len()
	values := make([]LValue, n)
	for i := range values {
		values[i] = tbl.RawGetInt(i + 1)
	}
	sorter := lValueArraySorter{L, nil, values}
	if L.GetTop() != 1 {
		sorter.Fn = L.CheckFunction(2)
	}
	sort.Sort(sorter)
	for i, v := range values {
		tbl.RawSetInt(i+1, v)
	}
	return 0
}

func tableGetN(L *LState) int {
	L.Push(LNumber(L.CheckTable(1).Len()))
	return 1
}

func tableMaxN(L *LState) int {
	L.Push(LNumber(L.CheckTable(1).MaxN()))
	return 1
}

// tableRemove is Lua 5.1's tremove. CRESCENT: a position outside 1..#t
// removes nothing and returns nothing.
func tableRemove(L *LState) int {
	tbl := L.CheckTable(1)
	e := tbl.Len()
	pos := L.OptInt(2, e)
	if pos < 1 || pos > e { // position is outside bounds
		return 0 // nothing to remove
	}
	L.Push(tbl.RawGetInt(pos))
	for ; pos < e; pos++ {
		tbl.RawSetInt(pos, tbl.RawGetInt(pos+1))
	}
	tbl.RawSetInt(e, LNil)
	return 1
}

func tableConcat(L *LState) int {
	if true { // CRESCENT: Lua 5.1's tconcat (crescent_mem.go)
		return tableConcat51(L)
	}
	tbl := L.CheckTable(1)
	sep := LString(L.OptString(2, ""))
	i := L.OptInt(3, 1)
	j := L.OptInt(4, tbl.Len())
	if L.GetTop() == 3 {
		if i > tbl.Len() || i < 1 {
			L.Push(emptyLString)
			return 1
		}
	}
	i = intMax(intMin(i, tbl.Len()), 1)
	j = intMin(intMin(j, tbl.Len()), tbl.Len())
	if i > j {
		L.Push(emptyLString)
		return 1
	}
	//TODO should flushing?
	retbottom := L.GetTop()
	for ; i <= j; i++ {
		v := tbl.RawGetInt(i)
		if !LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type().String(), i)
		}
		L.Push(v)
		if i != j {
			L.Push(sep)
		}
	}
	L.Push(stringConcat(L, L.GetTop()-retbottom, L.reg.Top()-1))
	return 1
}

// tableInsert is Lua 5.1's tinsert. CRESCENT: positions past the end
// grow the array, and any other number of arguments than 2 or 3 is an
// error.
func tableInsert(L *LState) int {
	tbl := L.CheckTable(1)
	e := tbl.Len() + 1 // first empty element
	var pos int
	switch L.GetTop() {
	case 2:
		pos = e // insert the new element at the end
	case 3:
		pos = L.CheckCInt(2) // CRESCENT: luaL_checkint
		if pos > e {
			e = pos // grow the array if necessary
		}
		steps := 0
		for i := e; i > pos; i-- { // move up elements
			tbl.RawSetInt(i, tbl.RawGetInt(i-1))
			L.loopStep(&steps) // CRESCENT: stoppable
		}
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	L.RawSetInt(tbl, pos, L.Get(L.GetTop()))
	return 0
}

//
