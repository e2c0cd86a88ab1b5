// Package glob implements Redis glob-style pattern matching.
package glob

// Match reports whether s matches the Redis glob pattern (*, ?, [...], \x)
// exactly as Redis 7.0's stringmatchlen decides it, quirks included:
//   - the empty string matches only the empty pattern ("*" does not match
//     it: the loop runs while both pattern and string are left);
//   - a '[' set that runs to the end of the pattern ends at its last byte
//     ("[a" matches "a"; "[^" matches any one byte; "[" matches nothing);
//   - a range's bounds and the byte it tests compare as C's signed char, so
//     a bound of 0x80 or above is below every ASCII byte; a reversed range
//     is swapped; "[a-]" is the range ']'..'a';
//   - an escape inside a set compares case-sensitively even with nocase;
//   - a trailing '\' stands for itself.
//
// nocase folds ASCII case (C's tolower in the C locale).
//
// stringmatchlen recurses at each '*' and, since Redis 7.0.9, gives up as
// soon as the rest of the pattern matched from no position after a star
// (skipLongerMatches): the outcome of a star is then final, so only the
// last star reached is a backtracking point. Match is that recursion
// unrolled (match_test.go checks it against a literal port): no recursion
// depth, linear space, O(len(pattern)*len(s)) time.
func Match(pattern, s string, nocase bool) bool {
	p := pattern
	pi, si := 0, 0
	starP, starS := -1, 0 // the last star's rest of pattern and string position
	// at is the pattern byte at i, 0 past the end (C reads the string's
	// terminating NUL there).
	at := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	for {
		ok := true
	step:
		for pi < len(p) && si < len(s) {
			switch p[pi] {
			case '*':
				for pi < len(p) && at(pi+1) == '*' {
					pi++
				}
				if len(p)-pi == 1 {
					return true
				}
				// the recursive call on the rest of the pattern at si
				pi++
				starP, starS = pi, si
				continue step
			case '?':
				si++
			case '[':
				pi++
				not := at(pi) == '^'
				if not {
					pi++
				}
				match := false
				for {
					if at(pi) == '\\' && len(p)-pi >= 2 {
						pi++
						if p[pi] == s[si] {
							match = true
						}
					} else if at(pi) == ']' {
						break
					} else if pi >= len(p) {
						pi-- // the set ends at the pattern's last byte
						break
					} else if len(p)-pi >= 3 && p[pi+1] == '-' {
						start, end, c := schar(p[pi]), schar(p[pi+2]), schar(s[si])
						if start > end {
							start, end = end, start
						}
						if nocase {
							start, end, c = lower(start), lower(end), lower(c)
						}
						pi += 2
						if c >= start && c <= end {
							match = true
						}
					} else if fold(p[pi], nocase) == fold(s[si], nocase) {
						match = true
					}
					pi++
				}
				if not {
					match = !match
				}
				if !match {
					ok = false
					break step
				}
				si++
			case '\\':
				if len(p)-pi >= 2 {
					pi++
				}
				fallthrough
			default:
				if fold(p[pi], nocase) != fold(s[si], nocase) {
					ok = false
					break step
				}
				si++
			}
			pi++
			if si == len(s) {
				for at(pi) == '*' {
					pi++
				}
				break
			}
		}
		if ok && pi >= len(p) && si == len(s) {
			return true
		}
		// no match from here: the last star takes one more byte, while
		// some are left after it
		if starP < 0 {
			return false
		}
		starS++
		if starS >= len(s) {
			return false
		}
		pi, si = starP, starS
	}
}

// schar is b as C's (signed) char.
func schar(b byte) int { return int(int8(b)) }

// lower is C's tolower in the C locale.
func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func fold(c byte, nocase bool) byte {
	if nocase && c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
