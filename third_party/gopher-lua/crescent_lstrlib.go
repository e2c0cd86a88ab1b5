// CRESCENT: this file is not part of upstream gopher-lua. It is a port of
// Lua 5.1.5's lstrlib.c pattern matcher (MatchState, classEnd,
// singlematch, matchbracketclass, matchbalance, max_expand, min_expand,
// start_capture, end_capture, match_capture, push_captures) and of
// str_find_aux, gmatch and str_gsub, which replace gopher-lua's pm package
// for string.find, string.match, string.gmatch and string.gsub: pm
// compiled patterns with a grammar of its own, which gave other results
// (string.find('abc', '[%a-z]') was nil) and other errors than Lua 5.1
// (the one Redis embeds).
//
// The port keeps C's view of strings: the pattern ends at its first NUL
// byte (it is a C string in lstrlib.c), and reading the subject at its end
// gives the NUL that terminates every Lua string. Two things are added:
// the matcher checks for SCRIPT KILL and the memory limit every
// matchCheckEvery steps (it runs in Go, outside the VM loop that does it
// for Lua code), and its recursion is bounded by matchMaxDepth ("pattern
// too complex"), where C Lua would overflow the C stack and crash Redis.

package lua

import (
	"strconv"
	"strings"
)

const (
	// luaMaxCaptures is LUA_MAXCAPTURES.
	luaMaxCaptures = 32
	// capUnfinished and capPosition are lstrlib.c's CAP_UNFINISHED and
	// CAP_POSITION capture lengths.
	capUnfinished = -1
	capPosition   = -2
	// patternSpecials is lstrlib.c's SPECIALS: a pattern without any of
	// them is searched for as plain text by string.find.
	patternSpecials = "^$*+?.([%-"
	// matchMaxDepth bounds the matcher's recursion (one level per pattern
	// item such as 'a?' or a capture). Redis 7.0 has no bound and crashes
	// on its C stack somewhere between 100,000 and 200,000 levels
	// (string.find(string.rep('a', n), string.rep('a?', n))); the bound
	// keeps every depth Redis answers and turns the crash into an error.
	matchMaxDepth = 120000
	// matchCheckEvery is how many matcher steps run between checks for
	// SCRIPT KILL and the memory limit.
	matchCheckEvery = 1 << 12
)

// luaCapture is one capture of a matchState: its start in the subject and
// its length, or capUnfinished or capPosition.
type luaCapture struct {
	init, len int
}

// matchState is lstrlib.c's MatchState; positions are indexes into src
// and pat.
type matchState struct {
	src     string
	pat     string
	L       *LState
	level   int
	depth   int
	steps   int
	capture [luaMaxCaptures]luaCapture
}

// cPattern is the pattern as lstrlib.c sees it: up to its first NUL.
func cPattern(p string) string {
	if i := strings.IndexByte(p, 0); i >= 0 {
		return p[:i]
	}
	return p
}

// pc is the pattern byte at i, NUL past its end.
func (ms *matchState) pc(i int) byte {
	if i < len(ms.pat) {
		return ms.pat[i]
	}
	return 0
}

// sc is the subject byte at i, NUL at its end (and past it).
func (ms *matchState) sc(i int) byte {
	if i < len(ms.src) {
		return ms.src[i]
	}
	return 0
}

func (ms *matchState) classEnd(p int) int {
	c := ms.pc(p)
	p++
	switch c {
	case '%':
		if ms.pc(p) == 0 {
			ms.L.RaiseError("%s", "malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if ms.pc(p) == '^' {
			p++
		}
		for { // look for a ']'
			if ms.pc(p) == 0 {
				ms.L.RaiseError("malformed pattern (missing ']')")
			}
			c := ms.pc(p)
			p++
			if c == '%' && ms.pc(p) != 0 {
				p++ // skip escapes (e.g. '%]')
			}
			if ms.pc(p) == ']' {
				break
			}
		}
		return p + 1
	default:
		return p
	}
}

// C-locale character classes (Redis runs its Lua with the C locale's
// ctype).
func isAlpha(c byte) bool  { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isLower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isCntrl(c byte) bool  { return c < 32 || c == 127 }
func isPunct(c byte) bool  { return c > 32 && c < 127 && !isAlpha(c) && !isDigit(c) }
func isXDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func matchClass(c, cl byte) bool {
	var res bool
	lower := cl
	if isUpper(cl) {
		lower = cl | 0x20
	}
	switch lower {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = isCntrl(c)
	case 'd':
		res = isDigit(c)
	case 'l':
		res = isLower(c)
	case 'p':
		res = isPunct(c)
	case 's':
		res = isCSpace(c)
	case 'u':
		res = isUpper(c)
	case 'w':
		res = isAlpha(c) || isDigit(c)
	case 'x':
		res = isXDigit(c)
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if isLower(cl) {
		return res
	}
	return !res
}

// matchBracketClass: p is at the '[', ec at the closing ']'.
func (ms *matchState) matchBracketClass(c byte, p, ec int) bool {
	sig := true
	if ms.pc(p+1) == '^' {
		sig = false
		p++ // skip the '^'
	}
	for p++; p < ec; p++ {
		if ms.pc(p) == '%' {
			p++
			if matchClass(c, ms.pc(p)) {
				return sig
			}
		} else if ms.pc(p+1) == '-' && p+2 < ec {
			p += 2
			if ms.pc(p-2) <= c && c <= ms.pc(p) {
				return sig
			}
		} else if ms.pc(p) == c {
			return sig
		}
	}
	return !sig
}

func (ms *matchState) singleMatch(c byte, p, ep int) bool {
	switch ms.pc(p) {
	case '.':
		return true
	case '%':
		return matchClass(c, ms.pc(p+1))
	case '[':
		return ms.matchBracketClass(c, p, ep-1)
	default:
		return ms.pc(p) == c
	}
}

func (ms *matchState) matchBalance(s, p int) int {
	if ms.pc(p) == 0 || ms.pc(p+1) == 0 {
		ms.L.RaiseError("unbalanced pattern")
	}
	if ms.sc(s) != ms.pc(p) {
		return -1
	}
	b, e := ms.pc(p), ms.pc(p+1)
	cont := 1
	for s++; s < len(ms.src); s++ {
		if c := ms.src[s]; c == e {
			if cont--; cont == 0 {
				return s + 1
			}
		} else if c == b {
			cont++
		}
	}
	return -1
}

func (ms *matchState) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(ms.src) && ms.singleMatch(ms.src[s+i], p, ep) {
		i++
	}
	// keeps trying to match with the maximum repetitions
	for ; i >= 0; i-- {
		if res := ms.match(s+i, ep+1); res >= 0 {
			return res
		}
	}
	return -1
}

func (ms *matchState) minExpand(s, p, ep int) int {
	for {
		if res := ms.match(s, ep+1); res >= 0 {
			return res
		} else if s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep) {
			s++ // try with one more repetition
		} else {
			return -1
		}
	}
}

func (ms *matchState) startCapture(s, p, what int) int {
	level := ms.level
	if level >= luaMaxCaptures {
		ms.L.RaiseError("too many captures")
	}
	ms.capture[level] = luaCapture{s, what}
	ms.level = level + 1
	res := ms.match(s, p)
	if res < 0 { // match failed: undo the capture
		ms.level--
	}
	return res
}

func (ms *matchState) endCapture(s, p int) int {
	l := ms.captureToClose()
	ms.capture[l].len = s - ms.capture[l].init // close the capture
	res := ms.match(s, p)
	if res < 0 { // match failed: undo the capture
		ms.capture[l].len = capUnfinished
	}
	return res
}

func (ms *matchState) captureToClose() int {
	for level := ms.level - 1; level >= 0; level-- {
		if ms.capture[level].len == capUnfinished {
			return level
		}
	}
	ms.L.RaiseError("invalid pattern capture")
	return 0
}

func (ms *matchState) checkCapture(l byte) int {
	i := int(l) - '1'
	if i < 0 || i >= ms.level || ms.capture[i].len == capUnfinished {
		ms.L.RaiseError("invalid capture index")
	}
	return i
}

func (ms *matchState) matchCapture(s int, l byte) int {
	c := ms.capture[ms.checkCapture(l)]
	// a position capture's length is negative: size_t in C, never fits
	if c.len >= 0 && len(ms.src)-s >= c.len && ms.src[c.init:c.init+c.len] == ms.src[s:s+c.len] {
		return s + c.len
	}
	return -1
}

// match is lstrlib.c's match: the end of the match of pat[p:] at src[s:],
// or -1.
func (ms *matchState) match(s, p int) int {
	if ms.depth++; ms.depth > matchMaxDepth {
		ms.L.RaiseError("pattern too complex")
	}
	res := ms.matchLoop(s, p)
	ms.depth-- // not on errors: the state is dropped with them
	return res
}

func (ms *matchState) step() {
	if ms.steps++; ms.steps >= matchCheckEvery {
		ms.steps = 0
		if ms.L.stopRequested() {
			ms.L.raiseStopped()
		}
	}
}

func (ms *matchState) matchLoop(s, p int) int {
	for { // C's "goto init" (tail calls)
		ms.step()
		switch ms.pc(p) {
		case '(': // start capture
			if ms.pc(p+1) == ')' { // position capture?
				return ms.startCapture(s, p+2, capPosition)
			}
			return ms.startCapture(s, p+1, capUnfinished)
		case ')': // end capture
			return ms.endCapture(s, p+1)
		case 0: // end of pattern
			return s
		case '%':
			switch c := ms.pc(p + 1); {
			case c == 'b': // balanced string?
				if s = ms.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case c == 'f': // frontier?
				p += 2
				if ms.pc(p) != '[' {
					ms.L.RaiseError("%s", "missing '[' after '%f' in pattern")
				}
				ep := ms.classEnd(p) // points to what is next
				var previous byte
				if s > 0 {
					previous = ms.src[s-1]
				}
				if ms.matchBracketClass(previous, p, ep-1) || !ms.matchBracketClass(ms.sc(s), p, ep-1) {
					return -1
				}
				p = ep
				continue
			case isDigit(c): // capture results (%0-%9)?
				if s = ms.matchCapture(s, c); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		case '$':
			if p+1 == len(ms.pat) { // is the '$' the last char in pattern?
				if s == len(ms.src) {
					return s
				}
				return -1
			}
		}
		// default: a single character class, maybe with a suffix
		ep := ms.classEnd(p) // points to what is next
		m := s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep)
		switch ms.pc(ep) {
		case '?': // optional
			if m {
				if res := ms.match(s+1, ep+1); res >= 0 {
					return res
				}
			}
			p = ep + 1
			continue
		case '*': // 0 or more repetitions
			return ms.maxExpand(s, p, ep)
		case '+': // 1 or more repetitions
			if m {
				return ms.maxExpand(s+1, p, ep)
			}
			return -1
		case '-': // 0 or more repetitions (minimum)
			return ms.minExpand(s, p, ep)
		default:
			if !m {
				return -1
			}
			s++
			p = ep
		}
	}
}

// pushOneCapture pushes capture i of the match src[s:e] (the whole match
// for i == 0 without captures).
func (ms *matchState) pushOneCapture(i, s, e int) {
	ms.L.Push(ms.captureValue(i, s, e))
}

func (ms *matchState) captureValue(i, s, e int) LValue {
	if i >= ms.level {
		if i != 0 {
			ms.L.RaiseError("invalid capture index")
		}
		return LString(ms.src[s:e]) // the whole match
	}
	c := ms.capture[i]
	switch c.len {
	case capUnfinished:
		ms.L.RaiseError("unfinished capture")
	case capPosition:
		return LNumber(c.init + 1)
	}
	return LString(ms.src[c.init : c.init+c.len])
}

// pushCaptures pushes the captures (the whole match src[s:e] if there are
// none and s >= 0) and returns how many it pushed.
func (ms *matchState) pushCaptures(s, e int) int {
	n := ms.level
	if n == 0 && s >= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		ms.pushOneCapture(i, s, e)
	}
	return n
}

// luaiMaxCStack is Lua 5.1's LUAI_MAXCSTACK: how many values a C function
// may have on its stack (luaL_checkstack).
const luaiMaxCStack = 8000

// posRelat is lstrlib.c's posrelat: a negative position counts from the
// end of a string of length n.
func posRelat(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	if pos >= 0 {
		return pos
	}
	return 0
}

// strFindAux is lstrlib.c's str_find_aux: string.find if find, else
// string.match.
func strFindAux(L *LState, find bool) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	init := posRelat(L.OptInt(3, 1), len(s)) - 1
	if init < 0 {
		init = 0
	} else if init > len(s) {
		init = len(s)
	}
	if find && (LVAsBool(L.Get(4)) || !strings.ContainsAny(cPattern(p), patternSpecials)) {
		// do a plain search
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(LNumber(init + i + 1))
			L.Push(LNumber(init + i + len(p)))
			return 2
		}
		L.Push(LNil)
		return 1
	}
	ms := matchState{src: s, pat: cPattern(p), L: L}
	p0 := 0
	anchor := ms.pc(0) == '^'
	if anchor {
		p0 = 1
	}
	for s1 := init; ; s1++ {
		ms.level = 0
		if res := ms.match(s1, p0); res >= 0 {
			if find {
				L.Push(LNumber(s1 + 1)) // start
				L.Push(LNumber(res))    // end
				return ms.pushCaptures(-1, 0) + 2
			}
			return ms.pushCaptures(s1, res)
		}
		if s1 >= len(s) || anchor {
			break
		}
	}
	L.Push(LNil) // not found
	return 1
}

func strFind(L *LState) int  { return strFindAux(L, true) }
func strMatch(L *LState) int { return strFindAux(L, false) }

// gmatchState is the state of a string.gmatch iterator: lstrlib.c keeps
// the subject, the pattern and the next start in the closure's upvalues.
type gmatchState struct {
	src, pat string
	pos      int
}

// strGmatch is lstrlib.c's gmatch: it returns only the iterator.
func strGmatch(L *LState) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	ud := L.NewUserData()
	ud.Value = &gmatchState{src: s, pat: cPattern(p)}
	L.Push(L.NewClosure(gmatchAux, ud))
	return 1
}

// gmatchAux is lstrlib.c's gmatch_aux.
func gmatchAux(L *LState) int {
	st := L.Get(UpvalueIndex(1)).(*LUserData).Value.(*gmatchState)
	ms := matchState{src: st.src, pat: st.pat, L: L}
	for src := st.pos; src <= len(st.src); src++ {
		ms.level = 0
		if e := ms.match(src, 0); e >= 0 {
			st.pos = e
			if e == src { // empty match: go at least one position
				st.pos++
			}
			return ms.pushCaptures(src, e)
		}
	}
	st.pos = len(st.src) + 1
	return 0 // not found
}

// strGsub is lstrlib.c's str_gsub.
func strGsub(L *LState) int {
	src := L.CheckString(1)
	p := cPattern(L.CheckString(2))
	repl := L.Get(3)
	switch repl.(type) {
	case LNumber, LString, *LFunction, *LTable:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	maxS := L.OptCInt(4, len(src)+1) // luaL_optint
	ms := matchState{src: src, pat: p, L: L}
	p0 := 0
	anchor := ms.pc(0) == '^'
	if anchor {
		p0 = 1
	}
	var news string
	if repl.Type() != LTFunction && repl.Type() != LTTable {
		news = LVAsString(repl)
	}
	var b []byte
	asked := 0 // CRESCENT: checkBuffer
	s, n := 0, 0
	for n < maxS {
		ms.level = 0
		e := ms.match(s, p0)
		if e >= 0 {
			n++
			b = ms.addValue(b, repl, news, s, e)
			L.checkBuffer(len(b), &asked)
		}
		if e > s { // non-empty match: skip it
			s = e
		} else if s < len(src) {
			b = append(b, src[s])
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	if n == 0 {
		L.Push(LString(src)) // no match: the subject itself
	} else {
		L.checkBuffer(len(b)+len(src)-s, &asked)
		b = append(b, src[s:]...)
		L.Push(LString(b))
	}
	L.Push(LNumber(n))
	return 2
}

// addS is lstrlib.c's add_s: the replacement string news for the match
// src[s:e], "%d" a capture ("%0" the whole match), '%' before anything
// else that character (a trailing '%' the NUL that ends the C string).
func (ms *matchState) addS(b []byte, news string, s, e int) []byte {
	for i := 0; i < len(news); i++ {
		c := news[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++ // skip ESC
		c = 0
		if i < len(news) {
			c = news[i]
		}
		switch {
		case !isDigit(c):
			b = append(b, c)
		case c == '0':
			b = append(b, ms.src[s:e]...)
		default:
			b = appendCapture(b, ms.captureValue(int(c-'1'), s, e))
		}
	}
	return b
}

// appendCapture appends a capture (a string or a position) as
// luaL_addvalue does.
func appendCapture(b []byte, v LValue) []byte {
	switch x := v.(type) {
	case LString:
		return append(b, x...)
	case LNumber:
		return strconv.AppendInt(b, int64(x), 10)
	}
	return b
}

// addValue is lstrlib.c's add_value: the replacement of the match
// src[s:e] appended to b.
func (ms *matchState) addValue(b []byte, repl LValue, news string, s, e int) []byte {
	L := ms.L
	var v LValue
	switch r := repl.(type) {
	case *LFunction:
		L.Push(r)
		n := ms.pushCaptures(s, e)
		L.Call(n, 1)
		v = L.reg.Pop()
	case *LTable:
		v = L.GetTable(r, ms.captureValue(0, s, e))
	default:
		return ms.addS(b, news, s, e)
	}
	if r, ok := gsubValue(L, v); ok {
		return append(b, r...)
	}
	return append(b, ms.src[s:e]...) // keep the original text
}
