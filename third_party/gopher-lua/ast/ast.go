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
