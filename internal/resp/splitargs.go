package resp

import "errors"

// ErrUnbalancedQuotes is returned by SplitArgs for a line with an unclosed
// quote or a closing quote not followed by a space.
var ErrUnbalancedQuotes = errors.New("unbalanced quotes")

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

// SplitArgs splits a line the way Redis's sdssplitargs does (inline commands
// and config files): whitespace separates arguments, "double quotes" take
// C-like escapes (\n \r \t \b \a \\ \" \xHH), 'single quotes' take \'.
// Results are appended to dst. Like the C original, it sees the line only
// up to its first NUL byte.
func SplitArgs(line []byte, dst [][]byte) ([][]byte, error) {
	for i, c := range line {
		if c == 0 {
			line = line[:i]
			break
		}
	}
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return dst, nil
		}
		var cur []byte
		inq, insq, done := false, false, false
		start := p
		plain := true
		tokEnd := 0
		for !done {
			if inq {
				if p >= len(line) {
					return nil, ErrUnbalancedQuotes
				}
				c := line[p]
				if c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]) {
					cur = append(cur, hexVal(line[p+2])<<4|hexVal(line[p+3]))
					p += 3
				} else if c == '\\' && p+1 < len(line) {
					p++
					switch line[p] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[p])
					}
				} else if c == '"' {
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, ErrUnbalancedQuotes
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			} else if insq {
				if p >= len(line) {
					return nil, ErrUnbalancedQuotes
				}
				c := line[p]
				if c == '\\' && p+1 < len(line) && line[p+1] == '\'' {
					p++
					cur = append(cur, '\'')
				} else if c == '\'' {
					if p+1 < len(line) && !isSpace(line[p+1]) {
						return nil, ErrUnbalancedQuotes
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			} else {
				if p >= len(line) {
					tokEnd = p
					done = true
					break
				}
				switch c := line[p]; c {
				case ' ', '\n', '\r', '\t', 0:
					tokEnd = p
					done = true
				case '"':
					inq, plain = true, false
					cur = append(cur, line[start:p]...)
				case '\'':
					insq, plain = true, false
					cur = append(cur, line[start:p]...)
				default:
					if !plain {
						cur = append(cur, c)
					}
				}
			}
			if p < len(line) {
				p++
			}
		}
		if plain {
			dst = append(dst, line[start:tokEnd:tokEnd])
		} else {
			if cur == nil {
				cur = []byte{}
			}
			dst = append(dst, cur)
		}
	}
}
