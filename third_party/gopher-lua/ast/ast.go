package ast

type PositionHolder interface {
	Line() int
	SetLine(int)
	LastLine() int
	SetLastLine(int)
}

type Node struct {
	line     int
	lastline int
	// CRESCENT: parenline is the line of the ')' closing a parenthesized
	// expression (0 if none): where an operator it is the right operand
	// of is emitted, not the expression's own instructions.
	parenline int
	// CRESCENT: dischargeline is the line lcode.c stands on when it emits
	// a pending access (an index's GETTABLE, a global's GETGLOBAL): the
	// token after the expression that made the parser discharge it (a
	// binary operator, a list's ',', a call's ')', a constructor's '}'),
	// or 0 for the expression's own last line. See SetDischargeLine.
	dischargeline int
}

// DischargeLine is the line the expression's pending access is emitted
// on (0: its own last line).
func (self *Node) DischargeLine() int {
	return self.dischargeline
}

// SetDischargeLine records the line of the token after the expression
// that discharges it in Lua 5.1's parser; the first one recorded (the
// innermost context) stays.
func (self *Node) SetDischargeLine(line int) {
	if self.dischargeline == 0 {
		self.dischargeline = line
	}
}

// ParenLine is the line of the ')' around the expression, or 0.
func (self *Node) ParenLine() int {
	return self.parenline
}

// SetParenLine records the line of the ')' around the expression.
func (self *Node) SetParenLine(line int) {
	self.parenline = line
}

func (self *Node) Line() int {
	return self.line
}

func (self *Node) SetLine(line int) {
	self.line = line
}

func (self *Node) LastLine() int {
	return self.lastline
}

func (self *Node) SetLastLine(line int) {
	self.lastline = line
}
