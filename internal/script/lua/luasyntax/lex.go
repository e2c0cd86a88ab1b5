// Package luasyntax checks Lua 5.1 source the way Lua 5.1.5's own lexer
// and parser (llex.c, lparser.c) do, and reports the first error with C
// Lua's exact message: "chunk:line: '=' expected near 'x'", "unexpected
// symbol near ...", "'end' expected (to close 'if' at line 1) near
// '<eof>'", "unfinished string near ...", "malformed number near ...",
// "no loop to break", the local variable and upvalue limits...
//
// gopher-lua's yacc parser only says "parse error" and accepts some Lua 5.2
// syntax (goto, labels); the scripting engine runs Check before handing the
// source to gopher-lua, so scripts that C Lua rejects are rejected with C
// Lua's message. The checker builds no tree: it is a transcription of
// lparser.c's recursive descent without code generation, keeping only the
// state its error checks need (scopes, vararg, loops, nesting levels).
package luasyntax

import (
	"fmt"
	"strconv"
)

// Tokens: single characters are their byte value; the rest follow.
const (
	tkAnd = 257 + iota
	tkBreak
	tkDo
	tkElse
	tkElseif
	tkEnd
	tkFalse
	tkFor
	tkFunction
	tkIf
	tkIn
	tkLocal
	tkNil
	tkNot
	tkOr
	tkRepeat
	tkReturn
	tkThen
	tkTrue
	tkUntil
	tkWhile
	tkConcat
	tkDots
	tkEq
	tkGe
	tkLe
	tkNe
	tkNumber
	tkName
	tkString
	tkEOS
)

const firstReserved = tkAnd

var tokenNames = []string{
	"and", "break", "do", "else", "elseif",
	"end", "false", "for", "function", "if",
	"in", "local", "nil", "not", "or", "repeat",
	"return", "then", "true", "until", "while",
	"..", "...", "==", ">=", "<=", "~=",
	"<number>", "<name>", "<string>", "<eof>",
}

var reserved = func() map[string]int {
	m := make(map[string]int, 21)
	for i := tkAnd; i <= tkWhile; i++ {
		m[tokenNames[i-firstReserved]] = i
	}
	return m
}()

// Error is a syntax error; its text is C Lua's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

type token struct {
	tok  int
	text string // buffer contents for names, strings and numbers
	line int    // the lexer's line after reading the token
}

const eoz = -1

type lexer struct {
	src        string
	pos        int
	current    int
	line       int
	lastline   int
	t          token
	ahead      token
	hasAhead   bool
	buf        []byte
	chunk      string
	nCcalls    int
	maxNCcalls int
}

func (ls *lexer) next() {
	if ls.pos < len(ls.src) {
		ls.current = int(ls.src[ls.pos])
		ls.pos++
	} else {
		ls.current = eoz
		ls.pos = len(ls.src) + 1
	}
}

func (ls *lexer) save(c int)   { ls.buf = append(ls.buf, byte(c)) }
func (ls *lexer) saveAndNext() { ls.save(ls.current); ls.next() }

func (ls *lexer) currIsNewline() bool { return ls.current == '\n' || ls.current == '\r' }

func token2str(tok int) string {
	if tok < firstReserved {
		if tok < 32 || tok == 127 {
			return fmt.Sprintf("char(%d)", tok)
		}
		return string([]byte{byte(tok)})
	}
	return tokenNames[tok-firstReserved]
}

// txtToken is the text of a token in messages: the lexer's buffer for
// names, strings and numbers (up to a NUL, as C sees it).
func (ls *lexer) txtToken(tok int) string {
	switch tok {
	case tkName, tkString, tkNumber:
		b := ls.buf
		for i, c := range b {
			if c == 0 {
				b = b[:i]
				break
			}
		}
		return string(b)
	}
	return token2str(tok)
}

func (ls *lexer) lexError(msg string, tok int) {
	msg = ls.chunk + ":" + strconv.Itoa(ls.line) + ": " + msg
	if tok != 0 {
		msg += " near '" + ls.txtToken(tok) + "'"
	}
	panic(&Error{Msg: msg})
}

func (ls *lexer) syntaxError(msg string) { ls.lexError(msg, ls.t.tok) }

func (ls *lexer) inclinenumber() {
	old := ls.current
	ls.next()
	if ls.currIsNewline() && ls.current != old {
		ls.next()
	}
	ls.line++
}

func (ls *lexer) checkNext(set string) bool {
	for i := 0; i < len(set); i++ {
		if ls.current == int(set[i]) {
			ls.saveAndNext()
			return true
		}
	}
	return false
}

func isDigit(c int) bool { return c >= '0' && c <= '9' }
func isAlpha(c int) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c int) bool { return isDigit(c) || isAlpha(c) }
func isSpace(c int) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func (ls *lexer) skipSep() int {
	count := 0
	s := ls.current
	ls.saveAndNext()
	for ls.current == '=' {
		ls.saveAndNext()
		count++
	}
	if ls.current == s {
		return count
	}
	return -count - 1
}

func (ls *lexer) readLongString(isString bool, sep int) {
	cont := 0
	ls.saveAndNext()
	if ls.currIsNewline() {
		ls.inclinenumber()
	}
	for {
		switch ls.current {
		case eoz:
			if isString {
				ls.lexError("unfinished long string", tkEOS)
			}
			ls.lexError("unfinished long comment", tkEOS)
		case '[':
			if ls.skipSep() == sep {
				ls.saveAndNext()
				cont++
				if sep == 0 {
					ls.lexError("nesting of [[...]] is deprecated", '[')
				}
			}
		case ']':
			if ls.skipSep() == sep {
				ls.saveAndNext()
				return
			}
		case '\n', '\r':
			ls.save('\n')
			ls.inclinenumber()
			if !isString {
				ls.buf = ls.buf[:0]
			}
		default:
			if isString {
				ls.saveAndNext()
			} else {
				ls.next()
			}
		}
	}
}

func (ls *lexer) readString(del int) {
	ls.saveAndNext()
	for ls.current != del {
		switch ls.current {
		case eoz:
			ls.lexError("unfinished string", tkEOS)
		case '\n', '\r':
			ls.lexError("unfinished string", tkString)
		case '\\':
			var c int
			ls.next()
			switch ls.current {
			case 'a':
				c = '\a'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'v':
				c = '\v'
			case '\n', '\r':
				ls.save('\n')
				ls.inclinenumber()
				continue
			case eoz:
				continue
			default:
				if !isDigit(ls.current) {
					ls.saveAndNext()
				} else {
					i := 0
					c = 0
					for {
						c = 10*c + (ls.current - '0')
						ls.next()
						i++
						if i >= 3 || !isDigit(ls.current) {
							break
						}
					}
					if c > 255 {
						ls.lexError("escape sequence too large", tkString)
					}
					ls.save(c)
				}
				continue
			}
			ls.save(c)
			ls.next()
		default:
			ls.saveAndNext()
		}
	}
	ls.saveAndNext()
}

func (ls *lexer) readNumeral() {
	for {
		ls.saveAndNext()
		if !isDigit(ls.current) && ls.current != '.' {
			break
		}
	}
	if ls.checkNext("Ee") {
		ls.checkNext("+-")
	}
	for isAlnum(ls.current) || ls.current == '_' {
		ls.saveAndNext()
	}
	if !str2d(string(ls.buf)) {
		ls.lexError("malformed number", tkNumber)
	}
}

func (ls *lexer) llex() int {
	ls.buf = ls.buf[:0]
	for {
		switch c := ls.current; c {
		case '\n', '\r':
			ls.inclinenumber()
			continue
		case '-':
			ls.next()
			if ls.current != '-' {
				return '-'
			}
			ls.next()
			if ls.current == '[' {
				sep := ls.skipSep()
				ls.buf = ls.buf[:0]
				if sep >= 0 {
					ls.readLongString(false, sep)
					ls.buf = ls.buf[:0]
					continue
				}
			}
			for !ls.currIsNewline() && ls.current != eoz {
				ls.next()
			}
			continue
		case '[':
			sep := ls.skipSep()
			if sep >= 0 {
				ls.readLongString(true, sep)
				return tkString
			} else if sep == -1 {
				return '['
			}
			ls.lexError("invalid long string delimiter", tkString)
		case '=':
			ls.next()
			if ls.current != '=' {
				return '='
			}
			ls.next()
			return tkEq
		case '<':
			ls.next()
			if ls.current != '=' {
				return '<'
			}
			ls.next()
			return tkLe
		case '>':
			ls.next()
			if ls.current != '=' {
				return '>'
			}
			ls.next()
			return tkGe
		case '~':
			ls.next()
			if ls.current != '=' {
				return '~'
			}
			ls.next()
			return tkNe
		case '"', '\'':
			ls.readString(c)
			return tkString
		case '.':
			ls.saveAndNext()
			if ls.checkNext(".") {
				if ls.checkNext(".") {
					return tkDots
				}
				return tkConcat
			} else if !isDigit(ls.current) {
				return '.'
			}
			ls.readNumeral()
			return tkNumber
		case eoz:
			return tkEOS
		default:
			if isSpace(c) {
				ls.next()
				continue
			} else if isDigit(c) {
				ls.readNumeral()
				return tkNumber
			} else if isAlpha(c) || c == '_' {
				for {
					ls.saveAndNext()
					if !isAlnum(ls.current) && ls.current != '_' {
						break
					}
				}
				if r, ok := reserved[string(ls.buf)]; ok {
					return r
				}
				return tkName
			}
			ls.next()
			return c
		}
	}
}

func (ls *lexer) scan() token {
	tok := ls.llex()
	t := token{tok: tok, line: ls.line}
	if tok == tkName || tok == tkString || tok == tkNumber {
		t.text = string(ls.buf)
	}
	return t
}

func (ls *lexer) nextToken() {
	ls.lastline = ls.line
	if ls.hasAhead {
		ls.t = ls.ahead
		ls.hasAhead = false
		return
	}
	ls.t = ls.scan()
}

func (ls *lexer) lookahead() int {
	ls.ahead = ls.scan()
	ls.hasAhead = true
	return ls.ahead.tok
}
