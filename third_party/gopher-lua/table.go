package lua

// CRESCENT: LTable is a transcription of Lua 5.1.5's ltable.c (upstream
// used Go maps plus an insertion-ordered key list): an array part and a
// hash part of 2^n nodes with C Lua's main positions (luaS_hash for
// strings, hashnum for numbers), collision handling through the `lastfree`
// pointer, and rehash sizing (computesizes). Iteration (next, pairs,
// ForEach) and the length operator (luaH_getn's border search) therefore
// give what C Lua gives for string, number and boolean keys; keys that C
// Lua hashes by address (tables, functions) get a Go address.

import (
	"math"
	"unsafe"
)

const defaultArrayCap = 0
const defaultHashCap = 0

// maxABits is MAXBITS: the array part has at most 2^26 slots.
const maxABits = 26

type lValueArraySorter struct {
	L      *LState
	Fn     *LFunction
	Values []LValue
}

func (lv lValueArraySorter) Len() int {
	return len(lv.Values)
}

func (lv lValueArraySorter) Swap(i, j int) {
	lv.Values[i], lv.Values[j] = lv.Values[j], lv.Values[i]
}

func (lv lValueArraySorter) Less(i, j int) bool {
	if lv.Fn != nil {
		lv.L.Push(lv.Fn)
		lv.L.Push(lv.Values[i])
		lv.L.Push(lv.Values[j])
		lv.L.Call(2, 1)
		return LVAsBool(lv.L.reg.Pop())
	}
	return lessThan(lv.L, lv.Values[i], lv.Values[j])
}

// tnode is a hash node. A nil key (Go nil) marks a free node; a nil value
// (Go nil) an entry whose value was removed (its key stays, as in C).
type tnode struct {
	key  LValue
	val  LValue
	next int32 // index of the next node in the chain, -1 for none
}

func newLTable(acap int, hcap int) *LTable {
	if acap < 0 {
		acap = 0
	}
	if hcap < 0 {
		hcap = 0
	}
	tb := &LTable{Metatable: LNil}
	tb.setArrayVector(acap)
	tb.setNodeVector(hcap)
	return tb
}

func nilToLNil(v LValue) LValue {
	if v == nil {
		return LNil
	}
	return v
}

func isNilValue(v LValue) bool { return v == nil || v == LNil }

// ceilLog2 is ceil(log2(x)) for x >= 1.
func ceilLog2(x uint) int {
	n := 0
	for v := x - 1; v > 0; v >>= 1 {
		n++
	}
	return n
}

func (tb *LTable) sizeNode() int { return len(tb.node) }

func (tb *LTable) setArrayVector(size int) {
	if size <= len(tb.array) {
		return
	}
	na := make([]LValue, size)
	copy(na, tb.array)
	tb.array = na
}

func (tb *LTable) setNodeVector(size int) {
	if size == 0 {
		tb.node = nil
		tb.lastfree = 0
		return
	}
	lsize := ceilLog2(uint(size))
	if lsize > maxABits {
		panic("table overflow")
	}
	n := 1 << lsize
	tb.node = make([]tnode, n)
	for i := range tb.node {
		tb.node[i].next = -1
	}
	tb.lastfree = n
}

// luaStrHash is luaS_hash of Lua 5.1.
func luaStrHash(s string) uint32 {
	l := len(s)
	h := uint32(l)
	step := (l >> 5) + 1
	for l1 := l; l1 >= step; l1 -= step {
		h = h ^ ((h << 5) + (h >> 2) + uint32(s[l1-1]))
	}
	return h
}

func (tb *LTable) hashMod(n uint32) int {
	return int(n % uint32((len(tb.node)-1)|1))
}

func (tb *LTable) hashNum(n float64) int {
	if n == 0 {
		return 0
	}
	b := math.Float64bits(n)
	return tb.hashMod(uint32(b) + uint32(b>>32))
}

func pointerOf(v LValue) uintptr {
	switch x := v.(type) {
	case *LTable:
		return uintptr(unsafe.Pointer(x))
	case *LFunction:
		return uintptr(unsafe.Pointer(x))
	case *LUserData:
		return uintptr(unsafe.Pointer(x))
	case *LState:
		return uintptr(unsafe.Pointer(x))
	}
	return 0
}

// mainPosition is the node index where key belongs (len(node) > 0).
func (tb *LTable) mainPosition(key LValue) int {
	switch k := key.(type) {
	case LNumber:
		return tb.hashNum(float64(k))
	case LString:
		return int(luaStrHash(string(k)) & uint32(len(tb.node)-1))
	case LBool:
		if k {
			return 1 & (len(tb.node) - 1)
		}
		return 0
	}
	return tb.hashMod(uint32(pointerOf(key)))
}

func rawEqualKey(a, b LValue) bool {
	switch x := a.(type) {
	case LNumber:
		y, ok := b.(LNumber)
		return ok && x == y
	case LString:
		y, ok := b.(LString)
		return ok && x == y
	case LBool:
		y, ok := b.(LBool)
		return ok && x == y
	}
	return a == b
}

// arrayIndex is arrayindex: the C int value of an integral number key.
func arrayIndex(key LValue) int {
	if n, ok := key.(LNumber); ok {
		f := float64(n)
		if f >= -2147483648.0 && f <= 2147483647.0 {
			k := int(int32(f))
			if float64(k) == f {
				return k
			}
		}
	}
	return -1
}

// getNode returns the node index holding key, or -1.
func (tb *LTable) getNode(key LValue) int {
	if len(tb.node) == 0 {
		return -1
	}
	for n := tb.mainPosition(key); n >= 0; n = int(tb.node[n].next) {
		if k := tb.node[n].key; k != nil && rawEqualKey(k, key) {
			return n
		}
	}
	return -1
}

func (tb *LTable) getStrNode(key string) int {
	if len(tb.node) == 0 {
		return -1
	}
	return tb.getStrNodeH(key, luaStrHash(key))
}

// getStrNodeH is getStrNode with the key's luaStrHash already known (the
// VM keeps the hashes of a function's string constants). CRESCENT
func (tb *LTable) getStrNodeH(key string, h uint32) int {
	if len(tb.node) == 0 {
		return -1
	}
	for n := int(h & uint32(len(tb.node)-1)); n >= 0; n = int(tb.node[n].next) {
		if k, ok := tb.node[n].key.(LString); ok && string(k) == key {
			return n
		}
	}
	return -1
}

func (tb *LTable) getNumNode(key int) int {
	if len(tb.node) == 0 {
		return -1
	}
	nk := LNumber(key)
	for n := tb.hashNum(float64(key)); n >= 0; n = int(tb.node[n].next) {
		if k, ok := tb.node[n].key.(LNumber); ok && k == nk {
			return n
		}
	}
	return -1
}

// getNum is luaH_getnum.
func (tb *LTable) getNum(key int) LValue {
	if uint(key-1) < uint(len(tb.array)) {
		return nilToLNil(tb.array[key-1])
	}
	if n := tb.getNumNode(key); n >= 0 {
		return nilToLNil(tb.node[n].val)
	}
	return LNil
}

// slot returns where the value of key lives (luaH_set): an array slot
// (ai >= 0) or a node (ni >= 0), creating the key when absent.
func (tb *LTable) slot(key LValue) (ai, ni int) {
	if k := arrayIndex(key); k >= 1 && k <= len(tb.array) {
		return k - 1, -1
	}
	if _, isNum := key.(LNumber); isNum {
		if k := arrayIndex(key); k != -1 {
			if n := tb.getNumNode(k); n >= 0 {
				return -1, n
			}
			return tb.newKey(key)
		}
	}
	if n := tb.getNode(key); n >= 0 {
		return -1, n
	}
	return tb.newKey(key)
}

func (tb *LTable) getFreePos() int {
	for tb.lastfree > 0 {
		tb.lastfree--
		if tb.node[tb.lastfree].key == nil {
			return tb.lastfree
		}
	}
	return -1
}

// newKey is newkey: it inserts key (absent) and returns its slot.
func (tb *LTable) newKey(key LValue) (int, int) {
	if len(tb.node) == 0 {
		tb.rehash(key)
		return tb.slot(key)
	}
	mp := tb.mainPosition(key)
	if !isNilValue(tb.node[mp].val) {
		n := tb.getFreePos()
		if n < 0 {
			tb.rehash(key)
			return tb.slot(key)
		}
		othern := tb.mainPosition(tb.node[mp].key)
		if othern != mp {
			for int(tb.node[othern].next) != mp {
				othern = int(tb.node[othern].next)
			}
			tb.node[othern].next = int32(n)
			tb.node[n] = tb.node[mp]
			tb.node[mp].next = -1
			tb.node[mp].val = nil
		} else {
			tb.node[n].next = tb.node[mp].next
			tb.node[mp].next = int32(n)
			mp = n
		}
	}
	tb.node[mp].key = key
	tb.node[mp].val = nil
	return -1, mp
}

func (tb *LTable) countInt(key LValue, nums []int) int {
	k := arrayIndex(key)
	if k > 0 && k <= 1<<maxABits {
		nums[ceilLog2(uint(k))]++
		return 1
	}
	return 0
}

func (tb *LTable) numUseArray(nums []int) int {
	ause := 0
	i := 1
	for lg, ttlg := 0, 1; lg <= maxABits; lg, ttlg = lg+1, ttlg*2 {
		lc := 0
		lim := ttlg
		if lim > len(tb.array) {
			lim = len(tb.array)
			if i > lim {
				break
			}
		}
		for ; i <= lim; i++ {
			if !isNilValue(tb.array[i-1]) {
				lc++
			}
		}
		nums[lg] += lc
		ause += lc
	}
	return ause
}

func (tb *LTable) numUseHash(nums []int, nasize *int) int {
	total, ause := 0, 0
	for i := len(tb.node) - 1; i >= 0; i-- {
		if !isNilValue(tb.node[i].val) {
			ause += tb.countInt(tb.node[i].key, nums)
			total++
		}
	}
	*nasize += ause
	return total
}

func computeSizes(nums []int, narray *int) int {
	a, na, n := 0, 0, 0
	for i, twotoi := 0, 1; twotoi/2 < *narray; i, twotoi = i+1, twotoi*2 {
		if nums[i] > 0 {
			a += nums[i]
			if a > twotoi/2 {
				n = twotoi
				na = a
			}
		}
		if a == *narray {
			break
		}
	}
	*narray = n
	return na
}

func (tb *LTable) rehash(ek LValue) {
	var nums [maxABits + 1]int
	nasize := tb.numUseArray(nums[:])
	total := nasize
	total += tb.numUseHash(nums[:], &nasize)
	nasize += tb.countInt(ek, nums[:])
	total++
	na := computeSizes(nums[:], &nasize)
	tb.resize(nasize, total-na)
}

func (tb *LTable) resize(nasize, nhsize int) {
	oldarray := tb.array
	oldnode := tb.node
	if nasize > len(oldarray) {
		tb.setArrayVector(nasize)
	}
	tb.setNodeVector(nhsize)
	if nasize < len(oldarray) {
		tb.array = oldarray[:nasize:nasize]
		for i := nasize; i < len(oldarray); i++ {
			if !isNilValue(oldarray[i]) {
				tb.RawSetInt(i+1, oldarray[i])
			}
		}
		na := make([]LValue, nasize)
		copy(na, oldarray)
		tb.array = na
	}
	for i := len(oldnode) - 1; i >= 0; i-- {
		if old := &oldnode[i]; !isNilValue(old.val) {
			tb.RawSet(old.key, old.val)
		}
	}
}

// resizeArray is luaH_resizearray (OP_SETLIST makes room for its items).
func (tb *LTable) resizeArray(nasize int) {
	if nasize > len(tb.array) {
		tb.resize(nasize, len(tb.node))
	}
}

// Len returns length of this LTable without using __len (luaH_getn).
func (tb *LTable) Len() int {
	j := len(tb.array)
	if j > 0 && isNilValue(tb.array[j-1]) {
		i := 0
		for j-i > 1 {
			m := (i + j) / 2
			if isNilValue(tb.array[m-1]) {
				j = m
			} else {
				i = m
			}
		}
		return i
	}
	if len(tb.node) == 0 {
		return j
	}
	return tb.unboundSearch(j)
}

func (tb *LTable) unboundSearch(j int) int {
	i := j
	j++
	for tb.getNum(j) != LNil {
		i = j
		j *= 2
		if j > math.MaxInt32 {
			i = 1
			for tb.getNum(i) != LNil {
				i++
			}
			return i - 1
		}
	}
	for j-i > 1 {
		m := (i + j) / 2
		if tb.getNum(m) == LNil {
			j = m
		} else {
			i = m
		}
	}
	return i
}

// Append appends a given LValue to this LTable (t[#t+1] = value).
func (tb *LTable) Append(value LValue) {
	tb.RawSetInt(tb.Len()+1, value)
}

// Insert inserts a given LValue at position `i` in this table, shifting
// up the elements from i to #t (table.insert).
func (tb *LTable) Insert(i int, value LValue) {
	e := tb.Len() + 1
	if i > e {
		e = i
	}
	for k := e; k > i; k-- {
		tb.RawSetInt(k, tb.getNum(k-1))
	}
	tb.RawSetInt(i, value)
}

// MaxN returns the largest positive integer key (table.maxn).
func (tb *LTable) MaxN() int {
	max := 0
	tb.ForEach(func(k, _ LValue) {
		if n, ok := k.(LNumber); ok && float64(n) > float64(max) {
			max = int(n)
		}
	})
	return max
}

// Remove removes from this table the element at a given position (pos -1:
// the last one), shifting down the following ones (table.remove).
func (tb *LTable) Remove(pos int) LValue {
	e := tb.Len()
	if pos == -1 {
		pos = e
	}
	if e == 0 || pos < 1 || pos > e {
		return LNil
	}
	v := tb.getNum(pos)
	for ; pos < e; pos++ {
		tb.RawSetInt(pos, tb.getNum(pos+1))
	}
	tb.RawSetInt(e, LNil)
	return v
}

func (tb *LTable) setSlot(ai, ni int, value LValue) {
	if value == LNil {
		value = nil
	}
	if ai >= 0 {
		tb.array[ai] = value
	} else {
		tb.node[ni].val = value
	}
}

// RawSet sets a given LValue to a given index without the __newindex metamethod.
func (tb *LTable) RawSet(key LValue, value LValue) {
	if key == nil || key == LNil {
		return
	}
	if n, ok := key.(LNumber); ok && n != n {
		return
	}
	ai, ni := tb.slot(key)
	tb.setSlot(ai, ni, value)
}

// RawSetInt sets a given LValue at a position `key` without the __newindex metamethod.
func (tb *LTable) RawSetInt(key int, value LValue) {
	if uint(key-1) < uint(len(tb.array)) {
		if value == LNil {
			value = nil
		}
		tb.array[key-1] = value
		return
	}
	tb.RawSet(LNumber(key), value)
}

// RawSetString sets a given LValue to a given string index without the __newindex metamethod.
func (tb *LTable) RawSetString(key string, value LValue) {
	if n := tb.getStrNode(key); n >= 0 {
		tb.setSlot(-1, n, value)
		return
	}
	ai, ni := tb.newKey(LString(key))
	tb.setSlot(ai, ni, value)
}

// RawSetH sets a given LValue to a given index without the __newindex metamethod.
func (tb *LTable) RawSetH(key LValue, value LValue) {
	tb.RawSet(key, value)
}

// RawGet returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGet(key LValue) LValue {
	switch k := key.(type) {
	case LString:
		return tb.RawGetString(string(k))
	case LNumber:
		if i := arrayIndex(k); i != -1 {
			return tb.getNum(i)
		}
	case nil, *LNilType:
		return LNil
	}
	if n := tb.getNode(key); n >= 0 {
		return nilToLNil(tb.node[n].val)
	}
	return LNil
}

// RawGetInt returns an LValue at position `key` without __index metamethod.
func (tb *LTable) RawGetInt(key int) LValue {
	return tb.getNum(key)
}

// RawGetH returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGetH(key LValue) LValue {
	return tb.RawGet(key)
}

// rawGetStringH is RawGetString with the key's hash known. CRESCENT
func (tb *LTable) rawGetStringH(key string, h uint32) LValue {
	if n := tb.getStrNodeH(key, h); n >= 0 {
		return nilToLNil(tb.node[n].val)
	}
	return LNil
}

// indexStringH looks key up in tb and, when absent, in the table its
// metatable's __index names (one level, as the globals and library
// proxies of the sandbox are built). ok is false when the lookup needs the
// generic path: no value found, or an __index that is not a table. CRESCENT
func (tb *LTable) indexStringH(key string, h uint32) (LValue, bool) {
	if rt := tb.readThrough; rt != nil {
		if v := rt.rawGetStringH(key, h); v != LNil {
			return v, true
		}
		return nil, false
	}
	if v := tb.rawGetStringH(key, h); v != LNil {
		return v, true
	}
	mt, ok := tb.Metatable.(*LTable)
	if !ok {
		return nil, false
	}
	idx, ok := mt.rawGetStringH("__index", indexHash).(*LTable)
	if !ok {
		return nil, false
	}
	if v := idx.rawGetStringH(key, h); v != LNil {
		return v, true
	}
	return nil, false
}

// SetReadThrough makes the VM's fast paths for constant string keys read
// absent keys of tb straight from t, as if through a metatable whose
// __index is t, skipping tb itself and its metatable (nil turns it off).
// The caller guarantees what makes this exact: tb stays empty (a read-only
// proxy) and its metatable's __index is t for as long as it is set; a key
// absent from t still takes the generic path (t's own metatable). CRESCENT
func (tb *LTable) SetReadThrough(t *LTable) { tb.readThrough = t }

// indexHash is luaStrHash("__index"). CRESCENT
var indexHash = luaStrHash("__index")

// RawGetString returns an LValue associated with a given key without __index metamethod.
func (tb *LTable) RawGetString(key string) LValue {
	if n := tb.getStrNode(key); n >= 0 {
		return nilToLNil(tb.node[n].val)
	}
	return LNil
}

// ForEach iterates over this table of elements, yielding each in turn to a given function.
func (tb *LTable) ForEach(cb func(LValue, LValue)) {
	for i := 0; i < len(tb.array); i++ {
		if !isNilValue(tb.array[i]) {
			cb(LNumber(i+1), tb.array[i])
		}
	}
	for i := 0; i < len(tb.node); i++ {
		if n := &tb.node[i]; !isNilValue(n.val) {
			cb(n.key, n.val)
		}
	}
}

// findIndex is findindex: the iteration position of key, -1 before the
// first; ok is false for a key that is not in the table.
func (tb *LTable) findIndex(key LValue) (int, bool) {
	if key == nil || key == LNil {
		return -1, true
	}
	if i := arrayIndex(key); i > 0 && i <= len(tb.array) {
		return i - 1, true
	}
	if n := tb.getNode(key); n >= 0 {
		return n + len(tb.array), true
	}
	return 0, false
}

// Next is lua_next: the entry after key (LNil: the first one), or LNil,
// LNil at the end or for a key that is not in the table.
func (tb *LTable) Next(key LValue) (LValue, LValue) {
	i, ok := tb.findIndex(key)
	if !ok {
		return LNil, LNil
	}
	for i++; i < len(tb.array); i++ {
		if !isNilValue(tb.array[i]) {
			return LNumber(i + 1), tb.array[i]
		}
	}
	for i -= len(tb.array); i < len(tb.node); i++ {
		if n := &tb.node[i]; !isNilValue(n.val) {
			return n.key, n.val
		}
	}
	return LNil, LNil
}

// ValidNextKey reports whether key may be passed to Next (lua_next raises
// "invalid key to 'next'" otherwise).
func (tb *LTable) ValidNextKey(key LValue) bool {
	_, ok := tb.findIndex(key)
	return ok
}
