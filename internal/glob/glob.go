// Package glob implements Redis glob-style pattern matching.
package glob

// Match reports whether s matches the Redis glob pattern (*, ?, [...], \x),
// as stringmatchlen does. nocase folds ASCII case.
//
// Like stringmatchlen, no pattern but the empty one matches the empty
// string, not even "*" (its loop stops when either runs out): an ACL key
// pattern ~* or a PSUBSCRIBE * does not match the key or channel "". KEYS
// and SCAN treat MATCH * apart, as Redis does.
func Match(pattern, s string, nocase bool) bool {
	if s == "" {
		return pattern == ""
	}
	return globMatch(pattern, s, nocase, 0)
}

func fold(c byte, nocase bool) byte {
	if nocase && c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func globMatch(p, s string, nocase bool, depth int) bool {
	if depth > 1000 {
		return false
	}
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(p[1:], s[i:], nocase, depth+1) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			p = p[1:]
			not := false
			if len(p) > 0 && p[0] == '^' {
				not = true
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					if start > end {
						start, end = end, start
					}
					c := fold(s[0], nocase)
					start, end = fold(start, nocase), fold(end, nocase)
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				} else if fold(p[0], nocase) == fold(s[0], nocase) {
					match = true
				}
				p = p[1:]
			}
			if len(p) == 0 {
				// pattern ended inside brackets: Redis treats the last char as end
				p = " "
				p = p[:0]
				if not {
					match = !match
				}
				if !match {
					return false
				}
				s = s[1:]
				continue
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || fold(p[0], nocase) != fold(s[0], nocase) {
				return false
			}
			s = s[1:]
		}
		if len(p) > 0 {
			p = p[1:]
		}
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
