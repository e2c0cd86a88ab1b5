package luasyntax

import (
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Limits of Lua 5.1 as Redis builds it (luaconf.h).
const (
	maxVars     = 200 // LUAI_MAXVARS
	maxUpvalues = 60  // LUAI_MAXUPVALUES
	maxCCalls   = 200 // LUAI_MAXCCALLS
)

func str2d(s string) bool {
	_, ok := glua.Str2Number(s)
	return ok
}

// Check parses src as the Lua 5.1 chunk named chunk (as luaO_chunkid
// prints it: "user_script", `[string "..."]`) and returns C Lua's message
// for its first syntax error, or nil. baseCalls is the C call depth the
// parser starts at (0 for EVAL's compile).
func Check(src, chunk string, baseCalls int) (err error) {
	ls := &lexer{src: src, line: 1, chunk: chunk, nCcalls: baseCalls}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	ls.next()
	p := &parser{ls: ls}
	p.openFunc(0)
	p.fs.vararg = true
	ls.nextToken()
	p.chunk()
	p.check(tkEOS)
	return nil
}

// variable is a declared local.
type variable struct{ name string }

type blockCnt struct {
	prev      *blockCnt
	nactvar   int
	breakable bool
}

type funcState struct {
	prev       *funcState
	line       int // linedefined
	vararg     bool
	actvar     []*variable // active locals, innermost last
	nactvar    int
	bl         *blockCnt
	upvals     []*variable
	upvalNames map[*variable]bool
}

type parser struct {
	ls *lexer
	fs *funcState
}

// expression kinds the checks need (lparser.h's expkind, reduced).
const (
	vOther = iota
	vLocal
	vUpval
	vGlobal
	vIndexed
	vCall
	vNil
)

func (p *parser) openFunc(line int) {
	p.fs = &funcState{prev: p.fs, line: line}
}

func (p *parser) closeFunc() { p.fs = p.fs.prev }

func (p *parser) errorLimit(limit int, what string) {
	var msg string
	if p.fs.line == 0 {
		msg = "main function has more than " + strconv.Itoa(limit) + " " + what
	} else {
		msg = "function at line " + strconv.Itoa(p.fs.line) + " has more than " + strconv.Itoa(limit) + " " + what
	}
	p.ls.lexError(msg, 0)
}

func (p *parser) checkLimit(v, limit int, what string) {
	if v > limit {
		p.errorLimit(limit, what)
	}
}

func (p *parser) errorExpected(tok int) {
	p.ls.syntaxError("'" + token2str(tok) + "' expected")
}

func (p *parser) testNext(c int) bool {
	if p.ls.t.tok == c {
		p.ls.nextToken()
		return true
	}
	return false
}

func (p *parser) check(c int) {
	if p.ls.t.tok != c {
		p.errorExpected(c)
	}
}

func (p *parser) checkNext(c int) {
	p.check(c)
	p.ls.nextToken()
}

func (p *parser) checkMatch(what, who, where int) {
	if !p.testNext(what) {
		if where == p.ls.line {
			p.errorExpected(what)
		}
		p.ls.syntaxError("'" + token2str(what) + "' expected (to close '" + token2str(who) +
			"' at line " + strconv.Itoa(where) + ")")
	}
}

func (p *parser) strCheckName() string {
	p.check(tkName)
	s := p.ls.t.text
	p.ls.nextToken()
	return s
}

func (p *parser) enterLevel() {
	p.ls.nCcalls++
	if p.ls.nCcalls > maxCCalls {
		p.ls.lexError("chunk has too many syntax levels", 0)
	}
}

func (p *parser) leaveLevel() { p.ls.nCcalls-- }

func blockFollow(tok int) bool {
	switch tok {
	case tkElse, tkElseif, tkEnd, tkUntil, tkEOS:
		return true
	}
	return false
}

// newLocalVar declares the n-th pending local of a statement.
func (p *parser) newLocalVar(name string, n int) *variable {
	fs := p.fs
	p.checkLimit(fs.nactvar+n+1, maxVars, "local variables")
	v := &variable{name: name}
	fs.actvar = append(fs.actvar[:fs.nactvar+n], v)
	return v
}

func (p *parser) adjustLocalVars(n int) { p.fs.nactvar += n }

func (p *parser) removeVars(to int) {
	p.fs.nactvar = to
	p.fs.actvar = p.fs.actvar[:to]
}

func (p *parser) enterBlock(bl *blockCnt, breakable bool) {
	bl.breakable = breakable
	bl.nactvar = p.fs.nactvar
	bl.prev = p.fs.bl
	p.fs.bl = bl
}

func (p *parser) leaveBlock() {
	bl := p.fs.bl
	p.fs.bl = bl.prev
	p.removeVars(bl.nactvar)
}

// singleVar resolves a name: local, upvalue (counted against the limit)
// or global.
func (p *parser) singleVar(name string) int {
	return p.singleVarAux(p.fs, name, true)
}

func (p *parser) singleVarAux(fs *funcState, name string, base bool) int {
	if fs == nil {
		return vGlobal
	}
	for i := fs.nactvar - 1; i >= 0; i-- {
		if fs.actvar[i].name == name {
			return vLocal
		}
	}
	if p.singleVarAux(fs.prev, name, false) == vGlobal {
		return vGlobal
	}
	// An upvalue of fs: find which declaration it is.
	v := p.resolve(fs.prev, name)
	if fs.upvalNames == nil {
		fs.upvalNames = map[*variable]bool{}
	}
	if !fs.upvalNames[v] {
		saved := p.fs
		p.fs = fs
		p.checkLimit(len(fs.upvals)+1, maxUpvalues, "upvalues")
		p.fs = saved
		fs.upvalNames[v] = true
		fs.upvals = append(fs.upvals, v)
	}
	return vUpval
}

// resolve returns the declaration name refers to from fs (a local of fs
// or of an enclosing function).
func (p *parser) resolve(fs *funcState, name string) *variable {
	for ; fs != nil; fs = fs.prev {
		for i := fs.nactvar - 1; i >= 0; i-- {
			if fs.actvar[i].name == name {
				return fs.actvar[i]
			}
		}
	}
	return nil
}

func (p *parser) chunk() {
	islast := false
	p.enterLevel()
	for !islast && !blockFollow(p.ls.t.tok) {
		islast = p.statement()
		p.testNext(';')
	}
	p.leaveLevel()
}

func (p *parser) block() {
	var bl blockCnt
	p.enterBlock(&bl, false)
	p.chunk()
	p.leaveBlock()
}

func (p *parser) statement() bool {
	ls := p.ls
	line := ls.line
	switch ls.t.tok {
	case tkIf:
		p.ifStat(line)
	case tkWhile:
		p.whileStat(line)
	case tkDo:
		ls.nextToken()
		p.block()
		p.checkMatch(tkEnd, tkDo, line)
	case tkFor:
		p.forStat(line)
	case tkRepeat:
		p.repeatStat(line)
	case tkFunction:
		p.funcStat(line)
	case tkLocal:
		ls.nextToken()
		if p.testNext(tkFunction) {
			p.localFunc()
		} else {
			p.localStat()
		}
	case tkReturn:
		ls.nextToken()
		p.retStat()
		return true
	case tkBreak:
		ls.nextToken()
		p.breakStat()
		return true
	default:
		p.exprStat()
	}
	return false
}

func (p *parser) testThenBlock() {
	p.ls.nextToken()
	p.expr()
	p.checkNext(tkThen)
	p.block()
}

func (p *parser) ifStat(line int) {
	p.testThenBlock()
	for p.ls.t.tok == tkElseif {
		p.testThenBlock()
	}
	if p.ls.t.tok == tkElse {
		p.ls.nextToken()
		p.block()
	}
	p.checkMatch(tkEnd, tkIf, line)
}

func (p *parser) whileStat(line int) {
	p.ls.nextToken()
	p.expr()
	var bl blockCnt
	p.enterBlock(&bl, true)
	p.checkNext(tkDo)
	p.block()
	p.checkMatch(tkEnd, tkWhile, line)
	p.leaveBlock()
}

func (p *parser) repeatStat(line int) {
	var bl1, bl2 blockCnt
	p.enterBlock(&bl1, true)
	p.enterBlock(&bl2, false)
	p.ls.nextToken()
	p.chunk()
	p.checkMatch(tkUntil, tkRepeat, line)
	p.expr()
	p.leaveBlock()
	p.leaveBlock()
}

func (p *parser) forStat(line int) {
	var bl blockCnt
	p.enterBlock(&bl, true)
	p.ls.nextToken()
	name := p.strCheckName()
	switch p.ls.t.tok {
	case '=':
		p.forNum(name)
	case ',', tkIn:
		p.forList(name)
	default:
		p.ls.syntaxError("'=' or 'in' expected")
	}
	p.checkMatch(tkEnd, tkFor, line)
	p.leaveBlock()
}

func (p *parser) forNum(name string) {
	p.newLocalVar("(for index)", 0)
	p.newLocalVar("(for limit)", 1)
	p.newLocalVar("(for step)", 2)
	p.newLocalVar(name, 3)
	p.checkNext('=')
	p.expr()
	p.checkNext(',')
	p.expr()
	if p.testNext(',') {
		p.expr()
	}
	p.forBody(1)
}

func (p *parser) forList(name string) {
	nvars := 0
	p.newLocalVar("(for generator)", nvars)
	nvars++
	p.newLocalVar("(for state)", nvars)
	nvars++
	p.newLocalVar("(for control)", nvars)
	nvars++
	p.newLocalVar(name, nvars)
	nvars++
	for p.testNext(',') {
		p.newLocalVar(p.strCheckName(), nvars)
		nvars++
	}
	p.checkNext(tkIn)
	p.explist1()
	p.forBody(nvars - 3)
}

func (p *parser) forBody(nvars int) {
	p.adjustLocalVars(3)
	p.checkNext(tkDo)
	var bl blockCnt
	p.enterBlock(&bl, false)
	p.adjustLocalVars(nvars)
	p.block()
	p.leaveBlock()
}

func (p *parser) funcStat(line int) {
	p.ls.nextToken()
	needSelf := p.funcName()
	p.body(needSelf, line)
}

func (p *parser) funcName() bool {
	p.singleVar(p.strCheckName())
	for p.ls.t.tok == '.' {
		p.field()
	}
	if p.ls.t.tok == ':' {
		p.field()
		return true
	}
	return false
}

func (p *parser) field() {
	p.ls.nextToken()
	p.strCheckName()
}

func (p *parser) localFunc() {
	p.newLocalVar(p.strCheckName(), 0)
	p.adjustLocalVars(1)
	p.body(false, p.ls.line)
}

func (p *parser) localStat() {
	nvars := 0
	for {
		p.newLocalVar(p.strCheckName(), nvars)
		nvars++
		if !p.testNext(',') {
			break
		}
	}
	if p.testNext('=') {
		p.explist1()
	}
	p.adjustLocalVars(nvars)
}

func (p *parser) retStat() {
	if blockFollow(p.ls.t.tok) || p.ls.t.tok == ';' {
		return
	}
	p.explist1()
}

func (p *parser) breakStat() {
	bl := p.fs.bl
	for bl != nil && !bl.breakable {
		bl = bl.prev
	}
	if bl == nil {
		p.ls.syntaxError("no loop to break")
	}
}

func (p *parser) exprStat() {
	k := p.primaryExp()
	if k == vCall {
		return
	}
	p.assignment(k, 1)
}

func (p *parser) assignment(k, nvars int) {
	if k < vLocal || k > vIndexed {
		p.ls.syntaxError("syntax error")
	}
	if p.testNext(',') {
		nk := p.primaryExp()
		p.checkLimit(nvars, maxCCalls-p.ls.nCcalls, "variables in assignment")
		p.assignment(nk, nvars+1)
		return
	}
	p.checkNext('=')
	p.explist1()
}

func (p *parser) body(needSelf bool, line int) {
	p.openFunc(line)
	p.checkNext('(')
	if needSelf {
		p.newLocalVar("self", 0)
		p.adjustLocalVars(1)
	}
	p.parList()
	p.checkNext(')')
	p.chunk()
	p.checkMatch(tkEnd, tkFunction, line)
	p.closeFunc()
}

func (p *parser) parList() {
	fs := p.fs
	nparams := 0
	if p.ls.t.tok != ')' {
		for {
			switch p.ls.t.tok {
			case tkName:
				p.newLocalVar(p.strCheckName(), nparams)
				nparams++
			case tkDots:
				p.ls.nextToken()
				fs.vararg = true
			default:
				p.ls.syntaxError("<name> or '...' expected")
			}
			if fs.vararg || !p.testNext(',') {
				break
			}
		}
	}
	p.adjustLocalVars(nparams)
}

func (p *parser) explist1() {
	p.expr()
	for p.testNext(',') {
		p.expr()
	}
}

func (p *parser) expr() int { return p.subexpr(0) }

func unopr(tok int) bool { return tok == tkNot || tok == '-' || tok == '#' }

// binopr returns the left and right priorities of a binary operator.
func binopr(tok int) (int, int, bool) {
	switch tok {
	case '+', '-':
		return 6, 6, true
	case '*', '/', '%':
		return 7, 7, true
	case '^':
		return 10, 9, true
	case tkConcat:
		return 5, 4, true
	case tkNe, tkEq, '<', tkLe, '>', tkGe:
		return 3, 3, true
	case tkAnd:
		return 2, 2, true
	case tkOr:
		return 1, 1, true
	}
	return 0, 0, false
}

const unaryPriority = 8

// subexpr parses an expression whose operators bind tighter than limit
// and returns the expression's kind.
func (p *parser) subexpr(limit int) int {
	p.enterLevel()
	k := vOther
	if unopr(p.ls.t.tok) {
		p.ls.nextToken()
		p.subexpr(unaryPriority)
	} else {
		k = p.simpleExp()
	}
	for {
		left, right, ok := binopr(p.ls.t.tok)
		if !ok || left <= limit {
			break
		}
		p.ls.nextToken()
		p.subexpr(right)
		k = vOther
	}
	p.leaveLevel()
	return k
}

func (p *parser) simpleExp() int {
	ls := p.ls
	switch ls.t.tok {
	case tkNumber, tkString, tkTrue, tkFalse:
	case tkNil:
		ls.nextToken()
		return vNil
	case tkDots:
		if !p.fs.vararg {
			ls.syntaxError("cannot use '...' outside a vararg function")
		}
	case '{':
		p.constructor()
		return vOther
	case tkFunction:
		ls.nextToken()
		p.body(false, ls.line)
		return vOther
	default:
		return p.primaryExp()
	}
	ls.nextToken()
	return vOther
}

func (p *parser) prefixExp() int {
	ls := p.ls
	switch ls.t.tok {
	case '(':
		line := ls.line
		ls.nextToken()
		p.expr()
		p.checkMatch(')', '(', line)
		return vOther
	case tkName:
		return p.singleVar(p.strCheckName())
	}
	ls.syntaxError("unexpected symbol")
	return vOther
}

func (p *parser) primaryExp() int {
	ls := p.ls
	k := p.prefixExp()
	for {
		switch ls.t.tok {
		case '.':
			p.field()
			k = vIndexed
		case '[':
			p.yindex()
			k = vIndexed
		case ':':
			ls.nextToken()
			p.strCheckName()
			p.funcArgs()
			k = vCall
		case '(', tkString, '{':
			p.funcArgs()
			k = vCall
		default:
			return k
		}
	}
}

func (p *parser) yindex() {
	p.ls.nextToken()
	p.expr()
	p.checkNext(']')
}

func (p *parser) funcArgs() {
	ls := p.ls
	line := ls.line
	switch ls.t.tok {
	case '(':
		if line != ls.lastline {
			ls.syntaxError("ambiguous syntax (function call x new statement)")
		}
		ls.nextToken()
		if ls.t.tok != ')' {
			p.explist1()
		}
		p.checkMatch(')', '(', line)
	case '{':
		p.constructor()
	case tkString:
		ls.nextToken()
	default:
		ls.syntaxError("function arguments expected")
	}
}

func (p *parser) constructor() {
	ls := p.ls
	line := ls.line
	p.checkNext('{')
	for {
		if ls.t.tok == '}' {
			break
		}
		switch ls.t.tok {
		case tkName:
			if ls.lookahead() != '=' {
				p.expr()
			} else {
				p.recField()
			}
		case '[':
			p.recField()
		default:
			p.expr()
		}
		if !p.testNext(',') && !p.testNext(';') {
			break
		}
	}
	p.checkMatch('}', '{', line)
}

func (p *parser) recField() {
	if p.ls.t.tok == tkName {
		p.strCheckName()
	} else {
		p.yindex()
	}
	p.checkNext('=')
	p.expr()
}

// ChunkID renders a chunk name as luaO_chunkid does for error messages
// (LUA_IDSIZE is 80 in Redis's Lua): "=name" and "@name" lose their
// prefix; source text becomes [string "first line..."].
func ChunkID(source string) string {
	const idsize = 80
	if i := strings.IndexByte(source, 0); i >= 0 {
		source = source[:i] // the name is a C string in Lua
	}
	switch {
	case strings.HasPrefix(source, "="):
		s := source[1:]
		if len(s) > idsize-1 {
			s = s[:idsize-1]
		}
		return s
	case strings.HasPrefix(source, "@"):
		s := source[1:]
		const max = idsize - len(" '...' ") - 1
		if len(s) > max {
			s = "..." + s[len(s)-max:]
		}
		return s
	}
	l := strings.IndexAny(source, "\n\r")
	if l < 0 {
		l = len(source)
	}
	const max = idsize - len(` [string "..."] `) - 1
	if l > max {
		l = max
	}
	if l < len(source) {
		return `[string "` + source[:l] + `..."]`
	}
	return `[string "` + source + `"]`
}
